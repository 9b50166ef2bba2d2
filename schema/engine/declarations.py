"""What a field reads, declared on the field: the vocabulary of the compiled engine.

The API's types attach one of these to a Strawberry field (``declare(...)`` as the field's
``metadata``; the SDL does not change). The engine (schema.engine.plan and schema.engine.rows)
learns from them, never from the resolver's code, which columns a field reads and which
batched fetch serves it, and for a selection made only of declared fields builds the response
from database rows directly (schema.engine.rows). The resolver stays the field's meaning for
graphql-core and for every selection the engine cannot serve from rows; a declaration must
say the same as its resolver (tests/api/test_plan.py compares both on the whole schema).

A field without a resolver reads the model attribute of its name (a column): nothing to
declare. A field with a resolver and no declaration reads all the columns of its parent.

Fetches are the domain's (exchange/ owns the SQL and the visibility rules); a declaration
carries the function, so the engine imports no domain module. Each fetch is called with the
request's context and a ``Projection``: the columns to select, in order, and the to-one
relations to join into the same statement, and returns the driver's rows as tuples in that
layout (see each declaration for what comes first).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Key of the declaration in a Strawberry field's metadata.
DECLARATION = "schema.engine.declaration"

Row = Sequence[Any]


@dataclass(frozen=True)
class Projection:
    """What a fetch selects: ``columns`` of its own table (database column names, the primary
    key first), then, depth first, the columns of each joined to-one relation: a LEFT JOIN by
    the name the fetch offers in ``Declaration.joins`` (its key column is null when there
    is nothing to join)."""

    columns: tuple[str, ...]
    joins: tuple[tuple[str, Projection], ...] = ()

    @property
    def width(self) -> int:
        return len(self.columns) + sum(joined.width for _name, joined in self.joins)


@dataclass(frozen=True)
class Reads:
    """A resolver the engine does not replace that reads only these attributes of its
    parent (the loaders then select only the columns a query needs; schema.engine.columns),
    and ``returned``: the attributes it reads of the objects it returns (e.g. to sort them)."""

    attributes: frozenset[str]
    returned: frozenset[str]

    def __init__(self, *attributes: str, returned: tuple[str, ...] = ()) -> None:
        object.__setattr__(self, "attributes", frozenset(attributes))
        object.__setattr__(self, "returned", frozenset(returned))


@dataclass(frozen=True)
class GlobalId:
    """The object's global id: ``encode(type_name, primary key)`` (schema.api.relay)."""

    type_name: str
    encode: Callable[[str, Any], str]
    attribute: str = "id"

    @property
    def attributes(self) -> frozenset[str]:
        return frozenset({self.attribute})


@dataclass(frozen=True)
class Localized:
    """A text picked from the JSON map ``attribute`` (language -> text, the default language
    first) by ``pick(texts, locales(context, the field's locale argument))``; when that
    gives nothing, the value of ``fallback_attribute``, else ``fallback``."""

    attribute: str
    pick: Callable[[Mapping[str, str] | None, Sequence[str]], str | None]
    locales: Callable[[Any, str | None], Sequence[str]]
    fallback_attribute: str | None = None
    fallback: str | None = None
    argument: str = "locale"
    # pick(texts, locales) is texts[locales[0]] whenever texts has locales[0]: row builders
    # then read that text without calling pick (one call per text served, most of them).
    first_locale_first: bool = False

    @property
    def attributes(self) -> frozenset[str]:
        return frozenset({self.attribute} | ({self.fallback_attribute} if self.fallback_attribute else set()))


# fetch(context, keys, projection) -> rows laid out as the projection (primary key first).
ByKeys = Callable[[Any, list[Any], Projection], Awaitable[Sequence[Row]]]
# fetch(context, parent keys, projection) -> rows: (parent key, *projection).
ByParents = Callable[[Any, list[Any], Projection], Awaitable[Sequence[Row]]]
# fetch(context, parent keys, page args, projection) -> rows: (parent key, 0-based index in the
# parent's whole list, the parent's total, *projection), a superset of each parent's page.
PagesByParents = Callable[[Any, list[Any], Any, Projection], Awaitable[Sequence[Row]]]
# fetch(context, page args, projection) -> (rows laid out as the projection, start, total).
RootPageFetch = Callable[[Any, Any, Projection], Awaitable[tuple[Sequence[Row], int, int]]]


