"""updateSession and cancelSession: validation, who may, and mail to accepted invitees."""

from __future__ import annotations

from typing import Any

import httpx

from exchange.models import MailKind, OutboxMail, Session
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, respond, token_for_email

UPDATE = """mutation($id: ID!, $input: UpdateSessionInput!) { updateSession(id: $id, input: $input) {
  session { id startsAt endsAt venue } userErrors { field message code } } }"""
CANCEL = (
    """mutation($id: ID!) { cancelSession(id: $id) { session { id } userErrors { field message code } } }"""
)


async def _accepted(gql: GraphQLClient, world: World, email: str, **extra: Any) -> None:
    await invite(gql, world, invitee(email), **extra)
    assert (await respond(gql, await token_for_email(email, world.settings), "ACCEPT"))["userErrors"] == []


async def _setup(gql: GraphQLClient, world: World) -> None:
    # whole@ is invited to the whole exchange, first@ to session 0, second@ to session 1,
    # pending@ has not answered, declined@ said no.
    await _accepted(gql, world, "whole@example.com")
    await _accepted(gql, world, "first@example.com", sessionIds=[world.session_id(0)])
    await _accepted(gql, world, "second@example.com", sessionIds=[world.session_id(1)])
    await invite(gql, world, invitee("pending@example.com"))
    await invite(gql, world, invitee("declined@example.com"))
    await respond(gql, await token_for_email("declined@example.com", world.settings), "DECLINE")


async def _mails(kind: MailKind) -> list[tuple[str, dict[str, object]]]:
    return sorted((m.recipient, m.payload) for m in await OutboxMail.filter(kind=kind))


async def test_moving_a_session_mails_its_accepted_invitees(gql: GraphQLClient, world: World) -> None:
    await _setup(gql, world)
    result = await gql(
        UPDATE,
        {"id": world.session_id(0), "input": {"startsAt": "2027-05-10T10:00:00+05:00", "venue": "Town hall"}},
        key=world.host_key,
    )
    payload = result["data"]["updateSession"]
    assert payload["userErrors"] == []
    assert payload["session"]["startsAt"] == "2027-05-10T05:00:00+00:00"
    assert payload["session"]["venue"] == "Town hall"
    session = await Session.get(id=world.sessions[0].id)
    assert session.sequence == 1
    sid = world.sessions[0].id
    assert await _mails(MailKind.UPDATE) == [
        ("first@example.com", {"session_ids": [sid]}),
        ("whole@example.com", {"session_ids": [sid]}),
    ]


async def test_a_title_change_is_not_a_calendar_change(gql: GraphQLClient, world: World) -> None:
    await _setup(gql, world)
    result = await gql(
        UPDATE,
        {"id": world.session_id(0), "input": {"titles": [{"locale": "en", "text": "Welcome"}]}},
        key=world.host_key,
    )
    assert result["data"]["updateSession"]["userErrors"] == []
    assert (await Session.get(id=world.sessions[0].id)).sequence == 0
    assert await _mails(MailKind.UPDATE) == []


async def test_update_is_validated_like_add_session(gql: GraphQLClient, world: World) -> None:
    cases = [
        ({"endsAt": "2027-05-10T08:00:00+05:00"}, ["endsAt"]),  # before it starts (09:00 local)
        ({"startsAt": "2027-05-09T23:00:00+05:00"}, ["startsAt"]),  # before the exchange opens
        ({"endsAt": "2027-05-17T00:30:00+05:00"}, ["endsAt"]),  # after it closes
        ({"venue": "x" * 301}, ["venue"]),
        ({"onlineUrl": "ftp://example.com"}, ["onlineUrl"]),
    ]
    for changes, field in cases:
        result = await gql(UPDATE, {"id": world.session_id(0), "input": changes}, key=world.host_key)
        errors = result["data"]["updateSession"]["userErrors"]
        assert [e["field"] for e in errors] == [field], changes
        assert errors[0]["code"] == "INVALID"
    session = await Session.get(id=world.sessions[0].id)
    assert session.venue == "Aralsk museum" and session.sequence == 0


