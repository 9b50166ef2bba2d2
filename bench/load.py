"""Driving a load generator process: ``wrk`` (C, one thread) when installed, else
``python -m bench.loadgen``. Both run in their own process; their CPU time is measured from
the parent (RUSAGE_CHILDREN) and reported, since on a 2-core machine the generator takes
CPU from the server."""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
local bodies = %(bodies)s
local threads = {}
local index = 0
failures = 0

function setup(thread)
  table.insert(threads, thread)
end

function request()
  index = index + 1
  return wrk.format(nil, nil, nil, bodies[(index %% #bodies) + 1])
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "elapsed": %%f, "failures": %%d, "socket_errors": %%d, "timeouts": %%d, ' ..
    '"p50": %%f, "p99": %%f, "max": %%f}\n',
    summary.requests, summary.duration / 1e6, failed + e.status, e.connect + e.read + e.write, e.timeout,
    latency:percentile(50) / 1e6, latency:percentile(99) / 1e6, latency.max / 1e6))
end
"""


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


@dataclass
class LoadResult:
    requests: int
    elapsed: float
    failures: int
    p50: float | None
    p99: float | None
    max: float | None
    generator: str
    generator_cpu_seconds: float
    extra: dict[str, Any]
    marked: bool = False  # counted between the MEASURE and END marks (see bench.loadgen.run)

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def has_wrk() -> bool:
    return shutil.which("wrk") is not None


async def run_load(
    url: str,
    bodies: list[dict[str, Any]],
    *,
    connections: int,
    duration: float,
    generator: str = "auto",
    request_timeout: float = 120.0,
    warmup: float = 0.0,
    marks: Callable[[str], None] | None = None,
) -> LoadResult:
    """Load for ``duration`` seconds. With ``warmup`` (the Python generator only), the load
    runs without a pause through a warm-up first and ``marks("MEASURE")`` / ``marks("END")``
    are called when the counted part begins and ends."""
    if generator == "auto":
        generator = "wrk" if has_wrk() else "python"
    if generator == "wrk" and warmup > 0:
        raise ValueError("a warm-up with marks needs the Python generator (bench.loadgen)")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        if generator == "wrk":
            script = Path(tmp) / "load.lua"
            encoded = "{" + ", ".join(_lua_string(json.dumps(body)) for body in bodies) + "}"
            script.write_text(_LUA % {"bodies": encoded}, encoding="utf-8")
            argv = [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(duration))}s",
                f"--timeout={int(request_timeout)}s",
                "-s",
                str(script),
                url,
            ]
        else:
            path = Path(tmp) / "bodies.json"
            path.write_text(json.dumps(bodies), encoding="utf-8")
            argv = [
                sys.executable,
                "-m",
                "bench.loadgen",
                "--url",
                url,
                "--bodies",
                str(path),
                "--connections",
                str(connections),
                "--duration",
                str(duration),
            ]
            if warmup > 0:
                argv += ["--warmup", str(warmup)]
        before = _children_cpu()
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        assert process.stdout is not None and process.stderr is not None
        errors = asyncio.ensure_future(process.stderr.read())
        lines = []
        async for raw in process.stdout:
            line = raw.decode().strip()
            if line in ("MEASURE", "END"):
                if marks is not None:
                    marks(line)
            elif line:
                lines.append(line)
        await process.wait()
        err = await errors
        cpu = _children_cpu() - before
    if process.returncode != 0:
        raise RuntimeError(f"{generator} failed ({process.returncode}): {err.decode()[-2000:]}")
    text = "\n".join(lines)
    if generator == "wrk":
        line = next((ln for ln in lines if ln.startswith("WRKJSON ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no summary:\n{text}\n{err.decode()}")
        data = json.loads(line[len("WRKJSON ") :])
        failures = data["failures"] + data["socket_errors"] + data["timeouts"]
        extra = {k: data[k] for k in ("socket_errors", "timeouts")}
    else:
        data = json.loads(lines[-1])
        failures = data["failures"] + len(data["connection_errors"])
        extra = {"connection_errors": data["connection_errors"]}
    has_latency = data["requests"] > 0
    return LoadResult(
        requests=data["requests"],
        elapsed=data["elapsed"],
        failures=failures,
        p50=data["p50"] if has_latency else None,
        p99=data["p99"] if has_latency else None,
        max=data["max"] if has_latency else None,
        generator=generator,
        generator_cpu_seconds=cpu,
        extra=extra,
        marked=generator == "python" and warmup > 0,
    )
