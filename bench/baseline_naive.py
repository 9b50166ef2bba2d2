"""Baseline (b): what a new user of the same libraries would write. Strawberry + Tortoise
(the same models, the same pool settings), resolvers that await each related object per
object, no DataLoaders, no hand-written SQL. It serves the benchmark's three documents with
the same JSON as our server; nothing else.

    uvicorn bench.baseline_naive:create_app --factory   (BENCH_DATABASE_URL=postgres://...)
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import os
from collections.abc import AsyncIterator
from typing import Any

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from exchange import db, models
from exchange.settings import Settings


def gid(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("="))


def text(texts: dict[str, str], locale: str | None) -> str | None:
    if not texts:
        return None
    if locale and locale in texts:
        return texts[locale]
    return next(iter(texts.values()))


LanguageCode = strawberry.scalar(str, name="LanguageCode")
CountryCode = strawberry.scalar(str, name="CountryCode")
DateTime = strawberry.scalar(
    dt.datetime,
    name="DateTime",
    serialize=lambda value: value.astimezone(dt.UTC).isoformat(),
    parse_value=str,
)


@strawberry.interface
class Node:
    id: strawberry.ID


@strawberry.type
class Organisation(Node):
    instance: strawberry.Private[models.Organisation]

    @strawberry.field
    def name(self, locale: LanguageCode | None = None) -> str:  # type: ignore[valid-type]
        return text(self.instance.names, locale) or self.instance.slug


@strawberry.type
class Volunteer(Node):
    instance: strawberry.Private[models.Volunteer]
    full_name: str
    country: CountryCode  # type: ignore[valid-type]

    @strawberry.field
    async def organisation(self) -> Organisation | None:
        org = await self.instance.organisation  # type: ignore[misc]
        return None if org is None else Organisation(id=gid("Organisation", org.id), instance=org)


def volunteer(v: models.Volunteer) -> Volunteer:
    return Volunteer(id=gid("Volunteer", v.id), instance=v, full_name=v.full_name, country=v.country)


@strawberry.type
class Session(Node):
    instance: strawberry.Private[models.Session]
    starts_at: DateTime  # type: ignore[valid-type]

    @strawberry.field
    def title(self, locale: LanguageCode | None = None) -> str:  # type: ignore[valid-type]
        return text(self.instance.titles, locale) or ""

    @strawberry.field
    async def speakers(self) -> list[Volunteer]:
        return [volunteer(v) for v in await self.instance.speakers.all().order_by("id")]


@strawberry.type
class Participation:
    instance: strawberry.Private[models.Participation]
    role: str

    @strawberry.field
    async def volunteer(self) -> Volunteer:
        return volunteer(await self.instance.volunteer)


@strawberry.type
class ParticipationEdge:
    node: Participation


@strawberry.type
class ParticipationConnection:
    total_count: int
    edges: list[ParticipationEdge]


@strawberry.type
class ExperienceExchange(Node):
    instance: strawberry.Private[models.Exchange]
    slug: str

    @strawberry.field
    def title(self, locale: LanguageCode | None = None) -> str:  # type: ignore[valid-type]
        return text(self.instance.titles, locale) or self.instance.slug

    @strawberry.field
    async def host(self) -> Organisation:
        org = await self.instance.host
        return Organisation(id=gid("Organisation", org.id), instance=org)

    @strawberry.field
    async def partners(self) -> list[Organisation]:
        return [
            Organisation(id=gid("Organisation", o.id), instance=o)
            for o in await self.instance.partners.all().order_by("id")
        ]

    @strawberry.field
    async def sessions(self) -> list[Session]:
        found = await self.instance.sessions.filter(  # type: ignore[attr-defined]
            cancelled_at=None
        ).order_by("starts_at", "id")
        return [Session(id=gid("Session", s.id), instance=s, starts_at=s.starts_at) for s in found]

    @strawberry.field
    async def participants(self, first: int | None = None) -> ParticipationConnection:
        # exchange.access's rule for an anonymous caller: public profiles only.
        queryset = models.Participation.filter(
            exchange_id=self.instance.id, volunteer__public_profile=True
        ).order_by("id")
        total = await queryset.count()
        rows = await queryset.limit(first or 100)
        return ParticipationConnection(
            total_count=total,
            edges=[ParticipationEdge(node=Participation(instance=p, role=p.role.value)) for p in rows],
        )


def exchange(e: models.Exchange) -> ExperienceExchange:
    return ExperienceExchange(id=gid("ExperienceExchange", e.id), instance=e, slug=e.slug)


@strawberry.type
class ExchangeEdge:
    node: ExperienceExchange


@strawberry.type
class ExchangeConnection:
    total_count: int
    edges: list[ExchangeEdge]


@strawberry.type
class Query:
    @strawberry.field
    async def exchanges(self, first: int | None = None) -> ExchangeConnection:
        queryset = models.Exchange.exclude(status=models.ExchangeStatus.DRAFT).order_by("starts_on", "id")
        total = await queryset.count()
        rows = await queryset.limit(first or 100)
        return ExchangeConnection(total_count=total, edges=[ExchangeEdge(node=exchange(e)) for e in rows])

    @strawberry.field
    async def node(self, id: strawberry.ID) -> Node | None:
        try:
            raw = base64.urlsafe_b64decode(id + "=" * (-len(id) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        type_name, _, pk = raw.partition(":")
        if type_name == "ExperienceExchange":
            found = await models.Exchange.get_or_none(id=int(pk))
            return None if found is None or found.status == models.ExchangeStatus.DRAFT else exchange(found)
        if type_name == "Volunteer":
            # Seen by anyone with a public profile, or as a speaker of a published session.
            v = await models.Volunteer.get_or_none(id=int(pk))
            if v is None:
                return None
            if not v.public_profile:
                published = models.Session.filter(speakers__id=v.id).exclude(
                    exchange__status=models.ExchangeStatus.DRAFT
                )
                if not await published.exists():
                    return None
            return volunteer(v)
        return None


schema = strawberry.Schema(query=Query, types=[ExperienceExchange, Volunteer])


def create_app() -> Starlette:
    settings = Settings(database_url=os.environ["BENCH_DATABASE_URL"])

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await db.init_db(settings)
        try:
            yield
        finally:
            await db.close_db()

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    graphql: Any = GraphQL(schema, graphql_ide=None)
    return Starlette(
        routes=[Route("/graphql", graphql, methods=["GET", "POST"]), Route("/healthz", healthz)],
        lifespan=lifespan,
    )
