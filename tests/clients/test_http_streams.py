"""Subscriptions over HTTP as the npm clients read them: graphql-sse in distinct-connections
mode, and @apollo/client's HttpLink, which asks for `multipart/mixed;subscriptionSpec=1.0`."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import Served, codes, invitation_events, run_client, subscription
from tests.events.conftest import until_live

pytestmark = [pytest.mark.redis, pytest.mark.slow]

CLIENTS = {
    "graphql-sse": ("graphql-sse.mjs", {}),
    "apollo-multipart": ("apollo.mjs", {"mode": "subscribe"}),
}


@pytest.mark.parametrize("client", list(CLIENTS))
async def test_hears_an_invitation_made_over_http_and_refuses_who_may_not_listen(
    served: Served, js_clients: Path, client: str
) -> None:
    script, options = CLIENTS[client]
    world = served.world
    await until_live(served.server, 0)
    scenario: dict[str, Any] = {
        **options,
        "subscriptions": [
            subscription("host", served, world.host.key, 1, exchangeId=world.exchange_id),
            subscription("partner", served, world.partner.key, 1),
            subscription(
                "other naming the host's exchange", served, world.other.key, 1, exchangeId=world.exchange_id
            ),
            subscription("read-only", served, world.reader.key, 1),
            subscription("bad key", served, "vx_not-a-key", 1),
        ],
    }
    async with run_client(js_clients, script, scenario) as run:
        assert "subscribed" in await run.line()
        await until_live(served.server, 2)
        invited_email = f"{uuid.uuid4().hex[:10]}@example.com"
        invited = await served.invite(world.host.key, world.exchange_id, invited_email)
        result = await run.result()

    records = result["records"]
    for name in ("host", "partner"):
        events = invitation_events(records[name])
        assert [(e["invitation"]["id"], e["previousStatus"], e["status"]) for e in events] == [
            (invited["id"], None, "QUEUED")
        ], name
        assert events[0]["invitation"]["email"] == invited_email
    # Refusals reach the client as GraphQL errors with their code, and the stream ends.
    for name, code in [
        ("other naming the host's exchange", "FORBIDDEN"),
        ("read-only", "FORBIDDEN"),
        ("bad key", "UNAUTHENTICATED"),
    ]:
        assert codes(records[name]) == [code], (name, records[name])
        assert invitation_events(records[name]) == [] and records[name]["endedAt"], name
    # The client's unsubscribe (it aborts the request) ended both on the server.
    assert result["completedByClient"] == ["host", "partner"]
    assert result["released"] == {served.http: True}
