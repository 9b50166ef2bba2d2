"""The waiting list and withdrawal through GraphQL (respondToInvitation with the token),
on SQLite and PostgreSQL: joining when full, the position, withdrawal until the start and
its refusal after, each freed place offered to the next (withdrawal, revocation, a declined
offer, capacity raised), claiming, and offers that lapse (the sweep, with the clock passed in)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from exchange.invitations import sweeps, waitlist
from exchange.models import (
    Exchange,
    Invitation,
    InvitationStatus,
    MailKind,
    OutboxMail,
    Participation,
    ParticipationStatus,
    Session,
)
from schema.api.relay import encode_id
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, token_for_email
from tests.invitations.test_sweeps_and_events import listening

ANSWER = """
mutation($token: String!, $response: InvitationResponse!) {
  respondToInvitation(token: $token, response: $response) {
    invitation { status waitlistPosition offerExpiresAt withdrawnAt respondedAt }
    userErrors { field message code }
  }
}
"""
PREVIEW = (
    """query($t: String!) { invitation(token: $t) { status waitlistPosition offerExpiresAt withdrawnAt } }"""
)
LIST = """query($slug: String!) { exchange(slug: $slug) { seatsLeft waitlist
  invitations { edges { node { email status waitlistPosition offerExpiresAt } } } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateExchangeInput!) { updateExchange(id: $id, input: $input) {
  exchange { capacity waitlist } userErrors { field message code } } }"""
REVOKE = """mutation($id: ID!) { revokeInvitation(id: $id) { invitation { status } userErrors { code } } }"""


def later(**delta: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(**delta)


async def answer(gql: GraphQLClient, email: str, response: str, world: World) -> dict[str, Any]:
    result = await gql(ANSWER, {"token": await token_for_email(email, world.settings), "response": response})
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["respondToInvitation"]
    return payload


async def status_of(email: str) -> InvitationStatus:
    return InvitationStatus((await Invitation.get(email_normalised=email)).status)


async def full_with_waitlist(gql: GraphQLClient, world: World, waiting: int, capacity: int = 1) -> None:
    """``capacity`` places, all taken by in0.., and ``waiting`` more invitees on the list (w0..)."""
    result = await gql(
        UPDATE,
        {"id": world.exchange_id, "input": {"capacity": capacity, "waitlist": True}},
        key=world.host_key,
    )
    assert result["data"]["updateExchange"] == {
        "exchange": {"capacity": capacity, "waitlist": True},
        "userErrors": [],
    }
    for index in range(capacity):
        await invite(gql, world, invitee(f"in{index}@example.com"))
        assert (await answer(gql, f"in{index}@example.com", "ACCEPT", world))["invitation"][
            "status"
        ] == "ACCEPTED"
    for index in range(waiting):
        await invite(gql, world, invitee(f"w{index}@example.com"))
        joined = await answer(gql, f"w{index}@example.com", "ACCEPT", world)
        assert joined["userErrors"] == []
        assert joined["invitation"]["status"] == "WAITLISTED"
        assert joined["invitation"]["waitlistPosition"] == index + 1


async def offers() -> list[str]:
    return sorted(m.recipient for m in await OutboxMail.filter(kind=MailKind.WAITLIST_OFFER))


async def test_without_a_waitlist_a_full_exchange_still_refuses(gql: GraphQLClient, world: World) -> None:
    await Exchange.filter(id=world.exchange.id).update(capacity=1)
    await invite(gql, world, invitee("a@example.com"), invitee("b@example.com"))
    assert (await answer(gql, "a@example.com", "ACCEPT", world))["invitation"]["status"] == "ACCEPTED"
    refused = await answer(gql, "b@example.com", "ACCEPT", world)
    assert refused["invitation"] is None
    assert refused["userErrors"][0]["code"] == "CAPACITY_REACHED"
    assert await status_of("b@example.com") is InvitationStatus.QUEUED
    assert await OutboxMail.filter(kind=MailKind.WAITLIST_OFFER).count() == 0


async def test_joining_the_list_and_its_positions(gql: GraphQLClient, world: World) -> None:
    await full_with_waitlist(gql, world, waiting=2)
    # Nothing is recorded for the people waiting but the answer: no volunteer, no place.
    assert await Participation.all().count() == 1
    waiting = await Invitation.get(email_normalised="w1@example.com")
    assert waiting.volunteer_id is None and waiting.consent_at is not None
    preview = await gql(PREVIEW, {"t": await token_for_email("w1@example.com", world.settings)})
    assert preview["data"]["invitation"] == {
        "status": "WAITLISTED",
        "waitlistPosition": 2,
        "offerExpiresAt": None,
        "withdrawnAt": None,
    }
    listed = await gql(LIST, {"slug": "aral-week"}, key=world.host_key)
    nodes = {n["email"]: n for n in (e["node"] for e in listed["data"]["exchange"]["invitations"]["edges"])}
    assert listed["data"]["exchange"]["seatsLeft"] == 0 and listed["data"]["exchange"]["waitlist"] is True
    assert [
        (nodes[e]["status"], nodes[e]["waitlistPosition"])
        for e in ("in0@example.com", "w0@example.com", "w1@example.com")
    ] == [
        ("ACCEPTED", None),
        ("WAITLISTED", 1),
        ("WAITLISTED", 2),
    ]
    # Accepting again is no news; leaving the list moves those behind up.
    again = await answer(gql, "w0@example.com", "ACCEPT", world)
    assert again["userErrors"][0]["code"] == "ALREADY_RESPONDED"
    assert "waiting list already" in again["userErrors"][0]["message"]
    left = await answer(gql, "w0@example.com", "DECLINE", world)
    assert left["invitation"]["status"] == "DECLINED"
    preview = await gql(PREVIEW, {"t": await token_for_email("w1@example.com", world.settings)})
    assert preview["data"]["invitation"]["waitlistPosition"] == 1
    assert await offers() == []


async def test_a_withdrawal_frees_the_place_for_the_first_waiting(gql: GraphQLClient, world: World) -> None:
    await full_with_waitlist(gql, world, waiting=2)
    accepted = await Invitation.get(email_normalised="in0@example.com")
    async with listening() as events:
        withdrawn = await answer(gql, "in0@example.com", "WITHDRAW", world)
    assert withdrawn["userErrors"] == []
    assert withdrawn["invitation"]["status"] == "WITHDRAWN" and withdrawn["invitation"]["withdrawnAt"]
    stored = await Invitation.get(id=accepted.id)
    assert stored.calendar_sequence == accepted.calendar_sequence + 1  # the CANCEL outranks what was sent
    assert {p.status for p in await Participation.all()} == {ParticipationStatus.WITHDRAWN}
    # One offer, to the first waiting, with the claim window of the setting (48 h).
    first = await Invitation.get(email_normalised="w0@example.com")
    assert first.status is InvitationStatus.OFFERED
    assert first.offer_expires_at is not None
    assert abs(first.offer_expires_at - later(hours=48)) < dt.timedelta(minutes=1)
    assert await status_of("w1@example.com") is InvitationStatus.WAITLISTED
    assert [m.recipient for m in await OutboxMail.filter(kind=MailKind.WITHDRAWAL)] == ["in0@example.com"]
    assert await offers() == ["w0@example.com"]
    assert [(e.invitation_id, e.previous_status, e.status) for e in events] == [
        (accepted.id, InvitationStatus.ACCEPTED, InvitationStatus.WITHDRAWN),
        (first.id, InvitationStatus.WAITLISTED, InvitationStatus.OFFERED),
    ]
    # Withdrawing twice, or an unaccepted invitation, says so.
    twice = await answer(gql, "in0@example.com", "WITHDRAW", world)
    assert twice["userErrors"][0]["code"] == "ALREADY_RESPONDED"
    offered = await answer(gql, "w0@example.com", "WITHDRAW", world)
    assert offered["userErrors"][0]["code"] == "INVALID" and "decline" in offered["userErrors"][0]["message"]
    # The offer is claimed: the place is theirs.
    claimed = await answer(gql, "w0@example.com", "ACCEPT", world)
    assert claimed["userErrors"] == [] and claimed["invitation"]["status"] == "ACCEPTED"
    assert await Participation.filter(status=ParticipationStatus.CONFIRMED).count() == 1
    assert await offers() == ["w0@example.com"]  # nothing more was free
    listed = await gql(LIST, {"slug": "aral-week"}, key=world.host_key)
    assert listed["data"]["exchange"]["seatsLeft"] == 0


async def test_no_withdrawal_once_the_exchange_has_started(gql: GraphQLClient, world: World) -> None:
    await full_with_waitlist(gql, world, waiting=1)
    # exchange.schedule: the first planned session's start; one began an hour ago.
    await Session.filter(id=world.sessions[0].id).update(starts_at=later(hours=-1), ends_at=later(hours=1))
    refused = await answer(gql, "in0@example.com", "WITHDRAW", world)
    assert refused["invitation"] is None
    assert refused["userErrors"] == [
        {
            "field": ["token"],
            "message": "The exchange has already started, so the place can no longer be withdrawn here; "
            "please tell the organiser.",
            "code": "INVALID",
        }
    ]
    assert await status_of("in0@example.com") is InvitationStatus.ACCEPTED
    assert await OutboxMail.filter(kind=MailKind.WITHDRAWAL).count() == 0
    # Nor is anyone offered a place after the start: the revoked invitee's stays empty.
    await gql(
        REVOKE,
        {"id": encode_id("Invitation", (await Invitation.get(email_normalised="in0@example.com")).id)},
        key=world.host_key,
    )
    assert await status_of("w0@example.com") is InvitationStatus.WAITLISTED
    assert await offers() == []
    assert await waitlist.pass_on_lapsed_offers(world.settings) == 0
    assert await status_of("w0@example.com") is InvitationStatus.WAITLISTED


async def test_the_sweep_offers_a_place_freed_without_an_offer(gql: GraphQLClient, world: World) -> None:
    """A place freed by a path that offers nothing itself (here the participation deleted
    behind the services' back) is offered by the next sweep, once."""
    await full_with_waitlist(gql, world, waiting=2)
    await Participation.all().delete()
    assert await status_of("w0@example.com") is InvitationStatus.WAITLISTED
    assert (await sweeps.sweep(world.settings)).offers == 1
    assert await status_of("w0@example.com") is InvitationStatus.OFFERED
    assert await status_of("w1@example.com") is InvitationStatus.WAITLISTED
    assert (await sweeps.sweep(world.settings)).offers == 0
    assert await offers() == ["w0@example.com"]


async def test_revocations_and_a_declined_offer_pass_the_place_on(gql: GraphQLClient, world: World) -> None:
    await full_with_waitlist(gql, world, waiting=3)
    accepted = await Invitation.get(email_normalised="in0@example.com")
    revoked = await gql(REVOKE, {"id": encode_id("Invitation", accepted.id)}, key=world.host_key)
    assert revoked["data"]["revokeInvitation"] == {"invitation": {"status": "REVOKED"}, "userErrors": []}
    assert await status_of("w0@example.com") is InvitationStatus.OFFERED
    # Declining the offer passes it on...
    assert (await answer(gql, "w0@example.com", "DECLINE", world))["invitation"]["status"] == "DECLINED"
    assert await status_of("w1@example.com") is InvitationStatus.OFFERED
    # ...and so does revoking an offered invitation.
    offered = await Invitation.get(email_normalised="w1@example.com")
    await gql(REVOKE, {"id": encode_id("Invitation", offered.id)}, key=world.host_key)
    assert await status_of("w2@example.com") is InvitationStatus.OFFERED
    assert await offers() == ["w0@example.com", "w1@example.com", "w2@example.com"]


async def test_capacity_raised_offers_as_many_places(gql: GraphQLClient, world: World) -> None:
    await full_with_waitlist(gql, world, waiting=3)
    raised = await gql(UPDATE, {"id": world.exchange_id, "input": {"capacity": 3}}, key=world.host_key)
    assert raised["data"]["updateExchange"]["userErrors"] == []
    assert [await status_of(f"w{i}@example.com") for i in range(3)] == [
        InvitationStatus.OFFERED,
        InvitationStatus.OFFERED,
        InvitationStatus.WAITLISTED,
    ]
    # A newcomer does not jump the queue while places are offered: onto the list's end.
    await invite(gql, world, invitee("late@example.com"))
    late = await answer(gql, "late@example.com", "ACCEPT", world)
    assert (late["invitation"]["status"], late["invitation"]["waitlistPosition"]) == ("WAITLISTED", 2)
    # Lifting the limit offers everyone still waiting.
    await gql(UPDATE, {"id": world.exchange_id, "input": {"capacity": None}}, key=world.host_key)
    assert await status_of("w2@example.com") is InvitationStatus.OFFERED
    assert await status_of("late@example.com") is InvitationStatus.OFFERED


async def test_a_claim_after_the_capacity_was_lowered_keeps_the_turn(
    gql: GraphQLClient, world: World
) -> None:
    await full_with_waitlist(gql, world, waiting=2)
    await answer(gql, "in0@example.com", "WITHDRAW", world)
    assert await status_of("w0@example.com") is InvitationStatus.OFFERED
    await gql(UPDATE, {"id": world.exchange_id, "input": {"capacity": 0}}, key=world.host_key)
    back = await answer(gql, "w0@example.com", "ACCEPT", world)
    assert back["userErrors"] == []
    assert (back["invitation"]["status"], back["invitation"]["waitlistPosition"]) == ("WAITLISTED", 1)
    assert (await Invitation.get(email_normalised="w0@example.com")).offer_expires_at is None


async def test_a_lapsed_offer_expires_and_the_sweep_passes_it_on(gql: GraphQLClient, world: World) -> None:
    await full_with_waitlist(gql, world, waiting=2)
    await answer(gql, "in0@example.com", "WITHDRAW", world)
    first = await Invitation.get(email_normalised="w0@example.com")
    assert first.offer_expires_at is not None
    # Read as EXPIRED the moment the window closes, before any sweep (reads never write).
    await Invitation.filter(id=first.id).update(offer_expires_at=later(seconds=-1))
    preview = await gql(PREVIEW, {"t": await token_for_email("w0@example.com", world.settings)})
    assert preview["data"]["invitation"]["status"] == "EXPIRED"
    lapsed = await answer(gql, "w0@example.com", "ACCEPT", world)
    assert lapsed["userErrors"] == [
        {"field": ["token"], "message": "The offer of a place has lapsed.", "code": "EXPIRED"}
    ]
    filtered = await gql(
        '{ exchange(slug: "aral-week") { invitations(status: EXPIRED) { edges { node { email } } } } }',
        key=world.host_key,
    )
    assert filtered["data"]["exchange"]["invitations"]["edges"] == [{"node": {"email": "w0@example.com"}}]
    # The sweep, with its clock passed in: before the deadline nothing; after, the next one.
    await Invitation.filter(id=first.id).update(offer_expires_at=first.offer_expires_at)
    assert (
        await waitlist.pass_on_lapsed_offers(
            world.settings, now=first.offer_expires_at - dt.timedelta(minutes=1)
        )
        == 0
    )
    assert await status_of("w1@example.com") is InvitationStatus.WAITLISTED
    swept_at = first.offer_expires_at + dt.timedelta(minutes=1)
    async with listening() as events:
        report = await sweeps.sweep(world.settings, swept_at)
    assert report.offers == 1
    assert await status_of("w0@example.com") is InvitationStatus.EXPIRED  # not back on the list
    second = await Invitation.get(email_normalised="w1@example.com")
    assert second.status is InvitationStatus.OFFERED
    # The new window starts at the sweep's moment.
    assert second.offer_expires_at == swept_at + dt.timedelta(hours=48)
    assert [
        (e.invitation_id, e.previous_status, e.status)
        for e in events
        if e.status in (InvitationStatus.EXPIRED, InvitationStatus.OFFERED)
    ] == [
        (first.id, InvitationStatus.OFFERED, InvitationStatus.EXPIRED),
        (second.id, InvitationStatus.WAITLISTED, InvitationStatus.OFFERED),
    ]
    assert await waitlist.pass_on_lapsed_offers(world.settings, now=swept_at) == 0
    assert await offers() == ["w0@example.com", "w1@example.com"]


async def test_the_claim_window_is_a_setting_and_ends_by_the_start(gql: GraphQLClient, world: World) -> None:
    world.settings.waitlist_claim_hours = 2
    await full_with_waitlist(gql, world, waiting=2)
    await answer(gql, "in0@example.com", "WITHDRAW", world)
    offered = await Invitation.get(email_normalised="w0@example.com")
    assert offered.offer_expires_at is not None
    # The app's settings object is the one the page and API use.
    assert abs(offered.offer_expires_at - later(hours=2)) < dt.timedelta(minutes=1)
    # An exchange starting in an hour: the window closes at its start.
    starts = later(hours=1)
    await Session.filter(id=world.sessions[0].id).update(
        starts_at=starts, ends_at=starts + dt.timedelta(hours=1)
    )
    await answer(gql, "w0@example.com", "DECLINE", world)
    second = await Invitation.get(email_normalised="w1@example.com")
    assert second.offer_expires_at is not None
    assert abs(second.offer_expires_at - starts) < dt.timedelta(seconds=1)


def test_the_claim_window_from_the_environment(monkeypatch: Any) -> None:
    from exchange.settings import Settings

    assert Settings(_env_file=None).waitlist_claim_hours == 48  # type: ignore[call-arg]
    monkeypatch.setenv("EXCHANGE_WAITLIST_CLAIM_HOURS", "12.5")
    assert Settings(_env_file=None).waitlist_claim_hours == 12.5  # type: ignore[call-arg]
