"""The cost model (schema.admission.cost) on the real schema: exact figures for nested connections."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError

from schema.admission.cost import CostError, operation_cost
from schema.admission.limits import Limits
from schema.admission.prepared import prepare
from schema.admission.pricing import cached_operation_cost
from schema.build import default_schema
from tests.http.conftest import AppFactory, post

LIMITS = Limits(
    max_depth=50,
    max_aliases=50,
    max_tokens=5000,
    max_root_fields=20,
    max_cost=10**9,
    max_input_list=1000,
    page_size_cap=100,
    introspection=True,
)


def cost(query: str, variables: dict[str, Any] | None = None) -> int:
    prepared = prepare(default_schema()._schema, query, LIMITS)
    assert not prepared.errors, prepared.errors
    operation = prepared.operation(None)
    assert operation is not None
    return operation_cost(default_schema()._schema, operation, prepared.fragments, variables or {}, 100)


NESTED = """
query($orgs: Int, $exchanges: Int) {
  organisations(first: $orgs) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        slug
        exchanges(first: $exchanges) {
          edges { node { slug sessions { id speakers { fullName } } } }
        }
      }
    }
  }
}
"""


def test_scalars_are_free_and_objects_cost_one() -> None:
    assert cost("{ __typename }") == 0
    assert cost('{ organisation(slug: "x") { slug name } }') == 1
    assert cost('{ organisation(slug: "x") { parent { parent { slug } } } }') == 3


def test_connections_multiply_by_page_size() -> None:
    assert cost("{ organisations(first: 7) { totalCount } }") == 1
    assert cost("{ organisations(first: 7) { edges { node { slug } } } }") == 1 + 7
    assert cost("{ organisations(last: 3) { edges { cursor node { parent { slug } } } } }") == 1 + 3 * 2
    assert cost("{ organisations { edges { node { slug } } } }") == 1 + 100  # default page = cap
    assert cost("{ organisations(first: 0) { edges { node { slug } } } }") == 1


def test_nested_connections_and_lists_exact_cost() -> None:
    # organisations: 1 + 5 × (node 1 + exchanges (1 + 10 × (node 1 + sessions 20 × (1 + speakers 5 × 1))))
    expected = 1 + 5 * (1 + (1 + 10 * (1 + 20 * (1 + 5 * 1))))
    assert expected == 6061
    assert cost(NESTED, {"orgs": 5, "exchanges": 10}) == expected
    # Variables decide: the same document with smaller pages costs less.
    assert cost(NESTED, {"orgs": 1, "exchanges": 1}) == 1 + 1 * (1 + (1 + 1 * 121))


def test_fragments_count_where_spread() -> None:
    query = """
    { organisations(first: 4) { edges { node { ...Org } } } }
    fragment Org on Organisation { parent { slug } }
    """
    assert cost(query) == 1 + 4 * (1 + 1)


def test_mutations_cost_more() -> None:
    assert (
        cost(
            'mutation { createOrganisation(input: {slug: "x", names: [], kind: NGO}) { organisation { slug } } }'
        )
        == 10 + 1 + 1
    )


def test_page_over_cap_is_a_cost_error() -> None:
    with pytest.raises(CostError) as raised:
        cost("query($n: Int) { organisations(first: $n) { totalCount } }", {"n": 101})
    assert isinstance(raised.value, GraphQLError)
    assert raised.value.extensions == {"code": "BAD_USER_INPUT"}


async def test_nested_cost_over_http(make_client: AppFactory) -> None:
    async with make_client(max_cost=6061) as client:
        response = await post(client, NESTED, {"orgs": 5, "exchanges": 10})
        assert response.status_code == 200, response.text
        assert response.json()["extensions"]["cost"] == {"requested": 6061, "limit": 6061}
        over = await post(client, NESTED, {"orgs": 6, "exchanges": 10})
        assert over.status_code == 400
        assert over.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


def test_cached_cost_follows_the_page_variables() -> None:
    prepared = prepare(default_schema()._schema, NESTED, LIMITS)
    operation = prepared.operation(None)
    assert operation is not None

    def cached(variables: dict[str, Any]) -> int:
        return cached_operation_cost(
            prepared.costs, default_schema()._schema, operation, prepared.fragments, variables, 100
        )

    assert cached({"orgs": 5, "exchanges": 10}) == 6061
    assert cached({"orgs": 1, "exchanges": 1}) == 1 + 1 * (1 + (1 + 1 * 121))
    assert cached({"orgs": 5, "exchanges": 10}) == 6061
    for _ in range(2):  # a refusal is remembered too
        with pytest.raises(CostError):
            cached({"orgs": 500, "exchanges": 1})


SESSIONS_AND_SPEAKERS = "{ exchanges(first: 2) { edges { node { sessions { speakers { fullName } } } } } }"


async def test_capped_lists_are_priced_at_their_caps(make_client: AppFactory) -> None:
    # What bounds sessions and speakers is the cap on them, so that is their price: with the
    # default caps the price the cost model always had.
    async with make_client() as client:
        response = await post(client, SESSIONS_AND_SPEAKERS)
        assert response.json()["extensions"]["cost"]["requested"] == 1 + 2 * (1 + 20 * (1 + 5 * 1))
    async with make_client(max_sessions_per_exchange=50, max_speakers_per_session=8) as client:
        response = await post(client, SESSIONS_AND_SPEAKERS)
        assert response.json()["extensions"]["cost"]["requested"] == 1 + 2 * (1 + 50 * (1 + 8 * 1))


async def test_a_cost_beyond_what_json_carries_is_refused_with_a_code(make_client: AppFactory) -> None:
    # Eleven nested pages of 100 cost ~10^22, past the 64-bit integers orjson writes: the
    # refusal was a 500 with a traceback in the log. Costs stop at 2^53 - 1.
    inner = "slug"
    for _ in range(11):
        inner = f"exchanges(first: 100) {{ edges {{ node {{ host {{ {inner} }} }} }} }}"
    async with make_client(max_depth=50, max_cost=10**9) as client:
        response = await post(client, f'{{ organisation(slug: "x") {{ {inner} }} }}')
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
        assert response.json()["extensions"]["cost"]["requested"] == 2**53 - 1
        assert "at least 9007199254740991 points" in response.json()["errors"][0]["message"]
