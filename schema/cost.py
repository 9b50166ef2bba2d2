"""What an operation costs, computed from the document and its variables before it runs.

The model is GitHub's node limit with Shopify's points, so a client can compute it too:

- a scalar or enum field costs 0;
- an object field costs 1 plus its selection;
- a connection (a field returning ``…Connection`` with ``first``/``last``) costs 1 for the
  page query plus ``page × (the selection of one item)``, where the page is ``first``, else
  ``last``, else the page-size cap (what the server would return); its ``…Edge`` and
  ``PageInfo`` wrappers cost nothing themselves;
- a plain list of objects (``sessions``, ``partners``, ``speakers``) costs its estimated size
  (``LIST_SIZES``, else ``DEFAULT_LIST_SIZE``) × (1 + its selection);
- a mutation field costs ``MUTATION_COST`` on top, since it writes;
- fragments count where they are spread; introspection fields cost nothing.

Example: ``{ organisations(first: 5) { edges { node { exchanges(first: 10)
{ edges { node { title sessions { title } } } } } } } }`` costs
1 + 5 × (1 + (1 + 10 × (1 + 20 × 1))) = 1 + 5 × 212 = 1061.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    ArgumentNode,
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
    VariableNode,
    Visitor,
    get_named_type,
    is_leaf_type,
    value_from_ast,
    visit,
)

from schema.relay import FIRST_AND_LAST

# Estimated sizes of lists that are not paginated: (type name, field name) -> items.
LIST_SIZES: dict[tuple[str, str], int] = {
    ("ExperienceExchange", "sessions"): 20,
    ("ExperienceExchange", "partners"): 5,
    ("Session", "speakers"): 5,
    ("Invitation", "sessions"): 20,
    ("InvitationPreview", "sessions"): 20,
    ("InviteVolunteersPayload", "invitations"): 100,
}
DEFAULT_LIST_SIZE = 10
MUTATION_COST = 10


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


class CostCalculator:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        page_cap: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.page_cap = page_cap

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
            if isinstance(selection, FieldNode):
                count += 0 if selection.name.value.startswith("__") else 1
            elif isinstance(selection, InlineFragmentNode):
                count += self._root_field_count(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    count += self._root_field_count(fragment.selection_set)
        return count

    def selection(self, selection_set: SelectionSetNode | None, parent: Any, page: int | None) -> int:
        """Cost of one item of ``parent`` with this selection; ``page`` is the size of the
        lists directly below (edges, nodes) when ``parent`` is a connection."""
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = parent
                if selection.type_condition is not None:
                    condition = self.schema.get_type(selection.type_condition.name.value) or parent
                total += self.selection(selection.selection_set, condition, page)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    condition = self.schema.get_type(fragment.type_condition.name.value) or parent
                    total += self.selection(fragment.selection_set, condition, page)
        return total

    def field(self, node: FieldNode, parent: Any, page: int | None) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0
        fields = getattr(parent, "fields", None)
        if not fields or name not in fields:
            return 0
        definition = fields[name]
        is_list, _ = _unwrap_list(definition.type)
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        if _is_connection(named, definition.args):
            return 1 + self.selection(node.selection_set, named, page=self.page_size(node))
        own = 0 if _is_wrapper(named) else 1
        if is_list:
            count = page if page is not None else LIST_SIZES.get((parent.name, name), DEFAULT_LIST_SIZE)
            return count * (own + self.selection(node.selection_set, named, page=None))
        return own + self.selection(node.selection_set, named, page=None)

    def page_size(self, node: FieldNode) -> int:
        values: dict[str, int | None] = {"first": None, "last": None}
        for argument in node.arguments or ():
            if argument.name.value in values:
                value = value_from_ast(argument.value, GraphQLInt, dict(self.variables))
                values[argument.name.value] = value if isinstance(value, int) else None
        if values["first"] is not None and values["last"] is not None:
            raise CostError(FIRST_AND_LAST, nodes=[node], extensions={"code": "BAD_USER_INPUT"})
        for name, value in values.items():
            if value is not None and value < 0:
                raise CostError(
                    f"`{name}` must not be negative.", nodes=[node], extensions={"code": "BAD_USER_INPUT"}
                )
            if value is not None and value > self.page_cap:
                raise CostError(
                    f"`{name}` must be at most {self.page_cap} (asked for {value}); page with cursors.",
                    nodes=[node],
                    extensions={"code": "BAD_USER_INPUT"},
                )
        page = values["first"] if values["first"] is not None else values["last"]
        return self.page_cap if page is None else max(page, 0)


class _PageVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        if node.name.value in ("first", "last") and isinstance(node.value, VariableNode):
            self.names.add(node.value.name.value)


def page_variables(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> tuple[str, ...]:
    """Variables that can change the cost (page sizes); the rest of the cost is the document's."""
    finder = _PageVariables()
    for node in (operation, *fragments.values()):
        visit(node, finder)
    return tuple(sorted(finder.names))


CACHE_ENTRIES = 64


def cached_operation_cost(
    cache: dict[Any, int | CostError],
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    page_cap: int,
) -> int:
    """``operation_cost`` remembered per document (``cache`` lives with the parsed document),
    keyed by the page-size variables' values."""
    names_key = ("names", id(operation))
    names = cache.get(names_key)
    if names is None:
        names = cache[names_key] = page_variables(operation, fragments)  # type: ignore[assignment]
    key = (id(operation), page_cap, tuple(variables.get(name) for name in names))  # type: ignore[union-attr]
    found = cache.get(key)
    if found is None:
        try:
            found = operation_cost(schema, operation, fragments, variables, page_cap)
        except CostError as error:
            found = error
        if len(cache) < CACHE_ENTRIES:
            cache[key] = found
    if isinstance(found, CostError):
        raise found
    return found


def operation_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    page_cap: int,
) -> int:
    return CostCalculator(schema, fragments, variables, page_cap).operation(operation)
