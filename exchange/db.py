"""Tortoise configuration, start-up and shutdown, migrations, and the "is migrated?" check."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.executor import MigrationExecutor

from exchange.settings import Settings

APP_LABEL = "models"


class DatabaseNotMigrated(RuntimeError):
    """The database lacks migrations that this code needs."""


def _with_pool(url: str, settings: Settings) -> str:
    if not url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        return url
    parts = urlparse(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("minsize", str(settings.db_pool_min))
    query.setdefault("maxsize", str(settings.db_pool_max))
    # Connect timeout (s): an unreachable database fails requests fast instead of hanging them.
    query.setdefault("timeout", "5")
    return urlunparse(parts._replace(query=urlencode(query)))


async def _keep_session(_connection: Any) -> None:
    """asyncpg's pool reset, minus the session reset query.

    By default asyncpg sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL;`` each time a connection goes back to the pool, and Tortoise takes a pooled
    connection per statement: one extra round trip for every statement (9 per exchanges page).
    The server never leaves session state behind (no session-level SET, LISTEN, cursors or
    advisory locks; transaction-scoped ones end with the transaction), and asyncpg still rolls
    back an open transaction and drops listeners before calling this."""


def _connection(url: str, settings: Settings) -> str | dict[str, Any]:
    url = _with_pool(url, settings)
    if not url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        return url
    config = expand_db_url(url)
    config["credentials"]["reset"] = _keep_session
    return config


def tortoise_config(settings: Settings) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(settings.database_url, settings)},
        "apps": {
            APP_LABEL: {
                "models": ["exchange.models"],
                "migrations": "exchange.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# For `tortoise makemigrations -c exchange.db.TORTOISE_ORM` (developers only). Built when
# asked for, not at import: a bad setting must reach the CLI's one-line error.
def __getattr__(name: str) -> Any:
    if name == "TORTOISE_ORM":
        return tortoise_config(Settings())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _ParametersHidden(logging.Filter):
    """Tortoise logs every statement with its parameter values at DEBUG ("%s: %s", query,
    values), and its pools with their connection parameters, password included; aiosqlite logs
    each call with its arguments ("executing %s"). Erasure reaches tables and mail files but not
    log files, so an operator who turns DEBUG on sees the SQL, never the addresses, names or
    secrets bound to it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.args, tuple) or not record.args:
            return True
        if record.name.startswith("aiosqlite"):
            record.args = ("[call hidden]",) * len(record.args)
        elif len(record.args) == 2:
            record.args = (record.args[0], "[parameters hidden]")
        return True


_PARAMETERS_HIDDEN = _ParametersHidden()


def hide_statement_parameters() -> None:
    for name in ("tortoise.db_client", "aiosqlite"):
        logger = logging.getLogger(name)
        if _PARAMETERS_HIDDEN not in logger.filters:
            logger.addFilter(_PARAMETERS_HIDDEN)


async def init_db(settings: Settings, *, global_fallback: bool = True) -> None:
    # The ASGI lifespan runs in another task than the requests: the global fallback lets
    # request tasks see the context that start-up created.
    # Tortoise caches prepared INSERT statements per connection *name*, not per dialect: a
    # process that re-initialises on another engine (tests, tools) must start clean.
    EXECUTOR_CACHE.clear()
    hide_statement_parameters()
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=global_fallback)


async def close_db() -> None:
    await Tortoise.close_connections()


async def _executor() -> MigrationExecutor:
    config = Tortoise.apps  # noqa: F841  (ensures init happened)
    app_config = {
        APP_LABEL: {
            "models": ["exchange.models"],
            "migrations": "exchange.migrations",
            "default_connection": "default",
        }
    }
    return MigrationExecutor(connections.get("default"), app_config)


async def pending_migrations() -> list[str]:
    """Names of migrations not yet applied to the connected database."""
    executor = await _executor()
    steps = await executor.plan(None)
    return [step.migration.name for step in steps if not step.backward]


async def migrate() -> list[str]:
    """Apply every pending migration; returns the names applied."""
    pending = await pending_migrations()
    if not pending:
        return pending
    executor = await _executor()
    connection = connections.get("default")
    if connection.capabilities.dialect != "sqlite":
        await executor.migrate(None)
        return pending
    # SQLite alters a table by rebuilding it (create, copy, drop, rename). With foreign keys
    # enforced, dropping the old table cascades deletes into every referencing table, so a
    # migration would silently empty sessions, participations and invitations. Enforcement
    # is switched off around the migration (the pragma is ignored inside a transaction, so
    # it is set here, outside) and the result is checked before it is switched on again.
    await connection.execute_script("PRAGMA foreign_keys = OFF")
    try:
        await executor.migrate(None)
        violations = await connection.execute_query_dict("PRAGMA foreign_key_check")
        if violations:
            raise RuntimeError(f"migration left rows that break foreign keys: {violations[:5]}")
    finally:
        await connection.execute_script("PRAGMA foreign_keys = ON")
    return pending


async def ensure_migrated() -> None:
    pending = await pending_migrations()
    if pending:
        raise DatabaseNotMigrated(
            f"the database is not migrated ({len(pending)} pending: {', '.join(pending)}); "
            "run `exchange migrate`, or start with `exchange serve --migrate`"
        )


async def has_data() -> bool:
    from exchange.models import Organisation

    return await Organisation.exists()


async def ping() -> bool:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True
