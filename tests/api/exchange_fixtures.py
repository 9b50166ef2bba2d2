"""Records for the exchange, session and volunteer API tests, written straight to the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    Organisation,
    Participation,
    ParticipationRole,
    ParticipationStatus,
    Theme,
    Volunteer,
)
from exchange.validation import search_text
from exchange.volunteers import skills_folded
from schema.api.relay import encode_id


def gid(obj: Any) -> str:
    type_name = {
        Exchange: "ExperienceExchange",
        Organisation: "Organisation",
        Volunteer: "Volunteer",
        Participation: "Participation",
    }.get(type(obj), type(obj).__name__)
    return encode_id(type_name, obj.id)


async def make_exchange(
    slug: str,
    host: Organisation,
    *,
    partners: list[Organisation] = (),  # type: ignore[assignment]
    status: ExchangeStatus = ExchangeStatus.OPEN,
    titles: dict[str, str] | None = None,
    descriptions: dict[str, str] | None = None,
    starts_on: dt.date = dt.date(2027, 5, 10),
    ends_on: dt.date | None = None,
    **fields: Any,
) -> Exchange:
    titles = titles or {"en": slug.replace("-", " ").title()}
    descriptions = descriptions or {}
    values: dict[str, Any] = {
        "theme": Theme.ECOLOGY,
        "country": "KZ",
        "time_zone": "Asia/Almaty",
        "languages": ["kk", "ru", "en"],
    }
    values.update(fields)
    exchange = await Exchange.create(
        slug=slug,
        host=host,
        status=status,
        titles=titles,
        descriptions=descriptions,
        search_text=search_text(titles, descriptions),
        starts_on=starts_on,
        ends_on=ends_on or starts_on + dt.timedelta(days=4),
        **values,
    )
    if partners:
        await exchange.partners.add(*partners)
    return exchange


async def make_volunteer(name: str, **fields: Any) -> Volunteer:
    values: dict[str, Any] = {
        "email": f"{name.lower().replace(' ', '.')}@example.org",
        "country": "KZ",
        "languages": ["kk", "ru"],
        "skills": [],
    }
    values.update(fields)
    values["skills_folded"] = skills_folded(values["skills"])
    return await Volunteer.create(full_name=name, **values)


async def take_part(
    volunteer: Volunteer,
    exchange: Exchange,
    status: ParticipationStatus = ParticipationStatus.CONFIRMED,
    role: ParticipationRole = ParticipationRole.PARTICIPANT,
) -> Participation:
    return await Participation.create(volunteer=volunteer, exchange=exchange, status=status, role=role)


async def invite(
    exchange: Exchange, email: str, *, by: Organisation | None = None, **fields: Any
) -> Invitation:
    values: dict[str, Any] = {
        "full_name": "Invitee",
        "country": "UZ",
        "locale": "ru",
        "token_nonce": email,
        "token_hash": "hash-" + email,
        "expires_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    }
    values.update(fields)
    return await Invitation.create(
        exchange=exchange,
        invited_by=by or await exchange.host,
        email=email,
        email_normalised=email.lower(),
        **values,
    )
