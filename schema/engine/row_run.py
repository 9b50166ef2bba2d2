"""One request's run of a row field (schema.engine.rows): the fetches level by level over the
keys in hand, the rows built into result dicts, connections paged, and the values placed in
the plan's column."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any, Protocol, TypeVar

from schema.engine.arguments import Arguments
from schema.engine.declarations import ChildPage, Children, Paging, Projection, RootPage, ToOne
from schema.engine.row_shapes import (
    Child,
    Connection,
    RowNull,
    Shape,
    null,
)

T = TypeVar("T")
_PARENT = itemgetter(0)


def page_args(paging: Paging, context: Any, values: dict[str, Any]) -> Any:
    return paging.page_args(
        context, values.get("first"), values.get("after"), values.get("last"), values.get("before")
    )


class Served(Protocol):
    """What a run needs of its field (schema.engine.rows.RowField)."""

    child: Child | None  # ToOne, Children, ChildPage over model instances
    root: tuple[RootPage, Connection, Arguments] | None  # a root connection
    projections: dict[int, Projection]


class Run:
    """One execution of a RowField: the request's context, locale lists and page args."""

    def __init__(
        self, field: Served, context: Any, env: list[Any], pages: dict[int, Any], root_page: Any
    ) -> None:
        self.field = field
        self.context = context
        self.env = env
        self.pages = pages
        self.root_page = root_page
        self.projections = field.projections

    async def fill(self, sources: list[Any], column: list[Any], failed: Callable[[], None]) -> None:
        """Fill ``column`` with the field's serialised value for each source; on an error,
        ``failed()`` and nothing else."""
        try:
            await self.reading(lambda: self._fill(sources, column))
        except Exception:  # the resolvers then answer the field, and report their own errors
            failed()

    async def reading(self, statements: Callable[[], Awaitable[T]]) -> T:
        """``statements()`` awaited in the context's scope for statements sent one after
        another (the levels below are fetched in turn): one pooled connection for all of them."""
        reading = getattr(self.context, "reading", None)
        if reading is None:
            return await statements()
        async with reading():
            return await statements()

    async def _fill(self, sources: list[Any], column: list[Any]) -> None:
        field_, env, context = self.field, self.env, self.context
        if field_.root is not None:
            reads, connection, _arguments = field_.root
            node = connection.node
            assert node is not None and node.levels is not None  # compiled only with a node
            rows, start, total = await reads.fetch(context, self.root_page, self.projection(node))
            objects = node.levels.build_rows(rows, env)
            for index in range(len(column)):
                column[index] = connection.build(objects, start, total)
            await self.levels([(child, rows, objects) for child in node.children])
            return
        child = field_.child
        assert child is not None
        holders: list[dict[str, Any]] = [{} for _ in sources]
        key_of = child.reads.key
        keys = [getattr(source, key_of) for source in sources]
        await self.levels([(child, keys, holders)], keyed=True)
        for index, holder in enumerate(holders):
            column[index] = holder[child.key]

    def projection(self, shape: Shape) -> Projection:
        found = self.projections.get(id(shape))
        if found is None:
            found = self.projections[id(shape)] = shape.projection()
        return found

    async def levels(self, level: list[tuple[Child, Any, list[dict[str, Any]]]], keyed: bool = False) -> None:
        """Fetch level by level: each entry is a child field, its parents' rows (or, with
        ``keyed``, their keys) and their result dicts."""
        while level:
            following: list[tuple[Child, Any, list[dict[str, Any]]]] = []
            for child, parents, results in level:
                fetched: tuple[Shape, Sequence[Any], list[dict[str, Any]]] | None
                if not keyed and child.lists_slot >= 0:
                    fetched = await self.fill_lists(child)
                else:
                    keys = parents if keyed else list(map(itemgetter(child.key_index), parents))
                    fetched = await self.fill_child(child, keys, results)
                if fetched is not None:
                    shape, rows, objects = fetched
                    following.extend((grandchild, rows, objects) for grandchild in shape.children)
            level, keyed = following, False

    async def fill_child(
        self, child: Child, keys: list[Any], results: list[dict[str, Any]]
    ) -> tuple[Shape, Sequence[Any], list[dict[str, Any]]] | None:
        """Fetch ``child`` for the parents' ``keys`` and set it in their ``results``; returns
        the fetched shape, its rows and their result dicts, for the next level."""
        distinct = dict.fromkeys(keys)
        distinct.pop(None, None)
        wanted = list(distinct)
        reads = child.reads
        if isinstance(reads, ToOne):
            return await self.fill_to_one(child, reads, keys, wanted, results)
        if isinstance(reads, Children):
            return await self.fill_children(child, reads, keys, wanted, results)
        return await self.fill_pages(child, reads, keys, wanted, results)

    async def fill_lists(self, child: Child) -> tuple[Shape, Sequence[Any], list[dict[str, Any]]]:
        """Children whose parents' builders placed this request's lists in their dicts
        (Child.lists_slot): the level's rows appended to them. The dict's keys are the
        parents' distinct keys, in order."""
        shape = child.shape
        assert shape is not None and shape.levels is not None and isinstance(child.reads, Children)
        lists = self.env[child.lists_slot]
        wanted = list(lists)
        rows = await child.reads.fetch(self.context, wanted, self.projection(shape)) if wanted else []
        objects: list[dict[str, Any]] = []  # filled only when the shape has children
        shape.levels.fill(rows, self.env, lists, objects)
        return shape, rows, objects

    async def fill_to_one(
        self, child: Child, reads: ToOne, keys: list[Any], wanted: list[Any], results: list[dict[str, Any]]
    ) -> tuple[Shape, Sequence[Any], list[dict[str, Any]]]:
        shape = child.shape
        assert shape is not None and shape.levels is not None
        levels, env, name = shape.levels, self.env, child.key
        rows: Sequence[Any]
        if reads.every_key and len(shape.columns) == 1 and not shape.joined:
            rows = [(key,) for key in wanted]  # only the key is read, and it names a row
        else:
            rows = await reads.fetch(self.context, wanted, self.projection(shape)) if wanted else []
        found = levels.build_keyed(rows, env)
        non_null = child.non_null
        get = found.get  # None is never a key of found
        for key, result in zip(keys, results, strict=True):
            value = result[name] = get(key)
            if value is None and non_null:
                raise RowNull
        return shape, rows, list(found.values())

    async def fill_children(
        self, child: Child, reads: Children, keys: list[Any], wanted: list[Any], results: list[dict[str, Any]]
    ) -> tuple[Shape, Sequence[Any], list[dict[str, Any]]]:
        shape = child.shape
        assert shape is not None and shape.levels is not None
        rows = await reads.fetch(self.context, wanted, self.projection(shape)) if wanted else []
        lists: defaultdict[Any, list[dict[str, Any]]] = defaultdict(list)  # no rows: []
        objects: list[dict[str, Any]] = []  # filled only when the shape has children
        shape.levels.fill(rows, self.env, lists, objects)
        values: Iterable[list[dict[str, Any]] | None] = map(lists.__getitem__, keys)
        if None in keys:  # a parent without the key has no list
            if child.non_null:
                raise RowNull
            values = [None if key is None else lists[key] for key in keys]
        name = child.key
        for result, value in zip(results, values, strict=True):
            result[name] = value
        return shape, rows, objects

    async def fill_pages(
        self,
        child: Child,
        reads: ChildPage,
        keys: list[Any],
        wanted: list[Any],
        results: list[dict[str, Any]],
    ) -> tuple[Shape, Sequence[Any], list[dict[str, Any]]] | None:
        """A connection per parent (ChildPage): the rows of every parent in one fetch, each
        parent's page cut from its rows once its total is known."""
        connection = child.connection
        assert connection is not None
        node = connection.node
        assert node is not None and node.levels is not None  # compiled only with a node
        if not keys:
            return None
        page = self.pages[id(child)]
        rows = await reads.fetch(self.context, wanted, page, self.projection(node)) if wanted else []
        by_parent: dict[Any, list[Any]] = {}
        for parent, group in groupby(rows, _PARENT):  # one group per parent: the rows come by parent
            same = by_parent.get(parent)
            if same is None:
                by_parent[parent] = list(group)
            else:
                same.extend(group)
        pages: dict[Any, dict[str, Any]] = {}
        kept: list[Any] = []  # kept and objects: filled only when the node has children
        objects: list[dict[str, Any]] = []
        page_of, whole_page, env = node.levels.page, node.levels.whole_page, self.env
        build = connection.build_page  # page_of and whole_page build the edges
        if reads.exact is not None and reads.exact(page):  # the rows kept are the page, from 0
            for key in wanted:
                parent_rows = by_parent.get(key)
                pages[key] = (
                    build(whole_page(parent_rows, env, kept, objects), 0, int(parent_rows[0][2]))
                    if parent_rows
                    else build([], 0, 0)
                )
        else:
            for key in wanted:
                parent_rows = by_parent.get(key)
                total = int(parent_rows[0][2]) if parent_rows else 0
                start, end = page.window(total)
                nodes = page_of(parent_rows, start, end, env, kept, objects) if parent_rows else []
                pages[key] = build(nodes, start, total)
        name = child.key
        for key, result in zip(keys, results, strict=True):
            result[name] = pages[key] if key is not None else null()
        return node, kept, objects
