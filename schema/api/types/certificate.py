"""Participation.certificate (beyond the contract): a certificate's state, never its code
except inside verificationUrl, for those who hand it to the volunteer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate with the participation's keys (the root of Certificate): who may read its
    address depends on the exchange's host and the volunteer's sending organisation, loaded
    only when verificationUrl is asked for and they decide it (the exchange for an
    organisation, the volunteer for one other than the host)."""

    row: CertificateRow
    exchange_id: int
    volunteer_id: int

    @property
    def status(self) -> CertificateStatus:
        return self.row.status

    @property
    def issued_at(self) -> dt.datetime:
        return self.row.issued_at

    @property
    def revoked_at(self) -> dt.datetime | None:
        return self.row.revoked_at

    @property
    def language(self) -> str:
        return self.row.language


async def _verification_url(root: strawberry.Parent[IssuedCertificate], info: Info) -> str | None:
    row = root.row
    if row.status is not CertificateStatus.VALID:
        return None
    loaders = info.context.loaders

    async def host_id() -> int | None:
        exchange = await loaders.exchange.load(root.exchange_id)
        return exchange.host_id if exchange is not None else None

    async def volunteer_organisation_id() -> int | None:
        volunteer = await loaders.volunteer.load(root.volunteer_id)
        return volunteer.organisation_id if volunteer is not None else None

    if not await service.sees_verification_url(info.context.actor, host_id, volunteer_organisation_id):
        return None
    return service.verification_url(row, info.context.settings)


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
        resolver=_verification_url,
    )
