"""The JSON body of an invitation webhook."""

from __future__ import annotations

import base64
from typing import Any

from exchange.events import InvitationEvent

EVENT_TYPE = "invitation.status_changed"


def global_id(type_name: str, pk: int) -> str:
    # The GraphQL layer's global id (schema.relay.encode_id), so receivers can query the
    # node; tests/events check both stay the same.
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def event_payload(event: InvitationEvent) -> dict[str, Any]:
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
