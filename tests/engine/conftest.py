"""Fixtures of the differential tests: the app on each database with limits wide enough for
generated documents to reach execution, the world, and the differential client. Tests marked
``deep`` (long generated runs) are left out unless ``-m`` names them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from exchange.settings import Settings
from tests.conftest import make_settings
from tests.engine import world as engine_world
from tests.engine.differential import Differential, new_differential


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "deep" in (config.getoption("markexpr", "") or ""):
        return
    deep = [item for item in items if item.get_closest_marker("deep")]
    if deep:
        config.hook.pytest_deselected(items=deep)
        items[:] = [item for item in items if not item.get_closest_marker("deep")]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Admission refuses both runs alike; wide limits let generated documents be executed.
    return make_settings(
        database_url,
        tmp_path,
        rate_limit_points=1_000_000_000,
        max_cost=10_000_000,
        max_aliases=1000,
        max_depth=40,
        max_root_fields=100,
    )


@pytest.fixture
async def world(app: Any, settings: Settings, admin_key: str) -> engine_world.EngineWorld:
    return await engine_world.build(settings, admin_key)


@pytest.fixture
def differential(http: httpx.AsyncClient, settings: Settings) -> Iterator[Differential]:
    differential = new_differential(http, settings)
    yield differential
    # How the served runs went (shown with -s or -rA): a run that is always refused or handed
    # to graphql-core compares graphql-core with itself.
    print(f"served runs: {dict(differential.paths)}")
