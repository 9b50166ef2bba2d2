"""A hypothesis strategy of READ requests over the whole schema, walked from graphql-core's
schema (so new fields are generated without a change here): one to four root fields, every
field's arguments (required ones always, optional ones often) as literals or variables, with
values that name real things (ids of every node type, slugs, cursors, invitation tokens from
``world.Catalogue``) and some that do not (unknown ids, ids of another type, malformed
cursors, out-of-range page sizes and goals); aliases, named fragments and inline fragments on
Node and on concrete types, ``__typename``, ``@skip``/``@include`` with literals and variables,
and an Accept-Language header. Every document is checked against the schema (graphql-core's
``validate``) before it is sent.

Response keys are chosen so fields always merge: directly in a selection set a field's plain
name is used once (argument-less leaves may repeat: they merge); inside fragments every field
but ``id`` and ``__typename`` gets a fresh alias (fragments on different types may share a
field name with another type)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLType,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
)
from hypothesis import strategies as st

from tests.engine.differential import Request
from tests.engine.world import Catalogue

Draw = Callable[[st.SearchStrategy[Any]], Any]

# How deep object fields nest below the root (edges { node { ... } } takes two levels).
MAX_LEVEL = 6
LOCALES = ["kk", "ru", "en", "de", "uz", "ky"]
ACCEPT_LANGUAGES = [None, None, "ru", "kk", "en", "de-DE,de;q=0.9,ru;q=0.5", "uz, kk;q=0.5"]
PAGE_SIZES = [0, 1, 1, 2, 2, 3, 5, 10, 100]
# Paging a connection: forwards, backwards, not at all, or (refused by admission) both ways
# at once or with a page size out of range.
PAGINGS = {
    "forwards": ("first", "after"),
    "backwards": ("last", "before"),
    "no paging": (),
    "refused": ("first", "last", "after", "before"),
}
PAGING_WEIGHTS = ["forwards"] * 5 + ["backwards"] * 3 + ["no paging"] * 2 + ["refused"]
PAGE_ARGUMENTS = frozenset({"first", "last", "after", "before"})
SEARCHES = ["арал", "Sea", "SAXAUL", "море", "ё", "camp", "x", ""]
SKILLS = ["first aid", "Logistics", "kazakh", "photography", "none"]
DATES = ["2025-01-01", "2026-09-01", "2027-05-10", "2027-06-01", "2027-12-31"]
DATETIMES = ["2027-05-10T04:00:00Z", "2025-09-02T09:00:00+05:00"]
COUNTRIES = ["KZ", "UZ", "DE", "KG"]
GOALS = [1, 4, 13, 14, 15, 17, 0, 18]
UNKNOWN_ID = "RXhwZXJpZW5jZUV4Y2hhbmdlOjk5OTk5OQ"  # a well-formed id of no exchange
MALFORMED_IDS = ["not-an-id", "", UNKNOWN_ID]


# Drawing is most of the generator's time: integers are cheaper to draw than floats, and a
# strategy made once is cheaper than one made per draw.
PERCENT = st.integers(0, 99)


@functools.cache
def one_of(values: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(values)


@dataclass(frozen=True)
class EnumValue:
    """An enum value: bare in a literal, a string in variables."""

    name: str


def literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    assert isinstance(value, dict), value
    return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"


def as_json(value: Any) -> Any:
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, list):
        return [as_json(item) for item in value]
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    return value


@dataclass
class Builder:
    """One document being drawn: its variables, fragments and the counter behind fresh names."""

    draw: Draw
    schema: GraphQLSchema
    catalogue: Catalogue
    variables: dict[str, tuple[str, Any]] = field(default_factory=dict)  # name: (type, value)
    defaults: dict[str, str] = field(default_factory=dict)  # name: default literal
    fragments: list[str] = field(default_factory=list)
    counter: int = 0
    # Where given, every Type.field selected is added (the coverage test reads it).
    seen: set[str] | None = None

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def chance(self, p: float) -> bool:
        return bool(self.draw(PERCENT) < p * 100)

    def pick(self, values: Sequence[Any]) -> Any:
        return self.draw(one_of(tuple(values)))

    # ------------------------------------------------------------ values

    def value(self, type_: GraphQLType, name: str, where: str) -> Any:
        """A value for argument (or input field) ``name`` of field ``where``; ``where`` is
        "refused" for a page size admission refuses."""
        if isinstance(type_, GraphQLNonNull):
            return self.value(type_.of_type, name, where)
        if isinstance(type_, GraphQLList):
            if name == "sdgs":
                return self.draw(st.lists(one_of(tuple(GOALS)), max_size=3))
            return [self.value(type_.of_type, name, where) for _ in range(self.draw(st.integers(0, 2)))]
        if isinstance(type_, GraphQLEnumType):
            return EnumValue(self.pick(sorted(type_.values)))
        if isinstance(type_, GraphQLInputObjectType):
            values = {}
            for field_name, input_field in type_.fields.items():
                required = isinstance(input_field.type, GraphQLNonNull)
                if required or self.chance(0.35):
                    values[field_name] = self.value(input_field.type, field_name, type_.name)
            return values
        assert isinstance(type_, GraphQLScalarType), type_
        return self.pick(self.scalar(type_.name, name, where))

    def scalar(self, scalar: str, name: str, where: str) -> list[Any]:
        c = self.catalogue
        if scalar == "Int":
            if name in ("first", "last"):
                return PAGE_SIZES if where != "refused" else [-1, 101, 5000]
            return GOALS
        if scalar == "Boolean":
            return [True, False]
        if scalar == "Float":
            return [0.5, 8.0]
        if scalar == "LanguageCode":
            return LOCALES
        if scalar == "CountryCode":
            return COUNTRIES
        if scalar == "Date":
            return DATES
        if scalar == "DateTime":
            return DATETIMES
        wrong = self.chance(0.2)  # a value that names nothing (the answer is an error or null)
        if scalar == "ID":
            if wrong:
                return MALFORMED_IDS
            if name == "organisationId":
                return c.ids["Organisation"]
            if name == "exchangeId":
                return c.ids["ExperienceExchange"]
            if name == "endpointId":
                return c.endpoint_ids + c.ids["Organisation"][:1]
            return c.all_ids
        assert scalar == "String", scalar
        if name in ("after", "before"):
            return ["bogus-cursor"] if wrong else c.cursors
        if name == "slug":
            slugs = c.organisation_slugs if where == "organisation" else c.exchange_slugs
            return ["nowhere"] if wrong else slugs
        if name == "token":
            return ["not-a-token"] if wrong else c.tokens
        if name == "search":
            return SEARCHES
        if name == "skill":
            return SKILLS
        return ["x", "Aral"]

    def argument(self, argument: GraphQLArgument, name: str, where: str) -> str:
        value = self.value(argument.type, name, where)
        if self.chance(0.3):
            variable = self.fresh("v")
            self.variables[variable] = (str(argument.type), as_json(value))
            return f"{name}: ${variable}"
        return f"{name}: {literal(value)}"

    def arguments(self, field_: GraphQLField, where: str) -> str:
        given = []
        paging = self.pick(PAGING_WEIGHTS) if PAGE_ARGUMENTS <= set(field_.args) else ""
        for name, argument in field_.args.items():
            if name in PAGE_ARGUMENTS and paging:
                if name in PAGINGS[paging] and self.chance(0.7):
                    given.append(self.argument(argument, name, paging if paging == "refused" else where))
                continue
            if isinstance(argument.type, GraphQLNonNull):
                given.append(self.argument(argument, name, where))
            elif self.chance(0.5):
                given.append(f"{name}: null" if self.chance(0.1) else self.argument(argument, name, where))
        return f"({', '.join(given)})" if given else ""

    def directive(self) -> str:
        if not self.chance(0.06):
            return ""
        which = self.pick(["skip", "include"])
        condition = self.draw(st.booleans())
        if self.chance(0.6):
            variable = self.fresh("b")
            if self.chance(0.2):
                self.defaults[variable] = literal(condition)
                self.variables[variable] = ("Boolean", None)  # not sent: its default applies
            else:
                self.variables[variable] = ("Boolean!", condition)
            return f" @{which}(if: ${variable})"
        return f" @{which}(if: {literal(condition)})"

    # ------------------------------------------------------------ selections

    def selection_set(self, type_: GraphQLType, level: int, in_fragment: bool = False) -> str:
        named = get_named_type(type_)
        if isinstance(named, GraphQLInterfaceType):
            selections = self.on_interface(named, level)
        else:
            assert isinstance(named, GraphQLObjectType), named
            selections = self.on_object(named, level, in_fragment)
        return "{ " + " ".join(selections) + " }"

    def on_object(self, type_: GraphQLObjectType, level: int, in_fragment: bool) -> list[str]:
        fields = type_.fields
        names = sorted(fields)
        if level >= MAX_LEVEL:
            names = [n for n in names if is_leaf_type(get_named_type(fields[n].type))] or ["__typename"]
        wide = 3 if level < 3 else 2
        chosen = self.draw(st.lists(one_of(tuple(names)), min_size=1, max_size=wide))
        used: set[str] = set()
        selections = []
        for name in chosen:
            if name == "__typename":
                selections.append("__typename")
                continue
            selections.append(self.select_field(type_, name, fields[name], level, in_fragment, used))
        if self.chance(0.1):
            selections.append("__typename")
        if level < MAX_LEVEL and self.chance(0.12):
            selections.append(self.fragment_spread(type_, level))
        if level < MAX_LEVEL and self.chance(0.08):
            # An inline fragment on the type itself, or without a type condition.
            condition = self.pick([f" on {type_.name}", ""])
            inner = " ".join(self.on_object(type_, level + 1, in_fragment=True))
            selections.append(f"...{condition}{self.directive()} {{ {inner} }}")
        return selections

    def select_field(
        self,
        parent: GraphQLObjectType,
        name: str,
        field_: GraphQLField,
        level: int,
        in_fragment: bool,
        used: set[str],
    ) -> str:
        if self.seen is not None:
            self.seen.add(f"{parent.name}.{name}")
        leaf = is_leaf_type(get_named_type(field_.type))
        plain_merges = leaf and not field_.args
        key = name
        if in_fragment and name != "id":
            key = self.fresh(f"{name}_")
        elif name in used and not plain_merges:
            key = self.fresh(f"{name}_")
        elif self.chance(0.1):
            key = self.fresh("a")
        used.add(key)
        text = name if key == name else f"{key}: {name}"
        text += self.arguments(field_, name) + self.directive()
        if not leaf:
            text += " " + self.selection_set(field_.type, level + 1)
        return text

    def on_interface(self, type_: GraphQLInterfaceType, level: int) -> list[str]:
        selections = []
        if self.chance(0.5):
            selections.append("id")
        if self.chance(0.3):
            selections.append("__typename")
        possible = sorted(t.name for t in self.schema.get_possible_types(type_))
        for name in self.draw(st.lists(one_of(tuple(possible)), min_size=1, max_size=2, unique=True)):
            concrete = self.schema.get_type(name)
            assert isinstance(concrete, GraphQLObjectType)
            if self.chance(0.25):
                selections.append(self.fragment_spread(concrete, level))
            else:
                inner = " ".join(self.on_object(concrete, level, in_fragment=True))
                selections.append(f"... on {name}{self.directive()} {{ {inner} }}")
        if self.chance(0.15):
            fragment = self.fresh("F")
            inner = " ".join(["id", "__typename"][: self.draw(st.integers(1, 2))])
            self.fragments.append(f"fragment {fragment} on {type_.name} {{ {inner} }}")
            selections.append(f"...{fragment}")
        return selections

    def fragment_spread(self, type_: GraphQLObjectType, level: int) -> str:
        fragment = self.fresh("F")
        inner = " ".join(self.on_object(type_, level, in_fragment=True))
        self.fragments.append(f"fragment {fragment} on {type_.name} {{ {inner} }}")
        return f"...{fragment}{self.directive()}"

    # ------------------------------------------------------------ the document

    def document(self) -> Request:
        query_type = self.schema.query_type
        assert query_type is not None
        roots = sorted(name for name in query_type.fields if not name.startswith("__"))
        chosen = self.draw(st.lists(one_of(tuple(roots)), min_size=1, max_size=4))
        used: set[str] = set()
        selections = [
            self.select_field(query_type, name, query_type.fields[name], 1, False, used) for name in chosen
        ]
        if self.chance(0.05):
            selections.append("__typename")
        body = "{ " + " ".join(selections) + " }"
        if self.variables:
            declared = ", ".join(
                f"${name}: {type_}" + (f" = {self.defaults[name]}" if name in self.defaults else "")
                for name, (type_, _) in self.variables.items()
            )
            operation = f"query Q({declared}) {body}"
        else:
            operation = body if self.chance(0.5) else f"query Q {body}"
        query = "\n".join([operation, *self.fragments])
        variables = {
            name: value for name, (_, value) in self.variables.items() if name not in self.defaults
        } or None
        language = self.pick(ACCEPT_LANGUAGES)
        headers = (("Accept-Language", language),) if language else ()
        return Request(query, variables, headers)


def read_requests(
    schema: GraphQLSchema, catalogue: Catalogue, seen: set[str] | None = None
) -> st.SearchStrategy[Request]:
    """Valid read requests (graphql-core's validation finds nothing wrong in the document)."""

    @st.composite
    def requests(draw: Draw) -> Request:
        request = Builder(draw, schema, catalogue, seen=seen).document()
        errors = validate(schema, parse(request.query))
        assert not errors, f"the generator made an invalid document: {errors}\n{request.query}"
        return request

    return requests()
