"""Idempotency-Key and secrets shown once: a response carrying an API key or a webhook signing
secret is kept for replays without the secret (null, with a SECRET_NOT_REPLAYED error at its
path), so the idempotency table never holds a usable credential."""

from __future__ import annotations

from typing import Any

import httpx
import strawberry
from graphql import parse
from tortoise import connections

from exchange import access
from exchange.models import ApiKeyRole, IdempotencyRecord, WebhookEndpoint
from exchange.settings import Settings
from exchange.webhooks import signing
from schema.api.relay import encode_id
from schema.api.shown_once import SECRET_NOT_REPLAYED, advice, for_replay, shown_once, shown_once_fields
from schema.build import build_schema
from tests.conftest import make_key, make_organisation
from tests.http.conftest import AppFactory, codes, post

ISSUE = """mutation($org: ID!) {
  issueApiKey(organisationId: $org, role: ORGANISATION) { key keyId userErrors { code } } }"""
ISSUE_ALIASED = """mutation($org: ID!) { issued: issueApiKey(organisationId: $org, role: READ_ONLY) { ...Shown } }
fragment Shown on ApiKeyPayload { theSecret: key keyId ... on ApiKeyPayload { again: key } }"""
ADD = """mutation($url: String!) {
  addWebhookEndpoint(url: $url) { endpoint { id url } secret userErrors { code } } }"""
ROTATE = "mutation($id: ID!) { rotateWebhookSecret(id: $id) { endpoint { id } secret userErrors { code } } }"
VOLUNTEERS = "{ volunteers(first: 1) { totalCount } }"
REVOKE = "mutation($id: String!) { revokeApiKey(keyId: $id) { revokedKeyId userErrors { field code } } }"


async def stored_text() -> str:
    """Every column of every idempotency row, as the database returns it."""
    rows = await connections.get("default").execute_query_dict("SELECT * FROM idempotency_record")
    assert rows, "the mutation's answer was not recorded"
    return repr(rows)


def withheld(response: httpx.Response) -> list[tuple[list[Any], str]]:
    return [
        (error["path"], error["extensions"]["code"])
        for error in response.json().get("errors", [])
        if error["extensions"]["code"] == SECRET_NOT_REPLAYED
    ]


async def test_issued_key_is_never_stored_and_its_replay_withholds_it(make_client_any_db: AppFactory) -> None:
    async with make_client_any_db() as client:
        admin = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
        org = await make_organisation("aral-eco")
        variables = {"org": encode_id("Organisation", org.id)}
        headers = {"Idempotency-Key": "issue-1"}

        first = await post(client, ISSUE, variables, key=admin, headers=headers)
        issued = first.json()["data"]["issueApiKey"]
        secret, key_id = issued["key"], issued["keyId"]
        assert secret.startswith(access.KEY_PREFIX) and "errors" not in first.json()

        text = await stored_text()
        assert secret not in text and secret.removeprefix(access.KEY_PREFIX) not in text

        replay = await post(client, ISSUE, variables, key=admin, headers=headers)
        assert replay.status_code == 200 and replay.headers["idempotent-replayed"] == "true"
        assert replay.json()["data"] == {"issueApiKey": {"key": None, "keyId": key_id, "userErrors": []}}
        assert withheld(replay) == [(["issueApiKey", "key"], SECRET_NOT_REPLAYED)]
        assert "revokeApiKey" in replay.json()["errors"][0]["message"]  # what to do instead
        # The work was done once, and the key shown the first time works (its hash is stored).
        assert await IdempotencyRecord.filter(key="issue-1").count() == 1
        actor = await access.authenticate(secret)
        assert actor.key_id == key_id
        listed = await post(client, VOLUNTEERS, key=secret)
        assert "errors" not in listed.json() and listed.json()["data"]["volunteers"]["totalCount"] == 0


async def test_aliases_and_fragments_do_not_smuggle_the_secret_into_storage(
    make_client_any_db: AppFactory,
) -> None:
    async with make_client_any_db() as client:
        admin = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
        org = await make_organisation("caspian")
        variables = {"org": encode_id("Organisation", org.id)}
        headers = {"Idempotency-Key": "issue-aliased"}
        first = (await post(client, ISSUE_ALIASED, variables, key=admin, headers=headers)).json()
        secret = first["data"]["issued"]["theSecret"]
        assert secret == first["data"]["issued"]["again"]
        assert secret not in await stored_text()

        replay = await post(client, ISSUE_ALIASED, variables, key=admin, headers=headers)
        assert replay.json()["data"]["issued"] == {
            "theSecret": None,
            "keyId": first["data"]["issued"]["keyId"],
            "again": None,
        }
        assert sorted(withheld(replay)) == [
            (["issued", "again"], SECRET_NOT_REPLAYED),
            (["issued", "theSecret"], SECRET_NOT_REPLAYED),
        ]


