"""Real servers for the admission table: one uvicorn process per settings profile and database,
started when a case first needs it and kept for the module, with a pool of fresh admin keys
issued before it starts (each case run spends its own key, so rate-limit budgets never mix)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from exchange import access, db, documents
from exchange.models import ApiKeyRole
from exchange.settings import Settings
from tests import databases
from tests.admission.transports import Server
from tests.events.conftest import fresh_postgres_database
from tests.http.servers import uvicorn_server
from tests.services import need_postgres

KEYS_PER_SERVER = 150

# The settings a server runs with, and the documents registered before it starts.
Profile = tuple[Mapping[str, Any], tuple[str, ...]]


@dataclass
class Deployment:
    server: Server
    keys: list[str]
    revoked_key: str
    used: int = 0

    def fresh_key(self) -> str:
        key = self.keys[self.used]
        self.used += 1
        return key


@dataclass
class Prepared:
    keys: list[str]
    revoked_key: str


async def _prepare(database_url: str, registered: tuple[str, ...]) -> Prepared:
    await db.init_db(Settings(_env_file=None, database_url=database_url), global_fallback=False)  # type: ignore[call-arg]
    try:
        async with in_transaction():
            keys = [(await access.issue_key(ApiKeyRole.ADMIN, None)).secret for _ in range(KEYS_PER_SERVER)]
            revoked = await access.issue_key(ApiKeyRole.ADMIN, None)
            for document in registered:
                await documents.save(document)
        assert await access.revoke_key(revoked.public_id)
        return Prepared(keys, revoked.secret)
    finally:
        await db.close_db()


def _env(settings: Mapping[str, Any]) -> dict[str, str]:
    return {
        f"EXCHANGE_{name.upper()}": (str(value).lower() if isinstance(value, bool) else str(value))
        for name, value in settings.items()
    }


@dataclass
class Deployments:
    """Servers by database engine and profile (settings and registered documents)."""

    directory: Path
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    started: dict[Any, Deployment] = field(default_factory=dict)

    def get(self, backend: str, profile: Profile) -> Deployment:
        if backend == "postgres":
            need_postgres()
        settings, registered = profile
        key = (backend, tuple(sorted(settings.items())), registered)
        if key not in self.started:
            # Called from a test's event loop, and starting runs asyncio.run: in a thread.
            with ThreadPoolExecutor(1) as thread:
                name = f"{backend}-{len(self.started)}"
                self.started[key] = thread.submit(self._start, backend, settings, registered, name).result()
        return self.started[key]

    def _start(
        self, backend: str, settings: Mapping[str, Any], registered: tuple[str, ...], name: str
    ) -> Deployment:
        directory = self.directory / name
        directory.mkdir()
        if backend == "postgres":
            database_url = self.stack.enter_context(fresh_postgres_database("exchange_admission"))
        else:
            database_url = databases.sqlite_url(directory)
        prepared = asyncio.run(_prepare(database_url, registered))
        env = _env(
            {
                "database_url": database_url,
                "run_webhook_worker": False,
                "mail_dir": str(directory / "mail"),
                **settings,
            }
        )
        url = self.stack.enter_context(uvicorn_server(env, directory / "server.log"))
        return Deployment(Server(url), prepared.keys, prepared.revoked_key)


@pytest.fixture(scope="module")
def deployments(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployments]:
    servers = Deployments(tmp_path_factory.mktemp("admission"))
    with servers.stack:
        yield servers
