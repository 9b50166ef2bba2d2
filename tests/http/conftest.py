"""Apps with their own settings (limits, modes) for the transport tests, and a client that
speaks raw HTTP to them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from exchange.app import create_app
from tests import databases
from tests.conftest import make_settings
from tests.services import need_postgres

GRAPHQL_RESPONSE = "application/graphql-response+json"

AppFactory = Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


def app_factory(database_url: str, tmp_path: Path) -> AppFactory:
    @contextlib.asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = make_settings(database_url, tmp_path, **overrides)
        application = create_app(settings)
        async with LifespanManager(application) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield client

    return make


@pytest.fixture
def make_client(sqlite_database_url: str, tmp_path: Path) -> AppFactory:
    """For behaviour that does not depend on the database engine."""
    return app_factory(sqlite_database_url, tmp_path)


@pytest.fixture
def make_client_any_db(database_url: str, tmp_path: Path) -> AppFactory:
    """For behaviour that does: parametrized over SQLite and PostgreSQL."""
    return app_factory(database_url, tmp_path)


async def post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    accept: str | None = GRAPHQL_RESPONSE,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
    operation_name: str | None = None,
) -> httpx.Response:
    all_headers = dict(headers or {})
    if accept:
        all_headers["Accept"] = accept
    if key:
        all_headers["Authorization"] = f"Bearer {key}"
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    if extensions is not None:
        body["extensions"] = extensions
    if operation_name is not None:
        body["operationName"] = operation_name
    return await client.post("/graphql", json=body, headers=all_headers)


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


@pytest.fixture
def make_client_postgres(tmp_path: Path) -> AppFactory:
    """For what needs PostgreSQL itself (production mode refuses SQLite)."""
    need_postgres()
    return app_factory(databases.postgres_url(), tmp_path)


@pytest.fixture
def postgres_test_url() -> str:
    need_postgres()
    return databases.postgres_url()
