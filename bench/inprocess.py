"""Per-request CPU without HTTP or load: ``python -m bench.inprocess [--server ours|asyncpg]
[--scenario page10] [--requests 3000]``.

The server's ASGI app is called directly in this process, one request after another, on the
``exchange_bench`` data set (``python -m bench generate``), and the process's CPU time per
request is printed. No sockets, no load generator, no other requests in flight: what is left
is the application's own work per request (and the database driver's), which moves far less
between runs than a loaded window does. Used to measure one change at a time; the targets are
judged by ``bench run`` only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson

from bench import datagen, runner, servers
from bench.asgi import post_scope

DATABASE = "postgres://postgres@127.0.0.1:5432/exchange_bench"


def _body(scenario: str) -> bytes:
    """``page<N>``: the run's ExchangesPage request (runner.scenario); ``node``: NodeLookup of
    one exchange, the same every time (the run's node scenario varies the ids)."""
    if scenario == "node":
        variables = {"id": datagen.gid("ExperienceExchange", 5)}
        document = runner.operations()["NodeLookup"]
        return orjson.dumps({"query": document, "operationName": "NodeLookup", "variables": variables})
    if not re.fullmatch(r"page\d+", scenario):  # on exchange_bench: no other scale, one body
        raise SystemExit(f"unknown scenario {scenario!r}: page<N> or node")
    return orjson.dumps(runner.scenario(scenario, datagen.FULL).bodies[0])


def _app(server: str, database: str) -> Any:
    # Exactly the environment ``bench run`` starts each server with (its EXCHANGE_ settings only).
    environment = servers.server_env(database, page_size_cap=1000)
    os.environ.clear()
    os.environ.update(environment)
    if server == "asyncpg":
        from bench.baseline_asyncpg import create_app as fair_app

        return fair_app()
    from exchange.app import create_app

    return create_app()


async def _call(app: Any, body: bytes) -> tuple[int, bytes]:
    scope = post_scope(
        "/graphql",
        [
            (b"content-type", b"application/json"),
            (b"accept", b"application/graphql-response+json, application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    )
    delivered = False
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # the client never leaves
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"]), b"".join(m.get("body", b"") for m in sent[1:])


@contextlib.asynccontextmanager
async def serving(
    server: str, scenario: str, database: str, warmup: int
) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    """The app started, its first answer checked (no errors), ``warmup`` requests sent; yields
    the call that sends the scenario's request once more."""
    app, body = _app(server, database), _body(scenario)
    async with app.router.lifespan_context(app):
        status, answer = await _call(app, body)
        if status != 200 or b'"errors"' in answer:
            raise SystemExit(f"{server}, {scenario}: {status} {answer[:300]!r}")
        for _ in range(warmup):
            await _call(app, body)
        yield lambda: _call(app, body)


async def measure(server: str, scenario: str, requests: int, database: str) -> float:
    """CPU ms per request, after 200 requests of warm-up."""
    async with serving(server, scenario, database, 200) as send:
        started = time.process_time()
        for _ in range(requests):
            await send()
        return (time.process_time() - started) / requests * 1000


def use_uvloop() -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # the servers run on uvloop when it is there
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("--server", choices=("ours", "asyncpg"), default="ours")
    parser.add_argument("--scenario", default="page10", help="page<N> or node (on exchange_bench)")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args(argv)
    use_uvloop()
    cpu = asyncio.run(measure(args.server, args.scenario, args.requests, args.database))
    print(f"{args.server}, {args.scenario}: {cpu:.3f} ms of CPU per request (in-process, sequential)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
