"""The contract's enums are the domain's enums (same member names), registered with
Strawberry here so mypy and the domain see one class."""

from __future__ import annotations

import enum

import strawberry

from exchange.models import (
    ExchangeStatus,
    InvitationStatus,
    OrganisationKind,
    ParticipationRole,
    ParticipationStatus,
    SessionFormat,
    Theme,
)

strawberry.enum(OrganisationKind, name="OrganisationKind")
strawberry.enum(Theme, name="Theme")
strawberry.enum(ExchangeStatus, name="ExchangeStatus")
strawberry.enum(SessionFormat, name="SessionFormat")
strawberry.enum(ParticipationRole, name="ParticipationRole")
strawberry.enum(ParticipationStatus, name="ParticipationStatus")
strawberry.enum(InvitationStatus, name="InvitationStatus")


@strawberry.enum(name="ApiKeyRole")
class ApiKeyRole(enum.Enum):
    """Roles an API key issued through the API may have (admin keys come from the CLI only)."""

    ORGANISATION = strawberry.enum_value(
        "ORGANISATION",
        description="Acts for one organisation: manages its exchanges, sessions and invitations.",
    )
    READ_ONLY = strawberry.enum_value(
        "READ_ONLY", description="Reads public data only; for partner frontends."
    )


__all__ = [
    "ApiKeyRole",
    "ExchangeStatus",
    "InvitationStatus",
    "OrganisationKind",
    "ParticipationRole",
    "ParticipationStatus",
    "SessionFormat",
    "Theme",
]
