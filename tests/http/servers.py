"""Real uvicorn servers in subprocesses, for what an in-process client cannot show
(several processes sharing Redis, the audit suite over a socket)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def uvicorn_server(env: dict[str, str], log_path: Path, *, port: int | None = None) -> Iterator[str]:
    """A server on 127.0.0.1 with EXCHANGE_* settings from ``env``; yields its base URL."""
    port = port or free_port()
    full_env = {key: value for key, value in os.environ.items() if not key.startswith("EXCHANGE_")}
    full_env.update({"EXCHANGE_RUN_MAIL_DISPATCHER": "false", "EXCHANGE_PUBLIC_URL": "https://exchange.test"})
    full_env.update(env)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "exchange.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited ({process.returncode}); see {log_path}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start in 30 s; see {log_path}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def issue_admin_key(database_url: str) -> str:
    """An admin key in ``database_url`` (before a server starts on it)."""
    import asyncio

    from exchange import access, db
    from exchange.models import ApiKeyRole
    from exchange.settings import Settings

    async def issue() -> str:
        await db.init_db(Settings(_env_file=None, database_url=database_url), global_fallback=False)  # type: ignore[call-arg]
        try:
            return (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
        finally:
            await db.close_db()

    return asyncio.run(issue())
