"""The JavaScript clients partners use, against real `exchange serve` processes.

The npm packages are pinned by tests/js/clients/package-lock.json and installed with
`npm ci` on first use (again when the lockfile changes). Each client is a small Node script
there: it takes a scenario as JSON, prints JSON lines (progress, then the result) and exits
non-zero on failure; these tests start the servers, make rows, act over HTTP or the CLI while
a script listens, and assert on what the script printed.

One server per database for the whole session (the rows the scripts need are made before it
starts), and a second PostgreSQL server sharing the first one's database and Redis channel
for the cross-process test.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from exchange import access, db
from exchange.models import ApiKeyRole, Exchange
from exchange.settings import Settings
from exchange.validation import search_text
from schema.api.relay import encode_id
from tests import databases
from tests.events.conftest import (
    ROOT,
    Org,
    Server,
    fresh_postgres_database,
    gql_http,
    make_exchange,
    make_org,
    server_env,
    start_servers,
)
from tests.services import REQUIRE_SERVICES, need_redis

CLIENTS = ROOT / "tests" / "js" / "clients"

INVITE = """
mutation Invite($input: InviteVolunteersInput!) {
  inviteVolunteers(input: $input) { invitations { id email status } userErrors { field message code } }
}
"""


# ------------------------------------------------------------------ npm packages


def _installed_stamp() -> str:
    return hashlib.sha256(
        (CLIENTS / "package.json").read_bytes() + (CLIENTS / "package-lock.json").read_bytes()
    ).hexdigest()


@pytest.fixture(scope="session")
def js_clients() -> Path:
    """tests/js/clients with its node_modules installed exactly as the lockfile says."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        message = (
            "Node.js and npm are not installed: the JavaScript client tests need them (.ci/run installs them)"
        )
        if REQUIRE_SERVICES:
            pytest.fail(message + " (EXCHANGE_TEST_REQUIRE_SERVICES=1 makes them mandatory)")
        pytest.skip(message)
    wanted = _installed_stamp()
    stamp = CLIENTS / "node_modules" / ".installed-from-lockfile"
    # pytest-xdist workers share the folder: one installs, the other waits and finds it done.
    lock_path = (
        Path(tempfile.gettempdir())
        / f"exchange-npm-ci-{hashlib.sha256(bytes(CLIENTS)).hexdigest()[:12]}.lock"
    )
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (stamp.exists() and stamp.read_text() == wanted):
            installed = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=CLIENTS,
                capture_output=True,
                text=True,
                timeout=900,
            )
            if installed.returncode != 0:
                pytest.fail(
                    f"npm ci in {CLIENTS} failed:\n{installed.stdout[-2000:]}\n{installed.stderr[-4000:]}"
                )
            stamp.write_text(wanted)
    return CLIENTS


class ClientFailed(AssertionError):
    pass


@dataclass
class ClientRun:
    """A running client script: its JSON lines as they come, then its result."""

    script: str
    process: asyncio.subprocess.Process
    stderr: bytearray = field(default_factory=bytearray)

    async def drain_stderr(self) -> None:
        assert self.process.stderr is not None
        while chunk := await self.process.stderr.read(65536):
            self.stderr += chunk

    def _failure(self, why: str) -> ClientFailed:
        return ClientFailed(f"{self.script}: {why}\nstderr:\n{self.stderr[-4000:].decode(errors='replace')}")

    async def line(self, within: float = 30.0) -> dict[str, Any]:
        assert self.process.stdout is not None
        try:
            raw = await asyncio.wait_for(self.process.stdout.readline(), within)
        except TimeoutError:
            raise self._failure(f"printed nothing within {within} s") from None
        if not raw:
            await self.process.wait()
            raise self._failure(f"exited ({self.process.returncode}) without a result")
        message: dict[str, Any] = json.loads(raw)
        if "error" in message:
            raise self._failure(message["error"])
        return message

    async def until_results(self, names: set[str], within: float = 30.0) -> None:
        """Until each named subscription has had a result (gather() prints {"next": name})."""
        waiting = set(names)
        while waiting:
            waiting.discard((await self.line(within)).get("next"))

    async def result(self, within: float = 45.0) -> Any:
        while True:
            message = await self.line(within)
            if "result" in message:
                code = await asyncio.wait_for(self.process.wait(), 10)
                if code != 0:
                    raise self._failure(f"exit status {code}")
                return message["result"]


@contextlib.asynccontextmanager
async def run_client(js_clients: Path, script: str, scenario: dict[str, Any]) -> AsyncIterator[ClientRun]:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(js_clients / script),
        json.dumps(scenario),
        cwd=js_clients,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    run = ClientRun(script, process)
    drain = asyncio.create_task(run.drain_stderr())
    try:
        yield run
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        await drain


async def client_result(js_clients: Path, script: str, scenario: dict[str, Any]) -> Any:
    async with run_client(js_clients, script, scenario) as run:
        return await run.result()


# ------------------------------------------------------------------ rows


@dataclass
class Party:
    """An organisation as the scripts see it: its slug, global id and an API key."""

    slug: str
    id: str
    key: str
    key_id: str

    @classmethod
    def of(cls, org: Org) -> Party:
        return cls(org.organisation.slug, encode_id("Organisation", org.id), org.key, org.key_id)


