"""The row fetches behind the engine's declarations (schema.engine.declarations): each calls
the domain's row variant of what a loader or resolver reads, with the same visibility rules,
for the engine's row mode (schema.engine.rows)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from exchange import exchanges, i18n, joins, models, participations, sessions, sql
from schema.api.relay import encode_cursor
from schema.engine.declarations import Joins, Localized, Paging, Projection

if TYPE_CHECKING:
    from schema.api.context import Context

PAGING = Paging(
    page_args=lambda context, first, after, last, before: context.page_args(first, after, last, before),
    cursor=encode_cursor,
)
# Pages by parents (exchange.sql.paged_rows) keep exactly the page for a first page from the
# start (ChildPage.exact).
EXACT_WINDOW = sql.window_is_exact


def request_locales(context: Context, locale: str | None) -> list[str]:
    """The languages a localized field prefers: its ``locale`` argument, then Accept-Language.
    One function for every localized field, so fields given the same argument share its value
    in a request (schema.engine.row_compiler: a slot per distinct locale argument)."""
    return context.locales(locale)


def localized(
    attribute: str, *, fallback_attribute: str | None = None, fallback: str | None = None
) -> Localized:
    """A text of the JSON map ``attribute`` in the field's ``locale`` argument, then the
    request's Accept-Language, else the default language (what i18n.pick_text does)."""
    return Localized(
        attribute,
        i18n.pick_text,
        request_locales,
        fallback_attribute=fallback_attribute,
        fallback=fallback,
        first_locale_first=True,  # pick_text tries the preferred languages in order
    )


def offered(domain_joins: Mapping[str, sql.Join]) -> Joins:
    """The joins a domain fetch offers (exchange.joins), as a declaration names them."""
    return {name: offered(join.joins) for name, join in domain_joins.items()}


ORGANISATION_JOINS = offered(joins.ORGANISATION)
EXCHANGE_JOINS = offered(joins.EXCHANGE)
VOLUNTEER_JOINS = offered(joins.VOLUNTEER)
SESSION_JOINS = offered(joins.SESSION)
PARTICIPATION_JOINS = offered(joins.PARTICIPATION)


async def organisations(_context: Context, ids: list[int], projection: Projection) -> Sequence[Any]:
    return await sql.rows_by_ids(models.Organisation, ids, projection, joins.ORGANISATION)


async def exchanges_by_id(_context: Context, ids: list[int], projection: Projection) -> Sequence[Any]:
    """Exchanges by id with no visibility check: for paths that already passed it (a session
    or participation the caller may see), as the ``exchange`` loader."""
    return await sql.rows_by_ids(models.Exchange, ids, projection, joins.EXCHANGE)


async def volunteers_by_id(_context: Context, ids: list[int], projection: Projection) -> Sequence[Any]:
    """Volunteers by id inside the people rule (a participation's volunteer), as the
    ``volunteer`` loader."""
    return await sql.rows_by_ids(models.Volunteer, ids, projection, joins.VOLUNTEER)


async def partners(_context: Context, exchange_ids: list[int], projection: Projection) -> Sequence[Any]:
    return await exchanges.partner_rows(exchange_ids, projection)


async def exchange_sessions(
    _context: Context, exchange_ids: list[int], projection: Projection
) -> Sequence[Any]:
    return await sessions.session_rows(exchange_ids, projection)


async def speakers(_context: Context, session_ids: list[int], projection: Projection) -> Sequence[Any]:
    return await sessions.speaker_rows(session_ids, projection)


async def participants(
    context: Context, exchange_ids: list[int], page: Any, projection: Projection
) -> Sequence[Any]:
    return await participations.page_rows_by_exchange(context.actor, exchange_ids, page, projection)


async def exchange_page(
    context: Context, page: Any, projection: Projection
) -> tuple[Sequence[Any], int, int]:
    """Query.exchanges without a filter."""
    return await exchanges.page_exchange_rows(context.actor, None, page, projection)
