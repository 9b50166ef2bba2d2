"""A soak test of the public API: mixed reads and writes through every protection layer
(limits, cost, rate limits, idempotency), watching for server errors and memory growth.

    python -m bench.load_test [--duration 60] [--connections 50] [--database-url URL]

It starts its own server (uvicorn, 127.0.0.1, a free port) on a fresh migrated database
with the demo data (SQLite in a temporary directory unless --database-url is given), runs
``--connections`` closed request loops for ``--warmup`` + ``--duration`` seconds — mostly pages of
exchanges, some other reads, some mutations with an organisation key (createExchange,
registerVolunteer, half of them with an Idempotency-Key and a retry) — samples the server's
RSS every second after the warm-up, stops the server, and prints the counts and the memory
figures.

Exit status 1 when a response was 5xx (or a connection failed), or when the average RSS of
the last 10 s exceeds that of the first 10 s by more than ``--max-growth`` (default 10 %).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.servers import free_port

ROOT = Path(__file__).resolve().parents[1]

EXCHANGES_PAGE = """query ExchangesPage($first: Int, $after: String) {
  exchanges(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id slug title status startsOn city host { name } partners { name } sessions { title startsAt } } }
  }
}"""
ORGANISATIONS = "query Orgs { organisations(first: 20) { edges { node { id slug name kind } } } }"
CREATE_EXCHANGE = """mutation CreateExchange($input: CreateExchangeInput!) {
  createExchange(input: $input) { exchange { id slug } userErrors { field code } }
}"""
REGISTER_VOLUNTEER = """mutation RegisterVolunteer($input: RegisterVolunteerInput!) {
  registerVolunteer(input: $input) { volunteer { id } userErrors { field code } }
}"""


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


async def prepare_database(url: str) -> tuple[str, str]:
    """Migrate, load the demo data; returns (organisation key, admin key)."""
    from exchange import db, demo
    from exchange.settings import Settings

    await db.init_db(Settings(_env_file=None, database_url=url), global_fallback=False)  # type: ignore[call-arg]
    try:
        await db.migrate()
        if await db.has_data():
            raise SystemExit(
                "the database already has data: give an empty one (or none: SQLite in a temp dir)"
            )
        result = await demo.load()
    finally:
        await db.close_db()
    return result.organisation_key, result.admin_key


@contextlib.contextmanager
def server(database_url: str, log_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("EXCHANGE_")}
    env.update(
        {
            "EXCHANGE_DATABASE_URL": database_url,
            "EXCHANGE_RUN_MAIL_DISPATCHER": "false",
            "EXCHANGE_PUBLIC_URL": "https://exchange.test",
            "EXCHANGE_RATE_LIMIT_POINTS": "1000000000",
            "EXCHANGE_LOG_LEVEL": "WARNING",
        }
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "exchange.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--no-access-log"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server exited ({process.returncode}); see {log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"the server did not become ready in 60 s; see {log_path}")
            time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Tally:
    by_kind: collections.Counter[str] = field(default_factory=collections.Counter)
    by_status: collections.Counter[int] = field(default_factory=collections.Counter)
    error_codes: collections.Counter[str] = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def record(self, kind: str, response: httpx.Response, elapsed: float) -> None:
        self.by_kind[kind] += 1
        self.by_status[response.status_code] += 1
        self.latencies.append(elapsed)
        if response.status_code >= 500:
            self.failures.append(f"{kind}: HTTP {response.status_code} {response.text[:200]}")
        with contextlib.suppress(ValueError, AttributeError):
            payload = response.json()
            for error in payload.get("errors") or []:
                self.error_codes[str(error.get("extensions", {}).get("code"))] += 1
            for result in (payload.get("data") or {}).values():
                for problem in (result or {}).get("userErrors") or []:
                    self.error_codes[f"userErrors {problem.get('code')} {problem.get('field')}"] += 1


def exchange_input(rng: random.Random) -> dict[str, Any]:
    start = 10 + rng.randrange(300)
    return {
        "slug": f"load-{uuid.uuid4().hex[:12]}",
        "titles": [
            {"locale": "en", "text": "Load test exchange"},
            {"locale": "ru", "text": "Нагрузочный обмен"},
        ],
        "theme": rng.choice(["ECOLOGY", "EDUCATION", "HEALTH", "CULTURE"]),
        "country": "KZ",
        "city": "Almaty",
        "startsOn": f"2027-{1 + start // 31 % 12:02d}-{1 + start % 28:02d}",
        "endsOn": f"2027-{1 + start // 31 % 12:02d}-{1 + start % 28:02d}",
        "timeZone": "Asia/Almaty",
        "languages": ["kk", "ru"],
        "capacity": 30,
    }


def volunteer_input() -> dict[str, Any]:
    name = uuid.uuid4().hex[:10]
    return {
        "fullName": f"Volunteer {name}",
        "email": f"{name}@example.org",
        "country": "UZ",
        "languages": ["ru"],
    }


async def loop(
    number: int, client: httpx.AsyncClient, url: str, org_key: str, deadline: float, tally: Tally
) -> None:
    rng = random.Random(number)
    cursors: list[str | None] = [None]
    json_headers = {"Accept": "application/graphql-response+json"}
    writer = {**json_headers, "Authorization": f"Bearer {org_key}"}
    while time.monotonic() < deadline:
        roll = rng.random()
        retry = False
        if roll < 0.85:
            kind = "exchanges page"
            body: dict[str, Any] = {
                "query": EXCHANGES_PAGE,
                "operationName": "ExchangesPage",
                "variables": {"first": 20, "after": rng.choice(cursors)},
            }
            headers = json_headers
        elif roll < 0.93:
            kind = "organisations"
            body, headers = {"query": ORGANISATIONS, "operationName": "Orgs"}, json_headers
        elif roll < 0.97:
            kind = "createExchange"
            body = {"query": CREATE_EXCHANGE, "variables": {"input": exchange_input(rng)}}
            headers = writer
            if rng.random() < 0.5:
                headers = {**writer, "Idempotency-Key": uuid.uuid4().hex}
                retry = True
        else:
            kind = "registerVolunteer"
            body, headers = {"query": REGISTER_VOLUNTEER, "variables": {"input": volunteer_input()}}, writer
        for attempt in range(2 if retry else 1):
            started = time.monotonic()
            try:
                response = await client.post(url + "/graphql", json=body, headers=headers)
            except httpx.HTTPError as error:
                tally.failures.append(f"{kind}: {type(error).__name__}: {error}")
                break
            tally.record(kind if attempt == 0 else kind + " (retry)", response, time.monotonic() - started)
        if kind == "exchanges page" and response.status_code == 200:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                end = response.json()["data"]["exchanges"]["pageInfo"]["endCursor"]
                if end and len(cursors) < 50:
                    cursors.append(end)


async def sample_rss(pid: int, start: float, deadline: float, samples: list[tuple[float, int]]) -> None:
    """RSS once a second from ``start`` (after the warm-up), as (seconds since start, bytes)."""
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    while time.monotonic() < deadline:
        samples.append((time.monotonic() - start, rss_bytes(pid)))
        await asyncio.sleep(1.0)


async def run_load(
    url: str, pid: int, org_key: str, duration: float, connections: int, warmup: float
) -> tuple[Tally, list[tuple[float, int]]]:
    tally = Tally()
    samples: list[tuple[float, int]] = []
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        start = time.monotonic() + warmup
        deadline = start + duration
        await asyncio.gather(
            sample_rss(pid, start, deadline, samples),
            *[loop(number, client, url, org_key, deadline, tally) for number in range(connections)],
        )
    return tally, samples


def average(values: list[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def report(
    tally: Tally, samples: list[tuple[float, int]], duration: float, max_growth: float, measured: float
) -> int:
    total = sum(tally.by_kind.values())
    print(f"requests: {total} in {duration:.0f} s ({total / duration:.0f}/s)")
    for kind, count in sorted(tally.by_kind.items()):
        print(f"  {kind}: {count}")
    print("statuses: " + ", ".join(f"{status}: {count}" for status, count in sorted(tally.by_status.items())))
    if tally.error_codes:
        print(
            "GraphQL error codes: " + ", ".join(f"{code}: {n}" for code, n in tally.error_codes.most_common())
        )
    if tally.latencies:
        ordered = sorted(tally.latencies)
        p50, p99 = ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(f"latency: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms")
    server_errors = sum(count for status, count in tally.by_status.items() if status >= 500)
    print(f"5xx responses: {server_errors}; connection failures: {len(tally.failures) - server_errors}")
    for failure in tally.failures[:10]:
        print("  " + failure)
    first = [rss for at, rss in samples if at < 10]
    last = [rss for at, rss in samples if at >= measured - 10]
    first_avg, last_avg = average(first), average(last)
    ratio = last_avg / first_avg if first_avg else float("nan")
    print(
        f"server RSS after the warm-up: first 10 s {first_avg / 2**20:.1f} MiB, last 10 s {last_avg / 2**20:.1f} MiB, "
        f"ratio {ratio:.3f} ({len(samples)} samples)"
    )
    timeline = [f"{at:.0f}s {rss / 2**20:.1f}" for at, rss in samples[::10]]
    print("RSS every 10 s (MiB): " + ", ".join(timeline))
    ok = not tally.failures and ratio <= 1 + max_growth
    print("result: " + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_test", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of measured load (default 60)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=10.0,
        help="seconds of load before measuring (default 10: caches fill)",
    )
    parser.add_argument("--connections", type=int, default=50, help="concurrent request loops (default 50)")
    parser.add_argument("--database-url", help="an EMPTY database to use (default: SQLite in a temp dir)")
    parser.add_argument(
        "--max-growth", type=float, default=0.10, help="allowed RSS growth, last vs first 10 s"
    )
    args = parser.parse_args(argv)
    if args.duration < 20:
        parser.error("--duration must be at least 20 s (two 10 s windows)")

    with tempfile.TemporaryDirectory(prefix="exchange-load-") as tmp:
        database_url = args.database_url or f"sqlite://{Path(tmp) / 'load.sqlite3'}"
        org_key, _admin_key = asyncio.run(prepare_database(database_url))
        log_path = Path(tmp) / "server.log"
        with server(database_url, log_path) as (url, process):
            print(
                f"server {url} (pid {process.pid}); {args.connections} connections, "
                f"{args.warmup:.0f} s warm-up + {args.duration:.0f} s measured"
            )
            tally, samples = asyncio.run(
                run_load(url, process.pid, org_key, args.duration, args.connections, args.warmup)
            )
        status = report(tally, samples, args.duration + args.warmup, args.max_growth, args.duration)
        if status:
            tail = log_path.read_text(errors="replace").splitlines()[-20:]
            print("server log (last lines):\n" + "\n".join(tail))
        return status


if __name__ == "__main__":
    sys.exit(main())
