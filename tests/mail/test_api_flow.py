"""End to end through the API: organisers invite over GraphQL, the dispatcher delivers to a
real SMTP server, organisers read status, deliveryAttempts and lastError over GraphQL, and
the link in the received mail answers the invitation."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from exchange.mail.dispatcher import Dispatcher
from exchange.mail.outbox import enqueue
from exchange.models import Invitation, MailKind, MailStatus, OutboxMail
from exchange.settings import Settings
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, respond
from tests.invitations.conftest import world as invitation_world  # noqa: F401  (a fixture)
from tests.mail.conftest import PUBLIC_URL, RecordingBus, SmtpServer, mail_settings

STATUS = """
query($id: ID!) {
  node(id: $id) { ... on Invitation { status deliveryAttempts lastError sentAt email } }
}
"""


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp: SmtpServer) -> Settings:
    return mail_settings(database_url, tmp_path, smtp)


async def status_of(gql: GraphQLClient, world: World, invitation_id: str) -> dict[str, Any]:
    result = await gql(STATUS, {"id": invitation_id}, key=world.host_key)
    assert "errors" not in result, result
    node: dict[str, Any] = result["data"]["node"]
    return node


async def test_invite_deliver_read_status_and_answer(
    gql: GraphQLClient,
    invitation_world: World,  # noqa: F811  (the fixture imported above)
    settings: Settings,
    smtp: SmtpServer,
    bus: RecordingBus,
) -> None:
    world = invitation_world
    smtp.handler.refuse_rcpt["gone@example.org"] = "550 5.1.1 <gone@example.org>: user unknown"
    smtp.handler.data_replies.append("451 4.3.0 Try again later")
    payload = await invite(
        gql,
        world,
        invitee("greylisted@example.kz", "Асқар Бекұлы", "KZ", locale="kk"),
        invitee("gone@example.org", "Nobody Here", "DE", locale="en"),
        invitee("olga@example.ru", "Ольга Смирнова", "RU", locale="ru"),
        sessionIds=[world.session_id(0)],
        message="Ждём вас!",
    )
    assert payload["userErrors"] == []
    greylisted, gone, olga = (i["id"] for i in payload["invitations"])

    dispatcher = Dispatcher(settings)
    await dispatcher.run_once()
    assert (await status_of(gql, world, greylisted))["status"] == "QUEUED"
    assert "451" in (await status_of(gql, world, greylisted))["lastError"]
    failed = await status_of(gql, world, gone)
    assert failed["status"] == "FAILED" and failed["deliveryAttempts"] == 1
    assert failed["lastError"].startswith("550 5.1.1")
    assert (await status_of(gql, world, olga))["status"] == "SENT"

    await OutboxMail.filter(status=MailStatus.PENDING).update(next_attempt_at=dt.datetime.now(dt.UTC))
    await dispatcher.run_once()
    delivered = await status_of(gql, world, greylisted)
    assert delivered["status"] == "SENT" and delivered["deliveryAttempts"] == 2
    assert delivered["lastError"] is None and delivered["sentAt"] is not None

    received = {m.rcpt_tos[0]: m.message for m in smtp.handler.messages()}
    assert sorted(received) == ["greylisted@example.kz", "olga@example.ru"]
    kazakh = received["greylisted@example.kz"]
    assert kazakh["Content-Language"] == "kk"
    text = kazakh.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Ашылу" in text and "Ждём вас!" in text
    [token] = set(re.findall(re.escape(PUBLIC_URL) + r"/invitations/([A-Za-z0-9_-]+)", text))

    answered = await respond(gql, token, "ACCEPT")
    assert answered["userErrors"] == [] and answered["invitation"]["status"] == "ACCEPTED"

    # A reminder queued before the answer is not sent after it.
    invitation = await Invitation.get(email_normalised="greylisted@example.kz")
    await enqueue(MailKind.REMINDER, invitation, settings=settings)
    await dispatcher.run_once()
    assert len(smtp.handler.messages()) == 2
    assert (await status_of(gql, world, greylisted))["status"] == "ACCEPTED"
