"""What an operation costs, walked from the document and its variables before it runs, by the
pricing model of schema.admission.cost_model: each fragment's cost computed once however often
it is spread, a page size over the cap or asked for two ways refused (CostError)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast,
)

from exchange.errors import TransportCode
from schema.admission.cost_model import COST_CEILING, DEFAULT_LIST_SIZE, LIST_SIZES, MUTATION_COST

# The Relay algorithm allows both (first N, then the last M of those), but no client here
# needs that, and a page meaning two things is easy to get wrong: refused, not guessed.
# Admission refuses it before execution (priced here); schema.api.paging says the same for a
# page asked for by other means.
FIRST_AND_LAST = (
    "`first` and `last` cannot be used together: page forwards with `first`/`after` "
    "or backwards with `last`/`before`."
)


class CostError(GraphQLError):
    """A page size over the cap or below zero, refused before execution like the resolver would."""


def _unwrap_list(type_: Any) -> tuple[bool, Any]:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        return True, type_
    return False, type_


def _is_connection(named: Any, field_args: Mapping[str, Any]) -> bool:
    return (
        isinstance(named, GraphQLObjectType)
        and named.name.endswith("Connection")
        and ("first" in field_args or "last" in field_args)
    )


def _is_wrapper(named: Any) -> bool:
    return isinstance(named, GraphQLObjectType) and (named.name.endswith("Edge") or named.name == "PageInfo")


@dataclass(frozen=True)
class _Parts:
    """The cost of one item with a selection, kept apart from the size of the lists directly
    below it, which only the caller knows (a connection's page, else the list's price):
    ``fixed + page × per_item`` under a connection, ``fixed + priced`` elsewhere."""

    fixed: int = 0
    per_item: int = 0  # one item of each plain list directly selected
    priced: int = 0  # those lists at their prices (LIST_SIZES)

    def at(self, page: int | None) -> int:
        return self.fixed + (self.priced if page is None else page * self.per_item)


_NOTHING = _Parts()


class CostCalculator:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        page_cap: int,
        list_sizes: Mapping[tuple[str, str], int] = LIST_SIZES,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.page_cap = page_cap
        self.list_sizes = list_sizes
        self.visits = 0  # selections looked at: at most the document's, however it spreads
        # A fragment costs the same wherever it is spread (its type is its own; the page above
        # it is applied by the caller): computed once, or N fragments that each spread the
        # next twice would cost 2^N work.
        self._fragment_parts: dict[str, _Parts] = {}
        self._fragment_roots: dict[str, int] = {}

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        cost = self.selection(operation.selection_set, root, page=None)
        if operation.operation is OperationType.MUTATION:
            cost += MUTATION_COST * self._root_field_count(operation.selection_set)
        return cost

    def _root_field_count(self, selection_set: SelectionSetNode) -> int:
        count = 0
        for selection in selection_set.selections:
            self.visits += 1
            if isinstance(selection, FieldNode):
                count += 0 if selection.name.value.startswith("__") else 1
            elif isinstance(selection, InlineFragmentNode):
                count += self._root_field_count(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None:
                    known = self._fragment_roots.get(name)
                    if known is None:
                        self._fragment_roots[name] = 0  # a cycle (validation refuses those) ends here
                        known = self._fragment_roots[name] = self._root_field_count(fragment.selection_set)
                    count += known
        return count

    def selection(self, selection_set: SelectionSetNode | None, parent: Any, page: int | None) -> int:
        """Cost of one item of ``parent`` with this selection; ``page`` is the size of the
        lists directly below (edges, nodes) when ``parent`` is a connection."""
        return self.parts(selection_set, parent).at(page)

    def parts(self, selection_set: SelectionSetNode | None, parent: Any) -> _Parts:
        if selection_set is None:
            return _NOTHING
        fixed = per_item = priced = 0
        for selection in selection_set.selections:
            self.visits += 1
            if isinstance(selection, FieldNode):
                inner = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = parent
                if selection.type_condition is not None:
                    condition = self.schema.get_type(selection.type_condition.name.value) or parent
                inner = self.parts(selection.selection_set, condition)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value, parent)
            else:  # pragma: no cover - a selection kind this graphql-core does not have
                continue
            fixed += inner.fixed
            per_item += inner.per_item
            priced += inner.priced
        return _Parts(fixed, per_item, priced)

    def fragment(self, name: str, parent: Any) -> _Parts:
        parts = self._fragment_parts.get(name)
        if parts is None:
            fragment = self.fragments.get(name)
            if fragment is None:
                return _NOTHING
            condition = self.schema.get_type(fragment.type_condition.name.value) or parent
            self._fragment_parts[name] = _NOTHING  # a cycle (validation refuses those) ends here
            parts = self._fragment_parts[name] = self.parts(fragment.selection_set, condition)
        return parts

    def field(self, node: FieldNode, parent: Any) -> _Parts:
        name = node.name.value
        if name.startswith("__"):
            return _NOTHING
        fields = getattr(parent, "fields", None)
        if not fields or name not in fields:
            return _NOTHING
        definition = fields[name]
        is_list, _ = _unwrap_list(definition.type)
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return _NOTHING
        if _is_connection(named, definition.args):
            return _Parts(fixed=1 + self.selection(node.selection_set, named, page=self.page_size(node)))
        item = (0 if _is_wrapper(named) else 1) + self.selection(node.selection_set, named, page=None)
        if is_list:
            price = self.list_sizes.get((parent.name, name), DEFAULT_LIST_SIZE)
            return _Parts(per_item=item, priced=price * item)
        return _Parts(fixed=item)

    def page_size(self, node: FieldNode) -> int:
        values: dict[str, int | None] = {"first": None, "last": None}
        for argument in node.arguments or ():
            if argument.name.value in values:
                value = value_from_ast(argument.value, GraphQLInt, dict(self.variables))
                values[argument.name.value] = value if isinstance(value, int) else None
        if values["first"] is not None and values["last"] is not None:
            raise CostError(FIRST_AND_LAST, nodes=[node], extensions={"code": TransportCode.BAD_USER_INPUT})
        for name, value in values.items():
            if value is not None and value < 0:
                raise CostError(
                    f"`{name}` must not be negative.",
                    nodes=[node],
                    extensions={"code": TransportCode.BAD_USER_INPUT},
                )
            if value is not None and value > self.page_cap:
                raise CostError(
                    f"`{name}` must be at most {self.page_cap} (asked for {value}); page with cursors.",
                    nodes=[node],
                    extensions={"code": TransportCode.BAD_USER_INPUT},
                )
        page = values["first"] if values["first"] is not None else values["last"]
        return self.page_cap if page is None else max(page, 0)


def operation_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    page_cap: int,
    list_sizes: Mapping[tuple[str, str], int] = LIST_SIZES,
) -> int:
    cost = CostCalculator(schema, fragments, variables, page_cap, list_sizes).operation(operation)
    return min(cost, COST_CEILING)
