"""Webhook endpoints through the API (SQLite and PostgreSQL), and the pieces a receiver
relies on: the Standard Webhooks signature, the payload's ids, the address rules."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from standardwebhooks import Webhook

from exchange import access
from exchange.errors import DomainError
from exchange.events import AfterCommit, InvitationEvent
from exchange.models import ApiKeyRole, DeliveryStatus, InvitationStatus, WebhookDelivery, WebhookEndpoint
from exchange.settings import Settings
from exchange.webhooks import endpoints, signing
from exchange.webhooks.payload import event_payload, global_id
from exchange.webhooks.safety import UnsafeUrl, check_url, resolve
from schema.api.relay import encode_id
from tests.conftest import GraphQLClient, make_key, make_organisation
from tests.webhooks import sealed_endpoint

ADD = """
mutation($url: String!, $org: ID) {
  addWebhookEndpoint(url: $url, description: "crm", organisationId: $org) {
    endpoint { id url description createdAt } secret userErrors { field message code }
  }
}
"""
LIST = "query($org: ID) { webhookEndpoints(organisationId: $org) { id url description } }"
REMOVE = "mutation($id: ID!) { removeWebhookEndpoint(id: $id) { removedId userErrors { field code } } }"
DELIVERIES = """
query($id: ID!, $after: String) {
  webhookDeliveries(endpointId: $id, first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { eventId status attempts lastStatusCode lastError nextAttemptAt deliveredAt } }
  }
}
"""


async def test_endpoints_are_managed_by_their_organisation(
    gql: GraphQLClient, admin_key: str, settings: Settings
) -> None:
    org = await make_organisation("org-a")
    other = await make_organisation("org-b")
    key, other_key = await make_key(org), await make_key(other)
    added = (await gql(ADD, {"url": "https://crm.example.org/hooks"}, key=key))["data"]["addWebhookEndpoint"]
    assert added["userErrors"] == []
    secret = added["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    endpoint_id = added["endpoint"]["id"]

    listed = (await gql(LIST, key=key))["data"]["webhookEndpoints"]
    assert listed == [{"id": endpoint_id, "url": "https://crm.example.org/hooks", "description": "crm"}]
    assert (await gql(LIST, key=other_key))["data"]["webhookEndpoints"] == []
    # The stored secret (sealed at rest) signs; it is never readable again through the API.
    stored = await WebhookEndpoint.get(organisation=org)
    assert signing.unseal_secret(signing.sealer(settings), stored.id, stored.sealed_secret) == secret

    # Someone else's endpoint does not exist for them.
    assert (await gql(REMOVE, {"id": endpoint_id}, key=other_key))["data"]["removeWebhookEndpoint"][
        "userErrors"
    ] == [{"field": ["id"], "code": "NOT_FOUND"}]
    refused = await gql(DELIVERIES, {"id": endpoint_id}, key=other_key)
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert refused["errors"][0]["message"] == "WebhookEndpoint not found."
    # Not an endpoint's id: malformed input (#10 item 11; this was NOT_FOUND too).
    malformed = await gql(DELIVERIES, {"id": "garbage"}, key=other_key)
    assert malformed["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": ["endpointId"]}

    # An admin names the organisation; without one it is refused.
    org_id = encode_id("Organisation", org.id)
    assert (await gql(LIST, {"org": org_id}, key=admin_key))["data"]["webhookEndpoints"][0][
        "id"
    ] == endpoint_id
    # Without one it is an input problem (as createExchange without hostId), not a refusal:
    # a userError for the mutation, an INVALID error for the query (this said FORBIDDEN).
    assert (await gql(LIST, key=admin_key))["errors"][0]["extensions"]["code"] == "INVALID"
    by_admin = (await gql(ADD, {"url": "https://crm.example.org/other"}, key=admin_key))["data"]
    assert by_admin["addWebhookEndpoint"]["userErrors"][0]["field"] == ["organisationId"]
    assert (await gql(LIST, {"org": encode_id("Organisation", other.id)}, key=key))["errors"][0][
        "extensions"
    ]["code"] == "FORBIDDEN"

    removed = (await gql(REMOVE, {"id": endpoint_id}, key=key))["data"]["removeWebhookEndpoint"]
    assert removed == {"removedId": endpoint_id, "userErrors": []}
    assert (await gql(LIST, key=key))["data"]["webhookEndpoints"] == []
    # Gone for deliveries and changes, but its log stays readable.
    assert (await gql(REMOVE, {"id": endpoint_id}, key=key))["data"]["removeWebhookEndpoint"]["userErrors"][
        0
    ]["code"] == "NOT_FOUND"
    assert (await gql(DELIVERIES, {"id": endpoint_id}, key=key))["data"]["webhookDeliveries"][
        "totalCount"
    ] == 0


async def test_read_only_and_anonymous_callers_are_refused(gql: GraphQLClient) -> None:
    org = await make_organisation("org-a")
    reader = await make_key(org, ApiKeyRole.READ_ONLY)
    anonymous = await gql(ADD, {"url": "https://crm.example.org/hooks"})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    read_only = await gql(ADD, {"url": "https://crm.example.org/hooks"}, key=reader)
    assert read_only["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await gql(LIST, key=reader))["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://crm.example.org/x", "https://"),
        ("/relative", "https://"),
        ("https://user:pw@crm.example.org/", "credentials"),
        ("https://crm.example.org:99999/", "valid URL"),
    ],
)
async def test_malformed_urls_are_user_errors(gql: GraphQLClient, url: str, message: str) -> None:
    org = await make_organisation("org-a")
    result = (await gql(ADD, {"url": url}, key=await make_key(org)))["data"]["addWebhookEndpoint"]
    assert result["endpoint"] is None and result["secret"] is None
    assert result["userErrors"][0]["field"] == ["url"] and result["userErrors"][0]["code"] == "INVALID"
    assert message in result["userErrors"][0]["message"]


async def test_production_refuses_http_and_private_addresses(app: object, settings: Settings) -> None:
    org = await make_organisation("org-a")
    actor = access.Actor(access.Role.ORGANISATION, org.id, "key_x")
    for url in (
        "http://crm.example.org/",
        "https://127.0.0.1/",
        "https://10.1.2.3/",
        "https://[::1]/",
        "https://169.254.169.254/latest",
    ):
        with pytest.raises(DomainError) as refused:
            await endpoints.add_endpoint(actor, url, None, None, production=True, settings=settings)
        assert refused.value.problems[0].field == ("url",), url
    # Development allows a local receiver (tests run one).
    added = await endpoints.add_endpoint(
        actor, "http://127.0.0.1:9/hook", None, None, production=False, settings=settings
    )
    assert added.endpoint.url == "http://127.0.0.1:9/hook"


async def test_delivery_time_resolution_refuses_names_that_point_inside() -> None:
    with pytest.raises(UnsafeUrl):
        await resolve("localhost", 443, production=True)
    assert await resolve("127.0.0.1", 80, production=False) == "127.0.0.1"
    check_url("https://crm.example.org/hooks", production=True)
    with pytest.raises(UnsafeUrl):
        check_url("https://[::ffff:127.0.0.1]/", production=True)


def test_signature_is_standard_webhooks() -> None:
    secret = signing.new_secret()
    body = b'{"type":"invitation.status_changed"}'
    timestamp = int(dt.datetime.now(dt.UTC).timestamp())
    headers = signing.headers(secret, "evt_1", timestamp, body)
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == {"type": "invitation.status_changed"}
    with pytest.raises(Exception):
        Webhook(signing.new_secret()).verify(body, headers)


def test_payload_ids_are_the_graphql_ids() -> None:
    assert global_id("Invitation", 42) == encode_id("Invitation", 42)
    event = InvitationEvent(42, 7, frozenset({1}), None, InvitationStatus.QUEUED)
    payload = event_payload(event)
    assert payload["data"]["invitationId"] == encode_id("Invitation", 42)
    assert payload["data"]["exchangeId"] == encode_id("ExperienceExchange", 7)
    assert payload["data"]["eventId"] == event.event_id


async def test_after_commit_writes_deliveries_once_and_the_log_pages(gql: GraphQLClient) -> None:
    host = await make_organisation("host")
    stranger = await make_organisation("stranger")
    key = await make_key(host)
    endpoint, _ = await sealed_endpoint(host.id, "http://127.0.0.1:9/")
    silent, _ = await sealed_endpoint(stranger.id, "http://127.0.0.1:9/")
    events = [InvitationEvent(n, 1, frozenset({host.id}), None, InvitationStatus.QUEUED) for n in range(3)]
    after = AfterCommit()
    for item in events:
        after.add(item)
    await after.stage()  # inside a transaction in real services; publish() must not write them again
    await after.publish()
    assert await WebhookDelivery.filter(endpoint=endpoint).count() == 3
    assert await WebhookDelivery.filter(endpoint=silent).count() == 0

    await WebhookDelivery.filter(event_id=events[0].event_id).update(
        status=DeliveryStatus.DELIVERED,
        attempts=2,
        last_status_code=204,
        delivered_at=dt.datetime.now(dt.UTC),
    )
    endpoint_id = encode_id("WebhookEndpoint", endpoint.id)
    page = (await gql(DELIVERIES, {"id": endpoint_id}, key=key))["data"]["webhookDeliveries"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    nodes = [edge["node"] for edge in page["edges"]]
    assert [n["eventId"] for n in nodes] == [events[2].event_id, events[1].event_id]  # newest first
    assert nodes[0]["status"] == "PENDING" and nodes[0]["nextAttemptAt"] is not None
    rest = (await gql(DELIVERIES, {"id": endpoint_id, "after": page["pageInfo"]["endCursor"]}, key=key))[
        "data"
    ]
    last = rest["webhookDeliveries"]["edges"][0]["node"]
    assert (last["eventId"], last["status"], last["attempts"], last["lastStatusCode"]) == (
        events[0].event_id,
        "DELIVERED",
        2,
        204,
    )
    assert last["nextAttemptAt"] is None and last["deliveredAt"] is not None
