"""Live invitation updates across real processes: two uvicorn servers sharing PostgreSQL and
Redis; events committed and published by a third process (this one) reach subscribers on
both, filtered by who may hear them, over both WebSocket protocols and HTTP streams."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import orjson
import pytest
from redis import asyncio as aioredis
from websockets.exceptions import ConnectionClosed, InvalidStatus

from exchange import access
from exchange.events import AfterCommit, InvitationEvent
from exchange.models import ApiKeyRole, Exchange, InvitationStatus
from schema.api.relay import encode_id
from tests.events.conftest import (
    SUBSCRIBE,
    Server,
    admin_key,
    change,
    gql_http,
    make_exchange,
    make_invitation,
    make_org,
    until_live,
    ws_client,
)
from tests.services import REDIS_URL

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

Q, S, A = InvitationStatus.QUEUED, InvitationStatus.SENT, InvitationStatus.ACCEPTED
PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]


def summary(payload: dict[str, Any]) -> tuple[str, str | None, str]:
    event = payload["data"]["invitationUpdates"]
    return event["invitation"]["id"], event["previousStatus"], event["status"]


async def test_events_from_another_process_reach_every_allowed_subscriber_once_in_order(
    orm: Any, two_servers: tuple[Server, Server]
) -> None:
    a, b = two_servers
    host, partner, other = await make_org("host"), await make_org("partner"), await make_org("other")
    admin = await admin_key()
    exchange = await make_exchange(host, partner)
    elsewhere = await make_exchange(other)
    invitation = await make_invitation(exchange, host)
    sentinel = await make_invitation(elsewhere, other)
    iid = encode_id("Invitation", invitation.id)

    async with (
        ws_client(a.ws, "graphql-transport-ws", host.key) as host_ws,
        ws_client(b.ws, "graphql-ws", partner.key) as partner_ws,
        ws_client(a.ws, "graphql-transport-ws", admin) as admin_ws,
        ws_client(b.ws, "graphql-transport-ws", other.key) as other_ws,
    ):
        for client in (host_ws, partner_ws, admin_ws, other_ws):
            await client.subscribe("1")
        await until_live(a, 2)
        await until_live(b, 2)

        await change(invitation, None, Q)
        await change(invitation, Q, S)
        await change(invitation, S, A)
        await change(sentinel, None, Q)

        expected = [(iid, None, "QUEUED"), (iid, "QUEUED", "SENT"), (iid, "SENT", "ACCEPTED")]
        for client in (host_ws, partner_ws, admin_ws):
            payloads = [await client.next_event("1") for _ in range(3)]
            assert [summary(p) for p in payloads] == expected, client.protocol
            assert payloads[0]["data"]["invitationUpdates"]["invitation"]["exchange"]["slug"] == exchange.slug
        # The admin hears the other organisation's event too...
        assert summary(await admin_ws.next_event("1"))[0] == encode_id("Invitation", sentinel.id)
        # ...and `other` hears only its own: its first event is the sentinel, not the three before.
        own = await other_ws.next_event("1")
        assert summary(own) == (encode_id("Invitation", sentinel.id), None, "QUEUED")
        event = own["data"]["invitationUpdates"]
        assert event["invitation"]["email"] == sentinel.email
        assert event["at"].endswith("+00:00") or event["at"].endswith("Z")


async def test_filters_narrow_and_foreign_exchanges_are_refused(
    orm: Any, two_servers: tuple[Server, Server]
) -> None:
    a, _b = two_servers
    host, partner, other = await make_org("host"), await make_org("partner"), await make_org("other")
    admin = await admin_key()
    shared = await make_exchange(host, partner)
    solo = await make_exchange(host)
    foreign = await make_exchange(other)
    in_shared, in_solo, in_foreign = (
        await make_invitation(shared, host),
        await make_invitation(solo, host),
        await make_invitation(foreign, other),
    )
    gid = lambda kind, pk: encode_id(kind, pk)  # noqa: E731

    async with (
        ws_client(a.ws, key=host.key) as by_exchange,
        ws_client(a.ws, key=host.key) as by_partner,
        ws_client(a.ws, key=admin) as admin_by_org,
        ws_client(a.ws, "graphql-ws", host.key) as refused_legacy,
        ws_client(a.ws, key=host.key) as refused,
    ):
        await by_exchange.subscribe("e", variables={"exchangeId": gid("ExperienceExchange", solo.id)})
        await by_partner.subscribe("p", variables={"organisationId": gid("Organisation", partner.id)})
        await admin_by_org.subscribe("o", variables={"organisationId": gid("Organisation", other.id)})

        # Someone else's exchange: FORBIDDEN, as the operation's error (nothing runs).
        await refused.subscribe("x", variables={"exchangeId": gid("ExperienceExchange", foreign.id)})
        error = await refused.receive()
        assert (error["type"], error["id"]) == ("error", "x")
        assert error["payload"][0]["extensions"]["code"] == "FORBIDDEN"
        await refused_legacy.subscribe("x", variables={"exchangeId": gid("ExperienceExchange", foreign.id)})
        error = await refused_legacy.receive()
        assert error["type"] == "error" and error["payload"]["extensions"]["code"] == "FORBIDDEN"
        await refused.subscribe("y", variables={"exchangeId": gid("ExperienceExchange", 10**9)})
        assert (await refused.receive())["payload"][0]["extensions"]["code"] == "NOT_FOUND"
        # Not an id (or another type's): malformed input, not NOT_FOUND (#10 item 11).
        await refused.subscribe("z", variables={"exchangeId": "not-an-id"})
        assert (await refused.receive())["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        await refused.subscribe("w", variables={"organisationId": gid("ExperienceExchange", solo.id)})
        assert (await refused.receive())["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"

        await until_live(a, 3)
        # Events the filters exclude go first; each subscriber's first event shows what passed.
        await change(in_foreign, None, Q)
        await change(in_shared, None, Q)
        await change(in_solo, None, Q)

        assert summary(await by_exchange.next_event("e"))[0] == gid("Invitation", in_solo.id)
        assert summary(await by_partner.next_event("p"))[0] == gid("Invitation", in_shared.id)
        assert summary(await admin_by_org.next_event("o"))[0] == gid("Invitation", in_foreign.id)
        # The partner filter keeps nothing from the solo exchange either: next is the shared one's.
        await change(in_solo, Q, S)
        await change(in_shared, Q, S)
        assert summary(await by_partner.next_event("p")) == (
            gid("Invitation", in_shared.id),
            "QUEUED",
            "SENT",
        )


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_connection_needs_a_valid_key(
    orm: Any, two_servers: tuple[Server, Server], protocol: str
) -> None:
    a, _b = two_servers
    org = await make_org("org")
    read_only = await make_org("reader", ApiKeyRole.READ_ONLY)

    for payload in ({}, {"Authorization": "Bearer vx_not-a-key"}):
        async with ws_client(a.ws, protocol, init=False) as client:
            await client.send({"type": "connection_init", "payload": payload})
            if protocol == "graphql-ws":
                assert (await client.receive())["type"] == "connection_error"
                with pytest.raises(ConnectionClosed):
                    await client.receive()
            else:
                with pytest.raises(ConnectionClosed) as closed:
                    await client.receive()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

    # The key may come in the payload (either spelling) or on the upgrade request.
    async with ws_client(a.ws, protocol, init=False) as client:
        assert (await client.init({"authorization": f"Bearer {org.key}"}))["type"] == "connection_ack"
    async with ws_client(a.ws, protocol, headers={"Authorization": f"Bearer {org.key}"}) as client:
        await client.subscribe("1")
        await until_live(a, 1)

    # A read-only key connects (it may query) but may not subscribe.
    async with ws_client(a.ws, protocol, read_only.key) as client:
        await client.subscribe("1")
        error = await client.receive()
        assert error["type"] == "error" and error["id"] == "1"
        payload = error["payload"] if protocol == "graphql-ws" else error["payload"][0]
        assert payload["extensions"]["code"] == "FORBIDDEN"
    await until_live(a, 0)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_no_operation_runs_before_connection_init(
    orm: Any, two_servers: tuple[Server, Server], protocol: str
) -> None:
    a, _b = two_servers
    org = await make_org("org")
    query = {"query": "{ organisations(first: 1) { totalCount } }"}
    async with ws_client(a.ws, protocol, init=False) as client:
        await client.send(
            {"id": "1", "type": "start" if protocol == "graphql-ws" else "subscribe", "payload": query}
        )
        await client.send(
            {
                "id": "2",
                "type": "start" if protocol == "graphql-ws" else "subscribe",
                "payload": {"query": SUBSCRIBE},
            }
        )
        with pytest.raises(ConnectionClosed) as closed:
            frame = await client.receive()
            raise AssertionError(f"the server answered an operation before connection_init: {frame}")
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    # After init, a socket still carries subscriptions only: queries and mutations go over
    # HTTP, where cost, rate limits and idempotency apply.
    async with ws_client(a.ws, protocol, org.key) as client:
        await client.send(
            {"id": "1", "type": "start" if protocol == "graphql-ws" else "subscribe", "payload": query}
        )
        refusal = await client.receive()
        assert refusal["type"] == "error" and refusal["id"] == "1"
        code = (refusal["payload"] if protocol == "graphql-ws" else refusal["payload"][0])["extensions"][
            "code"
        ]
        assert code in ("BAD_REQUEST", "GRAPHQL_VALIDATION_FAILED")
    # And the subscription after an acknowledged init does run (the refusal was the guard).
    async with ws_client(a.ws, protocol, org.key) as client:
        await client.subscribe("2")
        await until_live(a, 1)
    await until_live(a, 0)


async def test_subscribe_flood_is_capped_per_connection_and_queries_still_answer(
    orm: Any, two_servers: tuple[Server, Server]
) -> None:
    a, _b = two_servers
    host = await make_org("host")
    exchange = await make_exchange(host)
    invitation = await make_invitation(exchange, host)
    async with ws_client(a.ws, key=host.key) as client:

        async def flood() -> list[dict[str, Any]]:
            for number in range(300):
                await client.subscribe(str(number))
            return [await client.receive() for _ in range(200)]

        async def query_during_flood() -> dict[str, Any]:
            return await gql_http(a.http, "{ organisations(first: 1) { totalCount } }")

        refusals, answer = await asyncio.gather(flood(), query_during_flood())
        assert answer["data"]["organisations"]["totalCount"] >= 1
        assert {frame["type"] for frame in refusals} == {"error"}
        assert {frame["payload"][0]["extensions"]["code"] for frame in refusals} == {"TOO_MANY_SUBSCRIPTIONS"}
        assert {int(frame["id"]) for frame in refusals} == set(range(100, 300))

        await until_live(a, 100)
        await change(invitation, None, Q)
        delivered = [await client.receive() for _ in range(100)]
        assert {frame["type"] for frame in delivered} == {"next"}
        assert sorted(int(frame["id"]) for frame in delivered) == list(range(100))


async def test_http_streams_multipart_and_sse(orm: Any, two_servers: tuple[Server, Server]) -> None:
    _a, b = two_servers
    host = await make_org("host")
    exchange = await make_exchange(host)
    invitation = await make_invitation(exchange, host)
    body = {"query": SUBSCRIBE}
    auth = {"Authorization": f"Bearer {host.key}"}

    async with httpx.AsyncClient(base_url=b.http, timeout=10) as http:
        multipart = {**auth, "Accept": 'multipart/mixed;subscriptionSpec="1.0",application/json'}
        sse = {**auth, "Accept": "text/event-stream"}
        async with (
            http.stream("POST", "/graphql", json=body, headers=multipart) as parts,
            http.stream("POST", "/graphql", json=body, headers=sse) as events,
        ):
            assert parts.status_code == 200 and parts.headers["content-type"].startswith("multipart/mixed")
            assert events.status_code == 200 and events.headers["content-type"].startswith(
                "text/event-stream"
            )
            await until_live(b, 2)
            await change(invitation, None, Q)

            buffer = ""
            async for chunk in parts.aiter_text():
                buffer += chunk
                if "invitationUpdates" in buffer:
                    break
            part = next(p for p in buffer.split("--graphql") if "invitationUpdates" in p)
            payload = json.loads(part.split("\r\n\r\n", 1)[1].strip())["payload"]
            assert payload["data"]["invitationUpdates"]["status"] == "QUEUED"

            lines = events.aiter_lines()
            async for line in lines:
                if line.startswith("data:") and "invitationUpdates" in line:
                    data = json.loads(line.removeprefix("data:").strip())
                    assert data["data"]["invitationUpdates"]["invitation"]["id"] == encode_id(
                        "Invitation", invitation.id
                    )
                    break

        # Without a key the stream carries the refusal and ends.
        async with http.stream(
            "POST", "/graphql", json=body, headers={"Accept": "text/event-stream"}
        ) as refused:
            text = (await refused.aread()).decode()
        assert "UNAUTHENTICATED" in text and "event: complete" in text


async def test_revoked_key_ends_the_stream(orm: Any, two_servers: tuple[Server, Server]) -> None:
    a, _b = two_servers
    host = await make_org("host")
    async with ws_client(a.ws, key=host.key) as client:
        await client.subscribe("1")
        await until_live(a, 1)
        assert await access.revoke_key(host.key_id)
        ended = await client.next_event("1")
        assert ended["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (await client.receive())["type"] == "complete"
        # New subscriptions on the same (already authenticated) connection are refused too.
        await client.subscribe("2")
        refusal = await client.receive()
        assert refusal["type"] == "error" and refusal["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_slow_consumer_is_dropped_with_an_error(orm: Any, two_servers: tuple[Server, Server]) -> None:
    _a, b = two_servers  # b keeps at most 2 events per subscriber
    host = await make_org("host")
    async with ws_client(b.ws, key=host.key) as client:
        await client.subscribe("1")
        await until_live(b, 1)
        # A burst far faster than one subscriber's reads (each event is a database read and a
        # send): the queue overflows and the subscriber is dropped, not buffered without end.
        redis = aioredis.Redis.from_url(REDIS_URL)
        try:
            async with redis.pipeline(transaction=False) as pipe:
                for number in range(300):
                    event = InvitationEvent(10**9 + number, 10**9, frozenset({host.id}), None, Q)
                    pipe.publish(orm.redis_channel, orjson.dumps(event.to_wire()))
                await pipe.execute()
        finally:
            await redis.aclose()
        frames = []
        while True:
            frame = await client.receive()
            frames.append(frame)
            if frame["type"] == "complete":
                break
        errors = [f for f in frames if f["type"] == "next" and f["payload"].get("errors")]
        assert [e["payload"]["errors"][0]["extensions"]["code"] for e in errors] == ["SLOW_CONSUMER"]
    await until_live(b, 0)


INVITE = """
mutation($input: InviteVolunteersInput!) {
  inviteVolunteers(input: $input) { invitations { id status } userErrors { field message code } }
}
"""


async def test_a_mutation_on_one_server_reaches_subscribers_on_the_other(
    orm: Any, two_servers: tuple[Server, Server]
) -> None:
    a, b = two_servers
    host = await make_org("host")
    exchange = await make_exchange(host)
    async with ws_client(a.ws, key=host.key) as client:
        await client.subscribe("1")
        await until_live(a, 1)
        variables = {
            "input": {
                "exchangeId": encode_id("ExperienceExchange", exchange.id),
                "invitees": [
                    {"email": "dana@example.com", "fullName": "Dana", "country": "KZ", "locale": "kk"}
                ],
            }
        }
        result = await gql_http(b.http, INVITE, variables, key=host.key)
        invited = result["data"]["inviteVolunteers"]
        assert invited["userErrors"] == []
        event = (await client.next_event("1"))["data"]["invitationUpdates"]
        assert (event["invitation"]["id"], event["previousStatus"], event["status"]) == (
            invited["invitations"][0]["id"],
            None,
            "QUEUED",
        )
        assert event["invitation"]["email"] == "dana@example.com"


async def test_websocket_from_a_foreign_browser_origin_is_refused(
    orm: Any, two_servers: tuple[Server, Server]
) -> None:
    a, _b = two_servers
    org = await make_org("org")
    with pytest.raises(InvalidStatus) as refused:
        async with ws_client(a.ws, key=org.key, headers={"Origin": "https://evil.example"}):
            pass
    assert refused.value.response.status_code == 403
    # Clients that are not browsers send no Origin and are not affected.
    async with ws_client(a.ws, key=org.key):
        pass


async def test_one_execution_per_event_is_shared_only_by_identical_subscribers(
    orm: Any, two_servers: tuple[Server, Server]
) -> None:
    """Subscribers that would get the same answer share one execution per event; a different
    language (or caller, or document) gets its own answer."""
    a, _b = two_servers
    host = await make_org("host")
    exchange = await make_exchange(host)
    await Exchange.filter(id=exchange.id).update(titles={"en": "Aral Sea Week", "ru": "Неделя Арала"})
    invitation = await make_invitation(exchange, host)
    query = "subscription { invitationUpdates { status invitation { exchange { title } } } }"
    async with (
        ws_client(a.ws, key=host.key, headers={"Accept-Language": "en"}) as english,
        ws_client(a.ws, key=host.key, headers={"Accept-Language": "en"}) as english_too,
        ws_client(a.ws, key=host.key, headers={"Accept-Language": "ru"}) as russian,
    ):
        for client in (english, english_too, russian):
            await client.subscribe("1", query=query)
        await until_live(a, 3)
        await change(invitation, None, Q)
        titles = [
            (await client.next_event("1"))["data"]["invitationUpdates"]["invitation"]["exchange"]["title"]
            for client in (english, english_too, russian)
        ]
        assert titles == ["Aral Sea Week", "Aral Sea Week", "Неделя Арала"]


async def test_a_batch_of_events_travels_in_one_round_trip_in_order(
    orm: Any, two_servers: tuple[Server, Server]
) -> None:
    a, _b = two_servers
    host = await make_org("host")
    exchange = await make_exchange(host)
    invitations = [await make_invitation(exchange, host) for _ in range(3)]
    async with ws_client(a.ws, key=host.key) as client:
        await client.subscribe("1")
        await until_live(a, 1)
        after = AfterCommit()
        for invitation in invitations:
            after.add(InvitationEvent(invitation.id, exchange.id, frozenset({host.id}), None, Q))
        after.add(InvitationEvent(invitations[0].id, exchange.id, frozenset({host.id}), Q, S))
        await after.publish()
        got = [summary(await client.next_event("1")) for _ in range(4)]
        ids = [encode_id("Invitation", i.id) for i in invitations]
        assert got == [
            (ids[0], None, "QUEUED"),
            (ids[1], None, "QUEUED"),
            (ids[2], None, "QUEUED"),
            (ids[0], "QUEUED", "SENT"),
        ]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_socket_that_never_initialises_is_closed(
    two_servers: tuple[Server, Server], protocol: str
) -> None:
    a, _b = two_servers  # a closes sockets without connection_init after 1 s
    async with ws_client(a.ws, protocol, init=False) as client:
        with pytest.raises(ConnectionClosed) as closed:
            await client.receive(within=15)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408


async def test_subscriptions_per_key_are_capped_across_connections(
    orm: Any, two_servers: tuple[Server, Server]
) -> None:
    _a, b = two_servers  # b allows 3 live subscriptions per key
    host = await make_org("host")
    async with ws_client(b.ws, key=host.key) as first, ws_client(b.ws, "graphql-ws", host.key) as second:
        await first.subscribe("1")
        await first.subscribe("2")
        await second.subscribe("1")
        await until_live(b, 3)
        await second.subscribe("2")
        refusal = await second.receive()
        assert (
            refusal["type"] == "error"
            and refusal["payload"]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
        )
        # Another key is not affected.
        other = await make_org("other")
        async with ws_client(b.ws, key=other.key) as third:
            await third.subscribe("1")
            await until_live(b, 4)
