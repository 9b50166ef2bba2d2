"""Persisted documents: Apollo's APQ protocol, allow-list mode, and registration by CLI."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from exchange.app import create_app
from exchange.documents import register_file, sha256_hex
from tests.cli.helpers import run_cli
from tests.conftest import make_settings
from tests.http.conftest import GRAPHQL_RESPONSE, AppFactory, codes

QUERY = "{ organisations(first: 2) { totalCount } }"
HASH = sha256_hex(QUERY)


def apq(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def send(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/graphql", json=body, headers={"Accept": GRAPHQL_RESPONSE})


async def test_automatic_persisted_queries(make_client_any_db: AppFactory) -> None:
    async with make_client_any_db() as client:
        unknown = await send(client, {"extensions": apq(HASH)})
        assert codes(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"

        wrong = await send(client, {"query": QUERY, "extensions": apq("0" * 64)})
        assert wrong.status_code == 400
        assert codes(wrong) == ["PERSISTED_QUERY_HASH_MISMATCH"]

        registered = await send(client, {"query": QUERY, "extensions": apq(HASH)})
        assert registered.status_code == 200
        assert registered.json()["data"] == {"organisations": {"totalCount": 0}}

        by_hash = await send(client, {"extensions": apq(HASH)})
        assert by_hash.status_code == 200
        assert by_hash.json()["data"] == {"organisations": {"totalCount": 0}}

        by_get = await client.get(
            "/graphql", params={"extensions": json.dumps(apq(HASH))}, headers={"Accept": GRAPHQL_RESPONSE}
        )
        assert by_get.status_code == 200
        assert by_get.json()["data"] == {"organisations": {"totalCount": 0}}

        # An invalid document is not stored under its hash.
        broken = "{ noSuchField }"
        await send(client, {"query": broken, "extensions": apq(sha256_hex(broken))})
        assert codes(await send(client, {"extensions": apq(sha256_hex(broken))})) == [
            "PERSISTED_QUERY_NOT_FOUND"
        ]


async def test_a_hash_that_cannot_be_sha256_is_a_bad_request(make_client_any_db: AppFactory) -> None:
    # A longer value failed the key column's validation, a NUL PostgreSQL: both were a 500.
    async with make_client_any_db() as client:
        for digest in ("a" * 65, "a\u0000" + "0" * 62, "g" * 64, ""):
            refused = await send(client, {"extensions": apq(digest)})
            assert refused.status_code == 400 and codes(refused) == ["BAD_REQUEST"], digest
        upper = await send(client, {"query": QUERY, "extensions": apq(HASH.upper())})
        assert upper.json()["data"] == {"organisations": {"totalCount": 0}}


async def test_apq_survives_a_restart(make_client_any_db: AppFactory) -> None:
    async with make_client_any_db() as client:
        await send(client, {"query": QUERY, "extensions": apq(HASH)})
    async with make_client_any_db() as client:  # a new process: empty LRU, same table
        assert (await send(client, {"extensions": apq(HASH)})).status_code == 200


async def test_allow_list_mode_runs_only_registered_documents(
    make_client_any_db: AppFactory, tmp_path: Path
) -> None:
    async with make_client_any_db(persisted_queries_only=True) as client:
        plain = await send(client, {"query": QUERY})
        assert codes(plain) == ["PERSISTED_QUERY_NOT_ALLOWED"]
        auto = await send(client, {"query": QUERY, "extensions": apq(HASH)})
        assert codes(auto) == ["PERSISTED_QUERY_NOT_ALLOWED"]
        assert codes(await send(client, {"extensions": apq(HASH)})) == ["PERSISTED_QUERY_NOT_FOUND"]

        file = tmp_path / "ops.graphql"
        file.write_text(QUERY)
        assert list(await register_file(file)) == [HASH]

        assert (await send(client, {"extensions": apq(HASH)})).json()["data"] == {
            "organisations": {"totalCount": 0}
        }
        assert (await send(client, {"query": QUERY})).status_code == 200
        other = await send(client, {"query": "{ organisations(first: 3) { totalCount } }"})
        assert codes(other) == ["PERSISTED_QUERY_NOT_ALLOWED"]


def test_cli_registers_operations_and_manifests(database_url: str, tmp_path: Path) -> None:
    graphql_file = tmp_path / "app.graphql"
    graphql_file.write_text(
        "query Orgs { organisations(first: 2) { ...Count } }\n"
        "query Exchanges { exchanges(first: 2) { totalCount } }\n"
        "fragment Count on OrganisationConnection { totalCount }\n"
    )
    result = run_cli(database_url, "documents", "register", str(graphql_file))
    assert result.exit_code == 0, result.output
    hashes = [line for line in result.stdout.splitlines() if len(line) == 64]
    assert len(hashes) == 3  # the whole file, and each operation with its fragments
    assert sha256_hex(graphql_file.read_text()) in hashes

    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({HASH: QUERY}))
    result = run_cli(database_url, "documents", "register", str(manifest))
    assert result.exit_code == 0, result.output
    assert HASH in result.stdout

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"0" * 64: QUERY}))
    refused = run_cli(database_url, "documents", "register", str(bad))
    assert refused.exit_code != 0
    assert "hash" in refused.stderr

    async def ask() -> list[dict[str, Any]]:
        application = create_app(make_settings(database_url, tmp_path, persisted_queries_only=True))
        async with LifespanManager(application) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                answers = []
                for digest in [HASH, *hashes]:
                    body: dict[str, Any] = {"extensions": apq(digest)}
                    if digest == sha256_hex(graphql_file.read_text()):
                        body["operationName"] = "Exchanges"
                    answers.append((await send(client, body)).json())
                return answers

    for answer in asyncio.run(ask()):
        assert "errors" not in answer, answer
