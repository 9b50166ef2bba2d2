"""Impact statistics: how many volunteers from which countries gave how many hours, in which
exchanges, to what effect. Per exchange, per organisation (the exchanges it hosts or
co-organises) and platform-wide over a filter (start dates, theme, venue country, status,
Sustainable Development Goals).

Every figure is an aggregate computed in the database: one statement per statistic for every
subject of a response (a page of exchanges, of organisations), whatever their number.

Who gets which figures (exchange.access):

* the exchanges counted are those the caller may see (drafts only for their organisers and
  admins), like ``exchanges(filter:)``;
* over the exchanges the caller organises (host or partner), and over all of them for an
  admin, figures are exact;
* over the others, each breakdown of people (by country, role, invitation status) goes
  through the one small-count rule, ``access.small_counts_merged`` (small buckets merged into
  one "other" count, which is never 1 or 2 people itself), first per exchange (in SQL), then
  over the sum, so no filter isolates a person by differencing. The rows of the two parts are told
  apart in SQL (``access.exact_counts_sql``) and merged apart, so an organisation's own exact
  figures never un-merge another's small buckets by subtraction.

No figure names or singles out a person: people are counted whether or not the caller may
see them (as ``participantCountsByCountry`` does), which is why the small-count rule applies.
Totals (exchanges, participants, hours, distinct countries) are exact for everyone.

A participant is a participation holding a place (confirmed, attended or no-show, as
``participations.HOLDING_A_PLACE``): someone in two exchanges counts in each. Volunteer-hours
add up the hours of attended participations.
"""
# ruff: noqa: S608  (only identifiers written here are formatted into SQL; values are parameters)

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from exchange import access
from exchange.access import Actor
from exchange.errors import DomainError, ErrorCode
from exchange.exchanges import (
    ExchangeFilter,
    listed_conditions,  # what exchanges(filter:) lists
)
from exchange.invitations.common import utcnow
from exchange.invitations.manage import effective_status_sql
from exchange.models import ExchangeStatus, OutcomeMetric, ParticipationStatus, Theme
from exchange.outcomes import UNITS
from exchange.participations import HOLDING_A_PLACE
from exchange.sql import Statement

PLATFORM = 0  # the one subject of platform-wide statistics


class ScopeKind(StrEnum):
    PLATFORM = "PLATFORM"
    EXCHANGE = "EXCHANGE"
    ORGANISATION = "ORGANISATION"


class Statistic(StrEnum):
    TOTALS = "TOTALS"
    PARTICIPANTS_BY_COUNTRY = "PARTICIPANTS_BY_COUNTRY"
    PARTICIPANTS_BY_ROLE = "PARTICIPANTS_BY_ROLE"
    INVITATIONS_BY_STATUS = "INVITATIONS_BY_STATUS"
    EXCHANGES_BY_THEME = "EXCHANGES_BY_THEME"
    EXCHANGES_BY_COUNTRY = "EXCHANGES_BY_COUNTRY"
    OUTCOME_TOTALS = "OUTCOME_TOTALS"


@dataclass(frozen=True)
class StatisticsFilter:
    """Exchanges starting between ``starts_from`` and ``starts_to`` (inclusive), of a theme,
    a venue country, a status, serving any of ``sdgs`` (validated by the caller); None or
    empty: no condition."""

    starts_from: dt.date | None = None
    starts_to: dt.date | None = None
    theme: Theme | None = None
    country: str | None = None
    status: ExchangeStatus | None = None
    sdgs: tuple[int, ...] = ()

    def checked(self) -> StatisticsFilter:
        if self.starts_from is not None and self.starts_to is not None and self.starts_from > self.starts_to:
            raise DomainError(
                ErrorCode.INVALID,
                f"The range ends ({self.starts_to}) before it starts ({self.starts_from}).",
                ["filter", "to"],
            )
        return self

    def as_exchange_filter(self) -> ExchangeFilter:
        return ExchangeFilter(
            theme=self.theme,
            country=self.country,
            status=self.status,
            starts_after=self.starts_from,
            starts_before=self.starts_to,
            sdgs=self.sdgs,
        )


