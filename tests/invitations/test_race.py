"""Concurrent answers: two requests for the last seat, two answers to one link."""

from __future__ import annotations

import asyncio

from exchange.models import Invitation, InvitationStatus, Participation, ParticipationStatus
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, respond, token_for_email

ROUNDS = 5


async def test_two_accepts_for_the_last_seat_one_wins(gql: GraphQLClient, world: World) -> None:
    world.exchange.capacity = ROUNDS
    await world.exchange.save()
    for round_ in range(ROUNDS):
        # Fill the exchange up to one free seat, then two invitees race for it.
        a, b = f"a{round_}@example.com", f"b{round_}@example.com"
        await invite(gql, world, invitee(a), invitee(b))
        ta, tb = await token_for_email(a, world.settings), await token_for_email(b, world.settings)
        taken = await Participation.filter(status=ParticipationStatus.CONFIRMED).count()
        assert taken == round_
        world.exchange.capacity = taken + 1
        await world.exchange.save()
        first, second = await asyncio.gather(respond(gql, ta, "ACCEPT"), respond(gql, tb, "ACCEPT"))
        codes = sorted(p["userErrors"][0]["code"] if p["userErrors"] else "OK" for p in (first, second))
        assert codes == ["CAPACITY_REACHED", "OK"], (first, second)
        assert await Participation.filter(status=ParticipationStatus.CONFIRMED).count() == round_ + 1
        statuses = sorted(i.status for i in await Invitation.filter(email_normalised__in=[a, b]))
        assert statuses == [InvitationStatus.ACCEPTED, InvitationStatus.QUEUED]


async def test_two_answers_to_one_link_one_wins(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("a@example.com"))
    token = await token_for_email("a@example.com", world.settings)
    results = await asyncio.gather(
        *(respond(gql, token, answer) for answer in ("ACCEPT", "DECLINE", "ACCEPT"))
    )
    codes = sorted(p["userErrors"][0]["code"] if p["userErrors"] else "OK" for p in results)
    assert codes == ["ALREADY_RESPONDED", "ALREADY_RESPONDED", "OK"]
    invitation = await Invitation.get()
    expected = 1 if invitation.status is InvitationStatus.ACCEPTED else 0
    assert await Participation.all().count() == expected


async def test_concurrent_invites_of_one_address_make_one_invitation(
    gql: GraphQLClient, world: World
) -> None:
    results = await asyncio.gather(*(invite(gql, world, invitee("Same@example.com")) for _ in range(3)))
    ids = {payload["invitations"][0]["id"] for payload in results}
    assert len(ids) == 1
    assert await Invitation.filter(email_normalised="same@example.com").count() == 1
