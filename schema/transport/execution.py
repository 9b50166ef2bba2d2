"""Running an admitted operation under the execution time limit: by its compiled plan
(schema.engine.plan) where it can, else by graphql-core through Strawberry."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLSchema, OperationDefinitionNode
from graphql.execution.values import VariableValues
from starlette.responses import Response
from strawberry.schema.base import BaseSchema
from strawberry.types.graphql import OperationType as StrawberryOperationType

from exchange import access
from exchange.deadlines import within
from exchange.errors import TransportCode
from schema.admission.limits import Prepared
from schema.api.context import Context
from schema.engine.plan import Fallback, compile_operation
from schema.engine.plan import execute as execute_plan
from schema.transport.errors import format_result

log = logging.getLogger("exchange.graphql")


@dataclass
class Outcome:
    body: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Admission:
    """A request that passed every check before execution, and what the checks found."""

    query: str
    operation_name: str | None
    raw_variables: dict[str, Any]
    extensions: dict[str, Any] | None
    prepared: Prepared
    operation: OperationDefinitionNode
    coerced: dict[str, Any]
    variable_values: VariableValues
    context: Context
    sub_response: Response
    actor: access.Actor | None
    headers: dict[str, str]
    extensions_out: dict[str, Any]
    # A subscription to stream over HTTP (text/event-stream or multipart/mixed).
    streamed: bool = False


def timed_out(request_id: str, timeout_seconds: float) -> Outcome:
    log.warning("request %s: execution timed out", request_id)
    return Outcome(
        {
            "data": None,
            "errors": [
                {
                    "message": f"The operation took longer than {timeout_seconds} s and was stopped.",
                    "extensions": {"code": TransportCode.TIMEOUT, "requestId": request_id},
                }
            ],
        }
    )


async def run_plan(
    schema: GraphQLSchema, timeout_seconds: float, admitted: Admission, request_id: str
) -> Outcome | None:
    """The query run by its compiled plan; None where graphql-core must run it (the plan steps
    aside on any error, so errors and partial data are graphql-core's)."""
    plan = compile_operation(
        schema, admitted.operation, admitted.prepared.fragments, admitted.coerced, admitted.prepared.plans
    )
    if plan is None:
        return None
    context = admitted.context
    context.release()  # loaders built before now (none, usually) loaded whole rows
    context.columns = plan.columns
    try:
        data = await within(timeout_seconds, execute_plan(plan, context, admitted.variable_values))
    except Fallback:
        # graphql-core runs on whole rows: the plan's partial ones must not reach it.
        context.columns = {}
        context.release()
        return None
    except TimeoutError:
        return timed_out(request_id, timeout_seconds)
    context.release()
    return Outcome({"data": data})


async def run_graphql_core(
    schema: BaseSchema, timeout_seconds: float, method: str, admitted: Admission, request_id: str
) -> Outcome:
    allowed = (
        {StrawberryOperationType.QUERY}
        if method == "GET"
        else {StrawberryOperationType.QUERY, StrawberryOperationType.MUTATION}
    )
    try:
        result = await within(
            timeout_seconds,
            schema.execute(
                admitted.query,
                variable_values=admitted.raw_variables,
                context_value=admitted.context,
                operation_name=admitted.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=admitted.extensions,
            ),
        )
    except TimeoutError:
        return timed_out(request_id, timeout_seconds)
    body: dict[str, Any] = dict(format_result(result, request_id))
    outcome = Outcome(body)
    codes = {error["extensions"]["code"] for error in body.get("errors") or []}
    if TransportCode.SERVICE_UNAVAILABLE in codes and body.get("data") is None:
        outcome.status = 503
        outcome.headers["Retry-After"] = "1"
    return outcome
