"""Mail test kit: a real SMTP server (aiosmtpd) on a free port that can refuse on demand,
an initialised database per test, records written straight to the models, and a bus that
remembers what was published."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bench.servers import free_port
from exchange import db
from exchange.events import InvitationEvent, set_bus
from exchange.invitations import tokens
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    Organisation,
    OrganisationKind,
    Session,
    SessionFormat,
    Theme,
)
from exchange.settings import Settings
from tests.conftest import make_settings

PUBLIC_URL = "https://exchange.test"
MAIL_FROM = "Еріктілер алмасуы <no-reply@exchange.test>"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    connection: int

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class SmtpRecorder:
    """aiosmtpd handler: records accepted messages; refusals and a pause can be scripted.
    Runs in the Controller's thread, so shared state sits behind a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.refuse_rcpt: dict[str, str] = {}
        self.data_replies: deque[str] = deque()
        self._connections: dict[int, Any] = {}
        # Pause after accepting (storing) message number ``hold_at``, before answering 250.
        self.hold_at: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()

    @property
    def connections(self) -> int:
        with self.lock:
            return len(self._connections)

    def _connection_of(self, session: Any) -> int:
        with self.lock:
            # Keep the session object alive so its id is never reused by another.
            self._connections.setdefault(id(session), session)
            return list(self._connections).index(id(session))

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        self._connection_of(session)
        with self.lock:
            refusal = self.refuse_rcpt.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            scripted = self.data_replies.popleft() if self.data_replies else None
        if scripted:
            return scripted
        connection = self._connection_of(session)
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content), connection)
            )
            count = len(self.received)
        if self.hold_at is not None and count == self.hold_at:
            self.holding.set()
            await asyncio.to_thread(self.release.wait, 60)
        return "250 2.0.0 Message accepted for delivery"

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.messages())} of {count} messages arrived")
            time.sleep(0.01)


class SmtpServer:
    def __init__(self, port: int | None = None, **controller_options: Any) -> None:
        self.port = port or free_port()
        self.handler = SmtpRecorder()
        self.controller: Controller | None = None
        self.options = controller_options

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.handler.release.set()
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down() -> Iterator[SmtpServer]:
    """A port where nothing listens yet; ``start()`` it during the test."""
    server = SmtpServer()
    yield server
    server.stop()


def mail_settings(
    database_url: str, tmp_path: Path, smtp: SmtpServer | None = None, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "public_url": PUBLIC_URL,
        "mail_from": MAIL_FROM,
        "secret_key": "mail-tests-secret-key-0123456789abcdef",
        "mail_retry_base_seconds": 0.001,
        "smtp_timeout_seconds": 5.0,
    }
    if smtp is not None:
        values.update(smtp_host="127.0.0.1", smtp_port=smtp.port)
    values.update(overrides)
    return make_settings(database_url, tmp_path, **values)


@pytest.fixture
async def database(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    await db.init_db(make_settings(database_url, tmp_path))
    try:
        yield database_url
    finally:
        await db.close_db()


@pytest.fixture
async def sqlite_database(sqlite_database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    await db.init_db(make_settings(sqlite_database_url, tmp_path))
    try:
        yield sqlite_database_url
    finally:
        await db.close_db()


@dataclass
class RecordingBus:
    events: list[InvitationEvent] = field(default_factory=list)
    hub: Any = None

    async def publish(self, event: InvitationEvent) -> None:
        self.events.append(event)

    async def subscribe(self) -> AsyncIterator[InvitationEvent]:  # pragma: no cover
        raise NotImplementedError
        yield

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


@pytest.fixture
def bus() -> Iterator[RecordingBus]:
    recording = RecordingBus()
    set_bus(recording)  # type: ignore[arg-type]
    yield recording
    set_bus(None)


# -- records --------------------------------------------------------------------------

ALMATY = dt.timezone(dt.timedelta(hours=5))


async def make_world(
    *,
    slug: str = "aral",
    host_names: dict[str, str] | None = None,
    contact_email: str | None = "hello@aral-fund.kz",
    titles: dict[str, str] | None = None,
    status: ExchangeStatus = ExchangeStatus.OPEN,
    sessions: int = 2,
) -> tuple[Organisation, Exchange, list[Session]]:
    host = await Organisation.create(
        slug=f"{slug}-fund",
        names=host_names or {"kk": "Арал қоры", "ru": "Фонд «Арал»", "en": "Aral Foundation"},
        kind=OrganisationKind.NGO,
        country="KZ",
        contact_email=contact_email,
    )
    partner = await Organisation.create(
        slug=f"{slug}-partner", names={"en": "Partner"}, kind=OrganisationKind.EDUCATION, country="DE"
    )
    exchange = await Exchange.create(
        slug=f"{slug}-week",
        titles=titles or {"kk": "Арал апталығы", "ru": "Неделя Арала", "en": "Aral Sea Week"},
        descriptions={
            "kk": "Аралда бірге сексеуіл егеміз.",
            "ru": "Вместе сажаем саксаул у Арала.",
            "en": "Planting saxaul together by the Aral Sea.",
        },
        theme=Theme.ECOLOGY,
        status=status,
        host=host,
        country="KZ",
        city="Aralsk",
        starts_on=dt.date(2027, 5, 10),
        ends_on=dt.date(2027, 5, 14),
        time_zone="Asia/Almaty",
        languages=["kk", "ru", "en"],
    )
    await exchange.partners.add(partner)
    made = []
    for index in range(sessions):
        start = dt.datetime(2027, 5, 11 + index, 9, 0, tzinfo=ALMATY)
        made.append(
            await Session.create(
                exchange=exchange,
                titles={
                    "kk": f"Отырғызу {index + 1}",
                    "ru": f"Посадка {index + 1}",
                    "en": f"Planting {index + 1}",
                },
                starts_at=start,
                ends_at=start + dt.timedelta(hours=3),
                format=SessionFormat.IN_PERSON if index % 2 == 0 else SessionFormat.ONLINE,
                venue="Aralsk, Abay St. 1" if index % 2 == 0 else None,
                online_url=None if index % 2 == 0 else "https://meet.example/aral",
            )
        )
    return host, exchange, made


async def make_invitation(
    exchange: Exchange,
    host: Organisation,
    settings: Settings,
    *,
    email: str = "aigerim@example.kz",
    full_name: str = "Әйгерім Серікқызы",
    locale: str = "kk",
    sessions: list[Session] | None = None,
    message: str | None = None,
    status: InvitationStatus = InvitationStatus.QUEUED,
    expires_in: dt.timedelta = dt.timedelta(days=30),
    **fields: Any,
) -> Invitation:
    nonce = tokens.new_nonce()
    invitation = await Invitation.create(
        exchange=exchange,
        invited_by=host,
        email=email,
        email_normalised=email.lower(),
        full_name=full_name,
        country="KZ",
        locale=locale,
        status=status,
        token_nonce=nonce,
        token_hash=tokens.token_hash(tokens.token_for(nonce, settings.signing_key)),
        message=message,
        expires_at=dt.datetime.now(dt.UTC) + expires_in,
        **fields,
    )
    if sessions:
        await invitation.sessions.add(*sessions)
    return invitation
