"""Starting the three servers under test as separate processes, the way production would,
and reading their CPU time and peak memory from /proc."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def ours_root() -> Path:
    """Where our server's code is taken from: this checkout, or BENCH_OURS_ROOT (another
    checkout of the project, e.g. ``git worktree add /tmp/before <commit>``) to measure an
    earlier version with the same bench, data set and baselines."""
    return Path(os.environ.get("BENCH_OURS_ROOT") or ROOT)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _has_serve_command() -> bool:
    cli = ours_root() / "exchange" / "cli.py"
    return cli.exists() and "def serve(" in cli.read_text(encoding="utf-8")


@dataclass(frozen=True)
class ServerKind:
    """A server under test: ``base`` says which code (ours or a baseline); a variant of ours
    (``python -m bench run --variant``) adds environment settings or runs under the uvicorn
    command line with its own flags instead of ``exchange serve``."""

    name: str
    base: str  # "ours" | "asyncpg" | "naive" | "preloaded" (bench.preloaded) | "bare" (bench.bare)
    description: str
    env: tuple[tuple[str, str], ...] = ()
    uvicorn_flags: tuple[str, ...] | None = None

    def argv(self, port: int) -> list[str]:
        if self.base == "ours" and self.uvicorn_flags is None and _has_serve_command():
            return [sys.executable, "-m", "exchange.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        factory = {
            "ours": "exchange.app:create_app",
            "asyncpg": "bench.baseline_asyncpg:create_app",
            "naive": "bench.baseline_naive:create_app",
            "preloaded": "bench.preloaded:create_app",
            "bare": "bench.bare:create_app",
        }[self.base]
        common = [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1"]
        common += ["--port", str(port), "--workers", "1", "--log-level", "warning"]
        if self.uvicorn_flags is not None:
            return [*common, *self.uvicorn_flags]
        return [*common, "--loop", "uvloop", "--http", "httptools", "--no-access-log"]

    def how(self) -> str:
        settings = " ".join(f"{k}={v}" for k, v in self.env)
        if self.base == "ours" and self.uvicorn_flags is None and _has_serve_command():
            how = "exchange serve (uvicorn, 1 worker, uvloop + httptools auto-selected)"
        elif self.uvicorn_flags is not None:
            how = "uvicorn --factory --workers 1 " + " ".join(self.uvicorn_flags)
        else:
            how = "uvicorn --factory --workers 1 --loop uvloop --http httptools --no-access-log"
        return how + (f"; {settings}" if settings else "")

    @property
    def is_ours(self) -> bool:
        return self.base == "ours"


OURS = ServerKind("ours", "ours", "this server (Strawberry + Tortoise + the compiled plan)")
ASYNCPG = ServerKind("asyncpg", "asyncpg", "fair baseline: Starlette + asyncpg, hand-written SQL")
NAIVE = ServerKind("naive", "naive", "baseline: naive Strawberry + Tortoise, no loaders")
KINDS = (OURS, ASYNCPG, NAIVE)


def variant(name: str, settings: list[str]) -> ServerKind:
    """``--variant NAME KEY=VALUE ...``: ours with these environment settings; the key
    ``uvicorn`` takes flags for the uvicorn command line (``"uvicorn=--loop asyncio --http h11"``),
    which then starts ours instead of ``exchange serve``."""
    env: list[tuple[str, str]] = []
    flags: tuple[str, ...] | None = None
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"variant {name}: {item!r} is not KEY=VALUE")
        if key == "uvicorn":
            flags = tuple(value.split())
        else:
            env.append((key, value))
    return ServerKind(name, "ours", f"ours, variant {name}", tuple(env), flags)


def server_env(database_url: str, page_size_cap: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Production mode with what production refuses to start without, filled with harmless
    values: no mail is sent (the dispatcher does not run), nothing is rate limited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env.update(
        {
            "EXCHANGE_MODE": "production",
            "EXCHANGE_DATABASE_URL": database_url,
            "EXCHANGE_PAGE_SIZE_CAP": str(page_size_cap),
            "EXCHANGE_SECRET_KEY": secrets.token_urlsafe(48),
            "EXCHANGE_PUBLIC_URL": "https://bench.exchange.invalid",
            "EXCHANGE_SMTP_HOST": "127.0.0.1",
            "EXCHANGE_RUN_MAIL_DISPATCHER": "false",
            "EXCHANGE_RUN_WEBHOOK_WORKER": "false",
            "EXCHANGE_EXPIRY_SWEEP_SECONDS": "86400",
            "EXCHANGE_LOG_LEVEL": "WARNING",
            "EXCHANGE_RATE_LIMIT_POINTS": "1000000000",
            "EXCHANGE_REDIS_URL": "",
            "BENCH_DATABASE_URL": database_url,
            "PYTHONPATH": str(ROOT),
        }
    )
    # Perf knobs (gc, pool sizes) may be passed through from the bench's own environment.
    for key, value in os.environ.items():
        if key.startswith("BENCH_SERVER_"):
            env["EXCHANGE_" + key[len("BENCH_SERVER_") :]] = value
    env.update(extra or {})
    return {k: v for k, v in env.items() if v != "" or not k.startswith("EXCHANGE_")}


@dataclass
class Server:
    kind: ServerKind
    port: int
    process: asyncio.subprocess.Process
    log_path: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # utime, stime are fields 14 and 15 of the whole line (1-based); after ")" they are 12, 13.
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def cpu_split(self) -> tuple[float, float]:
        """(user, system) CPU seconds so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS

    def reset_peak(self) -> bool:
        """Restart the peak RSS (VmHWM) from the current RSS (Linux >= 4.0), so that a later
        reading is the peak of what ran in between. False when the kernel refuses."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def memory_kb(self) -> dict[str, int]:
        values = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:")):
                name, value = line.split(":", 1)
                values[name] = int(value.split()[0])
        return values

    async def wait_idle(self, *, quiet: float = 0.3, limit: float = 120.0) -> None:
        """Until the process used under 5% of a core over ``quiet`` seconds (or ``limit``); at
        least one clock tick is allowed (a short ``quiet`` would otherwise ask for none)."""
        deadline = time.monotonic() + limit
        allowed = max(0.05 * quiet, 1.5 / CLOCK_TICKS)
        previous = self.cpu_seconds()
        while time.monotonic() < deadline:
            await asyncio.sleep(quiet)
            current = self.cpu_seconds()
            if current - previous < allowed:
                return
            previous = current

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()


async def start(
    kind: ServerKind,
    env: dict[str, str],
    log_dir: Path,
    *,
    ready_timeout: float = 60.0,
    wrapper: Sequence[str] = (),
) -> Server:
    """The server started and answering /healthz; ``wrapper`` runs it under another program
    in the same process (``valgrind --tool=callgrind ...``: bench.simulated)."""
    port = free_port()
    log_path = log_dir / f"{kind.name}-{port}.log"
    handle = log_path.open("wb")
    try:
        process = await asyncio.create_subprocess_exec(
            *wrapper,
            *kind.argv(port),
            cwd=str(ours_root() if kind.is_ours else ROOT),
            env={**env, **dict(kind.env), "PYTHONPATH": str(ours_root())} if kind.is_ours else env,
            stdout=handle,
            stderr=asyncio.subprocess.STDOUT,
        )
    finally:
        handle.close()
    server = Server(kind, port, process, log_path)
    deadline = time.monotonic() + ready_timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"{kind.name} server exited ({process.returncode}):\n{server.log_tail()}")
            try:
                response = await client.get(f"http://127.0.0.1:{port}/healthz")
                if response.status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                await server.stop()
                raise RuntimeError(
                    f"{kind.name} server not ready after {ready_timeout} s:\n{server.log_tail()}"
                )
            await asyncio.sleep(0.1)


async def start_all(wanted: list[tuple[ServerKind, dict[str, str]]], log_dir: Path) -> list[Server]:
    """The servers started at once (each spends seconds importing, mostly waiting on the
    disk); if one fails, the others are stopped and its error raised."""
    started = await asyncio.gather(
        *(start(kind, env, log_dir) for kind, env in wanted), return_exceptions=True
    )
    up = [result for result in started if isinstance(result, Server)]
    failed = [result for result in started if isinstance(result, BaseException)]
    if failed:
        await stop_all(up)
        raise failed[0]
    return up


async def stop_all(up: list[Server]) -> None:
    await asyncio.gather(*(server.stop() for server in up))
