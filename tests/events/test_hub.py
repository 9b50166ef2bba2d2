"""The in-process fan-out on its own: order per invitation, once per event, slow consumers,
caps, bus failure and shutdown. No servers, no clock-based assertions."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from exchange.events import InvitationEvent
from exchange.events.hub import (
    EVENTS_UNAVAILABLE,
    SLOW_CONSUMER,
    TOO_MANY_SUBSCRIPTIONS,
    Hub,
    StreamError,
    Subscriber,
)
from exchange.models import InvitationStatus

Q, S, A = InvitationStatus.QUEUED, InvitationStatus.SENT, InvitationStatus.ACCEPTED


def event(
    previous: InvitationStatus | None,
    status: InvitationStatus,
    seconds: float = 0,
    invitation: int = 1,
    organisers: frozenset[int] = frozenset({7}),
) -> InvitationEvent:
    # Relative to now, not to collection time: the hub's ordering window is measured against
    # the clock, and a full suite runs this test long after it was collected.
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return InvitationEvent(invitation, 1, organisers, previous, status, at=at)


def everything(_event: InvitationEvent) -> bool:
    return True


async def take(subscriber: Subscriber, count: int) -> list[tuple[InvitationStatus | None, InvitationStatus]]:
    got = []
    for _ in range(count):
        item = await asyncio.wait_for(anext(subscriber), 5)
        got.append((item.previous_status, item.status))
    return got


async def test_an_early_successor_waits_for_its_predecessor() -> None:
    hub = Hub(order_window=30)  # long: the predecessor, not the window, releases it
    subscriber = hub.subscribe(None, None, everything)
    hub.dispatch(event(None, Q, 0))
    hub.dispatch(event(S, A, 2))  # arrived before SENT (published late by another process)
    hub.dispatch(event(Q, S, 1))
    assert await take(subscriber, 3) == [(None, Q), (Q, S), (S, A)]


async def test_a_successor_whose_predecessor_never_comes_is_delivered_after_the_window() -> None:
    hub = Hub(order_window=0.05)
    subscriber = hub.subscribe(None, None, everything)
    hub.dispatch(InvitationEvent(1, 1, frozenset({7}), S, A))  # e.g. SENT happened before start-up
    assert await take(subscriber, 1) == [(S, A)]


async def test_each_event_once_and_only_to_its_audience() -> None:
    hub = Hub()
    admin = hub.subscribe(None, None, everything)
    org7 = hub.subscribe("k7", 7, everything)
    org8 = hub.subscribe("k8", 8, everything)
    first = event(None, Q, organisers=frozenset({7}))
    hub.dispatch(first)
    hub.dispatch(first)  # the same event again (e.g. a re-publish)
    hub.dispatch(event(None, Q, invitation=2, organisers=frozenset({8})))
    assert [e.invitation_id for e in [await anext(admin), await anext(admin)]] == [1, 2]
    assert (await anext(org7)).invitation_id == 1
    assert (await anext(org8)).invitation_id == 2
    assert hub.delivered == 4


async def test_a_slow_consumer_is_dropped_and_others_are_not() -> None:
    hub = Hub(queue_size=3)
    slow = hub.subscribe(None, None, everything)
    fast = hub.subscribe(None, None, everything)
    for number in range(4):
        hub.dispatch(event(None, Q, invitation=100 + number))
        await anext(fast)
    with pytest.raises(StreamError) as dropped:
        await anext(slow)
    assert dropped.value.code == SLOW_CONSUMER
    hub.dispatch(event(None, Q, invitation=200))
    assert (await anext(fast)).invitation_id == 200
    assert hub.count == 1


async def test_per_key_cap_and_bus_failure_and_shutdown() -> None:
    hub = Hub(per_key_cap=2)
    one, two = hub.subscribe("k", 1, everything), hub.subscribe("k", 1, everything)
    with pytest.raises(StreamError) as capped:
        hub.subscribe("k", 1, everything)
    assert capped.value.code == TOO_MANY_SUBSCRIPTIONS
    other_key = hub.subscribe("other", 1, everything)

    hub.set_available(False)
    for subscriber in (one, two, other_key):
        with pytest.raises(StreamError) as failed:
            await anext(subscriber)
        assert failed.value.code == EVENTS_UNAVAILABLE
    with pytest.raises(StreamError):
        hub.subscribe("k", 1, everything)

    hub.set_available(True)
    alive = hub.subscribe("k", 1, everything)
    hub.close()
    with pytest.raises(StopAsyncIteration):
        await anext(alive)
    alive.close()
    assert await hub.wait_drained(1)
