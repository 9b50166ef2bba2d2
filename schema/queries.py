"""Root query fields: each decodes arguments, calls one service or loader, wraps the result."""

from __future__ import annotations

import strawberry

from exchange import organisations
from schema.context import Info
from schema.relay import Connection, PageArgs, paginate_queryset
from schema.scalars import CountryCode
from schema.types.enums import OrganisationKind
from schema.types.organisation import Organisation


def page_args(
    info: Info, first: int | None, after: str | None, last: int | None, before: str | None
) -> PageArgs:
    cap = info.context.settings.page_size_cap
    return PageArgs.parse(first, after, last, before, cap).default_first(cap)


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
        return await paginate_queryset(queryset, page_args(info, first, after, last, before))

    @strawberry.field
    async def organisation(self, info: Info, slug: str) -> Organisation | None:
        info.context.actor  # noqa: B018
        return await organisations.get_by_slug(slug)  # type: ignore[return-value]
