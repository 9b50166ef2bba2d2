"""Each operation limit at its bound (runs) and one past it (refused before execution, as a
request error with a code and without ``data``)."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError

from schema.api.paging import PageArgs
from tests.http.conftest import AppFactory, codes, post


async def assert_runs(client: Any, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await post(client, query, variables)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "data" in body
    return body


async def assert_refused(
    client: Any, query: str, code: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await post(client, query, variables)
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert "data" not in body
    assert code in codes(response)
    return body


async def test_depth(make_client: AppFactory) -> None:
    async with make_client(max_depth=4) as client:
        await assert_runs(client, "{ organisations { edges { node { slug } } } }")
        await assert_refused(
            client, "{ organisations { edges { node { parent { slug } } } } }", "QUERY_TOO_DEEP"
        )
        via_fragment = """
            { organisations { ...Deep } }
            fragment Deep on OrganisationConnection { edges { node { parent { slug } } } }
        """
        await assert_refused(client, via_fragment, "QUERY_TOO_DEEP")


async def test_aliases(make_client: AppFactory) -> None:
    async with make_client(max_aliases=2) as client:
        await assert_runs(client, "{ a: __typename b: __typename }")
        body = await assert_refused(
            client, "{ a: __typename b: __typename c: __typename }", "TOO_MANY_ALIASES"
        )
        assert "at most 2" in body["errors"][0]["message"]


async def test_tokens(make_client: AppFactory) -> None:
    async with make_client(max_tokens=6) as client:
        await assert_runs(client, "{ organisations { totalCount } }")  # 6 tokens
        await assert_refused(client, "{ organisations { totalCount __typename } }", "TOO_MANY_TOKENS")


async def test_root_fields(make_client: AppFactory) -> None:
    async with make_client(max_root_fields=2) as client:
        await assert_runs(client, "{ organisations { totalCount } exchanges { totalCount } __typename }")
        await assert_refused(
            client,
            "{ organisations { totalCount } exchanges { totalCount } more: organisations { totalCount } }",
            "TOO_MANY_ROOT_FIELDS",
        )


async def test_cost_from_literals_and_variables(make_client: AppFactory) -> None:
    query = "query($n: Int) { organisations(first: $n) { edges { node { slug } } } }"
    async with make_client(max_cost=11) as client:
        body = await assert_runs(client, query, {"n": 10})  # 1 + 10 × 1
        assert body["extensions"]["cost"] == {"requested": 11, "limit": 11}
        refused = await assert_refused(client, query, "QUERY_TOO_COSTLY", {"n": 11})
        assert refused["extensions"]["cost"] == {"requested": 12, "limit": 11}
        await assert_refused(
            client, "{ organisations(last: 11) { edges { node { slug } } } }", "QUERY_TOO_COSTLY"
        )
        # No page size: the cap (100) is what the server would return, so that is the cost.
        await assert_refused(client, "{ organisations { edges { node { slug } } } }", "QUERY_TOO_COSTLY")


async def test_page_size_over_the_cap_is_refused_before_execution(make_client: AppFactory) -> None:
    async with make_client(page_size_cap=100) as client:
        await assert_runs(client, "{ organisations(first: 100) { totalCount } }")
        body = await assert_refused(
            client, "query($n: Int) { organisations(first: $n) { totalCount } }", "BAD_USER_INPUT", {"n": 101}
        )
        assert "at most 100" in body["errors"][0]["message"]
        negative = await assert_refused(
            client, "{ organisations(last: -1) { totalCount } }", "BAD_USER_INPUT"
        )
        assert "must not be negative" in negative["errors"][0]["message"]


async def test_first_and_last_together_are_refused_before_execution(make_client: AppFactory) -> None:
    query = "query($f: Int, $l: Int) { organisations(first: $f, last: $l) { totalCount } }"
    async with make_client() as client:
        literal = await assert_refused(
            client, "{ organisations(first: 2, last: 1) { totalCount } }", "BAD_USER_INPUT"
        )
        assert "`first` and `last` cannot be used together" in literal["errors"][0]["message"]
        nested = """{ exchanges(first: 1) { edges { node { ...Invitations } } } }
            fragment Invitations on ExperienceExchange { invitations(first: 1, last: 1) { totalCount } }"""
        await assert_refused(client, nested, "BAD_USER_INPUT")
        await assert_refused(client, query, "BAD_USER_INPUT", {"f": 2, "l": 1})
        # One of them null is one of them.
        await assert_runs(client, query, {"f": 2, "l": None})
        await assert_runs(client, query, {"l": 2})
    # The resolvers' own check, for operations that reach them another way.
    with pytest.raises(GraphQLError, match="cannot be used together") as refused:
        PageArgs.parse(1, None, 1, None, 100)
    assert refused.value.extensions == {"code": "BAD_USER_INPUT"}


CREATE = """mutation($input: CreateOrganisationInput!) {
  createOrganisation(input: $input) { userErrors { code } } }"""


def names(count: int) -> list[dict[str, str]]:
    return [{"locale": "en", "text": f"Name {i}"} for i in range(count)]


async def test_input_lists_in_variables_and_literals(make_client: AppFactory) -> None:
    async with make_client(max_input_list=3) as client:
        at_bound = await post(client, CREATE, {"input": {"slug": "x", "names": names(3), "kind": "NGO"}})
        assert "INPUT_LIST_TOO_LONG" not in codes(at_bound)
        assert "data" in at_bound.json()
        await assert_refused(
            client, CREATE, "INPUT_LIST_TOO_LONG", {"input": {"slug": "x", "names": names(4), "kind": "NGO"}}
        )
        literal = 'mutation { createOrganisation(input: {slug: "x", kind: NGO, names: [%s]}) { userErrors { code } } }'
        item = '{locale: "en", text: "n"}'
        at_bound_literal = await post(client, literal % ", ".join([item] * 3))
        assert "INPUT_LIST_TOO_LONG" not in codes(at_bound_literal)
        await assert_refused(client, literal % ", ".join([item] * 4), "INPUT_LIST_TOO_LONG")


async def test_nul_in_text_is_bad_user_input(make_client_any_db: AppFactory) -> None:
    # PostgreSQL text cannot hold U+0000: this was a masked internal error there.
    search = "query($q: String) { exchanges(filter: {search: $q}) { totalCount } }"
    async with make_client_any_db() as client:
        await assert_runs(client, search, {"q": "a\\u0000b"})  # a backslash, not a NUL
        body = await assert_refused(client, search, "BAD_USER_INPUT", {"q": "a\u0000b"})
        assert "NUL" in body["errors"][0]["message"]
        nested = {"input": {"slug": "x", "names": [{"locale": "en", "text": "N\u0000"}], "kind": "NGO"}}
        await assert_refused(client, CREATE, "BAD_USER_INPUT", nested)
        await assert_refused(
            client, 'query { volunteers(skill: "\\u0000") { totalCount } }', "BAD_USER_INPUT"
        )


async def test_execution_time_limit(make_client: AppFactory) -> None:
    async with make_client(execution_timeout_seconds=0) as client:
        response = await post(client, "{ organisations { totalCount } }")
        assert response.status_code == 200
        assert codes(response) == ["TIMEOUT"]
        assert response.json()["data"] is None
    async with make_client(execution_timeout_seconds=5) as client:
        await assert_runs(client, "{ organisations { totalCount } }")


@pytest.mark.parametrize(
    "query",
    [
        "{ organisations(first: 5) { totalCount } }",
        "query Named { organisations(first: 5) { totalCount } }",
    ],
)
async def test_checks_are_cached_per_document(make_client: AppFactory, query: str) -> None:
    from schema.admission.prepared import _cache

    async with make_client() as client:
        await assert_runs(client, query)
        cached = [key for key in _cache.items if key[1] == query]
        assert len(cached) == 1
        prepared = _cache.items[cached[0]]
        await assert_runs(client, query)
        assert _cache.items[cached[0]] is prepared
