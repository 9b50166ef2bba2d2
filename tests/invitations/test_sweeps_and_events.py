"""Expiry (read at once, stored by the sweep), reminders, and events after commit."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from exchange.events import InvitationEvent, get_bus
from exchange.invitations import sweeps
from exchange.models import Exchange, ExchangeStatus, Invitation, InvitationStatus, MailKind, OutboxMail
from exchange.settings import Settings
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, respond, token_for_email


def ago(**delta: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(**delta)


def ahead(**delta: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(**delta)


@asynccontextmanager
async def listening() -> AsyncIterator[list[InvitationEvent]]:
    """Invitation events the in-process bus delivers while the block runs (and shortly after);
    the participation events it also carries (accepting adds a participation) are left out."""
    received: list[InvitationEvent] = []
    ready = asyncio.Event()

    def keep(event: object) -> None:
        if isinstance(event, InvitationEvent):
            received.append(event)

    async def listen() -> None:
        stream = get_bus().subscribe()
        iterator = stream.__aiter__()
        first = asyncio.ensure_future(iterator.__anext__())
        await asyncio.sleep(0)
        ready.set()
        keep(await first)
        async for event in iterator:
            keep(event)

    task = asyncio.create_task(listen())
    await ready.wait()
    await asyncio.sleep(0.01)
    try:
        yield received
        for _ in range(20):
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, StopAsyncIteration):
            pass


async def test_overdue_reads_as_expired_without_writing(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("a@example.com"))
    await Invitation.all().update(expires_at=ago(seconds=1))
    token = await token_for_email("a@example.com", world.settings)
    preview = await gql("query($t: String!) { invitation(token: $t) { status } }", {"t": token})
    assert preview["data"]["invitation"] == {"status": "EXPIRED"}
    listed = await gql(
        '{ exchange(slug: "aral-week") { invitations { edges { node { status } } } } }', key=world.host_key
    )
    assert listed["data"]["exchange"]["invitations"]["edges"] == [{"node": {"status": "EXPIRED"}}]
    assert (await Invitation.get()).status is InvitationStatus.QUEUED


async def test_sweep_stores_expired_and_publishes(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("a@example.com"), invitee("b@example.com"), invitee("c@example.com"))
    await Invitation.filter(email_normalised__in=["a@example.com", "b@example.com"]).update(
        expires_at=ago(hours=1)
    )
    await Invitation.filter(email_normalised="b@example.com").update(status=InvitationStatus.DECLINED)
    async with listening() as events:
        assert await sweeps.expire_overdue() == 1
        assert await sweeps.expire_overdue() == 0
    a = await Invitation.get(email_normalised="a@example.com")
    assert a.status is InvitationStatus.EXPIRED
    assert (await Invitation.get(email_normalised="b@example.com")).status is InvitationStatus.DECLINED
    assert (await Invitation.get(email_normalised="c@example.com")).status is InvitationStatus.QUEUED
    assert [(e.invitation_id, e.previous_status, e.status) for e in events] == [
        (a.id, InvitationStatus.QUEUED, InvitationStatus.EXPIRED)
    ]
    assert events[0].organiser_ids == frozenset({world.host.id, world.partner.id})


async def test_reminders_once_and_never_after_an_answer(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("a@example.com"), invitee("b@example.com"), invitee("c@example.com"))
    await Invitation.all().update(
        status=InvitationStatus.SENT, created_at=ago(days=28), expires_at=ahead(days=2)
    )
    await Invitation.filter(email_normalised="c@example.com").update(expires_at=ahead(days=20))
    await respond(gql, await token_for_email("b@example.com", world.settings), "DECLINE")
    assert await sweeps.enqueue_reminders(world.settings) == 1
    assert await sweeps.enqueue_reminders(world.settings) == 0
    reminders = await OutboxMail.filter(kind=MailKind.REMINDER)
    assert [m.recipient for m in reminders] == ["a@example.com"]
    world.settings.reminder_days_before = None
    await Invitation.filter(email_normalised="c@example.com").update(expires_at=ahead(days=1))
    assert await sweeps.enqueue_reminders(world.settings) == 0


async def test_no_reminder_once_the_exchange_stopped_taking_answers(gql: GraphQLClient, world: World) -> None:
    # Cancelled or closed: the reminder would ask for an answer that can no longer be yes.
    await invite(gql, world, invitee("a@example.com"))
    await Invitation.all().update(
        status=InvitationStatus.SENT, created_at=ago(days=28), expires_at=ahead(days=2)
    )
    for status in (ExchangeStatus.CANCELLED, ExchangeStatus.CLOSED):
        await Exchange.filter(id=world.exchange.id).update(status=status)
        assert await sweeps.enqueue_reminders(world.settings) == 0
    await Exchange.filter(id=world.exchange.id).update(status=ExchangeStatus.OPEN)
    assert await sweeps.enqueue_reminders(world.settings) == 1


async def test_no_reminder_for_an_invitation_shorter_than_the_lead(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("a@example.com"), expiresInDays=2)
    await Invitation.all().update(status=InvitationStatus.SENT)
    assert await sweeps.enqueue_reminders(world.settings) == 0


async def test_events_follow_commits_only(gql: GraphQLClient, world: World) -> None:
    async with listening() as events:
        await invite(gql, world, invitee("a@example.com"))
        invitation = await Invitation.get()
        # Refused answers change nothing and announce nothing.
        world.exchange.capacity = 0
        await world.exchange.save()
        token = await token_for_email("a@example.com", world.settings)
        refused = await respond(gql, token, "ACCEPT")
        assert refused["userErrors"][0]["code"] == "CAPACITY_REACHED"
        await respond(gql, token, "DECLINE")
    assert [(e.invitation_id, e.previous_status, e.status) for e in events] == [
        (invitation.id, None, InvitationStatus.QUEUED),
        (invitation.id, InvitationStatus.QUEUED, InvitationStatus.DECLINED),
    ]
    assert all(e.exchange_id == world.exchange.id for e in events)
    assert all(e.organiser_ids == frozenset({world.host.id, world.partner.id}) for e in events)


async def test_event_is_published_after_the_transaction_commits(gql: GraphQLClient, world: World) -> None:
    """A subscriber that reads the database as soon as it hears an event finds the change."""
    await invite(gql, world, invitee("a@example.com"))
    token = await token_for_email("a@example.com", world.settings)
    seen: list[InvitationStatus] = []

    async def check_on_event() -> None:
        async for event in get_bus().subscribe():
            if isinstance(event, InvitationEvent):  # accepting also announces a participation
                seen.append((await Invitation.get(id=event.invitation_id)).status)
                return

    task = asyncio.create_task(check_on_event())
    await asyncio.sleep(0.01)
    await respond(gql, token, "ACCEPT")
    await asyncio.wait_for(task, 5)
    assert seen == [InvitationStatus.ACCEPTED]


async def test_the_background_sweeper_expires_and_announces(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("a@example.com"))
    await Invitation.all().update(expires_at=ago(seconds=1))
    world.settings.expiry_sweep_seconds = 0.01
    stream = get_bus().subscribe().__aiter__()
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)
    stop = await sweeps.start_sweeper(world.settings, None)
    try:
        event = await asyncio.wait_for(first, 10)
    finally:
        await stop()
        await stream.aclose()
    assert (event.previous_status, event.status) == (InvitationStatus.QUEUED, InvitationStatus.EXPIRED)
    assert (await Invitation.get()).status is InvitationStatus.EXPIRED


def test_reminders_can_be_turned_off_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("", "off", "none"):
        monkeypatch.setenv("EXCHANGE_REMINDER_DAYS_BEFORE", value)
        assert Settings(_env_file=None).reminder_days_before is None  # type: ignore[call-arg]
    monkeypatch.setenv("EXCHANGE_REMINDER_DAYS_BEFORE", "5")
    assert Settings(_env_file=None).reminder_days_before == 5  # type: ignore[call-arg]
