"""Profile our server under load: ``python -m bench profile [--scenario 1] [--seconds 20] [--native]``.

Starts the server like ``bench run`` does (production mode, on the existing ``exchange_bench``
data set: run ``python -m bench generate`` first), keeps 32 connections busy on one scenario
with the load generator and samples the server process with py-spy (``pip install -e .[bench]``)
in raw (collapsed stack) format; prints the functions with most samples (own time) and the
inclusive share of the subsystems worth watching. ``--native`` includes C frames, which is
where the garbage collector (``gc_collect_main``) shows up.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import sys
import tempfile
from pathlib import Path

from bench import datagen, load, runner, servers

WATCH = (
    "gc_collect_main",
    "Executor.complete_value",
    "dispatch_batch",
    "Model._init_from_db",
    "execute_select",
    "gather_with_cancel",
    "extension_resolver",
    "_direct.<locals>.resolve",
    "ExchangeGraphQL.pipeline",
    "Context.release",
)


def _frame_name(frame: str) -> str:
    name, _, location = frame.strip().partition(" (")
    location = location.rstrip(")").rsplit(":", 1)[0]
    if "site-packages/" in location:
        location = location.split("site-packages/", 1)[1]
    return f"{name} ({location})" if location else name


def summarize(raw: Path, top: int = 20) -> str:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        names = [_frame_name(f) for f in stack.split(";")]
        own[names[-1]] += samples
        for name in set(names):
            inclusive[name] += samples
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", "own time:"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in own.most_common(top)]
    lines += ["", "inclusive:"]
    watched = [(name, n) for name, n in inclusive.items() if name.split(" (")[0].endswith(WATCH)]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in sorted(watched, key=lambda item: -item[1])]
    return "\n".join(lines)


async def profile(scenario_key: str, seconds: float, native: bool, out: Path, admin_url: str) -> str:
    # The venv's own py-spy when the venv is not on PATH (.venv/bin/python -m bench profile).
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        raise SystemExit("py-spy is not installed: pip install -e .[bench]")
    database_url = datagen.with_database(admin_url, "exchange_bench")
    scenario = runner.scenario(runner.scenario_names([scenario_key])[0], datagen.FULL)
    env = servers.server_env(database_url, page_size_cap=1000)
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        server = await servers.start(servers.OURS, env, Path(tmp))
        try:
            await load.run_load(server.url, scenario.bodies, connections=32, duration=3)
            await server.wait_idle()
            loading = asyncio.create_task(
                load.run_load(server.url, scenario.bodies, connections=32, duration=seconds + 2)
            )
            await asyncio.sleep(1)
            argv = [
                spy,
                "record",
                "--pid",
                str(server.pid),
                "--duration",
                str(int(seconds)),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(out),
            ]
            if native:
                argv.append("--native")
            spy = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
            )
            _, err = await spy.communicate()
            result = await loading
            if spy.returncode != 0:
                raise SystemExit(f"py-spy failed: {err.decode()[-1000:]}")
        finally:
            await server.stop()
    return f"{result.rps:.1f} req/s under load while sampled\n" + summarize(out)


def main(argv: list[str] | None = None, admin_url: str = "") -> int:
    parser = argparse.ArgumentParser(prog="python -m bench profile")
    parser.add_argument("--scenario", choices=["1", "2", "3"], default="1")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--native", action="store_true", help="include C frames (the garbage collector)")
    parser.add_argument(
        "--out", default="/tmp/bench-profile.txt", help="raw py-spy output (collapsed stacks)"
    )
    args = parser.parse_args(argv)
    print(asyncio.run(profile(args.scenario, args.seconds, args.native, Path(args.out), admin_url)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
