"""Idempotency-Key: a retried mutation returns the first answer and does the work once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from graphql import parse

from exchange import access, idempotency
from exchange.idempotency import TTL
from exchange.models import ApiKeyRole, IdempotencyRecord, Organisation
from schema.admission import pipeline
from schema.admission.idempotency import declared_scope
from schema.build import default_schema
from tests.http.conftest import AppFactory, codes, post

CREATE = """mutation($input: CreateOrganisationInput!) {
  createOrganisation(input: $input) { organisation { id slug } userErrors { field code } } }"""


def org_input(slug: str) -> dict[str, Any]:
    return {"input": {"slug": slug, "names": [{"locale": "en", "text": slug}], "kind": "NGO"}}


async def test_concurrent_retries_do_the_work_once(make_client_any_db: AppFactory) -> None:
    async with make_client_any_db() as client:
        key = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
        headers = {"Idempotency-Key": "create-unv-1"}
        responses = await asyncio.gather(
            *[post(client, CREATE, org_input("unv"), key=key, headers=headers) for _ in range(3)]
        )
        assert [r.status_code for r in responses] == [200, 200, 200]
        bodies = [r.json()["data"] for r in responses]
        assert bodies[0]["createOrganisation"]["userErrors"] == []
        assert bodies[0] == bodies[1] == bodies[2]
        assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 2
        assert await Organisation.filter(slug="unv").count() == 1

        later = await post(client, CREATE, org_input("unv"), key=key, headers=headers)
        assert later.json()["data"] == bodies[0]
        assert later.headers["idempotent-replayed"] == "true"


async def test_same_key_with_another_body_is_refused(make_client_any_db: AppFactory) -> None:
    async with make_client_any_db() as client:
        key = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
        headers = {"Idempotency-Key": "k-1"}
        assert (await post(client, CREATE, org_input("first"), key=key, headers=headers)).status_code == 200
        reused = await post(client, CREATE, org_input("second"), key=key, headers=headers)
        assert reused.status_code == 422
        assert codes(reused) == ["IDEMPOTENCY_KEY_REUSED"]
        assert not await Organisation.filter(slug="second").exists()


async def test_keys_are_scoped_to_the_api_key(make_client: AppFactory) -> None:
    async with make_client() as client:
        key_a = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
        key_b = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
        headers = {"Idempotency-Key": "shared-name"}
        first = await post(client, CREATE, org_input("scoped"), key=key_a, headers=headers)
        assert first.json()["data"]["createOrganisation"]["userErrors"] == []
        # Another caller's key of the same name is another key: the work runs (and conflicts).
        second = await post(client, CREATE, org_input("scoped"), key=key_b, headers=headers)
        assert "idempotent-replayed" not in second.headers
        assert second.json()["data"]["createOrganisation"]["userErrors"][0]["code"] == "CONFLICT"


async def test_without_a_key_each_request_runs(make_client: AppFactory) -> None:
    async with make_client() as client:
        key = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
        await post(client, CREATE, org_input("twice"), key=key)
        again = await post(client, CREATE, org_input("twice"), key=key)
        assert again.json()["data"]["createOrganisation"]["userErrors"][0]["code"] == "CONFLICT"


async def test_in_progress_retry_is_told_409(
    make_client: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "IDEMPOTENCY_WAIT_SECONDS", 0.2)
    async with make_client() as client:
        issued = await access.issue_key(ApiKeyRole.ADMIN, None)
        variables = org_input("slow")
        fingerprint = idempotency.request_hash(
            idempotency_sha(CREATE), b"", orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
        )
        # Another worker claimed the key and has not finished.
        first = await idempotency.claim(f"key:{issued.public_id}", "busy", fingerprint)
        assert first.status is idempotency.Status.NEW
        response = await post(
            client, CREATE, variables, key=issued.secret, headers={"Idempotency-Key": "busy"}
        )
        assert response.status_code == 409
        assert codes(response) == ["IDEMPOTENCY_IN_PROGRESS"]
        assert response.headers["retry-after"] == "1"
        assert not await Organisation.filter(slug="slow").exists()


def idempotency_sha(query: str) -> bytes:
    from exchange.documents import sha256_hex

    return sha256_hex(query).encode()


async def test_failed_requests_release_their_key(make_client: AppFactory) -> None:
    async with make_client(execution_timeout_seconds=0) as client:
        key = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
        headers = {"Idempotency-Key": "retry-me"}
        timed_out = await post(client, CREATE, org_input("later"), key=key, headers=headers)
        assert codes(timed_out) == ["TIMEOUT"]
        assert not await IdempotencyRecord.filter(key="retry-me").exists()


async def test_claims_expire_after_a_day(make_client_any_db: AppFactory) -> None:
    async with make_client_any_db():
        first = await idempotency.claim("key:x", "k", "hash-1")
        assert first.status is idempotency.Status.NEW and first.record_id is not None
        await idempotency.complete(first.record_id, {"status": 200, "body": {"data": 1}})
        replay = await idempotency.claim("key:x", "k", "hash-1")
        assert replay.status is idempotency.Status.REPLAY
        assert replay.response == {"status": 200, "body": {"data": 1}}
        record = await IdempotencyRecord.get(id=first.record_id)
        assert timedelta(hours=23) < record.expires_at - record.created_at <= timedelta(hours=24, minutes=1)
        await IdempotencyRecord.filter(id=first.record_id).update(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)
        )
        again = await idempotency.claim("key:x", "k", "hash-2")
        assert again.status is idempotency.Status.NEW
        assert await idempotency.claim("key:x", "k", "hash-3", wait_seconds=0) == idempotency.Claim(
            idempotency.Status.MISMATCH, again.record_id
        )
        assert (
            await idempotency.claim("key:x", "k", "hash-2", wait_seconds=0)
        ).status is idempotency.Status.IN_PROGRESS


def test_token_scope_for_respond_to_invitation() -> None:
    literal = parse(
        'mutation { respondToInvitation(token: "abc", response: ACCEPT) { userErrors { code } } }'
    )
    variable = parse(
        "mutation($t: String!) { respondToInvitation(token: $t, response: ACCEPT) { userErrors { code } } }"
    )
    other = parse("mutation { createOrganisation(input: {}) { userErrors { code } } }")
    # respondToInvitation declares its token as the scope (schema/api/mutations/invitations.py).
    schema = default_schema()._schema
    assert declared_scope(schema, literal.definitions[0], {}) == "abc"  # type: ignore[arg-type]
    assert declared_scope(schema, variable.definitions[0], {"t": "abc"}) == "abc"  # type: ignore[arg-type]
    assert declared_scope(schema, other.definitions[0], {}) is None  # type: ignore[arg-type]
    assert idempotency.scope_for_token("abc") != idempotency.scope_for_token("abd")
    assert "abc" not in idempotency.scope_for_token("abc")
    assert len(idempotency.scope_for_token("abc")) <= 100


async def test_expired_keys_are_purged(make_client: AppFactory) -> None:
    # What the hourly purger (a background service) runs.
    past = datetime.now(UTC) - timedelta(hours=1)
    async with make_client():
        await IdempotencyRecord.create(scope="key:x", key="old", request_hash="h", expires_at=past)
        await IdempotencyRecord.create(scope="key:x", key="live", request_hash="h", expires_at=past + TTL)
        assert await idempotency.purge_expired() == 1
        assert await IdempotencyRecord.filter(key="live").exists()
