"""Participation reads, each filtered by exchange.access's people rule for the caller: pages
of participations per exchange or per volunteer, lookups by id; and the counts behind
seatsLeft and participantCountsByCountry."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tortoise.functions import Count

from exchange import access, joins
from exchange.access import Actor
from exchange.models import Participation, ParticipationStatus
from exchange.rows import instances
from exchange.sql import Page, PageWindow, Projected, Statement, paged_children, paged_rows, select_list

# Participations that hold a place (of any role) for seatsLeft: every one but a withdrawal.
# A no-show keeps it, so recording attendance never frees or takes a place after the start.
HOLDING_A_PLACE = (ParticipationStatus.CONFIRMED, ParticipationStatus.ATTENDED, ParticipationStatus.NO_SHOW)


def _shown(actor: Actor, statement: Statement) -> list[str]:
    """SQL over a participation ``t`` joined with its exchange ``e``: the actor may see the
    exchange, and the people rule shows the participation."""
    conditions = (
        access.visible_exchanges_sql(actor, "e", statement.param),
        access.visible_participations_sql(actor, "t", statement.param),
    )
    return [condition for condition in conditions if condition is not None]


async def pages_by_exchange(
    actor: Actor, exchange_ids: Sequence[int], page: PageWindow, columns: Iterable[str] | None = None
) -> dict[int, Page]:
    """Participants of exchanges the caller already may see, by id, those the people rule of
    exchange.access shows the actor (only ``columns`` when given)."""
    statement = Statement()
    visible = access.visible_participations_sql(actor, "t", statement.param)
    return await paged_children(
        Participation,
        from_sql="participation t",
        parent_column="t.exchange_id",
        order_by="t.id",
        parent_ids=exchange_ids,
        page=page,
        statement=statement,
        where=visible or "",
        columns=columns,
    )


async def page_rows_by_exchange(
    actor: Actor, exchange_ids: Sequence[int], page: PageWindow, projection: Projected
) -> Sequence[Any]:
    """``pages_by_exchange`` as rows: (exchange id, index, total, *projection), the same
    participations (a superset of each page, see exchange.sql.paged_rows)."""
    statement = Statement()
    visible = access.visible_participations_sql(actor, "t", statement.param)
    return await paged_rows(
        Participation,
        table="participation",
        parent_column="exchange_id",
        order_by="t.id",
        parent_ids=exchange_ids,
        page=page,
        statement=statement,
        projection=projection,
        where=visible or "",
        offered=joins.PARTICIPATION,
    )


async def pages_by_volunteer(actor: Actor, volunteer_ids: Sequence[int], page: PageWindow) -> dict[int, Page]:
    """A volunteer's participations that the actor may see (in exchanges it may see, and
    shown by the people rule), by id."""
    statement = Statement()
    return await paged_children(
        Participation,
        from_sql="participation t JOIN exchange e ON e.id = t.exchange_id",
        parent_column="t.volunteer_id",
        order_by="t.id",
        parent_ids=volunteer_ids,
        page=page,
        statement=statement,
        where=" AND ".join(_shown(actor, statement)),
    )


async def visible_by_ids(
    actor: Actor, participation_ids: Sequence[int], columns: Iterable[str] | None = None
) -> list[Participation]:
    """The participations with these ids that the actor may see (the others read as unknown)."""
    statement = Statement()
    conditions = [statement.is_in("t.id", participation_ids), *_shown(actor, statement)]
    rows = await statement.fetch_rows(
        f"SELECT {select_list('t', columns)} FROM participation t JOIN exchange e ON e.id = t.exchange_id "  # noqa: S608
        f"WHERE {' AND '.join(conditions)}"
    )
    return instances(Participation, rows)


async def countries_by_exchange(exchange_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per exchange, how many of the people holding a place (confirmed or attended) come from
    each country: every participant counted, so callers apply access.small_counts_merged
    where the caller lacks full rights."""
    statement = Statement()
    rows = await statement.fetch(
        "SELECT t.exchange_id, v.country, COUNT(*) AS people FROM participation t "  # noqa: S608
        f"JOIN volunteer v ON v.id = t.volunteer_id WHERE {statement.is_in('t.exchange_id', exchange_ids)} "
        f"AND t.status IN {statement.in_list(status.value for status in HOLDING_A_PLACE)} "
        "GROUP BY t.exchange_id, v.country"
    )
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(int(row["exchange_id"]), {})[row["country"]] = int(row["people"])
    return counts


async def places_taken(exchange_ids: Sequence[int]) -> dict[int, int]:
    rows = (
        await Participation.filter(exchange_id__in=list(exchange_ids), status__in=list(HOLDING_A_PLACE))
        .annotate(taken=Count("id"))
        .group_by("exchange_id")
        .values("exchange_id", "taken")
    )
    return {int(row["exchange_id"]): int(row["taken"]) for row in rows}


async def seats_taken(exchange_id: int) -> int:
    """Places held in one exchange (what answering an invitation counts against capacity)."""
    return await Participation.filter(exchange_id=exchange_id, status__in=HOLDING_A_PLACE).count()


def seats_left(capacity: int | None, taken: int) -> int | None:
    """Null for no limit; never below zero (a capacity lowered under the confirmed count)."""
    return None if capacity is None else max(capacity - taken, 0)
