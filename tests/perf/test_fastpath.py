"""schema.engine.fastpath: direct resolver calls only where Strawberry's wrapper changes nothing,
and the same answers (values, arguments, Info, errors, permissions) either way."""

from __future__ import annotations

import enum
from typing import Any

import strawberry
from strawberry.permission import BasePermission

from schema.engine import fastpath


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Never(BasePermission):
    message = "no"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Item:
    name: str

    @strawberry.field
    def shout(self, times: int = 1, suffix: str | None = None) -> str:
        return self.name.upper() * times + (suffix or "")

    @strawberry.field
    @staticmethod
    def context_value(root: strawberry.Parent[Item], info: strawberry.Info) -> str:
        return f"{root.name}:{info.context['who']}:{info.field_name}"

    @strawberry.field
    async def later(self) -> str:
        return self.name + "!"

    @strawberry.field
    def paint(self, colour: Colour) -> str:
        return f"{self.name} {colour.value}"

    @strawberry.field(permission_classes=[Never])
    def secret(self) -> str:
        return "leaked"

    @strawberry.field
    def fails(self) -> str:
        raise ValueError("boom")


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [Item(name="a"), Item(name="b")]


DOCUMENT = """{ items { name shout(times: 2, suffix: "?") contextValue later paint(colour: BLUE) } }"""


def _schema(direct: bool) -> tuple[strawberry.Schema, list[str]]:
    schema = strawberry.Schema(query=Query)
    installed = fastpath.install(schema) if direct else []
    return schema, installed


def test_only_fields_without_extensions_and_with_scalar_arguments_go_direct() -> None:
    _, installed = _schema(direct=True)
    assert {"Item.shout", "Item.contextValue", "Item.later", "Item.fails", "Query.items"} <= set(installed)
    assert "Item.paint" not in installed  # enum argument: Strawberry converts it
    assert "Item.secret" not in installed  # permission classes are a field extension
    assert "Item.name" not in installed  # no resolver: already graphql-core's plain attribute


async def test_same_answers_with_and_without() -> None:
    results = []
    for direct in (False, True):
        schema, _ = _schema(direct)
        result = await schema.execute(DOCUMENT, context_value={"who": "me"})
        assert result.errors is None
        results.append(result.data)
    assert results[0] == results[1]
    assert results[1] == {
        "items": [
            {
                "name": "a",
                "shout": "AA?",
                "contextValue": "a:me:contextValue",
                "later": "a!",
                "paint": "a blue",
            },
            {
                "name": "b",
                "shout": "BB?",
                "contextValue": "b:me:contextValue",
                "later": "b!",
                "paint": "b blue",
            },
        ]
    }


async def test_errors_and_permissions_unchanged() -> None:
    for direct in (False, True):
        schema, _ = _schema(direct)
        result = await schema.execute("{ items { fails } }")
        assert result.errors is not None
        assert isinstance(result.errors[0].original_error, ValueError)
        denied = await schema.execute("{ items { secret } }")
        assert denied.errors is not None and denied.errors[0].message == "no"
