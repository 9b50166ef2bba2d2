"""The benchmark run: data sets, servers, JSON equality checks, statement counts, load.

1. *data*: the data set (``datagen.FULL``, or ``SMOKE``) and, when a scenario asks for it, the
   same at 5x (``page20@x5``), each in its own database, kept for the next run with
   ``--reuse-db``;
2. *check and count*: a data set's servers are started at once, each with its database URL
   pointing at its own counting proxy (bench.pgwire); then, one server at a time, the scenario
   documents are sent one at a time, the JSON compared with ours, and the statements
   PostgreSQL received per request counted at the wire;
3. *load*, in alternating windows: every server is started again on the direct database URL
   and stays up; each round runs, per scenario, a window on ours, then the fair baseline, then
   the naive one (and any ``--variant`` of ours), so that the shared machine's noise falls on
   all of them alike. Per window: a short warm-up, then a load generator process (wrk, else
   bench.loadgen) keeps N connections busy; the server's CPU time (/proc/PID/stat, user and
   system), PostgreSQL's (bench.database_cpu) and the server's peak RSS (VmHWM, restarted
   before the window) are read around it.

Only ratios between windows of the same round are compared (ours / fair baseline): the
report gives their min, median and max over the rounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from bench import datagen, load, servers
from bench.database_cpu import postgres_cpu_seconds
from bench.pgwire import CountingProxy

QUERIES = Path(__file__).with_name("queries.graphql")

PAGE_SIZES = (10, 20, 50, 100)
# The scenarios measured by default; "@x5" is the same on five times the data.
DEFAULT_SCENARIOS = ("page10", "page20", "page50", "page100", "large", "node", "page20@x5", "page100@x5")
# --smoke's: every path once (page sizes, both data sets, all three documents), kept short.
SMOKE_SCENARIOS = ("page10", "page20", "large", "node", "page20@x5")
ALIASES = {"1": "page20", "2": "large", "3": "node"}  # the numbers of sessions 1 to 3


@dataclass(frozen=True)
class Pace:
    """The pauses around what is measured and counted. The defaults are the full run's; --smoke
    shortens them (SMOKE_PACE): its numbers are not read, only the run's shape."""

    quiet: float = 0.3  # a server is idle after this long under 5% of a core (Server.wait_idle)
    settle: float = 0.2  # before and after the counted requests, for the proxy's trailing statements
    repeats: int = 3  # requests counted per document (statements are per request: any count shows them)
    alone: int = 3  # single requests timed alone (after one untimed), median taken
    min_warmup: float = 0.2  # the python generator needs a warm-up to mark the window's start


SMOKE_PACE = Pace(quiet=0.1, settle=0.05, repeats=1, alone=1, min_warmup=0.05)


def operations(path: Path = QUERIES) -> dict[str, str]:
    """Operation name -> the text of that operation alone."""
    text = path.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for match in re.finditer(r"^query (\w+)[^\n]*\n(?:(?!^#|^query ).*\n?)*", text, re.M):
        found[match.group(1)] = match.group(0).strip() + "\n"
    return found


@dataclass
class Scenario:
    key: str
    title: str
    operation: str
    bodies: list[dict[str, Any]]
    scale: int = 1
    large: bool = False  # measured with --large-connections

    @property
    def is_page(self) -> bool:
        return self.operation == "ExchangesPage"


def scenario_names(keys: list[str] | None, smoke: bool = False) -> list[str]:
    """The scenario keys asked for, aliases resolved, in the order given, each once."""
    names: list[str] = []
    for key in keys or (SMOKE_SCENARIOS if smoke else DEFAULT_SCENARIOS):
        base, _, scale = key.partition("@")
        base = ALIASES.get(base, base)
        name = base + (f"@{scale}" if scale else "")
        if name not in names:
            names.append(name)
    return names


