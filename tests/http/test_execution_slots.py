"""Operations execute in a bounded number of slots; a request that cannot get one within the
execution timeout is told to retry (SERVICE_UNAVAILABLE, 503, Retry-After) and runs nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from exchange.app import create_app
from schema.transport.http import ExchangeGraphQL
from tests.conftest import GraphQLClient, make_settings

QUERY = "{ organisations { totalCount } }"


@pytest.fixture
async def served(
    sqlite_database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[ExchangeGraphQL, GraphQLClient]]:
    settings = make_settings(
        sqlite_database_url, tmp_path, max_concurrent_executions=2, execution_timeout_seconds=0.3
    )
    application = create_app(settings)
    # The HTTP and the WebSocket route share one view.
    view = next(
        getattr(route, "app", None)
        for route in application.routes
        if isinstance(getattr(route, "app", None), ExchangeGraphQL)
    )
    assert isinstance(view, ExchangeGraphQL)
    async with LifespanManager(application) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield view, GraphQLClient(client)


async def test_a_request_waits_for_a_slot_then_runs(served: tuple[ExchangeGraphQL, GraphQLClient]) -> None:
    view, gql = served
    slots = view.admission.execution_slots
    await slots.acquire()
    await slots.acquire()  # both slots taken
    waiting = asyncio.ensure_future(gql.post(QUERY))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    slots.release()
    response = await waiting
    assert response.status_code == 200 and response.json()["data"]["organisations"]["totalCount"] == 0
    slots.release()
    assert slots._value == 2  # every slot given back


async def test_no_slot_within_the_timeout_is_a_503_to_retry(
    served: tuple[ExchangeGraphQL, GraphQLClient],
) -> None:
    view, gql = served
    slots = view.admission.execution_slots
    await slots.acquire()
    await slots.acquire()
    try:
        response = await gql.post(QUERY)
    finally:
        slots.release()
        slots.release()
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "data" not in response.json()
    assert (await gql.post(QUERY)).status_code == 200
    assert slots._value == 2


async def test_failed_executions_give_their_slot_back(served: tuple[ExchangeGraphQL, GraphQLClient]) -> None:
    view, gql = served
    for _ in range(3):  # more than the slots: a leak would block the third
        response = await gql.post("{ volunteers { totalCount } }")  # UNAUTHENTICATED for anonymous
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert view.admission.execution_slots._value == 2
