"""The demo data set keeps the invariants the services keep, so the demo behaves like
data entered through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest

from exchange import access, db, demo
from exchange.i18n import is_country_code, is_language_code
from exchange.models import Exchange, ExchangeStatus, Organisation, OrganisationKind, Session, Volunteer
from exchange.settings import Settings
from exchange.validation import search_text
from exchange.volunteers import skills_folded
from tests.conftest import GraphQLClient


@pytest.fixture
async def loaded(database_url: str) -> AsyncIterator[demo.DemoResult]:
    await db.init_db(Settings(_env_file=None, database_url=database_url), global_fallback=False)  # type: ignore[call-arg]
    try:
        yield await demo.load()
    finally:
        await db.close_db()


async def test_derived_columns_match_what_services_write(loaded: demo.DemoResult) -> None:
    exchanges = await Exchange.all()
    assert len(exchanges) == loaded.exchanges == 5
    for exchange in exchanges:
        assert exchange.search_text == search_text(exchange.titles, exchange.descriptions)
        assert set(exchange.titles) == set(exchange.descriptions) == {"kk", "ru", "en"}
    # The default (first) language survives the round trip on both databases.
    aral = await Exchange.get(slug="aral-restoration-week-2027")
    assert next(iter(aral.titles)) == "en"
    cis = await Organisation.get(slug="cis")
    assert next(iter(cis.names)) == "ru"
    for volunteer in await Volunteer.all():
        # As registerVolunteer writes it (it was joined without the outer newlines, #10 item 10).
        assert volunteer.skills_folded == skills_folded(volunteer.skills)
        assert volunteer.email == volunteer.email.lower()
        assert is_country_code(volunteer.country)
        assert all(is_language_code(code) for code in volunteer.languages)
    countries = {v.country for v in await Volunteer.all()}
    assert {"KZ", "UZ", "KG", "RU", "TJ", "AZ", "DE"} <= countries


async def test_sessions_fall_inside_their_exchange_in_the_venue_zone(loaded: demo.DemoResult) -> None:
    sessions = await Session.all().prefetch_related("exchange")
    assert len(sessions) == loaded.sessions
    for session in sessions:
        zone = ZoneInfo(session.exchange.time_zone)
        starts, ends = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
        assert session.starts_at.utcoffset() is not None
        assert starts < ends
        assert session.exchange.starts_on <= starts.date() <= ends.date() <= session.exchange.ends_on
    aral = await Session.filter(exchange__slug="aral-restoration-week-2027").order_by("starts_at").first()
    assert aral is not None
    assert (
        aral.starts_at.astimezone(ZoneInfo("Asia/Qyzylorda")).strftime("%Y-%m-%d %H:%M") == "2027-05-11 09:00"
    )


async def test_organisations_statuses_and_keys(loaded: demo.DemoResult) -> None:
    international = await Organisation.filter(kind=OrganisationKind.INTERNATIONAL).order_by("slug")
    assert [o.slug for o in international] == ["cica", "cis", "sco", "un-volunteers"]
    assert all(o.country is None for o in international)
    assert await Organisation.filter(kind=OrganisationKind.GOVERNMENT).exists()
    assert all(o.contact_email for o in await Organisation.all())
    assert all(set(o.names) == {"kk", "ru", "en"} for o in await Organisation.all())
    assert await Exchange.filter(status=ExchangeStatus.DRAFT).count() == 1

    admin = await access.authenticate(loaded.admin_key)
    assert admin.is_admin
    host = await access.authenticate(loaded.organisation_key)
    organisation = await Organisation.get(slug=demo.DEMO_ORGANISATION)
    assert host.is_organisation and host.organisation_id == organisation.id


SKILL_SEARCH = (
    """query($skill: String!) { volunteers(skill: $skill, first: 100) { edges { node { email } } } }"""
)


async def test_every_demo_volunteer_is_found_by_each_of_its_skills(
    gql: GraphQLClient, admin_key: str
) -> None:
    # The first and last skills of every seeded volunteer were not found (#10 item 10).
    await demo.load()
    volunteers = await Volunteer.all()
    assert sum(len(v.skills) for v in volunteers) >= 2 * len(volunteers)
    for volunteer in volunteers:
        for skill in volunteer.skills:
            for asked in (skill, skill.upper()):
                result = await gql(SKILL_SEARCH, {"skill": asked}, key=admin_key)
                found = [edge["node"]["email"] for edge in result["data"]["volunteers"]["edges"]]
                assert volunteer.email in found, (volunteer.email, asked, result)