def scenario(key: str, spec: datagen.Spec, seed: int = 7) -> Scenario:
    """``page10`` .. ``page100`` (ExchangesPage with that ``first``), ``large``, ``node``, each
    optionally ``@x5`` (on the data set five times as large)."""
    base, _, scale_text = key.partition("@")
    scale = 1
    if scale_text:
        if not re.fullmatch(r"x[1-9][0-9]*", scale_text):
            raise ValueError(f"unknown data scale {scale_text!r} in {key!r} (e.g. page20@x5)")
        scale = int(scale_text[1:])
    data = datagen.scaled(spec, scale)
    docs = operations()
    suffix = f" at {scale}x data" if scale > 1 else ""
    page = re.fullmatch(r"page(\d+)", base)
    if page:
        first = int(page.group(1))
        body = {
            "query": docs["ExchangesPage"],
            "operationName": "ExchangesPage",
            "variables": {"first": first},
        }
        return Scenario(key, f"ExchangesPage (first {first}){suffix}", "ExchangesPage", [body], scale)
    if base == "large":
        body = {"query": docs["LargeResult"], "operationName": "LargeResult"}
        return Scenario(key, f"LargeResult (first 1000){suffix}", "LargeResult", [body], scale, large=True)
    if base == "node":
        rng = random.Random(seed)
        lookups = []
        for i in range(200):
            if i % 2 == 0:
                ident = datagen.gid("ExperienceExchange", rng.randint(1, data.exchanges))
            else:
                ident = datagen.gid("Volunteer", rng.randint(1, data.volunteers))
            lookups.append(
                {"query": docs["NodeLookup"], "operationName": "NodeLookup", "variables": {"id": ident}}
            )
        return Scenario(key, f"NodeLookup (random ids){suffix}", "NodeLookup", lookups, scale)
    raise ValueError(f"unknown scenario {key!r}: page<N>, large, node (or 1, 2, 3), optionally @x<scale>")


def scenarios(spec: datagen.Spec, keys: list[str] | None = None, smoke: bool = False) -> dict[str, Scenario]:
    return {key: scenario(key, spec) for key in scenario_names(keys, smoke)}


def canonical(body: bytes) -> str:
    """The response's ``data`` and ``errors`` as compact JSON, key order kept (field order
    must match too). Top-level ``extensions`` (our server reports cost and rate-limit state
    there) are metadata, not the answer: compared apart, see ``extension_keys``."""
    payload = json.loads(body)
    kept = {k: payload[k] for k in ("data", "errors") if k in payload}
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":"))


def extension_keys(body: bytes) -> list[str]:
    return sorted((json.loads(body).get("extensions") or {}).keys())


@dataclass
class Measurement:
    server: str
    scenario: str
    round: int
    connections: int = 0
    requests: int = 0
    elapsed: float = 0.0
    rps: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    failures: int = 0
    server_cpu_seconds: float = 0.0
    server_system_seconds: float = 0.0
    cpu_ms_per_request: float | None = None
    database_cpu_ms_per_request: float | None = None  # PostgreSQL's, over the same window
    peak_rss_mb: float | None = None
    generator: str = ""
    generator_cpu_seconds: float = 0.0
    single_request_ms: float | None = None
    load_average: float | None = None
    started_at: float = 0.0  # when the measured window began (time.monotonic)


@dataclass
class ServerReport:
    server: str
    how: str
    statements: dict[str, dict[str, float]] = field(default_factory=dict)  # scenario -> kind -> per request
    sample_statements: dict[str, list[str]] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)  # scenario -> "equal" | "reference" | problem
    extensions: dict[str, list[str]] = field(default_factory=dict)  # scenario -> top-level extension keys
    peak_rss_mb: float | None = None  # the largest of its windows'
    measurements: list[Measurement] = field(default_factory=list)


@dataclass
class Report:
    mode: str
    spec: dict[str, int]
    connections: int
    rounds: int
    windows: dict[str, float]
    scenarios: dict[str, str]  # key -> title
    databases: dict[str, str]  # scale -> "generated (rows)" | "reused"
    servers: dict[str, ServerReport] = field(default_factory=dict)
    load_averages: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    targets: list[tuple[str, bool, str]] = field(default_factory=list)
    started: str = ""
    minutes: float = 0.0
    code: str = ""  # our server's checkout when the measured servers started (see code_state)


