"""A small world for invitation tests: a host, a partner and an unrelated organisation with
keys, an open exchange with two sessions, and helpers to invite and find tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from exchange.invitations import tokens
from exchange.models import (
    ApiKeyRole,
    Exchange,
    ExchangeStatus,
    Invitation,
    Organisation,
    Session,
    SessionFormat,
    Theme,
)
from exchange.settings import Settings
from schema.api.relay import encode_id
from tests.conftest import GraphQLClient, make_key, make_organisation

INVITE = """
mutation($input: InviteVolunteersInput!) {
  inviteVolunteers(input: $input) {
    invitations { id email fullName country locale status message expiresAt sessions { id } invitedBy { slug } }
    userErrors { field message code }
  }
}
"""

RESPOND = """
mutation($token: String!, $response: InvitationResponse!) {
  respondToInvitation(token: $token, response: $response) {
    invitation { id status respondedAt volunteer { fullName country languages } }
    userErrors { field message code }
  }
}
"""


@dataclass
class World:
    host: Organisation
    partner: Organisation
    other: Organisation
    host_key: str
    partner_key: str
    other_key: str
    read_only_key: str
    admin_key: str
    exchange: Exchange
    sessions: list[Session]
    settings: Settings

    @property
    def exchange_id(self) -> str:
        return encode_id("ExperienceExchange", self.exchange.id)

    def session_id(self, index: int) -> str:
        return encode_id("Session", self.sessions[index].id)


async def make_exchange(host: Organisation, slug: str = "aral-week", **fields: Any) -> Exchange:
    values: dict[str, Any] = {
        "titles": {"en": "Aral Sea Week", "ru": "Неделя Арала", "kk": "Арал апталығы"},
        "descriptions": {
            "en": "Planting saxaul <b>together</b>.",
            "ru": "Сажаем саксаул.",
            "kk": "Сексеуіл егеміз.",
        },
        "theme": Theme.ECOLOGY,
        "status": ExchangeStatus.OPEN,
        "country": "KZ",
        "city": "Aralsk",
        "starts_on": dt.date(2027, 5, 10),
        "ends_on": dt.date(2027, 5, 16),
        "time_zone": "Asia/Qyzylorda",
        "capacity": 10,
        "languages": ["ru", "kk", "en"],
    }
    values.update(fields)
    return await Exchange.create(slug=slug, host=host, **values)


@pytest.fixture
async def world(app: Any, admin_key: str, settings: Settings) -> World:
    host = await make_organisation("steppe-volunteers")
    partner = await make_organisation("un-volunteers", kind="INTERNATIONAL", country=None)
    other = await make_organisation("elsewhere")
    exchange = await make_exchange(host)
    await exchange.partners.add(partner)
    sessions = [
        await Session.create(
            exchange=exchange,
            titles={"en": "Opening", "ru": "Открытие", "kk": "Ашылу"},
            starts_at=dt.datetime(2027, 5, 10, 4, 0, tzinfo=dt.UTC),
            ends_at=dt.datetime(2027, 5, 10, 6, 0, tzinfo=dt.UTC),
            format=SessionFormat.IN_PERSON,
            venue="Aralsk museum",
        ),
        await Session.create(
            exchange=exchange,
            titles={"en": "Planting day", "ru": "День посадки"},
            starts_at=dt.datetime(2027, 5, 12, 3, 0, tzinfo=dt.UTC),
            ends_at=dt.datetime(2027, 5, 12, 11, 0, tzinfo=dt.UTC),
            format=SessionFormat.IN_PERSON,
            venue="Dried sea bed",
        ),
    ]
    return World(
        host=host,
        partner=partner,
        other=other,
        host_key=await make_key(host),
        partner_key=await make_key(partner),
        other_key=await make_key(other),
        read_only_key=await make_key(host, ApiKeyRole.READ_ONLY),
        admin_key=admin_key,
        exchange=exchange,
        sessions=sessions,
        settings=settings,
    )


def invitee(email: str, name: str = "Ana Pérez", country: str = "ES", **extra: Any) -> dict[str, Any]:
    return {"email": email, "fullName": name, "country": country, **extra}


async def invite(
    gql: GraphQLClient, world: World, *invitees: dict[str, Any], key: str | None = None, **extra: Any
) -> dict[str, Any]:
    result = await gql(
        INVITE,
        {"input": {"exchangeId": world.exchange_id, "invitees": list(invitees), **extra}},
        key=key or world.host_key,
    )
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["inviteVolunteers"]
    return payload


def token_of(invitation: Invitation, settings: Settings) -> str:
    return tokens.token_for(invitation.token_nonce, settings.signing_key)


async def token_for_email(email: str, settings: Settings) -> str:
    invitation = await Invitation.filter(email_normalised=email.lower()).order_by("-id").first()
    assert invitation is not None
    return token_of(invitation, settings)


async def respond(gql: GraphQLClient, token: str, response: str, **kwargs: Any) -> dict[str, Any]:
    result = await gql(RESPOND, {"token": token, "response": response}, **kwargs)
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["respondToInvitation"]
    return payload
