"""resendInvitation, revokeInvitation, and who may read invitations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    MailKind,
    MailStatus,
    OutboxMail,
    Participation,
    ParticipationStatus,
)
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, respond, token_for_email

RESEND = """mutation($id: ID!) { resendInvitation(id: $id) {
  invitation { id status } userErrors { field message code } } }"""
REVOKE = """mutation($id: ID!) { revokeInvitation(id: $id) {
  invitation { id status } userErrors { field message code } } }"""
LIST = """query($slug: String!, $status: InvitationStatus, $first: Int, $after: String) {
  exchange(slug: $slug) { invitations(status: $status, first: $first, after: $after) {
    totalCount edges { node { email status } } pageInfo { hasNextPage endCursor } } } }"""


async def _one(gql: GraphQLClient, world: World, email: str = "a@example.com") -> str:
    payload = await invite(gql, world, invitee(email))
    invitation_id: str = payload["invitations"][0]["id"]
    return invitation_id


async def _mutation(gql: GraphQLClient, query: str, invitation_id: str, key: str) -> dict[str, Any]:
    result = await gql(query, {"id": invitation_id}, key=key)
    assert "errors" not in result, result
    payload: dict[str, Any] = next(iter(result["data"].values()))
    return payload


async def test_resend_keeps_the_link_and_bumps_the_calendar_sequence(
    gql: GraphQLClient, world: World
) -> None:
    invitation_id = await _one(gql, world)
    token = await token_for_email("a@example.com", world.settings)
    await Invitation.all().update(status=InvitationStatus.SENT)
    payload = await _mutation(gql, RESEND, invitation_id, world.host_key)
    assert payload == {"invitation": {"id": invitation_id, "status": "SENT"}, "userErrors": []}
    stored = await Invitation.get()
    assert stored.calendar_sequence == 1
    assert await OutboxMail.filter(kind=MailKind.RESEND, invitation=stored).count() == 1
    # The same working link: the token still answers.
    assert (await respond(gql, token, "ACCEPT"))["userErrors"] == []


async def test_resend_only_while_waiting_for_an_answer(gql: GraphQLClient, world: World) -> None:
    invitation_id = await _one(gql, world)
    cases = [
        (InvitationStatus.ACCEPTED, "ALREADY_RESPONDED"),
        (InvitationStatus.DECLINED, "ALREADY_RESPONDED"),
        (InvitationStatus.REVOKED, "REVOKED"),
        (InvitationStatus.EXPIRED, "EXPIRED"),
        (InvitationStatus.FAILED, "INVALID"),
    ]
    for status, code in cases:
        await Invitation.all().update(status=status)
        payload = await _mutation(gql, RESEND, invitation_id, world.host_key)
        assert payload["invitation"] is None
        assert payload["userErrors"][0]["code"] == code
        assert payload["userErrors"][0]["field"] == ["id"]
    await Invitation.all().update(status=InvitationStatus.SENT, expires_at=dt.datetime.now(dt.UTC))
    overdue = await _mutation(gql, RESEND, invitation_id, world.host_key)
    assert overdue["userErrors"][0]["code"] == "EXPIRED"
    assert await OutboxMail.filter(kind=MailKind.RESEND).count() == 0


async def test_revoke_before_any_mail_left_sends_nothing(gql: GraphQLClient, world: World) -> None:
    invitation_id = await _one(gql, world)
    payload = await _mutation(gql, REVOKE, invitation_id, world.host_key)
    assert payload["invitation"]["status"] == "REVOKED"
    assert await OutboxMail.filter(kind=MailKind.CANCELLATION).count() == 0
    again = await _mutation(gql, REVOKE, invitation_id, world.host_key)
    assert again["userErrors"][0]["code"] == "REVOKED"
    answer = await respond(gql, await token_for_email("a@example.com", world.settings), "ACCEPT")
    assert answer["userErrors"][0]["code"] == "REVOKED"


async def test_revoking_an_accepted_invitation_withdraws_and_cancels(
    gql: GraphQLClient, world: World
) -> None:
    invitation_id = await _one(gql, world)
    await OutboxMail.all().update(status=MailStatus.SENT, sent_at=dt.datetime.now(dt.UTC))
    await Invitation.all().update(status=InvitationStatus.SENT, sent_at=dt.datetime.now(dt.UTC))
    await respond(gql, await token_for_email("a@example.com", world.settings), "ACCEPT")
    payload = await _mutation(gql, REVOKE, invitation_id, world.host_key)
    assert payload["invitation"]["status"] == "REVOKED"
    assert (await Participation.get()).status is ParticipationStatus.WITHDRAWN
    cancellation = await OutboxMail.get(kind=MailKind.CANCELLATION)
    assert cancellation.recipient == "a@example.com"
    # The address is free for a new invitation now.
    fresh = await invite(gql, world, invitee("a@example.com"))
    assert fresh["invitations"][0]["id"] != invitation_id


async def test_revoke_refuses_answered_and_expired(gql: GraphQLClient, world: World) -> None:
    invitation_id = await _one(gql, world)
    await Invitation.all().update(status=InvitationStatus.DECLINED)
    assert (await _mutation(gql, REVOKE, invitation_id, world.host_key))["userErrors"][0][
        "code"
    ] == "ALREADY_RESPONDED"
    await Invitation.all().update(status=InvitationStatus.QUEUED, expires_at=dt.datetime.now(dt.UTC))
    assert (await _mutation(gql, REVOKE, invitation_id, world.host_key))["userErrors"][0]["code"] == "EXPIRED"


async def test_resend_only_while_the_exchange_is_open(gql: GraphQLClient, world: World) -> None:
    # A cancelled or closed exchange cannot be joined: resending would invite to it anyway.
    invitation_id = await _one(gql, world)
    for status in (ExchangeStatus.CLOSED, ExchangeStatus.CANCELLED):
        await Exchange.filter(id=world.exchange.id).update(status=status)
        payload = await _mutation(gql, RESEND, invitation_id, world.host_key)
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["id"], "INVALID")], status
    assert await OutboxMail.filter(kind=MailKind.RESEND).count() == 0


async def test_only_the_host_or_an_admin_resends_and_revokes(gql: GraphQLClient, world: World) -> None:
    invitation_id = await _one(gql, world)
    for query in (RESEND, REVOKE):
        assert (await gql(query, {"id": invitation_id}))["errors"][0]["extensions"][
            "code"
        ] == "UNAUTHENTICATED"
        partner = await gql(query, {"id": invitation_id}, key=world.partner_key)
        assert partner["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        read_only = await gql(query, {"id": invitation_id}, key=world.read_only_key)
        assert read_only["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        # Another organisation does not learn that the invitation exists.
        other = await gql(query, {"id": invitation_id}, key=world.other_key)
        assert other["data"][next(iter(other["data"]))]["userErrors"][0]["code"] == "NOT_FOUND"
    assert (await Invitation.get()).status is InvitationStatus.QUEUED
    revoked = await _mutation(gql, REVOKE, invitation_id, world.admin_key)
    assert revoked["invitation"]["status"] == "REVOKED"


async def test_invitation_list_visibility(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("a@example.com"), invitee("b@example.com"))
    for key in (world.host_key, world.partner_key, world.admin_key):
        result = await gql(LIST, {"slug": "aral-week"}, key=key)
        assert result["data"]["exchange"]["invitations"]["totalCount"] == 2, key
    for key in (world.other_key, world.read_only_key, None):
        # A read-only key reads public data only, even the host's own.
        result = await gql(LIST, {"slug": "aral-week"}, key=key)
        assert "errors" not in result
        connection = result["data"]["exchange"]["invitations"]
        assert connection == {
            "totalCount": 0,
            "edges": [],
            "pageInfo": {"hasNextPage": False, "endCursor": None},
        }


async def test_node_lookup_follows_the_same_rule(gql: GraphQLClient, world: World) -> None:
    invitation_id = await _one(gql, world)
    query = "query($id: ID!) { node(id: $id) { ... on Invitation { email } } }"
    assert (await gql(query, {"id": invitation_id}, key=world.partner_key))["data"]["node"] == {
        "email": "a@example.com"
    }
    assert (await gql(query, {"id": invitation_id}, key=world.other_key))["data"]["node"] is None
    assert (await gql(query, {"id": invitation_id}))["data"]["node"] is None


async def test_list_pages_and_filters_by_effective_status(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, *(invitee(f"v{i}@example.com") for i in range(5)))
    await Invitation.filter(email_normalised="v1@example.com").update(
        expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    )
    await Invitation.filter(email_normalised="v2@example.com").update(status=InvitationStatus.EXPIRED)
    await Invitation.filter(email_normalised="v3@example.com").update(status=InvitationStatus.SENT)
    expired = await gql(LIST, {"slug": "aral-week", "status": "EXPIRED"}, key=world.host_key)
    nodes = [edge["node"] for edge in expired["data"]["exchange"]["invitations"]["edges"]]
    assert nodes == [
        {"email": "v1@example.com", "status": "EXPIRED"},
        {"email": "v2@example.com", "status": "EXPIRED"},
    ]
    queued = await gql(LIST, {"slug": "aral-week", "status": "QUEUED"}, key=world.host_key)
    assert [e["node"]["email"] for e in queued["data"]["exchange"]["invitations"]["edges"]] == [
        "v0@example.com",
        "v4@example.com",
    ]
    first = await gql(LIST, {"slug": "aral-week", "first": 2}, key=world.host_key)
    connection = first["data"]["exchange"]["invitations"]
    assert connection["totalCount"] == 5 and connection["pageInfo"]["hasNextPage"] is True
    rest = await gql(
        LIST,
        {"slug": "aral-week", "first": 10, "after": connection["pageInfo"]["endCursor"]},
        key=world.host_key,
    )
    assert [e["node"]["email"] for e in rest["data"]["exchange"]["invitations"]["edges"]] == [
        "v2@example.com",
        "v3@example.com",
        "v4@example.com",
    ]
