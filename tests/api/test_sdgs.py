"""Sustainable Development Goals on exchanges through HTTP: given on create and update
(1-17, repeats merged, sorted), and the any-of filter of the exchanges list, which is
hand-written SQL (exchange.exchanges.page_exchanges) on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.models import Exchange, ExchangeStatus, Theme
from tests.api.exchange_fixtures import gid, make_exchange
from tests.api.test_exchanges import new_exchange
from tests.conftest import GraphQLClient, make_key, make_organisation

CREATE = """
mutation($input: CreateExchangeInput!) {
  createExchange(input: $input) { exchange { slug sdgs } userErrors { field message code } }
}
"""
UPDATE = """
mutation($id: ID!, $input: UpdateExchangeInput!) {
  updateExchange(id: $id, input: $input) { exchange { slug sdgs } userErrors { field message code } }
}
"""
LIST = """
query($filter: ExchangeFilter, $first: Int) {
  exchanges(filter: $filter, first: $first) { totalCount edges { node { slug sdgs } } }
}
"""


async def test_create_merges_repeats_and_sorts(gql: GraphQLClient) -> None:
    key = await make_key(await make_organisation("host"))
    result = await gql(CREATE, {"input": new_exchange(sdgs=[15, 13, 3, 13])}, key=key)
    payload = result["data"]["createExchange"]
    assert payload["userErrors"] == []
    assert payload["exchange"]["sdgs"] == [3, 13, 15]
    assert (await Exchange.get(slug="aral-sea-week-2027")).sdgs == [3, 13, 15]


async def test_create_without_goals_has_none(gql: GraphQLClient) -> None:
    key = await make_key(await make_organisation("host"))
    result = await gql(CREATE, {"input": new_exchange()}, key=key)
    assert result["data"]["createExchange"]["exchange"]["sdgs"] == []


@pytest.mark.parametrize("goals", [[0], [18], [-1, 3], [3, 100]])
async def test_goals_outside_1_to_17_are_invalid_and_nothing_is_written(
    gql: GraphQLClient, goals: list[int]
) -> None:
    key = await make_key(await make_organisation("host"))
    result = await gql(CREATE, {"input": new_exchange(sdgs=goals)}, key=key)
    payload = result["data"]["createExchange"]
    bad = [index for index, goal in enumerate(goals) if not 1 <= goal <= 17]
    assert payload["exchange"] is None
    assert [error["field"] for error in payload["userErrors"]] == [["sdgs", str(index)] for index in bad]
    assert {error["code"] for error in payload["userErrors"]} == {"INVALID"}
    assert "numbered 1 to 17" in payload["userErrors"][0]["message"]
    assert not await Exchange.exists()


async def test_update_replaces_clears_and_validates(gql: GraphQLClient) -> None:
    host = await make_organisation("host")
    key = await make_key(host)
    exchange = await make_exchange("aral", host, sdgs=[13])

    async def update(input: dict[str, Any]) -> dict[str, Any]:
        result = await gql(UPDATE, {"id": gid(exchange), "input": input}, key=key)
        payload: dict[str, Any] = result["data"]["updateExchange"]
        return payload

    assert (await update({"sdgs": [6, 6, 2]}))["exchange"]["sdgs"] == [2, 6]
    assert (await update({"city": "Aralsk"}))["exchange"]["sdgs"] == [2, 6]  # left out: kept
    refused = await update({"sdgs": [4, 18]})
    assert refused["userErrors"] == [
        {
            "field": ["sdgs", "1"],
            "message": "18 is not a Sustainable Development Goal: the goals are numbered 1 to 17.",
            "code": "INVALID",
        }
    ]
    assert (await Exchange.get(id=exchange.id)).sdgs == [2, 6]
    assert (await update({"sdgs": None}))["exchange"]["sdgs"] == []
    assert (await update({"sdgs": [1]}))["exchange"]["sdgs"] == [1]
    assert (await update({"sdgs": []}))["exchange"]["sdgs"] == []


async def _catalogue() -> None:
    host = await make_organisation("host")
    await make_exchange("one", host, sdgs=[1])
    await make_exchange("eleven-thirteen", host, sdgs=[11, 13])
    await make_exchange("three-fifteen", host, sdgs=[3, 15], theme=Theme.HEALTH)
    await make_exchange("none", host)
    await make_exchange("draft-one", host, sdgs=[1], status=ExchangeStatus.DRAFT)


def _slugs(result: dict[str, Any]) -> list[str]:
    return sorted(edge["node"]["slug"] for edge in result["data"]["exchanges"]["edges"])


@pytest.mark.parametrize(
    ("goals", "expected"),
    [
        # By element, not by text: 1 is not found in [11, 13].
        ([1], ["one"]),
        ([13], ["eleven-thirteen"]),
        ([3], ["three-fifteen"]),
        ([5], []),
        ([1, 15], ["one", "three-fifteen"]),
        ([15, 1, 1], ["one", "three-fifteen"]),
        ([], ["eleven-thirteen", "none", "one", "three-fifteen"]),
        (None, ["eleven-thirteen", "none", "one", "three-fifteen"]),
    ],
)
async def test_filter_takes_any_of_the_goals(
    gql: GraphQLClient, goals: list[int] | None, expected: list[str]
) -> None:
    await _catalogue()
    result = await gql(LIST, {"filter": {"sdgs": goals}})
    assert "errors" not in result, result
    assert _slugs(result) == expected
    assert result["data"]["exchanges"]["totalCount"] == len(expected)


async def test_filter_combines_with_other_conditions_and_visibility(
    gql: GraphQLClient, admin_key: str
) -> None:
    await _catalogue()
    both = await gql(LIST, {"filter": {"sdgs": [1, 3], "theme": "HEALTH"}})
    assert _slugs(both) == ["three-fifteen"]
    # A draft is found by its goal only by those who may see it.
    assert _slugs(await gql(LIST, {"filter": {"sdgs": [1]}}, key=admin_key)) == ["draft-one", "one"]
    paged = await gql(LIST, {"filter": {"sdgs": [1, 13, 15]}, "first": 1})
    assert paged["data"]["exchanges"]["totalCount"] == 3
    assert len(paged["data"]["exchanges"]["edges"]) == 1


async def test_filter_refuses_numbers_that_are_no_goal(gql: GraphQLClient) -> None:
    await _catalogue()
    result = await gql(LIST, {"filter": {"sdgs": [3, 0, 18]}})
    assert result["data"] is None
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == ["filter", "sdgs", "1"]
    assert "items 1, 2" in error["message"]
