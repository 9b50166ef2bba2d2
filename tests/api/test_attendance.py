"""Attendance and hours through HTTP (#15): recordAttendance by the host once the exchange has
started, its limits (hours, sessions), Participation.recordedAt/recordedBy/attendedSessions,
Volunteer.totalHours over what the viewer may see and noShowCount for hosts only, per role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from exchange.models import (
    ApiKeyRole,
    Exchange,
    ExchangeStatus,
    Organisation,
    Participation,
    ParticipationStatus,
    Session,
    SessionFormat,
    Volunteer,
)
from schema.api.relay import encode_id
from tests.api.exchange_fixtures import gid, make_exchange, make_volunteer, take_part
from tests.conftest import GraphQLClient, make_key, make_organisation

ALMATY = ZoneInfo("Asia/Almaty")
RECORD = """
mutation($id: ID!, $input: RecordAttendanceInput!) {
  recordAttendance(participationId: $id, input: $input) {
    participation { id status hours recordedAt recordedBy { slug } attendedSessions { id title } }
    userErrors { field message code }
  }
}
"""
UPDATE = """
mutation($id: ID!, $input: UpdateParticipationInput!) {
  updateParticipation(id: $id, input: $input) {
    participation { status hours recordedAt recordedBy { slug } attendedSessions { id } }
    userErrors { field message code }
  }
}
"""
VOLUNTEER = "query($id: ID!) { node(id: $id) { ... on Volunteer { fullName totalHours noShowCount } } }"
PARTICIPANTS = """
query($slug: String!) {
  exchange(slug: $slug) { participants { totalCount edges { node { status volunteer { fullName } } } } }
}
"""


def session(exchange: Exchange, start: dt.datetime, hours: float, title: str, **fields: Any) -> Any:
    return Session.create(
        exchange=exchange,
        titles={"en": title},
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
        format=SessionFormat.IN_PERSON,
        **fields,
    )


@dataclass
class Week:
    host: Organisation
    partner: Organisation
    other: Organisation
    keys: dict[str, str | None]
    exchange: Exchange  # under way: one session over, one to come, one cancelled
    sessions: dict[str, Session]
    later: Exchange  # starts on 2027-05-10, no session yet
    volunteer: Volunteer
    participation: Participation


@pytest.fixture
async def week(app: Any, admin_key: str) -> Week:
    host = await make_organisation("aral-eco-volunteers")
    partner = await make_organisation("un-volunteers")
    other = await make_organisation("nukus-ngo")
    stranger = await make_organisation("stranger")
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(ALMATY).date()
    exchange = await make_exchange(
        "aral-week",
        host,
        partners=[partner],
        starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=2),
        time_zone="Asia/Almaty",
    )
    sessions = {
        "over": await session(exchange, now - dt.timedelta(hours=3), 2, "Planting"),
        "coming": await session(exchange, now + dt.timedelta(hours=5), 3, "Clean-up"),
        "cancelled": await session(exchange, now - dt.timedelta(hours=2), 1, "Boat trip", cancelled_at=now),
    }
    volunteer = await make_volunteer("Madina Utegenova", organisation=host)
    return Week(
        host=host,
        partner=partner,
        other=other,
        keys={
            "host": await make_key(host),
            "partner": await make_key(partner),
            "other": await make_key(other),
            "stranger": await make_key(stranger),
            "read_only": await make_key(host, ApiKeyRole.READ_ONLY),
            "admin": admin_key,
            "anonymous": None,
        },
        exchange=exchange,
        sessions=sessions,
        later=await make_exchange("aral-2027", host, time_zone="Asia/Almaty"),
        volunteer=volunteer,
        participation=await take_part(volunteer, exchange),
    )


def sid(session: Session) -> str:
    return encode_id("Session", session.id)


async def record(
    gql: GraphQLClient, week: Week, key: str = "host", pid: str | None = None, **input: Any
) -> Any:
    variables = {"id": pid or gid(week.participation), "input": input}
    return await gql(RECORD, variables, key=week.keys[key])


def codes(result: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(error["field"], error["code"]) for error in result["data"]["recordAttendance"]["userErrors"]]


async def test_the_host_records_hours_and_sessions_after_the_start(gql: GraphQLClient, week: Week) -> None:
    before = dt.datetime.now(dt.UTC)
    result = await record(gql, week, status="ATTENDED", hours=2, sessionIds=[sid(week.sessions["over"])])
    payload = result["data"]["recordAttendance"]
    assert payload["userErrors"] == []
    participation = payload["participation"]
    assert (participation["status"], participation["hours"]) == ("ATTENDED", 2.0)
    assert participation["recordedBy"] == {"slug": "aral-eco-volunteers"}
    assert dt.datetime.fromisoformat(participation["recordedAt"]) >= before.replace(microsecond=0)
    assert participation["attendedSessions"] == [{"id": sid(week.sessions["over"]), "title": "Planting"}]
    # Recording again replaces the record; an admin records for the host (recordedBy: none).
    again = await record(gql, week, key="admin", status="ATTENDED", hours=4.5)
    changed = again["data"]["recordAttendance"]["participation"]
    assert (changed["hours"], changed["attendedSessions"], changed["recordedBy"]) == (4.5, [], None)
    stored = await Participation.get(id=week.participation.id)
    assert (stored.status, stored.hours, stored.attended_session_ids) == (
        ParticipationStatus.ATTENDED,
        4.5,
        [],
    )


async def test_hours_must_be_positive_and_within_the_exchanges_length(gql: GraphQLClient, week: Week) -> None:
    # Length: the planned sessions, 2 h over and 3 h to come; the cancelled one does not count.
    assert codes(await record(gql, week, status="ATTENDED", hours=0)) == [(["hours"], "INVALID")]
    assert codes(await record(gql, week, status="ATTENDED", hours=-1)) == [(["hours"], "INVALID")]
    assert codes(await record(gql, week, status="ATTENDED")) == [(["hours"], "INVALID")]
    too_long = await record(gql, week, status="ATTENDED", hours=5.5)
    assert codes(too_long) == [(["hours"], "INVALID")]
    assert "At most 5 hours" in too_long["data"]["recordAttendance"]["userErrors"][0]["message"]
    assert codes(await record(gql, week, status="ATTENDED", hours=5)) == []


async def test_sessions_must_be_the_exchanges_planned_and_begun(gql: GraphQLClient, week: Week) -> None:
    elsewhere = await session(week.later, dt.datetime(2027, 5, 10, 4, tzinfo=dt.UTC), 1, "Elsewhere")
    result = await record(
        gql,
        week,
        status="ATTENDED",
        hours=1,
        sessionIds=[sid(week.sessions["coming"]), sid(week.sessions["cancelled"]), sid(elsewhere)],
    )
    assert codes(result) == [
        (["sessionIds", "0"], "INVALID"),
        (["sessionIds", "1"], "INVALID"),
        (["sessionIds", "2"], "NOT_FOUND"),
    ]
    messages = [error["message"] for error in result["data"]["recordAttendance"]["userErrors"]]
    assert messages[:2] == ["This session has not started yet.", "This session is cancelled."]
    assert (await Participation.get(id=week.participation.id)).status is ParticipationStatus.CONFIRMED


async def test_a_no_show_has_no_hours_or_sessions(gql: GraphQLClient, week: Week) -> None:
    refused = await record(gql, week, status="NO_SHOW", hours=1, sessionIds=[sid(week.sessions["over"])])
    assert codes(refused) == [(["hours"], "INVALID"), (["sessionIds"], "INVALID")]
    confirmed = await record(gql, week, status="CONFIRMED")
    assert codes(confirmed) == [(["status"], "INVALID")]
    no_show = await record(gql, week, status="NO_SHOW")
    assert no_show["data"]["recordAttendance"]["participation"]["status"] == "NO_SHOW"
    # CONFIRMED again clears what was recorded.
    cleared = await gql(
        UPDATE, {"id": gid(week.participation), "input": {"status": "CONFIRMED"}}, key=week.keys["host"]
    )
    assert cleared["data"]["updateParticipation"]["participation"] == {
        "status": "CONFIRMED",
        "hours": None,
        "recordedAt": None,
        "recordedBy": None,
        "attendedSessions": [],
    }


async def test_not_before_the_exchange_starts_in_venue_time(gql: GraphQLClient, week: Week) -> None:
    later = await take_part(week.volunteer, week.later)
    result = await record(gql, week, pid=gid(later), status="NO_SHOW")
    assert codes(result) == [(["participationId"], "INVALID")]
    # No session: it starts at 00:00 of its first day in the venue's zone.
    assert (
        "from 2027-05-10 00:00 (Asia/Almaty)"
        in result["data"]["recordAttendance"]["userErrors"][0]["message"]
    )
    await session(week.later, dt.datetime(2027, 5, 10, 4, tzinfo=dt.UTC), 2, "Opening")
    result = await record(gql, week, pid=gid(later), status="NO_SHOW")
    assert (
        "from 2027-05-10 09:00 (Asia/Almaty)"
        in result["data"]["recordAttendance"]["userErrors"][0]["message"]
    )


@pytest.mark.parametrize(
    ("key", "code"), [("partner", "FORBIDDEN"), ("read_only", "FORBIDDEN"), ("anonymous", "UNAUTHENTICATED")]
)
async def test_only_the_host_or_an_admin_records(gql: GraphQLClient, week: Week, key: str, code: str) -> None:
    result = await record(gql, week, key=key, status="ATTENDED", hours=1)
    assert result["errors"][0]["extensions"]["code"] == code
    assert (await Participation.get(id=week.participation.id)).recorded_at is None


async def test_a_withdrawn_or_cancelled_participation_records_nothing(gql: GraphQLClient, week: Week) -> None:
    await Participation.filter(id=week.participation.id).update(status=ParticipationStatus.WITHDRAWN)
    assert codes(await record(gql, week, status="ATTENDED", hours=1)) == [(["participationId"], "INVALID")]
    await Participation.filter(id=week.participation.id).update(status=ParticipationStatus.CONFIRMED)
    await Exchange.filter(id=week.exchange.id).update(status=ExchangeStatus.CANCELLED)
    assert codes(await record(gql, week, status="ATTENDED", hours=1)) == [(["participationId"], "INVALID")]


# ---------------------------------------------------------------- visibility per role

ROLES = ["admin", "host", "partner", "other", "stranger", "read_only", "anonymous"]


async def hours_world(gql: GraphQLClient, week: Week) -> tuple[Volunteer, Volunteer, Exchange]:
    """Q: private, sent by `other`: 2 h at the host's week (recorded here), 4 h at other's own
    forum, a no-show at the host's second week. P: public profile, sent by `other`: 1.5 h at the
    host's week, 2 h at other's forum, 3 h at other's draft."""
    forum = await make_exchange("nukus-forum", week.other, status=ExchangeStatus.COMPLETED)
    draft = await make_exchange("nukus-draft", week.other, status=ExchangeStatus.DRAFT)
    second = await make_exchange(
        "aral-week-two",
        week.host,
        partners=[week.partner],
        time_zone="Asia/Almaty",
        starts_on=week.exchange.starts_on,
        ends_on=week.exchange.ends_on,
    )
    await session(second, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), 2, "Second week")
    q = await make_volunteer("Quiet Person", organisation=week.other)
    p = await make_volunteer("Public Person", organisation=week.other, public_profile=True)
    for volunteer, hours in ((q, 2), (p, 1.5)):
        here = await take_part(volunteer, week.exchange)
        result = await record(gql, week, pid=gid(here), status="ATTENDED", hours=hours)
        assert codes(result) == []
    no_show = await take_part(q, second)
    assert codes(await record(gql, week, pid=gid(no_show), status="NO_SHOW")) == []
    for volunteer, exchange, hours in ((q, forum, 4.0), (p, forum, 2.0), (p, draft, 3.0)):
        await Participation.create(
            volunteer=volunteer, exchange=exchange, status=ParticipationStatus.ATTENDED, hours=hours
        )
    return q, p, second


