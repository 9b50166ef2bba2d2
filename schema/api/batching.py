"""The shapes of DataLoader a request uses: rows by id (all, or only those the caller may
see), values grouped per parent, and pages of a nested connection per parent. Which loaders a
request has, and what each reads, is ``schema.api.loaders``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from exchange import sql
from exchange.sql import Page
from schema.api.paging import PageArgs

M = TypeVar("M")


def by_key(rows: Iterable[M], keys: Sequence[Any], attr: str = "id") -> list[M | None]:
    index = {getattr(row, attr): row for row in rows}
    return [index.get(key) for key in keys]


def by_id_loader(model: Any, columns: dict[Any, frozenset[str]]) -> DataLoader[int, Any]:
    async def load(keys: list[int]) -> list[Any]:
        return by_key(await sql.by_ids(model, keys, columns.get(model)), keys)

    return DataLoader(load_fn=load)


def visible_by_id_loader(fetch: Callable[[list[int]], Awaitable[list[Any]]]) -> DataLoader[int, Any]:
    """By id, through a fetch that leaves out what the caller may not see (None for those)."""

    async def load(keys: list[int]) -> list[Any]:
        return by_key(await fetch(keys), keys)

    return DataLoader(load_fn=load)


def grouped_loader(
    fetch: Callable[[list[int]], Awaitable[dict[int, Any]]], default: Any = None
) -> DataLoader[int, Any]:
    """A loader over a batch function returning {key: value} (lists or counts per parent)."""

    async def load(keys: list[int]) -> list[Any]:
        found = await fetch(list(dict.fromkeys(keys)))
        return [found.get(key, default) for key in keys]

    return DataLoader(load_fn=load)


def paged_loader(
    fetch: Callable[[list[int], PageArgs], Awaitable[dict[int, Page]]],
) -> DataLoader[tuple[int, PageArgs], Page]:
    """Keys are (parent id, page args); one fetch per distinct page args in a batch."""

    async def load(keys: list[tuple[int, PageArgs]]) -> list[Page]:
        parents_by_args: dict[PageArgs, list[int]] = {}
        for parent, args in keys:
            parents_by_args.setdefault(args, [])
            if parent not in parents_by_args[args]:
                parents_by_args[args].append(parent)
        pages: dict[tuple[int, PageArgs], Page] = {}
        for args, parents in parents_by_args.items():
            for parent, page in (await fetch(parents, args)).items():
                pages[(parent, args)] = page
        return [pages.get(key, Page()) for key in keys]

    return DataLoader(load_fn=load)
