"""Hand-written SQL for what the ORM cannot say in one statement (window queries that
page many parents at once), portable between SQLite and PostgreSQL.

Only identifiers written in this code are formatted into SQL; every value is a parameter.
"""
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tortoise.models import Model

from exchange.pinned import lent, pinned_client, tortoise_connections
from exchange.rows import M, builder, instances


class Statement:
    """Collects parameters and hands out numbered placeholders in the connection's style
    (``$1`` for asyncpg, ``?1`` for SQLite), so fragments may be built in any order."""

    def __init__(self, connection_name: str = "default") -> None:
        client = pinned_client(connection_name)
        self.connection = tortoise_connections().get(connection_name) if client is None else client
        self.prefix = "?" if self.connection.capabilities.dialect == "sqlite" else "$"
        self.params: list[Any] = []

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"{self.prefix}{len(self.params)}"

    def in_list(self, values: Iterable[Any]) -> str:
        """``(p1, p2, ...)`` for an IN clause; never empty (an empty IN is a syntax error)."""
        placeholders = [self.param(value) for value in values]
        return "(" + ", ".join(placeholders or ["NULL"]) + ")"

    def is_in(self, column: str, values: Iterable[Any]) -> str:
        """``column`` is one of ``values``: on PostgreSQL ``= $n`` for one value, else ``= ANY($n)``
        with one array parameter (``any_of``), so that the text takes two forms whatever the
        number of values and asyncpg's prepared statements are reused; an IN list on SQLite.
        Values must be of the column's type.

        One value is not sent as an array of one: PostgreSQL prices a cached generic plan for
        ``= ANY($n)`` as if the array held ten, above the custom plan for one, so it would plan
        the statement again at every execution (a lookup by id: 0.26 against 0.11 ms of the
        database's CPU, bench/RESULTS.md, session 15)."""
        if self.prefix == "$":
            value = any_of(values)
            placeholder = self.param(value)
            return (
                f"{column} = ANY({placeholder})" if isinstance(value, list) else f"{column} = {placeholder}"
            )
        return f"{column} IN {self.in_list(values)}"

    async def fetch(self, sql: str) -> list[dict[str, Any]]:
        return await self.connection.execute_query_dict(sql, self.params)

    async def fetch_rows(self, sql: str) -> Sequence[Any]:
        """Rows as the driver returns them (asyncpg records, sqlite3 rows: no dict per row),
        readable by column name; for many rows that become model instances (exchange.rows)."""
        pinned = lent(self.connection)
        if pinned is not None:
            return await pinned.fetch(sql, self.params)
        _count, rows = await self.connection.execute_query(sql, self.params)
        return rows

    async def fetch_kept(
        self, key: tuple[Any, ...], held: tuple[Any, ...], values: list[Any], build: Callable[[], str]
    ) -> Sequence[Any]:
        """``fetch_rows`` of a text that depends on ``key`` alone (``held``: the objects whose
        ids are in it), never on the values: on PostgreSQL built by ``build`` once and kept
        (``_TEXTS``), later ``values`` appended as the parameters ``build`` took. A text whose
        parameters were not ``values`` serves once and is not kept (a ``build`` that uses
        ``is_in`` takes ``any_of(ids)``). On SQLite (an IN list's text depends on how many
        values) built every time."""
        if self.prefix != "$":
            return await self.fetch_rows(build())
        # The placeholders' numbers start after the params already taken; which values are
        # arrays tells is_in's two texts apart (one id as itself, several as an array).
        key = (*key, len(self.params), *[value.__class__ is list for value in values])
        found = _TEXTS.get(key)
        if found is not None:
            self.params.extend(values)
            return await self.fetch_rows(found[1])
        start = len(self.params)
        text = build()
        if self.params[start:] == values:
            _keep(key, held, text)
        return await self.fetch_rows(text)


class PageWindow(Protocol):
    """first/after/last/before with cursors already decoded to offsets (schema.api.paging.PageArgs)."""

    @property
    def first(self) -> int | None: ...
    @property
    def after(self) -> int | None: ...
    @property
    def last(self) -> int | None: ...
    @property
    def before(self) -> int | None: ...

    def window(self, total: int) -> tuple[int, int]: ...


