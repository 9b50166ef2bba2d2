"""Exchange services: create, update (status machine, dates), list with filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from exchange import access, joins
from exchange.access import Actor
from exchange.errors import DomainError, ErrorCode, Problems, not_found
from exchange.events import AfterCommit
from exchange.i18n import fold
from exchange.mail.outbox import enqueue_many
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    MailKind,
    Organisation,
    Session,
    Theme,
)
from exchange.rows import instances
from exchange.settings import Settings
from exchange.sql import (
    Page,
    PageWindow,
    Projected,
    Statement,
    json_list_holds,
    json_list_holds_any,
    linked,
    linked_rows,
    paged_children,
    projected,
    text_contains,
)
from exchange.validation import (
    LocalizedText,
    check_capacity,
    check_languages,
    check_sdgs,
    check_slug,
    check_time_zone,
    is_slug,
    localized_map,
    search_text,
)

TITLE_MAX = 300
DESCRIPTION_MAX = 5000
CITY_MAX = 200


class _Keep:
    """An update field the caller left out (as opposed to an explicit null that clears it)."""

    _instance: _Keep | None = None

    def __new__(cls) -> _Keep:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "KEEP"

    def __bool__(self) -> bool:
        return False


KEEP: Any = _Keep()

# DRAFT -> OPEN -> CLOSED (reopens to OPEN) -> COMPLETED; anything before COMPLETED may be
# cancelled. Staying in the same status is no move at all.
TRANSITIONS: dict[ExchangeStatus, frozenset[ExchangeStatus]] = {
    ExchangeStatus.DRAFT: frozenset({ExchangeStatus.OPEN, ExchangeStatus.CANCELLED}),
    ExchangeStatus.OPEN: frozenset({ExchangeStatus.CLOSED, ExchangeStatus.CANCELLED}),
    ExchangeStatus.CLOSED: frozenset(
        {ExchangeStatus.OPEN, ExchangeStatus.COMPLETED, ExchangeStatus.CANCELLED}
    ),
    ExchangeStatus.COMPLETED: frozenset(),
    ExchangeStatus.CANCELLED: frozenset(),
}
INITIAL_STATUSES = (ExchangeStatus.DRAFT, ExchangeStatus.OPEN)


@dataclass(frozen=True)
class NewExchange:
    slug: str
    titles: list[LocalizedText]
    theme: Theme
    country: str
    starts_on: dt.date
    ends_on: dt.date
    time_zone: str
    languages: list[str]
    descriptions: list[LocalizedText] | None = None
    host_id: int | None = None
    partner_ids: list[int] | None = None
    city: str | None = None
    capacity: int | None = None
    sdgs: Sequence[int] = ()
    status: ExchangeStatus | None = None
    waitlist: bool = False


@dataclass
class ExchangeChanges:
    """Each field is KEEP (left out), None (cleared) or the new value."""

    titles: Any = KEEP
    descriptions: Any = KEEP
    theme: Any = KEEP
    partner_ids: Any = KEEP
    city: Any = KEEP
    starts_on: Any = KEEP
    ends_on: Any = KEEP
    time_zone: Any = KEEP
    capacity: Any = KEEP
    languages: Any = KEEP
    sdgs: Any = KEEP
    status: Any = KEEP
    waitlist: Any = KEEP

    def given(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not KEEP}


@dataclass(frozen=True)
class ExchangeFilter:
    theme: Theme | None = None
    status: ExchangeStatus | None = None
    country: str | None = None
    language: str | None = None
    starts_after: dt.date | None = None
    starts_before: dt.date | None = None
    search: str | None = None
    # Any of these Sustainable Development Goals (validated by the caller); empty: no condition.
    sdgs: Sequence[int] = ()


def local_day_bounds(starts_on: dt.date, ends_on: dt.date, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The instants an exchange opens and closes: midnight of its first day and midnight
    after its last day, in the venue's zone."""
    zone = ZoneInfo(time_zone)
    opens = dt.datetime.combine(starts_on, dt.time(0), tzinfo=zone)
    closes = dt.datetime.combine(ends_on + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return opens, closes


# ---------------------------------------------------------------- reads


@dataclass
class ExchangePage:
    """A page of exchanges with their hosts (joined in the same statement), and the total."""

    nodes: list[Exchange]
    start: int
    total: int
    hosts: dict[int, Organisation]


def listed_conditions(actor: Actor, criteria: ExchangeFilter | None, statement: Statement) -> list[str]:
    """SQL conditions over the exchange row ``e``: what the actor may see (exchange.access),
    then the filter. Both databases; values are parameters."""
    conditions: list[str] = []
    visible = access.visible_exchanges_sql(actor, "e", statement.param)
    if visible is not None:
        conditions.append(visible)
    if criteria is None:
        return conditions
    sqlite = statement.prefix == "?"

    def day(value: dt.date) -> object:
        return value.isoformat() if sqlite else value  # SQLite stores dates as ISO text

    if criteria.theme is not None:
        conditions.append(f"e.theme = {statement.param(criteria.theme.value)}")
    if criteria.status is not None:
        conditions.append(f"e.status = {statement.param(criteria.status.value)}")
    if criteria.country is not None:
        conditions.append(f"e.country = {statement.param(criteria.country)}")
    if criteria.language is not None:
        conditions.append(json_list_holds(statement, "e.languages", criteria.language))
    if criteria.starts_after is not None:
        conditions.append(f"e.starts_on >= {statement.param(day(criteria.starts_after))}")
    if criteria.starts_before is not None:
        conditions.append(f"e.starts_on <= {statement.param(day(criteria.starts_before))}")
    if criteria.search is not None and (needle := fold(criteria.search)):
        conditions.append(text_contains(statement, "e.search_text", needle))
    if criteria.sdgs:
        conditions.append(json_list_holds_any(statement, "e.sdgs", criteria.sdgs))
    return conditions


async def page_exchanges(
    actor: Actor,
    criteria: ExchangeFilter | None,
    page: PageWindow,
    columns: Iterable[str] | None = None,
    host_columns: Iterable[str] | None = None,
) -> ExchangePage:
    """The exchanges the actor may see, filtered, by start date then id: one COUNT and one
    page with each exchange's host joined (only ``columns`` / ``host_columns`` when given)."""
    statement = Statement()
    conditions = listed_conditions(actor, criteria, statement)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    [count_row] = await statement.fetch_rows(f"SELECT COUNT(*) AS total FROM exchange e{where}")  # noqa: S608
    total = int(count_row[0])
    start, end = page.window(total)
    if end <= start:
        return ExchangePage([], start, total, {})
    exchange_columns = sorted(
        columns if columns is not None else Exchange._meta.fields_db_projection.values()
    )
    host_names = sorted(
        host_columns if host_columns is not None else Organisation._meta.fields_db_projection.values()
    )
    selected = ", ".join(
        [f'e."{column}"' for column in exchange_columns]
        + [f'h."{column}" AS "h_{column}"' for column in host_names]
    )
    rows = await statement.fetch_rows(
        f"SELECT {selected} FROM exchange e JOIN organisation h ON h.id = e.host_id{where} "  # noqa: S608
        f"ORDER BY e.starts_on, e.id LIMIT {statement.param(end - start)} OFFSET {statement.param(start)}"
    )
    nodes = instances(Exchange, [_Columns(row[: len(exchange_columns)], exchange_columns) for row in rows])
    width = len(exchange_columns)
    host_rows = [_Columns(row[width:], host_names) for row in rows]
    hosts = {host.pk: host for host in instances(Organisation, host_rows)}
    return ExchangePage(nodes, start, total, hosts)


async def page_exchange_rows(
    actor: Actor, criteria: ExchangeFilter | None, page: PageWindow, projection: Projected
) -> tuple[Sequence[Any], int, int]:
    """``page_exchanges`` as rows laid out as ``projection`` (the host joinable): (rows, start,
    total). A page placed from its start (no ``last``, no ``before``) takes one statement, the
    total counted apart in it (an uncorrelated subquery, computed once, over the exchanges
    alone, not a window over the join); otherwise, or when that page is empty, the total is
    counted first."""
    if page.last is None and page.before is None and page.first is not None:
        statement, where = _listed(actor, criteria)
        start = 0 if page.after is None else page.after + 1

        def build() -> str:
            selects, joined = projected("e", Exchange, projection, joins.EXCHANGE)
            return (
                f"SELECT {', '.join(selects)}, (SELECT COUNT(*) FROM exchange e{where}) "  # noqa: S608
                f"FROM exchange e {' '.join(joined)}{where} ORDER BY e.starts_on, e.id "
                f"LIMIT {statement.param(page.first)} OFFSET {statement.param(start)}"
            )

        key = ("exchange page", id(projection), where)
        rows = await statement.fetch_kept(key, (projection,), [page.first, start], build)
        if rows:  # the total is the last column, after the projection's
            first = rows[0]
            return rows, start, int(first[len(first) - 1])
    selects, joined = projected("e", Exchange, projection, joins.EXCHANGE)
    statement, where = _listed(actor, criteria)
    [count_row] = await statement.fetch_rows(f"SELECT COUNT(*) FROM exchange e{where}")  # noqa: S608
    total = int(count_row[0])
    start, end = page.window(total)
    if end <= start:
        return [], start, total
    statement, where = _listed(actor, criteria)
    rows = await statement.fetch_rows(
        f"SELECT {', '.join(selects)} FROM exchange e {' '.join(joined)}{where} "  # noqa: S608
        f"ORDER BY e.starts_on, e.id LIMIT {statement.param(end - start)} OFFSET {statement.param(start)}"
    )
    return rows, start, total


def _listed(actor: Actor, criteria: ExchangeFilter | None) -> tuple[Statement, str]:
    """A statement and its WHERE clause over ``exchange e``: what page_exchanges lists."""
    statement = Statement()
    conditions = listed_conditions(actor, criteria, statement)
    return statement, f" WHERE {' AND '.join(conditions)}" if conditions else ""


class _Columns(tuple[Any, ...]):
    """Part of a joined row, with its own column names (what exchange.rows reads)."""

    names: list[str]

    def __new__(cls, values: Any, names: list[str]) -> _Columns:
        row = super().__new__(cls, values)
        row.names = names
        return row

    def keys(self) -> list[str]:
        return self.names


async def partner_ids_of(exchange_id: int) -> frozenset[int]:
    ids = await Organisation.filter(partner_exchanges__id=exchange_id).values_list("id", flat=True)
    return frozenset(int(pk) for pk in ids)  # type: ignore[call-overload]


async def visible_exchange(actor: Actor, exchange_id: int) -> Exchange | None:
    return await _visible(actor, await Exchange.get_or_none(id=exchange_id))


async def visible_exchange_by_slug(actor: Actor, slug: str) -> Exchange | None:
    # A string that cannot be a slug names no exchange (and would not fit the column).
    if not is_slug(slug):
        return None
    return await _visible(actor, await Exchange.get_or_none(slug=slug))


async def _visible(actor: Actor, exchange: Exchange | None) -> Exchange | None:
    return exchange if exchange is not None and await sees_exchange(actor, exchange) else None


PartnerIds = frozenset[int] | Callable[[int], Awaitable[frozenset[int]]]


async def sees_exchange(actor: Actor, exchange: Exchange, partners: PartnerIds = partner_ids_of) -> bool:
    """access.can_see_exchange for an exchange at hand; every domain path asks through here.

    ``partners`` are its partners' ids when the caller holds them already, else how to load
    them (a request's DataLoader, say): loaded only for the one case whose answer needs them."""
    known = access.seen_without_partners(actor, exchange.status, exchange.host_id)
    if known is not None:
        return known
    ids = partners if isinstance(partners, frozenset) else await partners(exchange.id)
    return access.can_see_exchange(actor, exchange.status, exchange.host_id, ids)


async def sees_invitations(actor: Actor, exchange: Exchange, partners: PartnerIds = partner_ids_of) -> bool:
    """access.can_see_invitations for an exchange at hand, ``partners`` as for
    ``sees_exchange``: loaded only when the answer needs them (another organisation asks)."""
    return await _organiser_right(access.can_see_invitations, actor, exchange.id, exchange.host_id, partners)


async def sees_exact_counts(
    actor: Actor, exchange_id: int, host_id: int, partners: PartnerIds = partner_ids_of
) -> bool:
    """access.sees_exact_counts for an exchange, ``partners`` as for ``sees_exchange``:
    loaded only when the answer needs them (another organisation asks)."""
    return await _organiser_right(access.sees_exact_counts, actor, exchange_id, host_id, partners)


async def _organiser_right(
    rule: Callable[[Actor, int, frozenset[int]], bool],
    actor: Actor,
    exchange_id: int,
    host_id: int,
    partners: PartnerIds,
) -> bool:
    """``rule``, one of the organisers' rights (an admin, the host or a partner), answered by
    access.host_rights_without_others whenever the partners cannot change it."""
    known = access.host_rights_without_others(actor, host_id)
    if known is not None:
        return known
    ids = partners if isinstance(partners, frozenset) else await partners(exchange_id)
    return rule(actor, host_id, ids)


async def managed_exchange(
    actor: Actor,
    exchange_id: int,
    field: str,
    require_manager: Callable[[Actor, Exchange], None] = access.require_manage_exchange,
) -> tuple[Exchange, frozenset[int]]:
    """The exchange the actor manages, with its partners' ids: NOT_FOUND when it does not
    exist or is invisible to them (drafts of others), FORBIDDEN (from ``require_manager``,
    which words the refusal for what they tried) when they see it but are not its host."""
    exchange = await _managed(actor, exchange_id, field, require_manager)
    return exchange, await partner_ids_of(exchange.id)


async def _managed(
    actor: Actor, exchange_id: int, field: str, require_manager: Callable[[Actor, Exchange], None]
) -> Exchange:
    """``managed_exchange`` without the partners, for a caller that does not use them. Those
    who pass are its host or an admin, who see it whatever its partners: the visibility rule
    loads them only for the others' refusal."""
    access.require_writer(actor)
    exchange = await Exchange.get_or_none(id=exchange_id)
    if exchange is None or not await sees_exchange(actor, exchange):
        raise not_found("ExperienceExchange", [field])
    require_manager(actor, exchange)
    return exchange


# ---------------------------------------------------------------- validation helpers


def _check_city(problems: Problems, city: str | None) -> str | None:
    if city is None:
        return None
    city = city.strip()
    if len(city) > CITY_MAX:
        problems.invalid(f"The city is longer than {CITY_MAX} characters.", "city")
    return city or None


# Far enough apart for any real exchange; the bounds keep the venue-zone arithmetic
# (midnight after the last day, UTC conversion, calendar files) inside Python's dates.
EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2999, 12, 31)


