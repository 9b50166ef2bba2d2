"""The `exchange` command: serve, migrate, API keys, demo data, schema export, workers.

Each area is a sub-app (``apikey``, ``documents``...) or one command; adding a command
is one decorated function here. Commands that need the database open it for their own
duration only (``_with_db``); ``export-schema`` never touches it.

Output rule for scripts: a command that creates a secret prints it alone on the LAST
line of stdout (``exchange apikey create ... | tail -1``); everything else goes before it.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar
from urllib.parse import urlsplit, urlunsplit

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from exchange import access, db, events
from exchange.models import ApiKey, ApiKeyRole, Organisation
from exchange.settings import Settings, UnsafeSettings

T = TypeVar("T")

app = typer.Typer(
    name="exchange",
    help="The volunteer exchange GraphQL server and its tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
apikey_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")

# soft_wrap: never break a line inside an id, URL or key that a script may cut out.
out = Console(soft_wrap=True, highlight=False, markup=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def load_settings() -> Settings:
    # A fresh read each time (not get_settings()'s cache): tests run many commands in one process.
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"EXCHANGE_{'_'.join(str(part) for part in error['loc'][:1]).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        fail(f"invalid settings: {problems}", 2)


def _with_db(settings: Settings, work: Callable[[], Awaitable[T]], *, require_migrated: bool = True) -> T:
    async def run() -> T:
        await db.init_db(settings, global_fallback=False)
        try:
            # Without this, an unreachable database reads as "nothing applied yet".
            if not await db.ping():
                raise _Unreachable
            if require_migrated:
                await db.ensure_migrated()
            return await work()
        finally:
            await db.close_db()

    try:
        return asyncio.run(run())
    except db.DatabaseNotMigrated as exc:
        fail(str(exc))
    except _Unreachable:
        fail(f"cannot reach the database at {_redacted(settings.database_url)} (EXCHANGE_DATABASE_URL).")


class _Unreachable(Exception):
    pass


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))


# ---------------------------------------------------------------- serve


async def _applied_any() -> bool:
    from tortoise import connections
    from tortoise.migrations.recorder import MigrationRecorder

    return bool(await MigrationRecorder(connections.get("default")).applied_migrations())


def _local_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches a server listening on ``host``."""
    if host in ("0.0.0.0", ""):  # noqa: S104
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _check_port_free(host: str, port: int) -> None:
    """Binds and releases the address uvicorn is about to take: uvicorn reports a taken port
    only as a log line and exit status 3, after the migrations and the demo keys."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn does: a port whose old connections linger in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(
                    f"port {port} on {host} is already in use (another server?); choose another with --port."
                )
            if exc.errno == errno.EACCES:
                fail(f"not allowed to listen on port {port} (ports below 1024 need privileges); use --port.")
            if exc.errno == errno.EADDRNOTAVAIL:
                fail(f"{host} is not an address of this machine; choose another with --host.")
            fail(f"cannot listen on {host} port {port}: {exc.strerror or exc}.")


def _print_demo(result: Any, host: str, port: int) -> None:
    out.print(f"Demo data loaded: {result.summary}.")
    out.print(f"GraphiQL: {_local_url(host, port)}/graphql")
    out.print(f"Organisation API key ({result.organisation_slug}): {result.organisation_key}")
    out.print(f"Admin API key: {result.admin_key}")
    out.print("Send a key as `Authorization: Bearer <key>`; keys are shown once, only hashes are stored.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.", envvar="EXCHANGE_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.", envvar="PORT")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (more than 1 needs EXCHANGE_REDIS_URL).")
    ] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    migrate: Annotated[bool, typer.Option("--migrate", help="Apply pending migrations first.")] = False,
    demo: Annotated[
        bool, typer.Option("--demo", help="On an empty database: migrate, load demo data, print keys.")
    ] = False,
) -> None:
    """Run the HTTP server (GraphQL at /graphql, health at /healthz and /readyz)."""
    settings = load_settings()
    try:
        settings.check_safe()
    except UnsafeSettings as exc:
        fail(str(exc), 2)
    if demo and settings.is_production:
        fail("--demo loads made-up data and prints an admin key; it is refused in production mode.", 2)
    if workers > 1 and not settings.redis_url:
        fail(
            f"--workers {workers} needs EXCHANGE_REDIS_URL: invitation events must be shared across "
            "worker processes, otherwise each subscriber hears only the events of its own worker.",
            2,
        )
    _check_port_free(host, port)
    if not settings.is_production and "public_url" not in settings.model_fields_set:
        # Links in mails must reach this server, not the default port. Through the
        # environment, because the app reads its settings anew in every worker process.
        os.environ["EXCHANGE_PUBLIC_URL"] = _local_url(host, port)

    async def prepare() -> Any:
        pending = await db.pending_migrations()
        if pending:
            fresh = not await _applied_any()
            if not (migrate or (demo and fresh)):
                await db.ensure_migrated()  # raises with the pending list and the way out
            applied = await db.migrate()
            out.print(f"Applied {len(applied)} migration(s): {', '.join(applied)}")
        if not demo:
            return None
        if await db.has_data():
            out.print(
                "The database already has data: the demo data was not loaded and the data was left alone. "
                "Make a key with `exchange apikey create --admin`."
            )
            return None
        from exchange import demo as demo_data

        return await demo_data.load()

    result = _with_db(settings, prepare, require_migrated=False)
    if result is not None:
        _print_demo(result, host, port)
    sys.stdout.flush()

    import uvicorn

    try:
        uvicorn.run(
            "exchange.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers if not reload else None,
            reload=reload,
            log_level=settings.log_level.lower(),
            access_log=access_lines_kept(settings.log_level),
            # Given explicitly: uvicorn's default trusts X-Forwarded-For from 127.0.0.1.
            proxy_headers=bool(settings.forwarded_allow_ips),
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )
    except SystemExit as exc:
        # uvicorn's "startup failed" (3), e.g. a port taken between the check and the bind.
        if exc.code == 3:
            fail("the server did not start (the reason is in the log above).")
        raise


def access_lines_kept(log_level: str) -> bool:
    """Whether uvicorn's access lines (INFO) can reach a log at this level. Uvicorn builds
    each line's arguments before the logger drops it: at WARNING and above, not logging them
    at all saves that on every request and loses no line."""
    return log_level.lower() in ("trace", "debug", "info")


# ---------------------------------------------------------------- database


@app.command("migrate")
def migrate_command() -> None:
    """Apply pending database migrations."""
    applied = _with_db(load_settings(), db.migrate, require_migrated=False)
    if applied:
        for name in applied:
            out.print(f"applied {name}")
        out.print(f"{len(applied)} migration(s) applied.")
    else:
        out.print("The database is up to date; nothing to apply.")


@app.command("reseal-webhook-secrets")
def reseal_webhook_secrets() -> None:
    """Seal every stored webhook secret again under the current EXCHANGE_SECRET_KEY (after a
    key change, with the old key in EXCHANGE_PREVIOUS_SECRET_KEYS, which may then go)."""
    from exchange.webhooks.endpoints import reseal_secrets

    settings = load_settings()
    done = _with_db(settings, lambda: reseal_secrets(settings))
    out.print(
        f"{done.resealed} webhook secret(s) sealed again under the current key; {done.current} already were."
    )
    if done.unreadable:
        ids = ", ".join(str(endpoint_id) for endpoint_id in done.unreadable)
        fail(
            f"{len(done.unreadable)} endpoint(s) hold a secret that no key opens (ids {ids}): list the key "
            "that sealed them in EXCHANGE_PREVIOUS_SECRET_KEYS, or their organisations rotate them "
            "(rotateWebhookSecret)."
        )


@app.command()
def seed(
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo data set.")] = False,
) -> None:
    """Load a data set into a migrated database (left alone when it already has data)."""
    if not demo:
        fail("say which data set: `exchange seed --demo` (the only one so far).", 2)
    from exchange import demo as demo_data

    async def run() -> Any:
        if await db.has_data():
            return None
        return await demo_data.load()

    result = _with_db(load_settings(), run)
    if result is None:
        out.print("The database already has data: the demo data was not loaded and the data was left alone.")
        return
    out.print(f"Demo data loaded: {result.summary}.")
    out.print(f"Organisation API key ({result.organisation_slug}): {result.organisation_key}")
    out.print("Admin API key (alone on the next line):")
    print(result.admin_key)


# ---------------------------------------------------------------- API keys


@apikey_app.command("create")
def apikey_create(
    admin: Annotated[bool, typer.Option("--admin", help="A platform admin key.")] = False,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="Slug of the organisation the key acts for.")
    ] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="Reads public data only.")] = False,
    label: Annotated[str | None, typer.Option(help="A note to recognise the key by.")] = None,
) -> None:
    """Issue a key; its secret is printed once, alone on the last line."""
    if admin == (organisation is not None):
        fail("give exactly one of --admin or --organisation SLUG.", 2)
    if admin and read_only:
        fail("--read-only applies to organisation keys; an admin key is never read-only.", 2)
    role = ApiKeyRole.ADMIN if admin else ApiKeyRole.READ_ONLY if read_only else ApiKeyRole.ORGANISATION

    async def run() -> access.IssuedKey | None:
        owner = None
        if organisation is not None:
            owner = await Organisation.get_or_none(slug=organisation)
            if owner is None:
                return None
        return await access.issue_key(role, owner, label)

    issued = _with_db(load_settings(), run)
    if issued is None:
        fail(f"no organisation with slug {organisation!r} (see the `organisations` query).")
    owner_text = f" for {organisation}" if organisation else ""
    out.print(f"Created {role.value} key {issued.public_id}{owner_text}. The secret is shown only now:")
    print(issued.secret)


@apikey_app.command("list")
def apikey_list() -> None:
    """Every key: public id, role, organisation, label, created and revoked times."""

    async def run() -> list[ApiKey]:
        return await ApiKey.all().order_by("id").prefetch_related("organisation")

    keys = _with_db(load_settings(), run)
    table = Table("public id", "role", "organisation", "label", "created", "revoked")
    for key in keys:
        table.add_row(
            key.public_id,
            key.role.value,
            key.organisation.slug if key.organisation else "-",
            key.label or "",
            f"{key.created_at:%Y-%m-%d %H:%M}Z",
            f"{key.revoked_at:%Y-%m-%d %H:%M}Z" if key.revoked_at else "",
        )
    # Piped output has no terminal width; ids must never be cut, so give the table room.
    Console(highlight=False, markup=False, width=None if out.is_terminal else 200).print(table)
    out.print(f"{len(keys)} key(s).")


@apikey_app.command("revoke")
def apikey_revoke(
    public_id: Annotated[str, typer.Argument(help="The key's public id, e.g. key_1a2b...")],
) -> None:
    """Revoke a key; requests carrying it are refused from now on, and its open subscriptions
    end (at once through Redis; else at the servers' next key check)."""

    async def run() -> bool:
        try:
            return await access.revoke_key(public_id)
        finally:
            await events.close_bus()  # the one revoke_key announced the revocation on

    if not _with_db(load_settings(), run):
        fail(f"no active key with public id {public_id!r} (see `exchange apikey list`).")
    out.print(f"Revoked {public_id}.")


# ---------------------------------------------------------------- schema


@app.command("export-schema")
def export_schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead.")] = None,
) -> None:
    """Print the GraphQL schema (SDL). Needs no database."""
    from schema.build import export_sdl

    sdl = export_sdl()
    if output is not None:
        output.write_text(sdl, encoding="utf-8")
        err.print(f"wrote {output}")
    else:
        sys.stdout.write(sdl)


