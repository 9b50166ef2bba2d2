"""`exchange` commands run in-process; their effects are checked through the real app."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.settings import DEVELOPMENT_SECRET
from schema.build import export_sdl
from tests.cli.helpers import error_codes, last_line, query_app, run_cli

WHO_AM_I = "{ organisations(first: 1) { totalCount } }"
CREATE_ORGANISATION = """
mutation($input: CreateOrganisationInput!) {
  createOrganisation(input: $input) { organisation { slug } userErrors { code message } }
}
"""


@pytest.fixture(autouse=True)
def _no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings read ./.env; a developer's file must not steer the commands under test.
    monkeypatch.chdir(tmp_path)


def test_admin_key_is_printed_alone_on_the_last_line_and_authenticates(
    database_url: str, tmp_path: Path
) -> None:
    result = run_cli(database_url, "apikey", "create", "--admin", "--label", "ops laptop")
    assert result.exit_code == 0, result.stderr
    secret = last_line(result)
    assert secret.startswith("vx_") and secret == secret.strip() and " " not in secret
    assert "ADMIN" in result.stdout.splitlines()[0]

    created = query_app(
        database_url,
        tmp_path,
        CREATE_ORGANISATION,
        key=secret,
        variables={
            "input": {"slug": "sco", "names": [{"locale": "en", "text": "SCO"}], "kind": "INTERNATIONAL"}
        },
    )
    assert created["data"]["createOrganisation"] == {"organisation": {"slug": "sco"}, "userErrors": []}

    unknown = query_app(database_url, tmp_path, WHO_AM_I, key=secret[:-2] + "xx")
    assert error_codes(unknown) == ["UNAUTHENTICATED"]


def test_organisation_keys_read_only_and_labelled(database_url: str, tmp_path: Path) -> None:
    admin = last_line(run_cli(database_url, "apikey", "create", "--admin"))
    query_app(
        database_url,
        tmp_path,
        CREATE_ORGANISATION,
        key=admin,
        variables={"input": {"slug": "aral-eco", "names": [{"locale": "kk", "text": "Арал"}], "kind": "NGO"}},
    )

    result = run_cli(
        database_url, "apikey", "create", "--organisation", "aral-eco", "--read-only", "--label", "site"
    )
    assert result.exit_code == 0, result.stderr
    read_only = last_line(result)
    assert read_only.startswith("vx_")
    assert (
        query_app(database_url, tmp_path, WHO_AM_I, key=read_only)["data"]["organisations"]["totalCount"] == 1
    )
    # A read-only key is not an admin: the admin-only mutation is refused.
    refused = query_app(
        database_url,
        tmp_path,
        CREATE_ORGANISATION,
        key=read_only,
        variables={"input": {"slug": "x", "names": [{"locale": "en", "text": "X"}], "kind": "NGO"}},
    )
    assert error_codes(refused) == ["FORBIDDEN"]

    listing = run_cli(database_url, "apikey", "list")
    assert listing.exit_code == 0
    rows = [line for line in listing.stdout.splitlines() if "aral-eco" in line]
    assert len(rows) == 1 and "READ_ONLY" in rows[0] and "site" in rows[0]
    assert "2 key(s)." in listing.stdout


def test_apikey_create_refuses_bad_arguments(database_url: str) -> None:
    unknown = run_cli(database_url, "apikey", "create", "--organisation", "no-such-org")
    assert unknown.exit_code == 1
    assert "no organisation with slug 'no-such-org'" in unknown.stderr

    both = run_cli(database_url, "apikey", "create", "--admin", "--organisation", "x")
    assert both.exit_code == 2 and "exactly one of --admin or --organisation" in both.stderr
    neither = run_cli(database_url, "apikey", "create")
    assert neither.exit_code == 2
    admin_read_only = run_cli(database_url, "apikey", "create", "--admin", "--read-only")
    assert admin_read_only.exit_code == 2 and "never read-only" in admin_read_only.stderr
    assert "0 key(s)." in run_cli(database_url, "apikey", "list").stdout


def test_revoked_key_is_refused_at_once(database_url: str, tmp_path: Path) -> None:
    created = run_cli(database_url, "apikey", "create", "--admin")
    secret = last_line(created)
    public_id = next(word.rstrip(".") for word in created.stdout.split() if word.startswith("key_"))
    assert "errors" not in query_app(database_url, tmp_path, WHO_AM_I, key=secret)

    revoked = run_cli(database_url, "apikey", "revoke", public_id)
    assert revoked.exit_code == 0 and f"Revoked {public_id}." in revoked.stdout

    payload = query_app(database_url, tmp_path, WHO_AM_I, key=secret)
    assert error_codes(payload) == ["UNAUTHENTICATED"]
    assert payload["errors"][0]["message"] == "The API key is unknown or revoked."

    row = next(
        line for line in run_cli(database_url, "apikey", "list").stdout.splitlines() if public_id in line
    )
    assert row.count("Z") == 2  # created and revoked instants

    again = run_cli(database_url, "apikey", "revoke", public_id)
    assert again.exit_code == 1 and "no active key" in again.stderr


def test_migrate_applies_then_reports_up_to_date(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'fresh.sqlite3'}"
    refused = run_cli(url, "apikey", "create", "--admin")
    assert refused.exit_code == 1
    assert "not migrated" in refused.stderr and "exchange migrate" in refused.stderr

    first = run_cli(url, "migrate")
    assert first.exit_code == 0, first.stderr
    assert "applied 0001_initial" in first.stdout

    second = run_cli(url, "migrate")
    assert second.exit_code == 0 and "up to date" in second.stdout
    assert run_cli(url, "apikey", "create", "--admin").exit_code == 0


def test_migrate_on_a_migrated_database(database_url: str) -> None:
    result = run_cli(database_url, "migrate")
    assert result.exit_code == 0 and "nothing to apply" in result.stdout


def test_seed_demo_twice_leaves_data_alone(database_url: str, tmp_path: Path) -> None:
    first = run_cli(database_url, "seed", "--demo")
    assert first.exit_code == 0, first.stderr
    assert "Demo data loaded: 11 organisations, 6 exchanges" in first.stdout
    admin = last_line(first)
    count = "{ organisations { totalCount } }"
    assert query_app(database_url, tmp_path, count, key=admin)["data"]["organisations"]["totalCount"] == 11

    second = run_cli(database_url, "seed", "--demo")
    assert second.exit_code == 0
    assert "already has data" in second.stdout and "Demo data loaded" not in second.stdout
    assert query_app(database_url, tmp_path, count)["data"]["organisations"]["totalCount"] == 11
    assert run_cli(database_url, "apikey", "list").stdout.count("demo admin") == 1

    assert run_cli(database_url, "seed").exit_code == 2


def test_export_schema_needs_no_database(tmp_path: Path) -> None:
    # A database URL nobody can open: export-schema must not try.
    result = run_cli("postgres://nobody@127.0.0.1:1/none", "export-schema")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == export_sdl()
    assert "type Query {" in result.stdout

    target = tmp_path / "out.graphql"
    assert run_cli(None, "export-schema", "-o", str(target)).exit_code == 0
    assert target.read_text(encoding="utf-8") == export_sdl()


UNSAFE = {
    "EXCHANGE_MODE": "production",
    "EXCHANGE_DATABASE_URL": "sqlite://prod.sqlite3",
    "EXCHANGE_PUBLIC_URL": "http://exchange.example",
}
SAFE_PRODUCTION = {
    "EXCHANGE_MODE": "production",
    "EXCHANGE_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
    "EXCHANGE_SMTP_HOST": "smtp.example",
    "EXCHANGE_SECRET_KEY": "k" * 40,
    "EXCHANGE_PUBLIC_URL": "https://exchange.example",
}


def test_production_mode_refuses_unsafe_settings_and_says_why() -> None:
    result = run_cli(None, "serve", env=UNSAFE)
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "refusing to start in production mode" in message
    for reason in ("SQLite", "EXCHANGE_SMTP_HOST", "EXCHANGE_SECRET_KEY", "https://"):
        assert reason in message

    cors = run_cli(None, "serve", env={**SAFE_PRODUCTION, "EXCHANGE_CORS_ORIGINS": "*"})
    assert cors.exit_code == 2
    assert "EXCHANGE_CORS_ORIGINS allows every origin" in " ".join(cors.stderr.split())
    assert "SQLite" not in cors.stderr

    previous = run_cli(
        None, "serve", env={**SAFE_PRODUCTION, "EXCHANGE_PREVIOUS_SECRET_KEYS": DEVELOPMENT_SECRET}
    )
    assert previous.exit_code == 2
    assert "EXCHANGE_PREVIOUS_SECRET_KEYS lists the development key" in " ".join(previous.stderr.split())


def test_production_mode_refuses_demo_data() -> None:
    result = run_cli(None, "serve", "--demo", env=SAFE_PRODUCTION)
    assert result.exit_code == 2 and "refused in production mode" in " ".join(result.stderr.split())


def test_several_workers_need_redis() -> None:
    result = run_cli("sqlite://unused.sqlite3", "serve", "--workers", "3")
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "EXCHANGE_REDIS_URL" in message and "worker" in message


def test_invite_from_csv_reports_rejected_rows(database_url: str, tmp_path: Path) -> None:
    assert run_cli(database_url, "seed", "--demo").exit_code == 0
    csv_file = tmp_path / "invitees.csv"
    csv_file.write_text(
        "email,full_name,country,locale\n"
        "nurlan.abdirov@example.org,Нұрлан Әбдіров,KZ,kk\n"
        "not-an-address,Ольга Ким,UZ,ru\n"
        "olga.kim@example.org,Ольга Ким,UZ,ru\n",
        encoding="utf-8",
    )
    env = {"EXCHANGE_MAIL_DIR": str(tmp_path / "mail")}
    result = run_cli(
        database_url, "invite", "--exchange", "aral-restoration-week-2027", str(csv_file), env=env
    )
    assert result.exit_code == 1
    assert "3 rows: 2 invited, 0 already invited, 1 rejected" in result.stdout
    assert (tmp_path / "invitees.rejected.csv").exists()

    unknown = run_cli(database_url, "invite", "--exchange", "no-such-week", str(csv_file), env=env)
    assert unknown.exit_code == 1 and "No exchange with the slug 'no-such-week'" in unknown.stderr


def test_invite_survives_nul_bytes_and_refuses_a_non_utf8_file_in_one_line(
    database_url: str, tmp_path: Path
) -> None:
    # Both ended in a traceback: a driver error that undid the whole chunk, a UnicodeDecodeError.
    assert run_cli(database_url, "seed", "--demo").exit_code == 0
    env = {"EXCHANGE_MAIL_DIR": str(tmp_path / "mail")}
    with_nul = tmp_path / "invitees.csv"
    with_nul.write_text(
        "email,full_name,country\nnurlan.abdirov@example.org,Нұрлан\0 Әбдіров,KZ\nolga.kim@example.org,Ольга Ким,UZ\n",
        encoding="utf-8",
    )
    result = run_cli(
        database_url, "invite", "--exchange", "aral-restoration-week-2027", str(with_nul), env=env
    )
    assert result.exit_code == 1
    assert "2 rows: 1 invited, 0 already invited, 1 rejected" in result.stdout
    rejected = (tmp_path / "invitees.rejected.csv").read_text(encoding="utf-8")
    assert "fullName: contains a NUL character (U+0000)." in rejected

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("email,full_name,country\njose@example.org,José Núñez,ES\n".encode("latin-1"))
    refused = run_cli(
        database_url, "invite", "--exchange", "aral-restoration-week-2027", str(latin1), env=env
    )
    assert refused.exit_code == 1 and refused.stdout == ""
    message = " ".join(refused.stderr.split())
    assert message.startswith("error: ") and "not UTF-8 text (line 2 has the byte 0xe9)" in message
    assert "Traceback" not in refused.stderr


def test_an_unreachable_database_is_named_without_its_password() -> None:
    for args in (["migrate"], ["apikey", "list"], ["serve"]):
        result = run_cli("postgres://ops:s3cret@127.0.0.1:1/exchange", *args)
        assert result.exit_code == 1, args
        message = " ".join(result.stderr.split())
        assert "cannot reach the database at postgres://ops:***@127.0.0.1:1/exchange" in message
        assert "s3cret" not in result.stderr and "not migrated" not in message
