"""Running an admitted operation under the execution time limit: by its compiled plan
(schema.engine.plan) where it can, else by graphql-core through Strawberry. Either runs once:
the plan answers errors and partial data itself, and what it cannot run is known before it
starts.

At the deadline (or when the client leaves) the execution is cancelled and the answer waits
until the cancelled work has ended, so nothing of the request runs on after its response and
outside its execution slot; only work that does not end within ``CANCEL_GRACE_SECONDS`` of
being cancelled (a database client cancelling a query on a connection that went silent) is
left to finish in the background, and logged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from graphql import GraphQLSchema, OperationDefinitionNode
from starlette.responses import Response
from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType as StrawberryOperationType

from exchange.errors import TransportCode
from schema.admission.pipeline import Admitted, Arrival
from schema.admission.prepared import Prepared
from schema.api.context import Context
from schema.engine.plan import compile_operation
from schema.engine.plan import execute as execute_plan
from schema.transport.errors import format_result

log = logging.getLogger("exchange.graphql")
T = TypeVar("T")


@dataclass
class Outcome:
    body: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class Admission:
    """A request that passed every check before execution: what it arrived as, what the checks
    found, and the context it runs with. Made for every request, so it holds the pipeline's
    own objects instead of copying their fields."""

    __slots__ = ("admitted", "arrival", "context", "sub_response")

    def __init__(
        self, arrival: Arrival, admitted: Admitted, context: Context, sub_response: Response
    ) -> None:
        self.arrival = arrival
        self.admitted = admitted
        self.context = context
        self.sub_response = sub_response

    @property
    def query(self) -> str:
        return self.admitted.query

    @property
    def operation_name(self) -> str | None:
        return self.arrival.operation_name

    @property
    def raw_variables(self) -> dict[str, Any]:
        return self.arrival.variables

    @property
    def extensions(self) -> dict[str, Any] | None:
        return self.arrival.extensions

    @property
    def prepared(self) -> Prepared:
        return self.admitted.prepared

    @property
    def operation(self) -> OperationDefinitionNode:
        return self.admitted.operation


# How long cancelled work may take to end before the answer goes out without waiting more.
CANCEL_GRACE_SECONDS = 2.0

# Cancelled work that outlived its grace, held until it ends (not garbage-collected mid-flight).
_lingering: set[asyncio.Task[Any]] = set()


def _forget(task: asyncio.Task[Any]) -> None:
    _lingering.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: no "exception was never retrieved" noise


async def _cancel(task: asyncio.Task[Any], request_id: str) -> None:
    """Cancel the execution and wait until it has ended (within the grace)."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=CANCEL_GRACE_SECONDS)
    if not done:
        log.warning(
            "request %s: cancelled execution still running after %s s", request_id, CANCEL_GRACE_SECONDS
        )
        _lingering.add(task)
        task.add_done_callback(_forget)
    elif not task.cancelled():
        task.exception()  # ended by an error while cancelling: retrieved, the answer is TIMEOUT


async def until_deadline(seconds: float, work: Coroutine[Any, Any, T], request_id: str) -> T:
    """The result of ``work``, or TimeoutError once ``seconds`` have passed and ``work`` has been
    cancelled (and has ended)."""
    # asyncio.wait({task}, timeout=seconds) without its sets and per-call closures (every
    # request passes here): one waiter, woken by the task's end or by the timer.
    loop = asyncio.get_running_loop()
    task = loop.create_task(work)
    waiter = loop.create_future()

    def wake(_: object) -> None:
        if not waiter.done():
            waiter.set_result(None)

    timer = loop.call_later(max(seconds, 0), wake, None)
    task.add_done_callback(wake)
    try:
        await waiter
    except asyncio.CancelledError:
        timer.cancel()
        task.remove_done_callback(wake)
        await _cancel(task, request_id)
        raise
    timer.cancel()
    if task.done():
        return task.result()
    task.remove_done_callback(wake)
    await _cancel(task, request_id)
    raise TimeoutError(f"no answer within {seconds} s")


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


def answer(result: ExecutionResult, request_id: str) -> Outcome:
    """The formatted result; 503 with Retry-After when the database was away and nothing was answered."""
    body: dict[str, Any] = dict(format_result(result, request_id))
    outcome = Outcome(body)
    codes = {error["extensions"]["code"] for error in body.get("errors") or []}
    if TransportCode.SERVICE_UNAVAILABLE in codes and body.get("data") is None:
        outcome.status = 503
        outcome.headers["Retry-After"] = "1"
    return outcome


async def run_plan(
    schema: GraphQLSchema, timeout_seconds: float, admission: Admission, request_id: str
) -> Outcome | None:
    """The query run by its compiled plan, errors and partial data included; None when the plan
    refused the document when compiling (graphql-core runs it then, once)."""
    admitted = admission.admitted
    prepared = admitted.prepared
    plan = compile_operation(schema, admitted.operation, prepared.fragments, admitted.coerced, prepared.plans)
    if plan is None:
        return None
    context = admission.context
    context.release()  # loaders built before now (none, usually) loaded whole rows
    context.columns = plan.columns
    try:
        planned = await until_deadline(
            timeout_seconds, execute_plan(plan, context, admitted.variable_values), request_id
        )
    except TimeoutError:
        return timed_out(request_id, timeout_seconds)
    finally:
        context.release()
    return answer(ExecutionResult(data=planned.data, errors=planned.errors), request_id)


async def run_graphql_core(
    schema: BaseSchema, timeout_seconds: float, method: str, admission: Admission, request_id: str
) -> Outcome:
    allowed = (
        {StrawberryOperationType.QUERY}
        if method == "GET"
        else {StrawberryOperationType.QUERY, StrawberryOperationType.MUTATION}
    )
    try:
        result = await until_deadline(
            timeout_seconds,
            schema.execute(
                admission.query,
                variable_values=admission.raw_variables,
                context_value=admission.context,
                operation_name=admission.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=admission.extensions,
            ),
            request_id,
        )
    except TimeoutError:
        return timed_out(request_id, timeout_seconds)
    return answer(result, request_id)
