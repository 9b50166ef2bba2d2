"""Fresh, migrated databases for each test, fast: SQLite copies a migrated template file;
PostgreSQL migrates one database per test process and truncates it between tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import asyncpg
from tortoise import connections
from tortoise.backends.asyncpg.client import AsyncpgDBClient

from exchange import db
from exchange.settings import Settings
from tests.services import POSTGRES_URL

_sqlite_template: Path | None = None
_pg_database: str | None = None


async def _migrate(url: str) -> None:
    await db.init_db(Settings(database_url=url), global_fallback=False)
    try:
        await db.migrate()
    finally:
        await db.close_db()


def sqlite_url(tmp_path: Path) -> str:
    global _sqlite_template
    if _sqlite_template is None:
        template_dir = Path(os.environ.get("PYTEST_TMP_TEMPLATE", tmp_path.parent)) / "sqlite-template"
        template_dir.mkdir(parents=True, exist_ok=True)
        template = template_dir / f"template-{uuid.uuid4().hex}.sqlite3"
        asyncio.run(_migrate(f"sqlite://{template}"))
        _sqlite_template = template
    target = tmp_path / "exchange.sqlite3"
    shutil.copyfile(_sqlite_template, target)
    return f"sqlite://{target}"


def _with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


async def _pg_create(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _pg_truncate(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'tortoise_migrations'"
        )
        if tables:
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


def postgres_url() -> str:
    """A migrated, empty PostgreSQL database owned by this test process."""
    global _pg_database
    if _pg_database is None:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        name = f"exchange_test_{worker}_{os.getpid()}"
        asyncio.run(_pg_create(name))
        asyncio.run(_migrate(_with_database(POSTGRES_URL, name)))
        _pg_database = name
        return _with_database(POSTGRES_URL, name)
    url = _with_database(POSTGRES_URL, _pg_database)
    asyncio.run(_pg_truncate(url))
    return url


async def drop_postgres_database() -> None:
    if _pg_database is None:
        return
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{_pg_database}" WITH (FORCE)')
    finally:
        await conn.close()


def on_postgres() -> bool:
    """Whether the app's pool is asyncpg's (on SQLite there is one connection anyway)."""
    return type(connections.get("default")) is AsyncpgDBClient
