"""Driving a level's awaitables without a task each (schema.engine.plan's async resolvers).

Every awaitable is stepped until it waits on a future (or finishes). The driver then sleeps
until some of those futures are done and resumes exactly the awaitables whose futures are
done, like the event loop resuming tasks; a DataLoader settles a whole batch at once, so its
waiters are resumed together. Loads issued by one round's steps land in the same DataLoader
batches, as with tasks.

An awaitable that raises is reported to the caller (``fail``) and the others go on: the
error belongs to that field alone. When the request is cancelled (its deadline passed, or the
client left), every awaitable still suspended is cancelled the way ``Task.cancel`` would (its
future cancelled, CancelledError thrown in) and driven to its end before the cancellation
goes on: nothing the plan started is left running after the response.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import types
from collections.abc import Callable, Generator, Iterable
from typing import Any


class Entry:
    """One awaitable a resolver returned, and where its value goes (``column[index]``);
    ``where`` says whose field it is, for the error report; ``waited``, whether it ever waited
    on a future (a database round trip, a loader's batch), which orders its errors."""

    __slots__ = ("awaitable", "column", "index", "send", "throw", "waited", "where")

    def __init__(
        self,
        awaitable: Any,
        column: list[Any],
        index: int,
        where: Any = None,
        context: contextvars.Context | None = None,
    ) -> None:
        self.awaitable = awaitable
        step = awaitable.__await__()
        self.column = column
        self.index = index
        self.where = where
        self.waited = False
        # With a context of its own (as a task has), what the awaitable sets in context
        # variables stays its own: a row fill lends itself a connection (exchange.pinned)
        # that the awaitables stepped beside it must not see.
        if context is None:
            self.send, self.throw = step.send, step.throw
        else:
            self.send = functools.partial(context.run, step.send)
            self.throw = functools.partial(context.run, step.throw)


# A DataLoader future the plan waits on directly, and where its value goes:
# (future, column, index, where).
Load = tuple[asyncio.Future[Any], list[Any], int, Any]
# Told of an awaitable (or a load) that failed: (where, column, index, error, waited), in the
# order graphql-core's tasks would see the failures (the order the futures settled).
Fail = Callable[[Any, list[Any], int, BaseException, bool], None]


def discard(values: Iterable[Any]) -> None:
    """Close coroutines that were created but never started: nobody will await them now
    (closing a created coroutine runs none of its code and silences the never-awaited warning)."""
    for value in values:
        if (
            isinstance(value, types.CoroutineType)
            and inspect.getcoroutinestate(value) == inspect.CORO_CREATED
        ):
            value.close()


def _settled(future: asyncio.Future[Any]) -> asyncio.Future[None]:
    """A future that completes (with None) when ``future`` does, whatever its outcome."""
    waiter: asyncio.Future[None] = future.get_loop().create_future()

    def wake(_done: asyncio.Future[Any]) -> None:
        if not waiter.done():
            waiter.set_result(None)

    future.add_done_callback(wake)
    return waiter


async def _cancel(entry: Entry, waiting_on: Any) -> None:
    """Do what ``Task.cancel`` does to a task suspended at ``waiting_on``: cancel that future,
    throw CancelledError in, then keep stepping until the awaitable ends (its clean-up may
    await: a connection handed back to the pool)."""
    with contextlib.suppress(BaseException):
        if waiting_on is not None:
            waiting_on.cancel()
        waiting_on = entry.throw(asyncio.CancelledError())
        while True:
            if waiting_on is None:
                await asyncio.sleep(0)
            else:
                waiting_on._asyncio_future_blocking = False
                if not waiting_on.done():
                    await _settled(waiting_on)
            waiting_on = entry.send(None)


async def cancel_all(suspended: list[tuple[Entry, Any]], loads: Iterable[Load]) -> None:
    """Cancel the suspended awaitables and the loads still pending, and wait until every
    awaitable has finished. A created but unstarted coroutine is closed (none of its code runs)."""
    for load in loads:
        load[0].cancel()
    started = []
    for entry, future in suspended:
        awaitable = entry.awaitable
        if inspect.iscoroutine(awaitable) and inspect.getcoroutinestate(awaitable) == inspect.CORO_CREATED:
            awaitable.close()
        else:
            started.append(_cancel(entry, future))
    if started:
        await asyncio.gather(*started)


def _report_failed_loads(failed: list[Load], fail: Fail) -> None:
    """In the order their waiters would resume: a batch settles its futures in the order of its
    keys (the order of their first load), each future wakes its waiters in the order they came."""
    rank: dict[int, int] = {}
    for load in failed:
        rank.setdefault(id(load[0]), len(rank))
    for load in sorted(failed, key=lambda load: rank[id(load[0])]):
        future = load[0]
        error = asyncio.CancelledError() if future.cancelled() else future.exception()
        assert error is not None
        fail(load[3], load[1], load[2], error, True)


class _Alone:
    """One awaitable stepped on the caller's task: what it yields goes to the task as is, so
    the task waits on its futures and cancels it the way it would cancel the awaitable awaited
    directly (its future cancelled, CancelledError thrown in, its clean-up stepped to the
    end). Stepped in the entry's own context, and it notes whether the entry ever waited.
    Spares drive's waiter future and the extra turn of the loop per wait."""

    __slots__ = ("entry", "waited")

    def __init__(self, entry: Entry, waited: set[int]) -> None:
        self.entry = entry
        self.waited = waited

    def __await__(self) -> Generator[Any, Any, Any]:
        entry = self.entry
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            try:
                yielded = entry.send(sent) if thrown is None else entry.throw(thrown)
            except StopIteration as stop:
                return stop.value
            if not entry.waited and getattr(yielded, "_asyncio_future_blocking", None) is not None:
                entry.waited = True
                self.waited.add(id(entry.column))
            sent = thrown = None
            try:
                sent = yield yielded
            except GeneratorExit:  # closed, never to be resumed: so is the awaitable
                close = getattr(entry.awaitable, "close", None)
                if close is not None:
                    close()
                raise
            except BaseException as error:  # the task's cancellation, thrown in as it would be
                thrown = error


async def _alone(entry: Entry, fail: Fail, waited: set[int]) -> None:
    try:
        entry.column[entry.index] = await _Alone(entry, waited)
    except Exception as error:
        fail(entry.where, entry.column, entry.index, error, entry.waited)


async def drive(pending: list[Entry], loads: list[Load] | None, fail: Fail, waited: set[int]) -> None:
    """Run awaitables to completion the way asyncio's tasks would, without a task each.

    ``loads`` are DataLoader futures the plan waits on directly (LoaderCall fields): their
    batches settle them whatever the driver does, so the driver listens to one of them at a
    time instead of putting a callback on each (one wake-up per batch, not per object).
    A failed awaitable or load is handed to ``fail`` (which notes the error and marks the
    value); the others go on. ``waited`` receives the ids of the columns some awaitable of
    which waited on a future.
    """
    if len(pending) == 1 and not loads:
        await _alone(pending[0], fail, waited)
        return
    loop = asyncio.get_running_loop()
    waiting: dict[Any, list[Entry]] = {}
    settled: list[Any] = []
    wake: list[asyncio.Future[None] | None] = [None]
    loads = loads or []
    listened: set[int] = set()  # loads' futures with our callback

    def on_settled(future: Any) -> None:
        settled.append(future)
        waiter = wake[0]
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    ready = list(pending)  # to be stepped this round (not started yet, or their future is done)
    stepped = 0  # how many of ``ready`` were stepped so far
    bare: list[Entry] = []  # suspended at a bare yield (asyncio.sleep(0)): resumed next round
    try:
        while True:
            stepped, bare = 0, []
            for entry in ready:
                stepped += 1
                thrown: BaseException | None = None
                while True:
                    try:
                        yielded = entry.send(None) if thrown is None else entry.throw(thrown)
                    except StopIteration as stop:
                        entry.column[entry.index] = stop.value
                        break
                    except Exception as error:
                        fail(entry.where, entry.column, entry.index, error, entry.waited)
                        break
                    if yielded is None:
                        bare.append(entry)
                    elif getattr(yielded, "_asyncio_future_blocking", None) is not None:
                        yielded._asyncio_future_blocking = False
                        if not entry.waited:
                            entry.waited = True
                            waited.add(id(entry.column))
                        entries = waiting.get(yielded)
                        if entries is None:
                            waiting[yielded] = [entry]
                            yielded.add_done_callback(on_settled)
                        else:
                            entries.append(entry)
                    else:
                        # What asyncio's task does with it: throw this error in.
                        thrown = RuntimeError(f"Task got bad yield: {yielded!r}")
                        continue
                    break
            ready, stepped = [], 0
            if loads:
                unsettled: list[Load] = []
                failed: list[Load] = []
                for load in loads:
                    future = load[0]
                    if not future.done():
                        unsettled.append(load)
                    elif future.cancelled() or future.exception() is not None:
                        failed.append(load)
                    else:
                        load[1][load[2]] = future.result()
                if failed:
                    _report_failed_loads(failed, fail)
                loads = unsettled
            if not (bare or waiting or loads):
                break
            if bare:
                await asyncio.sleep(0)
                ready, bare = bare, []
            elif not settled:
                if loads and id(loads[0][0]) not in listened:
                    listened.add(id(loads[0][0]))
                    loads[0][0].add_done_callback(on_settled)
                waiter = wake[0] = loop.create_future()
                await waiter
                wake[0] = None
            for future in settled:
                ready.extend(waiting.pop(future, ()))
            settled.clear()
    except BaseException:
        suspended: list[tuple[Entry, Any]] = [(entry, None) for entry in (*ready[stepped:], *bare)]
        suspended += [(entry, future) for future, entries in waiting.items() for entry in entries]
        await cancel_all(suspended, loads)
        raise
