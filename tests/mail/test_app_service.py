"""The web process runs the dispatcher in its lifespan when EXCHANGE_RUN_MAIL_DISPATCHER
is on (the default), and stops it on shutdown."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from asgi_lifespan import LifespanManager

from exchange.app import create_app
from exchange.mail.dispatcher import Dispatcher
from exchange.mail.outbox import enqueue
from exchange.models import Invitation, InvitationStatus, MailKind, MailStatus, OutboxMail
from tests.mail.conftest import SmtpServer, mail_settings, make_invitation, make_world


async def test_app_lifespan_runs_the_dispatcher(
    sqlite_database_url: str, tmp_path: Path, smtp: SmtpServer
) -> None:
    settings = mail_settings(
        sqlite_database_url, tmp_path, smtp, run_mail_dispatcher=True, mail_poll_seconds=0.05
    )
    application = create_app(settings)
    async with LifespanManager(application):
        dispatcher = application.state.exchange.services["mail_dispatcher"]
        assert isinstance(dispatcher, Dispatcher)
        host, exchange, _ = await make_world()
        invitation = await make_invitation(exchange, host, settings)
        row = await enqueue(MailKind.INVITATION, invitation, settings=settings)
        deadline = time.monotonic() + 20
        while (await OutboxMail.get(id=row.id)).status is MailStatus.PENDING:
            assert time.monotonic() < deadline, "the app's dispatcher never sent the mail"
            await asyncio.sleep(0.05)
        assert (await Invitation.get(id=invitation.id)).status is InvitationStatus.SENT
    assert [m.message_id for m in smtp.handler.messages()] == [row.message_id]


def test_dispatcher_is_not_started_when_switched_off(sqlite_database_url: str, tmp_path: Path) -> None:
    from exchange.app import background_services
    from exchange.mail.dispatcher import start_service

    on = mail_settings(sqlite_database_url, tmp_path, None, run_mail_dispatcher=True)
    off = mail_settings(sqlite_database_url, tmp_path, None, run_mail_dispatcher=False)
    assert start_service in background_services(on)
    assert start_service not in background_services(off)
