"""An exchange called off: every invitee who accepted gets a cancellation (calendar CANCEL
with a higher SEQUENCE), in the invitee's language; invitees who have not answered get none."""

from __future__ import annotations

from email.message import EmailMessage

from icalendar import Calendar

from exchange.mail.render import render
from exchange.models import Invitation, MailKind, OutboxMail
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, respond, token_for_email

UPDATE = """
mutation($id: ID!, $input: UpdateExchangeInput!) {
  updateExchange(id: $id, input: $input) { exchange { status } userErrors { field message code } }
}
"""


async def test_accepted_invitees_hear_that_the_exchange_is_cancelled(
    gql: GraphQLClient, world: World
) -> None:
    await invite(
        gql,
        world,
        invitee("ana@example.com", "Ana", locale="ru"),
        invitee("bob@example.com", "Bob", locale="en"),
        sessionIds=[world.session_id(0)],
    )
    await invite(gql, world, invitee("cem@example.com", "Cem", locale="kk"))
    for email in ("ana@example.com", "cem@example.com"):
        result = await respond(gql, await token_for_email(email, world.settings), "ACCEPT")
        assert result["userErrors"] == []
    before = {i.email: i.calendar_sequence for i in await Invitation.all()}

    result = await gql(
        UPDATE, {"id": world.exchange_id, "input": {"status": "CANCELLED"}}, key=world.host_key
    )
    assert result["data"]["updateExchange"] == {"exchange": {"status": "CANCELLED"}, "userErrors": []}

    mails = await OutboxMail.filter(kind=MailKind.CANCELLATION).order_by("id")
    assert [m.recipient for m in mails] == ["ana@example.com", "cem@example.com"]  # not bob: no answer
    after = {i.email: i.calendar_sequence for i in await Invitation.all()}
    assert after == {**before, "ana@example.com": before["ana@example.com"] + 1, "cem@example.com": 1}

    messages = {m.recipient: await render(m, world.settings) for m in mails}
    ana = messages["ana@example.com"]
    assert isinstance(ana, EmailMessage)
    text = ana.get_body(preferencelist=("plain",))
    assert text is not None and "отменён" in text.get_content()
    for message in messages.values():
        calendars = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        assert len(calendars) == 1
        payload = calendars[0].get_payload(decode=True)
        assert isinstance(payload, bytes)
        calendar = Calendar.from_ical(payload)
        assert str(calendar["METHOD"]) == "CANCEL"
        events = calendar.walk("VEVENT")
        assert events and all(str(e["STATUS"]) == "CANCELLED" for e in events)
        assert all(int(str(e["SEQUENCE"])) >= 1 for e in events)


async def test_no_mail_when_nobody_accepted(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("ana@example.com", "Ana"))
    result = await gql(UPDATE, {"id": world.exchange_id, "input": {"status": "CLOSED"}}, key=world.host_key)
    assert result["data"]["updateExchange"]["userErrors"] == []
    result = await gql(
        UPDATE, {"id": world.exchange_id, "input": {"status": "CANCELLED"}}, key=world.host_key
    )
    assert result["data"]["updateExchange"]["userErrors"] == []
    assert not await OutboxMail.filter(kind=MailKind.CANCELLATION).exists()
