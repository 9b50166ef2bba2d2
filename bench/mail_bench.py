"""Mail delivery benchmark: 1,000 invitations through the outbox to a local SMTP server.

    python -m bench.mail_bench                      # SQLite in a temporary directory
    python -m bench.mail_bench --postgres           # a scratch database on local PostgreSQL
    python -m bench.mail_bench --count 5000 --batch-size 200

Writes an exchange (two sessions) and N invitations with their INVITATION outbox rows,
starts aiosmtpd on a free port, runs one dispatcher until every row is SENT, and prints
the time to deliver all of them, invitations per second, and the SMTP connections opened
(the dispatcher reuses one per batch). Target: 1,000 in under 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
from aiosmtpd.controller import Controller

from bench.servers import free_port
from exchange import db
from exchange.invitations import tokens
from exchange.mail.dispatcher import Dispatcher
from exchange.mail.outbox import enqueue_many
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    MailKind,
    MailStatus,
    Organisation,
    OrganisationKind,
    OutboxMail,
    Session,
    SessionFormat,
    Theme,
)
from exchange.settings import Settings

POSTGRES = os.environ.get("EXCHANGE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
LOCALES = ("kk", "ru", "en")


class CountingHandler:
    """Writes "<connection> <Message-ID>" per accepted message to a file (the server runs in
    its own process, as a real mail server would, so it does not share our interpreter)."""

    def __init__(self, log_path: str) -> None:
        self.log = open(log_path, "a", buffering=1, encoding="ascii")
        self.sessions: dict[int, Any] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        header_block = bytes(envelope.content).split(b"\r\n\r\n", 1)[0]
        message_id = next(
            (
                line.split(b":", 1)[1].strip().decode()
                for line in header_block.split(b"\r\n")
                if line.lower().startswith(b"message-id:")
            ),
            "?",
        )
        self.sessions.setdefault(id(session), session)
        connection = list(self.sessions).index(id(session))
        self.log.write(f"{connection} {message_id} {time.time():.6f}\n")
        return "250 OK"


def serve_smtp(port: int, log_path: str, ready: Any, stop: Any) -> None:
    controller = Controller(CountingHandler(log_path), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def read_log(log_path: Path) -> list[tuple[str, str, float]]:
    rows = []
    for line in log_path.read_text(encoding="ascii").splitlines():
        connection, message_id, at = line.split(" ")
        rows.append((connection, message_id, float(at)))
    return rows


async def seed(count: int, settings: Settings) -> None:
    host = await Organisation.create(
        slug="bench-host",
        names={"kk": "Бенч қоры", "ru": "Фонд «Бенч»", "en": "Bench Foundation"},
        kind=OrganisationKind.NGO,
        country="KZ",
        contact_email="hello@bench.test",
    )
    exchange = await Exchange.create(
        slug="bench-week",
        titles={"kk": "Бенч апталығы", "ru": "Неделя бенча", "en": "Bench Week"},
        descriptions={"en": "A week of measuring."},
        theme=Theme.EDUCATION,
        status=ExchangeStatus.OPEN,
        host=host,
        country="KZ",
        city="Almaty",
        starts_on=dt.date(2027, 5, 10),
        ends_on=dt.date(2027, 5, 14),
        time_zone="Asia/Almaty",
        languages=list(LOCALES),
    )
    start = dt.datetime(2027, 5, 11, 4, 0, tzinfo=dt.UTC)
    sessions = [
        await Session.create(
            exchange=exchange,
            titles={"en": f"Session {i + 1}"},
            starts_at=start + dt.timedelta(days=i),
            ends_at=start + dt.timedelta(days=i, hours=3),
            format=SessionFormat.IN_PERSON,
            venue="Hall A",
        )
        for i in range(2)
    ]
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    rows = []
    for index in range(count):
        nonce = tokens.new_nonce()
        email = f"volunteer{index:05d}@bench.test"
        rows.append(
            Invitation(
                exchange=exchange,
                invited_by=host,
                email=email,
                email_normalised=email,
                full_name=f"Волонтёр {index}",
                country="KZ",
                locale=LOCALES[index % 3],
                status=InvitationStatus.QUEUED,
                token_nonce=nonce,
                token_hash=tokens.token_hash(tokens.token_for(nonce, settings.signing_key)),
                message="Күтеміз! We look forward to seeing you.",
                expires_at=expires,
            )
        )
    await Invitation.bulk_create(rows, batch_size=500)
    invitations = list(await Invitation.all().order_by("id"))
    session_links = [(invitation, session) for invitation in invitations for session in sessions]
    through = Invitation._meta.fields_map["sessions"].through  # type: ignore[attr-defined]
    from tortoise import connections

    conn = connections.get("default")
    placeholder = "$1, $2" if conn.capabilities.dialect == "postgres" else "?, ?"
    await conn.execute_many(
        f'INSERT INTO "{through}" ("invitation_id", "session_id") VALUES ({placeholder})',
        [[invitation.id, session.id] for invitation, session in session_links],
    )
    await enqueue_many(MailKind.INVITATION, invitations, settings=settings)


async def scratch_postgres() -> str:
    name = f"exchange_mail_bench_{os.getpid()}"
    conn = await asyncpg.connect(POSTGRES)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return POSTGRES.rsplit("/", 1)[0] + "/" + name


async def drop_postgres(url: str) -> None:
    conn = await asyncpg.connect(POSTGRES)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


async def run(
    count: int, batch_size: int, concurrency: int, use_postgres: bool, workdir: Path
) -> dict[str, Any]:
    database_url = await scratch_postgres() if use_postgres else f"sqlite://{workdir / 'bench.sqlite3'}"
    port = free_port()
    log_path = workdir / "smtp.log"
    context = multiprocessing.get_context("spawn")
    ready, stop_server = context.Event(), context.Event()
    server = context.Process(target=serve_smtp, args=(port, str(log_path), ready, stop_server), daemon=True)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        public_url="https://bench.test",
        secret_key="bench-secret-key-0123456789abcdef0123",
        smtp_host="127.0.0.1",
        smtp_port=port,
        mail_batch_size=batch_size,
        mail_poll_seconds=0.05,
        mail_from="Еріктілер алмасуы <no-reply@bench.test>",
    )
    await db.init_db(settings)
    try:
        await db.migrate()
        seed_started = time.perf_counter()
        await seed(count, settings)
        seed_seconds = time.perf_counter() - seed_started
        server.start()
        if not await asyncio.to_thread(ready.wait, 30):
            raise RuntimeError("the SMTP server did not start")
        dispatcher = Dispatcher(settings, name="bench", concurrency=concurrency)
        stop = asyncio.Event()
        started_wall = time.time()
        started_cpu = time.process_time()
        started = time.perf_counter()
        task = asyncio.create_task(dispatcher.run(stop))
        while await OutboxMail.filter(status=MailStatus.PENDING).exists():
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        recorded = time.perf_counter() - started
        cpu = time.process_time() - started_cpu
        stop.set()
        await task
        received = read_log(log_path)
        delivered = len(received)
        received_seconds = max(at for _, _, at in received) - started_wall
        duplicates = sum(n - 1 for n in Counter(mid for _, mid, _ in received).values())
        sent_invitations = await Invitation.filter(status=InvitationStatus.SENT).count()
        return {
            "database": "postgres" if use_postgres else "sqlite",
            "invitations": count,
            "batch_size": batch_size,
            "concurrent_batches": concurrency,
            "seed_seconds": seed_seconds,
            "delivered": delivered,
            "duplicates": duplicates,
            "invitations_sent_status": sent_invitations,
            "seconds_until_received": received_seconds,
            "seconds_until_recorded": recorded,
            "invitations_per_second": count / recorded,
            "dispatcher_cpu_seconds": cpu,
            "load_average_1min": os.getloadavg()[0],
            "smtp_connections_server": len({connection for connection, _, _ in received}),
            "smtp_connections_dispatcher": dispatcher.stats.connections_opened,
            "batches": dispatcher.stats.batches,
        }
    finally:
        stop_server.set()
        if server.pid is not None:
            await asyncio.to_thread(server.join, 10)
        await db.close_db()
        if use_postgres:
            await drop_postgres(database_url)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=2, help="batches in flight at once")
    parser.add_argument("--postgres", action="store_true", help="use a scratch database on local PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        result = asyncio.run(run(args.count, args.batch_size, args.concurrency, args.postgres, Path(workdir)))
    width = max(len(key) for key in result)
    for key, value in result.items():
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        print(f"{key.ljust(width)}  {shown}")
    ok = result["delivered"] == args.count and result["duplicates"] == 0
    target = result["seconds_until_recorded"] < 10.0 if args.count <= 1000 else True
    print(f"{'result'.ljust(width)}  {'OK' if ok and target else 'BELOW TARGET'} (target: 1,000 in < 10 s)")


if __name__ == "__main__":
    main()
