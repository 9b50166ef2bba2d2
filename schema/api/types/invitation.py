"""Invitation (for organisers) and InvitationPreview (for the holder of the link).
Roots are ``exchange.models.Invitation`` instances; the status shown is the effective
one, so an overdue invitation reads EXPIRED before the sweep stores it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from exchange import models
from exchange.invitations.common import effective_status
from exchange.models import InvitationStatus
from schema.api.connections import Connection, build_connection, empty_connection
from schema.api.context import Info
from schema.api.paging import PageArgs
from schema.api.scalars import CountryCode, LanguageCode
from schema.api.types.node import Node, model_identity
from schema.api.types.organisation import Organisation
from schema.engine.declarations import Reads, declare

if TYPE_CHECKING:
    from schema.api.types.exchange import ExperienceExchange, Session
    from schema.api.types.volunteer import Volunteer

ExchangeRef = Annotated["ExperienceExchange", strawberry.lazy("schema.api.types.exchange")]
SessionRef = Annotated["Session", strawberry.lazy("schema.api.types.exchange")]
VolunteerRef = Annotated["Volunteer", strawberry.lazy("schema.api.types.volunteer")]


async def _exchange(root: models.Invitation, info: Info) -> Any:
    return await info.context.loaders.exchange.load(root.exchange_id)


# Cancelled sessions stay in the list, marked by cancelledAt, like in the mails and on the
# invitation page: leaving them out would change what was invited, and an invitation whose
# sessions were all cancelled would read as one to the whole exchange.
_SESSIONS = (
    "Sessions the invitee is invited to, by start time, cancelled ones included (cancelledAt "
    "set); empty means the whole exchange."
)


async def _sessions(root: models.Invitation, info: Info) -> Any:
    return await info.context.loaders.invitation_sessions.load(root.id)


_WAITLIST_POSITION = (
    "While WAITLISTED: the place on the exchange's waiting list, 1 being offered the next free "
    "place; null in any other status."
)
_OFFER_EXPIRES_AT = (
    "Until when a place offered from the waiting list may be claimed (accepting while OFFERED); "
    "unclaimed by then the invitation reads EXPIRED and the place passes on. Kept afterwards."
)
_WITHDRAWN_AT = "When the invitee gave an accepted place back (status WITHDRAWN)."


async def _waitlist_position(root: models.Invitation, info: Info) -> int | None:
    # Only waiting invitations have a place on the list: no statement for the others.
    if InvitationStatus(root.status) is not InvitationStatus.WAITLISTED:
        return None
    position: int | None = await info.context.loaders.waitlist_positions.load(root.id)
    return position


async def _invited_by(root: models.Invitation, info: Info) -> Any:
    return await info.context.loaders.organisation.load(root.invited_by_id)


@strawberry.type(name="Invitation")
class Invitation(Node):
    is_type_of, id = model_identity(models.Invitation, "Invitation")

    @strawberry.field
    @staticmethod
    async def exchange(root: strawberry.Parent[models.Invitation], info: Info) -> ExchangeRef:
        return await _exchange(root, info)

    @strawberry.field(description=_SESSIONS)
    @staticmethod
    async def sessions(root: strawberry.Parent[models.Invitation], info: Info) -> list[SessionRef]:
        return await _sessions(root, info)

    @strawberry.field
    @staticmethod
    async def invited_by(root: strawberry.Parent[models.Invitation], info: Info) -> Organisation:
        return await _invited_by(root, info)

    email: str
    full_name: str
    country: CountryCode
    locale: LanguageCode

    @strawberry.field
    @staticmethod
    def status(root: strawberry.Parent[models.Invitation]) -> InvitationStatus:
        return effective_status(root)

    created_at: dt.datetime
    sent_at: dt.datetime | None
    responded_at: dt.datetime | None
    expires_at: dt.datetime
    delivery_attempts: int

    @strawberry.field(
        description="Why the last delivery attempt failed. Organisers and admins only (null for the "
        "holder of the link answering with respondToInvitation).",
        metadata=declare(Reads("exchange_id", "last_error")),
    )
    @staticmethod
    async def last_error(root: strawberry.Parent[models.Invitation], info: Info) -> str | None:
        # Transport errors name mail hosts and spool paths: nothing for the link holder.
        if root.last_error is None:
            return None
        exchange = await info.context.loaders.exchange.load(root.exchange_id)
        if exchange is None or not await info.context.loaders.sees_invitations(exchange):
            return None
        return root.last_error

    message: str | None = strawberry.field(description="The organiser's personal note, as sent in the email.")

    @strawberry.field(description=_WAITLIST_POSITION)
    @staticmethod
    async def waitlist_position(root: strawberry.Parent[models.Invitation], info: Info) -> int | None:
        return await _waitlist_position(root, info)

    offer_expires_at: dt.datetime | None = strawberry.field(description=_OFFER_EXPIRES_AT)
    withdrawn_at: dt.datetime | None = strawberry.field(description=_WITHDRAWN_AT)
    consent_at: dt.datetime | None = strawberry.field(
        description="When the invitee accepted, and so agreed to the privacy notice shown with the "
        "invitation; null until then, and after a decline."
    )
    consent_notice_version: str | None = strawberry.field(
        description="Version of the privacy notice the invitee agreed to by accepting."
    )

    @strawberry.field(
        description="The volunteer record, once the invitation is accepted.",
        graphql_type=VolunteerRef | None,
        metadata=declare(Reads("volunteer_id")),
    )
    @staticmethod
    async def volunteer(root: strawberry.Parent[models.Invitation], info: Info) -> models.Volunteer | None:
        volunteer_id = root.volunteer_id
        return (
            None if volunteer_id is None else await info.context.loaders.visible_volunteer.load(volunteer_id)
        )


InvitationConnection = Connection[Invitation]


@strawberry.type(
    name="InvitationPreview",
    description="What the holder of an invitation link may see, without any other credential.",
)
class InvitationPreview:
    @strawberry.field
    @staticmethod
    async def exchange(root: strawberry.Parent[models.Invitation], info: Info) -> ExchangeRef:
        return await _exchange(root, info)

    @strawberry.field(description=_SESSIONS)
    @staticmethod
    async def sessions(root: strawberry.Parent[models.Invitation], info: Info) -> list[SessionRef]:
        return await _sessions(root, info)

    @strawberry.field
    @staticmethod
    async def invited_by(root: strawberry.Parent[models.Invitation], info: Info) -> Organisation:
        return await _invited_by(root, info)

    full_name: str
    locale: LanguageCode

    @strawberry.field
    @staticmethod
    def status(root: strawberry.Parent[models.Invitation]) -> InvitationStatus:
        return effective_status(root)

    expires_at: dt.datetime
    message: str | None = strawberry.field(description="The organiser's personal note.")

    @strawberry.field(description=_WAITLIST_POSITION)
    @staticmethod
    async def waitlist_position(root: strawberry.Parent[models.Invitation], info: Info) -> int | None:
        return await _waitlist_position(root, info)

    offer_expires_at: dt.datetime | None = strawberry.field(description=_OFFER_EXPIRES_AT)
    withdrawn_at: dt.datetime | None = strawberry.field(description=_WITHDRAWN_AT)


async def invitations_of(
    exchange: models.Exchange, info: Info, args: PageArgs, status: InvitationStatus | None
) -> Connection[Invitation]:
    """ExperienceExchange.invitations: organisers and admins see them, anyone else an empty
    list (never an error: the exchange itself is public)."""
    if not await info.context.loaders.sees_invitations(exchange):
        return empty_connection()
    page = await info.context.loaders.exchange_invitations.load((exchange.id, args, status))
    return build_connection(page.nodes, page.start, page.total)
