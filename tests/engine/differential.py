"""One request, answered twice by the real ASGI app: once as the server answers it (queries by
their compiled plan, schema/engine/plan.py), once by graphql-core (Strawberry's
``schema.execute`` with the request's context, formatted by schema/transport/errors.py as the
transport does). The seam is the app's own ``Settings.compiled_execution``, read per request:
off, ``schema/transport/execution.run_graphql_core`` answers. Both runs carry the same
``X-Request-Id``, so masked errors name the same request.

The two bodies must be byte-identical as orjson writes them (key order included), except the
rate limit's ``remaining`` and ``resetSeconds``: each run spends points."""

from __future__ import annotations

import collections
import contextlib
import gc
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from exchange.settings import Settings
from schema.engine import plan
from tests.coroutines import Abandoned, never_awaited

PLANNED, FALLBACK, NOT_COMPILED = "planned", "fallback", "not compiled"
# Refused before execution (validation, admission, a plan refused earlier for this document).
NOT_EXECUTED = "not executed"
# The served answer differed from graphql-core's first, but a later graphql-core run gave it.
REFERENCE_VARIED = "graphql-core varied"
REFERENCE_RETRIES = 6


@dataclass(frozen=True)
class Request:
    query: str
    variables: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def reproducer(self, role: str) -> str:
        lines = [f"role: {role}", f"query: {self.query}"]
        if self.variables is not None:
            lines.append(f"variables: {json.dumps(self.variables, ensure_ascii=False)}")
        if self.headers:
            lines.append(f"headers: {dict(self.headers)}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes  # orjson of the body, the rate limit's counters left out


# What a difference is, when the data are the same and only the errors differ (else "other").
ERROR_ORDER = "the same errors in another order"
ERRORS_MISSING = "errors graphql-core reports are missing"
ERRORS_EXTRA = "errors graphql-core does not report"
ANOTHER_FAILURE = "data null; another field's failure reported"


@dataclass
class Difference:
    request: Request
    role: str
    served: Answer
    graphql_core: Answer

    @property
    def kind(self) -> str:
        served, reference = orjson.loads(self.served.body), orjson.loads(self.graphql_core.body)
        if self.served.status != self.graphql_core.status or served.get("data") != reference.get("data"):
            return "other"
        mine = collections.Counter(orjson.dumps(error) for error in served.get("errors") or [])
        theirs = collections.Counter(orjson.dumps(error) for error in reference.get("errors") or [])
        if mine == theirs:
            return ERROR_ORDER
        if not mine - theirs:
            return ERRORS_MISSING
        if not theirs - mine:
            return ERRORS_EXTRA
        paths = [
            {str(error.get("path")) for error in body.get("errors") or []} for body in (served, reference)
        ]
        if served.get("data") is None and not paths[0] & paths[1]:
            return ANOTHER_FAILURE
        return "other"

    def __str__(self) -> str:
        return (
            f"[{self.kind}]\n{self.request.reproducer(self.role)}\n"
            f"served (HTTP {self.served.status}): {self.served.body.decode()}\n"
            f"graphql-core (HTTP {self.graphql_core.status}): {self.graphql_core.body.decode()}"
        )


def canonical(content: bytes) -> bytes:
    body = orjson.loads(content)
    extensions = body.get("extensions") if isinstance(body, dict) else None
    if isinstance(extensions, dict) and isinstance(extensions.get("rateLimit"), dict):
        extensions["rateLimit"] = {
            k: v for k, v in extensions["rateLimit"].items() if k not in ("remaining", "resetSeconds")
        }
    return orjson.dumps(body)


@dataclass
class Differential:
    http: httpx.AsyncClient
    settings: Settings
    # How the served runs went: answered by the plan, handed to graphql-core, never compiled,
    # never executed.
    paths: collections.Counter[str]
    # Coroutines a served run made and never awaited (work begun and dropped; #14: "nothing
    # left running after the response").
    abandoned: list[str] = field(default_factory=list)
    # The same, left by graphql-core's runs (not the engine's to answer for; reported apart).
    abandoned_by_graphql_core: list[str] = field(default_factory=list)

    async def _send(self, request: Request, key: str | None, request_id: str, compiled: bool) -> Answer:
        headers = {"Content-Type": "application/json", "X-Request-Id": request_id, **dict(request.headers)}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        body: dict[str, Any] = {"query": request.query}
        if request.variables is not None:
            body["variables"] = request.variables
        saved = self.settings.compiled_execution
        self.settings.compiled_execution = compiled
        try:
            response = await self.http.post("/graphql", content=orjson.dumps(body), headers=headers)
        finally:
            self.settings.compiled_execution = saved
        return Answer(response.status_code, canonical(response.content))

    async def compare(self, request: Request, role: str, key: str | None) -> Difference | None:
        request_id = uuid.uuid4().hex
        before = collections.Counter(plan.STATS)
        with self.watching(request, role, self.abandoned):
            served = await self._send(request, key, request_id, compiled=True)
        for name in (PLANNED, FALLBACK, NOT_COMPILED):
            self.paths[name] += plan.STATS[name] - before[name]
        if plan.STATS == before:
            self.paths[NOT_EXECUTED] += 1
        answered = collections.Counter(plan.STATS)
        with self.watching(request, role, self.abandoned_by_graphql_core):
            reference = await self._send(request, key, request_id, compiled=False)
        if served != reference:
            # graphql-core's answer is not always the same: on PostgreSQL, sibling fields run
            # at once and, when several fail under a non-null parent, the first to fail is
            # the one reported. Any answer graphql-core gives is a right one.
            for _ in range(REFERENCE_RETRIES):
                if await self._send(request, key, request_id, compiled=False) == served:
                    self.paths[REFERENCE_VARIED] += 1
                    break
            else:
                return Difference(request, role, served, reference)
        assert plan.STATS == answered, "graphql-core's run went through the plan"
        return None

    @contextlib.contextmanager
    def watching(self, request: Request, role: str, found: list[str]) -> Iterator[None]:
        """Coroutines made in the block and never awaited (freed in it, or by a collection of
        the young generations after it: a full one costs ~30 ms a request) are recorded with
        the request, in ``found``. A collection before the block leaves the earlier runs'
        garbage out of it."""
        gc.collect(1)
        caught: list[Abandoned] = []
        with never_awaited(caught):
            yield
            gc.collect(1)
        if caught:
            found.append(request.reproducer(role) + "\n" + "\n".join(map(str, caught)))


def new_differential(http: httpx.AsyncClient, settings: Settings) -> Differential:
    return Differential(http, settings, collections.Counter())
