"""exchange.rows builds the same instances as Tortoise's ``_init_from_db``, on both databases."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tortoise.models import Model

from exchange import rows, sql
from exchange.models import (
    Exchange,
    Organisation,
    OrganisationKind,
    Participation,
    ParticipationRole,
    Session,
    SessionFormat,
    Volunteer,
)
from tests.api.exchange_fixtures import make_exchange, make_volunteer
from tests.conftest import make_organisation


def state(instance: Model) -> dict[str, Any]:
    # Everything Tortoise set on the instance, plus the types (an enum is not its value) and
    # UTC offsets (equal instants at other offsets compare equal; UTC may be timezone.utc or
    # ZoneInfo("UTC"), see exchange.rows).
    return {
        key: (value, type(value), value.utcoffset() if isinstance(value, dt.datetime) else None)
        for key, value in vars(instance).items()
    }


async def world() -> list[Model]:
    parent = await make_organisation("un-volunteers", kind=OrganisationKind.INTERNATIONAL, country=None)
    host = await make_organisation(
        "aral-fund", names={"ru": "Фонд «Арал»", "kk": "Арал қоры"}, parent=parent, website=None
    )
    exchange = await make_exchange("aral-week", host, partners=[parent], capacity=None, city="Aral")
    session = await Session.create(
        exchange=exchange,
        titles={"kk": "Ағаш отырғызу", "en": "Planting"},
        starts_at=dt.datetime(2027, 5, 10, 4, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 5, 10, 6, 30, tzinfo=dt.UTC),
        format=SessionFormat.IN_PERSON,
        venue="Aral",
    )
    volunteer = await make_volunteer("Aigerim", organisation=host, skills=["first aid"])
    loner = await make_volunteer("Daniyar", organisation=None)
    participation = await Participation.create(
        volunteer=volunteer, exchange=exchange, role=ParticipationRole.SPEAKER, hours=2.5
    )
    return [parent, host, exchange, session, volunteer, loner, participation]


async def test_instances_match_tortoise(app: Any) -> None:
    created = await world()
    for model in (Organisation, Exchange, Session, Volunteer, Participation):
        ids = [instance.pk for instance in created if type(instance) is model]
        from_tortoise = {instance.pk: state(instance) for instance in await model.filter(id__in=ids)}
        built = {instance.pk: state(instance) for instance in await sql.by_ids(model, ids)}
        assert built == from_tortoise, model.__name__
        assert len(built) == len(ids)


async def test_built_instances_behave_like_loaded_ones(app: Any) -> None:
    created = await world()
    session = next(instance for instance in created if isinstance(instance, Session))
    [built] = await sql.by_ids(Session, [session.pk])
    assert built.format is SessionFormat.IN_PERSON and built.starts_at.tzinfo is not None
    built.venue = "Aralsk"  # saved state and change tracking work as for any loaded row
    await built.save(update_fields=["venue"])
    assert (await Session.get(id=session.pk)).venue == "Aralsk"


async def test_a_partial_row_takes_tortoises_path(app: Any) -> None:
    created = await world()
    organisation = next(instance for instance in created if isinstance(instance, Organisation))
    [instance] = rows.instances(Organisation, [{"id": organisation.pk, "slug": organisation.slug}])
    assert instance._partial is True and instance.slug == organisation.slug
