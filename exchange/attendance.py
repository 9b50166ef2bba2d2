"""Attendance and hours: the host records who came (ATTENDED, with hours and the sessions
attended) and who did not (NO_SHOW) once the exchange has started; and the per-volunteer
totals readers see (hours over what the viewer may see, no-shows for hosts only).

When an exchange starts and how long it is are exchange.schedule's (one definition).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from tortoise.transactions import in_transaction

from exchange import access
from exchange.access import Actor
from exchange.errors import DomainError, ErrorCode, Problems
from exchange.events import AfterCommit
from exchange.invitations.common import utcnow
from exchange.models import ExchangeStatus, Participation, ParticipationStatus, Session
from exchange.roster import (
    ATTENDANCE_FIELDS,
    RECORDED_STATUSES,
    locked,
    managed_participation,
    participation_changed,
)
from exchange.schedule import schedule_of
from exchange.sql import Statement

# Hours are kept to the hundredth (36 s): finer figures are noise in a volunteer's record, and
# below it a float such as 5e-324 would pass "more than 0" yet print as 0 on a certificate.
HOURS_DECIMALS = 2
SMALLEST_HOURS = 0.01


@dataclass(frozen=True)
class Attendance:
    status: ParticipationStatus
    hours: float | None = None
    session_ids: Sequence[int] = field(default_factory=tuple)


def _check_input(problems: Problems, attendance: Attendance) -> None:
    if attendance.status not in RECORDED_STATUSES:
        problems.invalid("Attendance is ATTENDED or NO_SHOW.", "status")
        return
    if attendance.status is ParticipationStatus.NO_SHOW:
        if attendance.hours is not None:
            problems.invalid("A no-show has no hours.", "hours")
        if attendance.session_ids:
            problems.invalid("A no-show attended no session.", "sessionIds")
        return
    if attendance.hours is None:
        problems.invalid("Give the hours attended.", "hours")
    elif not math.isfinite(attendance.hours) or round(attendance.hours, HOURS_DECIMALS) < SMALLEST_HOURS:
        problems.invalid(
            f"Hours must be at least {SMALLEST_HOURS} (they are kept to the hundredth).", "hours"
        )


def _check_sessions(
    problems: Problems, session_ids: Sequence[int], sessions: dict[int, Session], now: datetime
) -> list[int]:
    """The exchange's sessions named (in order, each once), each planned and begun."""
    attended: list[int] = []
    for index, session_id in enumerate(session_ids):
        session = sessions.get(session_id)
        if session is None:
            problems.add(ErrorCode.NOT_FOUND, "Session not found in this exchange.", ["sessionIds", index])
        elif session.cancelled_at is not None:
            problems.invalid("This session is cancelled.", "sessionIds", index)
        elif session.starts_at > now:
            problems.invalid("This session has not started yet.", "sessionIds", index)
        elif session_id not in attended:
            attended.append(session_id)
    return attended


