"""Experience reports (exchange.reports): what hosts, partners and participants learned."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import strawberry

from exchange import i18n, models, reports
from exchange.markdown import to_html
from exchange.models import ReportAuthorKind, ReportStatus
from schema.api.context import Info
from schema.api.node import node_resolver
from schema.api.scalars import CountryCode, LanguageCode
from schema.api.types.enums import Theme
from schema.api.types.exchange import ExperienceExchange
from schema.api.types.node import LocalizedText, Node, model_identity, translations
from schema.api.types.organisation import Organisation
from schema.api.types.outcome import ExchangeOutcome
from schema.api.types.volunteer import Volunteer
from schema.engine.declarations import Reads, declare

strawberry.enum(ReportStatus, name="ExperienceReportStatus")
strawberry.enum(ReportAuthorKind, name="ExperienceReportAuthorKind")


@dataclass(frozen=True)
class Author:
    """Who wrote a report, as stored on it (the root of ExperienceReportAuthor)."""

    kind: ReportAuthorKind
    organisation_id: int | None
    volunteer_id: int | None


@strawberry.type(name="ExperienceReportAuthor")
class ExperienceReportAuthor:
    kind: ReportAuthorKind

    @strawberry.field(
        description="The writing organisation (host or partner); for a participant, the organisation "
        "that sends them, if any.",
        graphql_type=Organisation | None,
    )
    @staticmethod
    async def organisation(root: strawberry.Parent[Author], info: Info) -> models.Organisation | None:
        organisation_id = root.organisation_id
        return (
            None if organisation_id is None else await info.context.loaders.organisation.load(organisation_id)
        )

    @strawberry.field(
        description="The participant who wrote it, only where the people rule lets the caller see them "
        "(a public profile; for organisations also those they send or whose exchange they organise; "
        "admins). Null otherwise, for reports by organisations, and after the person's data was erased.",
        graphql_type=Volunteer | None,
    )
    @staticmethod
    async def volunteer(root: strawberry.Parent[Author], info: Info) -> models.Volunteer | None:
        volunteer_id = root.volunteer_id
        return (
            None if volunteer_id is None else await info.context.loaders.visible_volunteer.load(volunteer_id)
        )


def _html(texts: dict[str, str], preferred: list[str]) -> str | None:
    text = i18n.pick_text(texts, preferred)
    return None if text is None else to_html(text)


@strawberry.type(
    name="ExperienceReport",
    description="A report on a completed exchange. Published ones are public wherever the exchange is; "
    "others are seen by the exchange's host, partners and platform admins (and by a participant who "
    "wrote one, on their invitation link's page). Texts are Markdown as written; the ...Html fields "
    "render them as sanitized HTML (no raw HTML, scripts, event attributes or javascript: links).",
)
class ExperienceReport(Node):
    is_type_of, id = model_identity(models.ExperienceReport, "ExperienceReport")

    status: ReportStatus

    @strawberry.field(graphql_type=ExperienceExchange, metadata=declare(Reads("exchange_id")))
    @staticmethod
    async def exchange(
        root: strawberry.Parent[models.ExperienceReport], info: Info
    ) -> models.Exchange | None:
        return await info.context.loaders.exchange.load(root.exchange_id)

    @strawberry.field(
        description="The outcomes of the report's exchange (ExperienceExchange.outcomes).",
        graphql_type=list[ExchangeOutcome],
        metadata=declare(Reads("exchange_id")),
    )
    @staticmethod
    async def outcomes(
        root: strawberry.Parent[models.ExperienceReport], info: Info
    ) -> list[models.ExchangeOutcome]:
        return await info.context.loaders.exchange_outcomes.load(root.exchange_id)

    @strawberry.field(
        graphql_type=ExperienceReportAuthor,
        metadata=declare(Reads("author_organisation_id", "author_kind", "author_volunteer_id")),
    )
    @staticmethod
    def author(root: strawberry.Parent[models.ExperienceReport]) -> Author:
        return Author(root.author_kind, root.author_organisation_id, root.author_volunteer_id)

    @strawberry.field(
        description="Title in the requested locale, falling back to the report's default language.",
        metadata=declare(Reads("titles")),
    )
    @staticmethod
    def title(
        root: strawberry.Parent[models.ExperienceReport], info: Info, locale: LanguageCode | None = None
    ) -> str:
        return i18n.pick_text(root.titles, info.context.locales(locale)) or ""

    @strawberry.field(
        description="Every translation of the title, default language first.",
        metadata=declare(Reads("titles")),
    )
    @staticmethod
    def titles(root: strawberry.Parent[models.ExperienceReport]) -> list[LocalizedText]:
        return translations(root.titles)

    @strawberry.field(
        description="The body as written (Markdown), in the requested locale.",
        metadata=declare(Reads("bodies")),
    )
    @staticmethod
    def body(
        root: strawberry.Parent[models.ExperienceReport], info: Info, locale: LanguageCode | None = None
    ) -> str:
        return i18n.pick_text(root.bodies, info.context.locales(locale)) or ""

    @strawberry.field(
        description="The body rendered as sanitized HTML, in the requested locale.",
        metadata=declare(Reads("bodies")),
    )
    @staticmethod
    def body_html(
        root: strawberry.Parent[models.ExperienceReport], info: Info, locale: LanguageCode | None = None
    ) -> str:
        return _html(root.bodies, info.context.locales(locale)) or ""

    @strawberry.field(
        description="Every translation of the body (Markdown), default language first.",
        metadata=declare(Reads("bodies")),
    )
    @staticmethod
    def bodies(root: strawberry.Parent[models.ExperienceReport]) -> list[LocalizedText]:
        return translations(root.bodies)

    @strawberry.field(
        description="What worked (Markdown), in the requested locale; null if not told.",
        metadata=declare(Reads("what_worked")),
    )
    @staticmethod
    def what_worked(
        root: strawberry.Parent[models.ExperienceReport], info: Info, locale: LanguageCode | None = None
    ) -> str | None:
        return i18n.pick_text(root.what_worked, info.context.locales(locale))

    @strawberry.field(description="What worked, as sanitized HTML.", metadata=declare(Reads("what_worked")))
    @staticmethod
    def what_worked_html(
        root: strawberry.Parent[models.ExperienceReport], info: Info, locale: LanguageCode | None = None
    ) -> str | None:
        return _html(root.what_worked, info.context.locales(locale))

    @strawberry.field(
        description="What to do differently next time (Markdown); null if not told.",
        metadata=declare(Reads("what_to_change")),
    )
    @staticmethod
    def what_to_change(
        root: strawberry.Parent[models.ExperienceReport], info: Info, locale: LanguageCode | None = None
    ) -> str | None:
        return i18n.pick_text(root.what_to_change, info.context.locales(locale))

    @strawberry.field(
        description="What to do differently, as sanitized HTML.", metadata=declare(Reads("what_to_change"))
    )
    @staticmethod
    def what_to_change_html(
        root: strawberry.Parent[models.ExperienceReport], info: Info, locale: LanguageCode | None = None
    ) -> str | None:
        return _html(root.what_to_change, info.context.locales(locale))

    photos: list[str] = strawberry.field(
        description="https links to the report's photos, in the author's order."
    )
    submitted_at: dt.datetime
    published_at: dt.datetime | None = strawberry.field(
        description="When the host published it; null while not."
    )
    moderated_at: dt.datetime | None = strawberry.field(description="When it was last published or rejected.")

    @strawberry.field(
        description="The moderator's note (e.g. why it was rejected): for the exchange's host, partners "
        "and platform admins; null for everyone else.",
        metadata=declare(Reads("moderation_note", "exchange_id")),
    )
    @staticmethod
    async def moderation_note(root: strawberry.Parent[models.ExperienceReport], info: Info) -> str | None:
        note = root.moderation_note
        if note is None:
            return None
        exchange = await info.context.loaders.exchange.load(root.exchange_id)
        return (
            note if exchange is not None and await info.context.loaders.sees_invitations(exchange) else None
        )


@strawberry.input(name="ExperienceReportFilter")
class ExperienceReportFilter:
    search: str | None = strawberry.field(
        default=None,
        description="Free text over titles, bodies and lessons in every language, case-insensitive in every "
        "script (ё and е alike), as exchange search.",
    )
    theme: Theme | None = strawberry.field(default=None, description="The exchange's theme.")
    country: CountryCode | None = strawberry.field(default=None, description="The exchange's country.")
    sdgs: list[int] | None = strawberry.field(
        default=None, description="Reports on exchanges serving any of these goals (1-17)."
    )
    organisation_id: strawberry.ID | None = strawberry.field(
        default=None, description="Reports on exchanges this organisation hosts or co-organises."
    )
    exchange_id: strawberry.ID | None = None
    status: ReportStatus | None = strawberry.field(
        default=None, description="SUBMITTED lists what awaits moderation (for those who may see it)."
    )


@node_resolver("ExperienceReport")
async def _report(info: Info, pk: int) -> Any:
    return await reports.visible_report(info.context.actor, pk)
