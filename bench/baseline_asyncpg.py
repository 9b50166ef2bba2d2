"""Baseline (a): the stack's limit, a fair one. Plain Starlette + asyncpg with hand-written SQL,
no GraphQL engine: it answers the benchmark's three operations (ExchangesPage, LargeResult,
NodeLookup) with exactly the JSON our server returns (same global ids, field order, locale
fallback and DateTime format), by operation name. Nothing else.

It is meant to be what a competent engineer would write for these pages, so that "ours
against the baseline" measures the engine and not a handicap (if ours ever looks faster,
suspect this file first). Each statement was chosen with EXPLAIN ANALYZE on the benchmark's
data set (bench/RESULTS.md, "Session 3"):

* the total is counted apart (an uncorrelated scalar subquery, which PostgreSQL runs once as
  an InitPlan, over the exchange table alone), never ``count(*) OVER ()`` on the page, which
  makes PostgreSQL join and aggregate every exchange with its host before the LIMIT;
* one statement per nesting level, with ``= ANY($1)`` over the ids in hand (a single array
  parameter, so asyncpg reuses one prepared statement whatever the page size): speakers by
  the page's session ids, not by joining every session of the page's exchanges;
* participants: the visible participations of the page's exchanges numbered per exchange,
  each exchange's and each volunteer's row reached by index (LATERAL), not by hashing the
  whole volunteer table;
* no session reset query when a connection goes back to the pool (asyncpg sends one by
  default, a round trip per request; nothing here leaves session state behind), orjson for
  the json columns and the response, the garbage collector tuned like ours
  (exchange/runtime.py: threshold 200,000 and ``gc.freeze()`` after start-up, the same
  EXCHANGE_GC_* settings).

The caller is anonymous, like the benchmark's requests to our server, and the visibility
rules are exchange.access's for an anonymous caller (see VISIBLE and the statements).

    uvicorn bench.baseline_asyncpg:create_app --factory   (BENCH_DATABASE_URL=postgres://...)
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import gc
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# exchange.access's rules for an anonymous caller: published exchanges (every non-DRAFT one);
# participations whose volunteer chose a public profile, NO_SHOW left out (hidden ones are out
# of the edges and of totalCount); every speaker of a session of a visible exchange; a
# volunteer by id when public or speaking at a session of a visible exchange.
VISIBLE = "e.status <> 'DRAFT'"

PAGE = f"""SELECT e.id, e.slug, e.titles, h.id, h.slug, h.names,
                  (SELECT count(*) FROM exchange c WHERE c.status <> 'DRAFT')
           FROM exchange e JOIN organisation h ON h.id = e.host_id
           WHERE {VISIBLE} ORDER BY e.starts_on, e.id LIMIT $1"""
COUNT = f"SELECT count(*) FROM exchange e WHERE {VISIBLE}"
PARTNERS = """SELECT ep.exchange_id, o.id, o.slug, o.names FROM exchange_partner ep
              JOIN organisation o ON o.id = ep.organisation_id
              WHERE ep.exchange_id = ANY($1::int[]) ORDER BY ep.exchange_id, o.id"""
SESSIONS = """SELECT id, exchange_id, titles, starts_at FROM session
              WHERE exchange_id = ANY($1::int[]) AND cancelled_at IS NULL ORDER BY starts_at, id"""
# The scalar subquery makes the name a lookup by primary key per speaker (about 300 a page);
# written as a join, PostgreSQL hashed all 20,000 volunteers for them (3.5 against 0.7 ms).
SPEAKERS = """SELECT ss.session_id, ss.volunteer_id,
                     (SELECT v.full_name FROM volunteer v WHERE v.id = ss.volunteer_id)
              FROM session_speaker ss WHERE ss.session_id = ANY($1::int[])
              ORDER BY ss.session_id, ss.volunteer_id"""
PARTICIPANTS = """SELECT r.exchange_id, r.total, r.role, r.volunteer_id, r.full_name, o.id, o.slug, o.names
    FROM (SELECT p.exchange_id, p.role, p.volunteer_id, v.full_name, v.organisation_id,
                 row_number() OVER (PARTITION BY p.exchange_id ORDER BY p.id) AS n,
                 count(*) OVER (PARTITION BY p.exchange_id) AS total
          FROM unnest($1::int[]) AS x(id)
          JOIN LATERAL (SELECT lp.id, lp.exchange_id, lp.role, lp.volunteer_id, lp.status
                        FROM participation lp WHERE lp.exchange_id = x.id) p ON true
          JOIN LATERAL (SELECT lv.full_name, lv.organisation_id FROM volunteer lv
                        WHERE lv.id = p.volunteer_id AND lv.public_profile) v ON true
          WHERE p.status <> 'NO_SHOW') r
    LEFT JOIN organisation o ON o.id = r.organisation_id
    WHERE r.n <= $2 ORDER BY r.exchange_id, r.n"""
LARGE_PAGE = (
    f"SELECT e.id, e.slug, e.titles FROM exchange e WHERE {VISIBLE} ORDER BY e.starts_on, e.id LIMIT $1"
)
NODE_EXCHANGE = f"""SELECT e.slug, e.titles, h.slug, h.names FROM exchange e JOIN organisation h ON h.id = e.host_id
                    WHERE e.id = $1 AND {VISIBLE}"""
NODE_VOLUNTEER = """SELECT v.full_name, v.country FROM volunteer v WHERE v.id = $1 AND (v.public_profile
                    OR EXISTS (SELECT 1 FROM session_speaker sv JOIN session svs ON svs.id = sv.session_id
                               JOIN exchange e ON e.id = svs.exchange_id
                               WHERE sv.volunteer_id = v.id AND e.status <> 'DRAFT'))"""

PARTICIPANTS_PAGE = 10  # participants(first: 10) in the document

_URLSAFE = bytes.maketrans(b"+/", b"-_")


def gid(type_name: str, pk: int) -> str:
    return (
        binascii.b2a_base64(f"{type_name}:{pk}".encode(), newline=False)
        .translate(_URLSAFE)
        .rstrip(b"=")
        .decode()
    )


def parse_gid(value: str) -> tuple[str, int] | None:
    try:
        raw = base64.urlsafe_b64decode((value + "=" * (-len(value) % 4)).encode()).decode()
        type_name, _, pk = raw.partition(":")
        return type_name, int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def pick(texts: dict[str, str], locale: str) -> str | None:
    """The text in ``locale``, else in the default language (the json column's first key)."""
    if not texts:
        return None
    if locale in texts:
        return texts[locale]
    return next(iter(texts.values()))


_UTC = dt.UTC


def instant(value: dt.datetime) -> str:
    return (value if value.tzinfo is _UTC else value.astimezone(_UTC)).isoformat()


async def _init(connection: asyncpg.Connection) -> None:
    # Localized texts are json (key order is the default language), other documents jsonb.
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=orjson.dumps, decoder=orjson.loads, schema="pg_catalog"
        )


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """Replaces asyncpg's reset query (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL) when a
    connection goes back to the pool: nothing here sets session state. asyncpg still rolls
    back an open transaction first. Our server does the same (exchange/db.py)."""