# What each role reads: (fullName visible, totalHours, noShowCount) per volunteer; None: node null.
EXPECTED_Q: dict[str, tuple[float, int | None] | None] = {
    "admin": (6.0, 1),
    "host": (2.0, 1),  # its own week; hosts the week of the no-show
    "partner": (2.0, None),  # a partner is no host
    "other": (6.0, 1),  # sends Q, hosts the forum Q took part in
    "stranger": None,
    "read_only": None,
    "anonymous": None,
}
EXPECTED_P: dict[str, tuple[float, int | None] | None] = {
    "admin": (6.5, 0),
    "host": (3.5, 0),  # the draft is not its to see
    "partner": (3.5, None),
    "other": (6.5, 0),
    "stranger": (3.5, None),
    "read_only": (3.5, None),
    "anonymous": (3.5, None),
}


async def test_total_hours_and_no_shows_per_role(gql: GraphQLClient, week: Week) -> None:
    q, p, _second = await hours_world(gql, week)
    for volunteer, expected in ((q, EXPECTED_Q), (p, EXPECTED_P)):
        for role in ROLES:
            node = (await gql(VOLUNTEER, {"id": gid(volunteer)}, key=week.keys[role]))["data"]["node"]
            seen = None if node is None else (node["totalHours"], node["noShowCount"])
            assert seen == expected[role], (volunteer.full_name, role, node)


