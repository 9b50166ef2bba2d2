"""exchange.sql: the select lists and joins a row fetch formats from a projection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from exchange import joins, sql
from exchange.exchanges import ExchangeFilter
from exchange.models import Exchange, ExchangeStatus, Organisation
from schema.api.paging import PageArgs
from tests.databases import on_postgres
from tests.domain.conftest import World


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


# ---------------------------------------------------------------- remembered statement texts


WINDOWS = [
    PageArgs(first=2),
    PageArgs(first=3, after=0),
    PageArgs(last=2),
    PageArgs(last=1, before=2),
    PageArgs(first=1, before=3),
    PageArgs(after=1, before=4, first=2),
    PageArgs(),
]
PARTICIPANT = Projection(
    ("id", "role"),
    (
        (
            "volunteer",
            Projection(("id", "full_name")),
        ),
    ),
)
ORGANISATION = Projection(("id", "names", "slug"))
SESSION = Projection(("id", "titles", "starts_at"))
SPEAKER = Projection(("id", "full_name"))
# Filters whose conditions take as many parameters as each other, in other texts.
CRITERIA = [
    None,
    ExchangeFilter(country="KZ"),
    ExchangeFilter(status=ExchangeStatus.OPEN),
    ExchangeFilter(search="aral", sdgs=(6, 13)),
]
EXCHANGE_PAGE = Projection(("id", "slug", "titles"), (("host", HOST),))


async def test_a_remembered_text_takes_the_values_a_built_one_takes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each row fetch of the compiled engine, asked once with its texts forgotten and once
    remembered (exchange.sql._TEXTS): the same statement text, the same parameters in the same
    order, the same rows, for every shape of page and for visibility rules with parameters."""
    from exchange import access, exchanges, participations, sessions

    sent: list[tuple[str, list[Any]]] = []
    fetch_rows = sql.Statement.fetch_rows

    async def recording(self: sql.Statement, text: str) -> Any:
        sent.append((text, list(self.params)))
        return await fetch_rows(self, text)

    monkeypatch.setattr(sql.Statement, "fetch_rows", recording)
    ids = [world.exchange.id, world.exchange.id + 1000]
    one = [world.exchange.id]  # one id is sent as itself, not as an array (Statement.is_in)
    actors = [access.ANONYMOUS, access.Actor(access.Role.ADMIN), world.host_actor, world.other_actor]
    fetches: list[Any] = [
        fetch
        for keys in (ids, one)
        for fetch in (
            lambda k=keys: exchanges.partner_rows(k, ORGANISATION),
            lambda k=keys: sessions.session_rows(k, SESSION),
            lambda k=keys: sessions.speaker_rows(k, SPEAKER),
        )
    ]
    for actor in actors:
        for window in WINDOWS:
            fetches.append(
                lambda a=actor, w=window: participations.page_rows_by_exchange(a, ids, w, PARTICIPANT)
            )
            if window.first is not None and window.last is None and window.before is None:
                fetches.extend(
                    lambda a=actor, w=window, c=criteria: exchanges.page_exchange_rows(a, c, w, EXCHANGE_PAGE)
                    for criteria in CRITERIA
                )

    def rows_of(answer: Any) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in (answer[0] if isinstance(answer, tuple) else answer)]

    async def run(fetch: Any) -> tuple[list[tuple[str, list[Any]]], list[tuple[Any, ...]]]:
        sent.clear()
        rows = rows_of(await fetch())
        return list(sent), rows

    built = []
    for fetch in fetches:  # each text built afresh
        monkeypatch.setattr(sql, "_TEXTS", {})
        built.append(await run(fetch))
    missed: list[Any] = []

    class Texts(dict[Any, Any]):
        def get(self, key: Any, default: Any = None) -> Any:
            found = super().get(key, default)
            if found is None:
                missed.append(key)
            return found

    monkeypatch.setattr(sql, "_TEXTS", Texts())
    for round_ in range(2):  # the texts remembered across fetches, actors and windows
        missed.clear()
        for fetch, expected in zip(fetches, built, strict=True):
            assert await run(fetch) == expected
    if on_postgres():  # an array of ids: remembered (an IN list on SQLite depends on the count)
        assert len(sql._TEXTS) >= 5
        assert round_ == 1 and not missed  # the second round built nothing: every text was kept
        # The partners of one exchange and of two: two texts, each with its own parameter.
        ((text_of_two, params_of_two),), ((text_of_one, params_of_one),) = built[0][0], built[3][0]
        assert params_of_two == [ids] and "l.exchange_id = ANY($1)" in text_of_two
        assert params_of_one == one and "l.exchange_id = $1" in text_of_one


def test_one_value_is_compared_as_itself_several_as_an_array() -> None:
    """On PostgreSQL a lookup by one id is ``= $n``: with ``= ANY($n)`` of one element the
    database would plan the statement again at every execution (Statement.is_in)."""
    statement = object.__new__(sql.Statement)
    statement.prefix, statement.params = "$", []
    assert statement.is_in("t.id", [7]) == "t.id = $1"
    assert statement.is_in("t.id", iter([7, 8])) == "t.id = ANY($2)"
    assert statement.is_in("t.id", []) == "t.id = ANY($3)"  # no rows, and no syntax error
    assert statement.params == [7, [7, 8], []]
    assert [sql.any_of([7]), sql.any_of((7, 8)), sql.any_of([])] == [7, [7, 8], []]
    on_sqlite = object.__new__(sql.Statement)
    on_sqlite.prefix, on_sqlite.params = "?", []
    assert on_sqlite.is_in("t.id", [7]) == "t.id IN (?1)"
    assert on_sqlite.is_in("t.id", [7, 8]) == "t.id IN (?2, ?3)"
    assert on_sqlite.is_in("t.id", []) == "t.id IN (NULL)"


def test_remembered_texts_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "_TEXTS", {})
    monkeypatch.setattr(sql, "TEXT_ENTRIES", 3)
    for index in range(10):
        sql._keep(("key", index), (), "SELECT 1")
        assert len(sql._TEXTS) <= 3


class _Numbered:
    """What window_condition asks of a statement: numbered SQLite parameters."""

    def __init__(self) -> None:
        self.params: list[Any] = []

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"?{len(self.params)}"


def test_an_exact_window_keeps_exactly_the_page() -> None:
    """window_is_exact says when window_condition's rows are the page itself (the engine then
    takes them whole, schema.engine.row_run): checked by running the condition over every
    total, for every shape of page."""
    import itertools
    import sqlite3

    database = sqlite3.connect(":memory:")
    shapes = [
        PageArgs(first=first, after=after, last=last, before=before)
        for first, after, last, before in itertools.product(
            (None, 0, 1, 3), (None, 0, 2), (None, 0, 2), (None, 1, 4)
        )
        if first is None or last is None
    ]
    exact_seen = 0
    for shape in shapes:
        statement = _Numbered()
        condition = sql.window_condition(statement, shape, "i", "t")  # type: ignore[arg-type]
        for total in range(7):
            kept = [
                row[0]
                for row in database.execute(
                    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?9) "
                    f"SELECT i FROM n, (SELECT ?9 AS t) WHERE ?9 > 0 AND {condition}",
                    [*statement.params, *[None] * (8 - len(statement.params)), total],
                )
            ]
            start, end = shape.window(total)
            page = list(range(start, max(start, end)))
            assert set(page) <= set(kept), (shape, total, kept, page)
            if sql.window_is_exact(shape):
                exact_seen += 1
                assert kept == page, (shape, total, kept, page)
    assert exact_seen