@dataclass(frozen=True)
class ToOne:
    """The object whose primary key is the parent's ``key`` attribute (None: null), fetched
    for a whole level by ``fetch``; ``loader``, the name of the request's DataLoader the
    resolver awaits with the same key (``context.loaders.<loader>.load(parent.<key>)``), lets
    the engine make that call itself where it runs resolvers on model instances.

    ``every_key``: the key is a foreign key and the fetch applies no visibility rule, so it
    finds a row for every key: a selection that reads nothing but the target's primary key
    needs no fetch at all.

    ``shared``: many parents point to few targets (organisations: a few hundred, named by
    thousands of volunteers and exchanges), so where the target is joined into the parents'
    rows a request builds each target's object once and the parents share it (on the
    benchmark's data, the participants of a page of 100 exchanges name 267 organisations 678
    times). Left out where targets rarely repeat (a participation's volunteer): the lookup
    would cost every row."""

    key: str
    fetch: ByKeys
    loader: str | None = None
    every_key: bool = False
    shared: bool = False

    @property
    def attributes(self) -> frozenset[str]:
        return frozenset({self.key})


@dataclass(frozen=True)
class Children:
    """The list of objects that belong to the parent (by its ``key`` attribute), in the
    order ``fetch`` returns them."""

    fetch: ByParents
    key: str = "id"

    @property
    def attributes(self) -> frozenset[str]:
        return frozenset({self.key})


@dataclass(frozen=True)
class Paging:
    """How a connection field's first/after/last/before become page args (``page_args``
    with the context and the four arguments; it raises the API's error for bad ones) and
    how an offset becomes a cursor (``cursor``)."""

    page_args: Callable[[Any, int | None, str | None, int | None, str | None], Any]
    cursor: Callable[[int], str]


@dataclass(frozen=True)
class ChildPage:
    """A connection over the parent's objects (by its ``key`` attribute): totalCount, edges
    with cursors, pageInfo, every parent of a level in one statement."""

    fetch: PagesByParents
    paging: Paging
    key: str = "id"
    # Whether, for these page args, ``fetch`` answers exactly the page's rows (none outside
    # it): each parent's rows are then taken whole, not tested against the page's window.
    exact: Callable[[Any], bool] | None = None

    @property
    def attributes(self) -> frozenset[str]:
        return frozenset({self.key})


@dataclass(frozen=True)
class RootPage:
    """A root connection fetched by ``fetch``, served from rows when the document gives the
    field no argument but ``arguments`` (GraphQL names; others, e.g. a filter, go through
    the resolver)."""

    fetch: RootPageFetch
    paging: Paging
    arguments: frozenset[str] = frozenset({"first", "after", "last", "before"})

    @property
    def attributes(self) -> frozenset[str]:
        return frozenset()


# Field name of a to-one relation of the fetched type -> what its own rows can join in turn.
Joins = Mapping[str, "Joins"]


@dataclass(frozen=True)
class Lookup:
    """A root field naming one object by its global id (the argument ``argument``), e.g.
    ``node(id:)``: ``decode`` gives (type name, primary key), or None for what is no id;
    ``types``, for each type it serves from rows, the fetch of the rows of that type the
    caller may see (the resolver's visibility rule: a row left out reads as null) and the
    to-one fields those rows can join. An id that does not decode, or names another type,
    goes through the resolver (its errors are the resolver's)."""

    decode: Callable[[str], tuple[str, Any] | None]
    types: Mapping[str, tuple[ByKeys, Joins]]
    argument: str = "id"

    @property
    def attributes(self) -> frozenset[str]:
        return frozenset()


@dataclass(frozen=True)
class Declaration:
    """A field's declaration: what it reads (``reads``) and, for a fetch, the to-one fields
    of the fetched type its statement can join (``joins``: the names the domain's fetch
    offers, nested for the relations of a joined row)."""

    reads: Reads | GlobalId | Localized | ToOne | Children | ChildPage | RootPage | Lookup
    joins: Joins


def declare(
    reads: Reads | GlobalId | Localized | ToOne | Children | ChildPage | RootPage | Lookup,
    *,
    joins: Joins | None = None,
) -> dict[str, Declaration]:
    """The metadata to give ``strawberry.field``: ``strawberry.field(metadata=declare(...))``."""
    return {DECLARATION: Declaration(reads, joins or {})}


def declaration_of(field: Any) -> Declaration | None:
    """The declaration on a Strawberry field, if any."""
    metadata = getattr(field, "metadata", None)
    found = metadata.get(DECLARATION) if metadata else None
    return found if isinstance(found, Declaration) else None
