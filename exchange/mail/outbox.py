"""Writing mail to the outbox, inside the caller's transaction: the mail exists exactly
when the change that causes it commits, and the dispatcher delivers it afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

from tortoise.backends.base.client import BaseDBAsyncClient

from exchange.models import Invitation, MailKind, OutboxMail
from exchange.settings import Settings, get_settings

# Kinds whose payload may name the sessions the mail is about.
_SESSION_KINDS = (MailKind.UPDATE, MailKind.CANCELLATION)


def mail_host(settings: Settings) -> str:
    """The domain of Message-IDs and calendar UIDs: the host of the public URL."""
    return urlparse(settings.public_url).hostname or "exchange.localhost"


def new_message_id(settings: Settings) -> str:
    return f"<mail-{uuid.uuid4().hex}@{mail_host(settings)}>"


def _checked_payload(kind: MailKind, payload: Mapping[str, object] | None) -> dict[str, object]:
    clean = dict(payload or {})
    if "session_ids" in clean:
        if kind not in _SESSION_KINDS:
            raise ValueError(f"{kind} mail does not take session_ids")
        ids = clean["session_ids"]
        if not isinstance(ids, list | tuple) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise ValueError("session_ids must be a list of integers")
        clean["session_ids"] = sorted(set(ids))
    return clean


def _row(
    kind: MailKind,
    invitation: Invitation,
    payload: Mapping[str, object] | None,
    delay: timedelta | None,
    settings: Settings,
    now: datetime,
) -> OutboxMail:
    if invitation.pk is None:
        raise ValueError("the invitation must be saved before mail is enqueued for it")
    return OutboxMail(
        invitation=invitation,
        kind=MailKind(kind),
        message_id=new_message_id(settings),
        recipient=invitation.email,
        next_attempt_at=now + (delay or timedelta(0)),
        payload=_checked_payload(MailKind(kind), payload),
    )


async def enqueue(
    kind: MailKind,
    invitation: Invitation,
    *,
    payload: dict[str, object] | None = None,
    delay: timedelta | None = None,
    using_db: BaseDBAsyncClient | None = None,
    settings: Settings | None = None,
) -> OutboxMail:
    """One mail about ``invitation``, due now (or after ``delay``).

    Call it inside the transaction that makes the change (Tortoise's current transaction
    is used unless ``using_db`` is given). The Message-ID is fixed here, so a re-send after
    a dispatcher crash is recognisably the same mail.
    """
    row = _row(kind, invitation, payload, delay, settings or get_settings(), datetime.now(UTC))
    await row.save(using_db=using_db)
    return row


async def enqueue_many(
    kind: MailKind,
    invitations: Iterable[Invitation],
    *,
    payload: dict[str, object] | None = None,
    delay: timedelta | None = None,
    using_db: BaseDBAsyncClient | None = None,
    settings: Settings | None = None,
) -> int:
    """The same mail for many invitations in one INSERT (a thousand invitees in one call)."""
    settings = settings or get_settings()
    now = datetime.now(UTC)
    rows = [_row(kind, invitation, payload, delay, settings, now) for invitation in invitations]
    if rows:
        await OutboxMail.bulk_create(rows, batch_size=500, using_db=using_db)
    return len(rows)
