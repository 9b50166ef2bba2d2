"""GraphQL over HTTP: negotiation, status codes, methods, media types, body size, headers."""

from __future__ import annotations

import httpx

from schema.admission.operation import GRAPHQL_RESPONSE_JSON, JSON
from schema.transport.negotiation import negotiate
from tests.http.conftest import GRAPHQL_RESPONSE, AppFactory, codes, post


def test_negotiation_prefers_graphql_response_json() -> None:
    assert negotiate(None) == JSON
    assert negotiate("") == JSON
    assert negotiate("*/*") == JSON
    assert negotiate("application/json") == JSON
    assert negotiate("application/graphql-response+json") == GRAPHQL_RESPONSE_JSON
    assert negotiate("application/graphql-response+json, application/json;q=0.9") == GRAPHQL_RESPONSE_JSON
    assert negotiate("application/json, application/graphql-response+json") == GRAPHQL_RESPONSE_JSON
    assert negotiate("application/json, application/graphql-response+json;q=0.5") == JSON
    assert negotiate("text/html, */*;q=0.8") == JSON
    assert negotiate("text/html") is None
    assert negotiate("application/xml") is None
    assert negotiate("application/graphql-response+json;q=0") is None


async def test_content_type_follows_accept(make_client: AppFactory) -> None:
    async with make_client() as client:
        modern = await post(client, "{ __typename }")
        assert modern.status_code == 200
        assert modern.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        legacy = await post(client, "{ __typename }", accept="application/json")
        assert legacy.headers["content-type"].startswith("application/json")
        missing = await post(client, "{ __typename }", accept=None)
        assert missing.headers["content-type"].startswith("application/json")
        refused = await post(client, "{ __typename }", accept="application/xml")
        assert refused.status_code == 406
        assert codes(refused) == ["NOT_ACCEPTABLE"]
        for response in (modern, legacy, refused):
            assert response.headers.get_list("content-type") == [response.headers["content-type"]]
            assert response.headers.get_list("content-length") == [str(len(response.content))]
        # Each header once, as Starlette lays them out: the answer's own, then length and type.
        names = [name for name, _value in modern.headers.raw]
        assert len(names) == len(set(names))
        assert names.index(b"ratelimit-limit") < names.index(b"content-length") < names.index(b"content-type")


async def test_request_errors_are_400_with_graphql_response_json_and_200_with_json(
    make_client: AppFactory,
) -> None:
    async with make_client() as client:
        for query, variables, code in [
            ("{ __typename", None, "GRAPHQL_PARSE_FAILED"),
            ("{ noSuchField }", None, "GRAPHQL_VALIDATION_FAILED"),
            ("query($n: Int) { organisations(first: $n) { totalCount } }", {"n": "many"}, "BAD_USER_INPUT"),
        ]:
            modern = await post(client, query, variables)
            assert modern.status_code == 400, query
            assert "data" not in modern.json()
            assert codes(modern) == [code]
            legacy = await post(client, query, variables, accept="application/json")
            assert legacy.status_code == 200, query
            assert codes(legacy) == [code]


async def test_execution_errors_are_200_with_data(make_client: AppFactory) -> None:
    async with make_client() as client:
        response = await post(client, "{ organisations { totalCount } }", key="vx_unknown")
        assert response.status_code == 200
        body = response.json()
        assert "data" in body
        assert codes(response) == ["UNAUTHENTICATED"]


async def test_malformed_requests_are_400(make_client: AppFactory) -> None:
    async with make_client() as client:
        headers = {"Content-Type": "application/json", "Accept": GRAPHQL_RESPONSE}
        not_json = await client.post("/graphql", content=b"{not json", headers=headers)
        assert not_json.status_code == 400 and codes(not_json) == ["BAD_REQUEST"]
        empty = await client.post("/graphql", content=b"", headers=headers)
        assert empty.status_code == 400
        array = await client.post("/graphql", content=b"[]", headers=headers)
        assert array.status_code == 400
        no_query = await client.post("/graphql", json={"qeury": "{ __typename }"}, headers=headers)
        assert no_query.status_code == 400
        bad_variables = await client.post(
            "/graphql", json={"query": "{ __typename }", "variables": "x"}, headers=headers
        )
        assert bad_variables.status_code == 400


async def test_unsupported_media_type_is_415(make_client: AppFactory) -> None:
    async with make_client() as client:
        response = await client.post(
            "/graphql",
            content=b"query=%7B__typename%7D",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 415
        assert codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]
        missing = await client.post("/graphql", content=b'{"query": "{ __typename }"}')
        assert missing.status_code == 415