async def test_webhook_secrets_are_never_stored(make_client_any_db: AppFactory) -> None:
    async with make_client_any_db() as client:
        org = await make_organisation("crm-owner")
        key = await make_key(org)
        add_vars = {"url": "https://crm.example.org/hooks"}
        added = (await post(client, ADD, add_vars, key=key, headers={"Idempotency-Key": "add-1"})).json()
        endpoint_id, secret = (
            added["data"]["addWebhookEndpoint"]["endpoint"]["id"],
            added["data"]["addWebhookEndpoint"]["secret"],
        )
        rotate_vars = {"id": endpoint_id}
        rotated = (
            await post(client, ROTATE, rotate_vars, key=key, headers={"Idempotency-Key": "rot-1"})
        ).json()
        new_secret = rotated["data"]["rotateWebhookSecret"]["secret"]
        assert secret.startswith("whsec_") and new_secret.startswith("whsec_") and new_secret != secret

        text = await stored_text()
        for value in (secret, new_secret):
            assert value not in text and value.removeprefix("whsec_") not in text

        replay_add = await post(client, ADD, add_vars, key=key, headers={"Idempotency-Key": "add-1"})
        assert replay_add.json()["data"]["addWebhookEndpoint"]["secret"] is None
        assert replay_add.json()["data"]["addWebhookEndpoint"]["endpoint"]["id"] == endpoint_id
        assert withheld(replay_add) == [(["addWebhookEndpoint", "secret"], SECRET_NOT_REPLAYED)]
        replay_rotate = await post(client, ROTATE, rotate_vars, key=key, headers={"Idempotency-Key": "rot-1"})
        assert replay_rotate.json()["data"]["rotateWebhookSecret"]["secret"] is None
        assert withheld(replay_rotate) == [(["rotateWebhookSecret", "secret"], SECRET_NOT_REPLAYED)]
        # Replays changed nothing: one endpoint, signing with the secret the rotation showed,
        # which its row holds only sealed (exchange.sealed).
        [endpoint] = await WebhookEndpoint.filter(organisation=org)
        sealer = signing.sealer(Settings(_env_file=None))  # type: ignore[call-arg]  # the app's key
        assert signing.unseal_secret(sealer, endpoint.id, endpoint.sealed_secret) == new_secret
        rows = repr(await connections.get("default").execute_query_dict("SELECT * FROM webhook_endpoint"))
        for value in (secret, new_secret):
            assert value not in rows and value.removeprefix("whsec_") not in rows


async def test_responses_without_a_secret_are_replayed_whole(make_client: AppFactory) -> None:
    async with make_client() as client:
        admin = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
        org = await make_organisation("no-secret")
        # An unknown organisation: a userError and no secret, so the replay is the answer itself.
        bad = {"org": encode_id("Organisation", org.id + 1000)}
        headers = {"Idempotency-Key": "issue-missing"}
        first = await post(client, ISSUE, bad, key=admin, headers=headers)
        assert first.json()["data"]["issueApiKey"]["userErrors"] == [{"code": "NOT_FOUND"}]
        replay = await post(client, ISSUE, bad, key=admin, headers=headers)
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.json() == first.json()


def test_every_shown_once_field_is_declared_and_nullable() -> None:
    schema = build_schema()._schema
    declared = {(type_name, name) for type_name, name, _ in shown_once_fields(schema)}
    # The export of a person's data is no credential, but must not be stored for 24 h either.
    assert declared == {
        ("ApiKeyPayload", "key"),
        ("WebhookEndpointPayload", "secret"),
        ("ExportVolunteerDataPayload", "data"),
        # Its address carries the certificate's code, which is stored only as a hash.
        ("Certificate", "verificationUrl"),
    }
    # Withholding writes null in its place: a non-null field could not hold it.
    assert all(not str(field.type).endswith("!") for _, _, field in shown_once_fields(schema))
    assert advice(schema.get_type("ApiKeyPayload").fields["keyId"]) is None  # type: ignore[union-attr]


@strawberry.type
class Issued:
    secret: str | None = shown_once(description="shown once", if_lost="Issue another.")
    echo: str | None = None


@strawberry.type
class EchoQuery:
    ok: bool = True


@strawberry.type
class EchoMutation:
    @strawberry.mutation
    def issue(self) -> Issued:
        return Issued(secret="s3cr3t-value", echo="s3cr3t-value")


def test_a_secret_echoed_by_another_field_keeps_nothing_of_the_response() -> None:
    """A field that repeats the secret without being declared: the stored copy keeps nothing."""
    schema = strawberry.Schema(query=EchoQuery, mutation=EchoMutation)._schema
    document = parse("mutation { issue { secret echo } }")
    operation = document.definitions[0]
    body = {"data": {"issue": {"secret": "s3cr3t-value", "echo": "s3cr3t-value"}}}
    kept = for_replay(schema, schema.mutation_type, operation.selection_set, {}, body)  # type: ignore[arg-type, attr-defined]
    assert "s3cr3t-value" not in repr(kept)
    assert kept["data"] is None and kept["errors"][0]["extensions"]["code"] == SECRET_NOT_REPLAYED
    # Without the echo, only the secret goes.
    plain = parse("mutation { issue { secret } }").definitions[0]
    body = {"data": {"issue": {"secret": "s3cr3t-value"}}}
    kept = for_replay(schema, schema.mutation_type, plain.selection_set, {}, body)  # type: ignore[arg-type, attr-defined]
    assert kept["data"] == {"issue": {"secret": None}}
    assert kept["errors"][0]["path"] == ["issue", "secret"]
    assert kept["errors"][0]["message"].endswith("Issue another.")


async def test_admins_revoke_keys_through_the_api(make_client_any_db: AppFactory) -> None:
    async with make_client_any_db() as client:
        admin = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
        org = await make_organisation("revoking")
        issued = await access.issue_key(ApiKeyRole.ORGANISATION, org)
        assert (await post(client, REVOKE, {"id": issued.public_id}, key=issued.secret)).json()["errors"][0][
            "extensions"
        ]["code"] == "FORBIDDEN"
        done = await post(client, REVOKE, {"id": issued.public_id}, key=admin)
        assert done.json()["data"]["revokeApiKey"] == {"revokedKeyId": issued.public_id, "userErrors": []}
        refused = await post(client, VOLUNTEERS, key=issued.secret)
        assert codes(refused) == ["UNAUTHENTICATED"]
        again = await post(client, REVOKE, {"id": issued.public_id}, key=admin)
        assert again.json()["data"]["revokeApiKey"] == {
            "revokedKeyId": None,
            "userErrors": [{"field": ["keyId"], "code": "NOT_FOUND"}],
        }
