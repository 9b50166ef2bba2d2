"""Invitation and participation events: one publishing interface, backends behind it
(in-process by default, Redis when EXCHANGE_REDIS_URL is set).

Services collect events while they work and publish them only after their transaction
commits (``AfterCommit``), so no subscriber ever hears of a change that was rolled back.

Every process has one bus. Its backend carries events between processes (Redis pub/sub: one
subscription per process); the process's ``Hub`` fans each event out to the local
subscribers (GraphQL subscriptions), each with its own bounded queue.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from exchange.models import InvitationStatus, ParticipationRole, ParticipationStatus

log = logging.getLogger("exchange.events")


@dataclass(frozen=True)
class InvitationEvent:
    invitation_id: int
    exchange_id: int
    # Host and partner organisations of the exchange when the event happened: who may hear it.
    organiser_ids: frozenset[int]
    previous_status: InvitationStatus | None
    status: InvitationStatus
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    event_id: str = field(default_factory=lambda: "evt_" + uuid.uuid4().hex)

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.event_id,
            "invitation": self.invitation_id,
            "exchange": self.exchange_id,
            "organisers": sorted(self.organiser_ids),
            "previous": self.previous_status.value if self.previous_status else None,
            "status": self.status.value,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> InvitationEvent:
        return cls(
            invitation_id=int(data["invitation"]),
            exchange_id=int(data["exchange"]),
            organiser_ids=frozenset(int(pk) for pk in data["organisers"]),
            previous_status=InvitationStatus(data["previous"]) if data.get("previous") else None,
            status=InvitationStatus(data["status"]),
            at=datetime.fromisoformat(data["at"]),
            event_id=str(data["id"]),
        )

    @property
    def order_key(self) -> Hashable:
        """What the hub keeps in status order (events of one invitation)."""
        return ("invitation", self.invitation_id)


class ParticipationChange(StrEnum):
    """What happened to a participation, from its statuses before and after (see ``of``)."""

    ADDED = "ADDED"  # new, or back on the roster after a withdrawal (previous WITHDRAWN)
    ROLE_CHANGED = "ROLE_CHANGED"
    WITHDRAWN = "WITHDRAWN"
    ATTENDED = "ATTENDED"
    NO_SHOW = "NO_SHOW"
    HOURS_CHANGED = "HOURS_CHANGED"  # attended before and after, other hours or sessions
    ATTENDANCE_CLEARED = "ATTENDANCE_CLEARED"  # attended or no-show back to confirmed
    REMOVED = "REMOVED"

    @classmethod
    def of(
        cls, previous: ParticipationStatus | None, status: ParticipationStatus | None
    ) -> ParticipationChange:
        """The change a move between statuses is (None: no participation before / after); a
        move within one status is ROLE_CHANGED, or HOURS_CHANGED for ATTENDED."""
        if status is None:
            return cls.REMOVED
        if status is ParticipationStatus.CONFIRMED:
            if previous in (None, ParticipationStatus.WITHDRAWN):
                return cls.ADDED
            return cls.ROLE_CHANGED if previous is status else cls.ATTENDANCE_CLEARED
        if status is ParticipationStatus.ATTENDED and previous is status:
            return cls.HOURS_CHANGED
        if previous is status:
            return cls.ROLE_CHANGED
        return cls(status.value)


@dataclass(frozen=True)
class ParticipationEvent:
    """A participation added, changed or removed. Carries ids, statuses, role and hours: no
    name or address (webhook payloads are built from it)."""

    participation_id: int
    exchange_id: int
    # Who may hear it when it happened (exchange.access.participation_event_audience).
    organiser_ids: frozenset[int]
    change: ParticipationChange
    previous_status: ParticipationStatus | None
    # None once removed.
    status: ParticipationStatus | None
    role: ParticipationRole
    hours: float | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    event_id: str = field(default_factory=lambda: "evt_" + uuid.uuid4().hex)

    KIND = "participation"

    @property
    def order_key(self) -> Hashable:
        return ("participation", self.participation_id)

    def to_wire(self) -> dict[str, Any]:
        return {
            "kind": self.KIND,
            "id": self.event_id,
            "participation": self.participation_id,
            "exchange": self.exchange_id,
            "organisers": sorted(self.organiser_ids),
            "change": self.change.value,
            "previous": self.previous_status.value if self.previous_status else None,
            "status": self.status.value if self.status else None,
            "role": self.role.value,
            "hours": self.hours,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> ParticipationEvent:
        return cls(
            participation_id=int(data["participation"]),
            exchange_id=int(data["exchange"]),
            organiser_ids=frozenset(int(pk) for pk in data["organisers"]),
            change=ParticipationChange(data["change"]),
            previous_status=ParticipationStatus(data["previous"]) if data.get("previous") else None,
            status=ParticipationStatus(data["status"]) if data.get("status") else None,
            role=ParticipationRole(data["role"]),
            hours=float(data["hours"]) if data.get("hours") is not None else None,
            at=datetime.fromisoformat(data["at"]),
            event_id=str(data["id"]),
        )


Event = InvitationEvent | ParticipationEvent


def event_from_wire(data: dict[str, Any]) -> Event:
    """An event as the bus carries it; messages without a kind are invitation events (what
    processes of earlier releases publish)."""
    if data.get("kind") == ParticipationEvent.KIND:
        return ParticipationEvent.from_wire(data)
    return InvitationEvent.from_wire(data)


class Bus(Protocol):
    """Carries events to every process; ``hub`` hands them to this process's subscribers."""

    @property
    def hub(self) -> Any: ...

    async def publish(self, event: Event) -> None:
        """Never raises: a change that has committed is not undone by a bus that is down
        (live subscribers are told the bus failed; webhooks come from durable rows)."""

    async def publish_key_revoked(self, key_id: str) -> None:
        """Tells every process that the key was revoked, so its open subscriptions end now.
        Never raises (the revocation has committed; the periodic key check is the fallback)."""

    def subscribe(self) -> AsyncIterator[Event]: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


