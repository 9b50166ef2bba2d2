"""A person's certificates in exchange.privacy's export and erasure (no import of it here:
privacy imports this)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from exchange.certificates import codes
from exchange.models import Certificate, CertificateStatus

CODE_NOTE = (
    "A certificate's verification code is not stored (only its SHA-256 is): it is on the PDF and "
    "in the certificate mail."
)


async def of_volunteers(volunteer_ids: Sequence[int], *, lock: bool = False) -> list[Certificate]:
    if not volunteer_ids:
        return []
    query = Certificate.filter(volunteer_id__in=list(volunteer_ids)).order_by("id")
    return list(await (query.select_for_update() if lock else query))


def exported(certificate: Certificate) -> dict[str, Any]:
    return {
        "id": certificate.id,
        "participationId": certificate.participation_id,
        "status": certificate.status.value,
        "language": certificate.language,
        "issuedAt": certificate.issued_at.astimezone(UTC).isoformat(),
        "revokedAt": certificate.revoked_at.astimezone(UTC).isoformat() if certificate.revoked_at else None,
        "facts": certificate.facts,
        "code": CODE_NOTE,
    }


async def anonymise(certificates: Sequence[Certificate], erased_name: str) -> int:
    """The name on each certificate becomes ``erased_name``, and its code stops working (a
    random hash no code has, like an erased invitation's link): the code on a PDF the person
    handed out no longer leads to a page about them. Revoked, so nothing certifies a nobody."""
    now = datetime.now(UTC)
    for certificate in certificates:
        await Certificate.filter(id=certificate.id).update(
            facts={**certificate.facts, "name": erased_name},
            code_nonce=codes.new_nonce(),
            code_hash=secrets.token_hex(32),
            status=CertificateStatus.REVOKED,
            revoked_at=certificate.revoked_at or now,
        )
    return len(certificates)