@dataclass(frozen=True)
class Scope:
    """What a subject's key names (an exchange, an organisation, the platform), and the filter
    over its exchanges. Hashable: loaders batch subjects by scope."""

    kind: ScopeKind
    criteria: StatisticsFilter = field(default_factory=StatisticsFilter)


@dataclass(frozen=True)
class Subject:
    """The statistics of one exchange, organisation or the platform, read field by field."""

    scope: Scope
    key: int


@dataclass(frozen=True)
class Totals:
    exchanges: int = 0
    participants: int = 0
    volunteer_hours: float = 0.0
    distinct_countries: int = 0


@dataclass(frozen=True)
class Breakdown:
    """Counts by bucket, most first then by bucket; ``other`` is what the small-count rule
    merged (0 when nothing was)."""

    buckets: list[tuple[str, int]] = field(default_factory=list)
    other: int = 0


@dataclass(frozen=True)
class OutcomeTotal:
    """One metric's outcomes added up over the exchanges that recorded it. Standard metrics have
    one unit each (outcomes.UNITS); CUSTOM ones are added up per unit the hosts gave."""

    metric: OutcomeMetric
    unit: str | None
    total: float
    exchange_count: int


@dataclass(frozen=True)
class _Part:
    """How one breakdown is counted: FROM/JOIN after ``scoped s``, the bucket expression, a
    WHERE (may be empty), and whether it counts people (then the small-count rule applies)."""

    joins: str
    bucket: str
    where: str = ""
    people: bool = True


def _scoped(actor: Actor, scope: Scope, keys: Sequence[int], statement: Statement) -> str:
    """``WITH scoped(scope_key, exchange_id, exact)``: the exchanges of each subject that the
    actor may see and the filter keeps, and whether the actor sees their people exactly."""
    conditions = listed_conditions(actor, scope.criteria.as_exchange_filter(), statement)
    if scope.kind is ScopeKind.PLATFORM:
        key, source = str(PLATFORM), "exchange e"
    elif scope.kind is ScopeKind.EXCHANGE:
        key, source = "e.id", "exchange e"
        conditions.append(statement.is_in("e.id", keys))
    else:
        key = "o.organisation_id"
        source = (
            "exchange e JOIN (SELECT id AS exchange_id, host_id AS organisation_id FROM exchange "
            "UNION SELECT exchange_id, organisation_id FROM exchange_partner) o ON o.exchange_id = e.id"
        )
        conditions.append(statement.is_in("o.organisation_id", keys))
    exact = access.exact_counts_sql(actor, "e", statement.param)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return (
        f"WITH scoped AS (SELECT {key} AS scope_key, e.id AS exchange_id, "
        f"CASE WHEN {exact} THEN 1 ELSE 0 END AS exact FROM {source}{where}) "
    )


def _holding_a_place(statement: Statement) -> str:
    return f"t.status IN {statement.in_list(status.value for status in HOLDING_A_PLACE)}"


async def totals(actor: Actor, scope: Scope, keys: Sequence[int]) -> dict[int, Totals]:
    """Exchanges, participants, volunteer-hours and distinct participant countries per subject:
    one statement."""
    statement = Statement()
    scoped = _scoped(actor, scope, keys, statement)
    attended = statement.param(ParticipationStatus.ATTENDED.value)
    rows = await statement.fetch(
        f"{scoped}SELECT s.scope_key, COUNT(DISTINCT s.exchange_id) AS exchanges, COUNT(t.id) AS participants, "
        f"SUM(CASE WHEN t.status = {attended} THEN t.hours END) AS hours, "
        "COUNT(DISTINCT v.country) AS countries FROM scoped s "
        f"LEFT JOIN participation t ON t.exchange_id = s.exchange_id AND {_holding_a_place(statement)} "
        "LEFT JOIN volunteer v ON v.id = t.volunteer_id GROUP BY s.scope_key"
    )
    return {
        int(row["scope_key"]): Totals(
            exchanges=int(row["exchanges"]),
            participants=int(row["participants"]),
            volunteer_hours=float(row["hours"] or 0.0),
            distinct_countries=int(row["countries"]),
        )
        for row in rows
    }


