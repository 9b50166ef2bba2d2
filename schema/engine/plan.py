"""Compiled execution of queries: a known document's fields resolved level by level.

graphql-core executes a query field by field: for every field of every object it builds a
resolve info, checks the result for awaitability, completes it through a chain of generic
calls and, for every awaited list item, creates an asyncio task. A page of exchanges has
about 3,000 fields, and that walk cost more than half of the server's CPU (bench/RESULTS.md).

This module compiles an operation once per document (kept with the prepared document in
``schema.admission.limits``) into a tree of per-type field plans, then executes it breadth first: all
objects of the same selection at the same depth form one group, and each field is resolved
for the whole group in one loop. Arguments are coerced once per field and group, not per
object; a resolver's Strawberry ``Info`` is built once per field and group. Async resolvers
(the DataLoader fields) are driven without tasks: each coroutine is stepped until it waits on
a future, the futures of the whole level are awaited together (so each loader still
dispatches one batch for the level), then every coroutine is resumed.

The result is exactly graphql-core's: same resolvers, same arguments, same serializers, same
``is_type_of`` and ``resolve_type`` checks, same key order, and, when a field fails (its
resolver or loader raises, a null in a non-null position, a value of the wrong type), the
same errors with their paths and the same partial data, in graphql-core's order
(schema.engine.failures): the plan runs an operation once, errors included. A declared
subtree answered from rows (schema.engine.rows) whose fetch fails runs through its resolvers
instead, in the same execution (``resolve_instead_of_rows``), so its errors are theirs too.
What it cannot
run at all (introspection at the root, directives other than @skip/@include, mutations and
subscriptions) is refused when compiling (``compile_operation`` gives None), before anything
runs, and graphql-core runs it instead.

What resolvers see differs in one way: ``info.path`` is the field's key under its parent
type (no list indices or ancestors), since the plan does not track per-object paths (an
error's path is rebuilt when it happens). No resolver here reads the path
(tests/api/test_plan.py checks the whole schema's documents against graphql-core).
"""

from __future__ import annotations

import asyncio
from typing import Any

from graphql import ExecutionResult
from graphql.execution.values import VariableValues

from schema.engine.compiling import OperationPlan, compile_operation
from schema.engine.execution import Execution
from schema.engine.field_plans import STATS

# The engine's entry points (schema.transport.execution, the tests): the plan's modules are
# compiling (document -> plan), field_plans (its shapes), execution with state, resolving and
# completing (running it), failures (its errors), drive (its awaitables), rows and lookup
# (declared subtrees answered from rows).
__all__ = ["STATS", "OperationPlan", "compile_operation", "execute", "settle_loaders"]


async def execute(
    plan: OperationPlan, context: Any, variable_values: VariableValues, root_value: Any = None
) -> ExecutionResult:
    """The operation's result, errors and partial data included, as graphql-core gives it.

    When cancelled (the deadline, or the client gone), the cancellation reaches every awaitable
    the plan started and the loaders' batches, and this returns only once they have ended."""
    try:
        result = await Execution(plan, context, variable_values, root_value).run()
    except asyncio.CancelledError:
        await settle_loaders(context)
        raise
    STATS["planned"] += 1
    return result


async def settle_loaders(context: Any) -> None:
    """Cancel the request's DataLoader batches still running and wait for their end (their
    futures were cancelled with the awaitables that wanted them; a batch scheduled but not yet
    started then finds nobody waiting and returns at once)."""
    loaders = vars(context).get("loaders")
    if loaders is None:
        return
    await asyncio.sleep(0)  # a dispatch scheduled with call_soon creates its task now
    running = []
    for loader in vars(loaders).values():
        batch = getattr(loader, "batch", None)
        task = getattr(batch, "_dispatch_task", None)
        if isinstance(task, asyncio.Task) and not task.done():
            task.cancel()
            running.append(task)
    if running:
        await asyncio.wait(running)
