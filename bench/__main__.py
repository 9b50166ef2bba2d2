"""``python -m bench run [--smoke] [--reuse-db] [--rounds 4] [--scenarios ...] [--variant ...]``: see
bench/runner.py and the README's Benchmarks; ``python -m bench profile [--native]``: see
bench/profile.py; ``python -m bench generate [--scale 5]``: only the data set."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from bench import datagen, runner, servers

# --smoke checks the run's shape, not its numbers: windows long enough for a few requests each.
SMOKE_WINDOW = 0.25


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    admin_url = os.environ.get("EXCHANGE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if argv[:1] == ["profile"]:
        from bench import profile

        return profile.main(argv[1:], admin_url)
    parser = argparse.ArgumentParser(prog="python -m bench", description="The exchange server's benchmark.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="data sets, servers, JSON checks, statement counts, then alternating windows",
        description="Measures ours, the fair baseline and the naive one in alternating windows, round after "
        "round, and reports min/median/max of the same-round ratios (see README, Benchmarks).",
    )
    run.add_argument(
        "--smoke",
        action="store_true",
        help="tiny data set, 0.25 s windows, 2 rounds, short pauses: a functional check",
    )
    run.add_argument("--rounds", type=int, help="rounds of alternating windows (default 4; smoke 2)")
    run.add_argument(
        "--duration", type=float, help="measured window per server and scenario, s (default 5; smoke 0.25)"
    )
    run.add_argument(
        "--naive-duration", type=float, help="the naive baseline's window, s (default 10; smoke 0.25)"
    )
    run.add_argument("--warmup", type=float, help="load before each window, s (default 1; smoke 0)")
    run.add_argument("--connections", type=int, help="concurrent connections (default 32; smoke 8)")
    run.add_argument(
        "--large-connections",
        type=int,
        help="connections for LargeResult and for the naive baseline (default 4; smoke 2)",
    )
    run.add_argument(
        "--scenarios",
        nargs="+",
        metavar="KEY",
        help="page<N> (ExchangesPage, first N), large, node; 1/2/3 = page20/large/node; a suffix @x5 runs it on "
        f"five times the data (default: {' '.join(runner.DEFAULT_SCENARIOS)}; smoke: "
        f"{' '.join(runner.SMOKE_SCENARIOS)})",
    )
    run.add_argument(
        "--only",
        nargs="+",
        choices=["ours", "asyncpg", "naive"],
        help="measure only these servers (ours always runs: its JSON is the reference)",
    )
    run.add_argument(
        "--variant",
        nargs="+",
        action="append",
        metavar=("NAME", "KEY=VALUE"),
        help="also measure ours with these settings, e.g. --variant gc50k EXCHANGE_GC_THRESHOLD=50000, or "
        "'uvicorn=--loop asyncio --http h11' to run it under uvicorn's command line (repeatable)",
    )
    run.add_argument(
        "--reuse-db", action="store_true", help="keep a data set a former run generated (same spec)"
    )
    run.add_argument(
        "--generator",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator (auto: bench.loadgen, which marks the measured part; wrk: idle-to-idle windows)",
    )
    run.add_argument(
        "--database", help="database name (default exchange_bench, +_x5; smoke: a per-process name)"
    )
    run.add_argument("--keep-db", action="store_true", help="smoke: keep the databases afterwards")
    run.add_argument("--json", help="also write the report as JSON to this file")
    run.add_argument("--markdown", help="also write the printed report to this file")
    run.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    commands.add_parser("profile", help="py-spy profile of our server under load (see bench/profile.py)")
    gen = commands.add_parser("generate", help="only (re)create and load the data set")
    gen.add_argument("--smoke", action="store_true")
    gen.add_argument("--scale", type=int, default=1, help="times the data set (database name gets _x<scale>)")
    gen.add_argument("--database", default="exchange_bench")
    args = parser.parse_args(argv)

    if args.command == "generate":
        spec = datagen.scaled(datagen.SMOKE if args.smoke else datagen.FULL, args.scale)
        name = datagen.database_name(args.database, args.scale)
        url, counts = asyncio.run(datagen.build(admin_url, name, spec))
        print(f"{url}: {counts}")
        return 0

    variants = []
    for name, *settings in args.variant or []:
        try:
            variants.append(servers.variant(name, settings))
        except ValueError as exc:
            parser.error(str(exc))
    try:
        runner.scenarios(datagen.SMOKE, args.scenarios)
    except ValueError as exc:
        parser.error(str(exc))
    smoke = args.smoke
    report = asyncio.run(
        runner.run(
            smoke=smoke,
            duration=args.duration or (SMOKE_WINDOW if smoke else 5.0),
            naive_duration=args.naive_duration or (SMOKE_WINDOW if smoke else 10.0),
            connections=args.connections or (8 if smoke else 32),
            admin_url=admin_url,
            database=args.database,
            generator=args.generator,
            only=args.only,
            keep_db=args.keep_db,
            large_connections=args.large_connections or (2 if smoke else 4),
            scenario_keys=args.scenarios,
            reuse_db=args.reuse_db,
            rounds=args.rounds or (2 if smoke else 4),
            warmup=args.warmup if args.warmup is not None else (0.0 if smoke else 1.0),
            variants=variants,
        )
    )
    text = runner.render(report)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n", encoding="utf-8")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(runner.report_json(report), handle, indent=2, ensure_ascii=False)
    if report.problems:
        return 1
    if args.strict and not all(ok for _, ok, _ in report.targets):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
