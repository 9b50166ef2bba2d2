"""exchange.attendance and the roster's rules in exchange.access, called directly with an
Actor and a controllable clock: when attendance may first be recorded (the exchange's start,
venue time), the length that bounds the hours (overlapping sessions once), and who names,
edits and hears of whom."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from exchange import access, attendance, roster
from exchange.access import Actor, Role
from exchange.errors import DomainError, ErrorCode
from exchange.models import Participation, ParticipationStatus, Session, SessionFormat
from tests.api.exchange_fixtures import make_exchange, make_volunteer, take_part
from tests.conftest import make_organisation

UTC = dt.UTC
ADMIN = Actor(Role.ADMIN)


async def planned(exchange: Any, start: dt.datetime, hours: float, **fields: Any) -> Session:
    return await Session.create(
        exchange=exchange,
        titles={"en": "Session"},
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        format=SessionFormat.IN_PERSON,
        **fields,
    )


async def test_recording_opens_when_the_first_planned_session_starts(app: Any) -> None:
    host = await make_organisation("aral-eco-volunteers")
    exchange = await make_exchange("aral-week", host, time_zone="Asia/Qyzylorda")  # UTC+05:00
    first = dt.datetime(2027, 5, 10, 4, 0, tzinfo=UTC)
    await planned(exchange, first - dt.timedelta(hours=2), 1, cancelled_at=first)  # called off: not the start
    opening = await planned(exchange, first, 2)
    participation = await take_part(await make_volunteer("Madina"), exchange)
    actor = Actor(Role.ORGANISATION, host.id)
    no_show = attendance.Attendance(ParticipationStatus.NO_SHOW)

    with pytest.raises(DomainError) as refused:
        await attendance.record_attendance(
            actor, participation.id, no_show, now=first - dt.timedelta(seconds=1)
        )
    assert refused.value.code is ErrorCode.INVALID
    assert "from 2027-05-10 09:00 (Asia/Qyzylorda)" in refused.value.problems[0].message

    recorded = await attendance.record_attendance(actor, participation.id, no_show, now=first)
    assert recorded.status is ParticipationStatus.NO_SHOW
    assert recorded.recorded_at == first and recorded.recorded_by_id == host.id
    # A session counts as attended only once it has begun, by the same clock.
    attended = attendance.Attendance(ParticipationStatus.ATTENDED, 1.0, [opening.id])
    stored = await attendance.record_attendance(actor, participation.id, attended, now=first)
    assert stored.attended_session_ids == [opening.id]
    with pytest.raises(DomainError) as early:
        await attendance.record_attendance(
            ADMIN, participation.id, attended, now=first - dt.timedelta(hours=1)
        )
    assert early.value.problems[0].field == ("participationId",)


async def test_the_length_counts_overlapping_sessions_once(app: Any) -> None:
    host = await make_organisation("aral-eco-volunteers")
    exchange = await make_exchange("aral-week", host, time_zone="Asia/Almaty")
    start = dt.datetime(2027, 5, 10, 4, 0, tzinfo=UTC)
    await planned(exchange, start, 3)  # 04:00-07:00
    await planned(exchange, start + dt.timedelta(hours=2), 2)  # 06:00-08:00: one hour shared
    await planned(exchange, start + dt.timedelta(days=1), 1.5)
    participation = await take_part(await make_volunteer("Madina"), exchange)
    later = start + dt.timedelta(days=2)

    with pytest.raises(DomainError) as refused:
        record = attendance.Attendance(ParticipationStatus.ATTENDED, 5.51)
        await attendance.record_attendance(ADMIN, participation.id, record, now=later)
    assert [(p.field, p.message) for p in refused.value.problems] == [
        (("hours",), "At most 5.5 hours: the length of the exchange.")
    ]
    exact = attendance.Attendance(ParticipationStatus.ATTENDED, 5.5)
    stored = await attendance.record_attendance(ADMIN, participation.id, exact, now=later)
    assert (stored.hours, stored.recorded_by_id) == (5.5, None)  # an admin records for nobody's key


async def test_hours_are_kept_to_the_hundredth(app: Any) -> None:
    host = await make_organisation("aral-eco-volunteers")
    exchange = await make_exchange("aral-week", host, time_zone="Asia/Almaty")
    start = dt.datetime(2027, 5, 10, 4, 0, tzinfo=UTC)
    await planned(exchange, start, 3)
    participation = await take_part(await make_volunteer("Madina"), exchange)
    later = start + dt.timedelta(days=1)

    # A subnormal float is "more than 0" but would read as 0 hours on a certificate.
    for tiny in (5e-324, 0.004):
        with pytest.raises(DomainError) as refused:
            record = attendance.Attendance(ParticipationStatus.ATTENDED, tiny)
            await attendance.record_attendance(ADMIN, participation.id, record, now=later)
        assert [(p.field, p.message) for p in refused.value.problems] == [
            (("hours",), "Hours must be at least 0.01 (they are kept to the hundredth).")
        ]
    record = attendance.Attendance(ParticipationStatus.ATTENDED, 1.23456)
    stored = await attendance.record_attendance(ADMIN, participation.id, record, now=later)
    assert stored.hours == 1.23
    assert (await Participation.get(id=participation.id)).hours == 1.23


async def test_without_sessions_the_days_are_the_length(app: Any) -> None:
    host = await make_organisation("aral-eco-volunteers")
    exchange = await make_exchange(
        "aral-week",
        host,
        time_zone="Asia/Almaty",
        starts_on=dt.date(2027, 5, 10),
        ends_on=dt.date(2027, 5, 11),
    )
    participation = await take_part(await make_volunteer("Madina"), exchange)
    opens = dt.datetime(2027, 5, 9, 19, 0, tzinfo=UTC)  # 00:00 on 10 May in Almaty
    too_early = attendance.Attendance(ParticipationStatus.ATTENDED, 48.0)
    with pytest.raises(DomainError):
        await attendance.record_attendance(
            ADMIN, participation.id, too_early, now=opens - dt.timedelta(minutes=1)
        )
    stored = await attendance.record_attendance(ADMIN, participation.id, too_early, now=opens)
    assert stored.hours == 48.0


async def test_totals_follow_the_viewer(app: Any) -> None:
    host = await make_organisation("host")
    partner = await make_organisation("partner")
    exchange = await make_exchange("week", host, partners=[partner])
    volunteer = await make_volunteer("Quiet", organisation=partner)
    await Participation.create(volunteer=volunteer, exchange=exchange, status=ParticipationStatus.NO_SHOW)
    elsewhere = await make_exchange("elsewhere", partner)
    await Participation.create(
        volunteer=volunteer, exchange=elsewhere, status=ParticipationStatus.ATTENDED, hours=2.5
    )
    as_host, as_partner = Actor(Role.ORGANISATION, host.id), Actor(Role.ORGANISATION, partner.id)
    ids = [volunteer.id]
    assert await attendance.hours_by_volunteer(ADMIN, ids) == {volunteer.id: 2.5}
    assert await attendance.hours_by_volunteer(as_host, ids) == {}  # the other exchange is not its to see
    assert await attendance.hours_by_volunteer(as_partner, ids) == {volunteer.id: 2.5}
    assert await attendance.no_shows_by_volunteer(ADMIN, ids) == {volunteer.id: 1}
    assert await attendance.no_shows_by_volunteer(as_host, ids) == {volunteer.id: 1}
    # The partner sends them and hosts the other exchange: a host of theirs, so it learns the count.
    assert await attendance.no_shows_by_volunteer(as_partner, ids) == {volunteer.id: 1}
    assert await attendance.no_shows_by_volunteer(Actor(Role.READ_ONLY, host.id), ids) == {}
    assert await attendance.no_shows_by_volunteer(Actor(Role.ORGANISATION, 999), ids) == {volunteer.id: None}


def test_the_roster_rules_in_access() -> None:
    host = Actor(Role.ORGANISATION, 1)
    assert access.nameable_volunteers_sql(ADMIN, "v", str) is None
    assert access.nameable_volunteers_sql(Actor(Role.READ_ONLY, 1), "v", str) == "1 = 0"
    assert access.nameable_volunteers_sql(Actor(Role.ANONYMOUS), "v", str) == "1 = 0"
    assert access.can_edit_volunteer(host, 1) and access.can_edit_volunteer(ADMIN, None)
    assert not access.can_edit_volunteer(host, 2) and not access.can_edit_volunteer(host, None)
    assert not access.can_edit_volunteer(Actor(Role.READ_ONLY, 1), 1)
    assert access.participation_event_audience(1, frozenset({2}), None, ParticipationStatus.CONFIRMED) == {
        1,
        2,
    }
    assert access.participation_event_audience(1, frozenset({2}), ParticipationStatus.NO_SHOW, None) == {1}
    assert access.can_see_no_shows(ADMIN, False) and access.can_see_no_shows(host, True)
    assert not access.can_see_no_shows(host, False)
    assert not access.can_see_no_shows(Actor(Role.READ_ONLY, 1), True)


async def test_a_removal_meanwhile_is_not_found_under_the_lock(app: Any) -> None:
    """updateParticipation reads the participation again once it holds the exchange's lock."""
    host = await make_organisation("host")
    exchange = await make_exchange("week", host)
    participation = await take_part(await make_volunteer("Erlan", organisation=host), exchange)
    managed = await roster.managed_participation(ADMIN, participation.id, "id")
    await Participation.filter(id=participation.id).delete()
    with pytest.raises(DomainError) as gone:
        await roster.locked(managed, "id")
    assert gone.value.code is ErrorCode.NOT_FOUND
