from __future__ import annotations

import datetime as dt

import strawberry

from exchange import access, i18n, models
from exchange.participations import seats_left
from exchange.statistics import Scope, ScopeKind, Subject
from schema.api import fetches
from schema.api.connections import Connection
from schema.api.context import Info
from schema.api.scalars import CountryCode, LanguageCode
from schema.api.types.enums import ExchangeStatus, InvitationStatus, SessionFormat, Theme
from schema.api.types.invitation import Invitation, invitations_of
from schema.api.types.node import LocalizedText, Node, model_identity, translations
from schema.api.types.organisation import Organisation
from schema.api.types.outcome import ExchangeOutcome
from schema.api.types.participation import Participation, page_connection
from schema.api.types.statistics import ImpactStatistics
from schema.api.types.volunteer import Volunteer
from schema.engine.declarations import ChildPage, Children, Reads, ToOne, declare


@strawberry.type(name="CountryCount")
class CountryCount:
    country: CountryCode | None = strawberry.field(
        description="Null for the entry that merges the countries with too few people to show apart."
    )
    count: int


@strawberry.type(name="ExperienceExchange")
class ExperienceExchange(Node):
    is_type_of, id = model_identity(models.Exchange, "ExperienceExchange")

    slug: str

    @strawberry.field(
        description="Title in the requested locale (argument, then Accept-Language), "
        "falling back to the exchange's default language.",
        metadata=declare(fetches.localized("titles", fallback_attribute="slug")),
    )
    @staticmethod
    def title(
        root: strawberry.Parent[models.Exchange], info: Info, locale: LanguageCode | None = None
    ) -> str:
        return i18n.pick_text(root.titles, info.context.locales(locale)) or root.slug

    @strawberry.field(
        description="Every translation of the title, default language first.",
        metadata=declare(Reads("titles")),
    )
    @staticmethod
    def titles(root: strawberry.Parent[models.Exchange]) -> list[LocalizedText]:
        return translations(root.titles)

    @strawberry.field(
        description="Description in the requested locale, with the same fallback as title.",
        metadata=declare(fetches.localized("descriptions")),
    )
    @staticmethod
    def description(
        root: strawberry.Parent[models.Exchange], info: Info, locale: LanguageCode | None = None
    ) -> str | None:
        return i18n.pick_text(root.descriptions, info.context.locales(locale))

    @strawberry.field(
        description="Every translation of the description, default language first.",
        metadata=declare(Reads("descriptions")),
    )
    @staticmethod
    def descriptions(root: strawberry.Parent[models.Exchange]) -> list[LocalizedText]:
        return translations(root.descriptions)

    theme: Theme
    status: ExchangeStatus

    @strawberry.field(
        graphql_type=Organisation,
        metadata=declare(
            ToOne("host_id", fetches.organisations, loader="organisation", every_key=True, shared=True),
            joins=fetches.ORGANISATION_JOINS,
        ),
    )
    @staticmethod
    async def host(root: strawberry.Parent[models.Exchange], info: Info) -> models.Organisation | None:
        return await info.context.loaders.organisation.load(root.host_id)

    @strawberry.field(
        description="Co-organisers, e.g. UN Volunteers for an exchange hosted by a national NGO.",
        graphql_type=list[Organisation],
        metadata=declare(Children(fetches.partners), joins=fetches.ORGANISATION_JOINS),
    )
    @staticmethod
    async def partners(root: strawberry.Parent[models.Exchange], info: Info) -> list[models.Organisation]:
        return await info.context.loaders.exchange_partners.load(root.id)

    country: CountryCode
    city: str | None
    starts_on: dt.date
    ends_on: dt.date
    time_zone: str = strawberry.field(description="IANA time zone of the venue, e.g. Asia/Almaty.")
    capacity: int | None

    @strawberry.field(
        description="Places left: capacity minus participations (any role) that are confirmed or "
        "attended, never below zero; null when capacity is unlimited.",
        metadata=declare(Reads("capacity", "id")),
    )
    @staticmethod
    async def seats_left(root: strawberry.Parent[models.Exchange], info: Info) -> int | None:
        if root.capacity is None:
            return None
        return seats_left(root.capacity, await info.context.loaders.places_taken.load(root.id))

    languages: list[LanguageCode]
    sdgs: list[int] = strawberry.field(
        description="The UN Sustainable Development Goals (1-17) the exchange serves, ascending."
    )
    waitlist: bool = strawberry.field(
        description="Accepting an invitation when every place is taken joins a waiting list "
        "(the invitation becomes WAITLISTED) instead of failing with CAPACITY_REACHED; freed places "
        "are offered in turn (OFFERED, claimed by accepting)."
    )

    @strawberry.field(
        description="Ordered by start time. Cancelled sessions are left out (an invitation's "
        "sessions keep them, with cancelledAt set).",
        graphql_type="list[Session]",  # defined below
        metadata=declare(Children(fetches.exchange_sessions), joins=fetches.SESSION_JOINS),
    )
    @staticmethod
    async def sessions(root: strawberry.Parent[models.Exchange], info: Info) -> list[models.Session]:
        return await info.context.loaders.exchange_sessions.load(root.id)

    @strawberry.field(
        description="Participants of every role, by id, those the viewer may see: anonymous and "
        "read-only callers only volunteers with a public profile, organisations also the volunteers "
        "they send and every participant of the exchanges they organise. totalCount counts what is "
        "shown; participantCountsByCountry counts everyone.",
        metadata=declare(
            ChildPage(fetches.participants, fetches.PAGING, exact=fetches.EXACT_WINDOW),
            joins=fetches.PARTICIPATION_JOINS,
        ),
    )
    @staticmethod
    async def participants(
        root: strawberry.Parent[models.Exchange],
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Participation]:
        args = info.context.page_args(first, after, last, before)
        return page_connection(await info.context.loaders.exchange_participants.load((root.id, args)))

    @strawberry.field(
        description="How many people holding a place (confirmed or attended) come from each country, "
        "hidden participants included, most first. The host, partners and admins get exact counts; "
        "for anyone else, countries with fewer than 3 people are merged into one entry whose country "
        "is null.",
        metadata=declare(Reads("host_id", "id")),
    )
    @staticmethod
    async def participant_counts_by_country(
        root: strawberry.Parent[models.Exchange], info: Info
    ) -> list[CountryCount]:
        counts = await info.context.loaders.participant_countries.load(root.id)
        if await info.context.loaders.sees_exact_counts(root.id, root.host_id):
            kept, other = counts, 0
        else:
            kept, other = access.small_counts_merged(counts)
        buckets = [CountryCount(country=CountryCode(country), count=n) for country, n in kept.items()]
        buckets.sort(key=lambda bucket: (-bucket.count, bucket.country or ""))
        return buckets + ([CountryCount(country=None, count=other)] if other else [])

    @strawberry.field(
        description="What the exchange achieved, in the host's order; recorded by the host once it "
        "has started (recordOutcomes). Empty until then.",
        graphql_type=list[ExchangeOutcome],
        metadata=declare(Reads("id")),
    )
    @staticmethod
    async def outcomes(root: strawberry.Parent[models.Exchange], info: Info) -> list[models.ExchangeOutcome]:
        return await info.context.loaders.exchange_outcomes.load(root.id)

    @strawberry.field(
        description="The exchange's impact statistics: exact for its host, partners and admins; for "
        "anyone else, breakdowns of people follow the small-count rule (see ImpactStatistics).",
        graphql_type=ImpactStatistics,
        metadata=declare(Reads("id")),
    )
    @staticmethod
    def statistics(root: strawberry.Parent[models.Exchange]) -> Subject:
        return Subject(Scope(ScopeKind.EXCHANGE), root.id)

    @strawberry.field(description="Visible to the host, partners and platform admins only.")
    @staticmethod
    async def invitations(
        root: strawberry.Parent[models.Exchange],
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        status: InvitationStatus | None = None,
    ) -> Connection[Invitation]:
        return await invitations_of(root, info, info.context.page_args(first, after, last, before), status)


