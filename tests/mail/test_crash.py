"""A dispatcher that dies mid-batch loses no mail and repeats at most the one in flight
(with the same Message-ID); two dispatchers at once send every mail exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from exchange.mail.dispatcher import Dispatcher
from exchange.mail.outbox import enqueue_many
from exchange.models import Invitation, InvitationStatus, MailKind, MailStatus, OutboxMail
from tests.mail.conftest import RecordingBus, SmtpServer, mail_settings, make_invitation, make_world

REPO = Path(__file__).resolve().parents[2]


async def queue_invitations(settings, count: int) -> list[OutboxMail]:  # type: ignore[no-untyped-def]
    host, exchange, _ = await make_world()
    invitations = [
        await make_invitation(exchange, host, settings, email=f"v{index:03d}@example.org", locale="en")
        for index in range(count)
    ]
    await enqueue_many(MailKind.INVITATION, invitations, settings=settings)
    return list(await OutboxMail.all().order_by("id"))


async def deliver_rest(settings, deadline_seconds: float = 30.0) -> Dispatcher:  # type: ignore[no-untyped-def]
    """A fresh dispatcher works until the outbox is empty (waiting out the dead one's lease)."""
    dispatcher = Dispatcher(settings, name="successor")
    deadline = time.monotonic() + deadline_seconds
    while await OutboxMail.filter(status=MailStatus.PENDING).exists():
        assert time.monotonic() < deadline, "the outbox never emptied"
        if await dispatcher.run_once() == 0:
            await asyncio.sleep(0.1)
    return dispatcher


def assert_each_delivered(
    smtp: SmtpServer, rows: list[OutboxMail], in_flight: OutboxMail, connections: int = 1
) -> None:
    """No mail lost; repeated at most the mail in flight on each of the dead dispatcher's
    connections (one per batch it was sending), and the one the server held is among them."""
    counts = Counter(m.message_id for m in smtp.handler.messages())
    assert set(counts) == {row.message_id for row in rows}, "a mail was lost"
    twice = {mid for mid, n in counts.items() if n > 1}
    assert all(n <= 2 for n in counts.values())
    assert counts[in_flight.message_id] == 2
    assert len(twice) <= connections


async def test_cancelled_mid_batch_then_restarted(
    database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    settings = mail_settings(database, tmp_path, smtp)
    rows = await queue_invitations(settings, 6)
    smtp.handler.hold_at = 3
    first = Dispatcher(settings, name="first", lease_seconds=1.0)
    task = asyncio.create_task(first.run_once())
    # The server has stored the third mail but not yet said 250: the dispatcher waits.
    assert await asyncio.to_thread(smtp.handler.holding.wait, 30)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    smtp.handler.release.set()

    states = [(await OutboxMail.get(id=row.id)).status for row in rows]
    assert states == [MailStatus.SENT] * 2 + [MailStatus.PENDING] * 4

    await deliver_rest(settings)
    assert_each_delivered(smtp, rows, in_flight=rows[2])
    assert Counter(m.message_id for m in smtp.handler.messages())[rows[2].message_id] == 2
    assert await Invitation.filter(status=InvitationStatus.SENT).count() == 6
    # The in-flight mail's invitation counted one delivery: only the recorded send counts.
    assert await Invitation.filter(delivery_attempts=1).count() == 6


@pytest.mark.slow
async def test_killed_worker_process_then_restarted(
    database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    settings = mail_settings(database, tmp_path, smtp, mail_batch_size=10)
    rows = await queue_invitations(settings, 25)
    smtp.handler.hold_at = 14  # the 14th mail the server stores
    env = {
        **os.environ,
        "EXCHANGE_DATABASE_URL": settings.database_url,
        "EXCHANGE_SMTP_HOST": "127.0.0.1",
        "EXCHANGE_SMTP_PORT": str(smtp.port),
        "EXCHANGE_PUBLIC_URL": settings.public_url,
        "EXCHANGE_SECRET_KEY": settings.secret_key or "",
        "EXCHANGE_MAIL_BATCH_SIZE": "10",
        "EXCHANGE_MAIL_POLL_SECONDS": "0.1",
    }
    script = (
        "import asyncio\n"
        "from exchange import db\n"
        "from exchange.mail.dispatcher import Dispatcher\n"
        "from exchange.settings import Settings\n"
        "async def main():\n"
        "    settings = Settings(_env_file=None)\n"
        "    await db.init_db(settings)\n"
        "    await Dispatcher(settings, name='doomed', lease_seconds=1.0).run()\n"
        "asyncio.run(main())\n"
    )
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", script, cwd=REPO, env=env)
    try:
        assert await asyncio.to_thread(smtp.handler.holding.wait, 60), "the worker never got going"
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    smtp.handler.release.set()
    assert process.returncode == -signal.SIGKILL

    # The worker sends two batches at once (its default): up to two mails were in flight.
    received_before = len(smtp.handler.messages())
    sent_before = await OutboxMail.filter(status=MailStatus.SENT).count()
    assert received_before - 2 <= sent_before < received_before
    held = next(r for r in rows if r.message_id == smtp.handler.messages()[13].message_id)
    await deliver_rest(settings)
    assert_each_delivered(smtp, rows, in_flight=held, connections=2)
    assert await Invitation.filter(status=InvitationStatus.SENT).count() == 25


async def test_two_dispatchers_at_once_send_each_mail_once(
    database: str, tmp_path: Path, smtp: SmtpServer, bus: RecordingBus
) -> None:
    settings = mail_settings(database, tmp_path, smtp, mail_poll_seconds=0.05)
    rows = await queue_invitations(settings, 60)
    dispatchers = [Dispatcher(settings, name=f"d{i}", batch_size=7) for i in range(2)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(d.run(stop)) for d in dispatchers]
    try:
        deadline = time.monotonic() + 60
        while await OutboxMail.filter(status=MailStatus.PENDING).exists():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    counts = Counter(m.message_id for m in smtp.handler.messages())
    assert sorted(counts) == sorted(row.message_id for row in rows)
    assert set(counts.values()) == {1}
    assert sum(d.stats.sent for d in dispatchers) == 60
    assert sum(d.stats.claimed for d in dispatchers) == 60
    assert await Invitation.filter(status=InvitationStatus.SENT, delivery_attempts=1).count() == 60