def any_of(values: Iterable[Any]) -> Any:
    """The parameter ``Statement.is_in`` sends on PostgreSQL: the one value, or the list of
    them (none or several)."""
    found = list(values)
    return found[0] if len(found) == 1 else found


def window_condition(statement: Statement, page: PageWindow, index: str, total: str) -> str:
    """A SQL condition on a 0-based row index that keeps a bounded superset of the page
    (the exact page is cut in Python once each parent's total is known), plus row 0 so
    every parent with rows reports its total even when the page is empty."""
    placeholders = iter([statement.param(value) for value in window_values(page)])
    parts = [f"{index} >= {next(placeholders)}"]
    if page.before is not None:
        parts.append(f"{index} < {next(placeholders)}")
    if page.first is not None:
        parts.append(f"{index} < {next(placeholders)}")
    elif page.last is not None:
        # end = min(before, total): the last `last` rows before it.
        end = (
            total
            if page.before is None
            else f"(CASE WHEN {total} < {next(placeholders)} THEN {total} ELSE {next(placeholders)} END)"
        )
        parts.append(f"{index} >= {end} - {next(placeholders)}")
    return f"(({' AND '.join(parts)}) OR {index} = 0)"


def window_is_exact(page: PageWindow) -> bool:
    """Whether window_condition keeps exactly the page's rows: the first ``first`` rows (one
    at least) from the start. Otherwise it keeps a superset (row 0 for the total, the rows
    before a ``last`` page), which the caller cuts with the total."""
    return (
        page.after is None
        and page.before is None
        and page.last is None
        and page.first is not None
        and page.first > 0
    )


def window_values(page: PageWindow) -> list[Any]:
    """window_condition's parameters, in the order its text numbers them."""
    start = 0 if page.after is None else page.after + 1
    values: list[Any] = [start]
    if page.before is not None:
        values.append(page.before)
    if page.first is not None:
        values.append(start + page.first)
    elif page.last is not None:
        if page.before is not None:
            values += [page.before, page.before]
        values.append(page.last)
    return values


def window_shape(page: PageWindow) -> tuple[bool, bool, bool, bool]:
    """What window_condition's text depends on (which of the page's bounds are given)."""
    return (page.after is None, page.before is None, page.first is None, page.last is None)


@dataclass
class Page:
    """One parent's page: model instances, the offset of the first, and the total."""

    nodes: list[Any] = field(default_factory=list)
    start: int = 0
    total: int = 0


async def paged_children(
    model: type[Model],
    *,
    from_sql: str,
    parent_column: str,
    order_by: str,
    parent_ids: Sequence[Any],
    page: PageWindow,
    statement: Statement,
    where: str = "",
    columns: Iterable[str] | None = None,
) -> dict[Any, Page]:
    """Pages of ``model`` rows for many parents in one statement.

    ``from_sql`` is a FROM clause whose row alias ``t`` has the model's columns and whose
    ``parent_column`` names the parent; ``where`` (with placeholders already taken from
    ``statement``) narrows the rows, e.g. to what the actor may see.
    """
    partition = f"PARTITION BY {parent_column}"
    ranked = (
        f"SELECT {select_list('t', columns)}, {parent_column} AS _parent, "
        f"ROW_NUMBER() OVER ({partition} ORDER BY {order_by}) - 1 AS _index, "
        f"COUNT(*) OVER ({partition}) AS _total "
        f"FROM {from_sql} WHERE {statement.is_in(parent_column, parent_ids)}"
        + (f" AND ({where})" if where else "")
    )
    condition = window_condition(statement, page, "r._index", "r._total")
    rows = await statement.fetch_rows(
        f"SELECT r.* FROM ({ranked}) r WHERE {condition} ORDER BY r._parent, r._index"
    )
    build = builder(model, rows)
    pages: dict[Any, Page] = {parent: Page() for parent in parent_ids}
    grouped: dict[Any, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row["_parent"], []).append(row)
    for parent, parent_rows in grouped.items():
        total = int(parent_rows[0]["_total"])
        start, end = page.window(total)
        nodes = [build(row) for row in parent_rows if start <= int(row["_index"]) < end]
        pages[parent] = Page(nodes=nodes, start=start, total=total)
    return pages


