"""participationUpdates across real processes (#15): two uvicorn servers sharing PostgreSQL and
Redis; roster and attendance mutations made on one reach subscribers on both, in order, each
to its audience (the exchange's organisers; a no-show, the host only), never on an
invitationUpdates stream; foreign and read-only callers are refused as for invitations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from exchange.models import ApiKeyRole, InvitationStatus, Session, SessionFormat, Volunteer
from schema.api.relay import encode_id
from tests.events.conftest import (
    Server,
    change,
    gql_http,
    make_exchange,
    make_invitation,
    make_org,
    until_live,
    ws_client,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

SUBSCRIBE = """
subscription($exchangeId: ID) {
  participationUpdates(exchangeId: $exchangeId) {
    participationId change previousStatus status role hours at
    participation { id status role volunteer { fullName } }
  }
}
"""
INVITATIONS = "subscription { invitationUpdates { invitation { id } status } }"
ADD = """mutation($e: ID!, $v: ID!) { addParticipant(exchangeId: $e, volunteerId: $v, role: COORDINATOR) {
  participation { id } userErrors { code } } }"""
RECORD = """mutation($id: ID!, $input: RecordAttendanceInput!) { recordAttendance(participationId: $id, input: $input) {
  userErrors { code } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateParticipationInput!) { updateParticipation(id: $id, input: $input) {
  userErrors { code } } }"""


def summary(payload: dict[str, Any]) -> tuple[str, str | None, str | None, float | None]:
    event = payload["data"]["participationUpdates"]
    return event["change"], event["previousStatus"], event["status"], event["hours"]


async def test_roster_changes_reach_the_organisers_in_order(
    orm: Any, two_servers: tuple[Server, Server]
) -> None:
    a, b = two_servers
    host, partner, other = await make_org("host"), await make_org("partner"), await make_org("other")
    reader = await make_org("reader", ApiKeyRole.READ_ONLY)
    exchange = await make_exchange(host, partner)
    started = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    await Session.create(
        exchange=exchange,
        titles={"en": "Day one"},
        starts_at=started,
        ends_at=started + dt.timedelta(hours=3),
        format=SessionFormat.IN_PERSON,
    )
    invitation = await make_invitation(exchange, host)
    volunteer = await Volunteer.create(
        full_name="Aigerim",
        email="aigerim@example.kz",
        country="KZ",
        languages=["kk"],
        organisation=host.organisation,
    )
    exchange_id = encode_id("ExperienceExchange", exchange.id)

    async with (
        ws_client(a.ws, key=host.key) as host_ws,
        ws_client(a.ws, key=host.key) as invitations_ws,
        ws_client(b.ws, "graphql-ws", partner.key) as partner_ws,
        ws_client(a.ws, key=other.key) as other_ws,
        ws_client(a.ws, key=reader.key) as reader_ws,
    ):
        await other_ws.subscribe("x", SUBSCRIBE, {"exchangeId": exchange_id})
        refused = await other_ws.receive()
        assert (refused["type"], refused["payload"][0]["extensions"]["code"]) == ("error", "FORBIDDEN")
        assert "participations" in refused["payload"][0]["message"]
        await reader_ws.subscribe("r", SUBSCRIBE)
        assert (await reader_ws.receive())["payload"][0]["extensions"]["code"] == "FORBIDDEN"

        await host_ws.subscribe("p", SUBSCRIBE, {"exchangeId": exchange_id})
        await invitations_ws.subscribe("i", INVITATIONS)
        await partner_ws.subscribe("p", SUBSCRIBE)
        await until_live(a, 2)
        await until_live(b, 1)

        added = await gql_http(
            b.http, ADD, {"e": exchange_id, "v": encode_id("Volunteer", volunteer.id)}, key=host.key
        )
        pid = added["data"]["addParticipant"]["participation"]["id"]
        for input in ({"status": "ATTENDED", "hours": 2.5}, {"status": "NO_SHOW"}):
            assert (await gql_http(b.http, RECORD, {"id": pid, "input": input}, key=host.key))["data"][
                "recordAttendance"
            ] == {"userErrors": []}
        await gql_http(b.http, UPDATE, {"id": pid, "input": {"status": "CONFIRMED"}}, key=host.key)
        await gql_http(b.http, UPDATE, {"id": pid, "input": {"role": "MENTOR"}}, key=host.key)
        await change(invitation, None, InvitationStatus.QUEUED)

        first = (await host_ws.next_event("p"))["data"]["participationUpdates"]
        assert first["participationId"] == pid
        assert first["participation"]["volunteer"] == {"fullName": "Aigerim"}
        assert (first["change"], first["previousStatus"], first["status"], first["role"]) == (
            "ADDED",
            None,
            "CONFIRMED",
            "COORDINATOR",
        )
        host_saw = [summary(await host_ws.next_event("p")) for _ in range(4)]
        assert host_saw == [
            ("ATTENDED", "CONFIRMED", "ATTENDED", 2.5),
            ("NO_SHOW", "ATTENDED", "NO_SHOW", None),
            ("ATTENDANCE_CLEARED", "NO_SHOW", "CONFIRMED", None),
            ("ROLE_CHANGED", "CONFIRMED", "CONFIRMED", None),
        ]
        # The partner hears the same, but not the no-show nor its undoing (hosts only).
        partner_saw = [summary(await partner_ws.next_event("p")) for _ in range(3)]
        assert partner_saw == [
            ("ADDED", None, "CONFIRMED", None),
            ("ATTENDED", "CONFIRMED", "ATTENDED", 2.5),
            ("ROLE_CHANGED", "CONFIRMED", "CONFIRMED", None),
        ]
        # The invitation stream hears only the invitation.
        invited = (await invitations_ws.next_event("i"))["data"]["invitationUpdates"]
        assert invited == {"invitation": {"id": encode_id("Invitation", invitation.id)}, "status": "QUEUED"}