def _part(statistic: Statistic, statement: Statement, now: dt.datetime) -> _Part:
    if statistic is Statistic.PARTICIPANTS_BY_COUNTRY:
        return _Part(
            "JOIN participation t ON t.exchange_id = s.exchange_id JOIN volunteer v ON v.id = t.volunteer_id",
            "v.country",
            _holding_a_place(statement),
        )
    if statistic is Statistic.PARTICIPANTS_BY_ROLE:
        return _Part(
            "JOIN participation t ON t.exchange_id = s.exchange_id", "t.role", _holding_a_place(statement)
        )
    if statistic is Statistic.INVITATIONS_BY_STATUS:
        return _Part(
            "JOIN invitation i ON i.exchange_id = s.exchange_id", effective_status_sql(statement, "i", now)
        )
    # Exchanges are public once published (and the caller sees drafts only of its own): exact.
    if statistic is Statistic.EXCHANGES_BY_THEME:
        return _Part("JOIN exchange e ON e.id = s.exchange_id", "e.theme", people=False)
    if statistic is Statistic.EXCHANGES_BY_COUNTRY:
        return _Part("JOIN exchange e ON e.id = s.exchange_id", "e.country", people=False)
    raise ValueError(f"{statistic} is no breakdown")


BREAKDOWNS: tuple[Statistic, ...] = tuple(
    statistic for statistic in Statistic if statistic not in (Statistic.TOTALS, Statistic.OUTCOME_TOTALS)
)


def merged(exact: Mapping[str, int], restricted: Mapping[str, int], merged_apart: int = 0) -> Breakdown:
    """The exact part as it is, the restricted part under the small-count rule, with the
    people ``merged_apart`` already merged per exchange (breakdowns) counted in "other"."""
    kept, other = access.small_counts_merged(restricted, merged_apart)
    counts = dict(exact)
    for bucket, count in kept.items():
        counts[bucket] = counts.get(bucket, 0) + count
    return Breakdown(sorted(counts.items(), key=lambda item: (-item[1], item[0])), other)


async def breakdowns(
    actor: Actor, statistic: Statistic, scope: Scope, keys: Sequence[int], now: dt.datetime | None = None
) -> dict[int, Breakdown]:
    """One breakdown for every subject: one statement (GROUP BY subject, exactness, bucket).

    Restricted people's buckets are merged per exchange first, in SQL: a bucket under
    SMALL_COUNT in its exchange comes back as NULL ("other"). Merged only over the sum, one
    small bucket could be isolated by differencing two filters (or an organisation's figures
    and the platform's) that differ by a single exchange."""
    statement = Statement()
    scoped = _scoped(actor, scope, keys, statement)
    part = _part(statistic, statement, now or utcnow())
    where = f" WHERE {part.where}" if part.where else ""
    bucket = (
        f"CASE WHEN r.exact = 0 AND COUNT(*) < {access.SMALL_COUNT:d} THEN NULL ELSE r.bucket END"
        if part.people
        else "r.bucket"
    )
    # The bucket is grouped by its name in a sub-select: an expression with parameters cannot
    # be repeated in GROUP BY on PostgreSQL (the copies get other parameter numbers).
    rows = await statement.fetch(
        "SELECT x.scope_key, x.exact, x.bucket, SUM(x.n) AS n FROM "
        f"(SELECT r.scope_key, r.exact, {bucket} AS bucket, COUNT(*) AS n FROM "
        f"({scoped}SELECT s.scope_key, s.exact, s.exchange_id, {part.bucket} AS bucket "
        f"FROM scoped s {part.joins}{where}) r "
        "GROUP BY r.scope_key, r.exact, r.exchange_id, r.bucket) x "
        "GROUP BY x.scope_key, x.exact, x.bucket"
    )
    exact: dict[int, dict[str, int]] = {}
    restricted: dict[int, dict[str, int]] = {}
    merged_apart: dict[int, int] = {}
    for row in rows:
        key = int(row["scope_key"])
        if row["bucket"] is None:  # only restricted people's buckets come back NULL
            merged_apart[key] = merged_apart.get(key, 0) + int(row["n"])
            continue
        into = exact if int(row["exact"]) or not part.people else restricted
        counts = into.setdefault(key, {})
        counts[str(row["bucket"])] = counts.get(str(row["bucket"]), 0) + int(row["n"])
    return {
        key: merged(exact.get(key, {}), restricted.get(key, {}), merged_apart.get(key, 0))
        for key in {*exact, *restricted, *merged_apart}
    }


