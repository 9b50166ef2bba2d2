"""Session reminders queued by the sweep, with the clock passed in: when, to whom, and once
per participant, session and calendar sequence (the outbox's unique dedupe_key)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from tortoise.exceptions import IntegrityError

from exchange.invitations import session_reminders, sweeps
from exchange.invitations.session_reminders import enqueue_session_reminders
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    MailKind,
    MailStatus,
    OutboxMail,
    Participation,
    ParticipationStatus,
    Session,
    Volunteer,
)
from exchange.settings import Settings
from schema.api.relay import encode_id
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, respond, token_for_email

UPDATE = """mutation($id: ID!, $input: UpdateSessionInput!) { updateSession(id: $id, input: $input) {
  session { id startsAt } userErrors { field message code } } }"""
CANCEL = """mutation($id: ID!) { cancelSession(id: $id) { session { id } userErrors { code } } }"""
REVOKE = """mutation($id: ID!) { revokeInvitation(id: $id) { invitation { status } userErrors { code } } }"""

# The world's sessions: Opening 2027-05-10 04:00 UTC, Planting day 2027-05-12 03:00 UTC.
OPENING = dt.datetime(2027, 5, 10, 4, 0, tzinfo=dt.UTC)
PLANTING = dt.datetime(2027, 5, 12, 3, 0, tzinfo=dt.UTC)
LEAD = dt.timedelta(hours=24)


async def accepted(gql: GraphQLClient, world: World, email: str, **extra: Any) -> Invitation:
    await invite(gql, world, invitee(email), **extra)
    answer = await respond(gql, await token_for_email(email, world.settings), "ACCEPT")
    assert answer["userErrors"] == []
    return await Invitation.get(email_normalised=email)


async def reminders() -> list[tuple[str, int, int]]:
    """(recipient, session id, sequence) of every queued session reminder."""
    rows = await OutboxMail.filter(kind=MailKind.SESSION_REMINDER).order_by("id")
    return [(r.recipient, int(r.payload["session_id"]), int(r.payload["sequence"])) for r in rows]  # type: ignore[call-overload]


async def test_queued_once_when_the_lead_begins_and_not_before(gql: GraphQLClient, world: World) -> None:
    invitation = await accepted(gql, world, "a@example.com")
    opening, planting = (s.id for s in world.sessions)
    assert world.settings.session_reminder_hours == 24

    assert await enqueue_session_reminders(world.settings, OPENING - LEAD - dt.timedelta(minutes=1)) == 0
    assert await reminders() == []

    at = OPENING - LEAD + dt.timedelta(minutes=1)
    assert await enqueue_session_reminders(world.settings, at) == 1
    assert await enqueue_session_reminders(world.settings, at) == 0
    assert await enqueue_session_reminders(world.settings, at + dt.timedelta(hours=6)) == 0
    [row] = await OutboxMail.filter(kind=MailKind.SESSION_REMINDER)
    volunteer_id: int = invitation.volunteer_id  # type: ignore[attr-defined]
    assert row.invitation_id == invitation.id  # type: ignore[attr-defined]
    assert (row.recipient, row.status, row.next_attempt_at) == ("a@example.com", MailStatus.PENDING, at)
    assert row.payload == {"session_id": opening, "sequence": 0, "volunteer_id": volunteer_id}
    assert (
        row.dedupe_key
        == session_reminders.dedupe_key(opening, volunteer_id, 0)
        == f"session-reminder:{opening}:{volunteer_id}:0"
    )
    assert row.message_id.startswith("<mail-") and row.message_id.endswith("@exchange.test>")

    # Planting day's turn comes a day and 23 hours later; the opening has started by then.
    assert await enqueue_session_reminders(world.settings, PLANTING - LEAD + dt.timedelta(minutes=1)) == 1
    assert await reminders() == [("a@example.com", opening, 0), ("a@example.com", planting, 0)]
    # Once a session has started, nobody is reminded of it any more.
    assert await enqueue_session_reminders(world.settings, PLANTING + dt.timedelta(minutes=1)) == 0


async def test_the_sweep_queues_them_and_the_lead_is_a_setting(gql: GraphQLClient, world: World) -> None:
    await accepted(gql, world, "a@example.com")
    world.settings.session_reminder_hours = 72
    report = await sweeps.sweep(world.settings, OPENING - dt.timedelta(hours=71))
    assert report.session_reminders == 1
    assert (await sweeps.sweep(world.settings, PLANTING - dt.timedelta(hours=71))).session_reminders == 1
    assert len(await reminders()) == 2


async def test_off_queues_nothing(gql: GraphQLClient, world: World) -> None:
    await accepted(gql, world, "a@example.com")
    world.settings.session_reminder_hours = None
    assert await enqueue_session_reminders(world.settings, OPENING - dt.timedelta(hours=1)) == 0
    assert (await sweeps.sweep(world.settings, OPENING - dt.timedelta(hours=1))).session_reminders == 0
    assert await reminders() == []


def test_the_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXCHANGE_SESSION_REMINDER_HOURS", raising=False)
    assert Settings(_env_file=None).session_reminder_hours == 24  # type: ignore[call-arg]
    for value in ("", "off", "OFF", "none"):
        monkeypatch.setenv("EXCHANGE_SESSION_REMINDER_HOURS", value)
        assert Settings(_env_file=None).session_reminder_hours is None  # type: ignore[call-arg]
    monkeypatch.setenv("EXCHANGE_SESSION_REMINDER_HOURS", "1.5")
    assert Settings(_env_file=None).session_reminder_hours == 1.5  # type: ignore[call-arg]
    for bad in ("0", "-2", "soon"):
        monkeypatch.setenv("EXCHANGE_SESSION_REMINDER_HOURS", bad)
        with pytest.raises(ValueError, match="session_reminder_hours"):
            Settings(_env_file=None)  # type: ignore[call-arg]


async def test_only_the_sessions_an_invitation_names(gql: GraphQLClient, world: World) -> None:
    await accepted(gql, world, "whole@example.com")
    await accepted(gql, world, "first@example.com", sessionIds=[world.session_id(0)])
    await accepted(gql, world, "second@example.com", sessionIds=[world.session_id(1)])
    world.settings.session_reminder_hours = 96
    assert await enqueue_session_reminders(world.settings, OPENING - dt.timedelta(hours=1)) == 4
    opening, planting = (s.id for s in world.sessions)
    assert sorted(await reminders()) == [
        ("first@example.com", opening, 0),
        ("second@example.com", planting, 0),
        ("whole@example.com", opening, 0),
        ("whole@example.com", planting, 0),
    ]


async def test_nobody_who_holds_no_place(gql: GraphQLClient, world: World) -> None:
    await accepted(gql, world, "stays@example.com")
    revoked = await accepted(gql, world, "revoked@example.com")
    withdrawn = await accepted(gql, world, "withdrawn@example.com")
    await invite(gql, world, invitee("declined@example.com"), invitee("silent@example.com"))
    await respond(gql, await token_for_email("declined@example.com", world.settings), "DECLINE")
    result = await gql(REVOKE, {"id": encode_id("Invitation", revoked.id)}, key=world.host_key)
    assert result["data"]["revokeInvitation"]["invitation"]["status"] == "REVOKED"
    # Withdrawal is the participation's status; the invitation may still read ACCEPTED.
    await Participation.filter(volunteer_id=withdrawn.volunteer_id).update(  # type: ignore[attr-defined]
        status=ParticipationStatus.WITHDRAWN
    )
    assert await enqueue_session_reminders(world.settings, OPENING - dt.timedelta(hours=1)) == 1
    assert [recipient for recipient, _, _ in await reminders()] == ["stays@example.com"]


async def test_on_the_roster_without_an_invitation_every_session(world: World) -> None:
    volunteer = await Volunteer.create(
        full_name="Мария Иванова", email="maria@example.org", country="KZ", languages=["ru"]
    )
    await Participation.create(
        volunteer=volunteer, exchange=world.exchange, status=ParticipationStatus.CONFIRMED
    )
    world.settings.session_reminder_hours = 96
    assert await enqueue_session_reminders(world.settings, OPENING - dt.timedelta(hours=1)) == 2
    rows = await OutboxMail.filter(kind=MailKind.SESSION_REMINDER).order_by("id")
    assert [(r.recipient, r.invitation_id) for r in rows] == [("maria@example.org", None)] * 2  # type: ignore[attr-defined]
    # Erasure leaves an address under .invalid: nothing is queued for it.
    await OutboxMail.all().delete()
    await Volunteer.filter(id=volunteer.id).update(email="erased-0123456789abcdef01234567@invalid")
    assert await enqueue_session_reminders(world.settings, OPENING - dt.timedelta(hours=1)) == 0


async def test_a_moved_session_reminds_once_for_its_new_time(gql: GraphQLClient, world: World) -> None:
    await accepted(gql, world, "a@example.com")
    opening = world.sessions[0].id
    at = OPENING - dt.timedelta(hours=20)
    assert await enqueue_session_reminders(world.settings, at) == 1
    # Two hours later (2027-05-10 06:00 UTC): still within the lead, so a second reminder,
    # for the new time, and only one however often the sweep runs.
    moved = await gql(
        UPDATE,
        {
            "id": world.session_id(0),
            "input": {"startsAt": "2027-05-10T11:00:00+05:00", "endsAt": "2027-05-10T13:00:00+05:00"},
        },
        key=world.host_key,
    )
    assert moved["data"]["updateSession"]["userErrors"] == []
    assert (await Session.get(id=opening)).sequence == 1
    assert await enqueue_session_reminders(world.settings, at) == 1
    assert await enqueue_session_reminders(world.settings, at + dt.timedelta(hours=1)) == 0
    assert await reminders() == [("a@example.com", opening, 0), ("a@example.com", opening, 1)]

    # Moved a week later: its reminder waits for the new time's lead.
    await gql(
        UPDATE,
        {
            "id": world.session_id(0),
            "input": {"startsAt": "2027-05-15T09:00:00+05:00", "endsAt": "2027-05-15T11:00:00+05:00"},
        },
        key=world.host_key,
    )
    assert await enqueue_session_reminders(world.settings, at) == 0
    new_start = dt.datetime(2027, 5, 15, 4, 0, tzinfo=dt.UTC)
    assert await enqueue_session_reminders(world.settings, new_start - dt.timedelta(hours=23)) == 1
    assert (await reminders())[-1] == ("a@example.com", opening, 2)


async def test_cancelled_sessions_and_exchanges_remind_nobody(gql: GraphQLClient, world: World) -> None:
    await accepted(gql, world, "a@example.com")
    result = await gql(CANCEL, {"id": world.session_id(0)}, key=world.host_key)
    assert result["data"]["cancelSession"]["userErrors"] == []
    assert await enqueue_session_reminders(world.settings, OPENING - dt.timedelta(hours=1)) == 0
    for status in (ExchangeStatus.CANCELLED, ExchangeStatus.DRAFT, ExchangeStatus.COMPLETED):
        await Exchange.filter(id=world.exchange.id).update(status=status)
        assert await enqueue_session_reminders(world.settings, PLANTING - dt.timedelta(hours=1)) == 0
    # A closed exchange takes no new participants, but its sessions still take place.
    await Exchange.filter(id=world.exchange.id).update(status=ExchangeStatus.CLOSED)
    assert await enqueue_session_reminders(world.settings, PLANTING - dt.timedelta(hours=1)) == 1
    assert await reminders() == [("a@example.com", world.sessions[1].id, 0)]


async def test_the_background_sweeper_queues_them(gql: GraphQLClient, world: World) -> None:
    await accepted(gql, world, "a@example.com")
    # The sweeper reads the real clock: a lead long enough to reach the world's sessions.
    world.settings.session_reminder_hours = 24 * 365 * 3
    world.settings.expiry_sweep_seconds = 0.01
    stop = await sweeps.start_sweeper(world.settings, None)
    try:
        for _ in range(500):
            if len(await reminders()) == 2:
                break
            await asyncio.sleep(0.01)
    finally:
        await stop()
    assert sorted(session for _, session, _ in await reminders()) == sorted(s.id for s in world.sessions)


async def test_the_database_refuses_a_second_copy(gql: GraphQLClient, world: World) -> None:
    """The unique key itself (not the sweep's NOT EXISTS) keeps a second row out."""
    await accepted(gql, world, "a@example.com")
    assert await enqueue_session_reminders(world.settings, OPENING - dt.timedelta(hours=1)) == 1
    [row] = await OutboxMail.filter(kind=MailKind.SESSION_REMINDER)
    with pytest.raises(IntegrityError):
        await OutboxMail.create(
            kind=MailKind.SESSION_REMINDER,
            message_id="<mail-another@exchange.test>",
            recipient=row.recipient,
            next_attempt_at=row.next_attempt_at,
            payload=row.payload,
            dedupe_key=row.dedupe_key,
        )
