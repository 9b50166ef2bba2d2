"""Shared fixtures: a database per test (parametrized over SQLite and PostgreSQL), the
ASGI app with its lifespan, an HTTP client, and helpers to make keys and records."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from exchange import access
from exchange.app import create_app
from exchange.models import ApiKeyRole, Organisation, OrganisationKind
from exchange.settings import Settings
from tests import databases
from tests.services import need_postgres

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        need_postgres()
        return databases.postgres_url()
    return databases.sqlite_url(tmp_path)


@pytest.fixture
def sqlite_database_url(tmp_path: Path) -> str:
    """For tests whose subject does not depend on the database engine."""
    return databases.sqlite_url(tmp_path)


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "mail_dir": str(tmp_path / "mail-out"),
        "public_url": "https://exchange.test",
        "run_mail_dispatcher": False,
        "run_webhook_worker": False,
        "expiry_sweep_seconds": 3600,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with LifespanManager(application) as manager:
        yield manager.app


@dataclass
class GraphQLClient:
    http: httpx.AsyncClient

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if key:
            all_headers["Authorization"] = f"Bearer {key}"
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return await self.http.post("/graphql", json=body, headers=all_headers)

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await self.post(query, variables, key=key, headers=headers)
        payload: dict[str, Any] = response.json()
        return payload


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


@pytest.fixture
async def admin_key(app: Any) -> str:
    return (await access.issue_key(ApiKeyRole.ADMIN, None)).secret


async def make_organisation(slug: str, **fields: Any) -> Organisation:
    values: dict[str, Any] = {
        "names": {"en": slug.replace("-", " ").title()},
        "kind": OrganisationKind.NGO,
        "country": "KZ",
    }
    values.update(fields)
    return await Organisation.create(slug=slug, **values)


async def make_key(organisation: Organisation | None, role: ApiKeyRole = ApiKeyRole.ORGANISATION) -> str:
    return (await access.issue_key(role, organisation)).secret


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    asyncio.run(databases.drop_postgres_database())


# Started first. pytest-xdist's load scheduling (3.8) hands each worker a block of consecutive
# tests (a quarter of its share), then further blocks to whichever worker runs low: these two
# (~45-85 s each in a full run, the longest single tests) would otherwise start late
# (tests/perf sorts after most folders) and keep one worker busy after the other ran out of
# tests. First in the collection, both are in the first worker's first block and run at the
# start; the other worker's blocks take up the difference. Everything else keeps its order.
FIRST = (
    "tests/perf/test_bench_smoke.py::test_bench_smoke_run",
    "tests/deploy/test_dockerfile.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, start in enumerate(FIRST) if item.nodeid.startswith(start)), len(FIRST))

    items.sort(key=rank)
