"""addWebhookEndpoint under real concurrency: concurrent adds never leave an organisation with
more than MAX_ENDPOINTS_PER_ORGANISATION active endpoints.

PostgreSQL only: on SQLite Tortoise runs every statement through one connection, so two
transactions never interleave and there is no race to observe.

add_endpoint locks the organisation row (SELECT ... FOR UPDATE) and then counts its active
endpoints in the same transaction. The invariant, per round (a fresh organisation, n adds
started at once, up to ten of them in parallel transactions on their own pooled connections):
exactly
min(n, cap - before) adds succeed, every other one is refused with CONFLICT on url, and the
organisation ends with exactly min(cap, before + n) active endpoints, never more than the cap.

To make the interleaving likely rather than lucky, each add is held for 10 ms between its count
and its insert (WebhookEndpoint.create is wrapped): without the lock every add in flight would
count the same number.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tortoise.queryset import QuerySet

from exchange import access
from exchange.errors import DomainError, ErrorCode
from exchange.models import Organisation, WebhookEndpoint
from exchange.settings import Settings
from exchange.webhooks import endpoints
from exchange.webhooks.endpoints import MAX_ENDPOINTS_PER_ORGANISATION as CAP
from tests import databases
from tests.conftest import make_organisation, make_settings
from tests.services import need_postgres

pytestmark = pytest.mark.postgres

HOLD_SECONDS = 0.01
FROM_EMPTY_ROUNDS = 3
FROM_EMPTY_ADDS = CAP + 10
LAST_SLOT_ROUNDS = 20
LAST_SLOT_ADDS = 10
CAP_MESSAGE = f"An organisation may have at most {CAP} webhook endpoints."


@pytest.fixture
def database_url() -> str:
    """Overrides the SQLite/PostgreSQL parametrization: PostgreSQL only (see the docstring)."""
    need_postgres()
    return databases.postgres_url()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Ten connections (the default, stated here because the rounds rely on it): each of the
    # LAST_SLOT_ADDS adds holds its own, and FROM_EMPTY_ADDS run ten at a time. Not more: the
    # suite runs in parallel processes and PostgreSQL allows 100 clients in all.
    return make_settings(database_url, tmp_path, db_pool_max=LAST_SLOT_ADDS)


@pytest.fixture
def held_insert(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The deliberate interleaving hook: every insert of an endpoint waits HOLD_SECONDS first,
    i.e. between add_endpoint's count and its write."""
    create = WebhookEndpoint.create

    async def held(cls: type[WebhookEndpoint], *args: Any, **kwargs: Any) -> WebhookEndpoint:
        await asyncio.sleep(HOLD_SECONDS)
        return await create(*args, **kwargs)

    monkeypatch.setattr(WebhookEndpoint, "create", classmethod(held))
    yield


async def organisation_with(slug: str, endpoint_count: int) -> Organisation:
    organisation = await make_organisation(slug)
    await WebhookEndpoint.bulk_create(
        [
            WebhookEndpoint(
                organisation=organisation, url=f"http://127.0.0.1:9/old-{i}", sealed_secret="v1:unused"
            )
            for i in range(endpoint_count)
        ]
    )
    return organisation


async def race(organisation: Organisation, adds: int, settings: Settings) -> tuple[int, int]:
    """Runs the adds at once; returns (how many succeeded, how many endpoints are active)."""
    actor = access.Actor(access.Role.ORGANISATION, organisation.id, "key_race")
    results = await asyncio.gather(
        *(
            endpoints.add_endpoint(
                actor, f"http://127.0.0.1:9/new-{i}", None, None, production=False, settings=settings
            )
            for i in range(adds)
        ),
        return_exceptions=True,
    )
    added = 0
    for result in results:
        if isinstance(result, endpoints.EndpointWithSecret):
            added += 1
            continue
        assert isinstance(result, DomainError), result
        assert [(p.code, p.field, p.message) for p in result.problems] == [
            (ErrorCode.CONFLICT, ("url",), CAP_MESSAGE)
        ]
    active = await WebhookEndpoint.filter(organisation_id=organisation.id, disabled_at=None).count()
    return added, active


@pytest.mark.usefixtures("held_insert")
async def test_concurrent_adds_from_empty_stop_at_the_cap(settings: Settings) -> None:
    for round_ in range(FROM_EMPTY_ROUNDS):
        organisation = await organisation_with(f"empty-{round_}", 0)
        assert await race(organisation, FROM_EMPTY_ADDS, settings) == (CAP, CAP), f"round {round_}"


@pytest.mark.usefixtures("held_insert")
async def test_concurrent_adds_for_the_last_slot_one_wins(settings: Settings) -> None:
    for round_ in range(LAST_SLOT_ROUNDS):
        organisation = await organisation_with(f"last-slot-{round_}", CAP - 1)
        assert await race(organisation, LAST_SLOT_ADDS, settings) == (1, CAP), f"round {round_}"


@pytest.mark.usefixtures("held_insert")
async def test_self_check_without_the_lock_the_cap_is_exceeded(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    """A check of the tests above, not of the code: with SELECT ... FOR UPDATE turned into a
    plain SELECT (the lock is inline in add_endpoint, so the ORM's select_for_update is made a
    no-op for this test), the same last-slot rounds do leave organisations over the cap, so
    the tests above would catch the lock's removal."""

    def no_lock(self: QuerySet[Any], *args: Any, **kwargs: Any) -> QuerySet[Any]:
        return self

    monkeypatch.setattr(QuerySet, "select_for_update", no_lock)
    over_cap = 0
    for round_ in range(LAST_SLOT_ROUNDS):
        organisation = await organisation_with(f"unlocked-{round_}", CAP - 1)
        added, active = await race(organisation, LAST_SLOT_ADDS, settings)
        assert added == active - (CAP - 1)
        over_cap += active > CAP
    assert over_cap > 0
