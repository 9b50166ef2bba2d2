"""Participation.certificate (beyond the contract): a certificate's state, never its code
except inside verificationUrl, for those who hand it to the volunteer."""

from __future__ import annotations

import datetime as dt

import strawberry

from exchange.certificates import service
from exchange.models import Certificate as CertificateRow
from exchange.models import CertificateStatus
from schema.api.context import Info
from schema.api.shown_once import shown_once

strawberry.enum(
    CertificateStatus,
    name="CertificateStatus",
    description="VALID, or REVOKED: replaced after its participation changed, or withdrawn with it.",
)


@strawberry.type(
    name="Certificate",
    description="A certificate of participation: a PDF in the volunteer's language, verifiable on a public "
    "page by its code. The code is not stored (only its hash).",
)
class Certificate:
    status: CertificateStatus
    issued_at: dt.datetime
    revoked_at: dt.datetime | None
    language: str = strawberry.field(description="kk, ru or en: the PDF's and its mail's language.")
    verification_url: str | None = shown_once(
        description="The public page of a VALID certificate, its code in the address (the PDF is the same "
        "address with .pdf). Only for the exchange's host, an admin and the volunteer's sending organisation, "
        "who may hand it to the volunteer (the certificate mail already did); null for everyone else.",
        if_lost="Read Participation.certificate.verificationUrl again.",
    )


async def certificate_of(
    info: Info, row: CertificateRow | None, host_id: int | None, volunteer_id: int
) -> Certificate | None:
    if row is None:
        return None
    url = None
    if row.status is CertificateStatus.VALID:
        volunteer = await info.context.loaders.volunteer.load(volunteer_id)
        if host_id is not None and service.can_see_verification_url(
            info.context.actor, host_id, volunteer.organisation_id if volunteer is not None else None
        ):
            url = service.verification_url(row, info.context.settings)
    return Certificate(
        status=row.status,
        issued_at=row.issued_at,
        revoked_at=row.revoked_at,
        language=row.language,
        verification_url=url,
    )
