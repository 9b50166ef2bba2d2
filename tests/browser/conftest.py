"""Browser tests: Debian's headless Chromium (driven over the DevTools protocol, tests/browser/cdp.py)
against a real `exchange serve --demo` process, with the npm packages of tests/js/browser
(axe-core, GraphiQL's bundles) installed once per run by `npm ci`.

Without chromium, node or npm the tests skip with the reason; with
EXCHANGE_TEST_REQUIRE_SERVICES=1 (.ci/run) they fail instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import databases
from tests.browser import cdp
from tests.events.conftest import ROOT, Server
from tests.services import POSTGRES_URL, REQUIRE_SERVICES, need_postgres

PACKAGES = ROOT / "tests" / "js" / "browser"
DEMO_SLUG = "eco-summit-astana-2027"  # hosted by volunteers-of-kazakhstan, whose key --demo prints


def need_tool(found: object, what: str) -> None:
    if found:
        return
    message = f"{what} is not installed"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (EXCHANGE_TEST_REQUIRE_SERVICES=1 makes it mandatory)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_binary() -> str:
    binary = cdp.find_chromium()
    need_tool(binary, "chromium (Debian package `chromium`)")
    assert binary is not None
    return binary


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """tests/js/browser/node_modules, installed with `npm ci` from the committed lock file
    when missing or older than the lock (a file lock keeps two xdist workers apart)."""
    npm = shutil.which("npm")
    need_tool(shutil.which("node") and npm, "Node.js with npm")
    lock = PACKAGES / "package-lock.json"
    stamp = PACKAGES / "node_modules" / ".installed-from"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    # Outside node_modules, which npm ci deletes first; one lock per checkout.
    guard_path = (
        Path(tempfile.gettempdir())
        / f"exchange-npm-ci-{hashlib.sha256(bytes(PACKAGES)).hexdigest()[:12]}.lock"
    )
    with guard_path.open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (stamp.exists() and stamp.read_text() == digest):
            done = subprocess.run(
                [str(npm), "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                cwd=PACKAGES,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode != 0:
                pytest.fail(f"npm ci in {PACKAGES} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
            stamp.write_text(digest)
    return PACKAGES / "node_modules"


@pytest.fixture
def browser(chromium_binary: str, tmp_path: Path) -> Iterator[str]:
    """A headless Chromium for one test; its DevTools URL."""
    with cdp.chromium(chromium_binary, tmp_path / "profile", tmp_path / "chromium.log") as url:
        yield url


# ------------------------------------------------------------------ the server


class ExchangeServe(Server):
    """`exchange serve --demo` on a free port: migrates the empty database, loads the demo
    data and prints an organisation key and an admin key."""

    def spawn(self, log_dir: Path) -> None:
        self.log_path = log_dir / f"exchange-serve-{self.port}.log"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "exchange.cli",
                "serve",
                "--demo",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            # Only this server's settings: none of the caller's EXCHANGE_* variables.
            env={**{k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}, **self.env},
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def printed_key(self, label: str) -> str:
        match = re.search(rf"{re.escape(label)}[^:]*: (vx_\S+)", self.log())
        assert match, self.log()
        return match.group(1)


class Demo:
    def __init__(self, server: ExchangeServe, mail_dir: Path) -> None:
        self.server = server
        self.mail_dir = mail_dir
        self.organisation_key = server.printed_key("Organisation API key")
        self.admin_key = server.printed_key("Admin API key")

    @property
    def url(self) -> str:
        return self.server.http

    async def graphql(
        self, query: str, variables: dict[str, Any] | None = None, key: str | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                self.url + "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
            )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def invitation_link(self, address: str, within: float = 15.0) -> str:
        """The link in the invitation mail to this address, as the mail dispatcher wrote it."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for path in sorted(self.mail_dir.glob("*.eml")):
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                if address not in str(message["To"]):
                    continue
                body = message.get_body(preferencelist=("plain",))
                assert body is not None
                match = re.search(r"(http://\S+/invitations/[A-Za-z0-9_\-]+)", body.get_content())
                assert match, body.get_content()
                return match.group(1)
            await asyncio.sleep(0.1)
        raise AssertionError(f"no mail to {address} in {self.mail_dir}")


@contextlib.contextmanager
def running_demo(database_url: str, tmp_path: Path, **extra_env: str) -> Iterator[Demo]:
    mail_dir = tmp_path / "mail"
    server = ExchangeServe({})
    server.env = {
        "EXCHANGE_MODE": "development",
        "EXCHANGE_DATABASE_URL": database_url,
        "EXCHANGE_MAIL_DIR": str(mail_dir),
        "EXCHANGE_MAIL_POLL_SECONDS": "0.2",
        "EXCHANGE_RUN_WEBHOOK_WORKER": "false",
        "EXCHANGE_SUBSCRIPTION_KEY_CHECK_SECONDS": "0.5",
        "EXCHANGE_PUBLIC_URL": f"http://127.0.0.1:{server.port}",
        **extra_env,
    }
    server.spawn(tmp_path)
    try:
        server.wait_ready(timeout=60)
        yield Demo(server, mail_dir)
    finally:
        server.terminate()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables): `exchange serve --demo` migrates and fills it."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'board.sqlite3'}"
        return
    need_postgres()
    name = f"exchange_browser_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(databases._pg_create(name))
    try:
        yield databases._with_database(POSTGRES_URL, name)
    finally:

        async def drop() -> None:
            import asyncpg

            conn = await asyncpg.connect(POSTGRES_URL)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()

        asyncio.run(drop())
