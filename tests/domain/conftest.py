"""The domain services without GraphQL: the ORM on the test's database (SQLite and
PostgreSQL, through ``settings``) without the app, a bus that records what the services
publish after their commits, actors as the services take them, and a small world."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any

import pytest

from exchange import db, events
from exchange.access import Actor, Role
from exchange.errors import DomainError
from exchange.events import Event
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    MailKind,
    Organisation,
    OutboxMail,
)
from exchange.settings import Settings
from tests.api.exchange_fixtures import make_exchange
from tests.conftest import make_organisation

ADMIN = Actor(Role.ADMIN, key_id="key_admin")
READ_ONLY = Actor(Role.READ_ONLY, key_id="key_reader")
ANONYMOUS = Actor(Role.ANONYMOUS)


def organisation_actor(organisation: Organisation) -> Actor:
    return Actor(Role.ORGANISATION, organisation.id, f"key_{organisation.slug}")


@dataclass
class RecordingBus:
    """Stands in for the process's bus: what was published, in order."""

    events: list[Any] = field(default_factory=list)
    revoked_keys: list[str] = field(default_factory=list)
    hub: Any = None

    @property
    def invitation_events(self) -> list[events.InvitationEvent]:
        return [event for event in self.events if isinstance(event, events.InvitationEvent)]

    @property
    def participation_events(self) -> list[events.ParticipationEvent]:
        return [event for event in self.events if isinstance(event, events.ParticipationEvent)]

    async def publish(self, event: Event) -> None:
        self.events.append(event)

    async def publish_many(self, events: list[Event]) -> None:
        self.events.extend(events)

    async def publish_key_revoked(self, key_id: str) -> None:
        self.revoked_keys.append(key_id)

    def subscribe(self) -> Any:
        raise NotImplementedError

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass


@pytest.fixture
async def bus(settings: Settings) -> AsyncIterator[RecordingBus]:
    """The models on the test's database, and the bus the services publish to."""
    await db.init_db(settings)
    recording = RecordingBus()
    events.set_bus(recording)
    try:
        yield recording
    finally:
        events.set_bus(None)
        await db.close_db()


@dataclass
class World:
    host: Organisation
    partner: Organisation
    other: Organisation
    exchange: Exchange  # OPEN, hosted by host with partner, 10-14 May 2027 in Almaty
    settings: Settings

    @property
    def host_actor(self) -> Actor:
        return organisation_actor(self.host)

    @property
    def partner_actor(self) -> Actor:
        return organisation_actor(self.partner)

    @property
    def other_actor(self) -> Actor:
        return organisation_actor(self.other)

    @property
    def organiser_ids(self) -> frozenset[int]:
        return frozenset({self.host.id, self.partner.id})


@pytest.fixture
async def world(bus: RecordingBus, settings: Settings) -> World:
    host = await make_organisation("aral-fund")
    partner = await make_organisation("steppe-partners")
    other = await make_organisation("elsewhere")
    exchange = await make_exchange("aral-week", host, partners=[partner])
    return World(host, partner, other, exchange, settings)


def problems(error: DomainError) -> set[tuple[str, str | None]]:
    """Each problem as (code, dotted field path)."""
    return {
        (problem.code.value, ".".join(problem.field) if problem.field else None) for problem in error.problems
    }


async def refused(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(DomainError) as raised:
        await call
    return raised.value


async def mails(kind: MailKind | None = None) -> list[OutboxMail]:
    query = OutboxMail.all() if kind is None else OutboxMail.filter(kind=kind)
    return await query.order_by("id")


async def invitation(
    exchange: Exchange,
    email: str,
    status: InvitationStatus = InvitationStatus.SENT,
    *,
    expires_in: dt.timedelta = dt.timedelta(days=20),
    **fields: Any,
) -> Invitation:
    """An invitation straight in the table (token material no link matches, unless given)."""
    values: dict[str, Any] = {
        "exchange": exchange,
        "invited_by_id": exchange.host_id,
        "email": email,
        "email_normalised": email.lower(),
        "full_name": email.split("@")[0].title(),
        "country": "KZ",
        "locale": "en",
        "status": status,
        "token_nonce": email,
        "token_hash": email,
        "expires_at": dt.datetime.now(dt.UTC) + expires_in,
    }
    values.update(fields)
    return await Invitation.create(**values)


async def status_of(exchange: Exchange) -> ExchangeStatus:
    return (await Exchange.get(id=exchange.id)).status
