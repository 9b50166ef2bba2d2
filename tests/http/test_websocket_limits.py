"""Operations arriving by WebSocket get the same document checks as HTTP (depth, aliases,
tokens, validation), through the schema extension."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests import databases
from tests.http.servers import issue_admin_key, uvicorn_server

DEEP = (
    "subscription { invitationUpdates { invitation { exchange { host { parent { parent { slug } } } } } } }"
)


@pytest.mark.slow
def test_too_deep_subscription_is_refused_with_a_code(tmp_path: Path) -> None:
    database_url = databases.sqlite_url(tmp_path)
    key = issue_admin_key(database_url)
    env = {"EXCHANGE_DATABASE_URL": database_url, "EXCHANGE_MAX_DEPTH": "4"}
    with uvicorn_server(env, tmp_path / "server.log") as url:
        ws_url = url.replace("http://", "ws://") + "/graphql"
        with connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:  # type: ignore[list-item]
            ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
            assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
            ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": DEEP}}))
            message = json.loads(ws.recv(timeout=10))
    assert message["type"] == "error", message
    assert message["payload"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
