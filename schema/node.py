"""``node(id:)``: one global-id lookup for every type, with the same visibility checks as
every other read path (global ids are not secrets)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from schema.context import Info
from schema.relay import decode_id

# type name -> async (info, pk) -> object or None; each domain module registers its types.
NODE_RESOLVERS: dict[str, Callable[[Info, int], Awaitable[Any]]] = {}


def node_resolver(
    type_name: str,
) -> Callable[[Callable[[Info, int], Awaitable[Any]]], Callable[[Info, int], Awaitable[Any]]]:
    def register(fn: Callable[[Info, int], Awaitable[Any]]) -> Callable[[Info, int], Awaitable[Any]]:
        NODE_RESOLVERS[type_name] = fn
        return fn

    return register


async def resolve_node(info: Info, global_id: str) -> Any:
    decoded = decode_id(global_id)
    if decoded is None:
        return None
    resolver = NODE_RESOLVERS.get(decoded[0])
    return None if resolver is None else await resolver(info, decoded[1])


@node_resolver("Organisation")
async def _organisation(info: Info, pk: int) -> Any:
    return await info.context.loaders.organisation.load(pk)
