"""Operations arriving by WebSocket get the same document checks as HTTP (depth, aliases,
tokens, validation) and the allow-list, through the schema extension."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tests import databases
from tests.http.servers import issue_admin_key, uvicorn_server

DEEP = (
    "subscription { invitationUpdates { invitation { exchange { host { parent { parent { slug } } } } } } }"
)
SHALLOW = "subscription { invitationUpdates { status } }"


@contextlib.contextmanager
def served(tmp_path: Path, **env: str) -> Iterator[tuple[str, str, str]]:
    """A uvicorn server on a fresh SQLite database with these EXCHANGE_* settings:
    (url, admin key, database url)."""
    database_url = databases.sqlite_url(tmp_path)
    key = issue_admin_key(database_url)
    with uvicorn_server({"EXCHANGE_DATABASE_URL": database_url, **env}, tmp_path / "server.log") as url:
        yield url, key, database_url


def first_answer(url: str, key: str, query: str, wait: float = 10) -> dict[str, Any]:
    ws_url = url.replace("http://", "ws://") + "/graphql"
    with connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        message: dict[str, Any] = json.loads(ws.recv(timeout=wait))
        return message


@pytest.mark.slow
def test_too_deep_subscription_is_refused_with_a_code(tmp_path: Path) -> None:
    with served(tmp_path, EXCHANGE_MAX_DEPTH="4") as (url, key, _database):
        message = first_answer(url, key, DEEP)
    assert message["type"] == "error", message
    assert message["payload"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"


@pytest.mark.slow
def test_allow_list_mode_covers_websocket_subscriptions(tmp_path: Path) -> None:
    with served(tmp_path, EXCHANGE_PERSISTED_QUERIES_ONLY="true") as (url, key, database_url):
        message = first_answer(url, key, SHALLOW)
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"

        document = tmp_path / "live.graphql"
        document.write_text(SHALLOW)
        from tests.cli.helpers import run_cli

        assert run_cli(database_url, "documents", "register", str(document)).exit_code == 0
        with pytest.raises(TimeoutError):  # registered: it runs, and waits for events
            first_answer(url, key, SHALLOW, wait=1.5)


COSTLY = (
    "subscription { invitationUpdates { invitation { exchange { "
    "participants(first: 50) { edges { node { volunteer { fullName } } } } } } } }"
)


@pytest.mark.slow
def test_costly_subscription_is_refused_with_a_code(tmp_path: Path) -> None:
    # A subscription runs its selection for every event: the HTTP cost rule applies to it too.
    with served(tmp_path, EXCHANGE_MAX_COST="40") as (url, key, _database):
        message = first_answer(url, key, COSTLY)
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
        assert "at most 40" in message["payload"][0]["message"]
        over_cap = COSTLY.replace("first: 50", "first: 100000")
        refused = first_answer(url, key, over_cap)
        assert refused["type"] == "error", refused
        assert refused["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        with pytest.raises(TimeoutError):  # a cheap one runs, and waits for events
            first_answer(url, key, SHALLOW, wait=1.5)
