"""Idempotency-Key on the invitation mutations: one mail per key, and token-scoped keys for
respondToInvitation (no API key)."""

from __future__ import annotations

import asyncio
from typing import Any

from exchange.models import Invitation, OutboxMail
from exchange.settings import Settings
from schema.api.relay import encode_id
from tests.conftest import GraphQLClient, make_key, make_organisation
from tests.invitations.conftest import INVITE, RESPOND, make_exchange, token_of

RESEND = (
    """mutation($id: ID!) { resendInvitation(id: $id) { invitation { id status } userErrors { code } } }"""
)


async def invite_two(gql: GraphQLClient) -> tuple[str, list[Invitation]]:
    host = await make_organisation("steppe-volunteers")
    key = await make_key(host)
    exchange = await make_exchange(host)
    result = await gql(
        INVITE,
        {
            "input": {
                "exchangeId": encode_id("ExperienceExchange", exchange.id),
                "invitees": [
                    {"email": "ana@example.org", "fullName": "Ana Pérez", "country": "ES"},
                    {"email": "li@example.org", "fullName": "Li Wei", "country": "CN"},
                ],
            }
        },
        key=key,
    )
    assert result["data"]["inviteVolunteers"]["userErrors"] == [], result
    return key, list(await Invitation.all().order_by("id"))


async def test_resend_with_one_key_sends_one_mail(gql: GraphQLClient) -> None:
    key, (invitation, _) = await invite_two(gql)
    mails_before = await OutboxMail.filter(invitation_id=invitation.id).count()
    variables = {"id": encode_id("Invitation", invitation.id)}
    headers = {"Idempotency-Key": "resend-ana-1"}
    results = await asyncio.gather(*[gql(RESEND, variables, key=key, headers=headers) for _ in range(3)])
    assert all("errors" not in result for result in results), results
    assert results[0] == results[1] == results[2]
    assert await OutboxMail.filter(invitation_id=invitation.id).count() == mails_before + 1
    # Without a key, a second resend is a second mail: the key is what made the retries safe.
    await gql(RESEND, variables, key=key)
    await gql(RESEND, variables, key=key)
    assert await OutboxMail.filter(invitation_id=invitation.id).count() == mails_before + 3


async def test_respond_without_api_key_is_scoped_to_the_token(gql: GraphQLClient, settings: Settings) -> None:
    _, (ana, li) = await invite_two(gql)
    headers = {"Idempotency-Key": "accept-click"}

    async def accept(invitation: Invitation) -> dict[str, Any]:
        variables = {"token": token_of(invitation, settings), "response": "ACCEPT"}
        return await gql(RESPOND, variables, headers=headers)

    first = await accept(ana)
    assert first["data"]["respondToInvitation"]["userErrors"] == [], first
    retry = await accept(ana)
    assert retry == first  # the first answer, not ALREADY_RESPONDED
    # The same key from another invitation's holder is another scope: it runs.
    other = await accept(li)
    assert other["data"]["respondToInvitation"]["userErrors"] == [], other
    assert (
        other["data"]["respondToInvitation"]["invitation"]["id"]
        != first["data"]["respondToInvitation"]["invitation"]["id"]
    )

    plain_retry = await gql(RESPOND, {"token": token_of(ana, settings), "response": "ACCEPT"})
    assert plain_retry["data"]["respondToInvitation"]["userErrors"][0]["code"] == "ALREADY_RESPONDED"
