"""schema.engine.drive: awaitables run to completion without a task each, like tasks would; a
failing one is reported alone, and a cancelled drive ends everything it started before it ends."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import pytest

from schema.engine.drive import Entry, drive


def entries(*awaitables: Any) -> tuple[list[Any], list[Entry]]:
    column: list[Any] = list(awaitables)
    return column, [Entry(value, column, index, where=index) for index, value in enumerate(awaitables)]


def refuse(where: Any, column: list[Any], index: int, error: BaseException, waited: bool) -> None:
    raise AssertionError(f"unexpected failure at {where}: {error!r}")


async def _drive(pending: list[Entry]) -> None:
    await drive(pending, None, refuse, set())


async def test_values_futures_exceptions_inside_and_bare_yields() -> None:
    loop = asyncio.get_running_loop()
    answer, failing = loop.create_future(), loop.create_future()
    flag: list[int] = []

    async def waits() -> int:
        return await answer + 1

    async def catches() -> str:
        try:
            await failing
        except ValueError as error:
            return f"caught {error}"
        return "not reached"

    async def polls() -> str:
        while not flag:  # noqa: ASYNC110  (the point: bare yields must let the loop turn)
            await asyncio.sleep(0)
        return "polled"

    loop.call_later(0.01, answer.set_result, 41)
    loop.call_later(0.01, failing.set_exception, ValueError("x"))
    loop.call_later(0.02, flag.append, 1)
    column, pending = entries(waits(), catches(), polls())
    await _drive(pending)
    assert column == [42, "caught x", "polled"]


async def test_a_lock_held_across_an_await_does_not_deadlock() -> None:
    # SQLite's one connection: the first holder awaits I/O while the second waits on the lock.
    lock = asyncio.Lock()

    async def query(name: str) -> str:
        async with lock:
            await asyncio.sleep(0.01)
            return name

    column, pending = entries(query("a"), query("b"))
    await asyncio.wait_for(_drive(pending), 2)
    assert column == ["a", "b"]


async def test_one_batch_wakes_its_waiters_in_one_round() -> None:
    loop = asyncio.get_running_loop()
    batch = [loop.create_future() for _ in range(50)]
    resumed: list[int] = []

    async def load(index: int) -> int:
        value = await batch[index]
        resumed.append(len(resumed))
        return value

    def settle() -> None:
        for index, future in enumerate(batch):
            future.set_result(index)

    loop.call_soon(settle)
    column, pending = entries(*(load(index) for index in range(50)))
    await _drive(pending)
    assert column == list(range(50))


async def test_an_error_is_reported_alone_and_the_others_finish() -> None:
    loop = asyncio.get_running_loop()
    slow = loop.create_future()
    failures: list[tuple[Any, int, BaseException, bool]] = []

    async def fails() -> None:
        await asyncio.sleep(0)
        raise KeyError("boom")

    async def waits() -> str:
        return str(await slow)

    async def at_once() -> str:
        return "x"

    def note(where: Any, column: list[Any], index: int, error: BaseException, waited: bool) -> None:
        failures.append((where, index, error, waited))
        column[index] = "failed"

    loop.call_later(0.01, slow.set_result, 1)
    column, pending = entries(waits(), fails(), at_once())
    waited: set[int] = set()
    await drive(pending, None, note, waited)
    assert column == ["1", "failed", "x"]
    # A bare yield (asyncio.sleep(0)) is no wait on a future; waits() did wait.
    assert [(where, index, waited) for where, index, _error, waited in failures] == [(1, 1, False)]
    assert isinstance(failures[0][2], KeyError)
    assert waited == {id(column)}


async def test_a_failed_load_is_reported_and_the_others_are_kept() -> None:
    loop = asyncio.get_running_loop()
    good, bad = loop.create_future(), loop.create_future()
    other_bad = loop.create_future()
    column: list[Any] = [None, None, None, None]
    failures: list[tuple[Any, int]] = []

    def note(where: Any, column: list[Any], index: int, error: BaseException, waited: bool) -> None:
        failures.append((where, index))
        assert isinstance(error, LookupError) and waited

    loop.call_soon(good.set_result, "row")
    loop.call_soon(other_bad.set_exception, LookupError("no row"))
    loop.call_soon(bad.set_exception, LookupError("no row"))
    loads = [
        (bad, column, 0, "a"),
        (good, column, 1, "b"),
        (other_bad, column, 2, "c"),
        (bad, column, 3, "d"),
    ]
    await drive([], loads, note, set())
    assert column == [None, "row", None, None]
    # In the order their waiters resume: the first key's waiters, then the next key's.
    assert failures == [("a", 0), ("d", 3), ("c", 2)]


@pytest.mark.parametrize("count", [2, 1])  # one alone is stepped on the drive's task
async def test_cancellation_reaches_the_suspended_awaitables_before_the_drive_ends(count: int) -> None:
    loop = asyncio.get_running_loop()
    never = loop.create_future()
    seen: list[str] = []

    async def waits_forever() -> None:
        try:
            await never
        except asyncio.CancelledError:
            await asyncio.sleep(0)  # awaiting during clean-up: close() would raise here
            seen.append("cancelled")
            raise

    tasks_before = asyncio.all_tasks()
    _column, pending = entries(*(waits_forever() for _ in range(count)))
    driver = asyncio.ensure_future(_drive(pending))
    await asyncio.sleep(0.01)
    driver.cancel()
    with pytest.raises(asyncio.CancelledError):
        await driver
    # Every one cleaned up before the cancelled drive ended, and no task was left behind.
    assert seen == ["cancelled"] * count
    assert never.cancelled()
    assert asyncio.all_tasks() == tasks_before


def test_loader_calls_come_from_to_one_declarations() -> None:
    from schema.api.types.exchange import ExperienceExchange
    from schema.api.types.organisation import Organisation
    from schema.engine.fastpath import LoaderCall, loader_call

    def field(cls: type, name: str) -> Any:
        return next(f for f in cls.__strawberry_definition__.fields if f.name == name)  # type: ignore[attr-defined]

    assert loader_call(field(ExperienceExchange, "host")) == LoaderCall("organisation", "host_id")
    assert loader_call(field(Organisation, "parent")) == LoaderCall("organisation", "parent_id")
    # Declared, but no to-one loader call: partners are a list, seatsLeft only names its columns.
    for name in ("partners", "seats_left", "invitations"):
        assert loader_call(field(ExperienceExchange, name)) is None, name


# One awaitable alone is stepped on the drive's own task (drive._Alone): the same answers.


async def test_one_awaitable_alone_gives_its_value_and_notes_its_wait() -> None:
    loop = asyncio.get_running_loop()
    answer = loop.create_future()

    async def waits() -> int:
        await asyncio.sleep(0)
        return await answer + 1

    loop.call_later(0.01, answer.set_result, 41)
    column, pending = entries(waits())
    waited: set[int] = set()
    await drive(pending, None, refuse, waited)
    assert column == [42]
    assert waited == {id(column)}


@pytest.mark.parametrize("waits_first", [False, True])
async def test_one_awaitable_alone_that_fails_is_reported(waits_first: bool) -> None:
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    loop.call_soon(ready.set_result, None)
    failures: list[tuple[Any, BaseException, bool]] = []

    async def fails() -> None:
        if waits_first:
            await ready
        else:
            await asyncio.sleep(0)  # a bare yield is no wait
        raise KeyError("boom")

    def note(where: Any, column: list[Any], index: int, error: BaseException, waited: bool) -> None:
        failures.append((where, error, waited))
        column[index] = "failed"

    column, pending = entries(fails())
    waited: set[int] = set()
    await drive(pending, None, note, waited)
    assert column == ["failed"]
    assert [(where, type(error), was) for where, error, was in failures] == [(0, KeyError, waits_first)]
    assert waited == ({id(column)} if waits_first else set())


async def test_one_awaitable_alone_runs_in_its_own_context() -> None:
    variable: contextvars.ContextVar[str] = contextvars.ContextVar("variable", default="outside")
    own = contextvars.copy_context()
    own.run(variable.set, "its own")

    async def reads_and_sets() -> str:
        seen = variable.get()
        await asyncio.sleep(0)
        variable.set("changed")
        return seen

    column: list[Any] = [None]
    await drive([Entry(reads_and_sets(), column, 0, context=own)], None, refuse, set())
    assert column == ["its own"]
    assert variable.get() == "outside"
    assert own[variable] == "changed"
