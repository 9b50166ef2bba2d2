"""Periodic work on invitations: store overdue ones as EXPIRED (readers already see them so),
queue one reminder shortly before expiry, remind participants of their sessions
(exchange.invitations.session_reminders), and pass places whose offer lapsed on to the next
on the waiting list (exchange.invitations.waitlist). All are safe to run from several processes at
once: every change is a conditional update, happens under a row lock, or is kept single by
a unique key."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from exchange.events import AfterCommit
from exchange.invitations.common import OPEN_STATUSES, organisers, status_changed, utcnow
from exchange.invitations.session_reminders import enqueue_session_reminders
from exchange.invitations.waitlist import pass_on_lapsed_offers
from exchange.mail.outbox import enqueue
from exchange.models import Exchange, ExchangeStatus, Invitation, InvitationStatus, MailKind, OutboxMail
from exchange.settings import Settings

log = logging.getLogger("exchange.invitations.sweeps")

BATCH = 500


async def expire_overdue(now: datetime | None = None) -> int:
    """Stores EXPIRED on unanswered invitations past expires_at; returns how many."""
    now = now or utcnow()
    expired = 0
    organiser_cache: dict[int, frozenset[int]] = {}
    while True:
        due = (
            await Invitation.filter(status__in=OPEN_STATUSES, expires_at__lte=now).order_by("id").limit(BATCH)
        )
        if not due:
            return expired
        after = AfterCommit()
        async with in_transaction():
            for invitation in due:
                previous = InvitationStatus(invitation.status)
                # Conditional: an answer that raced us wins, and a second sweeper changes nothing.
                changed = await Invitation.filter(id=invitation.id, status=previous).update(
                    status=InvitationStatus.EXPIRED
                )
                if not changed:
                    continue
                exchange_id: int = invitation.exchange_id
                if exchange_id not in organiser_cache:
                    organiser_cache[exchange_id] = await organisers(await Exchange.get(id=exchange_id))
                status_changed(
                    after, invitation, organiser_cache[exchange_id], previous, InvitationStatus.EXPIRED, now
                )
                expired += 1
            await after.stage()
        await after.publish()
        if len(due) < BATCH:
            return expired


async def enqueue_reminders(settings: Settings, now: datetime | None = None) -> int:
    """Queues a REMINDER for each delivered, unanswered invitation that expires within
    ``reminder_days_before`` days, once per invitation; returns how many were queued. Only
    for open exchanges: a reminder to answer one that was closed or cancelled asks for an
    answer that can no longer be yes."""
    if settings.reminder_days_before is None:
        return 0
    now = now or utcnow()
    lead = timedelta(days=settings.reminder_days_before)
    candidates = await Invitation.filter(
        status=InvitationStatus.SENT,
        reminder_sent_at=None,
        expires_at__gt=now,
        expires_at__lte=now + lead,
        exchange__status=ExchangeStatus.OPEN,
    ).order_by("id")
    queued = 0
    for candidate in candidates:
        # An invitation whose whole life is shorter than the lead would be reminded right
        # after the first mail; that is noise, not a reminder.
        if candidate.expires_at - candidate.created_at <= lead:
            continue
        async with in_transaction():
            invitation = await Invitation.select_for_update().get(id=candidate.id)
            if (
                invitation.status is not InvitationStatus.SENT
                or invitation.reminder_sent_at is not None
                or await OutboxMail.filter(invitation_id=invitation.id, kind=MailKind.REMINDER).exists()
            ):
                continue
            await enqueue(MailKind.REMINDER, invitation, settings=settings)
            queued += 1
    return queued


@dataclass
class SweepReport:
    expired: int
    reminders: int
    session_reminders: int = 0
    # Places offered from waiting lists (exchange.invitations.waitlist), mostly passed on
    # from offers that lapsed.
    offers: int = 0


async def sweep(settings: Settings, now: datetime | None = None) -> SweepReport:
    return SweepReport(
        expired=await expire_overdue(now),
        reminders=await enqueue_reminders(settings, now),
        session_reminders=await enqueue_session_reminders(settings, now),
        offers=await pass_on_lapsed_offers(settings, now),
    )


async def start_sweeper(settings: Settings, _state: Any) -> Callable[[], Awaitable[None]]:
    """Background service for the app's lifespan: sweeps every ``expiry_sweep_seconds``."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(settings.expiry_sweep_seconds)
            try:
                report = await sweep(settings)
                if report.expired or report.reminders or report.session_reminders or report.offers:
                    log.info(
                        "invitation sweep: %d expired, %d reminders and %d session reminders queued, "
                        "%d places offered from waiting lists",
                        report.expired,
                        report.reminders,
                        report.session_reminders,
                        report.offers,
                    )
            except Exception:
                log.exception("invitation sweep failed; trying again next round")

    task = asyncio.create_task(loop(), name="invitation-sweeper")

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return stop
