"""The JSON body of a webhook: an invitation's status change or a participation's change.
Ids, statuses, role and hours only: no name, address or other personal data (a receiver
reads the people through the API, under its key's visibility)."""

from __future__ import annotations

import base64
from typing import Any

from exchange.events import Event, InvitationEvent, ParticipationEvent

EVENT_TYPE = "invitation.status_changed"
PARTICIPATION_EVENT_PREFIX = "participation."


def global_id(type_name: str, pk: int) -> str:
    # The GraphQL layer's global id (schema.api.relay.encode_id), so receivers can query the
    # node; tests/events check both stay the same.
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def event_type(event: Event) -> str:
    """``invitation.status_changed``, or ``participation.<change>`` (e.g. participation.no_show)."""
    if isinstance(event, ParticipationEvent):
        return PARTICIPATION_EVENT_PREFIX + event.change.value.lower()
    return EVENT_TYPE


def event_payload(event: Event) -> dict[str, Any]:
    if isinstance(event, ParticipationEvent):
        return _participation_payload(event)
    return _invitation_payload(event)


def _invitation_payload(event: InvitationEvent) -> dict[str, Any]:
    return {
        "type": EVENT_TYPE,
        "timestamp": event.at.isoformat(),
        "data": {
            "eventId": event.event_id,
            "invitationId": global_id("Invitation", event.invitation_id),
            "exchangeId": global_id("ExperienceExchange", event.exchange_id),
            "previousStatus": event.previous_status.value if event.previous_status else None,
            "status": event.status.value,
            "at": event.at.isoformat(),
        },
    }


def _participation_payload(event: ParticipationEvent) -> dict[str, Any]:
    return {
        "type": event_type(event),
        "timestamp": event.at.isoformat(),
        "data": {
            "eventId": event.event_id,
            "participationId": global_id("Participation", event.participation_id),
            "exchangeId": global_id("ExperienceExchange", event.exchange_id),
            "change": event.change.value,
            "previousStatus": event.previous_status.value if event.previous_status else None,
            "status": event.status.value if event.status else None,
            "role": event.role.value,
            "hours": event.hours,
            "at": event.at.isoformat(),
        },
    }
