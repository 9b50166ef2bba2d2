"""registerVolunteer: input -> service call -> payload."""

from __future__ import annotations

from typing import Any

import strawberry

from exchange import access, volunteers
from schema.context import Info
from schema.errors import UserError, mutate
from schema.relay import pk_of
from schema.scalars import CountryCode, LanguageCode
from schema.types.volunteer import Volunteer


@strawberry.input
class RegisterVolunteerInput:
    full_name: str
    email: str
    country: CountryCode
    languages: list[LanguageCode]
    skills: list[str] | None = None
    organisation_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Sending organisation; organisation keys register for their own organisation only.",
    )


@strawberry.type
class VolunteerPayload:
    volunteer: Volunteer | None = None
    user_errors: list[UserError]


@strawberry.type
class VolunteerMutations:
    @strawberry.mutation(description="Organisation keys (for their own organisation) and admin keys.")
    async def register_volunteer(self, info: Info, input: RegisterVolunteerInput) -> VolunteerPayload:
        async def action() -> dict[str, Any]:
            actor = info.context.actor
            access.require_writer(actor)
            organisation_id = (
                pk_of(input.organisation_id, "Organisation", ["organisationId"])
                if input.organisation_id is not None
                else None
            )
            volunteer = await volunteers.register_volunteer(
                actor,
                volunteers.NewVolunteer(
                    full_name=input.full_name,
                    email=input.email,
                    country=input.country,
                    languages=list(input.languages),
                    skills=input.skills,
                    organisation_id=organisation_id,
                ),
            )
            return {"volunteer": volunteer}

        return await mutate(VolunteerPayload, action)
