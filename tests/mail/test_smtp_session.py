"""The SMTP session itself: login when credentials are configured, a refused login is the
platform's problem (retry, never FAILED at once), and a long batch keeps its lease."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from exchange.mail.dispatcher import Dispatcher
from exchange.mail.outbox import enqueue, enqueue_many
from exchange.models import Invitation, InvitationStatus, MailKind, MailStatus, OutboxMail
from tests.mail.conftest import RecordingBus, SmtpServer, mail_settings, make_invitation, make_world


class Authenticator:
    def __init__(self) -> None:
        self.logins: list[tuple[str, str]] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=(login, password) == ("mailer", "s3cret"), handled=False)


@pytest.fixture
def authenticated_smtp() -> Iterator[tuple[SmtpServer, Authenticator]]:
    authenticator = Authenticator()
    # AUTH offered without TLS (a test on loopback); required or not, a refused login ends it.
    server = SmtpServer(authenticator=authenticator, auth_require_tls=False)
    server.start()
    yield server, authenticator
    server.stop()


async def test_logs_in_with_configured_credentials(
    sqlite_database: str,
    tmp_path: Path,
    authenticated_smtp: tuple[SmtpServer, Authenticator],
    bus: RecordingBus,
) -> None:
    server, authenticator = authenticated_smtp
    good = mail_settings(sqlite_database, tmp_path, server, smtp_username="mailer", smtp_password="s3cret")
    host, exchange, _ = await make_world()
    invitation = await make_invitation(exchange, host, good)
    row = await enqueue(MailKind.INVITATION, invitation, settings=good)

    wrong = mail_settings(sqlite_database, tmp_path, server, smtp_username="mailer", smtp_password="nope")
    await Dispatcher(wrong).run_once()
    await row.refresh_from_db()
    assert (
        row.status is MailStatus.PENDING and row.last_error is not None and row.last_error.startswith("535")
    )
    assert (await Invitation.get(id=invitation.id)).status is InvitationStatus.QUEUED

    await OutboxMail.filter(id=row.id).update(next_attempt_at=row.created_at)
    await Dispatcher(good).run_once()
    assert [m.message_id for m in server.handler.messages()] == [row.message_id]
    # The client may try more than one mechanism with the wrong password; then logs in.
    assert set(authenticator.logins[:-1]) == {("mailer", "nope")}
    assert authenticator.logins[-1] == ("mailer", "s3cret")


async def test_a_slow_batch_keeps_its_lease(
    database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    """The server stalls longer than the lease: the sending dispatcher renews it, so a
    second one finds nothing to take and nothing is sent twice."""
    settings = mail_settings(database, tmp_path, smtp)
    host, exchange, _ = await make_world()
    invitations = [
        await make_invitation(exchange, host, settings, email=f"v{i}@example.org") for i in range(3)
    ]
    await enqueue_many(MailKind.INVITATION, invitations, settings=settings)
    smtp.handler.hold_at = 1
    first = Dispatcher(settings, name="first", lease_seconds=0.6)
    task = asyncio.create_task(first.run_once())
    try:
        assert await asyncio.to_thread(smtp.handler.holding.wait, 30)
        await asyncio.sleep(2.0)  # more than three leases
        second = Dispatcher(settings, name="second", lease_seconds=0.6)
        assert await second.run_once() == 0
        smtp.handler.release.set()
        assert await task == 3
    finally:
        smtp.handler.release.set()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert sorted(m.rcpt_tos[0] for m in smtp.handler.messages()) == [f"v{i}@example.org" for i in range(3)]
    assert await OutboxMail.filter(status=MailStatus.SENT).count() == 3
