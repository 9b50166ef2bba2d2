"""Property-based fuzzing over the whole schema (hypothesis-graphql, from the exported SDL)
against a real server with the demo data: no 5xx, every error has a code, and nothing
internal (tracebacks, SQL, driver names) reaches the caller."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from exchange import db
from exchange.settings import Settings
from schema.build import export_sdl
from tests import databases
from tests.http.servers import uvicorn_server

LEAKS = ("Traceback", "SELECT ", "INSERT INTO", 'UPDATE "', "asyncpg", "sqlite3", "tortoise", 'File "/')

CUSTOM_SCALARS = {
    # Mostly valid values (to reach the resolvers), some malformed ones.
    "CountryCode": st.sampled_from(["KZ", "UZ", "DE", "KG", "TJ", "XX"]).map(nodes.String),
    "LanguageCode": st.sampled_from(["kk", "ru", "en", "kk", "ru", "zz"]).map(nodes.String),
    "Date": st.sampled_from(["2027-05-11", "2027-06-01", "2026-12-31", "2027-02-30"]).map(nodes.String),
    "DateTime": st.sampled_from(["2027-05-11T09:00:00+05:00", "2027-05-11T04:00:00Z", "soon"]).map(
        nodes.String
    ),
}


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str | None]]]:
    tmp_path = tmp_path_factory.mktemp("fuzz")
    database_url = databases.sqlite_url(tmp_path)

    async def load_demo() -> list[str | None]:
        from exchange import demo

        await db.init_db(Settings(_env_file=None, database_url=database_url), global_fallback=False)  # type: ignore[call-arg]
        try:
            result = await demo.load()
        finally:
            await db.close_db()
        return [None, result.admin_key, result.organisation_key]

    keys = asyncio.run(load_demo())
    env = {
        "EXCHANGE_DATABASE_URL": database_url,
        # Generated documents are deep and wide: let them reach the resolvers.
        "EXCHANGE_MAX_DEPTH": "40",
        "EXCHANGE_MAX_COST": "1000000000",
        "EXCHANGE_MAX_ALIASES": "1000",
        "EXCHANGE_MAX_ROOT_FIELDS": "100",
        "EXCHANGE_RATE_LIMIT_POINTS": "1000000000",
        "EXCHANGE_INTROSPECTION": "false",
    }
    with uvicorn_server(env, tmp_path / "server.log") as url:
        yield url, keys


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    text = response.text
    for leak in LEAKS:
        assert leak not in text, text
    body: dict[str, Any] = response.json()
    for error in body.get("errors") or []:
        assert error.get("extensions", {}).get("code"), error
        # A masked internal error is still a bug: any argument a caller can send has an answer.
        assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", error


SDL = export_sdl()


def fuzz(url: str, keys: list[str | None], document: object, key_index: int) -> None:
    headers = {"Accept": "application/graphql-response+json"}
    key = keys[key_index]
    if key:
        headers["Authorization"] = f"Bearer {key}"
    with httpx.Client(timeout=30) as client:
        check(client.post(url + "/graphql", json={"query": document}, headers=headers))


@pytest.mark.slow
@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(document=from_schema(SDL, custom_scalars=CUSTOM_SCALARS), key_index=st.integers(0, 2))
def test_valid_documents_never_fail_the_server(
    fuzz_server: tuple[str, list[str | None]], document: object, key_index: int
) -> None:
    fuzz(*fuzz_server, document, key_index)


@pytest.mark.slow
@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(
    document=from_schema(SDL, custom_scalars=CUSTOM_SCALARS, mode=Mode.NEGATIVE), key_index=st.integers(0, 2)
)
def test_invalid_documents_are_refused_cleanly(
    fuzz_server: tuple[str, list[str | None]], document: object, key_index: int
) -> None:
    fuzz(*fuzz_server, document, key_index)


def test_the_check_can_fail() -> None:
    leaked = httpx.Response(
        200, json={"errors": [{"message": 'Traceback: File "/x"', "extensions": {"code": "X"}}]}
    )
    with pytest.raises(AssertionError):
        check(leaked)
    uncoded = httpx.Response(200, json={"errors": [{"message": "oops"}]})
    with pytest.raises(AssertionError):
        check(uncoded)
    with pytest.raises(AssertionError):
        check(httpx.Response(500, json={}))
    check(httpx.Response(200, json={"data": {"x": 1}}))


def test_sdl_is_the_served_schema(tmp_path: Path) -> None:
    assert "type Query" in SDL and "type Mutation" in SDL
