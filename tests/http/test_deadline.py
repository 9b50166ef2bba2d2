"""One deadline for a compiled query: at the execution time limit the answer is TIMEOUT, once,
and only after everything the plan started (resolvers it drives, the loaders' batches) has
been cancelled and has finished its clean-up; nothing of the request runs on after it, and
nothing ran twice."""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import pytest

from exchange import sessions
from schema.build import default_schema
from schema.engine.fastpath import DIRECT_KEY, DirectCall
from tests.api.exchange_fixtures import make_exchange
from tests.conftest import make_organisation
from tests.http.conftest import AppFactory, codes, post

QUERY = "{ exchanges { edges { node { slug seatsLeft sessions { id } } } } }"


async def test_a_timed_out_query_ends_its_work_before_it_answers_timeout_once(
    make_client_any_db: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    calls: collections.Counter[str] = collections.Counter()
    never: list[asyncio.Future[None]] = []

    async def hangs(name: str) -> None:
        calls[name] += 1
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        never.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            await asyncio.sleep(0.05)  # a clean-up that itself awaits (a connection handed back)
            events.append(f"{name} cleaned up")
            raise

    async def sessions_by_exchange(ids: Any, *_args: Any) -> Any:
        await hangs("sessions batch")

    direct = (
        default_schema()._schema.type_map["ExperienceExchange"].fields["seatsLeft"].extensions[DIRECT_KEY]
    )  # type: ignore[attr-defined]
    assert isinstance(direct, DirectCall) and direct.is_async

    async def seats_left(root: Any, info: Any) -> Any:
        await hangs(f"seatsLeft {root.slug}")

    monkeypatch.setattr(sessions, "sessions_by_exchange", sessions_by_exchange)
    # The sessions of the page are a row subtree (schema/engine/rows.py): its fetch hangs instead.
    monkeypatch.setattr(sessions, "session_rows", sessions_by_exchange)
    monkeypatch.setattr(direct, "function", seats_left)

    async with make_client_any_db(execution_timeout_seconds=0.5) as client:
        host = await make_organisation("aral-fund")
        for slug in ("aral-week", "caspian-week"):
            await make_exchange(slug, host, capacity=10)
        before = asyncio.all_tasks()
        response = await post(client, QUERY)
        answered = list(events)
        left = [task for task in asyncio.all_tasks() - before if not task.done()]

    assert response.status_code == 200
    assert codes(response) == ["TIMEOUT"]
    assert response.json()["data"] is None
    # Each resolver and the batch started once (no second execution), and each had finished
    # cleaning up when the answer went out.
    assert calls == {"sessions batch": 1, "seatsLeft aral-week": 1, "seatsLeft caspian-week": 1}, calls
    assert sorted(answered) == sorted(f"{name} cleaned up" for name in calls), answered
    assert all(waiter.cancelled() for waiter in never)
    assert not left, [repr(task) for task in left]
