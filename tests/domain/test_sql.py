"""exchange.sql: the select lists and joins a row fetch formats from a projection."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from exchange import joins, sql
from exchange.models import Exchange, Organisation


@dataclass(frozen=True)
class Projection:
    columns: tuple[str, ...]
    joins: tuple[tuple[str, Projection], ...] = ()


HOST = Projection(("id", "names"))
EXCHANGE = Projection(("id", "slug"), (("host", HOST),))


def test_a_projection_gives_its_columns_then_its_joins() -> None:
    selects, clauses = sql.projected("e", Exchange, EXCHANGE, joins.EXCHANGE)
    assert selects == ['e."id"', 'e."slug"', 'e_host."id"', 'e_host."names"']
    assert clauses == ['LEFT JOIN "organisation" e_host ON e_host."id" = e."host_id"']


def test_the_same_fetch_is_answered_from_memory() -> None:
    first = sql.projected("e", Exchange, EXCHANGE, joins.EXCHANGE)
    again = sql.projected("e", Exchange, EXCHANGE, joins.EXCHANGE)
    assert again[0] is first[0] and again[1] is first[1]
    equal = sql.projected("e", Exchange, Projection(("id", "slug"), (("host", HOST),)), joins.EXCHANGE)
    assert equal == first


def test_other_offered_joins_are_not_answered_from_memory() -> None:
    sql.projected("e", Exchange, EXCHANGE, joins.EXCHANGE)
    elsewhere = {"host": sql.Join(Organisation, "partner_id")}
    _selects, clauses = sql.projected("e", Exchange, EXCHANGE, elsewhere)
    assert clauses == ['LEFT JOIN "organisation" e_host ON e_host."id" = e."partner_id"']
    with pytest.raises(KeyError):
        sql.projected("e", Exchange, EXCHANGE, sql.NO_JOINS)


def test_unknown_columns_are_refused_every_time() -> None:
    wrong = Projection(("id", "name; DROP TABLE exchange"))
    for _ in range(2):
        with pytest.raises(ValueError, match="no column"):
            sql.projected("e", Exchange, wrong, sql.NO_JOINS)


def test_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "_PROJECTED", {})
    monkeypatch.setattr(sql, "PROJECTED_ENTRIES", 3)
    for alias in "abcdefg":
        sql.projected(alias, Exchange, EXCHANGE, joins.EXCHANGE)
        assert len(sql._PROJECTED) <= 3