async def test_cancel_session_mails_cancellations(gql: GraphQLClient, world: World) -> None:
    await _setup(gql, world)
    result = await gql(CANCEL, {"id": world.session_id(1)}, key=world.host_key)
    assert result["data"]["cancelSession"]["userErrors"] == []
    session = await Session.get(id=world.sessions[1].id)
    assert session.cancelled_at is not None and session.sequence == 1
    sid = world.sessions[1].id
    assert await _mails(MailKind.CANCELLATION) == [
        ("second@example.com", {"session_ids": [sid]}),
        ("whole@example.com", {"session_ids": [sid]}),
    ]
    again = await gql(CANCEL, {"id": world.session_id(1)}, key=world.host_key)
    assert again["data"]["cancelSession"]["userErrors"][0]["code"] == "INVALID"
    moved = await gql(
        UPDATE, {"id": world.session_id(1), "input": {"venue": "Elsewhere"}}, key=world.host_key
    )
    assert moved["data"]["updateSession"]["userErrors"][0]["code"] == "INVALID"
    assert await OutboxMail.filter(kind=MailKind.CANCELLATION).count() == 2


async def test_only_the_host_or_an_admin_changes_sessions(gql: GraphQLClient, world: World) -> None:
    variables = {"id": world.session_id(0), "input": {"venue": "Elsewhere"}}
    assert (await gql(UPDATE, variables))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for key in (world.partner_key, world.other_key, world.read_only_key):
        assert (await gql(UPDATE, variables, key=key))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        refused = await gql(CANCEL, {"id": world.session_id(0)}, key=key)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await Session.get(id=world.sessions[0].id)).cancelled_at is None
    by_admin = await gql(UPDATE, variables, key=world.admin_key)
    assert by_admin["data"]["updateSession"]["session"]["venue"] == "Elsewhere"
    unknown = await gql(CANCEL, {"id": "U2Vzc2lvbjo5OTk"}, key=world.host_key)
    assert unknown["data"]["cancelSession"]["userErrors"][0] == {
        "field": ["id"],
        "message": "Session not found.",
        "code": "NOT_FOUND",
    }


async def test_a_cancelled_session_stays_on_the_invitation_marked(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    # Only session 1 was invited: dropping it from the list would read as "the whole exchange".
    await _accepted(gql, world, "second@example.com", sessionIds=[world.session_id(1)])
    token = await token_for_email("second@example.com", world.settings)
    assert (await gql(CANCEL, {"id": world.session_id(1)}, key=world.host_key))["data"]["cancelSession"][
        "userErrors"
    ] == []
    organisers = await gql(
        """query($slug: String!) { exchange(slug: $slug) {
             sessions { id cancelledAt }
             invitations { edges { node { sessions { id cancelledAt } } } } } }""",
        {"slug": world.exchange.slug},
        key=world.host_key,
    )
    exchange = organisers["data"]["exchange"]
    assert exchange["sessions"] == [{"id": world.session_id(0), "cancelledAt": None}]
    [invited] = exchange["invitations"]["edges"][0]["node"]["sessions"]
    assert invited["id"] == world.session_id(1) and invited["cancelledAt"] is not None
    preview = await gql(
        "query($token: String!) { invitation(token: $token) { sessions { id cancelledAt } } }",
        {"token": token},
    )
    assert preview["data"]["invitation"]["sessions"] == [invited]
    node = await gql(
        "query($id: ID!) { node(id: $id) { ... on Session { cancelledAt } } }", {"id": world.session_id(0)}
    )
    assert node["data"]["node"] == {"cancelledAt": None}
    page = await http.get(f"/invitations/{token}?lang=en")
    assert 'Planting day</strong> <span class="cancelled-label">cancelled</span>' in page.text
