"""The roster beside invitations (#15), on SQLite and PostgreSQL: accepting, withdrawing on
the link and revoking announce the participation change like the roster's own mutations; a
place offered to the waiting list counts as taken for addParticipant; a place the host frees
(updateParticipation to WITHDRAWN, removeParticipant) is offered to the first waiting at once."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from exchange.events import ParticipationChange, ParticipationEvent, get_bus
from exchange.models import Invitation, InvitationStatus, ParticipationStatus
from tests.api.exchange_fixtures import gid, make_volunteer
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee
from tests.invitations.test_waitlist import REVOKE, answer, full_with_waitlist, later, status_of

C, W = ParticipationStatus.CONFIRMED, ParticipationStatus.WITHDRAWN
ADD = """mutation($e: ID!, $v: ID!) { addParticipant(exchangeId: $e, volunteerId: $v) {
  participation { id } userErrors { field code } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateParticipationInput!) { updateParticipation(id: $id, input: $input) {
  participation { status } userErrors { field code } } }"""
REMOVE = "mutation($id: ID!) { removeParticipant(id: $id) { removedParticipationId userErrors { code } } }"
SETTINGS = """mutation($id: ID!, $input: UpdateExchangeInput!) { updateExchange(id: $id, input: $input) {
  userErrors { field code } } }"""


@asynccontextmanager
async def participation_events() -> AsyncIterator[list[ParticipationEvent]]:
    """The participation events the in-process bus delivers while the block runs."""
    received: list[ParticipationEvent] = []
    stream = get_bus().subscribe().__aiter__()
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)

    async def rest() -> None:
        for event in [await first]:
            if isinstance(event, ParticipationEvent):
                received.append(event)
        async for event in stream:
            if isinstance(event, ParticipationEvent):
                received.append(event)

    task = asyncio.create_task(rest())
    try:
        yield received
        await asyncio.sleep(0.1)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_invitation_answers_announce_the_participation(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("a@example.com"), invitee("b@example.com"))
    async with participation_events() as events:
        assert (await answer(gql, "a@example.com", "ACCEPT", world))["userErrors"] == []
        assert (await answer(gql, "a@example.com", "WITHDRAW", world))["userErrors"] == []
        assert (await answer(gql, "b@example.com", "ACCEPT", world))["userErrors"] == []
        b = await Invitation.get(email_normalised="b@example.com")
        revoked = await gql(REVOKE, {"id": gid(b)}, key=world.host_key)
        assert revoked["data"]["revokeInvitation"]["userErrors"] == []
    everyone = frozenset({world.host.id, world.partner.id})
    assert [(e.change, e.previous_status, e.status, e.organiser_ids) for e in events] == [
        (ParticipationChange.ADDED, None, C, everyone),
        (ParticipationChange.WITHDRAWN, C, W, everyone),
        (ParticipationChange.ADDED, None, C, everyone),
        (ParticipationChange.WITHDRAWN, C, W, everyone),
    ]
    assert len({e.participation_id for e in events}) == 2


async def test_a_place_offered_to_the_waiting_list_is_taken_for_the_roster(
    gql: GraphQLClient, world: World
) -> None:
    await full_with_waitlist(gql, world, waiting=2)
    in0 = await Invitation.get(email_normalised="in0@example.com")
    # The accepted invitee is revoked: the place is offered to w0, so it is no longer free.
    revoked = await gql(REVOKE, {"id": gid(in0)}, key=world.host_key)
    assert revoked["data"]["revokeInvitation"]["userErrors"] == []
    assert await status_of("w0@example.com") is InvitationStatus.OFFERED
    team = await make_volunteer("Team Member", organisation=world.host)
    full = await gql(ADD, {"e": world.exchange_id, "v": gid(team)}, key=world.host_key)
    assert full["data"]["addParticipant"]["userErrors"] == [
        {"field": ["exchangeId"], "code": "CAPACITY_REACHED"}
    ]


async def test_a_place_the_host_frees_is_offered_at_once(gql: GraphQLClient, world: World) -> None:
    host = world.host_key
    settings = await gql(
        SETTINGS, {"id": world.exchange_id, "input": {"capacity": 1, "waitlist": True}}, key=host
    )
    assert settings["data"]["updateExchange"]["userErrors"] == []
    team, second = (
        await make_volunteer("Team Member", organisation=world.host),
        await make_volunteer("Second Member", organisation=world.host),
    )
    added = (await gql(ADD, {"e": world.exchange_id, "v": gid(team)}, key=host))["data"]["addParticipant"]
    assert added["userErrors"] == []
    await invite(gql, world, invitee("w0@example.com"), invitee("w1@example.com"), invitee("x@example.com"))
    for email in ("w0@example.com", "w1@example.com"):
        assert (await answer(gql, email, "ACCEPT", world))["invitation"]["status"] == "WAITLISTED"

    # The host withdraws its team member: the first waiting is offered the place at once.
    team_id = added["participation"]["id"]
    withdrawn = await gql(UPDATE, {"id": team_id, "input": {"status": "WITHDRAWN"}}, key=host)
    assert withdrawn["data"]["updateParticipation"]["userErrors"] == []
    assert (await status_of("w0@example.com"), await status_of("w1@example.com")) == (
        InvitationStatus.OFFERED,
        InvitationStatus.WAITLISTED,
    )
    # The offer holds the place: the team member cannot come back meanwhile.
    back = await gql(UPDATE, {"id": team_id, "input": {"status": "CONFIRMED"}}, key=host)
    assert back["data"]["updateParticipation"]["userErrors"] == [
        {"field": ["status"], "code": "CAPACITY_REACHED"}
    ]
    assert (await answer(gql, "w0@example.com", "ACCEPT", world))["invitation"]["status"] == "ACCEPTED"
    assert (await answer(gql, "w1@example.com", "DECLINE", world))["userErrors"] == []

    # A second place, taken from the roster; then x waits, and removing a participant offers it.
    await gql(SETTINGS, {"id": world.exchange_id, "input": {"capacity": 2}}, key=host)
    again = (await gql(ADD, {"e": world.exchange_id, "v": gid(second)}, key=host))["data"]["addParticipant"]
    assert again["userErrors"] == []
    assert (await answer(gql, "x@example.com", "ACCEPT", world))["invitation"]["status"] == "WAITLISTED"
    removed = await gql(REMOVE, {"id": again["participation"]["id"]}, key=host)
    assert removed["data"]["removeParticipant"]["userErrors"] == []
    assert await status_of("x@example.com") is InvitationStatus.OFFERED


async def test_a_place_the_host_frees_is_offered_for_the_apps_claim_window(
    gql: GraphQLClient, world: World
) -> None:
    # The app's settings, not a fresh read of the environment (48 hours), set the window.
    world.settings.waitlist_claim_hours = 2
    host = world.host_key
    await gql(SETTINGS, {"id": world.exchange_id, "input": {"capacity": 1, "waitlist": True}}, key=host)
    team, second = (
        await make_volunteer("Team Member", organisation=world.host),
        await make_volunteer("Second Member", organisation=world.host),
    )
    added = (await gql(ADD, {"e": world.exchange_id, "v": gid(team)}, key=host))["data"]["addParticipant"]
    await invite(gql, world, invitee("w0@example.com"), invitee("x@example.com"))
    assert (await answer(gql, "w0@example.com", "ACCEPT", world))["invitation"]["status"] == "WAITLISTED"

    withdrawn = await gql(
        UPDATE, {"id": added["participation"]["id"], "input": {"status": "WITHDRAWN"}}, key=host
    )
    assert withdrawn["data"]["updateParticipation"]["userErrors"] == []
    first = await Invitation.get(email_normalised="w0@example.com")
    assert first.offer_expires_at is not None
    assert abs(first.offer_expires_at - later(hours=2)) < dt.timedelta(minutes=1)

    assert (await answer(gql, "w0@example.com", "ACCEPT", world))["invitation"]["status"] == "ACCEPTED"
    await gql(SETTINGS, {"id": world.exchange_id, "input": {"capacity": 2}}, key=host)
    again = (await gql(ADD, {"e": world.exchange_id, "v": gid(second)}, key=host))["data"]["addParticipant"]
    assert again["userErrors"] == []
    assert (await answer(gql, "x@example.com", "ACCEPT", world))["invitation"]["status"] == "WAITLISTED"
    removed = await gql(REMOVE, {"id": again["participation"]["id"]}, key=host)
    assert removed["data"]["removeParticipant"]["userErrors"] == []
    offered = await Invitation.get(email_normalised="x@example.com")
    assert offered.offer_expires_at is not None
    assert abs(offered.offer_expires_at - later(hours=2)) < dt.timedelta(minutes=1)
