"""Migration 0016 on a database that holds webhook endpoints with plain-text secrets, on SQLite
and PostgreSQL: each secret is sealed with the server's key (the one `exchange migrate` runs
with; a production run without one stops, changing nothing) and bound to its row, none stays
readable in the column, the worker's reader opens it, and migrating back opens them again for
the code before it."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import pytest

from exchange import db
from exchange.sealed import Unsealable
from exchange.settings import Settings
from exchange.webhooks import signing
from tests.domain.migrating import migrate_to, migrated_up_to

MIGRATION = "0016_webhook_secrets_sealed"
SERVER_KEY = "the-production-key-" + "k" * 30


async def test_plain_secrets_are_sealed_and_opened_again_going_back(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXCHANGE_SECRET_KEY", SERVER_KEY)
    module = importlib.import_module(f"exchange.migrations.{MIGRATION}")
    [(_, before)] = module.Migration.dependencies
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    async with migrated_up_to(before, database_url, tmp_path) as conn:
        plain = {1: signing.new_secret(), 2: signing.new_secret()}
        now = dt.datetime(2026, 4, 1, tzinfo=dt.UTC).isoformat()
        await conn.execute_script(
            "INSERT INTO organisation (slug, names, kind, created_at) "
            f"VALUES ('host', '{{\"en\": \"Host\"}}', 'NGO', '{now}');"
            "INSERT INTO webhook_endpoint (id, organisation_id, url, secret, created_at) VALUES"
            f" (1, 1, 'https://crm.example.org/a', '{plain[1]}', '{now}'),"
            f" (2, 1, 'https://crm.example.org/b', '{plain[2]}', '{now}');"
        )

        # A production run without the server's key stops, changing nothing (one transaction):
        # the server could never open what the development secret sealed.
        with monkeypatch.context() as production:
            production.setenv("EXCHANGE_MODE", "production")
            production.delenv("EXCHANGE_SECRET_KEY")
            with pytest.raises(RuntimeError, match="EXCHANGE_SECRET_KEY is not set"):
                await db.migrate()
        untouched = await conn.execute_query_dict("SELECT id, secret FROM webhook_endpoint ORDER BY id")
        assert {row["id"]: row["secret"] for row in untouched} == plain

        assert MIGRATION in await db.migrate()

        rows = await conn.execute_query_dict("SELECT * FROM webhook_endpoint ORDER BY id")
        assert [row["id"] for row in rows] == [1, 2] and all("secret" not in row for row in rows)
        sealer = signing.sealer(settings)
        development = signing.sealer(settings.model_copy(update={"secret_key": None}))
        assert settings.secret_key == SERVER_KEY
        for row in rows:
            column = row["sealed_secret"]
            secret = plain[row["id"]]
            assert column.startswith("v1:") and secret.removeprefix("whsec_") not in column
            assert signing.unseal_secret(sealer, row["id"], column) == secret
        # Bound to its row, and sealed with the server's key, not the development one.
        with pytest.raises(Unsealable):
            signing.unseal_secret(sealer, 2, rows[0]["sealed_secret"])
        with pytest.raises(Unsealable):
            signing.unseal_secret(development, 1, rows[0]["sealed_secret"])

        await migrate_to(before)
        back = await conn.execute_query_dict("SELECT id, secret FROM webhook_endpoint ORDER BY id")
        assert {row["id"]: row["secret"] for row in back} == plain
        # Forward again, which also leaves the database at the latest, as the fixture made it.
        assert MIGRATION in await db.migrate()
        again = await conn.execute_query_dict("SELECT id, sealed_secret FROM webhook_endpoint ORDER BY id")
        assert {
            row["id"]: signing.unseal_secret(sealer, row["id"], row["sealed_secret"]) for row in again
        } == plain
