"""When an exchange starts, when it is completed and how long it is: the one definition
that withdrawal, attendance, reminders and the calendar feeds rely on.

- It **starts** at its first planned (not cancelled) session's start; with no planned
  session, at 00:00 of its start date in the venue's zone.
- It **ends** at the latest end of its planned sessions; with none, at 00:00 after its end
  date in the venue's zone.
- It is **completed** once its status is COMPLETED, or once it has ended without being
  CANCELLED (a cancelled exchange never is).
- Its **length** is the time its planned sessions cover, sessions that overlap counted
  once (nobody attends two rooms at a time); with no planned session, the time from its
  start to its end (whole days, so 23 or 25 hours on a day the clocks change).

Every moment here is an aware datetime: ``starts_at``/``ends_at`` in UTC, the ``_local``
twins in the venue's zone (the same instants).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from exchange.exchanges import local_day_bounds
from exchange.models import Exchange, ExchangeStatus, Session


@dataclass(frozen=True)
class Schedule:
    """An exchange's start, end and length, computed from the exchange and its sessions."""

    time_zone: ZoneInfo
    status: ExchangeStatus
    starts_at: datetime
    ends_at: datetime
    length: timedelta
    # False when the moments come from the exchange's dates, for want of a planned session.
    has_sessions: bool

    @property
    def starts_at_local(self) -> datetime:
        return self.starts_at.astimezone(self.time_zone)

    @property
    def ends_at_local(self) -> datetime:
        return self.ends_at.astimezone(self.time_zone)

    @property
    def length_hours(self) -> float:
        return self.length / timedelta(hours=1)

    def has_started(self, now: datetime | None = None) -> bool:
        return _now(now) >= self.starts_at

    def is_completed(self, now: datetime | None = None) -> bool:
        if self.status is ExchangeStatus.COMPLETED:
            return True
        return self.status is not ExchangeStatus.CANCELLED and _now(now) >= self.ends_at


def schedule_of(exchange: Exchange, sessions: Iterable[Session]) -> Schedule:
    """The schedule from sessions already loaded (any of the exchange's; cancelled ones
    are left out here, so callers need not filter)."""
    zone = ZoneInfo(exchange.time_zone)
    planned = sorted(
        (
            (s.starts_at.astimezone(UTC), s.ends_at.astimezone(UTC))
            for s in sessions
            if s.cancelled_at is None
        ),
    )
    if planned:
        starts_at = planned[0][0]
        ends_at = max(end for _, end in planned)
        length = _covered(planned)
    else:
        opens, closes = local_day_bounds(exchange.starts_on, exchange.ends_on, exchange.time_zone)
        starts_at, ends_at = opens.astimezone(UTC), closes.astimezone(UTC)
        length = ends_at - starts_at
    return Schedule(
        time_zone=zone,
        status=ExchangeStatus(exchange.status),
        starts_at=starts_at,
        ends_at=ends_at,
        length=length,
        has_sessions=bool(planned),
    )


async def schedule_for(exchange: Exchange) -> Schedule:
    """The schedule with the exchange's sessions read from the database."""
    sessions = await Session.filter(exchange_id=exchange.id, cancelled_at__isnull=True)
    return schedule_of(exchange, sessions)


def _covered(intervals: list[tuple[datetime, datetime]]) -> timedelta:
    """The union's length of intervals sorted by start."""
    total = timedelta(0)
    current_start, current_end = intervals[0]
    for start, end in intervals[1:]:
        if start > current_end:
            total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    return total + (current_end - current_start)


def _now(now: datetime | None) -> datetime:
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now or datetime.now(UTC)
