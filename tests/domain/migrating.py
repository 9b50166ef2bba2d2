"""Migration tests' databases: one migrated only up to a given migration, so that a test can
write rows as they were before the next one and then run it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from exchange import db
from exchange.settings import Settings


async def migrate_to(name: str) -> None:
    """Forwards or backwards to ``name`` (included) on the default connection."""
    executor = MigrationExecutor(
        connections.get("default"),
        {db.APP_LABEL: {"models": ["exchange.models"], "migrations": "exchange.migrations"}},
    )
    await executor.migrate([MigrationTarget(app_label=db.APP_LABEL, name=name)])


@contextlib.asynccontextmanager
async def migrated_up_to(name: str, database_url: str, tmp_path: Path) -> AsyncIterator[BaseDBAsyncClient]:
    """The ORM on a database migrated up to ``name``, closed afterwards: on SQLite a new file
    under ``tmp_path``; on PostgreSQL the fixture's database, emptied first (the fixture
    migrated it to the latest)."""
    if database_url.startswith("sqlite"):
        database_url = f"sqlite://{tmp_path / f'before-{name}.sqlite3'}"
    await db.init_db(Settings(_env_file=None, database_url=database_url), global_fallback=False)  # type: ignore[call-arg]
    conn = connections.get("default")
    try:
        if database_url.startswith("postgres"):
            await conn.execute_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        await migrate_to(name)
        yield conn
    finally:
        await db.close_db()
