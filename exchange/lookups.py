"""Objects by id for ``node(id:)`` as rows (the compiled engine's row mode), each read in one
statement with the visibility rule of exchange.access in its WHERE clause: a row the caller
may not see is simply missing, which reads as an unknown id (node: null), as the by-id
loaders behind the resolvers answer.

The rules are the SQL renderings the lists use (``visible_exchanges_sql``,
``visible_participations_sql``, ``visible_volunteers_sql``), which say the same as
``can_see_exchange`` and the people rule; tests/api/test_node_rows.py compares the answers
with the resolvers' for every kind of caller.
"""
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exchange import access, joins
from exchange.access import Actor
from exchange.models import Exchange, Organisation, Participation, Session, Volunteer
from exchange.sql import Projected, Statement, rows_by_ids


def _in_visible_exchange(actor: Actor, statement: Statement, key: str) -> list[str]:
    """The exchange whose id is the column ``key`` of ``t`` is one the actor may see."""
    visible = access.visible_exchanges_sql(actor, "le", statement.param)
    if visible is None:  # every exchange: the foreign key finds one
        return []
    return [f"EXISTS (SELECT 1 FROM exchange le WHERE le.id = t.{key} AND {visible})"]


async def organisation_rows(_actor: Actor, ids: Sequence[int], projection: Projected) -> Sequence[Any]:
    """Organisations are public."""
    return await rows_by_ids(Organisation, ids, projection, joins.ORGANISATION)


async def exchange_rows(actor: Actor, ids: Sequence[int], projection: Projected) -> Sequence[Any]:
    """Exchanges the actor may see (drafts to their organisers and admins)."""

    def visible(statement: Statement) -> list[str]:
        condition = access.visible_exchanges_sql(actor, "t", statement.param)
        return [] if condition is None else [condition]

    return await rows_by_ids(Exchange, ids, projection, joins.EXCHANGE, where=visible)


async def session_rows(actor: Actor, ids: Sequence[int], projection: Projected) -> Sequence[Any]:
    """Sessions (cancelled ones too) of exchanges the actor may see."""
    return await rows_by_ids(
        Session,
        ids,
        projection,
        joins.SESSION,
        where=lambda statement: _in_visible_exchange(actor, statement, "exchange_id"),
    )


async def participation_rows(actor: Actor, ids: Sequence[int], projection: Projected) -> Sequence[Any]:
    """Participations in exchanges the actor may see, that the people rule shows them."""

    def visible(statement: Statement) -> list[str]:
        shown = access.visible_participations_sql(actor, "t", statement.param)
        return _in_visible_exchange(actor, statement, "exchange_id") + ([] if shown is None else [shown])

    return await rows_by_ids(Participation, ids, projection, joins.PARTICIPATION, where=visible)


async def volunteer_rows(actor: Actor, ids: Sequence[int], projection: Projected) -> Sequence[Any]:
    """Volunteers the people rule shows the actor."""

    def visible(statement: Statement) -> list[str]:
        condition = access.visible_volunteers_sql(actor, "t", statement.param)
        return [] if condition is None else [condition]

    return await rows_by_ids(Volunteer, ids, projection, joins.VOLUNTEER, where=visible)
