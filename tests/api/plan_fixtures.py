"""The fixtures of the tests that compare the compiled plan with graphql-core over
plan_corpus's world. A test module binds them by name (``world = plan_fixtures.world``), so
they override tests/conftest.py's ``settings`` in that module only; a ``from`` import would
read to ruff as shadowed by every test's parameter of the same name (F811)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tortoise.backends.asyncpg.client import AsyncpgDBClient

from exchange.settings import Settings
from schema.api.context import Context
from tests.api.plan_corpus import World, seed
from tests.api.plan_differ import Differ
from tests.conftest import GraphQLClient, make_settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Hundreds of requests per test: no rate limit in the way.
    return make_settings(database_url, tmp_path, rate_limit_points=100_000_000)


@pytest.fixture
async def world(app: Any, settings: Settings, admin_key: str) -> World:
    return await seed(settings.signing_key, admin_key)


async def answer_counting(
    gql: GraphQLClient,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any],
    key: str | None = None,
) -> tuple[Any, int, int]:
    """The response body, and on PostgreSQL the pool acquires and the statements sent through
    Tortoise's client (not on a connection lent by exchange.pinned) while answering it."""
    taken, sent = [0], [0]
    acquire, fetch = AsyncpgDBClient.acquire_connection, AsyncpgDBClient.execute_query

    def counting_acquire(self: AsyncpgDBClient) -> Any:
        taken[0] += 1
        return acquire(self)

    async def counting_fetch(self: AsyncpgDBClient, *args: Any, **kwargs: Any) -> Any:
        sent[0] += 1
        return await fetch(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(AsyncpgDBClient, "acquire_connection", counting_acquire)
        patch.setattr(AsyncpgDBClient, "execute_query", counting_fetch)
        response = await gql.post(query, variables, key=key)
    assert response.status_code == 200, response.text
    return response.json(), taken[0], sent[0]


async def answer_counting_unpinned(
    gql: GraphQLClient,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any],
    key: str | None = None,
) -> tuple[Any, int, int]:
    """answer_counting with Context.reading lending no connection: each of a row field's
    statements takes its own from the pool, as without exchange.pinned."""
    with monkeypatch.context() as patch:
        patch.setattr(Context, "reading", lambda self: contextlib.nullcontext())
        return await answer_counting(gql, monkeypatch, query, variables, key)


@pytest.fixture
def differ(gql: GraphQLClient, settings: Settings) -> Iterator[Differ]:
    assert settings.compiled_execution is True  # the default
    yield Differ(gql, settings)
    assert settings.compiled_execution is True  # restored after every request