async def outcome_totals(actor: Actor, scope: Scope, keys: Sequence[int]) -> dict[int, list[OutcomeTotal]]:
    """Outcomes by metric and unit per subject, in the metrics' order: one statement. Outcomes
    are read by whoever sees the exchange, so the totals are exact for everyone."""
    statement = Statement()
    scoped = _scoped(actor, scope, keys, statement)
    rows = await statement.fetch(
        f"{scoped}SELECT s.scope_key, o.metric, o.unit, SUM(o.value) AS total, "
        "COUNT(DISTINCT o.exchange_id) AS exchanges FROM scoped s "
        "JOIN exchange_outcome o ON o.exchange_id = s.exchange_id GROUP BY s.scope_key, o.metric, o.unit"
    )
    order = {metric: index for index, metric in enumerate(OutcomeMetric)}
    found: dict[int, list[OutcomeTotal]] = {}
    for row in rows:
        metric = OutcomeMetric(row["metric"])
        found.setdefault(int(row["scope_key"]), []).append(
            OutcomeTotal(metric, UNITS.get(metric, row["unit"]), float(row["total"]), int(row["exchanges"]))
        )
    for totals_of_subject in found.values():
        totals_of_subject.sort(key=lambda total: (order[total.metric], total.unit or ""))
    return found


@dataclass
class Report:
    """Every statistic of one subject (what the CLI exports)."""

    totals: Totals
    breakdowns: dict[Statistic, Breakdown]
    outcomes: list[OutcomeTotal]


async def report(actor: Actor, criteria: StatisticsFilter, now: dt.datetime | None = None) -> Report:
    """Platform-wide statistics for the actor over ``criteria``: one statement per statistic."""
    scope = Scope(ScopeKind.PLATFORM, criteria.checked())
    found_totals = (await totals(actor, scope, [PLATFORM])).get(PLATFORM, Totals())
    found = {
        statistic: (await breakdowns(actor, statistic, scope, [PLATFORM], now)).get(PLATFORM, Breakdown())
        for statistic in BREAKDOWNS
    }
    found_outcomes = (await outcome_totals(actor, scope, [PLATFORM])).get(PLATFORM, [])
    return Report(found_totals, found, found_outcomes)


Figures = Totals | Breakdown | list[OutcomeTotal]


def _none_found(statistic: Statistic) -> Figures:
    if statistic is Statistic.TOTALS:
        return Totals()
    return [] if statistic is Statistic.OUTCOME_TOTALS else Breakdown()


async def batch(actor: Actor, requests: Sequence[tuple[Statistic, Scope, int]]) -> list[Figures]:
    """A DataLoader's batch: (statistic, scope, subject key) -> its figures, one statement per
    distinct (statistic, scope) whatever the number of subjects."""
    groups: dict[tuple[Statistic, Scope], list[int]] = {}
    for statistic, scope, key in requests:
        groups.setdefault((statistic, scope), [])
        if key not in groups[(statistic, scope)]:
            groups[(statistic, scope)].append(key)
    found: dict[tuple[Statistic, Scope, int], Figures] = {}
    now = utcnow()
    for (statistic, scope), keys in groups.items():
        figures: Mapping[int, Figures]
        if statistic is Statistic.TOTALS:
            figures = await totals(actor, scope, keys)
        elif statistic is Statistic.OUTCOME_TOTALS:
            figures = await outcome_totals(actor, scope, keys)
        else:
            figures = await breakdowns(actor, statistic, scope, keys, now)
        for key, value in figures.items():
            found[(statistic, scope, key)] = value
    return [found.get(request, _none_found(request[0])) for request in requests]
