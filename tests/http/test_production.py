"""Production behaviours: no introspection, no GraphiQL, no "Did you mean", masked errors
whose request id leads to the log line."""

from __future__ import annotations

import logging

import pytest
from tortoise import connections

from tests.http.conftest import AppFactory, codes, post

INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_production_mode_turns_introspection_and_graphiql_off(make_client_postgres: AppFactory) -> None:
    async with make_client_postgres(
        mode="production", smtp_host="127.0.0.1", secret_key="s" * 40, public_url="https://exchange.test"
    ) as client:
        refused = await post(client, INTROSPECTION)
        assert refused.status_code == 400
        assert set(codes(refused)) == {"GRAPHQL_VALIDATION_FAILED"}
        assert "introspection" in refused.json()["errors"][0]["message"].lower()
        assert (await post(client, '{ __type(name: "Query") { name } }')).status_code == 400
        assert (await post(client, "{ __typename }")).json()["data"] == {"__typename": "Query"}
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert not page.headers["content-type"].startswith("text/html")


async def test_introspection_on_in_development(make_client: AppFactory) -> None:
    async with make_client() as client:
        response = await post(client, INTROSPECTION)
        assert response.json()["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def test_suggestions_hidden_when_introspection_is_off(make_client: AppFactory) -> None:
    typo_field = '{ organisation(slug: "x") { slugg } }'
    typo_enum = "query($k: OrganisationKind) { organisations(kind: $k) { totalCount } }"
    async with make_client(introspection=True) as client:
        assert "Did you mean" in (await post(client, typo_field)).text
        assert "Did you mean" in (await post(client, typo_enum, {"k": "NG"})).text
    async with make_client(introspection=False) as client:
        field_error = await post(client, typo_field)
        assert codes(field_error) == ["GRAPHQL_VALIDATION_FAILED"]
        assert "Did you mean" not in field_error.text
        enum_error = await post(client, typo_enum, {"k": "NG"})
        assert codes(enum_error) == ["BAD_USER_INPUT"]
        assert "Did you mean" not in enum_error.text
        assert "NGO" not in enum_error.text


async def test_unexpected_errors_are_masked_with_the_logged_request_id(
    make_client: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_client(introspection=False) as client:
        await connections.get("default").execute_script("DROP TABLE organisation")
        caplog.set_level(logging.ERROR, logger="exchange.graphql")
        response = await post(client, "{ organisations { totalCount } }")
        assert response.status_code == 200
        error = response.json()["errors"][0]
        assert error["message"] == "Internal server error."
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        request_id = error["extensions"]["requestId"]
        assert request_id == response.headers["x-request-id"]
        for leak in ("no such table", "SELECT", "Traceback", "sqlite"):
            assert leak not in response.text
        logged = [record for record in caplog.records if request_id in record.getMessage()]
        assert logged and logged[0].exc_info is not None
        assert "no such table" in str(logged[0].exc_info[1])


async def test_full_introspection_query_passes_the_limits_in_development(make_client: AppFactory) -> None:
    from graphql import get_introspection_query

    async with make_client() as client:
        response = await post(client, get_introspection_query(descriptions=True))
        assert response.status_code == 200, response.text
        assert "errors" not in response.json()
        assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"
