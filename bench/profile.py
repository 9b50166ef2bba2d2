"""Profile a server under load: ``python -m bench profile [--scenario page20] [--server ours]
[--seconds 20] [--native] [--nonblocking]``, or ``--summarize RAW`` for an earlier raw file.

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


# Where a sample's CPU goes, by area: the innermost frame of its stack that one of these
# (area, predicate on "function (path)") rules claims decides. asyncio, functools and generated
# code (dataclass __init__) claim nothing, so a task created by the plan counts as the plan's.
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("garbage collector", ("gc_collect",)),
    ("logging", ("logging/",)),
    (
        "DataLoader creation per request (Loaders.__init__, DataLoader.__init__, schema/api/batching.py)",
        (
            "DataLoader.__init__",
            "DefaultCache.__init__",
            "Loaders.__init__",
            "Loaders._",  # the per-area builders Loaders.__init__ calls
            "Context.loaders",
            # the factories themselves ("grouped_loader.<locals>.load" is batching, below)
            "by_id_loader (",
            "grouped_loader (",
            "paged_loader (",
        ),
    ),
    ("database driver and pool (asyncpg, Tortoise client)", ("asyncpg/", "tortoise/", "pypika")),
    (
        "rows to objects (exchange/sql.py, exchange/rows.py)",
        ("exchange/sql.py", "exchange/rows.py", "(<rows"),
    ),
    (
        "DataLoader batching and futures (strawberry/dataloader.py, loaders' batch functions)",
        ("strawberry/dataloader.py", "schema/api/loaders.py", "schema/api/batching.py"),
    ),
    (
        "rate limit (schema/admission/rate_limit.py, exchange/ratelimit.py, limits)",
        ("schema/admission/rate_limit.py", "exchange/ratelimit.py", "limits/"),
    ),
    (
        "variables (schema/admission/variables.py, graphql-core coercion)",
        (
            "schema/admission/variables.py",
            "graphql/execution/values.py",
            "graphql/utilities/coerce",
            "schema/api/scalars.py",
            "exchange/i18n.py",
        ),
    ),
    ("other admission steps (schema/admission/)", ("schema/admission/",)),
    ("context (schema/api/context.py)", ("schema/api/context.py",)),
    ("execution: compiled plan (schema/engine/)", ("schema/engine/",)),
    ("execution: graphql-core / Strawberry", ("graphql/", "strawberry/schema/", "strawberry/types/")),
    (
        "middleware and routing (exchange/middleware.py, Starlette)",
        ("exchange/middleware.py", "starlette/routing"),
    ),
    ("resolvers and domain (schema/api, exchange/)", ("schema/api/", "schema/build.py", "exchange/")),
    (
        "response encoding (orjson, Response)",
        ("orjson", "json/", "Response.__init__", "Response.render", "init_headers"),
    ),
    (
        "response writing (ASGI send chain, uvicorn send, socket write)",
        ("RequestResponseCycle.send", "send_with_", "._send", ".sender", "Response.__call__"),
    ),
    ("GraphQL transport (schema/transport/, strawberry http)", ("schema/transport/", "strawberry/")),
    ("middleware and routing (exchange/middleware.py, Starlette)", ("starlette/",)),
    ("HTTP protocol (uvicorn httptools)", ("uvicorn/protocols/", "httptools")),
)
_UNCLAIMED = "event loop (uvloop, asyncio) and the rest"
_NEUTRAL = (
    "asyncio/",
    "functools.py",
    "(<string>",
    "typing.py",
    "contextlib.py",
    "(<frozen",
    "pycountry/",  # counts as its caller's (a scalar, a resolver)
    "exchange/cli.py",  # the process's root frames
    "uvicorn/main.py",
    "uvicorn/server.py",
    "uvicorn/_compat.py",
    "typer/",
)


def _area(frames: list[str]) -> str:
    for frame in reversed(frames):
        if any(marker in frame for marker in _NEUTRAL):
            continue
        for area, markers in AREAS:
            if any(marker in frame for marker in markers):
                return area
    return _UNCLAIMED


# System calls as the innermost frame of a --native sample. py-spy samples by the wall clock:
# a thread that wakes another process in write() is often preempted right there, and on a
# loaded 2-core machine waits for a CPU while still "in write" (profiled: 36% of the samples in
# write() while the kernel counted 8% system time). Dropping these samples leaves the user-space
# split; the system share is /proc's (printed with the profile).
SYSCALLS = frozenset(
    {"write", "writev", "read", "recv", "recvfrom", "send", "sendto", "sendmsg", "epoll_pwait", "epoll_wait"}
)


def areas(raw: Path, *, drop_syscalls: bool = False) -> list[tuple[str, float]]:
    """Share of samples per area (see AREAS), largest first; ``drop_syscalls``: of the samples
    not inside a system call (native profiles)."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if drop_syscalls and frames[-1].split(" (")[0].strip() in SYSCALLS:
            continue
        total += int(count)
        counts[_area(frames)] += int(count)
    return [(area, n / total) for area, n in counts.most_common()] if total else []


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
    lines += ["", "by area (the innermost frame a rule of bench/profile.py's AREAS claims):"]
    lines += [f"  {share:6.1%}  {area}" for area, share in areas(raw)]
    if any(name.split(" (")[0] in SYSCALLS for name in own):
        lines += ["", "by area, samples inside system calls left out (see SYSCALLS):"]
        lines += [f"  {share:6.1%}  {area}" for area, share in areas(raw, drop_syscalls=True)]
    return "\n".join(lines)


async def profile(
    scenario_key: str,
    seconds: float,
    native: bool,
    out: Path,
    admin_url: str,
    *,
    server_name: str = "ours",
    nonblocking: bool = False,
    rate: int = 200,
) -> str:
    # The venv's own py-spy when the venv is not on PATH (.venv/bin/python -m bench profile).
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        raise SystemExit("py-spy is not installed: pip install -e .[bench]")
    key = runner.scenario_names([scenario_key])[0]
    scenario = runner.scenario(key, datagen.FULL)
    database_url = datagen.with_database(admin_url, datagen.database_name("exchange_bench", scenario.scale))
    env = servers.server_env(database_url, page_size_cap=1000)
    kind = next(k for k in servers.KINDS if k.name == server_name)
    connections = 4 if scenario.large else 32
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        server = await servers.start(kind, env, Path(tmp))
        try:
            await load.run_load(server.url, scenario.bodies, connections=connections, duration=3)
            await server.wait_idle()
            loading = asyncio.create_task(
                load.run_load(server.url, scenario.bodies, connections=connections, duration=seconds + 2)
            )
            await asyncio.sleep(1)
            user, system = server.cpu_split()
            argv = [
                spy,
                "record",
                "--pid",
                str(server.pid),
                "--duration",
                str(int(seconds)),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--output",
                str(out),
            ]
            if native:
                argv.append("--native")
            if nonblocking:
                argv.append("--nonblocking")
            process = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
            )
            _, err = await process.communicate()
            user_after, system_after = server.cpu_split()
            result = await loading
            if process.returncode != 0:
                raise SystemExit(f"py-spy failed: {err.decode()[-1000:]}")
        finally:
            await server.stop()
    cpu = user_after - user + system_after - system
    per_request = cpu / (result.rps * seconds) * 1000 if result.rps else 0.0
    return (
        f"{server_name}, {key}: {result.rps:.1f} req/s under load while sampled; server CPU while sampled "
        f"{cpu:.1f} s (~{per_request:.2f} ms per request), of which system "
        f"{(system_after - system) / cpu if cpu else 0:.0%}\n" + summarize(out)
    )


def main(argv: list[str] | None = None, admin_url: str = "") -> int:
    parser = argparse.ArgumentParser(prog="python -m bench profile")
    parser.add_argument(
        "--scenario", default="page20", help="a scenario key of bench run (page20, node, large, ...)"
    )
    parser.add_argument("--server", choices=[k.name for k in servers.KINDS], default="ours")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=200, help="samples per second")
    parser.add_argument("--native", action="store_true", help="include C frames (the garbage collector)")
    parser.add_argument(
        "--nonblocking", action="store_true", help="sample without pausing the server (less distortion)"
    )
    parser.add_argument(
        "--out", default="/tmp/bench-profile.txt", help="raw py-spy output (collapsed stacks)"
    )
    parser.add_argument("--summarize", metavar="RAW", help="only summarize a raw file of an earlier profile")
    args = parser.parse_args(argv)
    if args.summarize:
        print(summarize(Path(args.summarize)))
        return 0
    print(
        asyncio.run(
            profile(
                args.scenario,
                args.seconds,
                args.native,
                Path(args.out),
                admin_url,
                server_name=args.server,
                nonblocking=args.nonblocking,
                rate=args.rate,
            )
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