async def exchanges_page(conn: asyncpg.Connection, first: int, locale: str) -> dict[str, Any]:
    rows = await conn.fetch(PAGE, first)
    total = rows[0][6] if rows else await conn.fetchval(COUNT)
    ids = [row[0] for row in rows]
    partners: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    for exchange_id, pk, slug, names in await conn.fetch(PARTNERS, ids):
        partners[exchange_id].append({"id": gid("Organisation", pk), "name": pick(names, locale) or slug})
    session_rows = await conn.fetch(SESSIONS, ids)
    speakers: dict[int, list[dict[str, Any]]] = {row[0]: [] for row in session_rows}
    if session_rows:
        for session_id, pk, full_name in await conn.fetch(SPEAKERS, list(speakers)):
            speakers[session_id].append({"id": gid("Volunteer", pk), "fullName": full_name})
    sessions: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    for pk, exchange_id, titles, starts_at in session_rows:
        sessions[exchange_id].append(
            {
                "id": gid("Session", pk),
                "title": pick(titles, locale) or "",
                "startsAt": instant(starts_at),
                "speakers": speakers[pk],
            }
        )
    participants: dict[int, dict[str, Any]] = {pk: {"totalCount": 0, "edges": []} for pk in ids}
    organisations: dict[int, dict[str, Any]] = {}
    for exchange_id, count, role, volunteer_id, full_name, org_id, org_slug, org_names in await conn.fetch(
        PARTICIPANTS, ids, PARTICIPANTS_PAGE
    ):
        page = participants[exchange_id]
        page["totalCount"] = count
        organisation = None
        if org_id is not None:
            organisation = organisations.get(org_id)
            if organisation is None:
                organisation = organisations[org_id] = {
                    "id": gid("Organisation", org_id),
                    "name": pick(org_names, locale) or org_slug,
                }
        page["edges"].append(
            {
                "node": {
                    "role": role,
                    "volunteer": {
                        "id": gid("Volunteer", volunteer_id),
                        "fullName": full_name,
                        "organisation": organisation,
                    },
                }
            }
        )
    edges = [
        {
            "node": {
                "id": gid("ExperienceExchange", pk),
                "slug": slug,
                "title": pick(titles, locale) or slug,
                "host": {"id": gid("Organisation", host_id), "name": pick(host_names, locale) or host_slug},
                "partners": partners[pk],
                "sessions": sessions[pk],
                "participants": participants[pk],
            }
        }
        for pk, slug, titles, host_id, host_slug, host_names, _total in rows
    ]
    return {"data": {"exchanges": {"totalCount": total, "edges": edges}}}


