"""Baseline (a): the stack's limit. Plain Starlette + asyncpg with hand-written SQL, no
GraphQL engine: it answers the benchmark's ExchangesPage and LargeResult operations with
exactly the JSON our server returns (same global ids, field order, locale fallback and
DateTime format), by operation name. Nothing else.

    uvicorn bench.baseline_asyncpg:create_app --factory   (BENCH_DATABASE_URL=postgres://...)
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# The same visibility rules as exchange.access for an anonymous caller: published exchanges;
# participants whose volunteer chose a public profile (the others are left out of the page and
# its total); every speaker of a published session.
VISIBLE = "e.status <> 'DRAFT'"


def gid(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def pick(texts: dict[str, str], locale: str) -> str | None:
    if not texts:
        return None
    if locale in texts:
        return texts[locale]
    return next(iter(texts.values()))


def instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


async def _init(connection: asyncpg.Connection) -> None:
    # Localized texts are json (key order is the default language), other documents jsonb.
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=orjson.dumps, decoder=orjson.loads, schema="pg_catalog"
        )


async def exchanges_page(conn: asyncpg.Connection, first: int, locale: str) -> dict[str, Any]:
    rows = await conn.fetch(
        f"""SELECT e.id, e.slug, e.titles, h.id AS host_id, h.slug AS host_slug, h.names AS host_names,
                   count(*) OVER () AS total
            FROM exchange e JOIN organisation h ON h.id = e.host_id
            WHERE {VISIBLE} ORDER BY e.starts_on, e.id LIMIT $1""",
        first,
    )
    if rows:
        total = rows[0]["total"]
    else:
        total = await conn.fetchval(f"SELECT count(*) FROM exchange e WHERE {VISIBLE}")
    ids = [row["id"] for row in rows]
    partners: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    for row in await conn.fetch(
        """SELECT ep.exchange_id, o.id, o.slug, o.names FROM exchange_partner ep
           JOIN organisation o ON o.id = ep.organisation_id
           WHERE ep.exchange_id = ANY($1::int[]) ORDER BY ep.exchange_id, o.id""",
        ids,
    ):
        partners[row["exchange_id"]].append(
            {"id": gid("Organisation", row["id"]), "name": pick(row["names"], locale) or row["slug"]}
        )
    speakers: dict[int, list[dict[str, Any]]] = {}
    for row in await conn.fetch(
        """SELECT ss.session_id, v.id, v.full_name FROM session_speaker ss
           JOIN session s ON s.id = ss.session_id JOIN volunteer v ON v.id = ss.volunteer_id
           WHERE s.exchange_id = ANY($1::int[]) AND s.cancelled_at IS NULL
           ORDER BY ss.session_id, v.id""",
        ids,
    ):
        speakers.setdefault(row["session_id"], []).append(
            {"id": gid("Volunteer", row["id"]), "fullName": row["full_name"]}
        )
    sessions: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    for row in await conn.fetch(
        """SELECT id, exchange_id, titles, starts_at FROM session
           WHERE exchange_id = ANY($1::int[]) AND cancelled_at IS NULL ORDER BY starts_at, id""",
        ids,
    ):
        sessions[row["exchange_id"]].append(
            {
                "id": gid("Session", row["id"]),
                "title": pick(row["titles"], locale) or "",
                "startsAt": instant(row["starts_at"]),
                "speakers": speakers.get(row["id"], []),
            }
        )
    participants: dict[int, dict[str, Any]] = {pk: {"totalCount": 0, "edges": []} for pk in ids}
    for row in await conn.fetch(
        """SELECT r.exchange_id, r.role, r.total, r.volunteer_id, r.full_name,
                  o.id AS org_id, o.slug AS org_slug, o.names AS org_names
           FROM (SELECT p.exchange_id, p.role, p.volunteer_id, v.full_name, v.organisation_id,
                        row_number() OVER (PARTITION BY p.exchange_id ORDER BY p.id) AS n,
                        count(*) OVER (PARTITION BY p.exchange_id) AS total
                 FROM participation p JOIN volunteer v ON v.id = p.volunteer_id
                 WHERE p.exchange_id = ANY($1::int[]) AND v.public_profile) r
           LEFT JOIN organisation o ON o.id = r.organisation_id
           WHERE r.n <= $2 ORDER BY r.exchange_id, r.n""",
        ids,
        10,
    ):
        page = participants[row["exchange_id"]]
        page["totalCount"] = row["total"]
        organisation = None
        if row["org_id"] is not None:
            organisation = {
                "id": gid("Organisation", row["org_id"]),
                "name": pick(row["org_names"], locale) or row["org_slug"],
            }
        page["edges"].append(
            {
                "node": {
                    "role": row["role"],
                    "volunteer": {
                        "id": gid("Volunteer", row["volunteer_id"]),
                        "fullName": row["full_name"],
                        "organisation": organisation,
                    },
                }
            }
        )
    edges = [
        {
            "node": {
                "id": gid("ExperienceExchange", row["id"]),
                "slug": row["slug"],
                "title": pick(row["titles"], locale) or row["slug"],
                "host": {
                    "id": gid("Organisation", row["host_id"]),
                    "name": pick(row["host_names"], locale) or row["host_slug"],
                },
                "partners": partners[row["id"]],
                "sessions": sessions[row["id"]],
                "participants": participants[row["id"]],
            }
        }
        for row in rows
    ]
    return {"data": {"exchanges": {"totalCount": total, "edges": edges}}}


async def large_result(conn: asyncpg.Connection, first: int, locale: str) -> dict[str, Any]:
    rows = await conn.fetch(
        f"SELECT e.id, e.slug, e.titles FROM exchange e WHERE {VISIBLE} ORDER BY e.starts_on, e.id LIMIT $1",
        first,
    )
    ids = [row["id"] for row in rows]
    sessions: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    for row in await conn.fetch(
        """SELECT id, exchange_id, titles, starts_at FROM session
           WHERE exchange_id = ANY($1::int[]) AND cancelled_at IS NULL ORDER BY starts_at, id""",
        ids,
    ):
        sessions[row["exchange_id"]].append(
            {
                "id": gid("Session", row["id"]),
                "title": pick(row["titles"], locale) or "",
                "startsAt": instant(row["starts_at"]),
            }
        )
    edges = [
        {
            "node": {
                "id": gid("ExperienceExchange", row["id"]),
                "title": pick(row["titles"], locale) or row["slug"],
                "sessions": sessions[row["id"]],
            }
        }
        for row in rows
    ]
    return {"data": {"exchanges": {"edges": edges}}}


OPERATIONS = {"ExchangesPage": (exchanges_page, 20), "LargeResult": (large_result, 1000)}


def create_app() -> Starlette:
    url = os.environ["BENCH_DATABASE_URL"]
    pool_max = int(os.environ.get("EXCHANGE_DB_POOL_MAX", "10"))
    state: dict[str, asyncpg.Pool] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(url, min_size=1, max_size=pool_max, init=_init)
        try:
            yield
        finally:
            await state["pool"].close()

    async def graphql(request: Request) -> Response:
        body = orjson.loads(await request.body())
        operation = OPERATIONS.get(body.get("operationName") or "")
        if operation is None:
            return JSONResponse({"errors": [{"message": "only the benchmark's operations are served"}]}, 400)
        handler, default_first = operation
        variables = body.get("variables") or {}
        async with state["pool"].acquire() as conn:
            result = await handler(
                conn, int(variables.get("first", default_first)), variables.get("locale", "en")
            )
        return Response(orjson.dumps(result), media_type="application/json")

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/graphql", graphql, methods=["POST"]), Route("/healthz", healthz)], lifespan=lifespan
    )