@dataclass
class World:
    host: Party  # hosts `exchange`, with `partner` as co-organiser
    partner: Party
    other: Party  # hosts `other_exchange` alone
    reader: Party  # a read-only key
    exchange_slug: str
    exchange_id: str
    other_exchange_id: str
    # More keys of the host, each for one test that revokes it.
    spare_host_keys: list[tuple[str, str]] = field(default_factory=list)

    def spare_key(self) -> tuple[str, str]:
        return self.spare_host_keys.pop()


async def _make_world(database_url: str) -> World:
    await db.init_db(Settings(database_url=database_url), global_fallback=False)
    try:
        host, partner, other = await make_org("host"), await make_org("partner"), await make_org("other")
        reader = await make_org("reader", ApiKeyRole.READ_ONLY)
        exchange = await make_exchange(host, partner)
        titles = {"en": "Aral Sea Week", "ru": "Неделя Арала", "kk": "Арал апталығы"}
        await Exchange.filter(id=exchange.id).update(titles=titles, search_text=search_text(titles))
        other_exchange = await make_exchange(other)
        spares = [await access.issue_key(ApiKeyRole.ORGANISATION, host.organisation) for _ in range(4)]
        return World(
            host=Party.of(host),
            partner=Party.of(partner),
            other=Party.of(other),
            reader=Party.of(reader),
            exchange_slug=exchange.slug,
            exchange_id=encode_id("ExperienceExchange", exchange.id),
            other_exchange_id=encode_id("ExperienceExchange", other_exchange.id),
            spare_host_keys=[(issued.secret, issued.public_id) for issued in spares],
        )
    finally:
        await db.close_db()


# ------------------------------------------------------------------ servers


@dataclass
class Served:
    server: Server
    world: World

    @property
    def http(self) -> str:
        return self.server.http

    async def invite(
        self, key: str, exchange_id: str, email: str, via: Server | None = None
    ) -> dict[str, Any]:
        """inviteVolunteers over HTTP, as a partner's backend calls it."""
        variables = {
            "input": {
                "exchangeId": exchange_id,
                "invitees": [{"email": email, "fullName": "Dana", "country": "KZ", "locale": "kk"}],
            }
        }
        answer = await gql_http((via or self.server).http, INVITE, variables, key=key)
        payload: dict[str, Any] = answer["data"]["inviteVolunteers"]
        assert payload["userErrors"] == [], payload
        return payload["invitations"][0]

    async def revoke(self, key_id: str) -> float:
        """`exchange apikey revoke` in its own process, as an operator does; returns when it
        finished (time.time())."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "exchange.cli",
            "apikey",
            "revoke",
            key_id,
            cwd=ROOT,
            env={**os.environ, **self.server.env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, output.decode()
        return time.time()


def _serve(database_url: str, log_dir: Path, mail_dir: Path) -> Iterator[Served]:
    need_redis()
    world = asyncio.run(_make_world(database_url))
    env = server_env(
        database_url,
        f"exchange-clients:{uuid.uuid4().hex}",
        # Long, so that only the revocation event (not the periodic key check) can end a
        # revoked key's stream within the second the tests allow.
        EXCHANGE_SUBSCRIPTION_KEY_CHECK_SECONDS="30",
        EXCHANGE_MAIL_DIR=str(mail_dir),
        EXCHANGE_LOG_LEVEL="WARNING",
    )
    server = Server(env, cli=True)
    start_servers([server], log_dir)
    try:
        yield Served(server, world)
    finally:
        server.terminate()


@pytest.fixture(scope="session")
def clients_log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("client-servers")


@pytest.fixture(scope="session")
def sqlite_served(tmp_path_factory: pytest.TempPathFactory, clients_log_dir: Path) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("clients-sqlite")
    yield from _serve(databases.sqlite_url(directory), clients_log_dir, directory / "mail")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    with fresh_postgres_database("exchange_clients") as url:
        yield url


@pytest.fixture(scope="session")
def postgres_served(
    postgres_database: str, tmp_path_factory: pytest.TempPathFactory, clients_log_dir: Path
) -> Iterator[Served]:
    yield from _serve(postgres_database, clients_log_dir, tmp_path_factory.mktemp("clients-pg-mail"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, js_clients: Path) -> Served:
    fixture: Served = request.getfixturevalue(f"{request.param}_served")
    return fixture


@pytest.fixture(scope="session")
def second_server(postgres_served: Served, clients_log_dir: Path) -> Iterator[Server]:
    """Another process on the PostgreSQL server's database and Redis channel."""
    server = Server(postgres_served.server.env, cli=True)
    start_servers([server], clients_log_dir)
    yield server
    server.terminate()


# ------------------------------------------------------------------ what the scripts report


def codes(record: dict[str, Any]) -> list[str]:
    """Every extensions.code a subscription's record carries, however its client surfaced it:
    as the error (graphql-ws's `error` message, Apollo's errors) or in a result (a stream's
    last result before `complete`)."""
    found = list((record["error"] or {}).get("codes") or [])
    for result in record["results"]:
        found += [error["extensions"]["code"] for error in result.get("errors") or []]
        found += (result.get("error") or {}).get("codes") or []
    return found


def invitation_events(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        result["data"]["invitationUpdates"]
        for result in record["results"]
        if (result.get("data") or {}).get("invitationUpdates")
    ]


def subscription(
    name: str, served: Served | Server, key: str, expect: int, **variables: str
) -> dict[str, Any]:
    return {"name": name, "http": served.http, "key": key, "expect": expect, "variables": variables}
