"""Opening a subscription's event stream, the same for every subscription field.

The resolver is a plain ``async def`` that checks everything (who, which filters) before it
returns the event stream, so a refusal is the operation's ``error`` message (pre-execution)
rather than a data message. Failures after that (bus down, slow consumer, key revoked) end
the stream with one result carrying the error and its ``extensions.code``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TypeVar, cast

import strawberry
from graphql import GraphQLError

from exchange import access, events
from exchange.errors import DomainError, unauthenticated
from exchange.events.hub import Hub, Matcher, StreamError, Subscriber
from exchange.invitations.manage import followed_exchange
from schema.api.context import Info
from schema.api.errors import graphql_error
from schema.api.relay import pk_of

# The kind of event a field streams, and the root of one result made from such an event.
E = TypeVar("E", events.InvitationEvent, events.ParticipationEvent)
Root = TypeVar("Root")


def _coded(error: DomainError | StreamError) -> GraphQLError:
    if isinstance(error, StreamError):
        return GraphQLError(error.message, extensions={"code": error.code})
    return graphql_error(error)


async def open_stream(
    info: Info,
    event_type: type[E],
    deliver: Callable[[E], Awaitable[Root | None]],
    require_subscriber: Callable[[access.Actor], None],
    exchange_id: strawberry.ID | None,
    organisation_id: strawberry.ID | None,
    what: str,
) -> AsyncGenerator[Root, None]:
    """The stream of one subscription field, once everything is checked (who, which filters):
    a refusal is the operation's error, before any event. ``deliver`` makes the root of a
    result from an event (None: nothing to show)."""
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
    # The hub hands on only the events ``matches`` lets through, all of them of ``event_type``.
    deliver_matched = cast("Callable[[events.Event], Awaitable[Root | None]]", deliver)
    return _stream(hub, actor.key_id, scope, matches, deliver_matched)


async def _stream(
    hub: Hub,
    key_id: str | None,
    scope: int | None,
    matches: Matcher,
    deliver: Callable[[events.Event], Awaitable[Root | None]],
) -> AsyncGenerator[Root, None]:
    # Joins the hub only once iterated: a stream cancelled before it starts leaves nothing behind.
    subscriber: Subscriber | None = None
    try:
        subscriber = hub.subscribe(key_id, scope, matches)
        async for event in subscriber:
            delivered = await deliver(event)
            if delivered is not None:
                yield delivered
    except StreamError as error:
        raise _coded(error) from None
    finally:
        if subscriber is not None:
            subscriber.close()
