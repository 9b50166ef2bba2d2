"""Root query fields: each decodes arguments, calls one service or loader, wraps the result."""

from __future__ import annotations

import strawberry

from exchange import exchanges, models, organisations, volunteers
from schema.api import fetches
from schema.api.connections import Connection, build_connection, paginate_queryset
from schema.api.context import Info
from schema.api.scalars import CountryCode, LanguageCode
from schema.api.types.enums import OrganisationKind
from schema.api.types.exchange import ExchangeFilter, ExperienceExchange
from schema.api.types.organisation import Organisation
from schema.api.types.outcome import sdg_filter
from schema.api.types.volunteer import Volunteer
from schema.engine.declarations import RootPage, declare


@strawberry.type
class OrganisationQueries:
    @strawberry.field
    async def organisations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        kind: OrganisationKind | None = None,
        country: CountryCode | None = None,
    ) -> Connection[Organisation]:
        info.context.actor  # noqa: B018  (an invalid key is refused even for public data)
        queryset = organisations.list_organisations(kind=kind, country=country)
        return await paginate_queryset(queryset, info.context.page_args(first, after, last, before))

    @strawberry.field(graphql_type=Organisation | None)
    async def organisation(self, info: Info, slug: str) -> models.Organisation | None:
        info.context.actor  # noqa: B018
        return await organisations.get_by_slug(slug)


def exchange_filter(given: ExchangeFilter | None) -> exchanges.ExchangeFilter | None:
    if given is None:
        return None
    return exchanges.ExchangeFilter(
        theme=given.theme,
        status=given.status,
        country=given.country,
        language=given.language,
        starts_after=given.starts_after,
        starts_before=given.starts_before,
        search=given.search,
        sdgs=sdg_filter(given.sdgs, "filter.sdgs"),
    )


@strawberry.type
class ExchangeQueries:
    @strawberry.field(
        description="Exchanges the caller may see, by start date then id.",
        metadata=declare(RootPage(fetches.exchange_page, fetches.PAGING), joins=fetches.EXCHANGE_JOINS),
    )
    async def exchanges(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ExchangeFilter | None = None,
    ) -> Connection[ExperienceExchange]:
        context = info.context
        # Hosts come with the page (a JOIN instead of one more statement); the loader serves them.
        page = await exchanges.page_exchanges(
            context.actor,
            exchange_filter(filter),
            context.page_args(first, after, last, before),
            context.columns.get(models.Exchange),
            context.columns.get(models.Organisation),
        )
        context.loaders.organisation.prime_many(page.hosts)
        return build_connection(page.nodes, page.start, page.total)

    @strawberry.field(
        description="Null when no exchange has this slug or the caller may not see it.",
        graphql_type=ExperienceExchange | None,
    )
    async def exchange(self, info: Info, slug: str) -> models.Exchange | None:
        return await exchanges.visible_exchange_by_slug(info.context.actor, slug)


@strawberry.type
class VolunteerQueries:
    @strawberry.field(
        description="Organisations and platform admins only; an organisation lists the volunteers it "
        "sends, those of the exchanges it organises (participants, invitees who accepted), speakers of "
        "sessions it may see and volunteers with a public profile. `skill` matches a whole skill, "
        "ignoring case."
    )
    async def volunteers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        country: CountryCode | None = None,
        language: LanguageCode | None = None,
        skill: str | None = None,
    ) -> Connection[Volunteer]:
        context = info.context
        page = await volunteers.page_volunteers(
            context.actor,
            volunteers.VolunteerFilter(country=country, language=language, skill=skill),
            context.page_args(first, after, last, before),
            context.columns.get(models.Volunteer),
        )
        return build_connection(page.nodes, page.start, page.total)
