"""Admission step: the operation's cost in points, refused above ``EXCHANGE_MAX_COST``."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode

from exchange.settings import Settings
from schema.admission.cost import CostError, cached_operation_cost, priced_lists
from schema.admission.limits import Prepared, too_costly_error
from schema.admission.refusal import RequestError


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


def cost_refusal(cost: int, settings: Settings) -> GraphQLError | None:
    return too_costly_error(cost, settings.max_cost) if cost > settings.max_cost else None


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
    refusal = cost_refusal(cost, settings)
    if refusal is not None:
        raise RequestError.graphql([refusal], extensions={"cost": cost_extension})
    return cost, cost_extension
