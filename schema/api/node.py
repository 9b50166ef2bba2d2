"""``node(id:)``: one global-id lookup for every type, with the same visibility checks as
every other read path (global ids are not secrets)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from exchange import lookups
from exchange.invitations.manage import visible_invitation
from schema.api.context import Info
from schema.api.fetches import (
    EXCHANGE_JOINS,
    ORGANISATION_JOINS,
    PARTICIPATION_JOINS,
    SESSION_JOINS,
    VOLUNTEER_JOINS,
)
from schema.api.relay import decode_id, malformed_id
from schema.engine.declarations import ByKeys, Joins, Lookup, Projection

if TYPE_CHECKING:
    from schema.api.context import Context

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
    """The object, or None when a well-formed id names nothing the caller may see; an id that
    is not one of a Node type (e.g. a WebhookEndpoint's, or not an id at all) is BAD_USER_INPUT."""
    decoded = decode_id(global_id)
    resolver = NODE_RESOLVERS.get(decoded[0]) if decoded is not None else None
    if decoded is None or resolver is None:
        raise malformed_id("Node", ["id"])
    return await resolver(info, decoded[1])


@node_resolver("Organisation")
async def _organisation(info: Info, pk: int) -> Any:
    return await info.context.loaders.organisation.load(pk)


# Exchanges and what hangs off them: visible only where the exchange is (DRAFTs to their
# organisers and admins). People follow exchange.access's people rule: a volunteer or a
# participation the caller may not see is null, like an unknown id (ids are sequential).
@node_resolver("ExperienceExchange")
async def _exchange(info: Info, pk: int) -> Any:
    return await info.context.loaders.visible_exchange(pk)


@node_resolver("Session")
async def _session(info: Info, pk: int) -> Any:
    session = await info.context.loaders.session.load(pk)
    if session is None or await info.context.loaders.visible_exchange(session.exchange_id) is None:
        return None
    return session


@node_resolver("Participation")
async def _participation(info: Info, pk: int) -> Any:
    return await info.context.loaders.visible_participation.load(pk)


@node_resolver("Volunteer")
async def _volunteer(info: Info, pk: int) -> Any:
    return await info.context.loaders.visible_volunteer.load(pk)


@node_resolver("Invitation")
async def _invitation(info: Info, pk: int) -> Any:
    # Only the exchange's organisers and admins: for anyone else the id names nothing.
    loaders = info.context.loaders
    return await visible_invitation(info.context.actor, pk, loaders.partner_ids, loaders.exchange.load)


# node(id:) from rows (schema.engine.lookup), for the types whose selection is declared: the
# same objects as the resolvers above, each type's visibility rule in its one statement
# (exchange.lookups). Invitations stay with their resolver.
def _rows(fetch: Callable[[Any, list[int], Projection], Awaitable[Any]]) -> ByKeys:
    async def fetch_visible(context: Context, ids: list[int], projection: Projection) -> Any:
        return await fetch(context.actor, ids, projection)

    return fetch_visible


_ROW_TYPES: dict[str, tuple[ByKeys, Joins]] = {
    "Organisation": (_rows(lookups.organisation_rows), ORGANISATION_JOINS),
    "ExperienceExchange": (_rows(lookups.exchange_rows), EXCHANGE_JOINS),
    "Session": (_rows(lookups.session_rows), SESSION_JOINS),
    "Participation": (_rows(lookups.participation_rows), PARTICIPATION_JOINS),
    "Volunteer": (_rows(lookups.volunteer_rows), VOLUNTEER_JOINS),
}
NODE_LOOKUP = Lookup(decode_id, {name: _ROW_TYPES[name] for name in NODE_RESOLVERS if name in _ROW_TYPES})
