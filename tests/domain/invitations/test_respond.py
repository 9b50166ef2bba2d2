"""exchange.invitations.respond without GraphQL: the token is the only credential (an unknown
one says nothing), accepting takes a place (volunteer, participation, consent) and declining
takes none, answers are final, and a refused answer writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from exchange.events import ParticipationChange
from exchange.invitations import tokens
from exchange.invitations.respond import Response, find_by_token, respond
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    Participation,
    ParticipationStatus,
    Volunteer,
)
from exchange.notice import NOTICE_VERSION
from tests.domain.conftest import RecordingBus, World, invitation, problems, refused


async def linked(
    world: World, email: str, status: InvitationStatus = InvitationStatus.SENT, **fields: Any
) -> str:
    """An invitation and the token its link carries."""
    nonce = tokens.new_nonce()
    token = tokens.token_for(nonce, world.settings.signing_key)
    await invitation(
        world.exchange, email, status, token_nonce=nonce, token_hash=tokens.token_hash(token), **fields
    )
    return token


async def test_an_unknown_link_tells_nothing(world: World) -> None:
    token = await linked(world, "aigerim@example.org")
    for wrong in ("x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B"), "short", "../../etc/passwd"):
        assert await find_by_token(wrong) is None
        assert problems(await refused(respond(wrong, Response.ACCEPT))) == {("NOT_FOUND", "token")}
    assert (await find_by_token(token)) is not None


async def test_accepting_takes_a_place_with_consent(world: World, bus: RecordingBus) -> None:
    token = await linked(world, "Aigerim@Example.org")
    accepted = await respond(token, Response.ACCEPT, public_profile=True)
    assert accepted.status is InvitationStatus.ACCEPTED and accepted.responded_at is not None
    assert accepted.consent_at is not None and accepted.consent_notice_version == NOTICE_VERSION
    volunteer = await Volunteer.get(id=accepted.volunteer_id)
    assert (volunteer.email, volunteer.public_profile, volunteer.languages) == (
        "aigerim@example.org",
        True,
        ["en"],
    )
    seat = await Participation.get(volunteer_id=volunteer.id, exchange_id=world.exchange.id)
    assert seat.status is ParticipationStatus.CONFIRMED
    assert [(e.previous_status, e.status) for e in bus.invitation_events] == [
        (InvitationStatus.SENT, InvitationStatus.ACCEPTED)
    ]
    # Taking the place is a participation change of its own (participationUpdates, webhooks).
    assert [(e.participation_id, e.change) for e in bus.participation_events] == [
        (seat.id, ParticipationChange.ADDED)
    ]

    again = await refused(respond(token, Response.DECLINE))
    assert problems(again) == {("ALREADY_RESPONDED", "token")} and len(bus.events) == 2


async def test_declining_takes_nothing_and_is_final(world: World) -> None:
    token = await linked(world, "daniyar@example.org")
    declined = await respond(token, Response.DECLINE)
    assert declined.status is InvitationStatus.DECLINED and declined.consent_at is None
    assert await Volunteer.all().count() == 0 and await Participation.all().count() == 0
    assert problems(await refused(respond(token, Response.ACCEPT))) == {("ALREADY_RESPONDED", "token")}

    revoked = await linked(world, "revoked@example.org", InvitationStatus.REVOKED)
    assert problems(await refused(respond(revoked, Response.ACCEPT))) == {("REVOKED", "token")}
    # An expired link cannot be accepted, but declining it still tells the organiser.
    expired = await linked(world, "late@example.org", expires_in=-dt.timedelta(minutes=1))
    assert problems(await refused(respond(expired, Response.ACCEPT))) == {("EXPIRED", "token")}
    assert (await respond(expired, Response.DECLINE)).status is InvitationStatus.DECLINED


async def test_no_place_no_answer_written(world: World, bus: RecordingBus) -> None:
    await Exchange.filter(id=world.exchange.id).update(capacity=1, waitlist=False)
    first = await linked(world, "aigerim@example.org")
    second = await linked(world, "daniyar@example.org")
    await respond(first, Response.ACCEPT)
    full = await refused(respond(second, Response.ACCEPT))
    assert problems(full) == {("CAPACITY_REACHED", "token")}
    assert (await find_by_token(second)).status is InvitationStatus.SENT  # type: ignore[union-attr]
    assert await Volunteer.filter(email="daniyar@example.org").count() == 0

    await Exchange.filter(id=world.exchange.id).update(status=ExchangeStatus.CLOSED, capacity=None)
    closed = await refused(respond(second, Response.ACCEPT))
    assert problems(closed) == {("INVALID", "token")}
    # Only the first acceptance happened: its invitation event and its place taken.
    assert await Invitation.filter(status=InvitationStatus.ACCEPTED).count() == 1
    assert (len(bus.invitation_events), len(bus.participation_events)) == (1, 1)
