"""Migrations keep data: applying later migrations to a database that already holds rows
must not lose any (SQLite rebuilds tables for ALTERs, which cascades deletes while foreign
keys are enforced)."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

from tortoise import connections
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from exchange import db
from exchange.i18n import fold
from exchange.models import Exchange, Organisation, OrganisationKind, Session, SessionFormat, Theme, Volunteer
from exchange.settings import Settings
from exchange.volunteers import skills_folded


async def _migrate_to(name: str) -> None:
    executor = MigrationExecutor(
        connections.get("default"),
        {db.APP_LABEL: {"models": ["exchange.models"], "migrations": "exchange.migrations"}},
    )
    await executor.migrate([MigrationTarget(app_label=db.APP_LABEL, name=name)])


async def test_later_migrations_keep_rows_on_sqlite(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database_url=f"sqlite://{tmp_path / 'old.sqlite3'}")  # type: ignore[call-arg]
    await db.init_db(settings, global_fallback=False)
    try:
        await _migrate_to("0002_localized_text_keeps_key_order")
        # Rows written with raw SQL: the models already describe the latest schema.
        conn = connections.get("default")
        now = dt.datetime(2027, 4, 1, tzinfo=dt.UTC).isoformat()
        await conn.execute_script(
            "INSERT INTO organisation (slug, names, kind, created_at) "
            f"VALUES ('host', '{{\"en\": \"Host\"}}', 'NGO', '{now}');"
            "INSERT INTO exchange (slug, titles, descriptions, search_text, theme, status, host_id, country,"
            " starts_on, ends_on, time_zone, languages, created_at, updated_at) VALUES"
            f" ('aral', '{{\"en\": \"Aral\"}}', '{{}}', 'aral', 'ECOLOGY', 'OPEN', 1, 'KZ', '2027-04-10',"
            f" '2027-04-12', 'Asia/Qyzylorda', '[\"en\"]', '{now}', '{now}');"
            "INSERT INTO session (exchange_id, titles, starts_at, ends_at, format, sequence, created_at) VALUES"
            f" (1, '{{\"en\": \"Opening\"}}', '2027-04-10T05:00:00+00:00', '2027-04-10T06:00:00+00:00',"
            f" 'IN_PERSON', 0, '{now}');"
        )
        assert await Session.all().count() == 1

        applied = await db.migrate()

        assert applied, "the test must apply at least one later migration"
        assert await Organisation.filter(slug="host", kind=OrganisationKind.NGO).count() == 1
        assert await Exchange.filter(slug="aral", theme=Theme.ECOLOGY).count() == 1
        assert await Session.filter(format=SessionFormat.IN_PERSON).count() == 1
        rows = await conn.execute_query_dict("PRAGMA foreign_key_check")
        assert rows == []
        pragma = await conn.execute_query_dict("PRAGMA foreign_keys")
        assert pragma[0]["foreign_keys"] == 1, "foreign keys are enforced again after migrating"
    finally:
        await db.close_db()


async def test_0008_frames_the_skills_the_demo_wrote(database_url: str) -> None:
    # Rows as the demo wrote them (no outer newlines) get the frame the search matches; rows
    # written by the API, and volunteers without skills, are left as they are.
    frame = importlib.import_module("exchange.migrations.0008_skills_framed").FRAME
    await db.init_db(Settings(_env_file=None, database_url=database_url), global_fallback=False)  # type: ignore[call-arg]
    try:
        skills = {
            "seeded": ["First aid", "Экологиялық мониторинг", "Logistics"],
            "single": ["Boat handling"],
            "api": ["Translation", "Cooking"],
            "none": [],
        }
        for name, items in skills.items():
            written = skills_folded(items) if name in ("api", "none") else "\n".join(fold(s) for s in items)
            await Volunteer.create(
                full_name=name,
                email=f"{name}@example.org",
                country="KZ",
                languages=["kk"],
                skills=items,
                skills_folded=written,
            )
        conn = connections.get("default")
        for statement in frame:
            await conn.execute_script(statement)
        stored = {v.full_name: v.skills_folded for v in await Volunteer.all()}
        assert stored == {name: skills_folded(items) for name, items in skills.items()}
        for statement in frame:  # a second run changes nothing
            await conn.execute_script(statement)
        assert {v.full_name: v.skills_folded for v in await Volunteer.all()} == stored
    finally:
        await db.close_db()