def _check_dates(problems: Problems, starts_on: dt.date, ends_on: dt.date) -> None:
    for day, field_name in ((starts_on, "startsOn"), (ends_on, "endsOn")):
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            problems.invalid(f"Exchange dates lie between {EARLIEST_DAY} and {LATEST_DAY}.", field_name)
    if ends_on < starts_on:
        problems.invalid("The exchange must not end before it starts.", "endsOn")


async def _check_partners(problems: Problems, partner_ids: Sequence[int], host_id: int) -> list[Organisation]:
    found = {org.id: org for org in await Organisation.filter(id__in=list(partner_ids))}
    partners: list[Organisation] = []
    for index, pk in enumerate(partner_ids):
        if pk not in found:
            problems.add(ErrorCode.NOT_FOUND, "Organisation not found.", ["partnerIds", index])
        elif pk == host_id:
            problems.invalid("The host is not its own partner.", "partnerIds", index)
        elif found[pk] not in partners:
            partners.append(found[pk])
    return partners


def _slug_taken(slug: str) -> DomainError:
    return DomainError(ErrorCode.CONFLICT, f"The slug {slug!r} is taken.", ["slug"])


# ---------------------------------------------------------------- writes


async def create_exchange(actor: Actor, data: NewExchange) -> Exchange:
    host_id = access.exchange_host_for(actor, data.host_id)
    problems = Problems()
    check_slug(problems, data.slug)
    titles = localized_map(problems, data.titles, "titles", required=True, max_length=TITLE_MAX)
    descriptions = localized_map(
        problems, data.descriptions, "descriptions", required=False, max_length=DESCRIPTION_MAX
    )
    city = _check_city(problems, data.city)
    _check_dates(problems, data.starts_on, data.ends_on)
    check_time_zone(problems, data.time_zone)
    check_capacity(problems, data.capacity)
    languages = check_languages(problems, data.languages)
    sdgs = check_sdgs(problems, data.sdgs)
    status = data.status or ExchangeStatus.DRAFT
    if status not in INITIAL_STATUSES:
        problems.invalid("A new exchange starts as DRAFT or OPEN.", "status")
    host = await Organisation.get_or_none(id=host_id)
    if host is None:
        problems.add(ErrorCode.NOT_FOUND, "Organisation not found.", ["hostId"])
    partners = await _check_partners(problems, data.partner_ids or [], host_id)
    if not problems and await Exchange.filter(slug=data.slug).exists():
        raise _slug_taken(data.slug)
    problems.raise_if_any()
    try:
        async with in_transaction() as connection:
            exchange = await Exchange.create(
                slug=data.slug,
                titles=titles,
                descriptions=descriptions,
                search_text=search_text(titles, descriptions),
                theme=data.theme,
                status=status,
                host_id=host_id,
                country=data.country,
                city=city,
                starts_on=data.starts_on,
                ends_on=data.ends_on,
                time_zone=data.time_zone,
                capacity=data.capacity,
                waitlist=data.waitlist,
                languages=languages,
                sdgs=sdgs,
                using_db=connection,
            )
            if partners:
                await exchange.partners.add(*partners, using_db=connection)
    except IntegrityError:
        # Two creations raced for the slug: the loser hears what a sequential caller hears.
        raise _slug_taken(data.slug) from None
    return exchange