async def test_a_no_show_is_shown_to_the_host_only(gql: GraphQLClient, week: Week) -> None:
    _q, _p, second = await hours_world(gql, week)
    seen = {}
    for role in ROLES:
        result = await gql(PARTICIPANTS, {"slug": second.slug}, key=week.keys[role])
        participants = result["data"]["exchange"]["participants"]
        seen[role] = (participants["totalCount"], [e["node"]["status"] for e in participants["edges"]])
    assert seen == {
        "admin": (1, ["NO_SHOW"]),
        "host": (1, ["NO_SHOW"]),
        "partner": (0, []),
        "other": (0, []),  # sends the volunteer, yet no host
        "stranger": (0, []),
        "read_only": (0, []),
        "anonymous": (0, []),
    }


async def test_recorded_fields_are_read_wherever_the_participation_is(gql: GraphQLClient, week: Week) -> None:
    _q, p, _second = await hours_world(gql, week)
    query = """query($id: ID!) { node(id: $id) { ... on Volunteer { participations { edges { node {
      exchange { slug } hours recordedAt recordedBy { slug } attendedSessions { id } } } } } } }"""
    for role in ROLES:
        node = (await gql(query, {"id": gid(p)}, key=week.keys[role]))["data"]["node"]
        rows = {e["node"]["exchange"]["slug"]: e["node"] for e in node["participations"]["edges"]}
        assert rows["aral-week"]["hours"] == 1.5, role
        assert rows["aral-week"]["recordedBy"] == {"slug": "aral-eco-volunteers"}, role
        assert rows["aral-week"]["recordedAt"] is not None, role
        assert rows["aral-week"]["attendedSessions"] == [], role
        assert rows["nukus-forum"]["recordedAt"] is None and rows["nukus-forum"]["recordedBy"] is None, role