_bus: Bus | None = None


def get_bus() -> Bus:
    """The process's bus. A process that never configured one (a script, the mail worker
    started without the app) gets one built from the environment's settings, so its events
    still reach the servers through Redis when EXCHANGE_REDIS_URL is set."""
    global _bus
    if _bus is None:
        from exchange.events.service import bus_from_settings
        from exchange.settings import get_settings

        _bus = bus_from_settings(get_settings(), listen=False)
    return _bus


def set_bus(bus: Bus | None) -> None:
    global _bus
    _bus = bus


async def close_bus() -> None:
    """Closes the process's bus (a command that published through one made by ``get_bus``)."""
    global _bus
    bus, _bus = _bus, None
    if bus is not None:
        await bus.close()


async def announce_key_revoked(key_id: str) -> None:
    await get_bus().publish_key_revoked(key_id)


def __getattr__(name: str) -> Any:
    # MemoryBus used to live here; keep the old import path working without an import cycle.
    if name == "MemoryBus":
        from exchange.events.memory import MemoryBus

        return MemoryBus
    raise AttributeError(name)


class AfterCommit:
    """Events gathered inside a transaction, published once it has committed.

    ``publish()`` first writes the webhook deliveries the events cause (durable rows the
    webhook worker retries), then hands the events to the bus. Call ``stage()`` inside the
    transaction instead to write those rows atomically with the change; ``publish()`` then
    only announces them.
    """

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._staged: set[str] = set()

    def add(self, event: Event) -> None:
        self.events.append(event)

    async def stage(self, using_db: Any = None) -> None:
        """Write the webhook delivery rows for the events gathered so far, inside the
        caller's transaction (pass its connection as ``using_db``)."""
        from exchange.webhooks.outbox import record_deliveries

        pending = [event for event in self.events if event.event_id not in self._staged]
        await record_deliveries(pending, using_db=using_db)
        self._staged.update(event.event_id for event in pending)

    async def publish(self) -> None:
        events, self.events = self.events, []
        if not events:
            return
        unstaged = [event for event in events if event.event_id not in self._staged]
        if unstaged:
            from exchange.webhooks.outbox import record_deliveries

            try:
                await record_deliveries(unstaged)
            except Exception:
                # The change has committed; failing the caller now would report a change
                # that did happen as failed. The webhooks of these events are lost (logged).
                log.exception("could not record webhook deliveries for %s", [e.event_id for e in unstaged])
        self._staged.clear()
        from exchange.webhooks.worker import notify

        notify()
        bus = get_bus()
        publish_many = getattr(bus, "publish_many", None)
        if publish_many is not None and len(events) > 1:
            await publish_many(events)
            return
        for event in events:
            await bus.publish(event)
