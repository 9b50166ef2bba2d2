"""``python -m bench run [--smoke] [--duration 30] [--naive-duration 90]``: see bench/runner.py;
``python -m bench profile [--native]``: see bench/profile.py."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from bench import datagen, runner


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    admin_url = os.environ.get("EXCHANGE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if argv[:1] == ["profile"]:
        from bench import profile

        return profile.main(argv[1:], admin_url)
    parser = argparse.ArgumentParser(prog="python -m bench", description="The exchange server's benchmark.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="generate the data set, start the servers, check and measure")
    run.add_argument("--smoke", action="store_true", help="tiny data set, 1 s windows: a functional check")
    run.add_argument(
        "--duration", type=float, help="load window per scenario in seconds (default 30; smoke 2)"
    )
    run.add_argument(
        "--naive-duration",
        type=float,
        help="window for the naive baseline (default max(90, duration); smoke 2)",
    )
    run.add_argument("--connections", type=int, help="concurrent connections (default 32; smoke 8)")
    run.add_argument(
        "--only",
        nargs="+",
        choices=["ours", "asyncpg", "naive"],
        help="measure only these servers (ours is always checked: it is the JSON reference)",
    )
    run.add_argument(
        "--large-connections",
        type=int,
        default=4,
        help="connections for scenario 2 (1,000 exchanges a request; default 4)",
    )
    run.add_argument("--scenarios", nargs="+", choices=["1", "2", "3"], help="measure only these scenarios")
    run.add_argument("--reuse-db", action="store_true", help="use the existing data set (no regeneration)")
    run.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    run.add_argument("--database", help="database name (default exchange_bench; smoke: a per-process name)")
    run.add_argument("--keep-db", action="store_true", help="smoke: keep the database afterwards")
    run.add_argument("--json", help="also write the report as JSON to this file")
    run.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    commands.add_parser("profile", help="py-spy profile of our server under load (see bench/profile.py)")
    gen = commands.add_parser("generate", help="only (re)create and load the data set")
    gen.add_argument("--smoke", action="store_true")
    gen.add_argument("--database", default="exchange_bench")
    args = parser.parse_args(argv)

    if args.command == "generate":
        spec = datagen.SMOKE if args.smoke else datagen.FULL
        url, counts = asyncio.run(datagen.build(admin_url, args.database, spec))
        print(f"{url}: {counts}")
        return 0

    duration = args.duration or (1.0 if args.smoke else 30.0)
    naive_duration = args.naive_duration or (duration if args.smoke else max(90.0, duration))
    connections = args.connections or (8 if args.smoke else 32)
    report = asyncio.run(
        runner.run(
            smoke=args.smoke,
            duration=duration,
            naive_duration=naive_duration,
            connections=connections,
            admin_url=admin_url,
            database=args.database,
            generator=args.generator,
            only=args.only,
            keep_db=args.keep_db,
            large_connections=args.large_connections,
            scenario_keys=args.scenarios,
            reuse_db=args.reuse_db,
        )
    )
    print(runner.render(report))
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
