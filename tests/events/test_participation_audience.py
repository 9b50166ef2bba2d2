"""Participation events through the API (#15), on SQLite and PostgreSQL: the roster and
attendance mutations publish them after their commit to their audience (the exchange's
organisers; a no-show, before or after, the host only), with a durable webhook row per
organiser endpoint and no personal data in it."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest

from exchange.events import Event, ParticipationChange, ParticipationEvent, get_bus
from exchange.models import (
    ParticipationRole,
    ParticipationStatus,
    Session,
    SessionFormat,
    WebhookDelivery,
    WebhookEndpoint,
)
from schema.api.relay import encode_id
from tests.api.exchange_fixtures import gid, make_exchange, make_volunteer
from tests.conftest import GraphQLClient, make_key, make_organisation

C, W, A, N = (
    ParticipationStatus.CONFIRMED,
    ParticipationStatus.WITHDRAWN,
    ParticipationStatus.ATTENDED,
    ParticipationStatus.NO_SHOW,
)


@asynccontextmanager
async def hearing() -> AsyncIterator[list[Event]]:
    """Every event the in-process bus delivers while the block runs (and shortly after)."""
    received: list[Event] = []
    stream = get_bus().subscribe().__aiter__()
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)

    async def rest() -> None:
        received.append(await first)
        async for event in stream:
            received.append(event)

    task = asyncio.create_task(rest())
    try:
        yield received
        await asyncio.sleep(0.1)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


ADD = """mutation($e: ID!, $v: ID!) { addParticipant(exchangeId: $e, volunteerId: $v, role: MENTOR) {
  participation { id } userErrors { code } } }"""
RECORD = """mutation($id: ID!, $input: RecordAttendanceInput!) { recordAttendance(participationId: $id, input: $input) {
  userErrors { code } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateParticipationInput!) { updateParticipation(id: $id, input: $input) {
  userErrors { code } } }"""
REMOVE = "mutation($id: ID!) { removeParticipant(id: $id) { userErrors { code } } }"


async def test_roster_and_attendance_changes_reach_their_audience_and_webhooks(
    gql: GraphQLClient, app: Any
) -> None:
    host = await make_organisation("aral-eco-volunteers")
    partner = await make_organisation("un-volunteers")
    other = await make_organisation("other")
    now = dt.datetime.now(dt.UTC)
    exchange = await make_exchange(
        "aral-week", host, partners=[partner], starts_on=now.date() - dt.timedelta(days=1)
    )
    await Session.create(
        exchange=exchange,
        titles={"en": "Day one"},
        starts_at=now - dt.timedelta(hours=4),
        ends_at=now - dt.timedelta(hours=1),
        format=SessionFormat.IN_PERSON,
    )
    endpoints = {
        org.id: await WebhookEndpoint.create(
            organisation=org, url=f"https://hooks.example.org/{org.slug}", sealed_secret="s"
        )
        for org in (host, partner, other)
    }
    volunteer = await make_volunteer("Dilnoza Karimova", organisation=host, public_profile=False)
    key = await make_key(host)

    async with hearing() as heard:
        added = await gql(ADD, {"e": gid(exchange), "v": gid(volunteer)}, key=key)
        pid = added["data"]["addParticipant"]["participation"]["id"]
        for input in (
            {"status": "ATTENDED", "hours": 2},
            {"status": "ATTENDED", "hours": 3},
            {"status": "NO_SHOW"},
        ):
            assert (await gql(RECORD, {"id": pid, "input": input}, key=key))["data"]["recordAttendance"] == {
                "userErrors": []
            }
        # Recording the same again changes nothing: no event.
        await gql(RECORD, {"id": pid, "input": {"status": "NO_SHOW"}}, key=key)
        await gql(UPDATE, {"id": pid, "input": {"status": "CONFIRMED"}}, key=key)
        await gql(UPDATE, {"id": pid, "input": {"role": "SPEAKER"}}, key=key)
        await gql(UPDATE, {"id": pid, "input": {"status": "WITHDRAWN"}}, key=key)
        await gql(REMOVE, {"id": pid}, key=key)

    events = [e for e in heard if isinstance(e, ParticipationEvent)]
    everyone, host_only = frozenset({host.id, partner.id}), frozenset({host.id})
    assert [(e.change, e.previous_status, e.status, e.hours, e.organiser_ids) for e in events] == [
        (ParticipationChange.ADDED, None, C, None, everyone),
        (ParticipationChange.ATTENDED, C, A, 2.0, everyone),
        (ParticipationChange.HOURS_CHANGED, A, A, 3.0, everyone),
        (ParticipationChange.NO_SHOW, A, N, None, host_only),
        (ParticipationChange.ATTENDANCE_CLEARED, N, C, None, host_only),
        (ParticipationChange.ROLE_CHANGED, C, C, None, everyone),
        (ParticipationChange.WITHDRAWN, C, W, None, everyone),
        (ParticipationChange.REMOVED, W, None, None, everyone),
    ]
    assert {encode_id("Participation", e.participation_id) for e in events} == {pid}
    assert [e.role for e in events][-3:] == [ParticipationRole.SPEAKER] * 3

    # Durable webhook rows, written with each change: per organiser in the event's audience.
    rows = await WebhookDelivery.all().order_by("id")
    by_endpoint: dict[int, list[str]] = {}
    for row in rows:
        by_endpoint.setdefault(row.endpoint_id, []).append(row.event_type)
    assert by_endpoint[endpoints[host.id].id] == [
        "participation.added",
        "participation.attended",
        "participation.hours_changed",
        "participation.no_show",
        "participation.attendance_cleared",
        "participation.role_changed",
        "participation.withdrawn",
        "participation.removed",
    ]
    assert by_endpoint[endpoints[partner.id].id] == [
        "participation.added",
        "participation.attended",
        "participation.hours_changed",
        "participation.role_changed",
        "participation.withdrawn",
        "participation.removed",
    ]
    assert endpoints[other.id].id not in by_endpoint
    for row in rows:
        text = orjson.dumps(row.payload).decode()
        for personal in ("Dilnoza", "Karimova", volunteer.email, encode_id("Volunteer", volunteer.id)):
            assert personal not in text
