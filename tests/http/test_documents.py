"""Persisted documents: Apollo's APQ protocol, allow-list mode, and registration by CLI."""

from __future__ import annotations

import asyncio
import importlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from tortoise import connections

from exchange.app import create_app
from exchange.documents import MAX_DOCUMENT_CHARS, DocumentStore, entry_bytes, register_file, sha256_hex
from exchange.models import InvitationStatus, PersistedDocument
from tests.cli.helpers import run_cli
from tests.conftest import make_settings
from tests.events.conftest import change, make_exchange, make_invitation, make_org
from tests.http.conftest import GRAPHQL_RESPONSE, AppFactory, codes
from tests.http.test_multipart_subscriptions import RawStream, apollo_read

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


async def test_automatic_registrations_stay_in_the_process(make_client_any_db: AppFactory) -> None:
    """Anyone may register a document automatically (a read-only key sits in every partner
    frontend): nothing of it reaches the table, which only operators fill."""
    from exchange import access
    from exchange.models import ApiKeyRole

    async with make_client_any_db() as client:
        key = (await access.issue_key(ApiKeyRole.READ_ONLY, None)).secret
        keyed_query = "{ organisations(first: 1) { totalCount } }"
        anonymous = await send(client, {"query": QUERY, "extensions": apq(HASH)})
        keyed = await client.post(
            "/graphql",
            json={"query": keyed_query, "extensions": apq(sha256_hex(keyed_query))},
            headers={"Accept": GRAPHQL_RESPONSE, "Authorization": f"Bearer {key}"},
        )
        assert "errors" not in anonymous.json() and "errors" not in keyed.json()
        assert (await send(client, {"extensions": apq(HASH)})).status_code == 200
        assert await PersistedDocument.all().count() == 0
    async with make_client_any_db() as client:  # a new process: the client sends the text again
        assert codes(await send(client, {"extensions": apq(HASH)})) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert (await send(client, {"query": QUERY, "extensions": apq(HASH)})).status_code == 200
        assert (await send(client, {"extensions": apq(HASH)})).status_code == 200


async def test_a_document_over_the_cap_is_not_persisted(make_client_any_db: AppFactory) -> None:
    """A small query padded with a long comment (no tokens, so the parser takes it) is
    refused for persisting; one at the cap is kept."""
    async with make_client_any_db() as client:
        padded = "{ __typename }\n#" + "x" * 900_000
        refused = await send(client, {"query": padded, "extensions": apq(sha256_hex(padded))})
        assert refused.status_code == 400
        assert codes(refused) == ["PERSISTED_QUERY_TOO_LARGE"]
        assert str(MAX_DOCUMENT_CHARS) in refused.json()["errors"][0]["message"]
        assert codes(await send(client, {"extensions": apq(sha256_hex(padded))})) == [
            "PERSISTED_QUERY_NOT_FOUND"
        ]
        # The same text without persistedQuery runs like any other.
        assert (await send(client, {"query": padded})).json()["data"] == {"__typename": "Query"}

        at_cap = "{ __typename }\n#" + "y" * (MAX_DOCUMENT_CHARS - len("{ __typename }\n#"))
        assert len(at_cap) == MAX_DOCUMENT_CHARS
        kept = await send(client, {"query": at_cap, "extensions": apq(sha256_hex(at_cap))})
        assert kept.json()["data"] == {"__typename": "Query"}
        assert (await send(client, {"extensions": apq(sha256_hex(at_cap))})).json()["data"] == {
            "__typename": "Query"
        }
        assert await PersistedDocument.all().count() == 0


async def test_the_document_cache_is_bounded_by_bytes(make_client: AppFactory) -> None:
    """Large documents evict others before the cache passes its budget in bytes, however
    few they are; evicted ones are simply unknown again."""
    budget = 1_000_000
    store = DocumentStore(max_bytes=budget)
    async with make_client():  # the table behind the cache
        texts = [f"{{ __typename }} # {n}\n#" + "z" * 90_000 for n in range(40)]
        hashes = [store.remember(text) for text in texts]
        assert store.cached_bytes <= budget
        assert store.cached_bytes >= budget - entry_bytes(texts[0])
        kept = [digest for digest in hashes if await store.lookup(digest) is not None]
        assert kept == hashes[-len(kept) :] and 5 < len(kept) < 12
        # Wider characters take more room: the budget counts bytes, not characters.
        wide = DocumentStore(max_bytes=budget)
        for n in range(40):
            wide.remember(f"{{ __typename }} # {n}\n#" + "ж" * 90_000)
        assert wide.cached_bytes <= budget
        assert wide.cached_bytes // entry_bytes("ж" * 90_000) < len(kept)
        # One entry larger than the whole budget is not kept at all.
        tiny = DocumentStore(max_bytes=10_000)
        tiny.remember("{ __typename }\n#" + "q" * 20_000)
        assert tiny.cached_bytes == 0