# ---------------------------------------------------------------- persisted documents

documents_app = typer.Typer(help="Trusted (persisted) GraphQL documents.", no_args_is_help=True)
app.add_typer(documents_app, name="documents")


@documents_app.command("register")
def documents_register(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="A .graphql file (one or more operations) or a JSON manifest {sha256: document}.",
        ),
    ],
) -> None:
    """Register documents so they run in allow-list mode (EXCHANGE_PERSISTED_QUERIES_ONLY)."""
    from exchange import documents

    try:
        found = documents.documents_in_file(file)
    except (documents.ManifestError, UnicodeDecodeError) as exc:
        fail(f"{file}: {exc}")

    async def run() -> dict[str, str]:
        return await documents.register_file(file)

    registered = _with_db(load_settings(), run)
    for digest in found:
        out.print(digest)
    out.print(f"Registered {len(registered)} document(s) from {file}.")


# ---------------------------------------------------------------- a person's data

volunteer_app = typer.Typer(
    help="A person's data, by email address: export it, erase it.", no_args_is_help=True
)
app.add_typer(volunteer_app, name="volunteer")

# The CLI runs on the server with its database: an operator there is a platform admin.
_CLI_ADMIN = access.Actor(access.Role.ADMIN, key_id="cli")


def _privacy_call(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    from exchange.errors import DomainError

    try:
        return _with_db(settings, work)
    except DomainError as exc:
        fail(exc.problems[0].message)


def _erasure_summary(done: Any) -> str:
    return (
        f"{done.volunteers} volunteer record(s), {done.invitations} invitation(s) (links invalidated), "
        f"{done.mails} mail row(s) ({done.queued_mails_cancelled} queued, cancelled), "
        f"{done.idempotency_records} stored API answer(s), "
        f"{done.organisation_contacts} organisation contact address(es), {done.certificates} certificate(s), "
        f"{done.mail_files} mail file(s)"
    )


@volunteer_app.command("export")
def volunteer_export(
    email: Annotated[str, typer.Argument(help="The person's email address.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the JSON to this file (readable by its owner only)."),
    ] = None,
) -> None:
    """Print everything stored about a person as JSON: volunteer records, participations,
    sessions they speak at, invitations, mail rows and mail files. Exit 1 if nothing is."""
    import orjson

    from exchange import privacy

    settings = load_settings()
    document = _privacy_call(settings, lambda: privacy.export_person(_CLI_ADMIN, email, settings))
    text = orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # personal data: also when the file existed before
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}.")
    err.print(f"wrote {escape(str(output))}")


