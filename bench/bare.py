"""Ours' engine behind a bare handler: how much of ours' excess is the engine and the database
layer, and how much the layers before and after them. A diagnostic, never a server to run.

``bench.bare:create_app`` serves ``POST /graphql`` by the parts that turn a document into
rows and JSON, and nothing else: the body parsed, the document prepared (parsed and validated
once per text, as ours does), its variables coerced, its compiled plan run in one of 8
slots (as ours' default), the data encoded. No middleware (request id, body cap, security
headers), no content negotiation, no cost, authentication beyond the anonymous caller, rate
limit, idempotency, execution deadline or response extensions; a query the plan cannot run,
an error or a refusal is a 500. Measure it beside the others with ``python -m bench.simulated
--server bare`` (instructions and simulated caches, the same every run); in timed windows the
noise of a shared machine hides differences of this size (bench/RESULTS.md, session 12)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from bench import servers
from exchange.settings import Settings, get_settings

SLOTS = 8  # Settings.max_concurrent_executions' default: requests executing at once, as ours


def create_app(settings: Settings | None = None) -> Any:
    """Ours' application for everything but ``POST /graphql`` (its lifespan starts the
    database), and the bare handler for that."""
    from exchange.app import create_app as ours
    from schema.admission.operation import select_operation
    from schema.admission.pipeline import AdmissionPipeline
    from schema.admission.variables import coerce_variables
    from schema.api.context import Context
    from schema.build import default_schema
    from schema.engine.plan import compile_operation, execute

    settings = settings or get_settings()
    app = ours(settings)
    schema = default_schema()._schema  # type: ignore[attr-defined]
    admission = AdmissionPipeline(schema, settings)  # its document cache and limits, nothing else
    slots = asyncio.Semaphore(SLOTS)
    anonymous: list[Any] = []

    async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/graphql" or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        params = orjson.loads(b"".join(chunks))
        prepared = admission.prepare(params["query"])
        operation = select_operation(prepared, params.get("operationName"))
        variables = coerce_variables(
            schema,
            operation,
            params.get("variables") or {},
            admission.limits,
            prepared.variables,
            prepared.coercions,
        )
        if not anonymous:
            anonymous.append(await admission.authenticate(None))
        plan = compile_operation(schema, operation, prepared.fragments, variables.coerced, prepared.plans)
        if plan is None:
            raise RuntimeError("bench.bare serves only what the compiled plan runs")
        context = Context(settings=settings, _actor=anonymous[0])
        context.columns = plan.columns
        async with slots:
            result = await execute(plan, context, variables)
        if result.errors:
            raise RuntimeError(f"bench.bare answers no errors: {result.errors}")
        body = orjson.dumps({"data": result.data})
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return bare


BARE = servers.ServerKind("bare", "bare", "ours' engine and database layer behind a bare handler")
