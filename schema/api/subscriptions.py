"""Subscription root: live invitation updates and participation updates.

The resolver is a plain ``async def`` that checks everything (who, which filters) before it
returns the event stream, so a refusal is the operation's ``error`` message (pre-execution)
rather than a data message. Failures after that (bus down, slow consumer, key revoked) end
the stream with one result carrying the error and its ``extensions.code``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
import strawberry
from graphql import GraphQLError
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from exchange import access, events, models
from exchange.errors import DomainError, unauthenticated
from exchange.events import ParticipationChange
from exchange.events.hub import Hub, Matcher, StreamError, Subscriber
from exchange.invitations.manage import followed_exchange
from exchange.models import InvitationStatus
from schema.api.context import Context, Info
from schema.api.errors import graphql_error
from schema.api.relay import encode_id, pk_of
from schema.api.types.enums import ParticipationRole, ParticipationStatus
from schema.api.types.invitation import Invitation
from schema.api.types.participation import Participation

strawberry.enum(ParticipationChange, name="ParticipationChange")


@dataclass(frozen=True)
class DeliveredEvent:
    """The root of one InvitationEvent result: the bus event and the invitation as it is now."""

    event: events.InvitationEvent
    invitation: models.Invitation


@dataclass(frozen=True)
class DeliveredParticipationEvent:
    """The root of one ParticipationEvent result (the participation is read per subscriber,
    under the people rule, when the result is made)."""

    event: events.ParticipationEvent


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


def _coded(error: DomainError | StreamError) -> GraphQLError:
    if isinstance(error, StreamError):
        return GraphQLError(error.message, extensions={"code": error.code})
    return graphql_error(error)


async def _delivered(event: events.Event) -> DeliveredEvent | DeliveredParticipationEvent | None:
    """The root of the result for an event, or None when there is nothing to show."""
    if isinstance(event, events.ParticipationEvent):
        return DeliveredParticipationEvent(event)
    invitation = await _invitation_of(event)
    # None: deleted since (its exchange was removed).
    return None if invitation is None else DeliveredEvent(event, invitation)


async def _stream(
    hub: Hub, key_id: str | None, scope: int | None, matches: Matcher
) -> AsyncGenerator[DeliveredEvent | DeliveredParticipationEvent, None]:
    # Joins the hub only once iterated: a stream cancelled before it starts leaves nothing behind.
    subscriber: Subscriber | None = None
    try:
        subscriber = hub.subscribe(key_id, scope, matches)
        async for event in subscriber:
            delivered = await _delivered(event)
            if delivered is not None:
                yield delivered
    except StreamError as error:
        raise _coded(error) from None
    finally:
        if subscriber is not None:
            subscriber.close()


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """Executes a subscription's selection once per event for all subscribers that would get
    the same answer: same document, operation, variables, caller (role and organisation) and
    languages. The fan-out then costs one execution per distinct subscription, not one per
    subscriber (1,000 dashboards of one organisation: one execution per process)."""

    _results: ClassVar[OrderedDict[tuple[Any, ...], Any]] = OrderedDict()
    _KEPT: ClassVar[int] = 1024

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._share_key = self._share_key_for(payload)  # type: ignore[attr-defined]
        return executor

    def _share_key_for(self, payload: Any) -> tuple[Any, ...] | None:
        context = self.context_value
        if not isinstance(payload, DeliveredEvent | DeliveredParticipationEvent) or not isinstance(context, Context):
            return None
        actor = context.actor_or_none
        operation = self.operation
        source = operation.loc.source.body if operation.loc is not None else None
        if actor is None or source is None:
            return None
        try:
            variables = orjson.dumps(self.variable_values.coerced, option=orjson.OPT_SORT_KEYS, default=str)
        except TypeError:
            return None
        return (
            payload.event.event_id,
            source,
            operation.name.value if operation.name else None,
            variables,
            actor.role,
            actor.organisation_id,
            tuple(context.accept_languages),
        )

    def execute_operation(self, serially: bool | None = None) -> Any:
        key = getattr(self, "_share_key", None)
        if key is None:
            return super().execute_operation(serially)
        shared = self._results.get(key)
        if shared is None:
            result = super().execute_operation(serially)
            if not self.is_awaitable(result):
                self._remember(key, result)
                return result
            shared = asyncio.ensure_future(result)
            self._remember(key, shared)
        elif not isinstance(shared, asyncio.Future):
            return shared
        return _await_shared(shared)

    @classmethod
    def _remember(cls, key: tuple[Any, ...], value: Any) -> None:
        cls._results[key] = value
        if len(cls._results) > cls._KEPT:
            cls._results.popitem(last=False)


async def _await_shared(future: asyncio.Future[Any]) -> Any:
    if future.done():
        return future.result()
    # Shielded: one subscriber leaving must not cancel the execution the others wait for.
    return await asyncio.shield(future)


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
    ) -> AsyncGenerator[DeliveredEvent | DeliveredParticipationEvent, None]:
        return await _open_stream(
            info,
            events.InvitationEvent,
            access.require_subscribe_to_invitations,
            exchange_id,
            organisation_id,
            "invitations",
        )


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
    ) -> AsyncGenerator[DeliveredEvent | DeliveredParticipationEvent, None]:
        return await _open_stream(
            info,
            events.ParticipationEvent,
            access.require_subscribe_to_participations,
            exchange_id,
            organisation_id,
            "participations",
        )


async def _open_stream(
    info: Info,
    event_type: type[events.InvitationEvent] | type[events.ParticipationEvent],
    require_subscriber: Callable[[access.Actor], None],
    exchange_id: strawberry.ID | None,
    organisation_id: strawberry.ID | None,
    what: str,
) -> AsyncGenerator[DeliveredEvent | DeliveredParticipationEvent, None]:
    """The stream of one subscription field, once everything is checked (who, which filters):
    a refusal is the operation's error, before any event."""
    try:
        actor = info.context.actor
        require_subscriber(actor)
        # The key was checked when the connection opened; it may have been revoked since.
        if actor.key_id is not None and not await access.is_key_active(actor.key_id):
            raise unauthenticated("The API key was revoked.")
        only_exchange = (
            await followed_exchange(actor, pk_of(exchange_id, "ExperienceExchange", ["exchangeId"]), what)
            if exchange_id is not None
            else None
        )
        only_organisation = (
            pk_of(organisation_id, "Organisation", ["organisationId"])
            if organisation_id is not None
            else None
        )
    except DomainError as error:
        raise _coded(error) from error

    def matches(event: events.Event) -> bool:
        return (
            isinstance(event, event_type)
            and access.can_hear_invitation_event(actor, event.organiser_ids)
            and (only_exchange is None or event.exchange_id == only_exchange)
            and (only_organisation is None or only_organisation in event.organiser_ids)
        )

    scope = access.invitation_event_scope(actor, only_organisation)
    hub = events.get_bus().hub
    try:
        hub.admit(actor.key_id)
    except StreamError as error:
        raise _coded(error) from error
    return _stream(hub, actor.key_id, scope, matches)