@volunteer_app.command("erase")
def volunteer_erase(
    email: Annotated[str, typer.Argument(help="The person's email address.")],
    yes: Annotated[bool, typer.Option("--yes", help="Erase without asking first.")] = False,
) -> None:
    """Anonymise a person in place (names and addresses become placeholders, other personal
    fields are emptied, queued mail is cancelled, mail files deleted); participations, hours
    and statuses stay. Cannot be undone. Exit 1 if nothing is stored for the address."""
    from exchange import privacy

    settings = load_settings()
    if not yes:
        preview = _privacy_call(settings, lambda: privacy.preview_erasure(_CLI_ADMIN, email, settings))
        out.print(f"This anonymises {_erasure_summary(preview)}. It cannot be undone.")
        try:
            confirmed = typer.confirm("Erase?", default=False)
        except typer.Abort:
            confirmed = False
        if not confirmed:
            fail("nothing was erased (answer y, or pass --yes).")
    done = _privacy_call(settings, lambda: privacy.erase_person(_CLI_ADMIN, email, settings))
    out.print(f"Erased: {_erasure_summary(done)}.")
    if done.mentions_left:
        out.print(
            f"Still named in {len(done.mentions_left)} text(s) written by organisations; edit them by hand:"
        )
        for mention in done.mentions_left:
            out.print(f"  {mention}")


