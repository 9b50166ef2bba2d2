"""Certificates of participation (exchange.certificates issues, revokes and verifies them)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.signals import post_save, pre_delete

from exchange.models.organisation import Organisation
from exchange.models.participation import Participation
from exchange.models.volunteer import Volunteer


class CertificateStatus(StrEnum):
    VALID = "VALID"
    # Replaced after its participation changed, or withdrawn with it (removed, erased).
    REVOKED = "REVOKED"


class Certificate(Model):
    id = fields.IntField(primary_key=True)
    # SET_NULL: a participation taken off the roster leaves its revoked certificate behind, so
    # the code's page says "revoked" instead of becoming unknown.
    participation: fields.ForeignKeyNullableRelation[Participation] = fields.ForeignKeyField(
        "models.Participation", related_name="certificates", null=True, on_delete=fields.SET_NULL
    )
    participation_id: int | None  # `participation`'s column, set by Tortoise; an annotation adds no field
    # Whose certificate it is, also once the participation is gone (erasure finds it by this).
    volunteer: fields.ForeignKeyRelation[Volunteer] = fields.ForeignKeyField(
        "models.Volunteer", related_name="certificates", on_delete=fields.CASCADE
    )
    volunteer_id: int  # `volunteer`'s column, set by Tortoise; an annotation adds no field
    # The code is HMAC(signing key, nonce) (exchange.certificates.codes): the database holds the
    # nonce and the code's SHA-256, never the code.
    code_nonce = fields.CharField(max_length=64)
    code_hash = fields.CharField(max_length=64, unique=True)
    status = fields.CharEnumField(CertificateStatus, max_length=20, default=CertificateStatus.VALID)
    # kk, ru or en: the PDF's and the mail's language.
    language = fields.CharField(max_length=2)
    # What was certified, as it was at issue (the page and the PDF show this, not today's
    # records): the name, the exchange, its organisers, hours and attended sessions.
    facts: dict[str, Any] = fields.JSONField(default=dict)
    issued_at = fields.DatetimeField()
    issued_by: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="issued_certificates", null=True, on_delete=fields.SET_NULL
    )
    issued_by_id: int | None  # `issued_by`'s column, set by Tortoise; an annotation adds no field
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "certificate"
        ordering = ["id"]


# Every writer of participations (roster, attendance, invitations, the demo) keeps certificates
# true through these, inside its own transaction: a certificate must never certify what its
# participation no longer says. The service is imported when called (it imports the models).
@post_save(Participation)
async def _participation_saved(
    sender: type[Participation],
    instance: Participation,
    created: bool,
    using_db: BaseDBAsyncClient | None,
    update_fields: Iterable[str] | None,
) -> None:
    from exchange.certificates import service

    await service.participation_saved(
        instance, created=created, update_fields=update_fields, using_db=using_db
    )


@pre_delete(Participation)
async def _participation_deleted(
    sender: type[Participation], instance: Participation, using_db: BaseDBAsyncClient | None
) -> None:
    from exchange.certificates import service

    await service.participation_deleted(instance, using_db=using_db)
