"""Running the `exchange` command in-process (CliRunner) or as a real process, and asking
the real app whether what the CLI did shows through HTTP."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from typer.testing import CliRunner, Result

from exchange import db
from exchange.app import create_app
from exchange.cli import app as cli_app
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]


def run_cli(database_url: str | None, *args: str, env: dict[str, str] | None = None) -> Result:
    values = dict(env or {})
    if database_url is not None:
        values["EXCHANGE_DATABASE_URL"] = database_url
    return CliRunner().invoke(cli_app, list(args), env=values, catch_exceptions=False)


def last_line(result: Result) -> str:
    lines = result.stdout.rstrip("\n").splitlines()
    assert lines, f"no output; stderr: {result.stderr}"
    return lines[-1]


def query_app(
    database_url: str,
    tmp_path: Path,
    query: str,
    *,
    key: str | None = None,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One GraphQL request to a freshly started app on ``database_url``."""

    async def run() -> dict[str, Any]:
        application = create_app(make_settings(database_url, tmp_path))
        async with LifespanManager(application) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                headers = {"Authorization": f"Bearer {key}"} if key else {}
                body: dict[str, Any] = {"query": query, "variables": variables or {}}
                response = await client.post("/graphql", json=body, headers=headers)
                payload: dict[str, Any] = response.json()
                return payload

    return asyncio.run(run())


def error_codes(payload: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in payload.get("errors") or []]


def process_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """The test process's environment without any EXCHANGE_ setting of its own."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("EXCHANGE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["EXCHANGE_MAIL_DIR"] = str(tmp_path / "mail-out")
    env.update(values)
    return env


def cli_process(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def in_database(database_url: str, tmp_path: Path, work: Any) -> Any:
    """``work()`` awaited with the ORM on ``database_url`` (what a command left there, read back)."""

    async def run() -> Any:
        await db.init_db(make_settings(database_url, tmp_path), global_fallback=False)
        try:
            return await work()
        finally:
            await db.close_db()

    return asyncio.run(run())
