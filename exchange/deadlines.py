"""Time limits that answer on time even when the work cannot be stopped promptly.

``asyncio.timeout`` cancels the work and then waits for it to finish cancelling. A database
client cancelling a query on a connection that went silent (a network partition, not a
refusal) may itself wait for that connection, and so would the request. ``within`` answers
at the deadline and lets the cancelled work finish in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

# Cancelled work still finishing; held so it is not garbage-collected mid-flight.
_lingering: set[asyncio.Task[Any]] = set()


def _forget(task: asyncio.Task[Any]) -> None:
    _lingering.discard(task)
    if not task.cancelled():
        with contextlib.suppress(BaseException):
            task.exception()  # retrieved: no "exception was never retrieved" noise


async def within(seconds: float, work: Coroutine[Any, Any, T]) -> T:
    """The result of ``work``, or TimeoutError once ``seconds`` have passed."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=max(seconds, 0))
    except asyncio.CancelledError:
        task.cancel()
        _lingering.add(task)
        task.add_done_callback(_forget)
        raise
    if task in done:
        return task.result()
    task.cancel()
    _lingering.add(task)
    task.add_done_callback(_forget)
    raise TimeoutError(f"no answer within {seconds} s")
