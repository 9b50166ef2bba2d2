"""The compiled plan's shapes (schema.engine.compiling builds them, schema.engine.execution
runs them): per object type the fields of a selection, per field how a value is obtained and
how it is completed."""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from graphql import (
    FieldNode,
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLField,
    GraphQLObjectType,
    GraphQLScalarType,
    SelectionSetNode,
)

from schema.engine.arguments import Arguments
from schema.engine.fastpath import DirectCall, LoaderCall
from schema.engine.lookup import LookupField
from schema.engine.rows import RowField

# How often the plan answered and how often a document was not compiled (tests and operators
# read these).
STATS: collections.Counter[str] = collections.Counter()


class Fallback(Exception):
    """Raised while compiling: the plan cannot run this operation; graphql-core runs it instead.
    Never raised once an operation runs."""


# ---------------------------------------------------------------- compiled shapes

# Field kinds: how a value is obtained for one object.
TYPENAME, ATTRIBUTE, DIRECT, RESOLVER, LOADER = range(5)
# Completion kinds: what is done with the value.
LEAF, OBJECT, ABSTRACT, LIST = range(4)


@dataclass(eq=False)
class Completion:
    kind: int
    non_null: bool
    serialize: Callable[[Any], Any] | None = None  # LEAF
    leaf_type: GraphQLScalarType | GraphQLEnumType | None = None  # LEAF, for its error message
    object_plan: LazyPlan | None = None  # OBJECT
    abstract: GraphQLAbstractType | None = None  # ABSTRACT
    runtime_plans: dict[str, ObjectPlan] = field(default_factory=dict)  # ABSTRACT, by type name
    nodes: tuple[FieldNode, ...] = ()  # ABSTRACT: the selections to compile per runtime type
    item: Completion | None = None  # LIST


@dataclass(eq=False)
class FieldPlan:
    key: str
    name: str
    nodes: tuple[FieldNode, ...]
    definition: GraphQLField | None  # None for __typename
    kind: int
    attribute: str = ""
    direct: DirectCall | None = None
    loader_call: LoaderCall | None = None
    # The declared subtree (schema.engine.rows) or root lookup by id (schema.engine.lookup)
    # answered from rows, when the request allows; else the field runs as its kind says.
    rows: RowField | LookupField | None = None
    is_async: bool = False
    # The arguments per request (None: a literal its type refuses, reported at run time).
    arguments: Arguments | None = None
    completion: Completion | None = None


@dataclass(eq=False)
class ObjectPlan:
    type: GraphQLObjectType
    fields: list[FieldPlan]


class Planning(Protocol):
    """What a lazy plan needs of the operation (schema.engine.compiling.OperationPlan)."""

    def object_plan(
        self, runtime: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> ObjectPlan: ...


class LazyPlan:
    """An object plan compiled on first use (a deep schema would otherwise compile every
    branch of a document up front, including the ones no result reaches)."""

    __slots__ = ("_built", "_operation", "_selection_sets", "type")

    def __init__(
        self, operation: Planning, type_: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> None:
        self._operation = operation
        self.type = type_
        self._selection_sets = selection_sets
        self._built: ObjectPlan | None = None

    def get(self) -> ObjectPlan:
        built = self._built
        if built is None:
            built = self._built = self._operation.object_plan(self.type, self._selection_sets)
        return built
