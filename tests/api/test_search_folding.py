"""Search treats ё and е alike: Russian readers mostly type "учет" for "учёт"."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from tortoise import connections

from exchange.models import Exchange, Volunteer
from tests.conftest import GraphQLClient, make_key, make_organisation

SEARCH = "query($s: String) { exchanges(filter: {search: $s}) { edges { node { slug } } } }"
SKILL = "query($s: String) { volunteers(skill: $s) { edges { node { fullName } } } }"

CREATE = """mutation($input: CreateExchangeInput!) {
  createExchange(input: $input) { exchange { slug } userErrors { field message code } }
}"""

REGISTER = """mutation($input: RegisterVolunteerInput!) {
  registerVolunteer(input: $input) { volunteer { fullName } userErrors { field message code } }
}"""


def slugs(result: dict[str, Any]) -> list[str]:
    return [edge["node"]["slug"] for edge in result["data"]["exchanges"]["edges"]]


def names(result: dict[str, Any]) -> list[str]:
    return [edge["node"]["fullName"] for edge in result["data"]["volunteers"]["edges"]]


async def create_exchange(gql: GraphQLClient, key: str, slug: str, title: str) -> None:
    result = await gql(
        CREATE,
        {
            "input": {
                "slug": slug,
                "titles": [{"locale": "ru", "text": title}],
                "theme": "ECOLOGY",
                "country": "KZ",
                "startsOn": "2027-07-12",
                "endsOn": "2027-07-14",
                "timeZone": "Asia/Almaty",
                "languages": ["ru"],
                "status": "OPEN",
            }
        },
        key=key,
    )
    assert result["data"]["createExchange"]["userErrors"] == []


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("учет", ["yo", "ye"]),
        ("учёт", ["yo", "ye"]),
        ("УЧЁТ ПТИЦ", ["yo"]),
        ("УЧЕТ", ["yo", "ye"]),
        ("птиц", ["yo"]),
        ("ёлки", ["ye"]),
        ("елки", ["ye"]),
    ],
)
async def test_search_matches_yo_and_ye_alike(gql: GraphQLClient, needle: str, expected: list[str]) -> None:
    key = await make_key(await make_organisation("host"))
    await create_exchange(gql, key, "yo", "Учёт птиц на озере Зайсан")
    await create_exchange(gql, key, "ye", "Учет елок и ЁЛКИ")
    assert sorted(slugs(await gql(SEARCH, {"s": needle}))) == sorted(expected)


async def test_skill_matches_yo_and_ye_alike(gql: GraphQLClient) -> None:
    host = await make_organisation("host")
    key = await make_key(host)
    result = await gql(
        REGISTER,
        {
            "input": {
                "fullName": "Иван Петров",
                "email": "ivan@example.org",
                "country": "RU",
                "languages": ["ru"],
                "skills": ["Учёт птиц"],
            }
        },
        key=key,
    )
    assert result["data"]["registerVolunteer"]["userErrors"] == []
    for needle in ("учет птиц", "УЧЁТ ПТИЦ"):
        assert names(await gql(SKILL, {"s": needle}, key=key)) == ["Иван Петров"]


async def test_migration_refolds_rows_written_before(gql: GraphQLClient) -> None:
    """Rows stored with the old fold (ё kept) are found by е after migration 0005."""
    host = await make_organisation("host")
    key = await make_key(host)
    await create_exchange(gql, key, "old", "Учёт птиц")
    await Exchange.filter(slug="old").update(search_text="учёт птиц")
    volunteer = await Volunteer.create(
        full_name="Old Skill",
        email="old@example.org",
        country="KZ",
        languages=["ru"],
        skills=["Учёт птиц"],
        skills_folded="\nучёт птиц\n",
        organisation=host,
    )
    assert slugs(await gql(SEARCH, {"s": "учет"})) == []

    migration = importlib.import_module("exchange.migrations.0005_search_folds_yo")
    client = connections.get("default")
    for statement in migration.REFOLD:
        await client.execute_script(statement)

    assert slugs(await gql(SEARCH, {"s": "учет"})) == ["old"]
    assert names(await gql(SKILL, {"s": "учет птиц"}, key=key)) == [volunteer.full_name]
