"""registerVolunteer, updateVolunteer: input -> service call -> payload."""

from __future__ import annotations

from typing import Any

import strawberry

from exchange import access, volunteers
from schema.api.context import Info
from schema.api.errors import UserError, mutate
from schema.api.mutations.inputs import given
from schema.api.relay import pk_of
from schema.api.scalars import CountryCode, LanguageCode
from schema.api.types.volunteer import Volunteer


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


@strawberry.input(description="Fields left out stay as they are; null clears skills and organisationId.")
class UpdateVolunteerInput:
    full_name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    country: CountryCode | None = strawberry.UNSET
    languages: list[LanguageCode] | None = strawberry.UNSET
    skills: list[str] | None = strawberry.UNSET
    organisation_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Admins only: the sending organisation (null: none).",
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

    @strawberry.mutation(
        description="The volunteer's sending organisation or an admin only (FORBIDDEN for other organisations "
        "that see them). Only admins change organisationId."
    )
    async def update_volunteer(
        self, info: Info, id: strawberry.ID, input: UpdateVolunteerInput
    ) -> VolunteerPayload:
        async def action() -> dict[str, Any]:
            volunteer = await volunteers.update_volunteer(
                info.context.actor,
                pk_of(id, "Volunteer", ["id"]),
                volunteers.VolunteerChanges(
                    full_name=given(input.full_name),
                    email=given(input.email),
                    country=given(input.country),
                    languages=given(input.languages, list),
                    skills=given(input.skills, list),
                    organisation_id=given(
                        input.organisation_id, lambda value: pk_of(value, "Organisation", ["organisationId"])
                    ),
                ),
            )
            return {"volunteer": volunteer}

        return await mutate(VolunteerPayload, action)
