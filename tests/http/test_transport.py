"""GraphQL over HTTP: negotiation, status codes, methods, media types, body size, headers."""

from __future__ import annotations

import httpx

from schema.http import GRAPHQL_RESPONSE_JSON, JSON, negotiate
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
            response = await post(client, mutation, key=key, accept=accept)
            assert response.status_code == 400
            assert codes(response) == ["BAD_REQUEST"]
        assert not await Organisation.filter(slug="sneaky").exists()
    async with make_client(persisted_queries_only=True) as client:
        key = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
        subscription = "subscription { invitationUpdates { status } }"
        refused = await post(client, subscription, key=key, accept="text/event-stream")
        assert codes(refused) == ["PERSISTED_QUERY_NOT_ALLOWED"]
