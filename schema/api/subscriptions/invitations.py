"""``invitationUpdates``: every status change of the invitations the caller may see."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import OrderedDict
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import strawberry

from exchange import access, events, models
from exchange.models import InvitationStatus
from schema.api.context import Info
from schema.api.subscriptions.stream import open_stream
from schema.api.types.invitation import Invitation


@dataclass(frozen=True)
class DeliveredEvent:
    """The root of one InvitationEvent result: the bus event and the invitation as it is now."""

    event: events.InvitationEvent
    invitation: models.Invitation


@strawberry.type(name="InvitationEvent")
class InvitationEvent:
    @strawberry.field(graphql_type=Invitation)
    @staticmethod
    def invitation(root: strawberry.Parent[DeliveredEvent], info: Info) -> models.Invitation:
        # A connection's context lives as long as the socket: start each event with empty
        # loaders, or its nested fields would read what the first event cached.
        info.context.__dict__.pop("loaders", None)
        return root.invitation

    @strawberry.field(description="Null when the invitation was just created.")
    @staticmethod
    def previous_status(root: strawberry.Parent[DeliveredEvent]) -> InvitationStatus | None:
        return root.event.previous_status

    @strawberry.field
    @staticmethod
    def status(root: strawberry.Parent[DeliveredEvent]) -> InvitationStatus:
        return root.event.status

    @strawberry.field
    @staticmethod
    def at(root: strawberry.Parent[DeliveredEvent]) -> dt.datetime:
        return root.event.at


# One load of the invitation per event and process, shared by all its subscribers.
_loads: OrderedDict[str, asyncio.Future[models.Invitation | None]] = OrderedDict()
_LOADS_KEPT = 256


async def _invitation_of(event: events.InvitationEvent) -> models.Invitation | None:
    future = _loads.get(event.event_id)
    if future is None:
        future = asyncio.ensure_future(models.Invitation.get_or_none(id=event.invitation_id))
        _loads[event.event_id] = future
        if len(_loads) > _LOADS_KEPT:
            _loads.popitem(last=False)
    if future.done():
        return future.result()
    # Shielded: one subscriber leaving must not cancel the load the others wait for.
    return await asyncio.shield(future)


async def _delivered(event: events.InvitationEvent) -> DeliveredEvent | None:
    invitation = await _invitation_of(event)
    # None: deleted since (its exchange was removed).
    return None if invitation is None else DeliveredEvent(event, invitation)


@strawberry.type
class InvitationSubscriptions:
    @strawberry.subscription(
        description="Every status change of invitations the viewer may see, optionally narrowed to one "
        "exchange or one inviting organisation. organisationId keeps the exchanges that organisation hosts "
        "or co-organises (intersected with the caller's own).",
        graphql_type=InvitationEvent,  # each DeliveredEvent is the root of one
    )
    async def invitation_updates(
        self,
        info: Info,
        exchange_id: strawberry.ID | None = None,
        organisation_id: strawberry.ID | None = None,
    ) -> AsyncGenerator[DeliveredEvent, None]:
        return await open_stream(
            info,
            events.InvitationEvent,
            _delivered,
            access.require_subscribe_to_invitations,
            exchange_id,
            organisation_id,
            "invitations",
        )
