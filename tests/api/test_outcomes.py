"""Outcomes through HTTP: the host records them once the exchange has started (exchange.schedule),
the set is replaced whole, values and units are checked, partners and others are refused, and
whoever sees the exchange reads them, labels in kk, ru and en."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from exchange.models import ExchangeOutcome, ExchangeStatus, Session, SessionFormat
from tests.api.exchange_fixtures import make_exchange
from tests.conftest import GraphQLClient
from tests.reports_world import RECORD, ReportsWorld, build_world


@pytest.fixture
async def world(app: Any, settings: Any, admin_key: str) -> ReportsWorld:
    return await build_world(settings, admin_key)


SAXAUL = [
    {"metric": "TREES_PLANTED", "value": 1200},
    {"metric": "WASTE_COLLECTED_KG", "value": 340.5, "unit": "kg"},
    {
        "metric": "CUSTOM",
        "value": 12,
        "unit": "km",
        "label": [{"locale": "ru", "text": "Очищено берега"}, {"locale": "en", "text": "Shore cleaned"}],
    },
]


async def record(
    gql: GraphQLClient,
    world: ReportsWorld,
    outcomes: list[dict[str, Any]],
    key: str | None = None,
    exchange: Any = None,
) -> dict[str, Any]:
    result = await gql(
        RECORD,
        {"exchangeId": world.gid(exchange or world.completed), "outcomes": outcomes},
        key=world.host_key if key is None else key,
    )
    return result


async def test_host_records_after_the_start_and_everyone_reads(
    gql: GraphQLClient, world: ReportsWorld
) -> None:
    result = await record(gql, world, SAXAUL)
    payload = result["data"]["recordOutcomes"]
    assert payload["userErrors"] == []
    assert [(o["metric"], o["value"], o["unit"]) for o in payload["outcomes"]] == [
        ("TREES_PLANTED", 1200.0, "trees"),
        ("WASTE_COLLECTED_KG", 340.5, "kg"),
        ("CUSTOM", 12.0, "km"),
    ]
    assert payload["exchange"]["outcomes"] == [
        {"metric": o["metric"], "value": o["value"], "unit": o["unit"], "label": o["label"]}
        for o in payload["outcomes"]
    ]
    # Anonymous readers of a published exchange, in each language.
    query = """query($slug: String!, $locale: LanguageCode) { exchange(slug: $slug) {
      outcomes { metric label(locale: $locale) recordedAt } } }"""
    labels = {}
    for locale in ("kk", "ru", "en"):
        read = await gql(query, {"slug": "aral-week-2025", "locale": locale})
        labels[locale] = [o["label"] for o in read["data"]["exchange"]["outcomes"]]
    assert labels == {
        "kk": ["Отырғызылған ағаштар", "Жиналған қоқыс", "Очищено берега"],
        "ru": ["Посажено деревьев", "Собрано отходов", "Очищено берега"],
        "en": ["Trees planted", "Waste collected", "Shore cleaned"],
    }
    # Accept-Language decides without the argument.
    header = await gql(query, {"slug": "aral-week-2025"}, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert header["data"]["exchange"]["outcomes"][2]["label"] == "Shore cleaned"


async def test_the_set_is_replaced_whole_and_a_refused_set_changes_nothing(
    gql: GraphQLClient, world: ReportsWorld
) -> None:
    await record(gql, world, SAXAUL)
    second = (await record(gql, world, [{"metric": "PEOPLE_REACHED", "value": 80}]))["data"]["recordOutcomes"]
    assert [(o["metric"], o["value"]) for o in second["outcomes"]] == [("PEOPLE_REACHED", 80.0)]
    refused = await record(
        gql, world, [{"metric": "TREES_PLANTED", "value": 5}, {"metric": "PEOPLE_REACHED", "value": -1}]
    )
    assert refused["data"]["recordOutcomes"]["userErrors"][0]["field"] == ["outcomes", "1", "value"]
    assert [(o.metric.value, o.value) for o in await ExchangeOutcome.all()] == [("PEOPLE_REACHED", 80.0)]
    cleared = (await record(gql, world, []))["data"]["recordOutcomes"]
    assert cleared["userErrors"] == [] and cleared["outcomes"] == []
    assert not await ExchangeOutcome.exists()


@pytest.mark.parametrize(
    ("outcome", "field", "message"),
    [
        ({"metric": "TREES_PLANTED", "value": -3}, "value", "never negative"),
        ({"metric": "AREA_RESTORED_HA", "value": 1e12}, "value", "above 1,000,000,000"),
        ({"metric": "TREES_PLANTED", "value": 10.5}, "value", "whole trees"),
        ({"metric": "PEOPLE_REACHED", "value": 0.2}, "value", "whole people"),
        ({"metric": "WASTE_COLLECTED_KG", "value": 3, "unit": "tonnes"}, "unit", "counted in kg"),
        (
            {"metric": "TREES_PLANTED", "value": 3, "label": [{"locale": "en", "text": "Oaks"}]},
            "label",
            "Only CUSTOM",
        ),
        ({"metric": "CUSTOM", "value": 3}, "label", "At least one text"),
        (
            {"metric": "CUSTOM", "value": 3, "label": [{"locale": "en", "text": "  "}]},
            "label",
            "must not be empty",
        ),
        (
            {"metric": "CUSTOM", "value": 3, "unit": "u" * 41, "label": [{"locale": "en", "text": "X"}]},
            "unit",
            "40",
        ),
        ({"metric": "CUSTOM", "value": 3, "label": [{"locale": "en", "text": "x" * 101}]}, "label", "100"),
    ],
)
async def test_values_units_and_labels_are_checked(
    gql: GraphQLClient, world: ReportsWorld, outcome: dict[str, Any], field: str, message: str
) -> None:
    payload = (await record(gql, world, [outcome]))["data"]["recordOutcomes"]
    assert payload["outcomes"] is None
    [error] = payload["userErrors"]
    assert error["code"] == "INVALID"
    assert error["field"][:3] == ["outcomes", "0", field]
    assert message in error["message"]
    assert not await ExchangeOutcome.exists()


async def test_a_standard_metric_once_a_unit_repeated_and_at_most_twenty(
    gql: GraphQLClient, world: ReportsWorld
) -> None:
    twice = await record(
        gql, world, [{"metric": "TREES_PLANTED", "value": 1}, {"metric": "TREES_PLANTED", "value": 2}]
    )
    [error] = twice["data"]["recordOutcomes"]["userErrors"]
    assert error["field"] == ["outcomes", "1", "metric"] and "twice" in error["message"]
    same_unit = await record(gql, world, [{"metric": "AREA_RESTORED_HA", "value": 2.5, "unit": " HA "}])
    assert same_unit["data"]["recordOutcomes"]["outcomes"][0]["unit"] == "ha"
    custom = [
        {"metric": "CUSTOM", "value": i, "label": [{"locale": "en", "text": f"m{i}"}]} for i in range(21)
    ]
    many = (await record(gql, world, custom))["data"]["recordOutcomes"]["userErrors"]
    assert many == [
        {"field": ["outcomes"], "message": "An exchange records at most 20 outcomes.", "code": "INVALID"}
    ]


async def test_before_the_start_is_invalid_with_the_start_named(
    gql: GraphQLClient, world: ReportsWorld
) -> None:
    payload = (await record(gql, world, SAXAUL, exchange=world.future))["data"]["recordOutcomes"]
    assert payload["userErrors"] == [
        {
            "field": ["exchangeId"],
            "message": "Outcomes are recorded once the exchange has started, from 2030-04-10 00:00 (Asia/Almaty).",
            "code": "INVALID",
        }
    ]
    # The first planned session is the start (exchange.schedule), not the first day.
    await Session.create(
        exchange=world.future,
        titles={"en": "Opening"},
        starts_at=dt.datetime(2030, 4, 10, 5, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2030, 4, 10, 6, 0, tzinfo=dt.UTC),
        format=SessionFormat.ONLINE,
    )
    later = (await record(gql, world, SAXAUL, exchange=world.future))["data"]["recordOutcomes"]
    assert "from 2030-04-10 10:00 (Asia/Almaty)" in later["userErrors"][0]["message"]
    # Started and not ended is enough.
    running = (await record(gql, world, SAXAUL, exchange=world.running))["data"]["recordOutcomes"]
    assert running["userErrors"] == []


async def test_who_may_record(gql: GraphQLClient, world: ReportsWorld) -> None:
    for key, code in (
        (world.partner_key, "FORBIDDEN"),
        (world.other_key, "FORBIDDEN"),
        (world.read_only_key, "FORBIDDEN"),
        ("", "UNAUTHENTICATED"),
    ):
        result = await record(gql, world, SAXAUL, key=key)
        assert result["errors"][0]["extensions"]["code"] == code, key
    assert not await ExchangeOutcome.exists()
    admin = await record(gql, world, SAXAUL, key=world.admin_key)
    assert admin["data"]["recordOutcomes"]["userErrors"] == []
    # Recorded by the host's key names nobody for an admin.
    assert {o.recorded_by_id for o in await ExchangeOutcome.all()} == {None}
    await record(gql, world, SAXAUL)
    assert {o.recorded_by_id for o in await ExchangeOutcome.all()} == {world.host.id}


async def test_a_draft_is_not_found_by_those_who_cannot_see_it(
    gql: GraphQLClient, world: ReportsWorld
) -> None:
    draft = await make_exchange(
        "old-draft", world.host, status=ExchangeStatus.DRAFT, starts_on=dt.date(2025, 1, 10)
    )
    result = await record(gql, world, SAXAUL, key=world.other_key, exchange=draft)
    assert result["data"]["recordOutcomes"]["userErrors"] == [
        {"field": ["exchangeId"], "message": "ExperienceExchange not found.", "code": "NOT_FOUND"}
    ]
    assert (await record(gql, world, SAXAUL, exchange=draft))["data"]["recordOutcomes"]["userErrors"] == []
    read = await gql('{ exchange(slug: "old-draft") { outcomes { metric } } }')
    assert read["data"]["exchange"] is None
    mine = await gql('{ exchange(slug: "old-draft") { outcomes { metric } } }', key=world.partner_key)
    assert mine["data"]["exchange"] is None  # not a partner of this one
    host = await gql('{ exchange(slug: "old-draft") { outcomes { metric } } }', key=world.host_key)
    assert len(host["data"]["exchange"]["outcomes"]) == 3