_NOT_CLEARABLE = {
    "titles": "titles",
    "theme": "theme",
    "starts_on": "startsOn",
    "ends_on": "endsOn",
    "time_zone": "timeZone",
    "languages": "languages",
    "status": "status",
    "waitlist": "waitlist",
}


async def update_exchange(
    actor: Actor, exchange_id: int, changes: ExchangeChanges, settings: Settings | None = None
) -> Exchange:
    await _managed(actor, exchange_id, "id", access.require_manage_exchange)
    after = AfterCommit()
    async with in_transaction() as connection:
        # The row lock orders this update with addSession and other updates of the exchange,
        # so the sessions checked against new dates are all the sessions there are.
        exchange = await Exchange.filter(id=exchange_id).select_for_update().using_db(connection).get()
        values, partners = await _validated_changes(exchange, changes.given())
        if values:
            exchange.update_from_dict(values)
            await exchange.save(using_db=connection)
        if values.get("status") is ExchangeStatus.CANCELLED:
            await _mail_cancellation_to_accepted(exchange.id)
        if partners is not None:
            await exchange.partners.clear(using_db=connection)
            if partners:
                await exchange.partners.add(*partners, using_db=connection)
        if "capacity" in values or values.get("status") is ExchangeStatus.OPEN:
            # A capacity raised or lifted, or an exchange opened again, may leave places free
            # for those on its waiting list. Imported here: the waitlist reads this module.
            from exchange.invitations.waitlist import offer_places_after_change

            await offer_places_after_change(exchange, after, settings)
        await after.stage()
    await after.publish()
    return exchange


