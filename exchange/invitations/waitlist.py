"""The waiting list of an exchange with ``waitlist`` on, and who gets a freed place.

- **Free places**: capacity minus the places held (participations.HOLDING_A_PLACE) minus the
  live offers (OFFERED invitations whose claim window is open): a place offered to someone
  is theirs until the offer lapses. Whoever counts them holds the exchange's row lock
  (common.lock_exchange), the lock accepting an invitation takes, so two withdrawals at once
  cannot both see the same place free: ``seats_taken + live offers <= capacity`` always.
- **Joining**: accepting an invitation when no place is free (or while others wait) makes it
  WAITLISTED, at the end of the list (``waitlisted_at``); its position is 1 + those who
  joined before it and still wait.
- **Offers**: whenever a place may have come free (a withdrawal, a revocation or decline of
  an accepted or offered invitation, a participant removed, the capacity raised, the
  exchange reopened, an offer lapsing) ``offer_free_places`` turns the first WAITLISTED
  invitations into OFFERED, one per free place, each with a claim deadline
  (``EXCHANGE_WAITLIST_CLAIM_HOURS``, never past the exchange's start) and an offer mail in
  the invitee's language. Offers are made while the exchange is OPEN and has not started
  (exchange.schedule); after the start nobody is offered a place.
- **Claiming**: accepting an OFFERED invitation (page or API) before its deadline takes the
  place: ACCEPTED.
- **Lapsing**: an offer not claimed in time reads EXPIRED at once (common.effective_status)
  and the sweep stores that and offers the place to the next (``pass_on_lapsed_offers``).
  It does not go back to the end of the list: an invitee silent for a whole claim window
  would otherwise block a place for another window every time round while those who answer
  wait. The page tells them the offer lapsed; the organiser can invite them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from exchange.events import AfterCommit
from exchange.invitations.common import lock_exchange, organisers, status_changed, utcnow
from exchange.mail.outbox import enqueue_many
from exchange.models import Exchange, ExchangeStatus, Invitation, InvitationStatus, MailKind
from exchange.participations import HOLDING_A_PLACE, seats_taken
from exchange.schedule import schedule_for
from exchange.settings import Settings, get_settings
from exchange.sql import Statement

WAITLISTED = InvitationStatus.WAITLISTED
OFFERED = InvitationStatus.OFFERED


async def live_offers(exchange_id: int, now: datetime) -> int:
    return await Invitation.filter(exchange_id=exchange_id, status=OFFERED, offer_expires_at__gt=now).count()


async def free_places(exchange: Exchange, now: datetime) -> int | None:
    """Places nobody holds or has been offered (None: no limit). Exact only under the
    exchange's lock; elsewhere (the page) a hint."""
    if exchange.capacity is None:
        return None
    taken = await seats_taken(exchange.id) + await live_offers(exchange.id, now)
    return max(exchange.capacity - taken, 0)


async def anyone_waiting(exchange_id: int) -> bool:
    return await Invitation.filter(exchange_id=exchange_id, status=WAITLISTED).exists()


async def offer_free_places(
    exchange: Exchange,
    organiser_ids: frozenset[int],
    after: AfterCommit,
    now: datetime,
    settings: Settings | None = None,
) -> list[Invitation]:
    """Offers each free place to the next on the list; returns the invitations offered one.
    The caller holds the exchange's lock (common.lock_exchange) in its transaction, so the
    count of free places and the offers made from it are one step; the offer mails and
    events go with the caller's commit."""
    if exchange.status is not ExchangeStatus.OPEN:
        return []
    free = await free_places(exchange, now)
    if free == 0:
        return []
    waiting = Invitation.filter(exchange_id=exchange.id, status=WAITLISTED).order_by("waitlisted_at", "id")
    chosen = list(await (waiting if free is None else waiting.limit(free)))
    if not chosen:
        return []
    schedule = await schedule_for(exchange)
    if schedule.has_started(now):
        return []
    settings = settings or get_settings()
    deadline = min(now + timedelta(hours=settings.waitlist_claim_hours), schedule.starts_at)
    await Invitation.filter(id__in=[invitation.id for invitation in chosen], status=WAITLISTED).update(
        status=OFFERED, offer_expires_at=deadline
    )
    for invitation in chosen:
        invitation.status = OFFERED
        invitation.offer_expires_at = deadline
        status_changed(after, invitation, organiser_ids, WAITLISTED, OFFERED, now)
    await enqueue_many(MailKind.WAITLIST_OFFER, chosen, settings=settings)
    return chosen


