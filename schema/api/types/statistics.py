"""Impact statistics (exchange.statistics): per exchange, per organisation and platform-wide.
Each field loads its statistic through one loader, so a page of exchanges or organisations
costs one statement per statistic asked for."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from graphql import GraphQLError

from exchange import outcomes, statistics
from exchange.errors import DomainError, TransportCode
from exchange.i18n import pick_ui_locale
from exchange.models import OutcomeMetric
from exchange.statistics import (
    Breakdown,
    OutcomeTotal,
    Scope,
    ScopeKind,
    Statistic,
    StatisticsFilter,
    Subject,
    Totals,
)
from schema.api.context import Info
from schema.api.scalars import CountryCode, LanguageCode
from schema.api.types.enums import ExchangeStatus, InvitationStatus, ParticipationRole, Theme
from schema.api.types.outcome import sdg_filter

if TYPE_CHECKING:
    from schema.api.types.exchange import CountryCount

MERGED = (
    "Null for the entry that merges the buckets with too few people to show apart (the small-count rule)."
)


@strawberry.type(name="RoleCount")
class RoleCount:
    role: ParticipationRole | None = strawberry.field(description=MERGED)
    count: int


@strawberry.type(name="InvitationStatusCount")
class InvitationStatusCount:
    status: InvitationStatus | None = strawberry.field(
        description="As readers see it (an unanswered invitation past its expiry is EXPIRED). " + MERGED
    )
    count: int


@strawberry.type(name="ThemeCount")
class ThemeCount:
    theme: Theme
    count: int


@strawberry.type(
    name="OutcomeTotal",
    description="One outcome metric added up over the exchanges counted that recorded it.",
)
class OutcomeTotalType:
    metric: OutcomeMetric
    unit: str | None = strawberry.field(
        description="trees, kg, ha or people for the standard metrics; for CUSTOM, the unit the hosts gave "
        "(CUSTOM outcomes are added up per unit)."
    )
    total: float
    exchange_count: int = strawberry.field(description="Exchanges whose outcomes are in the total.")

    @strawberry.field(
        description="The metric's name in the requested locale (kk, ru, en); null for CUSTOM, whose "
        "total adds up metrics the hosts named each in their own words."
    )
    @staticmethod
    def label(
        root: strawberry.Parent[OutcomeTotal], info: Info, locale: LanguageCode | None = None
    ) -> str | None:
        labels = outcomes.LABELS.get(root.metric)
        return None if labels is None else labels[pick_ui_locale(info.context.locales(locale))]


async def _totals(root: Subject, info: Info) -> Totals:
    return cast(Totals, await info.context.loaders.statistics.load((Statistic.TOTALS, root.scope, root.key)))


async def _breakdown(root: Subject, info: Info, statistic: Statistic) -> Breakdown:
    return cast(Breakdown, await info.context.loaders.statistics.load((statistic, root.scope, root.key)))


def _countries(breakdown: Breakdown) -> list[CountryCount]:
    from schema.api.types.exchange import CountryCount

    counts = [CountryCount(country=CountryCode(country), count=count) for country, count in breakdown.buckets]
    return counts + ([CountryCount(country=None, count=breakdown.other)] if breakdown.other else [])


@strawberry.type(
    name="ImpactStatistics",
    description="How many volunteers from which countries gave how many hours, in which exchanges. "
    "Counts the exchanges the caller may see (drafts only for their organisers and admins). Over the "
    "exchanges the caller hosts or co-organises (all of them for an admin) every figure is exact; "
    "over the others, the breakdowns of people (by country, role, invitation status) follow the "
    "small-count rule: buckets under 3 people are merged into one entry whose key is null, which is "
    "never 1 or 2 people itself (the smallest other bucket joins it), and fewer than 3 people in all "
    "are not shown. Totals, exchanges and outcomes are exact for everyone.",
)
class ImpactStatistics:
    @strawberry.field(description="Exchanges counted.")
    @staticmethod
    async def exchange_count(root: strawberry.Parent[Subject], info: Info) -> int:
        return (await _totals(root, info)).exchanges

    @strawberry.field(
        description="Participations holding a place (confirmed, attended or no-show), of any role: "
        "a volunteer in two exchanges counts in each."
    )
    @staticmethod
    async def participant_count(root: strawberry.Parent[Subject], info: Info) -> int:
        return (await _totals(root, info)).participants

    @strawberry.field(description="Hours of the attended participations, added up.")
    @staticmethod
    async def volunteer_hours(root: strawberry.Parent[Subject], info: Info) -> float:
        return (await _totals(root, info)).volunteer_hours

    @strawberry.field(description="How many countries the participants come from.")
    @staticmethod
    async def distinct_countries(root: strawberry.Parent[Subject], info: Info) -> int:
        return (await _totals(root, info)).distinct_countries

    @strawberry.field(description="Participants by the country they come from, most first.")
    @staticmethod
    async def participants_by_country(
        root: strawberry.Parent[Subject], info: Info
    ) -> list[Annotated[CountryCount, strawberry.lazy("schema.api.types.exchange")]]:
        return _countries(await _breakdown(root, info, Statistic.PARTICIPANTS_BY_COUNTRY))

    @strawberry.field(description="Participants by role, most first.")
    @staticmethod
    async def participants_by_role(root: strawberry.Parent[Subject], info: Info) -> list[RoleCount]:
        breakdown = await _breakdown(root, info, Statistic.PARTICIPANTS_BY_ROLE)
        counts = [RoleCount(role=ParticipationRole(role), count=count) for role, count in breakdown.buckets]
        return counts + ([RoleCount(role=None, count=breakdown.other)] if breakdown.other else [])

    @strawberry.field(description="Invitations of the exchanges counted, by status, most first.")
    @staticmethod
    async def invitations_by_status(
        root: strawberry.Parent[Subject], info: Info
    ) -> list[InvitationStatusCount]:
        breakdown = await _breakdown(root, info, Statistic.INVITATIONS_BY_STATUS)
        counts = [
            InvitationStatusCount(status=InvitationStatus(status), count=count)
            for status, count in breakdown.buckets
        ]
        return counts + (
            [InvitationStatusCount(status=None, count=breakdown.other)] if breakdown.other else []
        )

    @strawberry.field(description="Exchanges counted, by theme, most first.")
    @staticmethod
    async def exchanges_by_theme(root: strawberry.Parent[Subject], info: Info) -> list[ThemeCount]:
        breakdown = await _breakdown(root, info, Statistic.EXCHANGES_BY_THEME)
        return [ThemeCount(theme=Theme(theme), count=count) for theme, count in breakdown.buckets]

    @strawberry.field(description="Exchanges counted, by the country of their venue, most first.")
    @staticmethod
    async def exchanges_by_country(
        root: strawberry.Parent[Subject], info: Info
    ) -> list[Annotated[CountryCount, strawberry.lazy("schema.api.types.exchange")]]:
        return _countries(await _breakdown(root, info, Statistic.EXCHANGES_BY_COUNTRY))

    @strawberry.field(
        description="Outcomes of the exchanges counted, by metric and unit, in the metrics' order.",
        graphql_type=list[OutcomeTotalType],
    )
    @staticmethod
    async def outcome_totals(root: strawberry.Parent[Subject], info: Info) -> list[OutcomeTotal]:
        found = await info.context.loaders.statistics.load((Statistic.OUTCOME_TOTALS, root.scope, root.key))
        return cast(list[OutcomeTotal], found)


@strawberry.input(
    name="StatisticsFilter", description="Which exchanges statistics count; every condition is optional."
)
class StatisticsFilterInput:
    from_: dt.date | None = strawberry.field(
        default=None, name="from", description="Exchanges starting on or after this date."
    )
    to: dt.date | None = strawberry.field(
        default=None, description="Exchanges starting on or before this date."
    )
    theme: Theme | None = None
    country: CountryCode | None = strawberry.field(default=None, description="The country of the venue.")
    status: ExchangeStatus | None = None
    sdgs: list[int] | None = strawberry.field(
        default=None,
        description="Exchanges serving any of these Sustainable Development Goals (1-17); empty or null: "
        "no condition.",
    )


def statistics_scope(kind: ScopeKind, given: StatisticsFilterInput | None) -> Scope:
    """The scope of a statistics field; a filter the caller can fix is BAD_USER_INPUT."""
    if given is None:
        return Scope(kind)
    criteria = StatisticsFilter(
        starts_from=given.from_,
        starts_to=given.to,
        theme=given.theme,
        country=given.country,
        status=given.status,
        sdgs=sdg_filter(given.sdgs, "filter.sdgs"),
    )
    try:
        return Scope(kind, criteria.checked())
    except DomainError as error:
        problem = error.problems[0]
        raise GraphQLError(
            problem.message,
            extensions={"code": TransportCode.BAD_USER_INPUT, "field": list(problem.field or ())},
        ) from error


def subject(kind: ScopeKind, key: int, given: StatisticsFilterInput | None = None) -> Subject:
    return Subject(statistics_scope(kind, given), key)


@strawberry.type
class StatisticsQueries:
    @strawberry.field(
        description="Platform-wide impact statistics over the exchanges the caller may see that the "
        "filter keeps (see ImpactStatistics for who gets exact figures).",
        graphql_type=ImpactStatistics,
    )
    async def impact_statistics(self, info: Info, filter: StatisticsFilterInput | None = None) -> Subject:
        info.context.actor  # noqa: B018  (an invalid key is refused even for public figures)
        return subject(ScopeKind.PLATFORM, statistics.PLATFORM, filter)