def select_list(alias: str, columns: Iterable[str] | None) -> str:
    """``alias.*``, or the named columns of ``alias`` (partial rows, see exchange.rows)."""
    if columns is None:
        return f"{alias}.*"
    return ", ".join(f'{alias}."{column}"' for column in sorted(columns))


async def linked(
    model: type[M],
    *,
    link_table: str,
    parent_column: str,
    child_column: str,
    parent_ids: Sequence[int],
    columns: Iterable[str] | None = None,
) -> dict[int, list[M]]:
    """The ``model`` rows linked to each parent through a many-to-many ``link_table``
    (``parent_column`` -> ``child_column``), by id; one statement for every parent."""
    statement = Statement()
    table = model._meta.db_table
    rows = await statement.fetch_rows(
        f"SELECT l.{parent_column} AS _parent, {select_list('c', columns)} FROM {link_table} l "
        f'JOIN "{table}" c ON c.id = l.{child_column} '
        f"WHERE {statement.is_in(f'l.{parent_column}', parent_ids)} ORDER BY l.{parent_column}, c.id"
    )
    result: dict[int, list[M]] = {pk: [] for pk in parent_ids}
    build = builder(model, rows)
    for row in rows:
        result[int(row["_parent"])].append(build(row))
    return result


async def by_ids(model: type[M], ids: Sequence[Any], columns: Iterable[str] | None = None) -> list[M]:
    """The rows of ``model`` with these primary keys, in no particular order; only
    ``columns`` when given (partial instances)."""
    statement = Statement()
    meta = model._meta
    table, pk = meta.db_table, meta.db_pk_column
    key = f't."{pk}"'
    return instances(
        model,
        await statement.fetch_rows(
            f'SELECT {select_list("t", columns)} FROM "{table}" t WHERE {statement.is_in(key, ids)}'
        ),
    )


def json_list_holds(statement: Statement, column: str, value: str) -> str:
    """SQL: the JSON list ``column`` holds the string ``value``, the same on SQLite and
    PostgreSQL: a LIKE over the JSON text (callers pass validated codes, no quotes inside)."""
    return text_contains(statement, f"CAST({column} AS TEXT)", f'"{value}"')


def json_list_holds_any(statement: Statement, column: str, values: Sequence[int]) -> str:
    """SQL: the JSON list of integers ``column`` holds any of ``values``, on both databases.
    By element, not a LIKE over the text, which would find 1 in [13]."""
    if statement.prefix == "$":
        return (
            f"EXISTS (SELECT 1 FROM jsonb_array_elements_text({column}) AS held(value) "
            f"WHERE {statement.is_in('held.value::int', values)})"
        )
    return f"EXISTS (SELECT 1 FROM json_each({column}) AS held WHERE {statement.is_in('held.value', values)})"


