"""A small closed-loop HTTP/1.1 load generator, run as its own process:

    python -m bench.loadgen --url http://127.0.0.1:8000/graphql --bodies bodies.json \
        --connections 32 --duration 10

Each connection keeps one request in flight (keep-alive) and picks bodies round-robin from
the JSON list. Prints one JSON object: requests, failures, elapsed, p50/p99/max latency and
the generator's own CPU seconds (on a 2-core machine it competes with the server: the
bench reports it). ``wrk`` is preferred when installed; this is the fallback.

A response counts as failed unless it is a 200 whose body has no top-level "errors".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from urllib.parse import urlparse


def _request(host: str, port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        lowered = name.strip().lower()
        if lowered == "content-length":
            length = int(value.strip())
        elif lowered == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if length is not None:
        return status, await reader.readexactly(length)
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        return status, b"".join(parts)
    raise RuntimeError("response without Content-Length or chunked encoding")


def _ok(status: int, body: bytes) -> bool:
    return status == 200 and b'"errors"' not in body


async def run(
    url: str, bodies: list[bytes], connections: int, duration: float, warmup: float = 0.0
) -> dict[str, object]:
    """Load for ``warmup`` then ``duration`` seconds. With a warm-up, the lines ``MEASURE`` and
    ``END`` are printed when the measured part begins and ends, and only what completed in
    between is counted: the caller reads the server's CPU time at both lines, so in a steady
    state the requests in flight at either end cancel out."""
    parts = urlparse(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
    requests = [_request(host, port, path, body) for body in bodies]
    latencies: list[float] = []
    failures = 0
    counter = 0
    measuring = warmup <= 0
    begin = time.perf_counter()
    deadline = begin + warmup + duration

    async def worker(offset: int) -> None:
        nonlocal failures, counter
        reader, writer = await asyncio.open_connection(host, port)
        index = offset
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(requests[index % len(requests)])
                index += connections
                status, body = await _read_response(reader)
                if not measuring or time.perf_counter() > deadline:
                    continue
                latencies.append(time.perf_counter() - started)
                counter += 1
                if not _ok(status, body):
                    failures += 1
        finally:
            writer.close()

    async def marks() -> float:
        nonlocal measuring
        await asyncio.sleep(warmup)
        measuring = True
        started = time.perf_counter()
        sys.stdout.write("MEASURE\n")
        sys.stdout.flush()
        await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
        sys.stdout.write("END\n")
        sys.stdout.flush()
        return time.perf_counter() - started

    started = time.perf_counter()
    marking = asyncio.ensure_future(marks()) if warmup > 0 else None
    results = await asyncio.gather(*(worker(i) for i in range(connections)), return_exceptions=True)
    elapsed = await marking if marking is not None else time.perf_counter() - started
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    latencies.sort()

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "requests": counter,
        "failures": failures,
        "connection_errors": errors[:5],
        "elapsed": elapsed,
        "p50": pct(50),
        "p99": pct(99),
        "max": latencies[-1] if latencies else None,
        "loadgen_cpu_seconds": usage.ru_utime + usage.ru_stime,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--bodies", required=True, help="JSON file: a list of request bodies (objects)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=0.0, help="load before the measured part (see run)")
    args = parser.parse_args()
    with open(args.bodies, encoding="utf-8") as handle:
        bodies = [json.dumps(body).encode() for body in json.load(handle)]
    coroutine = run(args.url, bodies, args.connections, args.duration, args.warmup)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(coroutine)
    else:
        result = uvloop.run(coroutine)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
