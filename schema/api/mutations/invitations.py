from __future__ import annotations

from typing import Annotated, Any

import strawberry

from exchange import models
from exchange.errors import DomainError
from exchange.invitations import invite as invite_service
from exchange.invitations import manage, respond
from exchange.invitations.respond import Response
from schema.admission.declarations import idempotency_scoped_by
from schema.api.context import Info
from schema.api.errors import UserError, graphql_error, mutate, user_errors
from schema.api.relay import pk_of, pks_of
from schema.api.scalars import CountryCode, LanguageCode
from schema.api.types.invitation import Invitation, InvitationPreview

# The contract's InvitationResponse is the domain's Response (same member names).
strawberry.enum(
    Response,
    name="InvitationResponse",
    description="ACCEPT takes a place, or joins the waiting list when the exchange keeps one and "
    "none is free (WAITLISTED), or claims a place offered from it (OFFERED -> ACCEPTED). DECLINE "
    "also leaves the waiting list or turns an offer down. WITHDRAW gives an ACCEPTED place back "
    "until the exchange starts (then INVALID).",
)


@strawberry.input
class InviteeInput:
    email: str
    full_name: str
    country: CountryCode
    locale: LanguageCode | None = strawberry.field(
        default=None, description="Language of the email; defaults to the exchange's first language."
    )


@strawberry.input
class InviteVolunteersInput:
    exchange_id: strawberry.ID
    session_ids: list[strawberry.ID] | None = None
    invitees: list[InviteeInput]
    message: str | None = strawberry.field(
        default=None, description="Personal note from the organiser, included in the email."
    )
    expires_in_days: int | None = None


@strawberry.type
class InviteVolunteersPayload:
    invitations: list[Invitation] = strawberry.field(
        description="One per valid invitee, in input order; re-inviting an address with a live "
        "invitation returns that invitation."
    )
    user_errors: list[UserError]


@strawberry.type
class InvitationPayload:
    invitation: Invitation | None = None
    user_errors: list[UserError]


def _request(input: InviteVolunteersInput) -> invite_service.InviteRequest:
    return invite_service.InviteRequest(
        exchange_id=pk_of(input.exchange_id, "ExperienceExchange", ["exchangeId"]),
        session_ids=pks_of(input.session_ids, "Session", "sessionIds"),
        invitees=[
            invite_service.Invitee(
                email=item.email, full_name=item.full_name, country=item.country, locale=item.locale
            )
            for item in input.invitees
        ],
        message=input.message,
        expires_in_days=input.expires_in_days,
    )


@strawberry.type
class InvitationMutations:
    @strawberry.mutation
    async def invite_volunteers(self, info: Info, input: InviteVolunteersInput) -> InviteVolunteersPayload:
        # Partial success: valid invitees are invited while the others come back as
        # userErrors in the same payload, so `mutate` (all or nothing) does not fit.
        try:
            result = await invite_service.invite_volunteers(
                info.context.actor, info.context.settings, _request(input)
            )
        except DomainError as error:
            if error.is_auth:
                raise graphql_error(error) from error
            return InviteVolunteersPayload(invitations=[], user_errors=user_errors(error))
        problems = user_errors(DomainError.many(result.problems)) if result.problems else []
        invitations: list[Any] = list(result.invitations)
        return InviteVolunteersPayload(invitations=invitations, user_errors=problems)

    @strawberry.mutation
    async def resend_invitation(self, info: Info, id: strawberry.ID) -> InvitationPayload:
        async def action() -> dict[str, Any]:
            actor = info.context.actor
            return {
                "invitation": await manage.resend_invitation(
                    actor, info.context.settings, pk_of(id, "Invitation", ["id"])
                )
            }

        return await mutate(InvitationPayload, action)

    @strawberry.mutation
    async def revoke_invitation(self, info: Info, id: strawberry.ID) -> InvitationPayload:
        async def action() -> dict[str, Any]:
            actor = info.context.actor
            return {
                "invitation": await manage.revoke_invitation(
                    actor, info.context.settings, pk_of(id, "Invitation", ["id"])
                )
            }

        return await mutate(InvitationPayload, action)

    @strawberry.mutation(
        description="Public, authorised by the invitation token alone. Accepting records consent to "
        "the privacy notice shown with the invitation (consentAt, consentNoticeVersion).",
        # The invitee has no API key: an Idempotency-Key is theirs by the token they hold.
        metadata=idempotency_scoped_by("token"),
    )
    async def respond_to_invitation(
        self,
        info: Info,
        token: str,
        response: Response,
        public_profile: Annotated[
            bool | None,
            strawberry.argument(
                description="With ACCEPT: the volunteer's choice to be shown to everyone "
                "(Volunteer.publicProfile). Left out: unchanged (false for a new volunteer). "
                "Ignored with DECLINE."
            ),
        ] = None,
    ) -> InvitationPayload:
        async def action() -> dict[str, Any]:
            info.context.actor  # noqa: B018  (an invalid key is refused even here)
            return {
                "invitation": await respond.respond(
                    token, response, public_profile=public_profile, settings=info.context.settings
                )
            }

        return await mutate(InvitationPayload, action)


@strawberry.type
class InvitationQueries:
    @strawberry.field(
        description="Public: what an invitation link shows; null for an unknown token.",
        graphql_type=InvitationPreview | None,
    )
    async def invitation(self, info: Info, token: str) -> models.Invitation | None:
        info.context.actor  # noqa: B018
        return await respond.find_by_token(token)
