"""Participation reads: pages of participations per exchange or per volunteer, and the
counts behind seatsLeft."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tortoise.functions import Count

from exchange import access
from exchange.access import Actor
from exchange.models import Participation, ParticipationStatus
from exchange.sql import Page, PageWindow, Statement, paged_children

# Participations that hold a place (of any role) for seatsLeft.
HOLDING_A_PLACE = (ParticipationStatus.CONFIRMED, ParticipationStatus.ATTENDED)


async def pages_by_exchange(
    exchange_ids: Sequence[int], page: PageWindow, columns: Iterable[str] | None = None
) -> dict[int, Page]:
    """Participants of exchanges the caller already may see, by id (only ``columns`` when given)."""
    return await paged_children(
        Participation,
        from_sql="participation t",
        parent_column="t.exchange_id",
        order_by="t.id",
        parent_ids=exchange_ids,
        page=page,
        statement=Statement(),
        columns=columns,
    )


async def pages_by_volunteer(actor: Actor, volunteer_ids: Sequence[int], page: PageWindow) -> dict[int, Page]:
    """A volunteer's participations in the exchanges the actor may see, by id."""
    statement = Statement()
    visible = access.visible_exchanges_sql(actor, "e", statement.param)
    return await paged_children(
        Participation,
        from_sql="participation t JOIN exchange e ON e.id = t.exchange_id",
        parent_column="t.volunteer_id",
        order_by="t.id",
        parent_ids=volunteer_ids,
        page=page,
        statement=statement,
        where=visible or "",
    )


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