async def test_get_reads_but_refuses_mutations_with_405(make_client: AppFactory) -> None:
    async with make_client() as client:
        read = await client.get(
            "/graphql", params={"query": "{ __typename }"}, headers={"Accept": GRAPHQL_RESPONSE}
        )
        assert read.status_code == 200
        assert read.json()["data"] == {"__typename": "Query"}
        write = await client.get(
            "/graphql", params={"query": "mutation { __typename }"}, headers={"Accept": GRAPHQL_RESPONSE}
        )
        assert write.status_code == 405
        assert write.headers["allow"] == "POST"
        assert codes(write) == ["METHOD_NOT_ALLOWED"]
        other_method = await client.put("/graphql", json={"query": "{ __typename }"})
        assert other_method.status_code == 405


async def test_body_over_the_limit_is_413(make_client: AppFactory) -> None:
    async with make_client(max_body_bytes=1000) as client:
        padding = " " * (1000 - len('{"query": "{ __typename }"}'))
        at_limit = '{"query": "{ __typename }"}' + padding
        assert len(at_limit) == 1000
        ok = await client.post(
            "/graphql", content=at_limit.encode(), headers={"Content-Type": "application/json"}
        )
        assert ok.status_code == 200
        over = await client.post(
            "/graphql", content=(at_limit + " ").encode(), headers={"Content-Type": "application/json"}
        )
        assert over.status_code == 413
        assert codes(over) == ["REQUEST_TOO_LARGE"]
        # Refused before the application: still marked like every response.
        assert len(over.headers["x-request-id"]) == 32
        assert over.headers["x-content-type-options"] == "nosniff"

        async def chunks():  # no Content-Length: counted while streaming
            for _ in range(5):
                yield b" " * 300

        streamed = await client.post(
            "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413


async def test_request_id_header_and_client_supplied_id(make_client: AppFactory) -> None:
    async with make_client() as client:
        response = await post(client, "{ __typename }")
        assert len(response.headers["x-request-id"]) == 32
        echoed = await post(client, "{ __typename }", headers={"X-Request-Id": "trace-123"})
        assert echoed.headers["x-request-id"] == "trace-123"
        unsafe = await post(client, "{ __typename }", headers={"X-Request-Id": "bad id\twith spaces"})
        assert unsafe.headers["x-request-id"] != "bad id\twith spaces"
        assert response.headers.get_list("x-request-id") == [response.headers["x-request-id"]]
        assert response.headers["x-request-id"] != unsafe.headers["x-request-id"]


async def test_security_headers_on_graphiql(make_client: AppFactory) -> None:
    async with make_client(graphiql=True) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["referrer-policy"] == "no-referrer"
        api = await post(client, "{ __typename }")
        assert api.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in api.headers


async def test_graphiql_off_answers_json(make_client: AppFactory) -> None:
    async with make_client(graphiql=False) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert not page.headers["content-type"].startswith("text/html")


async def test_every_response_reports_its_cost(make_client: AppFactory) -> None:
    async with make_client() as client:
        response = await post(client, "{ organisations(first: 3) { edges { node { slug } } } }")
        assert response.json()["extensions"]["cost"] == {"requested": 4, "limit": 50_000}


async def test_client_reads_json_errors_without_stack_traces(make_client: AppFactory) -> None:
    async with make_client() as client:
        response = await client.post(
            "/graphql", content=b'{"query": 5}', headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
        assert "Traceback" not in response.text
        assert isinstance(response, httpx.Response)


async def test_security_headers_on_the_invitation_page(make_client: AppFactory) -> None:
    async with make_client() as client:
        page = await client.get("/invitations/not-a-token", headers={"Accept": "text/html"})
        assert page.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["x-frame-options"].upper() == "DENY"
        assert "referrer-policy" in page.headers
        assert page.headers["x-request-id"]


async def test_event_streams_carry_only_admitted_subscriptions(make_client: AppFactory) -> None:
    from exchange import access
    from exchange.models import ApiKeyRole, Organisation

    mutation = 'mutation { createOrganisation(input: {slug: "sneaky", names: [{locale: "en", text: "S"}], kind: NGO}) { userErrors { code } } }'
    async with make_client() as client:
        key = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
        for accept in ("text/event-stream", 'multipart/mixed;subscriptionSpec="1.0"'):
            # Only a stream is acceptable, and only subscriptions stream: nothing runs.
            response = await post(client, mutation, key=key, accept=accept)
            assert response.status_code == 406
            assert codes(response) == ["NOT_ACCEPTABLE"]
        assert not await Organisation.filter(slug="sneaky").exists()
    async with make_client(persisted_queries_only=True) as client:
        key = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
        subscription = "subscription { invitationUpdates { status } }"
        refused = await post(client, subscription, key=key, accept="text/event-stream")
        assert codes(refused) == ["PERSISTED_QUERY_NOT_ALLOWED"]


# What urql sends with every query and mutation (and its fetch subscriptions).
URQL_ACCEPT = (
    "application/graphql-response+json, application/graphql+json, application/json, "
    "text/event-stream, multipart/mixed"
)
CREATE_ORGANISATION = (
    'mutation { createOrganisation(input: {slug: "urql", names: [{locale: "en", text: "U"}], kind: NGO})'
    " { organisation { slug } userErrors { code } } }"
)


async def test_queries_and_mutations_answer_json_when_streams_are_accepted_too(
    make_client: AppFactory,
) -> None:
    """The transport follows the operation: an Accept header that names streams as well as
    JSON (urql's default) runs queries and mutations and answers them as JSON."""
    from exchange import access
    from exchange.models import ApiKeyRole, Organisation

    async with make_client() as client:
        key = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
        query = await post(client, "{ __typename }", accept=URQL_ACCEPT)
        assert query.status_code == 200
        assert query.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        assert query.json()["data"] == {"__typename": "Query"}

        mutation = await post(client, CREATE_ORGANISATION, key=key, accept=URQL_ACCEPT)
        assert mutation.status_code == 200
        assert mutation.json()["data"]["createOrganisation"]["organisation"] == {"slug": "urql"}
        assert await Organisation.filter(slug="urql").exists()

        low_stream = await post(client, "{ __typename }", accept="application/json, text/event-stream;q=0.1")
        assert low_stream.status_code == 200
        assert low_stream.headers["content-type"].startswith(JSON)
        assert low_stream.json()["data"] == {"__typename": "Query"}

        stream_first = await post(
            client, "{ __typename }", accept='multipart/mixed;subscriptionSpec="1.0", application/json;q=0.5'
        )
        assert stream_first.status_code == 200 and stream_first.json()["data"] == {"__typename": "Query"}

        # Request errors keep the media type's status rule.
        broken = await post(client, "{ __typename", accept=URQL_ACCEPT)
        assert broken.status_code == 400 and codes(broken) == ["GRAPHQL_PARSE_FAILED"]
        # GET still only reads.
        write = await client.get(
            "/graphql", params={"query": CREATE_ORGANISATION}, headers={"Accept": URQL_ACCEPT}
        )
        assert write.status_code == 405 and codes(write) == ["METHOD_NOT_ALLOWED"]
        # Nothing acceptable at all: 406 before anything is read.
        refused = await post(client, "{ __typename }", accept="text/event-stream;q=0, application/xml")
        assert refused.status_code == 406 and codes(refused) == ["NOT_ACCEPTABLE"]


async def test_subscriptions_stream_by_the_clients_preference(make_client: AppFactory) -> None:
    """A subscription takes the stream the client prefers (q-values, then order); without a
    key it carries the refusal and ends, which is enough to see the transport."""
    subscription = "subscription { invitationUpdates { status } }"
    async with make_client() as client:
        for accept, expected in [
            (URQL_ACCEPT, "text/event-stream"),  # bare multipart/mixed is not the subscription protocol
            ("text/event-stream;q=0.5, multipart/mixed;subscriptionSpec=1.0", "multipart/mixed"),
            ('multipart/mixed;subscriptionSpec="1.0";q=0.2, text/event-stream', "text/event-stream"),
            ('multipart/mixed;subscriptionSpec="1.0", text/event-stream', "multipart/mixed"),
            ('text/event-stream, multipart/mixed;subscriptionSpec="1.0"', "text/event-stream"),
        ]:
            response = await post(client, subscription, accept=accept)
            assert response.status_code == 200, accept
            assert response.headers["content-type"].startswith(expected), accept
            assert "UNAUTHENTICATED" in response.text, accept

        # A stream refused with q=0 is not a stream: the subscription is refused as over JSON.
        no_stream = await post(client, subscription, accept="application/json, text/event-stream;q=0")
        assert no_stream.status_code == 400 and codes(no_stream) == ["BAD_REQUEST"]
        assert "Subscriptions run over WebSocket" in no_stream.json()["errors"][0]["message"]


async def test_another_authorization_scheme_is_told_to_use_bearer(make_client: AppFactory) -> None:
    async with make_client() as client:
        basic = await post(
            client, "{ organisations { totalCount } }", headers={"Authorization": "Basic dXNlcjpwYXNz"}
        )
        assert basic.status_code == 200
        error = basic.json()["errors"][0]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert "Bearer" in error["message"] and "unknown or revoked" not in error["message"]
        # An unknown key, with or without the scheme, is still unknown.
        for header in ("Bearer vx_unknown", "vx_unknown"):
            unknown = await post(
                client, "{ organisations { totalCount } }", headers={"Authorization": header}
            )
            assert unknown.json()["errors"][0]["message"] == "The API key is unknown or revoked."
