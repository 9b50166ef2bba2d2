"""tests/coroutines.py, which the plan and engine tests trust to see abandoned coroutines:
if it saw none, their "the plan leaves none" assertions could not fail."""

from __future__ import annotations

import gc
import sys
from typing import Any

from tests.coroutines import GRAPHQL_CORE_EXECUTION, never_awaited


async def work() -> None:
    pass


def dropped() -> None:
    """A coroutine made and dropped, finalised at once (reference counting)."""
    work()  # abandoned on purpose


# A caller whose frame sits in graphql-core's execution package, as its own calls do.
_as_graphql_core: dict[str, Any] = {}
exec(compile("def create(f):\n    f()\n", f"{GRAPHQL_CORE_EXECUTION}/execute.py", "exec"), _as_graphql_core)


class FailsToFinalise:
    def __del__(self) -> None:
        raise ValueError("not a coroutine")


def test_a_coroutine_never_awaited_is_noted_and_nothing_else() -> None:
    left: list[Any] = []
    with never_awaited(left):
        dropped()
        gc.collect()
    assert [leftover.coroutine.split(" at ")[0] for leftover in left] == ["<coroutine object work"]
    assert not left[0].by_graphql_core  # no origin kept without origin_depth
    left.clear()
    with never_awaited(left):
        pass
    assert left == []


def test_graphql_core_s_own_are_told_apart_with_origins() -> None:
    left: list[Any] = []
    with never_awaited(left, origin_depth=8):
        _as_graphql_core["create"](work)
        dropped()
    assert [leftover.by_graphql_core for leftover in left] == [True, False]
    assert sys.get_coroutine_origin_tracking_depth() == 0


def test_other_unraisables_go_to_the_hook_before_and_it_is_restored() -> None:
    seen: list[Any] = []
    before = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        left: list[Any] = []
        with never_awaited(left):
            FailsToFinalise()
        assert sys.unraisablehook == seen.append
    finally:
        sys.unraisablehook = before
    assert left == []
    assert [type(unraisable.exc_value) for unraisable in seen] == [ValueError]
