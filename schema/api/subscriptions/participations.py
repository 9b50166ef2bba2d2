"""``participationUpdates``: every participation added, changed or removed in the exchanges
the caller organises."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import strawberry

from exchange import access, events, models
from exchange.events import ParticipationChange
from schema.api.context import Info
from schema.api.relay import encode_id
from schema.api.subscriptions.stream import open_stream
from schema.api.types.enums import ParticipationRole, ParticipationStatus
from schema.api.types.participation import Participation

strawberry.enum(ParticipationChange, name="ParticipationChange")


@dataclass(frozen=True)
class DeliveredParticipationEvent:
    """The root of one ParticipationEvent result (the participation is read per subscriber,
    under the people rule, when the result is made)."""

    event: events.ParticipationEvent


@strawberry.type(
    name="ParticipationEvent",
    description="A participation added, changed or removed. Ids, statuses, role and hours are the change "
    "itself; participation is read when the event is delivered.",
)
class ParticipationEvent:
    @strawberry.field(description="The participation's id (also after it was removed).")
    @staticmethod
    def participation_id(root: strawberry.Parent[DeliveredParticipationEvent]) -> strawberry.ID:
        return strawberry.ID(encode_id("Participation", root.event.participation_id))

    @strawberry.field(description="As it is now; null once removed.", graphql_type=Participation | None)
    @staticmethod
    async def participation(
        root: strawberry.Parent[DeliveredParticipationEvent], info: Info
    ) -> models.Participation | None:
        # Fresh loaders per event, as for invitation events (the context outlives the event).
        info.context.__dict__.pop("loaders", None)
        return await info.context.loaders.visible_participation.load(root.event.participation_id)

    @strawberry.field
    @staticmethod
    def exchange_id(root: strawberry.Parent[DeliveredParticipationEvent]) -> strawberry.ID:
        return strawberry.ID(encode_id("ExperienceExchange", root.event.exchange_id))

    @strawberry.field
    @staticmethod
    def change(root: strawberry.Parent[DeliveredParticipationEvent]) -> ParticipationChange:
        return root.event.change

    @strawberry.field(description="Null when the participation was just created.")
    @staticmethod
    def previous_status(root: strawberry.Parent[DeliveredParticipationEvent]) -> ParticipationStatus | None:
        return root.event.previous_status

    @strawberry.field(description="Null once removed.")
    @staticmethod
    def status(root: strawberry.Parent[DeliveredParticipationEvent]) -> ParticipationStatus | None:
        return root.event.status

    @strawberry.field
    @staticmethod
    def role(root: strawberry.Parent[DeliveredParticipationEvent]) -> ParticipationRole:
        return root.event.role

    @strawberry.field(description="The hours attended, for ATTENDED and HOURS_CHANGED.")
    @staticmethod
    def hours(root: strawberry.Parent[DeliveredParticipationEvent]) -> float | None:
        return root.event.hours

    @strawberry.field
    @staticmethod
    def at(root: strawberry.Parent[DeliveredParticipationEvent]) -> dt.datetime:
        return root.event.at


async def _delivered(event: events.ParticipationEvent) -> DeliveredParticipationEvent:
    # Nothing to load here: the participation is read per subscriber, under the people rule.
    return DeliveredParticipationEvent(event)


@strawberry.type
class ParticipationSubscriptions:
    @strawberry.subscription(
        description="Every participation added, changed (role, status, attendance, hours) or removed in the "
        "exchanges the viewer organises (admins: all), optionally narrowed to one exchange or one organising "
        "organisation. No-shows reach the exchange's host only. Same keys, transports and promises as "
        "invitationUpdates.",
        graphql_type=ParticipationEvent,  # each DeliveredParticipationEvent is the root of one
    )
    async def participation_updates(
        self,
        info: Info,
        exchange_id: strawberry.ID | None = None,
        organisation_id: strawberry.ID | None = None,
    ) -> AsyncGenerator[DeliveredParticipationEvent, None]:
        return await open_stream(
            info,
            events.ParticipationEvent,
            _delivered,
            access.require_subscribe_to_participations,
            exchange_id,
            organisation_id,
            "participations",
        )