def code_state(root: Path) -> str:
    """HEAD and the files changed in the working tree of our server's checkout: a shared
    checkout can change under a run (each server imports the code when it starts)."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("diff", "HEAD", "--name-only").splitlines()  # the work tree against HEAD
    code = [path for path in changed if path.startswith(("schema/", "exchange/"))]
    if not changed:
        return f"HEAD {head}, clean"
    return f"HEAD {head}, {len(changed)} files changed in the working tree" + (
        f" (code: {', '.join(code[:8])}{' ...' if len(code) > 8 else ''})" if code else " (no code)"
    )


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def _post(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> bytes:
    response = await client.post(url, json=body)
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:500]}")
    return response.content


async def check_and_count(
    server: servers.Server,
    proxy: CountingProxy,
    checked: list[Scenario],
    reference: dict[str, list[str]],
    report: ServerReport,
    pace: Pace,
) -> None:
    kind = server.kind
    async with httpx.AsyncClient(timeout=300.0) as client:
        for scenario in checked:
            key = scenario.key
            sample = scenario.bodies[:20] if len(scenario.bodies) > 1 else scenario.bodies[:1]
            raw = [await _post(client, server.url, body) for body in sample]
            bodies = [canonical(r) for r in raw]
            report.extensions[key] = extension_keys(raw[0])
            if "errors" in json.loads(bodies[0]):
                report.checks[key] = "ERRORS: " + bodies[0][:600]
            elif kind.name == "ours":
                reference[key] = bodies
                report.checks[key] = "reference"
            elif key in reference:
                pairs = zip(bodies, reference[key], strict=True)
                mismatch = next((i for i, (a, b) in enumerate(pairs) if a != b), None)
                report.checks[key] = (
                    "equal" if mismatch is None else _difference(reference[key][mismatch], bodies[mismatch])
                )
            # Counting: the requests above warmed the pool; now count `pace.repeats` more.
            count_bodies = (sample * pace.repeats)[: max(pace.repeats, len(sample))]
            await asyncio.sleep(pace.settle)
            proxy.log.reset()
            for body in count_bodies:
                await _post(client, server.url, body)
            await asyncio.sleep(pace.settle)
            counts = proxy.log.counts()
            report.statements[key] = {
                k: counts.get(k, 0) / len(count_bodies) for k in ("data", "transaction", "driver")
            }
            report.sample_statements[key] = proxy.log.data_statements()[:12]


async def check_scale(
    url: str,
    planned: list[tuple[servers.ServerKind, list[Scenario]]],
    reference: dict[str, list[str]],
    report: Report,
    log_dir: Path,
    pace: Pace,
) -> None:
    """The servers of one data set, each behind its own counting proxy (so each count is its
    own), started at once, then checked one at a time, ours first: its JSON is the reference."""
    parsed = urlparse(url)
    env = servers.server_env(url, page_size_cap=1000)
    async with contextlib.AsyncExitStack() as stack:
        proxies = [
            await stack.enter_async_context(
                CountingProxy(parsed.hostname or "127.0.0.1", parsed.port or 5432)
            )
            for _ in planned
        ]
        wanted = []
        for (kind, _checked), proxy in zip(planned, proxies, strict=True):
            proxied = proxy.url_for(url)
            wanted.append((kind, {**env, "EXCHANGE_DATABASE_URL": proxied, "BENCH_DATABASE_URL": proxied}))
        started = await servers.start_all(wanted, log_dir)
        stack.push_async_callback(servers.stop_all, started)  # before the proxies close
        for (kind, checked), proxy, server in zip(planned, proxies, started, strict=True):
            await check_and_count(server, proxy, checked, reference, report.servers[kind.name], pace)


def _difference(expected: str, actual: str) -> str:
    at = next(
        (i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b),
        min(len(expected), len(actual)),
    )
    lo = max(0, at - 120)
    return f"DIFFERENT at char {at}: ours …{expected[lo : at + 120]}… vs …{actual[lo : at + 120]}…"


async def window(
    server: servers.Server,
    scenario: Scenario,
    round_number: int,
    *,
    connections: int,
    duration: float,
    warmup: float,
    generator: str,
    alone: bool,
    pace: Pace,
) -> Measurement:
    """One measured window: (with ``alone``, single requests alone: the median of
    ``pace.alone`` after one untimed), a short load warm-up, then the window; the server is
    idle before and after."""
    single = None
    async with httpx.AsyncClient(timeout=300.0) as client:
        await server.wait_idle(quiet=pace.quiet)
        if alone:
            await _post(client, server.url, scenario.bodies[0])
            times = []
            for _ in range(pace.alone):
                started = time.perf_counter()
                await _post(client, server.url, scenario.bodies[0])
                times.append(time.perf_counter() - started)
            single = statistics.median(times) * 1000
    steady = generator != "wrk"
    readings: dict[str, tuple[float, float, float]] = {}
    database: dict[str, float | None] = {}

    def mark(name: str) -> None:
        if name == "MEASURE":
            readings["reset"] = (float(server.reset_peak()), 0.0, 0.0)
        readings[name] = (*server.cpu_split(), time.monotonic())
        database[name] = postgres_cpu_seconds()

    if steady:
        # One load process, warm-up then window without a pause: the CPU time between its
        # MEASURE and END marks over the requests completed between them (in a steady state
        # the requests in flight at either end cancel out).
        result = await load.run_load(
            server.url,
            scenario.bodies,
            connections=connections,
            duration=duration,
            generator="python",
            warmup=max(warmup, pace.min_warmup),
            marks=mark,
        )
        await server.wait_idle(quiet=pace.quiet)
        served = result.requests
    else:
        # wrk: a warm-up run, then the window from idle to idle; the requests still in flight
        # when wrk stops (one per connection) are finished by the server and counted too.
        if warmup > 0:
            await load.run_load(
                server.url, scenario.bodies, connections=connections, duration=warmup, generator=generator
            )
        await server.wait_idle(quiet=pace.quiet)
        mark("MEASURE")
        result = await load.run_load(
            server.url, scenario.bodies, connections=connections, duration=duration, generator=generator
        )
        await server.wait_idle(quiet=pace.quiet)
        mark("END")
        served = result.requests + connections
    if "MEASURE" not in readings or "END" not in readings:
        raise RuntimeError(f"{server.kind.name} {scenario.key}: the load generator gave no marks")
    user_before, system_before, started_at = readings["MEASURE"]
    user_after, system_after, _ = readings["END"]
    cpu = user_after - user_before + system_after - system_before
    rss_reset = bool(readings["reset"][0])
    database_before, database_after = database.get("MEASURE"), database.get("END")
    database_cpu = (
        None if database_before is None or database_after is None else database_after - database_before
    )
    peak = server.memory_kb().get("VmHWM", 0) / 1024
    return Measurement(
        server=server.kind.name,
        scenario=scenario.key,
        round=round_number,
        connections=connections,
        requests=result.requests,
        elapsed=result.elapsed,
        rps=result.rps,
        p50_ms=None if result.p50 is None else result.p50 * 1000,
        p99_ms=None if result.p99 is None else result.p99 * 1000,
        max_ms=None if result.max is None else result.max * 1000,
        failures=result.failures,
        server_cpu_seconds=cpu,
        server_system_seconds=system_after - system_before,
        cpu_ms_per_request=cpu / served * 1000 if served else None,
        database_cpu_ms_per_request=(
            database_cpu / served * 1000 if served and database_cpu is not None else None
        ),
        peak_rss_mb=peak if rss_reset else None,
        generator=result.generator,
        generator_cpu_seconds=result.generator_cpu_seconds,
        single_request_ms=single,
        load_average=float(load_average().split()[0]),
        started_at=started_at,
    )


# ---------------------------------------------------------------- ratios and targets


def _windows(report: Report, server: str, key: str) -> dict[int, Measurement]:
    found = report.servers.get(server)
    if found is None:
        return {}
    return {m.round: m for m in found.measurements if m.scenario == key}


def _server_and_database(measured: Measurement) -> float | None:
    """The server's CPU per request plus PostgreSQL's (what the shared cores pay for it)."""
    if measured.cpu_ms_per_request is None or measured.database_cpu_ms_per_request is None:
        return None
    return measured.cpu_ms_per_request + measured.database_cpu_ms_per_request


def _per_round(
    report: Report, server: str, against: str, key: str, figure: str | Callable[[Measurement], float | None]
) -> list[float]:
    """Per round in which both were measured and both have the figure (a field of
    Measurement, or a function of one): ``server``'s over ``against``'s."""
    read = figure if callable(figure) else attrgetter(figure)
    mine, theirs = _windows(report, server, key), _windows(report, against, key)
    found = []
    for round_number in sorted(set(mine) & set(theirs)):
        a, b = read(mine[round_number]), read(theirs[round_number])
        if a and b:
            found.append(a / b)
    return found


def ratios(report: Report, server: str, against: str, key: str) -> tuple[list[float], list[float]]:
    """Per round in which both were measured: throughput ``server / against`` and CPU per
    request ``server / against``."""
    return (
        _per_round(report, server, against, key, "rps"),
        _per_round(report, server, against, key, "cpu_ms_per_request"),
    )


def total_cpu_ratios(report: Report, server: str, against: str, key: str) -> list[float]:
    """Per round in which both have both figures: ``server``'s CPU per request, its own plus
    PostgreSQL's, over ``against``'s."""
    return _per_round(report, server, against, key, _server_and_database)


def alone_ratios(report: Report, server: str, against: str, key: str) -> list[float]:
    """Per round, ``server``'s time for a request alone over ``against``'s (each the median of
    ``Pace.alone`` requests after one untimed, timed just before the round's window)."""
    return _per_round(report, server, against, key, "single_request_ms")


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    if not values:
        return "-"
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{fmt.format(low)} / **{fmt.format(mid)}** / {fmt.format(high)}"


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _peak(report: Report, server: str, key: str) -> float | None:
    peaks = [m.peak_rss_mb for m in _windows(report, server, key).values() if m.peak_rss_mb is not None]
    return max(peaks) if peaks else None


def evaluate(report: Report) -> None:
    """Issue 14's targets, judged on the medians of the same-round ratios."""
    keys = list(report.scenarios)
    ours = report.servers.get("ours")
    fair = report.servers.get("asyncpg")
    for key in keys:
        throughput, cpu = ratios(report, "ours", "asyncpg", key)
        if not throughput:
            continue
        mid_t, mid_c = statistics.median(throughput), statistics.median(cpu)
        if key.startswith("page"):
            report.targets.append(
                (f"{key}: >= 0.90 of the fair baseline's throughput", mid_t >= 0.90, f"{mid_t:.2f}")
            )
            report.targets.append((f"{key}: <= 1.25x its CPU per request", mid_c <= 1.25, f"{mid_c:.2f}x"))
        elif key.startswith("large"):
            alone = alone_ratios(report, "ours", "asyncpg", key)
            if alone:
                mid_a = statistics.median(alone)
                report.targets.append(
                    (
                        f"{key}: within 1.25x of the fair baseline's time (alone)",
                        mid_a <= 1.25,
                        f"{mid_a:.2f}x (rounds {spread(alone)})",
                    )
                )
            report.targets.append((f"{key}: <= 1.25x its CPU per request", mid_c <= 1.25, f"{mid_c:.2f}x"))
    if ours and fair:
        pages = [k for k in keys if k.startswith("page") and k in ours.statements and k in fair.statements]
        for key in pages:
            mine, theirs = ours.statements[key]["data"], fair.statements[key]["data"]
            report.targets.append(
                (
                    f"{key}: data statements <= the fair baseline's + 1",
                    mine <= theirs + 1,
                    f"{mine:g} vs {theirs:g}",
                )
            )
        counts = {ours.statements[k]["data"] for k in pages}
        if len(pages) > 1:
            report.targets.append(
                (
                    "data statements constant in the page size",
                    len(counts) == 1,
                    ", ".join(f"{c:g}" for c in sorted(counts)),
                )
            )
    for server in report.servers.values():
        if server.peak_rss_mb is not None and server.server in ("ours", "asyncpg"):
            report.targets.append(
                (
                    f"{server.server}: peak RSS under 200 MB in every scenario",
                    server.peak_rss_mb < 200,
                    f"{server.peak_rss_mb:.0f} MB",
                )
            )


# ---------------------------------------------------------------- the report


def _statements(report: Report, server: str, key: str) -> str:
    found = report.servers.get(server)
    counts = found.statements.get(key) if found else None
    if not counts:
        return "-"
    text = f"{counts['data']:g}"
    if counts["driver"] or counts["transaction"]:
        text += f"+{counts['driver'] + counts['transaction']:g}"
    return text


def _fmt(value: float | None, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def render(report: Report) -> str:
    """Plain text around Markdown tables that can be pasted into bench/RESULTS.md."""
    generators = sorted({m.generator for s in report.servers.values() for m in s.measurements})
    lines = [
        f"Benchmark ({report.mode}), started {report.started}, {report.minutes:.1f} min; data set {report.spec}",
        f"databases: {report.databases}",
        f"ours' code when the measured servers started: {report.code or '-'}",
        f"{report.connections} connections (LargeResult and naive: {report.windows.get('large_connections', 0):g}); "
        f"{report.rounds} rounds of alternating windows of {report.windows['window']:g} s "
        f"(naive {report.windows['naive']:g} s), warm-up {report.windows['warmup']:g} s; "
        f"load generator: {', '.join(generators) or '-'}",
        "load average (1/5/15 min) at the start and after each round: " + " | ".join(report.load_averages),
        "",
        "Medians over the rounds; ratios are ours / fair baseline per round: min / **median** / max. "
        "Statements per request: data (+ driver and transaction control).",
        "",
        "| scenario | ours req/s | ours CPU ms/req | fair req/s | fair CPU ms/req | throughput ratio | "
        "CPU ratio | statements ours / fair | peak RSS ours / fair MB | alone ms ours / fair |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, title in report.scenarios.items():
        ours, fair = _windows(report, "ours", key), _windows(report, "asyncpg", key)
        if not ours:
            continue
        throughput, cpu = ratios(report, "ours", "asyncpg", key)
        alone_ours = _median([m.single_request_ms for m in ours.values()])
        alone_fair = _median([m.single_request_ms for m in fair.values()])
        lines.append(
            f"| {title} | {_fmt(_median([m.rps for m in ours.values()]))} "
            f"| {_fmt(_median([m.cpu_ms_per_request for m in ours.values()]), '{:.2f}')} "
            f"| {_fmt(_median([m.rps for m in fair.values()]))} "
            f"| {_fmt(_median([m.cpu_ms_per_request for m in fair.values()]), '{:.2f}')} "
            f"| {spread(throughput)} | {spread(cpu)} "
            f"| {_statements(report, 'ours', key)} / {_statements(report, 'asyncpg', key)} "
            f"| {_fmt(_peak(report, 'ours', key), '{:.0f}')} / {_fmt(_peak(report, 'asyncpg', key), '{:.0f}')} "
            f"| {_fmt(alone_ours)} / {_fmt(alone_fair)} |"
        )
    database_lines = []
    for key, title in report.scenarios.items():
        ours, fair = _windows(report, "ours", key), _windows(report, "asyncpg", key)
        database_ours = _median([m.database_cpu_ms_per_request for m in ours.values()])
        if database_ours is None:
            continue
        database_lines.append(
            f"| {title} | {_fmt(database_ours, '{:.2f}')} "
            f"| {_fmt(_median([m.database_cpu_ms_per_request for m in fair.values()]), '{:.2f}')} "
            f"| {spread(_per_round(report, 'ours', 'asyncpg', key, 'database_cpu_ms_per_request'))} "
            f"| {spread(total_cpu_ratios(report, 'ours', 'asyncpg', key))} |"
        )
    if database_lines:
        lines += [
            "",
            "PostgreSQL's CPU over the same windows, per request (bench.database_cpu), and the ratio of "
            "the two together (server + PostgreSQL), which the throughput ratio follows on shared cores.",
            "",
            "| scenario | PostgreSQL ms/req ours | fair | PostgreSQL ratio | server + PostgreSQL ratio |",
            "| --- | ---: | ---: | ---: | ---: |",
            *database_lines,
        ]
    naive = report.servers.get("naive")
    if naive and naive.measurements:
        lines += [
            "",
            "| naive baseline | req/s | CPU ms/req | ours / naive throughput | ours / naive CPU | statements | peak RSS MB |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for key in sorted({m.scenario for m in naive.measurements}, key=list(report.scenarios).index):
            windows = _windows(report, "naive", key)
            throughput, cpu = ratios(report, "ours", "naive", key)
            lines.append(
                f"| {report.scenarios[key]} | {_fmt(_median([m.rps for m in windows.values()]))} "
                f"| {_fmt(_median([m.cpu_ms_per_request for m in windows.values()]), '{:.1f}')} "
                f"| {spread(throughput)} | {spread(cpu, '{:.3f}')} | {_statements(report, 'naive', key)} "
                f"| {_fmt(_peak(report, 'naive', key), '{:.0f}')} |"
            )
    variants = [name for name in report.servers if name not in ("ours", "asyncpg", "naive")]
    if variants:
        lines += [
            "",
            "Variants of ours, each against ours (default settings) in the same round: throughput and CPU per "
            "request, min / **median** / max.",
            "",
            "| variant | scenario | req/s | CPU ms/req | throughput / ours | CPU / ours | throughput / fair | peak RSS MB |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name in variants:
            for key, title in report.scenarios.items():
                windows = _windows(report, name, key)
                if not windows:
                    continue
                vs_ours_t, vs_ours_c = ratios(report, name, "ours", key)
                vs_fair_t, _ = ratios(report, name, "asyncpg", key)
                lines.append(
                    f"| {name} | {title} | {_fmt(_median([m.rps for m in windows.values()]))} "
                    f"| {_fmt(_median([m.cpu_ms_per_request for m in windows.values()]), '{:.2f}')} "
                    f"| {spread(vs_ours_t)} | {spread(vs_ours_c)} | {spread(vs_fair_t)} "
                    f"| {_fmt(_peak(report, name, key), '{:.0f}')} |"
                )
        lines.append("")
        lines.extend(f"  {name}: {report.servers[name].how}" for name in variants)
    lines += ["", "Per round (ours / fair: throughput ratio, CPU ratio; ours' share of system CPU):"]
    for key in report.scenarios:
        throughput, cpu = ratios(report, "ours", "asyncpg", key)
        ours_windows = _windows(report, "ours", key)
        system = [
            m.server_system_seconds / m.server_cpu_seconds
            for m in ours_windows.values()
            if m.server_cpu_seconds
        ]
        if throughput:
            lines.append(
                f"  {key:12} "
                + "  ".join(f"{t:.2f}/{c:.2f}x" for t, c in zip(throughput, cpu, strict=False))
                + (f"   system {statistics.median(system):.0%}" if system else "")
            )
    lines += ["", "JSON checks (against ours):"]
    for server in report.servers.values():
        verdicts: dict[str, list[str]] = {}
        for key, verdict in server.checks.items():
            verdicts.setdefault(verdict, []).append(key)
        for verdict, keys in verdicts.items():
            lines.append(f"  {server.server:8} {', '.join(keys)}: {verdict}")
        extra = sorted({e for keys in server.extensions.values() for e in keys})
        if extra:
            lines.append(f"  {server.server:8} response extensions, not compared: {', '.join(extra)}")
    if report.targets:
        lines += ["", "Targets (issue 14):"]
        for name, ok, value in report.targets:
            lines.append(f"  [{'met' if ok else 'MISSED'}] {name}: {value}")
    if report.problems:
        lines += ["", "PROBLEMS:"]
        lines.extend(f"  {p}" for p in report.problems)
    return "\n".join(lines)


def report_json(report: Report) -> dict[str, Any]:
    return asdict(report)


# ---------------------------------------------------------------- the run


@dataclass
class _Running:
    kind: servers.ServerKind
    scale: int
    server: servers.Server


async def connection_budget(admin_url: str, servers_up: int, pool: int = 10) -> str | None:
    """A warning when the servers' pools (up to ``pool`` connections each: EXCHANGE_DB_POOL_MAX's
    default, the fair baseline's fixed size) could take more than PostgreSQL's max_connections
    leaves free: a server that cannot connect answers SERVICE_UNAVAILABLE."""
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        limit = int(await conn.fetchval("SHOW max_connections"))
        used = int(
            await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
        )
    finally:
        await conn.close()
    if servers_up * pool <= limit - used:
        return None
    return (
        f"{servers_up} servers may open {servers_up * pool} connections, PostgreSQL has {limit - used} of "
        f"{limit} free: run fewer variants at once"
    )


def _measured_by(kind: servers.ServerKind, scenario: Scenario, only: list[str] | None) -> bool:
    if only is not None and kind.base not in only and kind.name not in only:
        return False
    if kind.base == "naive":
        return scenario.key == "page20"  # hundreds of statements a page: one scenario is enough
    return True


def _checked_by(kind: servers.ServerKind, scenario: Scenario) -> bool:
    if kind.base != "naive":
        return True
    # Its N+1 takes seconds per request behind the proxy on bigger pages and data.
    page = re.fullmatch(r"page(\d+)", scenario.key)
    return scenario.scale == 1 and (page is None or int(page.group(1)) <= 20)


async def run(
    *,
    smoke: bool,
    duration: float,
    naive_duration: float,
    connections: int,
    admin_url: str,
    database: str | None,
    generator: str,
    only: list[str] | None,
    keep_db: bool,
    large_connections: int = 4,
    scenario_keys: list[str] | None = None,
    reuse_db: bool = False,
    rounds: int = 4,
    warmup: float = 1.0,
    variants: list[servers.ServerKind] | None = None,
    progress: bool = True,
) -> Report:
    began = time.monotonic()
    pace = SMOKE_PACE if smoke else Pace()
    spec = datagen.SMOKE if smoke else datagen.FULL
    base_name = database or (f"exchange_bench_smoke_{os.getpid()}" if smoke else "exchange_bench")
    chosen = scenarios(spec, scenario_keys, smoke)
    report = Report(
        mode="smoke" if smoke else "full",
        spec={k: v for k, v in asdict(spec).items() if k not in ("seed", "disjoint_organisations")},
        connections=connections,
        rounds=rounds,
        windows={
            "window": duration,
            "naive": naive_duration,
            "warmup": warmup,
            "large_connections": large_connections,
        },
        scenarios={key: s.title for key, s in chosen.items()},
        databases={},
        started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    )
    report.load_averages.append(load_average())

    def say(text: str) -> None:
        if progress:
            print(f"[bench {time.monotonic() - began:5.0f} s, load {load_average()}] {text}", flush=True)

    urls: dict[int, str] = {}
    made: list[str] = []
    for scale in sorted({s.scale for s in chosen.values()}):
        name = datagen.database_name(base_name, scale)
        scaled = datagen.scaled(spec, scale)
        if reuse_db:
            url, rows, reused = await datagen.build_or_reuse(admin_url, name, scaled)
        else:
            (url, rows), reused = await datagen.build(admin_url, name, scaled), False
        urls[scale] = url
        made.append(name)
        report.databases[f"x{scale}"] = f"{name} reused" if reused else f"{name} generated {rows}"
        say(f"data set x{scale}: {report.databases[f'x{scale}']}")

    kinds: list[servers.ServerKind] = [servers.OURS]
    for kind in (servers.ASYNCPG, servers.NAIVE):
        if only is None or kind.name in only:
            kinds.append(kind)
    kinds[1:1] = variants or []
    reference: dict[str, list[str]] = {}
    running: list[_Running] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-logs-") as tmp:
            log_dir = Path(tmp)
            # Check and count, one server at a time, each through its own counting proxy.
            broken: set[str] = set()
            for kind in kinds:
                report.servers[kind.name] = ServerReport(kind.name, kind.how())
            for scale, url in urls.items():
                planned = [
                    (kind, [s for s in chosen.values() if s.scale == scale and _checked_by(kind, s)])
                    for kind in kinds
                ]
                planned = [(kind, checked) for kind, checked in planned if checked]
                await check_scale(url, planned, reference, report, log_dir, pace)
                for kind, checked in planned:
                    bad = {
                        k: v
                        for k, v in report.servers[kind.name].checks.items()
                        if v not in ("equal", "reference") and k in {s.key for s in checked}
                    }
                    report.problems.extend(f"{kind.name} {k}: {v}" for k, v in bad.items())
                    if bad:
                        broken.add(kind.name)
                say(f"x{scale}: JSON checked and statements counted")
            # Every server measured keeps running; windows alternate between them.
            measured = [
                (kind, scale, servers.server_env(url, page_size_cap=1000))
                for scale, url in urls.items()
                for kind in kinds
                if kind.name not in broken
                and any(s.scale == scale and _measured_by(kind, s, only) for s in chosen.values())
            ]
            started = await servers.start_all([(kind, env) for kind, _scale, env in measured], log_dir)
            running.extend(
                _Running(kind, scale, up) for (kind, scale, _env), up in zip(measured, started, strict=True)
            )
            report.code = code_state(servers.ours_root())
            say(f"{len(running)} servers up; {rounds} rounds; ours: {report.code}")
            budget = await connection_budget(admin_url, len(running))
            if budget:
                report.problems.append(budget)
                say(budget)
            for round_number in range(1, rounds + 1):
                for scenario in chosen.values():
                    for entry in running:
                        if entry.scale != scenario.scale or not _measured_by(entry.kind, scenario, only):
                            continue
                        slow = scenario.large or entry.kind.base == "naive"
                        try:
                            measurement = await window(
                                entry.server,
                                scenario,
                                round_number,
                                connections=large_connections if slow else connections,
                                duration=naive_duration if entry.kind.base == "naive" else duration,
                                warmup=warmup,
                                generator=generator,
                                alone=True,
                                pace=pace,
                            )
                        except (RuntimeError, httpx.HTTPError) as exc:
                            # Reported, and the other windows still run (e.g. PostgreSQL's
                            # max_connections reached by many servers' pools: see connection_budget).
                            report.problems.append(
                                f"{entry.kind.name} {scenario.key} round {round_number}: {exc}"
                            )
                            say(f"{entry.kind.name} {scenario.key}: {str(exc)[:300]}")
                            continue
                        report.servers[entry.kind.name].measurements.append(measurement)
                        if measurement.failures:
                            report.problems.append(
                                f"{entry.kind.name} {scenario.key} round {round_number}: "
                                f"{measurement.failures} failed requests"
                            )
                        if measurement.requests == 0 and not smoke:
                            report.problems.append(
                                f"{entry.kind.name} {scenario.key} round {round_number}: no request completed"
                            )
                report.load_averages.append(load_average())
                say(f"round {round_number} done")
    finally:
        await servers.stop_all([entry.server for entry in running])
        if smoke and not keep_db:
            for name in made:
                await datagen.drop_database(admin_url, name)
    for server_report in report.servers.values():
        peaks = [m.peak_rss_mb for m in server_report.measurements if m.peak_rss_mb is not None]
        server_report.peak_rss_mb = max(peaks) if peaks else None
    report.minutes = (time.monotonic() - began) / 60
    evaluate(report)
    return report
