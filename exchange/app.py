"""The ASGI application: the only place (with the CLI) where exchange/ meets schema/."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from exchange import db, runtime
from exchange.deadlines import within
from exchange.middleware import (
    EdgeMiddleware,
    redact_access_log,
)
from exchange.settings import Settings, get_settings
from exchange.web import board_page, calendar_feeds, certificate_page, invitation_page
from exchange.web.report_page import routes as report_page_routes

log = logging.getLogger("exchange.app")

# Background services (mail dispatcher, expiry sweep, event bus, webhooks) register a
# start function here; each returns an async stop function. Started in the lifespan, after
# the database, stopped in reverse order.
Service = Callable[[Settings, "AppState"], Awaitable[Callable[[], Awaitable[None]]]]


@dataclass
class AppState:
    settings: Settings
    services: dict[str, Any] = field(default_factory=dict)


def background_services(settings: Settings) -> list[Service]:
    from exchange.events.service import start_event_bus
    from exchange.webhooks.worker import start_webhook_worker

    # The bus first (others publish through it), so it stops last.
    services: list[Service] = [start_event_bus]
    if settings.run_webhook_worker:
        services.append(start_webhook_worker)
    if settings.run_mail_dispatcher:
        from exchange.mail.dispatcher import start_service as start_mail_dispatcher

        services.append(start_mail_dispatcher)
    from exchange.invitations.sweeps import start_sweeper

    # Expiry and reminders: safe in every process at once (conditional updates, row locks).
    services.append(start_sweeper)
    from exchange.idempotency import start_purger

    services.append(start_purger)
    return services


async def healthz(_request: Request) -> JSONResponse:
    from exchange.events.service import live_status

    return JSONResponse({"status": "ok", "live": live_status()})


async def readyz(_request: Request) -> JSONResponse:
    # Bounded: a database that stopped answering (not refusing) must not hang the probe.
    with contextlib.suppress(TimeoutError):
        if await within(3, db.ping()):
            return JSONResponse({"status": "ready", "database": "ok"})
    return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)


def create_app(settings: Settings | None = None, *, check_migrations: bool = True) -> Starlette:
    from schema.build import default_schema
    from schema.transport.http import ExchangeGraphQL

    settings = settings or get_settings()
    settings.check_safe()
    redact_access_log()
    state = AppState(settings=settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.init_db(settings)
        stops: list[Callable[[], Awaitable[None]]] = []
        try:
            if check_migrations:
                await db.ensure_migrated()
            for start in background_services(settings):
                stops.append(await start(settings, state))
            runtime.tune_gc(settings)
            yield
        finally:
            for stop in reversed(stops):
                try:
                    await stop()
                except Exception:
                    log.exception("a background service failed to stop cleanly")
            await db.close_db()

    graphql_app = ExchangeGraphQL(default_schema(), settings)
    routes = [
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_app),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        *invitation_page.routes(settings),
        *report_page_routes(settings),
        *calendar_feeds.routes(settings),
        *certificate_page.routes(settings),
        *board_page.routes(),
    ]
    # Every response (even a refused body) carries the request id and nosniff.
    middleware = [Middleware(EdgeMiddleware, max_bytes=settings.max_body_bytes)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=[
                    "Authorization",
                    "Content-Type",
                    "Accept",
                    "Accept-Language",
                    "Idempotency-Key",
                ],
            )
        )
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.exchange = state
    return app
