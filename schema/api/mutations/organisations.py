from __future__ import annotations

from typing import Annotated, Any

import strawberry

from exchange import access, organisations
from exchange.models import ApiKeyRole as DomainApiKeyRole
from exchange.validation import LocalizedText
from schema.api.context import Info
from schema.api.errors import UserError, mutate
from schema.api.mutations.inputs import given
from schema.api.relay import pk_of
from schema.api.scalars import CountryCode, LanguageCode
from schema.api.shown_once import shown_once
from schema.api.types.enums import ApiKeyRole, OrganisationKind
from schema.api.types.organisation import Organisation


@strawberry.input
class LocalizedTextInput:
    locale: LanguageCode
    text: str


def texts(items: list[LocalizedTextInput] | None) -> list[LocalizedText] | None:
    return None if items is None else [LocalizedText(item.locale, item.text) for item in items]


@strawberry.input
class CreateOrganisationInput:
    slug: str
    names: list[LocalizedTextInput] = strawberry.field(description="Names by language; at least one.")
    kind: OrganisationKind
    country: CountryCode | None = None
    website: str | None = None
    parent_id: strawberry.ID | None = None
    contact_email: str | None = strawberry.field(
        default=None, description="Address volunteers' replies to invitations go to (Reply-To)."
    )


@strawberry.input(description="Fields left out stay as they are; null clears an optional field.")
class UpdateOrganisationInput:
    slug: str | None = strawberry.UNSET
    names: list[LocalizedTextInput] | None = strawberry.UNSET
    kind: OrganisationKind | None = strawberry.UNSET
    country: CountryCode | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    parent_id: strawberry.ID | None = strawberry.UNSET
    contact_email: str | None = strawberry.UNSET


@strawberry.type
class OrganisationPayload:
    organisation: Organisation | None = None
    user_errors: list[UserError]


@strawberry.type
class ApiKeyPayload:
    key: str | None = shown_once(
        description="The secret, shown exactly once; only a hash is stored.",
        if_lost="The key was issued (keyId): revoke it (revokeApiKey or `exchange apikey revoke`) "
        "and issue a new one.",
    )
    key_id: str | None = strawberry.field(
        default=None, description="The key's non-secret id, for listing and revoking."
    )
    user_errors: list[UserError]


@strawberry.type
class RevokeApiKeyPayload:
    revoked_key_id: str | None = strawberry.field(
        default=None, description="The key revoked: refused from now on, its open subscriptions ended."
    )
    user_errors: list[UserError]


@strawberry.type
class OrganisationMutations:
    @strawberry.mutation(description="Platform admin only.")
    async def create_organisation(self, info: Info, input: CreateOrganisationInput) -> OrganisationPayload:
        async def action() -> dict[str, Any]:
            actor = info.context.actor
            access.require_admin(actor)
            parent_id = (
                pk_of(input.parent_id, "Organisation", ["parentId"]) if input.parent_id is not None else None
            )
            organisation = await organisations.create_organisation(
                actor,
                organisations.NewOrganisation(
                    slug=input.slug,
                    names=texts(input.names) or [],
                    kind=input.kind,
                    country=input.country,
                    website=input.website,
                    parent_id=parent_id,
                    contact_email=input.contact_email,
                ),
            )
            return {"organisation": organisation}

        return await mutate(OrganisationPayload, action)

    @strawberry.mutation(description="Platform admin only. Validated as in createOrganisation.")
    async def update_organisation(
        self, info: Info, id: strawberry.ID, input: UpdateOrganisationInput
    ) -> OrganisationPayload:
        async def action() -> dict[str, Any]:
            actor = info.context.actor
            access.require_admin(actor)
            organisation = await organisations.update_organisation(
                actor,
                pk_of(id, "Organisation", ["id"]),
                organisations.OrganisationChanges(
                    slug=given(input.slug),
                    names=given(input.names, texts),
                    kind=given(input.kind),
                    country=given(input.country),
                    website=given(input.website),
                    parent_id=given(
                        input.parent_id, lambda value: pk_of(value, "Organisation", ["parentId"])
                    ),
                    contact_email=given(input.contact_email),
                ),
            )
            return {"organisation": organisation}

        return await mutate(OrganisationPayload, action)

    @strawberry.mutation(description="Platform admin only.")
    async def issue_api_key(
        self, info: Info, organisation_id: strawberry.ID, role: ApiKeyRole
    ) -> ApiKeyPayload:
        async def action() -> dict[str, Any]:
            issued = await organisations.issue_api_key(
                info.context.actor,
                pk_of(organisation_id, "Organisation", ["organisationId"]),
                DomainApiKeyRole[role.name],
            )
            return {"key": issued.secret, "key_id": issued.public_id}

        return await mutate(ApiKeyPayload, action)

    @strawberry.mutation(
        description="Platform admin only. The key is refused from the next request on and its open "
        "subscriptions end at once (NOT_FOUND: no active key with that id)."
    )
    async def revoke_api_key(
        self,
        info: Info,
        key_id: Annotated[str, strawberry.argument(description="The key's public id (key_...).")],
    ) -> RevokeApiKeyPayload:
        async def action() -> dict[str, Any]:
            await organisations.revoke_api_key(info.context.actor, key_id)
            return {"revoked_key_id": key_id}

        return await mutate(RevokeApiKeyPayload, action)
