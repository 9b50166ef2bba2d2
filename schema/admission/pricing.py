"""Admission step 5: the operation's cost in points (schema.admission.cost), remembered per
document and page sizes, refused above ``EXCHANGE_MAX_COST``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    visit,
)

from exchange.errors import TransportCode
from exchange.settings import Settings
from schema.admission.cost import CostError, operation_cost
from schema.admission.cost_model import COST_CEILING, LIST_SIZES, priced_lists
from schema.admission.limits import limit_error
from schema.admission.prepared import Prepared
from schema.admission.refusal import RequestError

CACHE_ENTRIES = 64


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


def cached_operation_cost(
    cache: dict[Any, int | CostError],
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    page_cap: int,
    list_sizes: Mapping[tuple[str, str], int] = LIST_SIZES,
) -> int:
    """``operation_cost`` remembered per document (``cache`` lives with the parsed document),
    keyed by the page-size variables' values."""
    names_key = ("names", id(operation))
    names = cache.get(names_key)
    if names is None:
        names = cache[names_key] = page_variables(operation, fragments)  # type: ignore[assignment]
    key = (
        id(operation),
        page_cap,
        tuple(list_sizes.values()),
        tuple(variables.get(name) for name in names),  # type: ignore[union-attr]
    )
    found = cache.get(key)
    if found is None:
        try:
            found = operation_cost(schema, operation, fragments, variables, page_cap, list_sizes)
        except CostError as error:
            found = error
        if len(cache) < CACHE_ENTRIES:
            cache[key] = found
    if isinstance(found, CostError):
        raise found
    return found


def operation_price(
    schema: GraphQLSchema,
    prepared: Prepared,
    operation: OperationDefinitionNode,
    coerced: dict[str, Any],
    settings: Settings,
) -> int:
    """The operation's cost with its coerced variables; raises CostError for a page asked for
    two ways (first and last)."""
    return cached_operation_cost(
        prepared.costs,
        schema,
        operation,
        prepared.fragments,
        coerced,
        settings.page_size_cap,
        priced_lists(settings),
    )


def too_costly_error(cost: int, limit: int) -> GraphQLError:
    amount = f"at least {cost}" if cost >= COST_CEILING else str(cost)
    return limit_error(
        f"The operation would cost {amount} points; at most {limit} are allowed. Ask for smaller pages.",
        TransportCode.QUERY_TOO_COSTLY,
    )


def price(
    schema: GraphQLSchema,
    prepared: Prepared,
    operation: OperationDefinitionNode,
    coerced: dict[str, Any],
    settings: Settings,
) -> tuple[int, dict[str, Any]]:
    """The cost and the ``extensions.cost`` that reports it; raises RequestError to refuse."""
    try:
        cost = operation_price(schema, prepared, operation, coerced, settings)
    except CostError as error:
        raise RequestError.graphql([error]) from error
    cost_extension = {"requested": cost, "limit": settings.max_cost}
    if cost > settings.max_cost:
        refusal = too_costly_error(cost, settings.max_cost)
        raise RequestError.graphql([refusal], extensions={"cost": cost_extension})
    return cost, cost_extension
