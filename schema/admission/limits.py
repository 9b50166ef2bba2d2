"""Admission step 2, the shape limits: how many fields, how deep, how many aliases and root
fields an operation may select once its fragments are expanded where they are spread. Checked
once per distinct document (schema.admission.prepared caches the result)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from exchange.errors import TransportCode
from exchange.settings import Settings


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_tokens: int
    max_root_fields: int
    max_cost: int
    max_input_list: int
    page_size_cap: int
    introspection: bool
    max_fields: int = 10_000

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_root_fields=settings.max_root_fields,
            max_cost=settings.max_cost,
            max_input_list=settings.max_input_list,
            page_size_cap=settings.page_size_cap,
            introspection=settings.introspection_enabled,
            max_fields=settings.max_fields,
        )

    def __hash__(self) -> int:
        # Part of the document cache's key on every request: hashed once, not field by field.
        found: int | None = self.__dict__.get("_hash")
        if found is None:
            found = hash(tuple(getattr(self, name) for name in self.__dataclass_fields__))
            object.__setattr__(self, "_hash", found)
        return found

    @property
    def hide_suggestions(self) -> bool:
        # "Did you mean …" reveals the schema; where introspection is off, so are they.
        return not self.introspection


def limit_error(message: str, code: TransportCode, nodes: Any = None) -> GraphQLError:
    return GraphQLError(message, nodes=nodes, extensions={"code": code})


@dataclass(frozen=True)
class Figures:
    """What a selection set amounts to with its fragments expanded where they are spread (a
    fragment spread twice counts twice, as in the cost)."""

    fields: int = 0  # fields at every level
    aliases: int = 0
    depth: int = 0  # introspection fields (``__schema``, ``__type``) do not count
    roots: int = 0  # fields at this level other than ``__typename``


_NOTHING = Figures()

# Counts stop growing here: nested spreads multiply, and a number with hundreds of digits
# tells the caller nothing more.
MANY = 10**15


def _count(number: int) -> str:
    return f"more than {MANY:,}" if number >= MANY else str(number)


class DocumentShape:
    """The figures of a document's selection sets, each fragment's computed once: expanding
    a spread at every use is 2^N work for N fragments that each spread the next twice,
    while the document stays a few hundred bytes. ``visits`` counts the selections looked
    at, which is at most the number of selections written in the document."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.visits = 0
        self._figures: dict[str, Figures] = {}

    def of(self, selection_set: SelectionSetNode | None) -> Figures:
        if selection_set is None:
            return _NOTHING
        fields = aliases = depth = roots = 0
        for selection in selection_set.selections:
            self.visits += 1
            if isinstance(selection, FieldNode):
                name = selection.name.value
                below = self.of(selection.selection_set)
                fields += 1 + below.fields
                aliases += (0 if selection.alias is None else 1) + below.aliases
                if not name.startswith("__"):
                    # Introspection (allowed only where enabled) nests ofType deeply by design.
                    depth = max(depth, 1 + below.depth)
                roots += 0 if name == "__typename" else 1
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = self.of(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
            else:  # pragma: no cover - a selection kind this graphql-core does not have
                continue
            fields += inner.fields
            aliases += inner.aliases
            depth = max(depth, inner.depth)
            roots += inner.roots
        return Figures(min(fields, MANY), min(aliases, MANY), depth, min(roots, MANY))

    def fragment(self, name: str) -> Figures:
        figures = self._figures.get(name)
        if figures is None:
            definition = self.fragments.get(name)
            # Marked before the walk: a cycle (validation refuses those) ends here.
            self._figures[name] = _NOTHING
            figures = self._figures[name] = self.of(definition.selection_set if definition else None)
        return figures


def shape_errors(
    operations: Iterable[OperationDefinitionNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    limits: Limits,
) -> list[GraphQLError]:
    """Every operation of a document against every shape limit."""
    shape = DocumentShape(fragments)
    errors: list[GraphQLError] = []
    for operation in operations:
        errors.extend(operation_shape_errors(operation, shape.of(operation.selection_set), limits))
    return errors


def operation_shape_errors(
    operation: OperationDefinitionNode, figures: Figures, limits: Limits
) -> list[GraphQLError]:
    label = f"Operation '{operation.name.value}'" if operation.name else "The operation"
    checks = (
        (
            figures.fields > limits.max_fields,
            f"{label} selects {_count(figures.fields)} fields once its fragments are expanded where "
            f"they are spread; at most {limits.max_fields} are allowed.",
            TransportCode.TOO_MANY_FIELDS,
        ),
        (
            figures.depth > limits.max_depth,
            f"{label} is {figures.depth} levels deep; at most {limits.max_depth} are allowed.",
            TransportCode.QUERY_TOO_DEEP,
        ),
        (
            figures.aliases > limits.max_aliases,
            f"{label} uses {_count(figures.aliases)} aliases; at most {limits.max_aliases} are allowed.",
            TransportCode.TOO_MANY_ALIASES,
        ),
        (
            figures.roots > limits.max_root_fields,
            f"{label} selects {_count(figures.roots)} root fields; at most {limits.max_root_fields} are allowed.",
            TransportCode.TOO_MANY_ROOT_FIELDS,
        ),
    )
    return [limit_error(message, code, operation) for over, message, code in checks if over]
