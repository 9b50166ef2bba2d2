"""What a server does per request apart from its database driver, counted so that the count
does not move with the machine: ``python -m bench.replay [--server ours|asyncpg]
[--scenario page10] (--cpu | --bytecodes | --instructions) [--requests N]``.

The server's ASGI app is called in this process as ``bench.inprocess`` calls it, on the
``exchange_bench`` data set, but every statement's rows are fetched once and then handed back
from memory ("replay"): what is left per request is the server's own work (transport,
admission, execution, building and encoding the answer). The fair baseline decodes its JSON
columns inside the driver, so its replay leaves that out while ours keeps it: compare like
with like (bench/RESULTS.md says how much that is).

- ``--cpu``: process CPU per request (moves with the machine, like ``bench.inprocess``).
- ``--bytecodes``: Python bytecodes executed per request, by function (``sys.settrace``
  opcode events): where the interpreter's work goes, the same on every run.
- ``--instructions``: machine instructions per request, counted by valgrind's callgrind
  (Debian's ``valgrind``): this process runs itself twice under it, with no measured
  requests and with ``--requests``, and prints the difference divided by the requests. The
  same total for the same code and data whatever else the machine is doing; a run takes a
  few minutes. ``--concurrency N`` sends N requests at once (execution slots and the pool's
  queue then work as under load).
- ``--live``: no replay, every statement sent to the database: the driver's protocol and
  decoding count too (``--live --instructions`` compares the servers' whole client-side work).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import inprocess

WARMUP = 100


def _replaying(server: str) -> None:
    """Each statement's rows fetched once (by its text and parameters), then handed back."""
    rows: dict[tuple[str, str], Any] = {}
    if server == "ours":
        from exchange import pinned

        fetch = pinned.Pinned.fetch

        async def replayed(self: Any, sql: str, params: Sequence[Any]) -> Any:
            key = (sql, repr(params))
            if key not in rows:
                rows[key] = await fetch(self, sql, params)
            return rows[key]

        pinned.Pinned.fetch = replayed  # type: ignore[method-assign]
    else:
        from asyncpg import connection

        driver_fetch = connection.Connection.fetch

        async def replayed_driver(self: Any, sql: str, *params: Any, **options: Any) -> Any:
            key = (sql, repr(params))
            if key not in rows:
                rows[key] = await driver_fetch(self, sql, *params, **options)
            return rows[key]

        connection.Connection.fetch = replayed_driver


async def _requests(
    server: str,
    scenario: str,
    requests: int,
    database: str,
    bytecodes: bool,
    concurrency: int = 1,
    how: str = "replay",
    top: int = 40,
) -> None:
    async with inprocess.serving(server, scenario, database, WARMUP) as send:
        if not bytecodes:  # under callgrind: the requests only, ``concurrency`` at a time
            left = [requests]

            async def one_after_another() -> None:
                while left[0] > 0:
                    left[0] -= 1
                    await send()

            await asyncio.gather(*(one_after_another() for _ in range(concurrency)))
            return
        counts: collections.Counter[tuple[str, str]] = collections.Counter()

        def trace(frame: Any, event: str, _arg: Any) -> Any:
            frame.f_trace_opcodes = True
            if event == "opcode":
                code = frame.f_code
                counts[(code.co_filename, code.co_name)] += 1
            return trace

        sys.settrace(trace)
        try:
            for _ in range(requests):
                await send()
        finally:
            sys.settrace(None)
        _print_bytecodes(server, scenario, counts, requests, how, top)


def _print_bytecodes(
    server: str,
    scenario: str,
    counts: collections.Counter[tuple[str, str]],
    requests: int,
    how: str,
    top: int = 40,
) -> None:
    root = str(Path(__file__).resolve().parent.parent) + os.sep

    def where(filename: str) -> str:
        return re.sub(r".*/(site-packages|python3\.\d+)/", "", filename.replace(root, ""))

    total = sum(counts.values())
    print(f"{server}, {scenario}: {total // requests} bytecodes per request ({how})")
    by_function = collections.Counter({f"{where(f)}:{name}": n for (f, name), n in counts.items()})
    for name, count in by_function.most_common(top):
        print(f"{count // requests:9d}  {name}")


def _instructions(argv: list[str], requests: int, how: str) -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    totals = []
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        for count in (0, requests):
            command = [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={tmp}/callgrind.{count}",
                sys.executable,
                "-m",
                "bench.replay",
                *argv,
                "--under-callgrind",
                "--requests",
                str(count),
            ]
            # A fixed hash seed: the same dict and set layouts in both runs.
            environment = {**os.environ, "PYTHONHASHSEED": "0"}
            done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
            found = re.search(r"Collected : (\d+)", done.stderr)
            if done.returncode != 0 or found is None:
                raise SystemExit(f"callgrind run failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
            totals.append(int(found.group(1)))
    per_request = (totals[1] - totals[0]) / requests
    print(f"{argv[1]}, {argv[3]}: {per_request / 1e6:.3f} M instructions per request ({how}, callgrind)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replay", description=__doc__)
    parser.add_argument("--server", choices=("ours", "asyncpg"), default="ours")
    parser.add_argument("--scenario", default="page10", help="page<N> or node (on exchange_bench)")
    parser.add_argument("--database", default=inprocess.DATABASE)
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument(
        "--live",
        action="store_true",
        help="fetch every statement's rows from the database each time (no replay): the driver's work counts",
    )
    parser.add_argument("--concurrency", type=int, default=1, help="requests at once (--instructions)")
    parser.add_argument("--top", type=int, default=40, help="functions listed (--bytecodes)")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--cpu", action="store_true")
    mode.add_argument("--bytecodes", action="store_true")
    mode.add_argument("--instructions", action="store_true")
    mode.add_argument("--under-callgrind", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    how = "live" if args.live else "replay"
    if args.instructions:
        requests = args.requests or 200
        argv = ["--server", args.server, "--scenario", args.scenario, "--database", args.database]
        argv += ["--concurrency", str(args.concurrency), *(["--live"] if args.live else [])]
        _instructions(argv, requests, how)
        return 0
    inprocess.use_uvloop()
    if not args.live:
        _replaying(args.server)
    if args.cpu:
        cpu = asyncio.run(inprocess.measure(args.server, args.scenario, args.requests or 3000, args.database))
        print(f"{args.server}, {args.scenario}: {cpu:.3f} ms of CPU per request ({how})")
        return 0
    requests = args.requests if args.requests is not None else (20 if args.bytecodes else 200)
    asyncio.run(
        _requests(
            args.server,
            args.scenario,
            requests,
            args.database,
            args.bytecodes,
            args.concurrency,
            how,
            args.top,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