@strawberry.type(name="Session")
class Session(Node):
    is_type_of, id = model_identity(models.Session, "Session")

    @strawberry.field(
        graphql_type=ExperienceExchange,
        metadata=declare(
            ToOne("exchange_id", fetches.exchanges_by_id, loader="exchange", every_key=True),
            joins=fetches.EXCHANGE_JOINS,
        ),
    )
    @staticmethod
    async def exchange(root: strawberry.Parent[models.Session], info: Info) -> models.Exchange | None:
        return await info.context.loaders.exchange.load(root.exchange_id)

    @strawberry.field(
        description="Title in the requested locale, falling back to the session's default language.",
        metadata=declare(fetches.localized("titles", fallback="")),
    )
    @staticmethod
    def title(root: strawberry.Parent[models.Session], info: Info, locale: LanguageCode | None = None) -> str:
        return i18n.pick_text(root.titles, info.context.locales(locale)) or ""

    @strawberry.field(
        description="Every translation of the title, default language first.",
        metadata=declare(Reads("titles")),
    )
    @staticmethod
    def titles(root: strawberry.Parent[models.Session]) -> list[LocalizedText]:
        return translations(root.titles)

    starts_at: dt.datetime
    ends_at: dt.datetime
    format: SessionFormat
    venue: str | None
    online_url: str | None
    language: LanguageCode | None
    capacity: int | None = strawberry.field(description="Informational: places in the room or call.")
    cancelled_at: dt.datetime | None = strawberry.field(
        description="When the host cancelled the session; null while it takes place."
    )

    @strawberry.field(
        graphql_type=list[Volunteer],
        metadata=declare(Children(fetches.speakers), joins=fetches.VOLUNTEER_JOINS),
    )
    @staticmethod
    async def speakers(root: strawberry.Parent[models.Session], info: Info) -> list[models.Volunteer]:
        return await info.context.loaders.session_speakers.load(root.id)


@strawberry.input
class ExchangeFilter:
    theme: Theme | None = None
    status: ExchangeStatus | None = None
    country: CountryCode | None = None
    language: LanguageCode | None = None
    starts_after: dt.date | None = strawberry.field(
        default=None, description="Exchanges starting on or after this date."
    )
    starts_before: dt.date | None = strawberry.field(
        default=None, description="Exchanges starting on or before this date."
    )
    search: str | None = strawberry.field(
        default=None,
        description="Free text over titles and descriptions in every language, case-insensitive in every script.",
    )
    sdgs: list[int] | None = strawberry.field(
        default=None,
        description="Exchanges serving any of these Sustainable Development Goals (1-17); empty or "
        "null: no condition.",
    )
