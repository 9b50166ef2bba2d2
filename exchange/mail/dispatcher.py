"""The mail dispatcher: claims due outbox rows under a lease, sends them over one SMTP
connection per batch, and records each outcome (with the invitation's transition) as soon
as it is known.

Delivery guarantee: a row is marked SENT only after the server accepted it, in its own
short transaction. A crash in between leaves the row PENDING under a lease that expires,
and the next dispatcher sends it again with the same Message-ID; every other row is sent
once. Several dispatchers may run at once: on PostgreSQL a batch is claimed with
``SELECT ... FOR UPDATE SKIP LOCKED``; on SQLite with a conditional UPDATE.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tortoise import connections
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from exchange import db
from exchange.certificates import mail as certificate_mail
from exchange.events import AfterCommit, InvitationEvent
from exchange.mail import render, session_reminder
from exchange.mail.transport import DeliveryError, ServerUnavailable, Transport, make_transport
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    MailKind,
    MailStatus,
    OutboxMail,
)
from exchange.privacy import ERASED_RECIPIENT, is_erased_address, without_addresses
from exchange.settings import Settings

if TYPE_CHECKING:
    from exchange.app import AppState

log = logging.getLogger("exchange.mail.dispatcher")

_FIRST_MAIL = (MailKind.INVITATION, MailKind.RESEND)
_MAX_BACKOFF_SECONDS = 3600.0
_OPEN = (InvitationStatus.QUEUED, InvitationStatus.SENT)
# Answered yes, or waiting for a place: their calendars keep the invitation's entries.
_HOLDING_AN_ENTRY = (InvitationStatus.ACCEPTED, InvitationStatus.WAITLISTED, InvitationStatus.OFFERED)


_MARK_SENT = (
    'UPDATE "outbox_mail" SET "status" = ?, "sent_at" = ?, "attempts" = "attempts" + 1, "last_error" = NULL, '
    '"claimed_until" = NULL, "claimed_by" = NULL WHERE "id" = ? AND "status" = ?'
)
_INVITATION_SENT = (
    'UPDATE "invitation" SET "status" = ?, "delivery_attempts" = "delivery_attempts" + 1, "sent_at" = ?, '
    '"last_error" = NULL WHERE "id" = ? AND "status" = ?'
)
_INVITATION_DELIVERED = (
    'UPDATE "invitation" SET "delivery_attempts" = "delivery_attempts" + 1, "sent_at" = ?, "last_error" = NULL '
    'WHERE "id" = ?'
)
_REMINDER_SENT = 'UPDATE "invitation" SET "reminder_sent_at" = ? WHERE "id" = ?'


@lru_cache(maxsize=32)
def _numbered(sql: str) -> str:
    """asyncpg numbers its parameters ($1, $2, ...); SQLite takes ``?``."""
    parts = sql.split("?")
    return "".join(part + (f"${index}" if index < len(parts) else "") for index, part in enumerate(parts, 1))


def _sql(conn: Any, sql: str) -> str:
    # Datetimes go in as datetime objects on both engines: asyncpg takes them natively and
    # Tortoise registers the SQLite adapter (isoformat with a space) that its own writes use.
    return _numbered(sql) if conn.capabilities.dialect == "postgres" else sql


def now_utc() -> datetime:
    return datetime.now(UTC)


def backoff_seconds(attempts: int, base: float) -> float:
    """Exponential backoff with "equal jitter": half the delay fixed, half random, so
    retries after a shared outage do not arrive at the server all at once."""
    delay = min(base * 2 ** max(attempts - 1, 0), _MAX_BACKOFF_SECONDS)
    return delay / 2 + random.uniform(0, delay / 2)


_ASKS_FOR_AN_ANSWER = (MailKind.INVITATION, MailKind.RESEND, MailKind.REMINDER, MailKind.WAITLIST_OFFER)


def skip_reason(mail: OutboxMail, invitation: Invitation, now: datetime) -> str | None:
    """Why this mail must not go out any more (None: send it). Decided at send time,
    because the invitation may have been answered or revoked since the row was written."""
    kind = MailKind(mail.kind)
    status = invitation.status
    if is_erased_address(invitation.email):
        # Erasure cancels the mail queued then; this stops what is queued later (a reminder,
        # a session update) for an invitation kept only so that the counts stay.
        return ERASED_RECIPIENT
    if kind in (MailKind.INVITATION, MailKind.RESEND, MailKind.REMINDER):
        if status not in _OPEN:
            return f"invitation is {status.value}"
        if invitation.expires_at <= now:
            return "invitation has expired"
        return None
    if kind is MailKind.UPDATE:
        if status not in (*_OPEN, *_HOLDING_AN_ENTRY):
            return f"invitation is {status.value}"
        return None
    if kind is MailKind.WAITLIST_OFFER:
        # Claimed, declined or revoked since, or lapsed: there is nothing left to claim.
        if status is not InvitationStatus.OFFERED:
            return f"invitation is {status.value}"
        if invitation.offer_expires_at is not None and invitation.offer_expires_at <= now:
            return "the offer has lapsed"
        return None
    if kind is MailKind.WITHDRAWAL:
        return None if status is InvitationStatus.WITHDRAWN else f"invitation is {status.value}"
    # CANCELLATION: only someone who received an invitation has anything to cancel, and
    # someone who declined has already let it go.
    if invitation.sent_at is None:
        return "no invitation mail was ever sent"
    if status in (InvitationStatus.DECLINED, InvitationStatus.FAILED):
        return f"invitation is {status.value}"
    return None


@dataclass
class DispatchStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    batches: int = 0
    connections_opened: int = 0


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        *,
        name: str | None = None,
        lease_seconds: float | None = None,
        batch_size: int | None = None,
        concurrency: int = 2,
        transport_factory: Callable[[], Transport] | None = None,
    ) -> None:
        self.settings = settings
        self.name = (name or f"{socket.gethostname()}:{os.getpid()}")[:60]
        # Long enough for a batch's slowest message; renewed while a batch is being sent.
        self.lease = timedelta(seconds=lease_seconds or max(60.0, settings.smtp_timeout_seconds * 4))
        self.batch_size = batch_size or settings.mail_batch_size
        # Batches in flight at once, each over its own SMTP connection: one connection's
        # round trips wait on the server while another batch renders and records.
        self.concurrency = max(1, concurrency)
        self._transport_factory = transport_factory or (lambda: make_transport(settings))
        self.stats = DispatchStats()

    # -- claiming ---------------------------------------------------------------------

    @staticmethod
    def _due(now: datetime) -> Q:
        return Q(status=MailStatus.PENDING, next_attempt_at__lte=now) & (
            Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
        )

    async def claim(self) -> tuple[str, list[OutboxMail]]:
        """Take up to a batch of due rows under a fresh lease; returns (lease token, rows)."""
        token = f"{self.name}:{uuid.uuid4().hex[:12]}"
        now = now_utc()
        until = now + self.lease
        if connections.get("default").capabilities.dialect == "postgres":
            async with in_transaction() as conn:
                rows = (
                    await OutboxMail.filter(self._due(now))
                    .order_by("next_attempt_at", "id")
                    .limit(self.batch_size)
                    .select_for_update(skip_locked=True)
                    .using_db(conn)
                )
                if not rows:
                    return token, []
                await (
                    OutboxMail.filter(id__in=[row.id for row in rows])
                    .using_db(conn)
                    .update(claimed_until=until, claimed_by=token)
                )
        else:
            # One writer at a time on SQLite: a conditional UPDATE re-checks the lease, so
            # two processes never take the same row even without row locks.
            candidates = (
                await OutboxMail.filter(self._due(now))
                .order_by("next_attempt_at", "id")
                .limit(self.batch_size)
                .values_list("id", flat=True)
            )
            if not candidates:
                return token, []
            await OutboxMail.filter(Q(id__in=list(candidates)) & self._due(now)).update(
                claimed_until=until, claimed_by=token
            )
        rows = await OutboxMail.filter(claimed_by=token, status=MailStatus.PENDING).order_by(
            "next_attempt_at", "id"
        )
        return token, list(rows)

    async def _keep_lease(self, token: str) -> None:
        interval = max(self.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                await OutboxMail.filter(claimed_by=token, status=MailStatus.PENDING).update(
                    claimed_until=now_utc() + self.lease
                )
            except Exception:
                log.warning("could not renew the mail lease %s", token, exc_info=True)

    # -- one round --------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many rows were claimed."""
        token, rows = await self.claim()
        if not rows:
            return 0
        self.stats.batches += 1
        self.stats.claimed += len(rows)
        transport = self._transport_factory()
        keeper = asyncio.create_task(self._keep_lease(token))
        cache: dict[Any, Any] = {}
        try:
            # One query for the batch's invitations and their sessions, not two per mail.
            # (A session reminder to someone on the roster without an invitation has none.)
            invitation_ids = {mail.invitation_id for mail in rows if mail.invitation_id is not None}
            batch = await Invitation.filter(id__in=invitation_ids).prefetch_related("sessions")
            for invitation in batch:
                cache[("invited_sessions", invitation.id)] = sorted(
                    invitation.sessions, key=lambda s: (s.starts_at, s.id)
                )
            # A mail without an invitation (invitation_id None) looks up nothing.
            invitations: dict[int | None, Invitation] = {invitation.id: invitation for invitation in batch}
            for index, mail in enumerate(rows):
                try:
                    await self._deliver(mail, invitations.get(mail.invitation_id), transport, cache)
                except ServerUnavailable as exc:
                    # No connection: the rest of the batch waits for the next try as well.
                    for other in rows[index + 1 :]:
                        await self._settle_failure(
                            other,
                            invitations.get(other.invitation_id),
                            exc.reason,
                            permanent=False,
                            cache=cache,
                        )
                    break
        except BaseException:
            # Cancelled (shutdown) or broken mid-batch: leave at once, without QUIT; the rows
            # not recorded yet return to the queue when their lease ends.
            transport.abort()
            raise
        else:
            with contextlib.suppress(Exception):
                await transport.close()
        finally:
            keeper.cancel()
            self.stats.connections_opened += transport.connections_opened
        return len(rows)

    async def _deliver(
        self, mail: OutboxMail, invitation: Invitation | None, transport: Transport, cache: dict[Any, Any]
    ) -> None:
        if mail.kind is MailKind.SESSION_REMINDER:
            await self._deliver_session_reminder(mail, transport, cache)
            return
        if mail.kind is MailKind.CERTIFICATE:
            await self._deliver_certificate(mail, transport, cache)
            return
        if invitation is not None and mail.kind is not MailKind.INVITATION:
            # Answers matter to every later mail: read the status afresh. A first invitation
            # cannot have been answered (nobody has its link yet); the batch read it moments ago.
            invitation = await Invitation.get_or_none(id=invitation.id)
        if invitation is None:
            await self._settle_failure(
                mail, None, "the invitation no longer exists", permanent=True, cache=cache
            )
            return
        reason = skip_reason(mail, invitation, now_utc())
        if reason is not None:
            await self._settle_skip(mail, reason)
            return
        try:
            data = await render.load(mail, invitation, cache=cache)
            rendered = render.compose_bytes(data, self.settings)
        except Exception as exc:
            await self._settle_unrenderable(mail, invitation, exc, cache)
            return
        if mail.kind in _ASKS_FOR_AN_ANSWER and data.exchange.status is not ExchangeStatus.OPEN:
            # Queued while the exchange was open, due after it closed or was cancelled: it
            # would ask for an answer that can no longer be yes.
            await self._settle_skip(mail, f"the exchange is {data.exchange.status.value}")
            return
        await self._send(mail, invitation, rendered, transport, cache)

    async def _deliver_session_reminder(
        self, mail: OutboxMail, transport: Transport, cache: dict[Any, Any]
    ) -> None:
        # Its own reading and rules (exchange.mail.session_reminder): it is about a session and
        # a participant, and may have no invitation at all.
        try:
            data = await session_reminder.load(mail, cache=cache)
        except render.InvalidMail as exc:
            await self._settle_failure(mail, None, str(exc), permanent=True, cache=cache)
            return
        reason = session_reminder.skip_reason(data, now_utc())
        if reason is not None:
            await self._settle_skip(mail, reason)
            return
        try:
            rendered = session_reminder.compose_bytes(data, self.settings)
        except Exception as exc:
            await self._settle_unrenderable(mail, data.invitation, exc, cache)
            return
        await self._send(mail, data.invitation, rendered, transport, cache)

    async def _deliver_certificate(
        self, mail: OutboxMail, transport: Transport, cache: dict[Any, Any]
    ) -> None:
        # About a certificate, not an invitation (exchange.certificates.mail): the PDF is made now.
        try:
            data = await certificate_mail.load(mail)
        except render.InvalidMail as exc:
            await self._settle_failure(mail, None, str(exc), permanent=True, cache=cache)
            return
        reason = certificate_mail.skip_reason(data)
        if reason is not None:
            await self._settle_skip(mail, reason)
            return
        try:
            rendered = certificate_mail.compose_bytes(data, self.settings)
        except Exception as exc:
            await self._settle_unrenderable(mail, None, exc, cache)
            return
        await self._send(mail, None, rendered, transport, cache)

    async def _settle_unrenderable(
        self, mail: OutboxMail, invitation: Invitation | None, exc: Exception, cache: dict[Any, Any]
    ) -> None:
        """An invalid mail never gets better (permanent); anything else is logged and tried again."""
        if isinstance(exc, render.InvalidMail):
            await self._settle_failure(mail, invitation, str(exc), permanent=True, cache=cache)
            return
        log.exception("could not render mail %s", mail.id, exc_info=exc)
        await self._settle_failure(
            mail, invitation, f"could not render the mail: {type(exc).__name__}", permanent=False, cache=cache
        )

    async def _send(
        self,
        mail: OutboxMail,
        invitation: Invitation | None,
        rendered: render.RenderedMail,
        transport: Transport,
        cache: dict[Any, Any],
    ) -> None:
        try:
            await transport.send(rendered)
        except ServerUnavailable as exc:
            await self._settle_failure(mail, invitation, exc.reason, permanent=False, cache=cache)
            raise
        except DeliveryError as exc:
            await self._settle_failure(mail, invitation, exc.reason, permanent=exc.permanent, cache=cache)
            return
        await self._settle_sent(mail, invitation, cache)

    # -- outcomes ---------------------------------------------------------------------

    async def _organiser_ids(self, exchange_id: int, cache: dict[Any, Any]) -> frozenset[int]:
        key = ("organisers", exchange_id)
        if key not in cache:
            exchange: Exchange = cache.get(("exchange", exchange_id)) or await Exchange.get(id=exchange_id)
            partner_ids = await exchange.partners.all().values_list("id", flat=True)
            host_id: int = exchange.host_id
            cache[key] = frozenset({host_id, *partner_ids})
        organisers: frozenset[int] = cache[key]
        return organisers

    async def _event(
        self,
        invitation: Invitation,
        previous: InvitationStatus,
        status: InvitationStatus,
        at: datetime,
        cache: dict[Any, Any],
    ) -> InvitationEvent:
        exchange_id: int = invitation.exchange_id
        return InvitationEvent(
            invitation_id=invitation.id,
            exchange_id=exchange_id,
            organiser_ids=await self._organiser_ids(exchange_id, cache),
            previous_status=previous,
            status=status,
            at=at,
        )

    async def _settle_sent(
        self, mail: OutboxMail, invitation: Invitation | None, cache: dict[Any, Any]
    ) -> None:
        now = now_utc()
        kind = MailKind(mail.kind)
        after = AfterCommit()
        # Plain SQL: this runs once per mail, and building the same three statements with
        # the ORM cost a third of the dispatcher's CPU. Conditions as in _settle_failure.
        async with in_transaction() as conn:
            updated, _ = await conn.execute_query(
                _sql(conn, _MARK_SENT), [MailStatus.SENT.value, now, mail.id, MailStatus.PENDING.value]
            )
            if not updated:
                # Another dispatcher (after our lease lapsed) recorded it already.
                return
            if invitation is None:
                pass  # a session reminder to someone on the roster: no invitation to record on
            elif kind in _FIRST_MAIL:
                # Conditional: never downgrade an invitation answered in the meantime.
                moved, _ = await conn.execute_query(
                    _sql(conn, _INVITATION_SENT),
                    [InvitationStatus.SENT.value, now, invitation.id, InvitationStatus.QUEUED.value],
                )
                if moved:
                    after.add(
                        await self._event(
                            invitation, InvitationStatus.QUEUED, InvitationStatus.SENT, now, cache
                        )
                    )
                    await after.stage()
                else:
                    await conn.execute_query(_sql(conn, _INVITATION_DELIVERED), [now, invitation.id])
            elif kind is MailKind.REMINDER:
                await conn.execute_query(_sql(conn, _REMINDER_SENT), [now, invitation.id])
        self.stats.sent += 1
        await after.publish()

    async def _settle_failure(
        self,
        mail: OutboxMail,
        invitation: Invitation | None,
        reason: str,
        *,
        permanent: bool,
        cache: dict[Any, Any],
    ) -> None:
        now = now_utc()
        kind = MailKind(mail.kind)
        attempts = mail.attempts + 1
        final = permanent or attempts >= self.settings.mail_max_attempts
        if final and not permanent:
            reason = f"gave up after {attempts} attempts: {reason}"
        reason = reason[:2000]
        changes: dict[str, Any] = {
            "attempts": F("attempts") + 1,
            "last_error": reason,
            "claimed_until": None,
            "claimed_by": None,
        }
        if final:
            changes["status"] = MailStatus.FAILED
        else:
            changes["next_attempt_at"] = now + timedelta(
                seconds=backoff_seconds(attempts, self.settings.mail_retry_base_seconds)
            )
        if invitation is None and mail.invitation_id is not None:
            invitation = await Invitation.get_or_none(id=mail.invitation_id)
        after = AfterCommit()
        async with in_transaction():
            updated = await OutboxMail.filter(id=mail.id, status=MailStatus.PENDING).update(**changes)
            if not updated:
                return
            if invitation is not None:
                note = reason if kind in _FIRST_MAIL else f"{kind.value.lower()} mail: {reason}"
                invitation_changes: dict[str, Any] = {"last_error": note[:2000]}
                if kind in _FIRST_MAIL:
                    invitation_changes["delivery_attempts"] = F("delivery_attempts") + 1
                await Invitation.filter(id=invitation.id).update(**invitation_changes)
                if final and kind in _FIRST_MAIL:
                    moved = await Invitation.filter(id=invitation.id, status=InvitationStatus.QUEUED).update(
                        status=InvitationStatus.FAILED
                    )
                    if moved:
                        after.add(
                            await self._event(
                                invitation, InvitationStatus.QUEUED, InvitationStatus.FAILED, now, cache
                            )
                        )
                        await after.stage()
        if final:
            self.stats.failed += 1
            log.warning(
                "mail %s to invitation %s failed for good: %s",
                mail.id,
                mail.invitation_id,
                without_addresses(reason),
            )
        else:
            self.stats.retried += 1
        await after.publish()

    async def _settle_skip(self, mail: OutboxMail, reason: str) -> None:
        # Marked done without sent_at: nothing left the platform.
        updated = await OutboxMail.filter(id=mail.id, status=MailStatus.PENDING).update(
            status=MailStatus.SENT,
            last_error=f"not sent: {reason}",
            claimed_until=None,
            claimed_by=None,
        )
        if updated:
            self.stats.skipped += 1

    # -- running ----------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        await asyncio.gather(*(self._work(stop) for _ in range(self.concurrency)))

    async def _work(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                claimed = await self.run_once()
            except Exception:
                log.exception("a mail dispatch round failed; trying again shortly")
                claimed = 0
            if claimed >= self.batch_size:
                continue
            await self._pause(stop)

    async def _pause(self, stop: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), self.settings.mail_poll_seconds)


async def start_service(settings: Settings, state: AppState) -> Callable[[], Awaitable[None]]:
    """The dispatcher inside the web process (``background_services``)."""
    dispatcher = Dispatcher(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop), name="mail-dispatcher")
    state.services["mail_dispatcher"] = dispatcher

    async def stop_service() -> None:
        stop.set()
        try:
            # Let the current message finish; a cut-off batch is picked up again after its lease.
            await asyncio.wait_for(asyncio.shield(task), settings.smtp_timeout_seconds + 5)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return stop_service


async def run_worker(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """``exchange mail-worker``: a dispatcher in its own process until SIGINT/SIGTERM."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    await db.init_db(settings)
    try:
        await db.ensure_migrated()
        log.info("mail worker started (%s)", "SMTP " + settings.smtp_host if settings.smtp_host else "files")
        await Dispatcher(settings).run(stop)
    finally:
        await db.close_db()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)