async def record_attendance(
    actor: Actor, participation_id: int, attendance: Attendance, now: datetime | None = None
) -> Participation:
    """The host (or an admin) records ATTENDED with hours (at least 0.01, kept to the hundredth; at most the exchange's
    length) and the sessions attended, or NO_SHOW; not before the exchange starts. Recording
    again replaces what was recorded."""
    managed = await managed_participation(actor, participation_id, "participationId")
    problems = Problems()
    _check_input(problems, attendance)
    problems.raise_if_any()
    if attendance.hours is not None:
        attendance = replace(attendance, hours=round(attendance.hours, HOURS_DECIMALS))
    now = now or utcnow()
    after = AfterCommit()
    async with in_transaction():
        # The roster's lock: a removal or withdrawal meanwhile shows here.
        exchange, participation = await locked(managed, "participationId")
        if exchange.status is ExchangeStatus.CANCELLED:
            raise DomainError(ErrorCode.INVALID, "The exchange is cancelled.", ["participationId"])
        previous = ParticipationStatus(participation.status)
        if previous is ParticipationStatus.WITHDRAWN:
            raise DomainError(
                ErrorCode.INVALID,
                "This participant withdrew: set the participation CONFIRMED first.",
                ["participationId"],
            )
        sessions = {session.id: session for session in await Session.filter(exchange_id=exchange.id)}
        schedule = schedule_of(exchange, sessions.values())
        if not schedule.has_started(now):
            starts = schedule.starts_at_local
            raise DomainError(
                ErrorCode.INVALID,
                f"Attendance is recorded once the exchange has started, from {starts:%Y-%m-%d %H:%M} "
                f"({exchange.time_zone}).",
                ["participationId"],
            )
        attended = _check_sessions(problems, attendance.session_ids, sessions, now)
        if attendance.hours is not None and attendance.hours > schedule.length_hours + 1e-9:
            problems.invalid(f"At most {schedule.length_hours:g} hours: the length of the exchange.", "hours")
        problems.raise_if_any()
        status = attendance.status
        changed = (
            status is not previous
            or participation.hours != attendance.hours
            or list(participation.attended_session_ids or []) != attended
        )
        participation.status = status
        participation.hours = attendance.hours
        participation.attended_session_ids = attended
        participation.recorded_at = now
        participation.recorded_by_id = actor.organisation_id
        await participation.save(update_fields=["status", *ATTENDANCE_FIELDS])
        if changed:
            participation_changed(
                after, participation, exchange.host_id, managed.partner_ids, previous, status, now
            )
        await after.stage()
    await after.publish()
    return participation


# ---------------------------------------------------------------- reads


async def hours_by_volunteer(actor: Actor, volunteer_ids: Sequence[int]) -> dict[int, float]:
    """Per volunteer, the hours of the attended participations the actor may see (exchanges
    it may see, participations the people rule shows it): one statement."""
    statement = Statement()
    conditions = [
        statement.is_in("t.volunteer_id", volunteer_ids),
        f"t.status = {statement.param(ParticipationStatus.ATTENDED.value)}",
        *(
            condition
            for condition in (
                access.visible_exchanges_sql(actor, "e", statement.param),
                access.visible_participations_sql(actor, "t", statement.param),
            )
            if condition is not None
        ),
    ]
    rows = await statement.fetch(
        "SELECT t.volunteer_id, SUM(t.hours) AS hours FROM participation t "  # noqa: S608
        f"JOIN exchange e ON e.id = t.exchange_id WHERE {' AND '.join(conditions)} GROUP BY t.volunteer_id"
    )
    return {int(row["volunteer_id"]): float(row["hours"] or 0) for row in rows}


async def no_shows_by_volunteer(actor: Actor, volunteer_ids: Sequence[int]) -> dict[int, int | None]:
    """Per volunteer, their no-shows in every exchange, for the viewers access.can_see_no_shows
    lets see them (None for the others): one statement, none for anonymous or read-only keys."""
    if not (actor.is_admin or actor.is_organisation):
        return {}
    statement = Statement()
    no_show = statement.param(ParticipationStatus.NO_SHOW.value)
    host = statement.param(actor.organisation_id if actor.is_organisation else None)
    rows = await statement.fetch(
        f"SELECT t.volunteer_id, SUM(CASE WHEN t.status = {no_show} THEN 1 ELSE 0 END) AS no_shows, "  # noqa: S608
        f"MAX(CASE WHEN e.host_id = {host} THEN 1 ELSE 0 END) AS hosted FROM participation t "
        f"JOIN exchange e ON e.id = t.exchange_id WHERE {statement.is_in('t.volunteer_id', volunteer_ids)} "
        "GROUP BY t.volunteer_id"
    )
    found = {int(row["volunteer_id"]): row for row in rows}
    counts: dict[int, int | None] = {}
    for volunteer_id in volunteer_ids:
        row = found.get(volunteer_id)
        hosted = row is not None and bool(row["hosted"])
        counts[volunteer_id] = int(row["no_shows"]) if row is not None else 0
        if not access.can_see_no_shows(actor, hosted):
            counts[volunteer_id] = None
    return counts
