"""graphql-core's executor (the path the compiled plan does not take), leaving no resolver
coroutine unawaited.

graphql-core completes an awaitable field value in a coroutine (``complete_awaitable_value``)
that is handed the resolver's coroutine and awaits it first, in a task when siblings run
concurrently. A task cancelled before its first step runs none of its coroutine's code, so
the resolver's coroutine is never awaited nor closed, and Python warns "coroutine ... was
never awaited" when it is freed: at once, or, when an error's traceback holds the cancelled
work's frames, whenever the garbage collector reaches it (in a later request, or a later
test). Seen in tests/api/test_plan_failures.py: in the runs where graphql-core's execution
ended in CancelledError (its GRAPHQL_CORE_CRASHES: a DataLoader future shared between
fields cancelled with one of them), Volunteer.email and Volunteer.organisation coroutines
created by graphql-core's execute_field, 20 to 32 per run of the test on both databases,
some finalised in the runs or tests after; none with this executor (two runs each way).

``ClosingExecutor`` closes a resolver's coroutine that never started once the completion
that was to await it is gone (a weakref finalizer on the completion: it runs before the
collector finalises the garbage, and it holds the resolver's coroutine until then). Closing
a coroutine that never ran runs none of its code."""

from __future__ import annotations

import inspect
import weakref
from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


def _close_if_never_started(resolving: Any) -> None:
    if inspect.getcoroutinestate(resolving) == inspect.CORO_CREATED:
        resolving.close()


class ClosingExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's graphql-core execution context; see the module's docstring."""

    def complete_awaitable_value(self, *args: Any) -> Any:
        # (return_type, field_details_list, info, path, result, position_context), by position.
        completing = super().complete_awaitable_value(*args)
        resolving = args[4]
        if inspect.iscoroutine(resolving):
            weakref.finalize(completing, _close_if_never_started, resolving).atexit = False
        return completing
