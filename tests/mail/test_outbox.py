"""The outbox is written inside the caller's transaction, with a fixed Message-ID."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from exchange.mail.dispatcher import Dispatcher
from exchange.mail.outbox import enqueue, enqueue_many
from exchange.models import MailKind, MailStatus, OutboxMail
from tests.mail.conftest import mail_settings, make_invitation, make_world


class Boom(Exception):
    pass


async def test_enqueue_belongs_to_the_callers_transaction(database: str, tmp_path: Path) -> None:
    settings = mail_settings(database, tmp_path, None)
    host, exchange, _ = await make_world()
    invitation = await make_invitation(exchange, host, settings)
    with pytest.raises(Boom):
        async with in_transaction():
            await enqueue(MailKind.INVITATION, invitation, settings=settings)
            assert await OutboxMail.all().count() == 1
            raise Boom
    assert await OutboxMail.all().count() == 0

    async with in_transaction() as connection:
        row = await enqueue(
            MailKind.UPDATE,
            invitation,
            payload={"session_ids": [3, 1, 3]},
            using_db=connection,
            settings=settings,
        )
    stored = await OutboxMail.get(id=row.id)
    assert stored.payload == {"session_ids": [1, 3]}
    assert stored.recipient == invitation.email and stored.status is MailStatus.PENDING
    assert re.fullmatch(r"<mail-[0-9a-f]{32}@exchange\.test>", stored.message_id)


async def test_enqueue_many_and_delay(database: str, tmp_path: Path) -> None:
    settings = mail_settings(database, tmp_path, None)
    host, exchange, _ = await make_world()
    invitations = [
        await make_invitation(exchange, host, settings, email=f"v{i}@example.org") for i in range(5)
    ]
    assert await enqueue_many(MailKind.INVITATION, invitations, settings=settings) == 5
    rows = await OutboxMail.all()
    assert len({row.message_id for row in rows}) == 5
    assert sorted(row.recipient for row in rows) == [f"v{i}@example.org" for i in range(5)]

    later = await enqueue(MailKind.REMINDER, invitations[0], delay=dt.timedelta(hours=1), settings=settings)
    assert later.next_attempt_at > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=59)
    dispatcher = Dispatcher(settings)
    assert await dispatcher.run_once() == 5
    assert await dispatcher.run_once() == 0
    assert (await OutboxMail.get(id=later.id)).status is MailStatus.PENDING


async def test_payload_is_checked(sqlite_database: str, tmp_path: Path) -> None:
    settings = mail_settings(sqlite_database, tmp_path, None)
    host, exchange, _ = await make_world()
    invitation = await make_invitation(exchange, host, settings)
    with pytest.raises(ValueError, match="does not take session_ids"):
        await enqueue(MailKind.INVITATION, invitation, payload={"session_ids": [1]}, settings=settings)
    with pytest.raises(ValueError, match="list of integers"):
        await enqueue(MailKind.UPDATE, invitation, payload={"session_ids": ["1"]}, settings=settings)
    assert await OutboxMail.all().count() == 0
