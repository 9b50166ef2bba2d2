"""The request's loaders are built on first use, once, and freed by Context.release."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from exchange.access import Actor, Role
from exchange.settings import Settings
from schema.api.context import Context


def _context(role: Role = Role.ANONYMOUS) -> Context:
    return Context(settings=Settings(), _actor=Actor(role=role))


def _built(context: Context) -> dict[str, DataLoader[object, object]]:
    loaders = vars(context)["loaders"]
    return {name: value for name, value in vars(loaders).items() if isinstance(value, DataLoader)}


async def test_no_loader_is_built_before_its_first_use() -> None:
    context = _context()
    loaders = context.loaders
    assert _built(context) == {}
    exchange = loaders.exchange
    assert isinstance(exchange, DataLoader)
    assert loaders.exchange is exchange  # one per request: its cache is the request's
    assert list(_built(context)) == ["exchange"]


async def test_an_admin_reads_volunteers_through_the_one_by_id_loader() -> None:
    admin = _context(Role.ADMIN).loaders
    assert admin.visible_volunteer is admin.volunteer
    anonymous = _context().loaders
    assert anonymous.visible_volunteer is not anonymous.volunteer


async def test_primed_values_are_served_then_freed_by_release() -> None:
    context = _context()
    organisation = context.loaders.organisation
    marker = object()
    organisation.prime_many({7: marker})  # type: ignore[dict-item]
    assert await organisation.load(7) is marker  # from the cache: no statement (no database here)
    context.release()
    assert "loaders" not in vars(context)
    assert organisation.cache_map.cache_map == {}
    assert context.loaders.organisation is not organisation  # the next execution starts afresh
