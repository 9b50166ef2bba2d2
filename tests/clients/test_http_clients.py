"""@apollo/client (core) and @urql/core over HTTP with their defaults: the contract's queries
with variables and Accept-Language, errors by extensions.code, and Apollo's automatic
persisted queries with the hash computed by the client."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import Served, client_result

pytestmark = [pytest.mark.redis, pytest.mark.slow]

EXCHANGE = """
query Exchange($slug: String!) {
  exchange(slug: $slug) { id slug title titles { locale text } host { slug name } partners { slug } }
}
"""
EXCHANGES = """
query Exchanges($first: Int!, $filter: ExchangeFilter) {
  exchanges(first: $first, filter: $filter) {
    totalCount
    edges { node { slug title } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
NODE = "query Node($id: ID!) { node(id: $id) { id ... on Organisation { slug name } } }"
VOLUNTEERS = "query Volunteers { volunteers(first: 1) { totalCount } }"


@pytest.mark.parametrize("script", ["apollo.mjs", "urql.mjs"])
async def test_queries_with_variables_languages_and_error_codes(
    served: Served, js_clients: Path, script: str
) -> None:
    world = served.world
    operations = [
        {"query": EXCHANGE, "variables": {"slug": world.exchange_slug}, "headers": {"Accept-Language": "ru"}},
        {
            "query": EXCHANGE,
            "variables": {"slug": world.exchange_slug},
            "headers": {"Accept-Language": "kk-KZ,kk;q=0.9"},
        },
        {
            "query": EXCHANGES,
            "variables": {"first": 5, "filter": {"search": "арал"}},
            "headers": {"Accept-Language": "en"},
        },
        {"query": NODE, "variables": {"id": world.host.id}},
        # A page over the cap is refused before anything runs (400); the list of volunteers
        # needs a key (refused while executing, 200).
        {"query": EXCHANGES, "variables": {"first": 1000}},
        {"query": VOLUNTEERS, "variables": {}},
    ]
    results: list[dict[str, Any]] = await client_result(
        js_clients, script, {"mode": "queries", "http": served.http, "operations": operations}
    )

    for result in results[:4]:
        assert "error" not in result, result
    russian, kazakh, found, node = (result["data"] for result in results[:4])
    assert russian["exchange"]["title"] == "Неделя Арала"
    assert kazakh["exchange"]["title"] == "Арал апталығы"
    assert russian["exchange"]["titles"][0] == {
        "locale": "en",
        "text": "Aral Sea Week",
        **typename(russian, "LocalizedText"),
    }
    assert russian["exchange"]["host"]["slug"] == world.host.slug
    assert [partner["slug"] for partner in russian["exchange"]["partners"]] == [world.partner.slug]
    assert [edge["node"] for edge in found["exchanges"]["edges"]] == [
        {"slug": world.exchange_slug, "title": "Aral Sea Week", **typename(found, "ExperienceExchange")}
    ]
    assert node["node"]["slug"] == world.host.slug
    # Each client's own error class, carrying the codes: Apollo's CombinedGraphQLErrors
    # (`error.errors`), urql's CombinedError (`error.graphQLErrors`).
    error_class = {"apollo.mjs": "CombinedGraphQLErrors", "urql.mjs": "CombinedError"}[script]
    assert (results[4]["error"]["name"], results[4]["error"]["codes"]) == (error_class, ["BAD_USER_INPUT"])
    assert (results[5]["error"]["name"], results[5]["error"]["codes"]) == (error_class, ["UNAUTHENTICATED"])


def typename(data: dict[str, Any], name: str) -> dict[str, str]:
    """Apollo's cache adds __typename to every selection; urql's document cache does not."""
    return {"__typename": name} if "__typename" in str(data) else {}


async def test_apollo_automatic_persisted_queries(served: Served, js_clients: Path) -> None:
    # A document no earlier run has registered (its operation name is new).
    query = (
        f"query Exchange_{uuid.uuid4().hex[:8]}($slug: String!) {{ exchange(slug: $slug) {{ slug title }} }}"
    )
    result = await client_result(
        js_clients,
        "apollo.mjs",
        {
            "mode": "apq",
            "http": served.http,
            "query": query,
            "variables": {"slug": served.world.exchange_slug},
        },
    )
    assert [answer["data"]["exchange"]["slug"] for answer in result["answers"]] == [
        served.world.exchange_slug
    ] * 2
    first, with_text, second_page = result["requests"]
    # The first page sends only the hash; the server does not know it yet; the link sends the
    # text with the same hash, which is the SHA-256 of that text; a second page is served by
    # the hash alone.
    assert (first["query"], first["codes"]) == (None, ["PERSISTED_QUERY_NOT_FOUND"])
    assert with_text["sha256Hash"] == first["sha256Hash"]
    assert hashlib.sha256(with_text["query"].encode()).hexdigest() == first["sha256Hash"]
    assert (with_text["status"], with_text["codes"]) == (200, [])
    assert (second_page["query"], second_page["sha256Hash"]) == (None, first["sha256Hash"])
    assert (second_page["status"], second_page["codes"]) == (200, [])
