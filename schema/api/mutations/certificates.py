"""issueCertificate (beyond the contract): input -> exchange.certificates -> payload."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from exchange.certificates import service
from schema.api.context import Info
from schema.api.errors import UserError, mutate
from schema.api.relay import pk_of
from schema.api.types.participation import Participation


@strawberry.type
class IssueCertificatePayload:
    participation: Participation | None = strawberry.field(
        default=None, description="The participation, its certificate issued (Participation.certificate)."
    )
    user_errors: list[UserError]


@strawberry.type
class CertificateMutations:
    @strawberry.mutation(
        description="Host or admin only (others: FORBIDDEN). Issues the certificate of an ATTENDED participation "
        "with hours in a completed exchange (INVALID, with the reason, otherwise; CONFLICT when a valid one "
        "exists: changing the participation revokes and reissues it by itself) and mails it, PDF attached, "
        "to the volunteer in their language."
    )
    async def issue_certificate(
        self,
        info: Info,
        participation_id: Annotated[strawberry.ID, strawberry.argument(description="The participation.")],
    ) -> IssueCertificatePayload:
        async def action() -> dict[str, Any]:
            pk = pk_of(participation_id, "Participation", ["participationId"])
            await service.issue(info.context.actor, pk, info.context.settings)
            return {"participation": await info.context.loaders.visible_participation.load(pk)}

        return await mutate(IssueCertificatePayload, action)
