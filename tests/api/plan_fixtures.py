"""The fixtures of the tests that compare the compiled plan with graphql-core over
plan_corpus's world. A test module binds them by name (``world = plan_fixtures.world``), so
they override tests/conftest.py's ``settings`` in that module only; a ``from`` import would
read to ruff as shadowed by every test's parameter of the same name (F811)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from exchange.settings import Settings
from tests.api.plan_corpus import World, seed
from tests.conftest import make_settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Hundreds of requests per test: no rate limit in the way.
    return make_settings(database_url, tmp_path, rate_limit_points=100_000_000)


@pytest.fixture
async def world(app: Any, settings: Settings, admin_key: str) -> World:
    return await seed(settings.signing_key, admin_key)
