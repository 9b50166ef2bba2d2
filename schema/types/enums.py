"""The contract's enums, backed by the domain's enums (same member names)."""

from __future__ import annotations

import enum

import strawberry

from exchange import models

OrganisationKind = strawberry.enum(models.OrganisationKind, name="OrganisationKind")
Theme = strawberry.enum(models.Theme, name="Theme")
ExchangeStatus = strawberry.enum(models.ExchangeStatus, name="ExchangeStatus")
SessionFormat = strawberry.enum(models.SessionFormat, name="SessionFormat")
ParticipationRole = strawberry.enum(models.ParticipationRole, name="ParticipationRole")
ParticipationStatus = strawberry.enum(models.ParticipationStatus, name="ParticipationStatus")
InvitationStatus = strawberry.enum(
    models.InvitationStatus,
    name="InvitationStatus",
)


@strawberry.enum(name="ApiKeyRole")
class ApiKeyRole(enum.Enum):
    """Roles an API key issued through the API may have (admin keys come from the CLI only)."""

    ORGANISATION = strawberry.enum_value(
        "ORGANISATION",
        description="Acts for one organisation: manages its exchanges, sessions and invitations.",
    )
    READ_ONLY = strawberry.enum_value("READ_ONLY", description="Reads public data only; for partner frontends.")
