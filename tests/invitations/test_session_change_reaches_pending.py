"""A moved or cancelled session reaches every invitee whose calendar holds it: those who
accepted and those who were mailed the invitation and have not answered yet (SENT, not
expired), each in their language, with the entry's UID and a higher SEQUENCE. Not a
QUEUED invitation (its mail, not yet sent, is rendered with the new time), nor a declined,
revoked or expired one."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.message import Message
from email.policy import SMTP

from icalendar import Calendar

from exchange.mail.dispatcher import Dispatcher
from exchange.mail.transport import FileTransport
from exchange.models import Invitation, InvitationStatus, MailKind, MailStatus, OutboxMail
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, respond, token_for_email

UPDATE = """mutation($id: ID!, $input: UpdateSessionInput!) { updateSession(id: $id, input: $input) {
  session { id } userErrors { field message code } } }"""
CANCEL = """mutation($id: ID!) { cancelSession(id: $id) { session { id } userErrors { code } } }"""
REVOKE = """mutation($id: ID!) { revokeInvitation(id: $id) { invitation { status } userErrors { code } } }"""


async def _delivered(world: World, kind: MailKind) -> dict[str, Message]:
    """Runs the dispatcher; the mails of ``kind`` it wrote, by recipient."""
    await Dispatcher(world.settings).run_once()
    files = FileTransport(world.settings.mail_dir)
    mails = await OutboxMail.filter(kind=kind)
    assert {m.status for m in mails} <= {MailStatus.SENT}, [(m.recipient, m.last_error) for m in mails]
    return {
        m.recipient: message_from_bytes(files.path_for(m.message_id).read_bytes(), policy=SMTP) for m in mails
    }


def _events(message: Message) -> dict[str, object]:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    if not parts:
        return {}
    [part] = parts
    return {str(e["UID"]): e for e in Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")}


async def _invite_everyone(gql: GraphQLClient, world: World) -> None:
    first = [world.session_id(0)]
    await invite(gql, world, invitee("accepted@example.com", locale="en"), sessionIds=first)
    await invite(gql, world, invitee("waiting-kk@example.com", locale="kk"), sessionIds=first)
    await invite(gql, world, invitee("waiting-ru-whole@example.com", locale="ru"))
    await invite(gql, world, invitee("waiting-other@example.com"), sessionIds=[world.session_id(1)])
    await invite(gql, world, invitee("expired@example.com"), sessionIds=first)
    await invite(gql, world, invitee("declined@example.com"), sessionIds=first)
    revoked = await invite(gql, world, invitee("revoked@example.com"), sessionIds=first)
    # Every invitation mail goes out: QUEUED -> SENT.
    await _delivered(world, MailKind.INVITATION)
    assert (await respond(gql, await token_for_email("accepted@example.com", world.settings), "ACCEPT"))[
        "userErrors"
    ] == []
    assert (await respond(gql, await token_for_email("declined@example.com", world.settings), "DECLINE"))[
        "userErrors"
    ] == []
    await gql(REVOKE, {"id": revoked["invitations"][0]["id"]}, key=world.host_key)
    # Past its expiry, though the sweep has not stored EXPIRED yet.
    await Invitation.filter(email="expired@example.com").update(
        expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    )
    # Invited after the mails went out: still QUEUED.
    await invite(gql, world, invitee("queued@example.com"), sessionIds=first)
    statuses = {i.email: i.status for i in await Invitation.all()}
    assert statuses["waiting-kk@example.com"] is InvitationStatus.SENT
    assert statuses["queued@example.com"] is InvitationStatus.QUEUED


async def test_a_moved_session_reaches_invitees_who_have_not_answered(
    gql: GraphQLClient, world: World
) -> None:
    await _invite_everyone(gql, world)
    invitations = {i.email: i for i in await Invitation.all()}
    sent_before = {
        m.recipient: m for m in await OutboxMail.filter(kind=MailKind.INVITATION, status=MailStatus.SENT)
    }
    files = FileTransport(world.settings.mail_dir)
    invited_entry = _events(
        message_from_bytes(
            files.path_for(sent_before["waiting-kk@example.com"].message_id).read_bytes(), policy=SMTP
        )
    )

    moved = await gql(
        UPDATE,
        {
            "id": world.session_id(0),
            "input": {"startsAt": "2027-05-10T13:00:00+05:00", "endsAt": "2027-05-10T15:00:00+05:00"},
        },
        key=world.host_key,
    )
    assert moved["data"]["updateSession"]["userErrors"] == []
    updates = await _delivered(world, MailKind.UPDATE)
    assert sorted(updates) == [
        "accepted@example.com",
        "waiting-kk@example.com",
        "waiting-ru-whole@example.com",
    ]

    # In the invitee's language, replacing the entry the invitation mail created.
    kazakh = updates["waiting-kk@example.com"]
    assert kazakh["Content-Language"] == "kk"
    uid = (
        f"session-{world.sessions[0].id}-invitation-{invitations['waiting-kk@example.com'].id}@exchange.test"
    )
    [(mailed_uid, before)] = invited_entry.items()
    [(updated_uid, after)] = _events(kazakh).items()
    assert mailed_uid == updated_uid == uid
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1  # type: ignore[index]
    assert after.decoded("DTSTART").hour == 13  # type: ignore[attr-defined]
    text = kazakh.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "13:00" in text and "Ашылу" in text
    # The whole-exchange invitee is told in Russian; their calendar holds no session entry.
    russian = updates["waiting-ru-whole@example.com"]
    assert russian["Content-Language"] == "ru" and _events(russian) == {}
    assert updates["accepted@example.com"]["Content-Language"] == "en"

    cancelled = await gql(CANCEL, {"id": world.session_id(0)}, key=world.host_key)
    assert cancelled["data"]["cancelSession"]["userErrors"] == []
    cancellations = await _delivered(world, MailKind.CANCELLATION)
    # revoked@ had its own cancellation when it was revoked. queued@'s invitation mail went
    # out with the dispatch above (SENT now, the moved time in its calendar): told too.
    by_session = {
        m.recipient
        for m in await OutboxMail.filter(kind=MailKind.CANCELLATION)
        if m.payload.get("session_ids") == [world.sessions[0].id]
    }
    assert by_session == {*updates, "queued@example.com"}
    [(_, gone)] = _events(cancellations["waiting-kk@example.com"]).items()
    assert str(gone["STATUS"]) == "CANCELLED" and int(gone["SEQUENCE"]) == int(before["SEQUENCE"]) + 2  # type: ignore[index]
