"""The outcomes-and-reports migration on a database that already holds an exchange, on SQLite
and PostgreSQL: the exchange keeps its row and serves no goal yet, the new tables take rows,
localized texts keep their key order (json, not jsonb, on PostgreSQL) and the hand-made
indexes exist."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

from exchange import db
from exchange.models import Exchange, ExchangeOutcome, ExperienceReport, OutcomeMetric, ReportAuthorKind
from tests.domain.migrating import migrated_up_to

MIGRATION = "0015_outcomes_and_reports"


async def test_an_existing_exchange_serves_no_goal_and_reports_keep_key_order(
    tmp_path: Path, database_url: str
) -> None:
    module = importlib.import_module(f"exchange.migrations.{MIGRATION}")
    [(_, before)] = module.Migration.dependencies
    async with migrated_up_to(before, database_url, tmp_path) as conn:
        now = dt.datetime(2026, 4, 1, tzinfo=dt.UTC).isoformat()
        await conn.execute_script(
            "INSERT INTO organisation (slug, names, kind, created_at) "
            f"VALUES ('host', '{{\"en\": \"Host\"}}', 'NGO', '{now}');"
            "INSERT INTO exchange (slug, titles, descriptions, search_text, theme, status, host_id, country,"
            " starts_on, ends_on, time_zone, languages, created_at, updated_at) VALUES"
            f" ('aral', '{{\"en\": \"Aral\"}}', '{{}}', 'aral', 'ECOLOGY', 'OPEN', 1, 'KZ', '2026-04-10',"
            f" '2026-04-12', 'Asia/Qyzylorda', '[\"en\"]', '{now}', '{now}');"
        )

        assert MIGRATION in await db.migrate()

        [aral] = await Exchange.all()
        assert (aral.slug, aral.sdgs) == ("aral", [])
        await ExchangeOutcome.create(
            exchange=aral,
            position=0,
            metric=OutcomeMetric.CUSTOM,
            value=2.0,
            labels={"ru": "Берег", "en": "Shore"},
            recorded_at=dt.datetime.now(dt.UTC),
        )
        await ExperienceReport.create(
            exchange=aral,
            author_kind=ReportAuthorKind.HOST,
            titles={"ru": "Итоги", "en": "Results"},
            bodies={"ru": "Текст", "en": "Text"},
            submitted_at=dt.datetime.now(dt.UTC),
        )
        # The first key is the default language: kept as written (jsonb would sort "en" first).
        assert list((await ExchangeOutcome.get()).labels) == ["ru", "en"]
        report = await ExperienceReport.get()
        assert list(report.titles) == ["ru", "en"] and list(report.bodies) == ["ru", "en"]
        if database_url.startswith("postgres"):
            rows = await conn.execute_query_dict(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'experience_report'"
            )
        else:
            rows = await conn.execute_query_dict(
                "SELECT name AS indexname FROM sqlite_master WHERE type = 'index' AND tbl_name = 'experience_report'"
            )
        assert set(module.INDEXES) <= {row["indexname"] for row in rows}
