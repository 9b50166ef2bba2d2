"""Statements reach a DEBUG log without the values bound to them (exchange/db.py)."""

from __future__ import annotations

import logging

import pytest

from exchange.models import Volunteer
from tests.domain.conftest import RecordingBus


async def test_debug_log_shows_statements_never_their_parameters(
    bus: RecordingBus, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tortoise.db_client")
    caplog.set_level(logging.DEBUG, logger="aiosqlite")
    await Volunteer.create(full_name="Madina Seitkali", email="madina@example.kz", country="KZ")
    found = await Volunteer.filter(email="madina@example.kz").first()
    assert found is not None

    statements = [record.getMessage() for record in caplog.records if record.name == "tortoise.db_client"]
    assert any("volunteer" in line.lower() and "[parameters hidden]" in line for line in statements)
    assert "madina@example.kz" not in caplog.text
    assert "Madina Seitkali" not in caplog.text
