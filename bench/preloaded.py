"""Is ours' excess CPU a request the code it runs, or the process it runs in? ``python -m
bench.preloaded [--scenario page10] [--rounds 4]``.

Ours' process is twice the fair baseline's (about 110 MB against 42 at rest: every module of
Strawberry, graphql-core and Tortoise, the schema, the models), and a larger heap could make
every instruction dearer (caches, TLB) without adding any. This measures the fair baseline
twice, in alternating windows with ours as ``python -m bench run`` does: as it is, and
*preloaded*, in a process that first built ours' whole application and keeps it alive
(frozen by the baseline's ``gc.freeze`` as ours is). If the preloaded baseline costs what
ours costs, the gap is the process; if it costs what the plain one costs, the gap is the path
each request takes. Needs the data set of ``python -m bench generate``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import datagen, runner, servers

# Ours' application, built and kept for the life of the process (never served).
_kept: list[Any] = []


def create_app() -> Any:
    """The fair baseline's app, in a process that built ours' first."""
    from bench.baseline_asyncpg import create_app as fair
    from exchange.app import create_app as ours

    _kept.append(ours())
    return fair()


PRELOADED = servers.ServerKind(
    "preloaded", "preloaded", "the fair baseline in a process that built ours' app first"
)


async def measure(scenario_key: str, rounds: int, database: str) -> dict[str, list[runner.Measurement]]:
    url = f"postgres://postgres@127.0.0.1:5432/{database}"
    env = servers.server_env(url, 1000)
    scenario = runner.scenario(scenario_key, datagen.FULL)
    found: dict[str, list[runner.Measurement]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-preloaded-") as logs:
        up = await servers.start_all(
            [(servers.ASYNCPG, env), (PRELOADED, env), (servers.OURS, env)], Path(logs)
        )
        try:
            for round_number in range(1, rounds + 1):
                for server in up:
                    measured = await runner.window(
                        server,
                        scenario,
                        round_number,
                        connections=32,
                        duration=5.0,
                        warmup=1.0,
                        generator="python",
                        alone=False,
                        pace=runner.Pace(),
                    )
                    found.setdefault(server.kind.name, []).append(measured)
                print(f"round {round_number} done", file=sys.stderr, flush=True)
        finally:
            await servers.stop_all(up)
    return found


def render(found: dict[str, list[runner.Measurement]]) -> str:
    """Each server's CPU a request and peak RSS, and its CPU over the plain baseline's in the
    same round: min / median / max."""
    plain = found["asyncpg"]
    lines = [
        "| server | CPU ms/req (median) | CPU / fair baseline | peak RSS MB |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, measured in found.items():
        ratios = [
            mine.cpu_ms_per_request / base.cpu_ms_per_request
            for mine, base in zip(measured, plain, strict=True)
            if mine.cpu_ms_per_request and base.cpu_ms_per_request
        ]
        cpu = statistics.median(m.cpu_ms_per_request or 0.0 for m in measured)
        peak = max((m.peak_rss_mb or 0.0) for m in measured)
        lines.append(f"| {name} | {cpu:.3f} | {runner.spread(ratios)} | {peak:.0f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.preloaded", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="page10")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--database", default="exchange_bench")
    args = parser.parse_args(argv)
    print(render(asyncio.run(measure(args.scenario, args.rounds, args.database))))


if __name__ == "__main__":
    main()