def text_contains(statement: Statement, column: str, needle: str) -> str:
    """SQL: the text ``column`` contains ``needle``, with LIKE's wildcards in it escaped (as the
    ORM's ``__contains`` does), on both databases."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{column} LIKE {statement.param(f'%{escaped}%')} ESCAPE '\\'"


# ---------------------------------------------------------------- rows for the compiled engine
# The engine (schema.engine.rows) asks for exactly the columns a query reads and gets the
# driver's rows back as tuples, in the order it asked: no model instance, no dict per row.


class Projected(Protocol):
    """Columns to select from a table (primary key first), then the columns of each joined
    to-one relation, depth first (schema.engine.declarations.Projection)."""

    @property
    def columns(self) -> tuple[str, ...]: ...
    @property
    def joins(self) -> Sequence[tuple[str, Projected]]: ...


@dataclass(frozen=True)
class Join:
    """A to-one relation a row fetch offers to join: the row of ``model`` whose primary key
    is the column ``key`` of the row it hangs from (LEFT JOIN: nulls when there is none)."""

    model: type[Model]
    key: str
    joins: dict[str, Join] = field(default_factory=dict)


# projected()'s answers: a compiled query asks the same fetch for the same projection object
# on every request. Keyed by identities (hashing a projection runs Python code per nesting
# level); each entry holds its projection and offered joins, so their ids stay theirs while
# it is kept. A few hundred bytes an entry, cleared when full.
_PROJECTED: dict[tuple[str, int, int, int], tuple[Projected, dict[str, Join], list[str], list[str]]] = {}
PROJECTED_ENTRIES = 1024
NO_JOINS: dict[str, Join] = {}


def projected(
    alias: str, model: type[Model], projection: Projected, offered: dict[str, Join]
) -> tuple[list[str], list[str]]:
    """The select expressions and LEFT JOIN clauses for ``projection`` over the row ``alias``
    of ``model``. Only the model's own column names and the offered joins are accepted
    (identifiers are formatted into the SQL). The lists are shared: do not change them."""
    key = (alias, id(model), id(projection), id(offered))
    found = _PROJECTED.get(key)
    if found is not None:
        return found[2], found[3]
    selects, clauses = _projected(alias, model, projection, offered)
    if len(_PROJECTED) >= PROJECTED_ENTRIES:
        _PROJECTED.clear()
    _PROJECTED[key] = (projection, offered, selects, clauses)
    return selects, clauses


def _projected(
    alias: str, model: type[Model], projection: Projected, offered: dict[str, Join]
) -> tuple[list[str], list[str]]:
    known = model._meta.fields_db_projection_reverse
    unknown = [column for column in projection.columns if column not in known]
    if unknown:
        raise ValueError(f"{model.__name__} has no column {unknown[0]!r}")
    selects = [f'{alias}."{column}"' for column in projection.columns]
    clauses: list[str] = []
    for name, joined in projection.joins:
        join = offered[name]  # KeyError: a join this fetch does not offer
        joined_alias = f"{alias}_{name}"
        target = join.model._meta
        clauses.append(
            f'LEFT JOIN "{target.db_table}" {joined_alias} '
            f'ON {joined_alias}."{target.db_pk_column}" = {alias}."{join.key}"'
        )
        more_selects, more_clauses = _projected(joined_alias, join.model, joined, join.joins)
        selects += more_selects
        clauses += more_clauses
    return selects, clauses


# Statement.fetch_kept's texts: the compiled engine's row fetches on PostgreSQL depend only on
# what the compiled query asks (the projection and the fetch), the shape of a page and the text
# of a visibility rule and which parameters are arrays (Statement.is_in sends one id as
# itself), never on the values, which are parameters. Keyed by identities and strings;
# each entry holds the objects whose ids are in its key, so those ids stay theirs while it is
# kept. A few kB at most an entry, cleared when full.
_TEXTS: dict[tuple[Any, ...], tuple[tuple[Any, ...], str]] = {}
TEXT_ENTRIES = 1024


def _keep(key: tuple[Any, ...], held: tuple[Any, ...], text: str) -> None:
    if len(_TEXTS) >= TEXT_ENTRIES:
        _TEXTS.clear()
    _TEXTS[key] = (held, text)


async def rows_by_ids(
    model: type[Model],
    ids: Sequence[Any],
    projection: Projected,
    offered: dict[str, Join] | None = None,
    where: Callable[[Statement], list[str]] | None = None,
) -> Sequence[Any]:
    """The rows of ``model`` with these primary keys, in no particular order, laid out as
    ``projection``; ``where`` gives further conditions over the row ``t`` (e.g. a visibility
    rule), its values as parameters of the statement it is given."""
    statement = Statement()
    meta = model._meta
    selects, joins = projected("t", model, projection, offered or NO_JOINS)
    key = f't."{meta.db_pk_column}"'
    conditions = [statement.is_in(key, ids), *(where(statement) if where is not None else ())]
    return await statement.fetch_rows(
        f'SELECT {", ".join(selects)} FROM "{meta.db_table}" t {" ".join(joins)} '
        f"WHERE {' AND '.join(conditions)}"
    )


async def linked_rows(
    model: type[Model],
    *,
    link_table: str,
    parent_column: str,
    child_column: str,
    parent_ids: Sequence[int],
    projection: Projected,
    offered: dict[str, Join] | None = None,
) -> Sequence[Any]:
    """``linked``'s rows as (parent id, *projection), in the same order. On PostgreSQL each
    linked row is reached by its primary key (a LATERAL subquery the planner cannot flatten):
    joined plainly, it hashed the whole table for a few hundred links (speakers: 26 against
    under 1 ms on the benchmark's data)."""
    statement = Statement()
    offered = offered or NO_JOINS

    def build() -> str:
        selects, joins = projected("c", model, projection, offered)
        table = model._meta.db_table
        if statement.prefix == "$":
            child = (
                f'JOIN LATERAL (SELECT * FROM "{table}" lc WHERE lc.id = l.{child_column} OFFSET 0) c ON true'
            )
        else:
            child = f'JOIN "{table}" c ON c.id = l.{child_column}'
        return (
            f"SELECT l.{parent_column}, {', '.join(selects)} FROM {link_table} l {child} {' '.join(joins)} "
            f"WHERE {statement.is_in(f'l.{parent_column}', parent_ids)} ORDER BY l.{parent_column}, c.id"
        )

    key = ("linked", id(model), link_table, parent_column, child_column, id(projection), id(offered))
    return await statement.fetch_kept(key, (model, projection, offered), [any_of(parent_ids)], build)


async def paged_rows(
    model: type[Model],
    *,
    table: str,
    parent_column: str,
    order_by: str,
    parent_ids: Sequence[Any],
    page: PageWindow,
    statement: Statement,
    projection: Projected,
    where: str = "",
    offered: dict[str, Join] | None = None,
) -> Sequence[Any]:
    """``paged_children``'s rows as (parent id, 0-based index, parent's total, *projection):
    the same rows (the window of each parent's page is cut by the caller with the total),
    the joins made after the page is numbered. ``table`` is aliased ``t``.

    On PostgreSQL each parent's rows are numbered in a LATERAL subquery over the parent ids:
    the planner then checks ``where`` for one parent's few rows at a time (by index) instead
    of hashing every row a condition's subquery reads (participants: 24 against a few ms on
    the benchmark's data, where the people rule's EXISTS hashed every volunteer)."""
    offered = offered or NO_JOINS
    lateral = statement.prefix == "$"

    def build() -> str:
        inner_columns = sorted(
            {*projection.columns} | {offered[name].key for name, _joined in projection.joins}
        )
        inner = ", ".join(f't."{column}"' for column in inner_columns)
        # Inside the LATERAL subquery the rows are one parent's already: no partition.
        partition = "" if lateral else f"PARTITION BY t.{parent_column}"
        parents = (
            f"t.{parent_column} = x.id" if lateral else statement.is_in(f"t.{parent_column}", parent_ids)
        )
        ranked = (
            f"SELECT {inner}, t.{parent_column} AS _parent, "
            f"ROW_NUMBER() OVER ({partition}{' ' if partition else ''}ORDER BY {order_by}) - 1 AS _index, "
            f"COUNT(*) OVER ({partition}) AS _total "
            f"FROM {table} t WHERE {parents}" + (f" AND ({where})" if where else "")
        )
        source = (
            f"unnest({statement.param(list(parent_ids))}::int[]) AS x(id) JOIN LATERAL ({ranked}) r ON true"
            if lateral
            else f"({ranked}) r"
        )
        condition = window_condition(statement, page, "r._index", "r._total")
        selects, joins = projected("r", model, projection, offered)
        return (
            f"SELECT r._parent, r._index, r._total, {', '.join(selects)} FROM {source} {' '.join(joins)} "
            f"WHERE {condition} ORDER BY r._parent, r._index"
        )

    key = (
        "paged",
        id(model),
        table,
        parent_column,
        order_by,
        where,
        window_shape(page),
        id(projection),
        id(offered),
    )
    values = [list(parent_ids), *window_values(page)]  # as build takes them on PostgreSQL
    return await statement.fetch_kept(key, (model, projection, offered), values, build)
