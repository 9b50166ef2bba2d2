"""The whole server process counted under load, over HTTP: ``python -m bench.simulated
[--server ours|asyncpg|bare] [--scenario page10] [--requests 300] [--concurrency 32] [--caches]``.

``bench.replay`` counts the application called in-process; this runs the server as ``bench run``
starts it (uvicorn, httptools, uvloop, the pool, one worker) under valgrind's callgrind, with
instrumentation off until it has started and served a warm-up, then counts exactly
``--requests`` requests sent ``--concurrency`` at a time by a client in this process, and
prints the server's instructions per request. Uvicorn's protocol, the event loop, the driver
and the collector are all in the count, and the count does not move with the machine.

``--caches`` adds callgrind's cache and branch-predictor simulation: first-level instruction
and data cache misses and mispredicted branches per request, and an estimate of cycles that
weighs them (``estimate``). ``--last-level BYTES`` sets the size of the simulated last-level
cache (callgrind's ``--LL``, 16-way, 64-byte lines; by default the host's last level, here a
shared L3 of hundreds of MB) and prints its misses per request: ``--last-level 4194304``
simulates this machine's per-core L2 (bench/RESULTS.md, session 14).

Instructions alone do not say what a request costs in time: two programs executing the same
instructions may differ in how often they miss a cache or mispredict a branch (bench/RESULTS.md,
session 8: ours executes 1.15x the fair baseline's instructions for a page of 10 and takes 1.36x
its CPU time).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx

from bench import datagen, inprocess, runner, servers
from bench.bare import BARE

# Cycles a simulated miss or misprediction costs on top of its instruction, roughly (a
# first-level miss served by the second level; a mispredicted branch's pipeline refill), and
# instructions retired per cycle otherwise. Only ratios between servers are read.
MISS_CYCLES = 10
MISPREDICT_CYCLES = 15
INSTRUCTIONS_PER_CYCLE = 2.5

_EVENTS = ("Ir", "I1mr", "D1mr", "D1mw", "Bcm", "Bim")

# A comment line a kept dump carries after its first line (bench.cgdiff divides by it).
REQUESTS_NOTE = "# bench.simulated requests: "


@dataclass(frozen=True)
class Counts:
    """Events per request (callgrind's names: Ir instructions, I1mr / D1mr / D1mw first-level
    misses, Bcm / Bim mispredicted conditional / indirect branches); absent ones are 0."""

    events: dict[str, float]

    def get(self, name: str) -> float:
        return self.events.get(name, 0.0)

    def estimate(self) -> float:
        misses = self.get("I1mr") + self.get("D1mr") + self.get("D1mw")
        mispredicts = self.get("Bcm") + self.get("Bim")
        return (
            self.get("Ir") / INSTRUCTIONS_PER_CYCLE + MISS_CYCLES * misses + MISPREDICT_CYCLES * mispredicts
        )


def per_request(profile_text: str, requests: int) -> Counts:
    """A callgrind output file's totals (its ``events:`` and ``summary:`` or ``totals:`` lines)
    divided by the requests it counted."""
    names: list[str] | None = None
    values: list[int] | None = None
    for line in profile_text.splitlines():
        if line.startswith("events:"):
            names = line.split()[1:]
        elif line.startswith(("summary:", "totals:")) and values is None:
            values = [int(v) for v in line.split()[1:]]
    if names is None or values is None:
        raise ValueError("not a callgrind profile: no events: and summary: lines")
    if requests <= 0:
        raise ValueError("requests must be positive")
    return Counts({name: value / requests for name, value in zip(names, values, strict=False)})


def _control(pid: int, *arguments: str) -> None:
    subprocess.run(["callgrind_control", *arguments, str(pid)], check=True, capture_output=True)


async def _send(client: httpx.AsyncClient, url: str, bodies: list[dict[str, object]], count: int) -> None:
    responses = await asyncio.gather(*(client.post(url, json=bodies[i % len(bodies)]) for i in range(count)))
    for response in responses:
        if response.status_code != 200 or b'"errors"' in response.content:
            raise RuntimeError(f"{url} answered {response.status_code}: {response.content[:300]!r}")


async def _count(
    kind: servers.ServerKind,
    scenario: runner.Scenario,
    database: str,
    requests: int,
    concurrency: int,
    caches: bool,
    keep: Path | None = None,
    last_level: int | None = None,
) -> Counts:
    env = servers.server_env(database, 1000, {"PYTHONHASHSEED": "0"})
    with tempfile.TemporaryDirectory(prefix="bench-simulated-") as tmp:
        wrapper = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={tmp}/callgrind.out",
        ]
        if caches:
            wrapper += ["--cache-sim=yes", "--branch-sim=yes"]
            if last_level is not None:
                wrapper.append(f"--LL={last_level},16,64")
        # Importing under valgrind takes a while, even with instrumentation off.
        server = await servers.start(kind, env, Path(tmp), ready_timeout=300, wrapper=wrapper)
        try:
            limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
            async with httpx.AsyncClient(timeout=600, limits=limits) as client:
                await _send(client, server.url, scenario.bodies, 100)  # warm, not instrumented
                _control(server.pid, "--instr=on")
                await _send(client, server.url, scenario.bodies, concurrency)  # translated code
                _control(server.pid, "--zero")
                await _send(client, server.url, scenario.bodies, requests)
                _control(server.pid, "--dump=measured")
            return _measured(Path(tmp), requests, keep)
        finally:
            await server.stop()


def _measured(folder: Path, requests: int, keep: Path | None = None) -> Counts:
    """The dump made after the measured requests (callgrind names each dump after its reason),
    copied to ``keep`` for ``callgrind_annotate`` when given."""
    for dump in sorted(folder.glob("callgrind.out*"), reverse=True):
        text = dump.read_text(errors="replace")
        if "measured" in text[:4000]:
            if keep is not None:
                first, _, rest = text.partition("\n")
                keep.write_text(f"{first}\n{REQUESTS_NOTE}{requests}\n{rest}")
            return per_request(text, requests)
    raise RuntimeError("callgrind wrote no dump for the measured requests")


def render(name: str, scenario: str, counts: Counts, caches: bool) -> str:
    text = (
        f"{name}, {scenario}: {counts.get('Ir') / 1e6:.3f} M instructions per request (server process, HTTP)"
    )
    if caches:
        parts = ", ".join(f"{event} {counts.get(event) / 1e3:.1f} k" for event in _EVENTS[1:])
        text += f"\n  {parts}; estimate {counts.estimate() / 1e6:.3f} M cycles"
        last_level = counts.get("ILmr") + counts.get("DLmr") + counts.get("DLmw")
        if last_level:
            text += f"\n  last-level misses {last_level / 1e3:.2f} k (ILmr, DLmr, DLmw)"
    return text


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.simulated", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--server", choices=("ours", "asyncpg", "bare"), default="ours", help="bare: bench.bare's handler"
    )
    parser.add_argument("--scenario", default="page10")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--caches", action="store_true", help="simulate caches and branch prediction")
    parser.add_argument("--database", default=inprocess.DATABASE, help="the 1x data set (a scale adds _x<N>)")
    parser.add_argument(
        "--keep", type=Path, default=None, help="copy the measured dump here (callgrind_annotate)"
    )
    parser.add_argument(
        "--last-level",
        type=int,
        default=None,
        metavar="BYTES",
        help="simulated last-level cache size (implies --caches), e.g. 4194304 for a 4 MiB L2",
    )
    args = parser.parse_args(argv)
    if args.last_level is not None:
        if args.last_level < 65536 or args.last_level & (args.last_level - 1):
            raise SystemExit("--last-level: a power of two of at least 65536 bytes")
        args.caches = True
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("needs valgrind (apt-get install valgrind)")
    if args.requests <= 0 or args.concurrency <= 0:
        raise SystemExit("--requests and --concurrency must be positive")
    scenario = runner.scenario(args.scenario, datagen.FULL)
    base_name = urlparse(args.database).path.lstrip("/")
    database = datagen.with_database(args.database, datagen.database_name(base_name, scenario.scale))
    kind = {"ours": servers.OURS, "asyncpg": servers.ASYNCPG, "bare": BARE}[args.server]
    counts = asyncio.run(
        _count(
            kind, scenario, database, args.requests, args.concurrency, args.caches, args.keep, args.last_level
        )
    )
    print(render(args.server, args.scenario, counts, args.caches))


if __name__ == "__main__":
    main(sys.argv[1:])
