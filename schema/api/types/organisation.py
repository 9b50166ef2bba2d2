from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from exchange import i18n, models
from exchange.statistics import ScopeKind, Subject
from schema.api import fetches
from schema.api.connections import Connection
from schema.api.context import Info
from schema.api.scalars import CountryCode, LanguageCode
from schema.api.types.enums import OrganisationKind
from schema.api.types.node import LocalizedText, Node, model_identity, translations
from schema.api.types.participation import page_connection
from schema.api.types.statistics import ImpactStatistics, StatisticsFilterInput, subject
from schema.engine.declarations import Reads, ToOne, declare

if TYPE_CHECKING:
    from schema.api.types.exchange import ExperienceExchange


@strawberry.type(name="Organisation")
class Organisation(Node):
    is_type_of, id = model_identity(models.Organisation, "Organisation")

    slug: str

    @strawberry.field(
        description="Name in the requested locale, falling back to the organisation's default language.",
        metadata=declare(fetches.localized("names", fallback_attribute="slug")),
    )
    @staticmethod
    def name(
        root: strawberry.Parent[models.Organisation], info: Info, locale: LanguageCode | None = None
    ) -> str:
        return i18n.pick_text(root.names, info.context.locales(locale)) or root.slug

    @strawberry.field(
        description="Every translation of the name, default language first (for edit forms).",
        metadata=declare(Reads("names")),
    )
    @staticmethod
    def names(root: strawberry.Parent[models.Organisation]) -> list[LocalizedText]:
        return translations(root.names)

    kind: OrganisationKind
    country: CountryCode | None = strawberry.field(
        description="Null for bodies that belong to no single country (UN, SCO, CICA, CIS)."
    )
    website: str | None

    @strawberry.field(
        graphql_type="Organisation | None",
        metadata=declare(
            ToOne("parent_id", fetches.organisations, loader="organisation", every_key=True, shared=True),
            joins=fetches.ORGANISATION_JOINS,
        ),
    )
    @staticmethod
    async def parent(root: strawberry.Parent[models.Organisation], info: Info) -> models.Organisation | None:
        parent_id = root.parent_id
        return None if parent_id is None else await info.context.loaders.organisation.load(parent_id)

    @strawberry.field(
        description="Exchanges the organisation hosts or co-organises (those the viewer may see), "
        "by start date.",
        metadata=declare(Reads("id")),
    )
    @staticmethod
    async def exchanges(
        root: strawberry.Parent[models.Organisation],
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[ExperienceExchange, strawberry.lazy("schema.api.types.exchange")]]:
        args = info.context.page_args(first, after, last, before)
        return page_connection(await info.context.loaders.organisation_exchanges.load((root.id, args)))

    @strawberry.field(
        description="Impact statistics over the exchanges the organisation hosts or co-organises (those "
        "the viewer may see, kept by the filter): exact for the organisation itself and admins; for "
        "anyone else, breakdowns of people follow the small-count rule (see ImpactStatistics).",
        graphql_type=ImpactStatistics,
        metadata=declare(Reads("id")),
    )
    @staticmethod
    def statistics(
        root: strawberry.Parent[models.Organisation], filter: StatisticsFilterInput | None = None
    ) -> Subject:
        return subject(ScopeKind.ORGANISATION, root.id, filter)