# ---------------------------------------------------------------- CSV exports

export_app = typer.Typer(
    help="CSV exports for spreadsheets (UTF-8 with a byte order mark: opens in Excel in any script).",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")

_SEMICOLONS_HELP = (
    "';' between cells and a decimal comma, for a spreadsheet set up for e.g. Russian or Kazakh."
)


def _date_option(name: str, value: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else dt.date.fromisoformat("")
    except ValueError:
        fail(f"{name}: {value!r} is not a date (YYYY-MM-DD).", 2)


def _write_csv(data: bytes, output: Path | None, *, private: bool) -> None:
    """To ``output`` (readable by its owner only when ``private``: personal data), else stdout."""
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
        if private:
            os.fchmod(descriptor, 0o600)  # also when the file existed before
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}.")
    err.print(f"wrote {escape(str(output))}")


@export_app.command("participants")
def export_participants(
    exchange: Annotated[str, typer.Option("--exchange", help="Slug of the exchange.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (readable by its owner only).")
    ] = None,
    with_emails: Annotated[
        bool, typer.Option("--with-emails", help="Add the volunteers' email addresses (personal data).")
    ] = False,
    semicolons: Annotated[bool, typer.Option("--semicolons", help=_SEMICOLONS_HELP)] = False,
) -> None:
    """Every participant of an exchange, withdrawn and no-shows included (the CLI is a platform
    admin): name, country, sending organisation, role, status, hours, sessions attended.
    Email addresses only with --with-emails."""
    from exchange import exports

    data = _privacy_call(
        load_settings(),
        lambda: exports.participants_csv(
            _CLI_ADMIN, exchange, with_emails=with_emails, style=exports.Style(semicolons)
        ),
    )
    _write_csv(data, output, private=True)


@export_app.command("stats")
def export_stats(
    starts_from: Annotated[str, typer.Option("--from", help="Exchanges starting on or after (YYYY-MM-DD).")],
    starts_to: Annotated[str, typer.Option("--to", help="Exchanges starting on or before (YYYY-MM-DD).")],
    public: Annotated[
        bool,
        typer.Option(
            "--public", help="What anonymous callers see: published exchanges, buckets under 3 people merged."
        ),
    ] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
    semicolons: Annotated[bool, typer.Option("--semicolons", help=_SEMICOLONS_HELP)] = False,
) -> None:
    """Impact statistics of the exchanges starting in a date range, one figure a row
    (statistic, key, value); exact over every exchange, drafts included, unless --public."""
    from exchange import exports
    from exchange.statistics import StatisticsFilter

    criteria = StatisticsFilter(
        starts_from=_date_option("--from", starts_from), starts_to=_date_option("--to", starts_to)
    )
    actor = access.ANONYMOUS if public else _CLI_ADMIN
    data = _privacy_call(
        load_settings(), lambda: exports.statistics_csv(actor, criteria, exports.Style(semicolons))
    )
    _write_csv(data, output, private=False)


# ---------------------------------------------------------------- workers and imports


@app.command("mail-worker")
def mail_worker() -> None:
    """Send queued mail (when the web processes run with EXCHANGE_RUN_MAIL_DISPATCHER=false)."""
    from exchange.mail.dispatcher import run_worker

    settings = load_settings()
    try:
        settings.check_safe()
    except UnsafeSettings as exc:
        fail(str(exc), 2)
    try:
        # The worker opens its own database connection and stops on SIGINT/SIGTERM.
        asyncio.run(run_worker(settings))
    except db.DatabaseNotMigrated as exc:
        fail(str(exc))


@app.command()
def invite(
    exchange: Annotated[str, typer.Option("--exchange", help="Slug of the exchange to invite to.")],
    csv_file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV of invitees.")
    ],
) -> None:
    """Invite the volunteers listed in a CSV file (email, full_name, country[, locale]).

    Exits 1 when some rows were rejected; their reasons are written beside the file."""
    from exchange.invitations.csv_import import CsvImportError, import_csv

    settings = load_settings()
    try:
        summary = _with_db(settings, lambda: import_csv(settings, exchange, csv_file, console=err))
    except CsvImportError as exc:
        fail(str(exc))
    out.print(str(summary))
    if summary.rejected:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