async def large_result(conn: asyncpg.Connection, first: int, locale: str) -> dict[str, Any]:
    rows = await conn.fetch(LARGE_PAGE, first)
    ids = [row[0] for row in rows]
    sessions: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    for pk, exchange_id, titles, starts_at in await conn.fetch(SESSIONS, ids):
        sessions[exchange_id].append(
            {"id": gid("Session", pk), "title": pick(titles, locale) or "", "startsAt": instant(starts_at)}
        )
    edges = [
        {
            "node": {
                "id": gid("ExperienceExchange", pk),
                "title": pick(titles, locale) or slug,
                "sessions": sessions[pk],
            }
        }
        for pk, slug, titles in rows
    ]
    return {"data": {"exchanges": {"edges": edges}}}


async def node_lookup(conn: asyncpg.Connection, global_id: str, locale: str) -> dict[str, Any]:
    """Exchanges and volunteers, the two types the benchmark looks up; any other id, or one
    the anonymous caller may not see, is null like an unknown id."""
    node: dict[str, Any] | None = None
    found = parse_gid(global_id)
    if found is not None and found[0] == "ExperienceExchange":
        row = await conn.fetchrow(NODE_EXCHANGE, found[1])
        if row is not None:
            slug, titles, host_slug, host_names = row
            node = {
                "id": global_id,
                "slug": slug,
                "title": pick(titles, locale) or slug,
                "host": {"name": pick(host_names, locale) or host_slug},
            }
    elif found is not None and found[0] == "Volunteer":
        row = await conn.fetchrow(NODE_VOLUNTEER, found[1])
        if row is not None:
            node = {"id": global_id, "fullName": row[0], "country": row[1]}
    return {"data": {"node": node}}


def _tune_gc() -> None:
    """As exchange/runtime.py does for our server, with the same settings and defaults."""
    threshold = int(os.environ.get("EXCHANGE_GC_THRESHOLD", "200000"))
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(threshold, gen1, gen2)
    if os.environ.get("EXCHANGE_GC_FREEZE", "true").lower() not in ("0", "false", "no"):
        gc.collect()
        gc.freeze()


def create_app() -> Starlette:
    url = os.environ["BENCH_DATABASE_URL"]
    pool_max = int(os.environ.get("EXCHANGE_DB_POOL_MAX", "10"))
    state: dict[str, asyncpg.Pool] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(
            url, min_size=pool_max, max_size=pool_max, init=_init, reset=_keep_session
        )
        _tune_gc()
        try:
            yield
        finally:
            await state["pool"].close()

    async def graphql(request: Request) -> Response:
        body = orjson.loads(await request.body())
        name = body.get("operationName") or ""
        variables = body.get("variables") or {}
        locale = variables.get("locale", "en")
        async with state["pool"].acquire() as conn:
            if name == "ExchangesPage":
                result = await exchanges_page(conn, int(variables.get("first", 20)), locale)
            elif name == "LargeResult":
                result = await large_result(conn, int(variables.get("first", 1000)), locale)
            elif name == "NodeLookup" and isinstance(variables.get("id"), str):
                result = await node_lookup(conn, variables["id"], locale)
            else:
                return Response(
                    orjson.dumps({"errors": [{"message": "only the benchmark's operations are served"}]}),
                    400,
                    media_type="application/json",
                )
        return Response(orjson.dumps(result), media_type="application/json")

    async def healthz(_request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(
        routes=[Route("/graphql", graphql, methods=["POST"]), Route("/healthz", healthz)], lifespan=lifespan
    )