async def _mail_cancellation_to_accepted(exchange_id: int) -> None:
    """Invitees who accepted hold the exchange in their calendars (and plan to travel): each
    gets a cancellation with a calendar CANCEL, inside the caller's transaction. Invitees who
    have not answered can no longer accept; the invitation page tells them."""
    accepted = await Invitation.filter(exchange_id=exchange_id, status=InvitationStatus.ACCEPTED).order_by(
        "id"
    )
    if not accepted:
        return
    await Invitation.filter(id__in=[i.id for i in accepted]).update(
        calendar_sequence=F("calendar_sequence") + 1
    )
    await enqueue_many(MailKind.CANCELLATION, accepted)


async def _validated_changes(
    exchange: Exchange, given: dict[str, Any]
) -> tuple[dict[str, Any], list[Organisation] | None]:
    """The column values to write and the new partners (None: unchanged), or every problem."""
    problems = Problems()
    for name, input_name in _NOT_CLEARABLE.items():
        if name in given and given[name] is None:
            problems.invalid("This field cannot be cleared.", input_name)
            del given[name]
    values: dict[str, Any] = {}
    if "titles" in given:
        values["titles"] = localized_map(
            problems, given["titles"], "titles", required=True, max_length=TITLE_MAX
        )
    if "descriptions" in given:
        values["descriptions"] = localized_map(
            problems, given["descriptions"], "descriptions", required=False, max_length=DESCRIPTION_MAX
        )
    if "theme" in given:
        values["theme"] = given["theme"]
    if "city" in given:
        values["city"] = _check_city(problems, given["city"])
    if "capacity" in given:
        check_capacity(problems, given["capacity"])
        values["capacity"] = given["capacity"]
    if "waitlist" in given:
        values["waitlist"] = bool(given["waitlist"])
    if "languages" in given:
        values["languages"] = check_languages(problems, given["languages"])
    if "sdgs" in given:
        # Null clears, like an empty list: serving no goal is a valid state.
        values["sdgs"] = check_sdgs(problems, given["sdgs"] or [])
    if "status" in given and given["status"] != exchange.status:
        if given["status"] not in TRANSITIONS[exchange.status]:
            problems.invalid(
                f"An exchange cannot move from {exchange.status} to {given['status']}.", "status"
            )
        values["status"] = given["status"]
    starts_on = given.get("starts_on", exchange.starts_on)
    ends_on = given.get("ends_on", exchange.ends_on)
    time_zone = given.get("time_zone", exchange.time_zone)
    if {"starts_on", "ends_on", "time_zone"} & given.keys():
        dates_problems = Problems()
        _check_dates(dates_problems, starts_on, ends_on)
        # A stored zone is not judged again: one accepted under an older rule still loads.
        zone = check_time_zone(dates_problems, time_zone) if "time_zone" in given else ZoneInfo(time_zone)
        if zone is not None and not dates_problems:
            await _check_sessions_inside(
                dates_problems, exchange, starts_on, ends_on, time_zone, given.keys()
            )
        problems.items.extend(dates_problems.items)
        values.update(starts_on=starts_on, ends_on=ends_on, time_zone=time_zone)
    partners: list[Organisation] | None = None
    if "partner_ids" in given:
        partners = await _check_partners(problems, given["partner_ids"] or [], exchange.host_id)
    problems.raise_if_any()
    if "titles" in values or "descriptions" in values:
        values["search_text"] = search_text(
            values.get("titles", exchange.titles), values.get("descriptions", exchange.descriptions)
        )
    return values, partners


