"""schema.engine.plan._drive: awaitables run to completion without a task each, like tasks would."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from schema.engine.plan import Fallback, _adopted, _drive, _Entry


def entries(*awaitables: Any) -> tuple[list[Any], list[_Entry]]:
    column: list[Any] = list(awaitables)
    return column, [_Entry(value, column, index) for index, value in enumerate(awaitables)]


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


async def test_an_error_steps_aside_and_the_others_finish_in_the_background() -> None:
    loop = asyncio.get_running_loop()
    slow = loop.create_future()
    finished: list[str] = []

    async def fails() -> None:
        raise KeyError("boom")

    async def cleans_up() -> str:
        try:
            return str(await slow)
        finally:
            await asyncio.sleep(0)  # awaiting during clean-up: close() would raise here
            finished.append("cleaned")

    async def never_started() -> str:
        finished.append("started")  # must not run: it is closed, not adopted
        return "x"

    _column, pending = entries(cleans_up(), fails(), never_started())
    with pytest.raises(Fallback) as raised:
        await _drive(pending)
    assert isinstance(raised.value.__cause__, KeyError)
    assert len(_adopted) == 1
    slow.set_result(1)
    await asyncio.gather(*_adopted)
    assert finished == ["cleaned"]


async def test_cancellation_reaches_the_suspended_awaitables() -> None:
    loop = asyncio.get_running_loop()
    never = loop.create_future()
    seen: list[str] = []

    async def waits_forever() -> None:
        try:
            await never
        except asyncio.CancelledError:
            await asyncio.sleep(0)
            seen.append("cancelled")
            raise

    _column, pending = entries(waits_forever(), waits_forever())
    driver = asyncio.ensure_future(_drive(pending))
    await asyncio.sleep(0.01)
    driver.cancel()
    with pytest.raises(asyncio.CancelledError):
        await driver
    await asyncio.gather(*_adopted)
    assert seen == ["cancelled", "cancelled"]


def test_loader_calls_are_recognised_only_in_their_exact_shape() -> None:
    from schema.engine.fastpath import LoaderCall, loader_call

    async def plain(root: Any, info: Any) -> Any:
        return await info.context.loaders.organisation.load(root.host_id)

    async def optional(root: Any, info: Any) -> Any:
        parent_id = root.parent_id
        return None if parent_id is None else await info.context.loaders.organisation.load(parent_id)

    async def more_work(root: Any, info: Any) -> Any:
        found = await info.context.loaders.organisation.load(root.host_id)
        return found

    async def other_key(root: Any, info: Any) -> Any:
        return await info.context.loaders.organisation.load(root.host_id + 1)

    async def other_object(root: Any, info: Any) -> Any:
        return await info.context.loaders.organisation.load(info.host_id)

    def not_async(root: Any, info: Any) -> Any:
        return info.context.loaders.organisation.load(root.host_id)

    assert loader_call(plain, "info", "root") == LoaderCall("organisation", "host_id", optional=False)
    assert loader_call(optional, "info", "root") == LoaderCall("organisation", "parent_id", optional=True)
    for function in (more_work, other_key, other_object, not_async):
        assert loader_call(function, "info", "root") is None, function.__name__
    assert loader_call(plain, None, "root") is None
