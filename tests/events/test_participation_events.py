"""Participation events (#15): what each change is called, how they travel (the bus's wire
format, the hub's order per participation) and what a webhook carries (ids, statuses, role,
hours: no personal data)."""

from __future__ import annotations

import asyncio
import datetime as dt

import orjson
import pytest

from exchange.events import (
    Event,
    InvitationEvent,
    ParticipationChange,
    ParticipationEvent,
    event_from_wire,
)
from exchange.events.hub import Hub, Subscriber
from exchange.models import InvitationStatus, ParticipationRole, ParticipationStatus
from exchange.webhooks.payload import event_payload, event_type
from schema.api.relay import encode_id

C, W, A, N = (
    ParticipationStatus.CONFIRMED,
    ParticipationStatus.WITHDRAWN,
    ParticipationStatus.ATTENDED,
    ParticipationStatus.NO_SHOW,
)


@pytest.mark.parametrize(
    ("previous", "status", "change"),
    [
        (None, C, ParticipationChange.ADDED),
        (W, C, ParticipationChange.ADDED),
        (C, C, ParticipationChange.ROLE_CHANGED),
        (W, W, ParticipationChange.ROLE_CHANGED),
        (C, W, ParticipationChange.WITHDRAWN),
        (C, A, ParticipationChange.ATTENDED),
        (N, A, ParticipationChange.ATTENDED),
        (A, A, ParticipationChange.HOURS_CHANGED),
        (C, N, ParticipationChange.NO_SHOW),
        (A, N, ParticipationChange.NO_SHOW),
        (A, C, ParticipationChange.ATTENDANCE_CLEARED),
        (N, C, ParticipationChange.ATTENDANCE_CLEARED),
        (A, None, ParticipationChange.REMOVED),
    ],
)
def test_each_move_is_named(
    previous: ParticipationStatus | None, status: ParticipationStatus | None, change: ParticipationChange
) -> None:
    assert ParticipationChange.of(previous, status) is change


def participation_event(
    previous: ParticipationStatus | None,
    status: ParticipationStatus | None,
    seconds: float = 0,
    participation: int = 1,
    hours: float | None = None,
) -> ParticipationEvent:
    return ParticipationEvent(
        participation_id=participation,
        exchange_id=3,
        organiser_ids=frozenset({7}),
        change=ParticipationChange.of(previous, status),
        previous_status=previous,
        status=status,
        role=ParticipationRole.MENTOR,
        hours=hours,
        at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds),
    )


def test_the_wire_carries_both_kinds_and_reads_old_invitation_messages() -> None:
    event = participation_event(C, A, hours=6.5)
    assert event_from_wire(orjson.loads(orjson.dumps(event.to_wire()))) == event
    removed = participation_event(A, None)
    assert event_from_wire(orjson.loads(orjson.dumps(removed.to_wire()))) == removed
    invitation = InvitationEvent(1, 3, frozenset({7}), None, InvitationStatus.QUEUED)
    old = invitation.to_wire()  # what an earlier release publishes: no "kind"
    assert "kind" not in old
    assert event_from_wire(old) == invitation


async def take(subscriber: Subscriber, count: int) -> list[Event]:
    return [await asyncio.wait_for(anext(subscriber), 5) for _ in range(count)]


async def test_the_hub_keeps_each_participation_in_status_order() -> None:
    hub = Hub(order_window=30)  # long: only the predecessor releases a follower
    subscriber = hub.subscribe(None, None, lambda _event: True)
    # An invitation with the same number is another stream: it neither waits nor releases.
    hub.dispatch(InvitationEvent(1, 3, frozenset({7}), None, InvitationStatus.QUEUED))
    hub.dispatch(participation_event(C, A, 2, hours=3))  # arrived before its predecessor
    hub.dispatch(participation_event(None, C, 0))
    hub.dispatch(participation_event(A, A, 3, hours=4))
    got = await take(subscriber, 4)
    assert isinstance(got[0], InvitationEvent)
    assert [(e.previous_status, e.status, getattr(e, "hours", None)) for e in got[1:]] == [
        (None, C, None),
        (C, A, 3),
        (A, A, 4),
    ]


def test_a_webhook_carries_ids_statuses_role_and_hours_only() -> None:
    event = participation_event(C, A, hours=6.5)
    payload = event_payload(event)
    assert event_type(event) == payload["type"] == "participation.attended"
    assert payload["data"] == {
        "eventId": event.event_id,
        "participationId": encode_id("Participation", 1),
        "exchangeId": encode_id("ExperienceExchange", 3),
        "change": "ATTENDED",
        "previousStatus": "CONFIRMED",
        "status": "ATTENDED",
        "role": "MENTOR",
        "hours": 6.5,
        "at": event.at.isoformat(),
    }
    assert event_type(participation_event(N, C)) == "participation.attendance_cleared"
    assert event_payload(participation_event(A, None))["data"]["status"] is None