async def offer_places_after_change(
    exchange: Exchange, after: AfterCommit, settings: Settings | None = None
) -> list[Invitation]:
    """For a change to the exchange itself (capacity, status) made under its lock."""
    return await offer_free_places(exchange, await organisers(exchange), after, utcnow(), settings)


async def positions(invitation_ids: Sequence[int]) -> dict[int, int]:
    """Place on its exchange's waiting list (1: offered the next free place) of each of these
    invitations that is WAITLISTED, in one statement."""
    if not invitation_ids:
        return {}
    statement = Statement()
    waiting = statement.param(WAITLISTED.value)
    exchanges_of = f"SELECT exchange_id FROM invitation WHERE {statement.is_in('id', invitation_ids)}"  # noqa: S608
    asked = statement.is_in("w.id", invitation_ids)
    rows = await statement.fetch(
        "SELECT w.id, w.position FROM (SELECT i.id, ROW_NUMBER() OVER "  # noqa: S608
        "(PARTITION BY i.exchange_id ORDER BY i.waitlisted_at, i.id) AS position FROM invitation i "
        f"WHERE i.status = {waiting} AND i.exchange_id IN ({exchanges_of})) w WHERE {asked}"
    )
    return {int(row["id"]): int(row["position"]) for row in rows}


async def _exchanges_to_settle(now: datetime) -> list[int]:
    """Exchanges with an offer to store as lapsed, or with a free place while someone waits
    (a place freed by a path that offered nothing), read without locks: each is looked at
    again under its lock. Exchanges that have surely started (their first day is behind
    every zone) are left out: nobody is offered a place once an exchange starts."""
    lapsed = await Invitation.filter(status=OFFERED, offer_expires_at__lte=now).values("exchange_id")
    statement = Statement()
    holding = statement.in_list(status.value for status in HOLDING_A_PLACE)
    rows = await statement.fetch(
        "SELECT e.id FROM exchange e WHERE e.status = "  # noqa: S608
        f"{statement.param(ExchangeStatus.OPEN.value)} AND e.starts_on >= "
        f"{statement.param((now - timedelta(days=1)).date())} "
        "AND EXISTS (SELECT 1 FROM invitation w WHERE w.exchange_id = e.id AND w.status = "
        f"{statement.param(WAITLISTED.value)}) AND (e.capacity IS NULL OR e.capacity > "
        "(SELECT COUNT(*) FROM participation p WHERE p.exchange_id = e.id AND p.status IN "
        f"{holding}) + (SELECT COUNT(*) FROM invitation o WHERE o.exchange_id = e.id AND o.status = "
        f"{statement.param(OFFERED.value)} AND o.offer_expires_at > {statement.param(now)}))"
    )
    return sorted({int(row["exchange_id"]) for row in lapsed} | {int(row["id"]) for row in rows})


async def pass_on_lapsed_offers(settings: Settings, now: datetime | None = None) -> int:
    """The sweep's part: stores EXPIRED on offers whose claim window has passed and offers
    their places to the next on the list (and any other free place someone waits for).
    Returns how many offers were made. Safe beside other sweepers and answers: each exchange
    is settled under its lock, and a lapsed offer is stored only if it is still OFFERED."""
    now = now or utcnow()
    offered = 0
    for exchange_id in await _exchanges_to_settle(now):
        after = AfterCommit()
        async with in_transaction():
            exchange = await lock_exchange(exchange_id)
            organiser_ids = await organisers(exchange)
            lapsed = await Invitation.filter(
                exchange_id=exchange_id, status=OFFERED, offer_expires_at__lte=now
            )
            for invitation in lapsed:
                invitation.status = InvitationStatus.EXPIRED
                await invitation.save(update_fields=["status"])
                status_changed(after, invitation, organiser_ids, OFFERED, InvitationStatus.EXPIRED, now)
            offered += len(await offer_free_places(exchange, organiser_ids, after, now, settings))
            await after.stage()
        await after.publish()
    return offered