async def test_migration_forgets_stored_automatic_registrations(make_client_any_db: AppFactory) -> None:
    """Rows earlier versions stored for automatic registrations go; registered ones stay."""
    async with make_client_any_db():
        await PersistedDocument.create(sha256="a" * 64, document="{ __typename }", registered=False)
        await PersistedDocument.create(sha256=HASH, document=QUERY, registered=True)
        migration = importlib.import_module("exchange.migrations.0006_automatic_documents_forgotten")
        for statement in migration.FORGET:
            await connections.get("default").execute_script(statement)
        assert await PersistedDocument.all().values_list("sha256", flat=True) == [HASH]


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

    long = tmp_path / "long.graphql"
    long.write_text("{ __typename }\n#" + "x" * MAX_DOCUMENT_CHARS)
    too_long = run_cli(database_url, "documents", "register", str(long))
    assert too_long.exit_code != 0
    assert f"longer than {MAX_DOCUMENT_CHARS} characters" in too_long.stderr
    assert "Traceback" not in too_long.output

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


# ------------------------------------------------------------ subscriptions by hash

SUBSCRIPTION = "subscription { invitationUpdates { status previousStatus } }"
SUBSCRIPTION_HASH = sha256_hex(SUBSCRIPTION)
SSE = "text/event-stream"
MULTIPART = "multipart/mixed;subscriptionSpec=1.0"


def stream_payloads(accept: str, body: bytes) -> list[dict[str, Any]]:
    """The results an event stream carried (heartbeats and the end of the stream left out)."""
    if accept == MULTIPART:
        return apollo_read([body])
    return [
        json.loads(line.removeprefix(b"data:"))
        for line in body.splitlines()
        if line.startswith(b"data:") and line.removeprefix(b"data:").strip()
    ]


async def make_persisted(app: Any, accept: str, allow_list: bool, tmp_path: Path) -> None:
    """SUBSCRIPTION known by its hash: registered (allow-list mode), or sent once with its
    text over the stream (APQ; a subscription cannot be sent over JSON)."""
    if allow_list:
        file = tmp_path / "subscription.graphql"
        file.write_text(SUBSCRIPTION)
        assert list(await register_file(file)) == [SUBSCRIPTION_HASH]
        return
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        # Without a key the stream carries the refusal and ends; the document is remembered.
        first = await client.post(
            "/graphql",
            json={"query": SUBSCRIPTION, "extensions": apq(SUBSCRIPTION_HASH)},
            headers={"Accept": accept},
        )
    [refusal] = stream_payloads(accept, first.content)
    assert [error["extensions"]["code"] for error in refusal["errors"]] == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("accept", [SSE, MULTIPART], ids=["sse", "multipart"])
@pytest.mark.parametrize("allow_list", [False, True], ids=["apq", "allow-list"])
async def test_a_subscription_sent_by_its_hash_streams_its_events(
    database_url: str, tmp_path: Path, accept: str, allow_list: bool
) -> None:
    """The stream runs the document its hash names: Strawberry's stream path used to read
    the body again, found no `query` there and sent a masked INTERNAL_SERVER_ERROR."""
    settings = make_settings(database_url, tmp_path, persisted_queries_only=allow_list)
    async with LifespanManager(create_app(settings)) as manager:
        app = manager.app
        await make_persisted(app, accept, allow_list, tmp_path)
        host = await make_org("host")
        invitation = await make_invitation(await make_exchange(host), host)
        stream = RawStream(
            app,
            {"extensions": apq(SUBSCRIPTION_HASH)},
            {"accept": accept, "authorization": f"Bearer {host.key}"},
        )
        headers = await stream.start()
        try:
            assert headers["content-type"].startswith(accept.split(";")[0])
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                for _ in range(200):
                    if (await client.get("/healthz")).json()["live"]["subscriptions"] == 1:
                        break
                    await asyncio.sleep(0.025)
                else:
                    chunk = await stream.chunk(0.1)
                    raise AssertionError(f"the subscription never started; the stream sent {chunk!r}")
            await change(invitation, None, InvitationStatus.QUEUED)
            body = b""
            while not stream_payloads(accept, body):
                chunk = await stream.chunk()
                assert chunk is not None, body
                body += chunk
        finally:
            await stream.close()
    assert stream_payloads(accept, body) == [
        {"data": {"invitationUpdates": {"status": "QUEUED", "previousStatus": None}}}
    ]


@pytest.mark.parametrize("accept", [SSE, MULTIPART], ids=["sse", "multipart"])
async def test_a_subscription_sent_by_its_hash_over_get_runs(make_client: AppFactory, accept: str) -> None:
    """GET carries subscriptions to a stream too, by hash alone: without a key the
    subscription itself answers UNAUTHENTICATED (it ran), not INTERNAL_SERVER_ERROR."""
    async with make_client() as client:
        with_text = await client.post(
            "/graphql",
            json={"query": SUBSCRIPTION, "extensions": apq(SUBSCRIPTION_HASH)},
            headers={"Accept": accept},
        )
        assert with_text.status_code == 200
        by_hash = await client.get(
            "/graphql",
            params={"extensions": json.dumps(apq(SUBSCRIPTION_HASH))},
            headers={"Accept": accept},
        )
    assert by_hash.status_code == 200
    assert by_hash.headers["content-type"].startswith(accept.split(";")[0])
    [refusal] = stream_payloads(accept, by_hash.content)
    assert [error["extensions"]["code"] for error in refusal["errors"]] == ["UNAUTHENTICATED"]
