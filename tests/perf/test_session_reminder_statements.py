"""The session reminder sweep costs the same number of SQL statements (one) whether one
participant of one session is due or many of many, counted where the database receives
them (tests/perf/sqlcount.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from exchange.invitations.session_reminders import enqueue_session_reminders
from exchange.models import Participation, ParticipationStatus, Session, SessionFormat, Volunteer
from exchange.settings import Settings
from tests.mail.conftest import make_world
from tests.perf.sqlcount import SqlCounter

NOW = dt.datetime(2027, 5, 10, 12, 0, tzinfo=dt.UTC)  # make_world's first session: 11 May 04:00 UTC


async def _sweep(sql: SqlCounter, settings: Settings) -> tuple[int, int]:
    await sql.settle()
    sql.reset()
    queued = await enqueue_session_reminders(settings, NOW)
    await sql.settle()
    return queued, sql.data


async def _participants(exchange: Any, start: int, count: int) -> None:
    for index in range(start, start + count):
        volunteer = await Volunteer.create(
            full_name=f"Volunteer {index}", email=f"v{index}@example.org", country="KZ", languages=["en"]
        )
        await Participation.create(
            volunteer=volunteer, exchange=exchange, status=ParticipationStatus.CONFIRMED
        )


async def test_one_statement_however_many_are_due(app: Any, sql: SqlCounter, settings: Settings) -> None:
    _host, exchange, _sessions = await make_world(sessions=1)
    await _participants(exchange, 0, 1)
    assert await _sweep(sql, settings) == (1, 1)

    for index in range(5):
        start = NOW + dt.timedelta(hours=1 + index)
        await Session.create(
            exchange=exchange,
            titles={"en": f"Session {index}"},
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            format=SessionFormat.ONLINE,
        )
    await _participants(exchange, 1, 19)
    # 20 people x 6 sessions, less the one reminder already queued.
    assert await _sweep(sql, settings) == (119, 1)
    assert await _sweep(sql, settings) == (0, 1)
