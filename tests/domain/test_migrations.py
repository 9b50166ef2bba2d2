"""Migrations keep data: applying later migrations to a database that already holds rows
must not lose any (SQLite rebuilds tables for ALTERs, which cascades deletes while foreign
keys are enforced)."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import pytest
from tortoise import connections
from tortoise.exceptions import IntegrityError

from exchange import db
from exchange.i18n import fold
from exchange.models import (
    Exchange,
    Invitation,
    Organisation,
    OrganisationKind,
    Participation,
    Session,
    SessionFormat,
    Theme,
    Volunteer,
)
from exchange.settings import Settings
from exchange.volunteers import skills_folded
from tests.domain.migrating import migrate_to, migrated_up_to


async def test_later_migrations_keep_rows_on_sqlite(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database_url=f"sqlite://{tmp_path / 'old.sqlite3'}")  # type: ignore[call-arg]
    await db.init_db(settings, global_fallback=False)
    try:
        await migrate_to("0002_localized_text_keeps_key_order")
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


async def test_0009_keeps_volunteers_and_allows_one_record_per_sender(
    tmp_path: Path, database_url: str
) -> None:
    # Volunteers, their participations, speakers and linked invitations written before 0009
    # survive it (SQLite rebuilds the volunteer table to drop the unique address); after it an
    # address has one record per sending organisation and one without any, never two.
    async with migrated_up_to("0008_skills_framed", database_url, tmp_path) as conn:
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
            "INSERT INTO volunteer (full_name, email, country, languages, skills, skills_folded,"
            f" organisation_id, created_at) VALUES ('Asel', 'asel@example.org', 'KZ', '[\"kk\"]', '[]', '', 1, '{now}');"
            "INSERT INTO participation (volunteer_id, exchange_id, role, status, joined_at)"
            f" VALUES (1, 1, 'SPEAKER', 'CONFIRMED', '{now}');"
            "INSERT INTO session_speaker (session_id, volunteer_id) VALUES (1, 1);"
            "INSERT INTO invitation (exchange_id, invited_by_id, email, email_normalised, full_name, country,"
            " locale, status, token_nonce, token_hash, created_at, expires_at, delivery_attempts,"
            " calendar_sequence, volunteer_id) VALUES (1, 1, 'asel@example.org', 'asel@example.org', 'Asel',"
            f" 'KZ', 'kk', 'ACCEPTED', 'n', 'h', '{now}', '{now}', 0, 0, 1);"
        )

        assert "0009_volunteer_privacy" in await db.migrate()

        [asel] = await Volunteer.all()
        assert (asel.full_name, asel.email, asel.organisation_id, asel.public_profile) == (  # type: ignore[attr-defined]
            "Asel",
            "asel@example.org",
            1,
            False,
        )
        assert await Participation.filter(volunteer_id=asel.id).count() == 1
        assert await Invitation.filter(volunteer_id=asel.id, consent_at=None).count() == 1
        speakers = await conn.execute_query_dict("SELECT volunteer_id FROM session_speaker")
        assert speakers == [{"volunteer_id": asel.id}]
        other = await Organisation.create(slug="other", names={"en": "Other"}, kind=OrganisationKind.NGO)
        # Another sender, and the volunteer's own record: the same address, separate records.
        await Volunteer.create(
            full_name="Asel O.", email="asel@example.org", country="KZ", organisation=other
        )
        await Volunteer.create(full_name="Asel", email="asel@example.org", country="KZ")
        for organisation in (other, None):
            with pytest.raises(IntegrityError):
                await Volunteer.create(
                    full_name="Twice", email="asel@example.org", country="KZ", organisation=organisation
                )
        assert await Volunteer.filter(email="asel@example.org").count() == 3


async def test_0012_gives_participations_written_before_it_no_recorded_attendance(
    tmp_path: Path, database_url: str
) -> None:
    # Participations written before 0012 (the demo's attended ones with hours among them) keep
    # their status and hours, and read as never recorded: no sessions, no time, nobody.
    async with migrated_up_to("0011_outbox_mail_dedupe_key", database_url, tmp_path) as conn:
        now = dt.datetime(2027, 4, 1, tzinfo=dt.UTC).isoformat()
        await conn.execute_script(
            "INSERT INTO organisation (slug, names, kind, created_at) "
            f"VALUES ('host', '{{\"en\": \"Host\"}}', 'NGO', '{now}');"
            "INSERT INTO exchange (slug, titles, descriptions, search_text, theme, status, host_id, country,"
            " starts_on, ends_on, time_zone, languages, created_at, updated_at) VALUES"
            f" ('aral', '{{\"en\": \"Aral\"}}', '{{}}', 'aral', 'ECOLOGY', 'COMPLETED', 1, 'KZ', '2026-04-10',"
            f" '2026-04-12', 'Asia/Qyzylorda', '[\"en\"]', '{now}', '{now}');"
            "INSERT INTO volunteer (full_name, email, country, languages, skills, skills_folded,"
            f" organisation_id, created_at) VALUES ('Asel', 'asel@example.org', 'KZ', '[\"kk\"]', '[]', '', 1, '{now}');"
            "INSERT INTO participation (volunteer_id, exchange_id, role, status, hours, joined_at)"
            f" VALUES (1, 1, 'COORDINATOR', 'ATTENDED', 18.5, '{now}');"
        )

        assert "0012_participation_attendance" in await db.migrate()

        [kept] = await Participation.all()
        assert (
            kept.status.value,
            kept.hours,
            kept.attended_session_ids,
            kept.recorded_at,
            kept.recorded_by_id,
        ) == (
            "ATTENDED",
            18.5,
            [],
            None,
            None,
        )
        recorder = await Organisation.create(slug="recorder", names={"en": "R"}, kind=OrganisationKind.NGO)
        kept.recorded_by_id = recorder.id
        kept.attended_session_ids = [7, 9]
        await kept.save(update_fields=["recorded_by_id", "attended_session_ids"])
        assert (await Participation.get(id=kept.id)).attended_session_ids == [7, 9]
        # The recording organisation may go; the record stays, naming nobody.
        await recorder.delete()
        assert (await Participation.get(id=kept.id)).recorded_by_id is None
