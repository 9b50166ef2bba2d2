"""npm graphql-ws (what Apollo Client, urql and Relay use for subscriptions) with the `ws`
package, against `exchange serve` on SQLite and PostgreSQL and across two processes."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import Served, codes, invitation_events, run_client, subscription
from tests.events.conftest import Server, until_live

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def records_named(scenario: dict[str, Any]) -> list[str]:
    return [entry["name"] for entry in scenario["subscriptions"]]


def email() -> str:
    return f"{uuid.uuid4().hex[:10]}@example.com"


async def test_hears_an_invitation_made_over_http_and_refuses_who_may_not_listen(
    served: Served, js_clients: Path
) -> None:
    world = served.world
    await until_live(served.server, 0)
    scenario = {
        "subscriptions": [
            subscription("host", served, world.host.key, 1),
            subscription("partner", served, world.partner.key, 1, exchangeId=world.exchange_id),
            # Another organisation hears only its own exchanges, and may not name the host's.
            subscription("other", served, world.other.key, 1),
            subscription(
                "other naming the host's exchange", served, world.other.key, 1, exchangeId=world.exchange_id
            ),
            subscription("read-only", served, world.reader.key, 1),
            subscription("bad key", served, "vx_not-a-key", 1),
        ]
    }
    async with run_client(js_clients, "graphql-ws.mjs", scenario) as run:
        assert "subscribed" in await run.line()
        await until_live(served.server, 3)
        invited_email = email()
        invited = await served.invite(world.host.key, world.exchange_id, invited_email)
        own = await served.invite(world.other.key, world.other_exchange_id, email())
        result = await run.result()

    records = result["records"]
    for name in ("host", "partner"):
        assert [
            (e["invitation"]["id"], e["previousStatus"], e["status"])
            for e in invitation_events(records[name])
        ] == [(invited["id"], None, "QUEUED")], name
    event = invitation_events(records["host"])[0]
    assert event["invitation"]["email"] == invited_email
    assert event["invitation"]["exchange"]["slug"] == world.exchange_slug
    # The host's invitation came first; `other` heard only the one in its own exchange.
    assert [e["invitation"]["id"] for e in invitation_events(records["other"])] == [own["id"]]

    for name in ("other naming the host's exchange", "read-only"):
        assert (records[name]["results"], codes(records[name])) == ([], ["FORBIDDEN"]), name
    assert records["bad key"]["error"]["closeCode"] == 4403
    assert result["closedBeforeDispose"]["bad key"]["code"] == 4403

    # The client's `complete` ended the three subscriptions on the server while their
    # sockets stayed open.
    assert result["completedByClient"] == ["host", "partner", "other"]
    assert result["released"] == {served.http: True}
    assert set(result["closedBeforeDispose"]) == {"bad key"}
    await until_live(served.server, 0)


async def test_the_stream_ends_within_a_second_when_its_key_is_revoked(
    served: Served, js_clients: Path
) -> None:
    key, key_id = served.world.spare_key()
    scenario = {"subscriptions": [subscription("revoked", served, key, 0)]}
    async with run_client(js_clients, "graphql-ws.mjs", scenario) as run:
        await run.line()
        await until_live(served.server, 1)
        revoked_at = await served.revoke(key_id)
        result = await run.result()

    record = result["records"]["revoked"]
    assert codes(record) == ["UNAUTHENTICATED"]
    assert record["completed"] and record["error"] is None
    # The server's key check runs every 30 s here: only the revocation event is this fast.
    assert record["endedAt"] / 1000 - revoked_at < 1.0, "the stream outlived its key by more than a second"
    await until_live(served.server, 0)


@pytest.mark.postgres
async def test_across_two_server_processes_sharing_redis(
    postgres_served: Served, second_server: Server, js_clients: Path
) -> None:
    """Subscribers on A and B; the invitation is made on B, the key revoked by a third process."""
    a, b, world = postgres_served.server, second_server, postgres_served.world
    key, key_id = world.spare_key()
    scenario = {
        "subscriptions": [
            subscription("host on A", a, world.host.key, 1),
            subscription("partner on B", b, world.partner.key, 1),
            subscription("revoked on A", a, key, 0),
            subscription("revoked on B", b, key, 0),
        ]
    }
    async with run_client(js_clients, "graphql-ws.mjs", scenario) as run:
        await run.line()
        await until_live(a, 2)
        await until_live(b, 2)
        invited = await postgres_served.invite(world.host.key, world.exchange_id, email(), via=b)
        # Everyone has heard it before the revocation (the revoked key is the host's too).
        await run.until_results(set(records_named(scenario)))
        revoked_at = await postgres_served.revoke(key_id)
        result = await run.result()

    records = result["records"]
    for name in records_named(scenario):
        assert [e["invitation"]["id"] for e in invitation_events(records[name])] == [invited["id"]], name
    for name in ("revoked on A", "revoked on B"):
        assert codes(records[name]) == ["UNAUTHENTICATED"] and records[name]["completed"], name
        assert records[name]["endedAt"] / 1000 - revoked_at < 1.0, (
            f"{name}: outlived its key by over a second"
        )
    assert result["completedByClient"] == ["host on A", "partner on B"]
    assert result["released"] == {a.http: True, b.http: True}
    await until_live(a, 0)
    await until_live(b, 0)
