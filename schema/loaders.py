"""Every DataLoader, one set per request, keyed by primary key (or parent key for lists)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from strawberry.dataloader import DataLoader

from exchange import models

if TYPE_CHECKING:
    from schema.context import Context

M = TypeVar("M")


def by_key(rows: Iterable[M], keys: Sequence[Any], attr: str = "id") -> list[M | None]:
    index = {getattr(row, attr): row for row in rows}
    return [index.get(key) for key in keys]


def _by_id_loader(model: Any) -> DataLoader[int, Any]:
    async def load(keys: list[int]) -> list[Any]:
        return by_key(await model.filter(id__in=keys), keys)

    return DataLoader(load_fn=load)


class Loaders:
    """Built lazily once per request by the context."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.organisation: DataLoader[int, models.Organisation | None] = _by_id_loader(models.Organisation)
