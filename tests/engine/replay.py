"""A pytest plugin that checks every read the test suite sends: loaded with
``-p tests.engine.replay``, each query a test posts through tests/conftest.py's
``GraphQLClient`` (to an app made by ``exchange.app.create_app``) is sent a second time with
the app's ``compiled_execution`` off, with the same ``X-Request-Id``, and the two bodies are
compared as tests/engine/differential.py compares them. The tests run as usual (they see
the served answer); the differences are listed at the end of the session and written to
``EXCHANGE_REPLAY_REPORT`` if set (README: Tests).

Mutations, subscriptions, documents that do not parse and apps whose plan is already off are
sent once, untouched."""

from __future__ import annotations

import functools
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, OperationType, parse
from graphql.error import GraphQLSyntaxError

from exchange.settings import Settings
from tests.conftest import GraphQLClient
from tests.engine.differential import REFERENCE_RETRIES, canonical


@dataclass
class Replays:
    reads: int = 0
    differences: list[str] = field(default_factory=list)


REPLAYS = Replays()


def is_read(query: str) -> bool:
    try:
        document = parse(query)
    except GraphQLSyntaxError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return bool(operations) and all(op.operation is OperationType.QUERY for op in operations)


def settings_of(http: httpx.AsyncClient) -> Settings | None:
    """The Settings of the app behind an ASGI client: Starlette's ``state.exchange`` (set by
    create_app), found through asgi-lifespan's wrapper closure."""
    app: Any = getattr(http._transport, "app", None)
    for _ in range(5):
        state = getattr(getattr(app, "state", None), "exchange", None)
        if state is not None:
            settings = getattr(state, "settings", None)
            return settings if isinstance(settings, Settings) else None
        cells = getattr(app, "__closure__", None) or ()
        app = next((cell.cell_contents for cell in cells if hasattr(cell.cell_contents, "state")), None)
        if app is None:
            return None
    return None


def replaying(post: Any) -> Any:
    @functools.wraps(post)
    async def replayed(
        self: GraphQLClient,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        settings = settings_of(self.http)
        if settings is None or not settings.compiled_execution or not is_read(query):
            return await post(self, query, variables, key=key, headers=headers)
        sent = {"X-Request-Id": uuid.uuid4().hex, **(headers or {})}
        served = await post(self, query, variables, key=key, headers=sent)
        settings.compiled_execution = False
        try:
            for _ in range(1 + REFERENCE_RETRIES):
                reference = await post(self, query, variables, key=key, headers=sent)
                same = (reference.status_code, canonical(reference.content)) == (
                    served.status_code,
                    canonical(served.content),
                )
                if same:
                    break
        finally:
            settings.compiled_execution = True
        REPLAYS.reads += 1
        if not same:
            REPLAYS.differences.append(
                f"{os.environ.get('PYTEST_CURRENT_TEST', '?')}\nkey: {key}\nquery: {query}\n"
                f"variables: {variables}\nheaders: {headers}\n"
                f"served (HTTP {served.status_code}): {served.text}\n"
                f"graphql-core (HTTP {reference.status_code}): {reference.text}"
            )
        return served

    return replayed


def pytest_configure(config: pytest.Config) -> None:
    GraphQLClient.post = replaying(GraphQLClient.post)  # type: ignore[method-assign]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    text = f"{len(REPLAYS.differences)} difference(s) in {REPLAYS.reads} replayed reads\n\n" + "\n\n".join(
        REPLAYS.differences
    )
    terminalreporter.write_sep("=", "replayed reads (tests/engine/replay.py)")
    terminalreporter.write_line(text if len(text) < 20_000 else text[:20_000] + "\n[...]")
    if os.environ.get("EXCHANGE_REPLAY_REPORT"):
        Path(os.environ["EXCHANGE_REPLAY_REPORT"]).write_text(text, encoding="utf-8")
