"""Events (invitation and participation) become WebhookDelivery rows: one per event and
endpoint of an organisation in the event's audience. (endpoint, event id) is unique, so
recording twice is harmless."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from exchange.events import Event
from exchange.models import WebhookDelivery, WebhookEndpoint
from exchange.webhooks.payload import event_payload, event_type


async def record_deliveries(events: Sequence[Event], using_db: Any = None) -> int:
    if not events:
        return 0
    organisers = set().union(*(event.organiser_ids for event in events))
    endpoints = (
        await WebhookEndpoint.filter(organisation_id__in=organisers, disabled_at=None)
        .using_db(using_db)
        .values_list("id", "organisation_id")
    )
    if not endpoints:
        return 0
    event_ids = [event.event_id for event in events]
    existing = set(
        await WebhookDelivery.filter(event_id__in=event_ids)
        .using_db(using_db)
        .values_list("endpoint_id", "event_id")
    )
    now = datetime.now(UTC)
    rows = [
        WebhookDelivery(
            endpoint_id=endpoint_id,
            event_id=event.event_id,
            event_type=event_type(event),
            payload=event_payload(event),
            next_attempt_at=now,
        )
        for event in events
        for endpoint_id, organisation_id in endpoints
        if organisation_id in event.organiser_ids and (endpoint_id, event.event_id) not in existing
    ]
    if rows:
        await WebhookDelivery.bulk_create(rows, ignore_conflicts=True, using_db=using_db)
    return len(rows)
