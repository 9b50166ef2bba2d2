"""exchange.schedule: when an exchange starts, ends, is completed, and how long it is."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from exchange.models import Exchange, ExchangeStatus, Session, SessionFormat
from exchange.schedule import schedule_for, schedule_of
from tests.conftest import make_organisation
from tests.invitations.conftest import make_exchange

UTC = dt.UTC
ALMATY = ZoneInfo("Asia/Almaty")  # UTC+05:00 all year since 2024


def _exchange(**fields: Any) -> Exchange:
    values: dict[str, Any] = {
        "slug": "steppe",
        "time_zone": "Asia/Almaty",
        "starts_on": dt.date(2027, 5, 10),
        "ends_on": dt.date(2027, 5, 12),
        "status": ExchangeStatus.OPEN,
    }
    values.update(fields)
    return Exchange(**values)


def _session(start: dt.datetime, hours: float, *, cancelled: bool = False) -> Session:
    return Session(
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        format=SessionFormat.IN_PERSON,
        cancelled_at=dt.datetime(2027, 1, 1, tzinfo=UTC) if cancelled else None,
    )


def test_without_sessions_it_spans_its_dates_in_the_venues_zone() -> None:
    schedule = schedule_of(_exchange(), [])
    assert not schedule.has_sessions
    assert schedule.starts_at == dt.datetime(2027, 5, 9, 19, 0, tzinfo=UTC)
    assert schedule.starts_at_local == dt.datetime(2027, 5, 10, 0, 0, tzinfo=ALMATY)
    assert schedule.starts_at_local.utcoffset() == dt.timedelta(hours=5)
    assert schedule.ends_at_local == dt.datetime(2027, 5, 13, 0, 0, tzinfo=ALMATY)
    assert schedule.length_hours == 72.0


def test_the_first_planned_session_decides_the_start() -> None:
    early = _session(dt.datetime(2027, 5, 10, 3, 0, tzinfo=UTC), 2, cancelled=True)
    first = _session(dt.datetime(2027, 5, 10, 4, 0, tzinfo=UTC), 2)
    last = _session(dt.datetime(2027, 5, 12, 3, 0, tzinfo=UTC), 8)
    # Given in any order, cancelled ones among them.
    schedule = schedule_of(_exchange(), [last, early, first])
    assert schedule.has_sessions
    assert schedule.starts_at == dt.datetime(2027, 5, 10, 4, 0, tzinfo=UTC)
    assert schedule.starts_at.tzinfo is UTC
    assert schedule.starts_at_local.isoformat() == "2027-05-10T09:00:00+05:00"
    assert schedule.ends_at == dt.datetime(2027, 5, 12, 11, 0, tzinfo=UTC)
    assert schedule.length_hours == 10.0


def test_overlapping_sessions_count_once() -> None:
    start = dt.datetime(2027, 5, 10, 4, 0, tzinfo=UTC)
    sessions = [
        _session(start, 3),  # 04-07
        _session(start + dt.timedelta(hours=1), 1),  # 05-06, inside the first
        _session(start + dt.timedelta(hours=2), 3),  # 06-09, overlapping its end
        _session(start + dt.timedelta(hours=9), 0.5),  # 13-13:30, apart
    ]
    assert schedule_of(_exchange(), sessions).length_hours == 5.5


def test_only_cancelled_sessions_means_its_dates() -> None:
    cancelled = _session(dt.datetime(2027, 5, 11, 4, 0, tzinfo=UTC), 2, cancelled=True)
    schedule = schedule_of(_exchange(), [cancelled])
    assert not schedule.has_sessions
    assert schedule.starts_at_local == dt.datetime(2027, 5, 10, 0, 0, tzinfo=ALMATY)


def test_a_day_the_clocks_change_has_its_real_length() -> None:
    # Berlin springs forward on 28 March 2027: that day has 23 hours.
    schedule = schedule_of(
        _exchange(time_zone="Europe/Berlin", starts_on=dt.date(2027, 3, 28), ends_on=dt.date(2027, 3, 28)), []
    )
    assert schedule.length_hours == 23.0
    assert schedule.starts_at == dt.datetime(2027, 3, 27, 23, 0, tzinfo=UTC)
    assert schedule.ends_at == dt.datetime(2027, 3, 28, 22, 0, tzinfo=UTC)


def test_started_and_completed() -> None:
    session = _session(dt.datetime(2027, 5, 10, 4, 0, tzinfo=UTC), 2)
    schedule = schedule_of(_exchange(), [session])
    before = dt.datetime(2027, 5, 10, 3, 59, tzinfo=UTC)
    at_start = dt.datetime(2027, 5, 10, 4, 0, tzinfo=UTC)
    at_end = dt.datetime(2027, 5, 10, 6, 0, tzinfo=UTC)
    assert not schedule.has_started(before) and schedule.has_started(at_start)
    # In another zone, the same instant.
    assert schedule.has_started(at_start.astimezone(ZoneInfo("America/New_York")))
    assert not schedule.is_completed(at_start) and schedule.is_completed(at_end)
    # The host's COMPLETED counts at once; a cancelled exchange is never completed.
    assert schedule_of(_exchange(status=ExchangeStatus.COMPLETED), [session]).is_completed(before)
    assert not schedule_of(_exchange(status=ExchangeStatus.CANCELLED), [session]).is_completed(at_end)
    with pytest.raises(ValueError, match="aware"):
        schedule.has_started(dt.datetime(2027, 5, 10, 4, 0))


async def test_schedule_for_reads_the_planned_sessions(app: Any) -> None:
    host = await make_organisation("steppe-volunteers")
    exchange = await make_exchange(host, time_zone="Asia/Almaty")
    assert (await schedule_for(exchange)).starts_at_local == dt.datetime(2027, 5, 10, 0, 0, tzinfo=ALMATY)
    for hour, cancelled in ((3, True), (6, False), (4, False)):
        await Session.create(
            exchange=exchange,
            titles={"en": f"At {hour}"},
            starts_at=dt.datetime(2027, 5, 11, hour, 0, tzinfo=UTC),
            ends_at=dt.datetime(2027, 5, 11, hour + 1, 0, tzinfo=UTC),
            format=SessionFormat.ONLINE,
            cancelled_at=dt.datetime.now(UTC) if cancelled else None,
        )
    schedule = await schedule_for(exchange)
    assert schedule.starts_at == dt.datetime(2027, 5, 11, 4, 0, tzinfo=UTC)
    assert schedule.ends_at_local.isoformat() == "2027-05-11T12:00:00+05:00"
    assert schedule.length_hours == 2.0
