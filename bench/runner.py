"""The benchmark run: data set, servers, JSON equality checks, statement counts, load.

For every server (ours, then the two baselines), one after the other so they never share
the 2 cores:

1. *check and count*: the server is started with its database URL pointing at a counting
   proxy (bench.pgwire); the scenario documents are sent one at a time, the JSON compared
   with ours, and the statements PostgreSQL received per request counted at the wire;
2. *load*: the server is restarted on the direct database URL; per scenario a short warm-up,
   then a load generator process (wrk, else bench.loadgen) keeps N connections busy for the
   window; the server's CPU time (/proc/PID/stat) and peak RSS (VmHWM) are read around it.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from bench import datagen, load, servers
from bench.pgwire import CountingProxy

QUERIES = Path(__file__).with_name("queries.graphql")


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


def scenarios(spec: datagen.Spec, seed: int = 7) -> dict[str, Scenario]:
    docs = operations()
    rng = random.Random(seed)
    lookups = []
    for i in range(200):
        if i % 2 == 0:
            ident = datagen.gid("ExperienceExchange", rng.randint(1, spec.exchanges))
        else:
            ident = datagen.gid("Volunteer", rng.randint(1, spec.volunteers))
        lookups.append(
            {"query": docs["NodeLookup"], "operationName": "NodeLookup", "variables": {"id": ident}}
        )
    return {
        "1": Scenario(
            "1",
            "ExchangesPage (first 20)",
            "ExchangesPage",
            [{"query": docs["ExchangesPage"], "operationName": "ExchangesPage"}],
        ),
        "2": Scenario(
            "2",
            "LargeResult (first 1000)",
            "LargeResult",
            [{"query": docs["LargeResult"], "operationName": "LargeResult"}],
        ),
        "3": Scenario("3", "NodeLookup (random ids)", "NodeLookup", lookups),
    }


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
    connections: int = 0
    requests: int = 0
    elapsed: float = 0.0
    rps: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    failures: int = 0
    server_cpu_seconds: float = 0.0
    cpu_ms_per_request: float | None = None
    generator: str = ""
    generator_cpu_seconds: float = 0.0
    single_request_ms: float | None = None


@dataclass
class ServerReport:
    server: str
    how: str
    statements: dict[str, dict[str, float]] = field(default_factory=dict)  # scenario -> kind -> per request
    sample_statements: dict[str, list[str]] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)  # scenario -> "equal" | problem
    extensions: dict[str, list[str]] = field(default_factory=dict)  # scenario -> top-level extension keys
    peak_rss_mb: float | None = None
    measurements: list[Measurement] = field(default_factory=list)


@dataclass
class Report:
    mode: str
    spec: dict[str, int]
    connections: int
    windows: dict[str, float]
    loaded_rows: dict[str, int]
    servers: dict[str, ServerReport] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    targets: list[tuple[str, bool, str]] = field(default_factory=list)


async def _post(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> bytes:
    response = await client.post(url, json=body)
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:500]}")
    return response.content


async def check_and_count(
    server: servers.Server,
    proxy: CountingProxy,
    scenario_map: dict[str, Scenario],
    reference: dict[str, list[str]],
    report: ServerReport,
    repeats: int,
) -> None:
    kind = server.kind
    async with httpx.AsyncClient(timeout=300.0) as client:
        for key in sorted(set(kind.checked) | set(kind.scenarios)):
            scenario = scenario_map[key]
            sample = scenario.bodies[:20] if key == "3" else scenario.bodies[:1]
            raw = [await _post(client, server.url, body) for body in sample]
            bodies = [canonical(r) for r in raw]
            report.extensions[key] = extension_keys(raw[0])
            if "errors" in json.loads(bodies[0]):
                report.checks[key] = "ERRORS: " + bodies[0][:600]
            elif kind.name == "ours":
                reference[key] = bodies
                report.checks[key] = "reference"
            elif key in kind.checked:
                pairs = zip(bodies, reference[key], strict=True)
                mismatch = next((i for i, (a, b) in enumerate(pairs) if a != b), None)
                report.checks[key] = (
                    "equal" if mismatch is None else _difference(reference[key][mismatch], bodies[mismatch])
                )
            # Counting: the requests above warmed the pool; now count `repeats` more.
            count_bodies = (sample * repeats)[: max(repeats, len(sample))]
            await asyncio.sleep(0.2)
            proxy.log.reset()
            for body in count_bodies:
                await _post(client, server.url, body)
            await asyncio.sleep(0.2)
            counts = proxy.log.counts()
            report.statements[key] = {
                k: counts.get(k, 0) / len(count_bodies) for k in ("data", "transaction", "driver")
            }
            report.sample_statements[key] = proxy.log.data_statements()[:12]


def _difference(expected: str, actual: str) -> str:
    at = next(
        (i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b),
        min(len(expected), len(actual)),
    )
    lo = max(0, at - 120)
    return f"DIFFERENT at char {at}: ours …{expected[lo : at + 120]}… vs …{actual[lo : at + 120]}…"


async def measure(
    server: servers.Server,
    scenario_map: dict[str, Scenario],
    report: ServerReport,
    connections: int,
    window: float,
    warmup: float,
    generator: str,
    large_connections: int,
) -> None:
    """Per scenario: single requests alone (median of 3 after one warm-up), a short load
    warm-up, then the measured window. The server finishes the requests still in flight when
    the generator stops (a closed loop leaves one per connection): the bench waits until it is
    idle before reading its CPU time and counts those requests too."""
    kind = server.kind
    async with httpx.AsyncClient(timeout=300.0) as client:
        for key in kind.scenarios:
            scenario = scenario_map[key]
            users = large_connections if key == "2" else connections
            await server.wait_idle()
            await _post(client, server.url, scenario.bodies[0])
            alone = []
            for _ in range(3):
                started = time.perf_counter()
                await _post(client, server.url, scenario.bodies[0])
                alone.append(time.perf_counter() - started)
            await load.run_load(
                server.url, scenario.bodies, connections=users, duration=warmup, generator=generator
            )
            await server.wait_idle()
            cpu_before = server.cpu_seconds()
            result = await load.run_load(
                server.url, scenario.bodies, connections=users, duration=window, generator=generator
            )
            await server.wait_idle()
            cpu = server.cpu_seconds() - cpu_before
            served = result.requests + users
            report.measurements.append(
                Measurement(
                    server=kind.name,
                    scenario=key,
                    connections=users,
                    requests=result.requests,
                    elapsed=result.elapsed,
                    rps=result.rps,
                    p50_ms=None if result.p50 is None else result.p50 * 1000,
                    p99_ms=None if result.p99 is None else result.p99 * 1000,
                    max_ms=None if result.max is None else result.max * 1000,
                    failures=result.failures,
                    server_cpu_seconds=cpu,
                    cpu_ms_per_request=cpu / served * 1000,
                    generator=result.generator,
                    generator_cpu_seconds=result.generator_cpu_seconds,
                    single_request_ms=sorted(alone)[1] * 1000,
                )
            )
    report.peak_rss_mb = server.memory_kb().get("VmHWM", 0) / 1024


def _find(report: Report, server: str, scenario: str) -> Measurement | None:
    found = report.servers.get(server)
    if found is None:
        return None
    return next((m for m in found.measurements if m.scenario == scenario), None)


def evaluate(report: Report) -> None:
    ours1, base1, naive1 = (_find(report, s, "1") for s in ("ours", "asyncpg", "naive"))
    if ours1 and base1 and base1.rps:
        ratio = ours1.rps / base1.rps
        report.targets.append(
            ("scenario 1 >= 50% of the hand-written baseline", ratio >= 0.5, f"{ratio:.0%}")
        )
    if ours1 and naive1 and naive1.rps:
        ratio = ours1.rps / naive1.rps
        report.targets.append(("scenario 1 >= 5x the naive baseline", ratio >= 5, f"{ratio:.1f}x"))
    ours2 = _find(report, "ours", "2")
    if ours2 and ours2.single_request_ms is not None:
        report.targets.append(
            (
                "scenario 2 answered in under 1 s (one request alone)",
                ours2.single_request_ms < 1000,
                f"{ours2.single_request_ms:.0f} ms alone, p50 {ours2.p50_ms or 0:.0f} ms under load",
            )
        )
    ours = report.servers.get("ours")
    if ours:
        data1 = ours.statements.get("1", {}).get("data")
        if data1 is not None:
            report.targets.append(("scenario 1 at most 8 data statements", data1 <= 8, f"{data1:g}"))
        if ours.peak_rss_mb is not None:
            report.targets.append(
                ("peak RSS under 250 MB", ours.peak_rss_mb < 250, f"{ours.peak_rss_mb:.0f} MB")
            )


def render(report: Report) -> str:
    lines = [
        f"Benchmark ({report.mode}): {report.spec}",
        f"  loaded rows: {report.loaded_rows}",
        f"  {report.connections} connections; windows: {report.windows} s; load generator: "
        + ", ".join(sorted({m.generator for s in report.servers.values() for m in s.measurements})),
        "",
        f"{'server':8} {'scenario':26} {'conns':>5} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'CPU ms/req':>10} "
        f"{'alone ms':>9} {'fail':>5} {'gen CPU%':>8}",
    ]
    titles = {"1": "1 ExchangesPage (20)", "2": "2 LargeResult (1000)", "3": "3 NodeLookup"}
    for server in report.servers.values():
        for m in server.measurements:
            gen_share = m.generator_cpu_seconds / m.elapsed * 100 if m.elapsed else 0
            lines.append(
                f"{server.server:8} {titles[m.scenario]:26} {m.connections:5d} {m.rps:9.1f} {m.p50_ms or 0:9.1f} {m.p99_ms or 0:9.1f} "
                f"{m.cpu_ms_per_request or 0:10.2f} {m.single_request_ms or 0:9.1f} {m.failures:5d} {gen_share:7.0f}%"
            )
    lines.append("")
    lines.append("SQL statements per request, counted at the wire (data / transaction control / driver):")
    for server in report.servers.values():
        for key, counts in sorted(server.statements.items()):
            lines.append(
                f"  {server.server:8} scenario {key}: {counts['data']:g} data, {counts['transaction']:g} transaction, "
                f"{counts['driver']:g} driver"
            )
    lines.append("")
    lines.append("JSON checks (against ours):")
    for server in report.servers.values():
        for key, verdict in sorted(server.checks.items()):
            extra = server.extensions.get(key)
            note = f" (response extensions, not compared: {', '.join(extra)})" if extra else ""
            lines.append(f"  {server.server:8} scenario {key}: {verdict}{note}")
    lines.append("")
    lines.append(
        "Peak RSS (VmHWM): "
        + ", ".join(
            f"{s.server} {s.peak_rss_mb:.0f} MB" for s in report.servers.values() if s.peak_rss_mb is not None
        )
    )
    ours1, base1, naive1 = (_find(report, s, "1") for s in ("ours", "asyncpg", "naive"))
    if ours1 and base1 and base1.rps:
        lines.append(
            f"Scenario 1, ours / hand-written asyncpg: {ours1.rps / base1.rps:.0%} of its throughput"
        )
    if ours1 and naive1 and naive1.rps:
        lines.append(
            f"Scenario 1, ours / naive Strawberry+Tortoise: {ours1.rps / naive1.rps:.1f}x its throughput"
        )
    if report.targets:
        lines.append("")
        lines.append("Targets:")
        for name, ok, value in report.targets:
            lines.append(f"  [{'met' if ok else 'MISSED'}] {name}: {value}")
    if report.problems:
        lines.append("")
        lines.append("PROBLEMS:")
        lines.extend(f"  {p}" for p in report.problems)
    return "\n".join(lines)


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
    repeats: int = 3,
) -> Report:
    spec = datagen.SMOKE if smoke else datagen.FULL
    name = database or (f"exchange_bench_smoke_{os.getpid()}" if smoke else "exchange_bench")
    if reuse_db:
        database_url, loaded = datagen.with_database(admin_url, name), dict[str, int]()
    else:
        database_url, loaded = await datagen.build(admin_url, name, spec)
    report = Report(
        mode="smoke" if smoke else "full",
        spec={k: v for k, v in asdict(spec).items() if k != "seed"},
        connections=connections,
        windows={"ours": duration, "asyncpg": duration, "naive": naive_duration},
        loaded_rows=loaded,
    )
    scenario_map = scenarios(spec)
    reference: dict[str, list[str]] = {}
    kinds = [k.narrowed(scenario_keys) for k in servers.KINDS if only is None or k.name in only]
    if kinds and kinds[0].name != "ours":
        kinds.insert(0, servers.OURS.narrowed(scenario_keys))  # the reference JSON comes from ours
    try:
        with tempfile.TemporaryDirectory(prefix="bench-logs-") as tmp:
            log_dir = Path(tmp)
            parsed = urlparse(database_url)
            for kind in kinds:
                env = servers.server_env(database_url, page_size_cap=1000)
                server_report = ServerReport(kind.name, kind.how())
                report.servers[kind.name] = server_report
                measured = only is None or kind.name in only
                window = naive_duration if kind.name == "naive" else duration
                warmup = min(2.0, window / 2)
                async with CountingProxy(parsed.hostname or "127.0.0.1", parsed.port or 5432) as proxy:
                    proxied = proxy.url_for(database_url)
                    server = await servers.start(
                        kind,
                        {**env, "EXCHANGE_DATABASE_URL": proxied, "BENCH_DATABASE_URL": proxied},
                        log_dir,
                    )
                    try:
                        await check_and_count(server, proxy, scenario_map, reference, server_report, repeats)
                        bad = {
                            k: v for k, v in server_report.checks.items() if v not in ("equal", "reference")
                        }
                        report.problems.extend(f"{kind.name} scenario {k}: {v}" for k, v in bad.items())
                        if smoke and measured and not bad:
                            # Smoke: measured through the proxy, one start per server is enough.
                            await measure(
                                server,
                                scenario_map,
                                server_report,
                                connections,
                                window,
                                warmup,
                                generator,
                                large_connections,
                            )
                    finally:
                        await server.stop()
                if bad or not measured:
                    continue
                if not smoke:
                    server = await servers.start(kind, env, log_dir)
                    try:
                        await measure(
                            server,
                            scenario_map,
                            server_report,
                            connections,
                            window,
                            warmup,
                            generator,
                            large_connections,
                        )
                    finally:
                        await server.stop()
                for m in server_report.measurements:
                    if m.failures:
                        report.problems.append(
                            f"{kind.name} scenario {m.scenario}: {m.failures} failed requests"
                        )
                    if m.requests == 0 and not smoke:
                        report.problems.append(f"{kind.name} scenario {m.scenario}: no request completed")
    finally:
        if smoke and not keep_db:
            await datagen.drop_database(admin_url, name)
    evaluate(report)
    return report


def report_json(report: Report) -> dict[str, Any]:
    return asdict(report)