async def _check_sessions_inside(
    problems: Problems,
    exchange: Exchange,
    starts_on: dt.date,
    ends_on: dt.date,
    time_zone: str,
    given: Any,
) -> None:
    """New dates or zone must keep every existing session inside the exchange."""
    opens, closes = local_day_bounds(starts_on, ends_on, time_zone)
    times = await Session.filter(exchange_id=exchange.id, cancelled_at=None).values_list(
        "starts_at", "ends_at"
    )
    if any(start < opens for start, _ in times):
        field_name = "startsOn" if "starts_on" in given else "timeZone"
        problems.invalid("An existing session would start before the exchange.", field_name)
    if any(end > closes for _, end in times):
        field_name = "endsOn" if "ends_on" in given else "timeZone"
        problems.invalid("An existing session would end after the exchange.", field_name)


__all__ = [
    "KEEP",
    "TRANSITIONS",
    "ExchangeChanges",
    "ExchangeFilter",
    "NewExchange",
    "create_exchange",
    "page_exchanges",
    "partner_ids_of",
    "sees_exact_counts",
    "sees_exchange",
    "sees_invitations",
    "update_exchange",
    "visible_exchange",
    "visible_exchange_by_slug",
]


# ---------------------------------------------------------------- batched reads for loaders


async def pages_by_organisation(
    actor: Actor, organisation_ids: Sequence[int], page: PageWindow
) -> dict[int, Page]:
    """Exchanges each organisation hosts or co-organises, those the actor may see, by start
    date then id: one statement for every organisation."""
    statement = Statement()
    visible = access.visible_exchanges_sql(actor, "t", statement.param)
    return await paged_children(
        Exchange,
        from_sql=(
            "exchange t JOIN (SELECT id AS exchange_id, host_id AS organisation_id FROM exchange "
            "UNION SELECT exchange_id, organisation_id FROM exchange_partner) o ON o.exchange_id = t.id"
        ),
        parent_column="o.organisation_id",
        order_by="t.starts_on, t.id",
        parent_ids=organisation_ids,
        page=page,
        statement=statement,
        where=visible or "",
    )


async def partners_by_exchange(
    exchange_ids: Sequence[int], columns: Iterable[str] | None = None
) -> dict[int, list[Organisation]]:
    return await linked(
        Organisation,
        link_table="exchange_partner",
        parent_column="exchange_id",
        child_column="organisation_id",
        parent_ids=exchange_ids,
        columns=columns,
    )


async def partner_rows(exchange_ids: Sequence[int], projection: Projected) -> Sequence[Any]:
    """``partners_by_exchange`` as rows: (exchange id, *projection), by exchange then id."""
    return await linked_rows(
        Organisation,
        link_table="exchange_partner",
        parent_column="exchange_id",
        child_column="organisation_id",
        parent_ids=exchange_ids,
        projection=projection,
        offered=joins.ORGANISATION,
    )
