"""Issuing, revoking and finding certificates of participation.

A certificate is issued for an ATTENDED participation with hours in a completed exchange
(exchange.schedule's definition), by the exchange's host or an admin (``issueCertificate``),
or automatically when attendance is recorded on a completed exchange and
EXCHANGE_CERTIFICATES_AUTOMATIC is on. What it certifies is copied into it at issue
(``facts``): the page and the PDF show that, whatever is edited later.

A participation has at most one VALID certificate (a partial unique index, see the
certificates migration). When what a valid certificate certifies changes (status, hours,
sessions attended) or the participation is removed, the certificate is revoked and, if the
participation can still be certified, a new one with a new code is issued and mailed; the
old code's page then says "revoked" and names nobody. Every writer of participations gets
this through the model's save and delete signals (``exchange.models.certificate``), inside
its transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from exchange import access, participations
from exchange.access import Actor
from exchange.certificates import codes
from exchange.errors import DomainError, ErrorCode, Problem, forbidden, not_found
from exchange.i18n import UI_LOCALES, pick_ui_locale
from exchange.mail.outbox import new_message_id
from exchange.models import (
    Certificate,
    CertificateStatus,
    Exchange,
    Invitation,
    InvitationStatus,
    MailKind,
    Organisation,
    OutboxMail,
    Participation,
    ParticipationStatus,
    Session,
    Volunteer,
)
from exchange.privacy import ERASED_NAME, is_erased_address
from exchange.schedule import Schedule, schedule_of
from exchange.settings import Settings, get_settings

log = logging.getLogger("exchange.certificates")


def _now() -> datetime:
    return datetime.now(UTC)


def attended_session_ids(participation: Participation) -> list[int]:
    """The sessions recorded as attended (exchange.attendance), in id order."""
    return sorted(int(i) for i in (getattr(participation, "attended_session_ids", None) or []))


def _certified(participation: Participation) -> tuple[float | None, list[int]]:
    return participation.hours, attended_session_ids(participation)


def _still_certifies(certificate: Certificate, participation: Participation) -> bool:
    facts = certificate.facts
    return (
        participation.status is ParticipationStatus.ATTENDED
        and participation.hours == facts.get("hours")
        and attended_session_ids(participation) == sorted(facts.get("sessionIds", []))
    )


def _problems(participation: Participation, schedule: Schedule, now: datetime) -> list[str]:
    """Why this participation cannot be certified now (empty: it can)."""
    problems = []
    status = ParticipationStatus(participation.status)
    if status is not ParticipationStatus.ATTENDED:
        problems.append(
            f"Only an ATTENDED participation is certified; this one is {status.value} "
            "(record attendance with recordAttendance first)."
        )
    elif participation.hours is None or participation.hours <= 0:
        problems.append("No hours are recorded for this participation (recordAttendance takes them).")
    if not schedule.is_completed(now):
        problems.append(
            "The exchange is not completed yet: certificates are issued once it has ended "
            f"({schedule.ends_at_local:%Y-%m-%d %H:%M}, {schedule.time_zone.key}) or is marked COMPLETED."
        )
    return problems


def _names(organisation: Organisation) -> dict[str, Any]:
    return {"slug": organisation.slug, "names": dict(organisation.names or {})}


async def _facts(
    participation: Participation,
    exchange: Exchange,
    sessions: Sequence[Session],
    schedule: Schedule,
    volunteer: Volunteer,
    issued_by: Organisation,
) -> dict[str, Any]:
    host = await Organisation.get(id=exchange.host_id)
    partners = await Organisation.filter(partner_exchanges__id=exchange.id).order_by("id")
    attended = set(attended_session_ids(participation))
    # Dates in the venue's time: the first and last day its planned sessions cover, else its own dates.
    starts_on = schedule.starts_at_local.date() if schedule.has_sessions else exchange.starts_on
    ends_on = schedule.ends_at_local.date() if schedule.has_sessions else exchange.ends_on
    return {
        # No email address, nor anything else the certificate does not print.
        "name": volunteer.full_name,
        "exchange": {
            "slug": exchange.slug,
            "titles": dict(exchange.titles or {}),
            "city": exchange.city,
            "country": exchange.country,
            "timeZone": exchange.time_zone,
            "startsOn": starts_on.isoformat(),
            "endsOn": max(starts_on, ends_on).isoformat(),
        },
        "host": _names(host),
        "partners": [_names(p) for p in partners],
        "issuedBy": _names(issued_by),
        "hours": participation.hours,
        "sessionIds": sorted(attended),
        "sessions": [
            {
                "titles": dict(s.titles or {}),
                "startsAt": s.starts_at.astimezone(UTC).isoformat(),
                "endsAt": s.ends_at.astimezone(UTC).isoformat(),
            }
            for s in sorted(sessions, key=lambda s: (s.starts_at, s.id))
            if s.id in attended
        ],
    }


async def _language(volunteer: Volunteer, exchange: Exchange) -> str:
    """The volunteer's language among kk, ru, en: the first of theirs, else the one they were
    invited in, else the exchange's, else English."""
    for code in volunteer.languages or []:
        if code in UI_LOCALES:
            return str(code)
    invitation = (
        await Invitation.filter(
            volunteer_id=volunteer.id, exchange_id=exchange.id, status=InvitationStatus.ACCEPTED
        )
        .order_by("-id")
        .first()
    )
    if invitation is not None and invitation.locale in UI_LOCALES:
        return str(invitation.locale)
    return pick_ui_locale([], exchange.languages or [])


async def _create(
    participation: Participation,
    exchange: Exchange,
    issued_by_id: int,
    now: datetime,
    *,
    language: str | None,
    using_db: BaseDBAsyncClient | None,
    settings: Settings,
) -> Certificate:
    """Writes a VALID certificate and queues its mail, in the caller's transaction."""
    sessions = await Session.filter(exchange_id=exchange.id).using_db(using_db)
    schedule = schedule_of(exchange, sessions)
    volunteer = await Volunteer.get(id=participation.volunteer_id, using_db=using_db)
    issued_by = await Organisation.get(id=issued_by_id, using_db=using_db)
    nonce = codes.new_nonce()
    code = codes.code_for(nonce, settings.signing_key)
    certificate = Certificate(
        participation_id=participation.id,
        volunteer_id=volunteer.id,
        code_nonce=nonce,
        code_hash=codes.code_hash(code),
        status=CertificateStatus.VALID,
        language=language or await _language(volunteer, exchange),
        facts=await _facts(participation, exchange, sessions, schedule, volunteer, issued_by),
        issued_at=now,
        issued_by_id=issued_by.id,
    )
    await certificate.save(using_db=using_db)
    if volunteer.email and not is_erased_address(volunteer.email):
        # Rendered when sent (exchange.certificates.mail), so the row holds no code.
        await OutboxMail.create(
            invitation=None,
            kind=MailKind.CERTIFICATE,
            message_id=new_message_id(settings),
            recipient=volunteer.email,
            next_attempt_at=now,
            payload={"certificate_id": certificate.id},
            using_db=using_db,
        )
    return certificate


async def _revoke(certificate: Certificate, now: datetime, using_db: BaseDBAsyncClient | None) -> None:
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = now
    await certificate.save(update_fields=["status", "revoked_at"], using_db=using_db)


# ---------------------------------------------------------------- issueCertificate


async def issue(
    actor: Actor, participation_id: int, settings: Settings, *, now: datetime | None = None
) -> Certificate:
    """The host (or an admin) certifies an attended participation of a completed exchange.
    NOT_FOUND when the actor may not see the participation, FORBIDDEN when it is not the
    host, INVALID with the reason when it cannot be certified, CONFLICT when a valid
    certificate exists (a change to the participation replaces it by itself)."""
    access.require_writer(actor)
    field = ["participationId"]
    if not await participations.visible_by_ids(actor, [participation_id], ("id",)):
        raise not_found("Participation", field)
    now = now or _now()
    async with in_transaction() as conn:
        participation = (
            await Participation.select_for_update().using_db(conn).get_or_none(id=participation_id)
        )
        if participation is None:
            raise not_found("Participation", field)
        exchange = await Exchange.get(id=participation.exchange_id, using_db=conn)
        if not access.can_manage_exchange(actor, exchange.host_id):
            raise forbidden("Only the exchange's host organisation (or an admin) issues its certificates.")
        sessions = await Session.filter(exchange_id=exchange.id).using_db(conn)
        problems = _problems(participation, schedule_of(exchange, sessions), now)
        volunteer = await Volunteer.get(id=participation.volunteer_id, using_db=conn)
        if volunteer.full_name == ERASED_NAME and is_erased_address(volunteer.email):
            problems.append("This volunteer's data was erased: there is nobody to certify.")
        if problems:
            raise DomainError.many(
                [Problem(ErrorCode.INVALID, message, tuple(field)) for message in problems]
            )
        existing = await _valid_for(participation.id, conn)
        if existing is not None:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"A valid certificate was issued for this participation on {existing.issued_at:%Y-%m-%d}; "
                "a change to the participation revokes and reissues it.",
                field,
            )
        try:
            certificate = await _create(
                participation,
                exchange,
                actor.organisation_id if actor.organisation_id is not None else exchange.host_id,
                now,
                language=None,
                using_db=conn,
                settings=settings,
            )
        except IntegrityError as error:
            # Another call issued one between our check and our write (the unique index).
            raise DomainError(
                ErrorCode.CONFLICT, "A certificate was just issued for this participation.", field
            ) from error
    log.info("certificate %s issued for participation %s", certificate.id, participation_id)
    return certificate


async def _valid_for(participation_id: int, using_db: BaseDBAsyncClient | None) -> Certificate | None:
    return (
        await Certificate.filter(participation_id=participation_id, status=CertificateStatus.VALID)
        .using_db(using_db)
        .first()
    )


# ---------------------------------------------------------------- changes to participations


async def participation_saved(
    participation: Participation,
    *,
    created: bool,
    update_fields: Iterable[str] | None,
    using_db: BaseDBAsyncClient | None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> None:
    """After a participation is written: revoke a valid certificate that no longer says what
    the participation does and issue its replacement (if it can still be certified); or issue
    the first one when attendance was just recorded, the exchange is completed and issuing is
    automatic."""
    fields = set(update_fields or ())
    if update_fields is not None and not fields & {"status", "hours", "attended_session_ids", "recorded_at"}:
        return  # a role, a note: nothing a certificate says
    if created and participation.status is not ParticipationStatus.ATTENDED:
        return
    settings = settings or get_settings()
    automatic = settings.certificates_automatic and (update_fields is None or "recorded_at" in fields)
    existing = None if created else await _valid_for(participation.id, using_db)
    if existing is not None and _still_certifies(existing, participation):
        return
    if existing is None and not automatic:
        return
    now = now or _now()
    exchange = await Exchange.get(id=participation.exchange_id, using_db=using_db)
    sessions = await Session.filter(exchange_id=exchange.id).using_db(using_db)
    certifiable = not _problems(participation, schedule_of(exchange, sessions), now)
    if existing is not None:
        await _revoke(existing, now, using_db)
        log.info("certificate %s revoked: participation %s changed", existing.id, participation.id)
    if certifiable:
        issued_by = existing.issued_by_id if existing is not None and existing.issued_by_id else None
        recorded_by = getattr(participation, "recorded_by_id", None)
        certificate = await _create(
            participation,
            exchange,
            issued_by or recorded_by or exchange.host_id,
            now,
            language=existing.language if existing is not None else None,
            using_db=using_db,
            settings=settings,
        )
        log.info("certificate %s issued for participation %s", certificate.id, participation.id)


async def participation_deleted(participation: Participation, *, using_db: BaseDBAsyncClient | None) -> None:
    """Before a participation is deleted: its valid certificate is revoked (the row stays,
    without the participation, so its code's page says "revoked")."""
    existing = await _valid_for(participation.id, using_db)
    if existing is not None:
        await _revoke(existing, _now(), using_db)


# ---------------------------------------------------------------- reads


async def find_by_code(text: str) -> tuple[Certificate, str] | None:
    """The certificate a typed or linked code names, with the code as stored; None for
    anything else (malformed, forged, unknown, erased)."""
    code = codes.normalised(text)
    if code is None:
        return None
    certificate = await Certificate.get_or_none(code_hash=codes.code_hash(code))
    return (certificate, code) if certificate is not None else None


def code_of(certificate: Certificate, settings: Settings) -> str | None:
    """The certificate's code from its nonce under the key it was issued with, or None when no
    key of ``Settings.verifying_keys`` gives the stored hash (the signing key changed without
    the old one in EXCHANGE_PREVIOUS_SECRET_KEYS: the old code still verifies, but only its
    holder knows it; or the certificate was erased)."""
    return codes.code_of(certificate.code_nonce, certificate.code_hash, settings.verifying_keys)


def verification_url(certificate: Certificate, settings: Settings) -> str | None:
    code = code_of(certificate, settings)
    return codes.page_url(settings.public_url, code) if code is not None else None


async def latest_by_participation(participation_ids: Sequence[int]) -> dict[int, Certificate]:
    """Each participation's current certificate: the valid one, else the last revoked."""
    rows = await Certificate.filter(participation_id__in=list(participation_ids)).order_by("id")
    latest: dict[int, Certificate] = {}
    for row in rows:
        assert row.participation_id is not None
        current = latest.get(row.participation_id)
        if current is None or current.status is not CertificateStatus.VALID:
            latest[row.participation_id] = row
    return latest


async def sees_verification_url(
    actor: Actor,
    host_id: Callable[[], Awaitable[int | None]],
    volunteer_organisation_id: Callable[[], Awaitable[int | None]],
) -> bool:
    """``access.can_see_verification_url``, each fact loaded only when the answer depends on
    it: the exchange's host (by ``host_id``; None: no such exchange, nothing to see) for an
    organisation, the volunteer's sending organisation (by ``volunteer_organisation_id``) for
    an organisation other than the host."""
    known = access.host_rights_without_exchange(actor)
    if known is not None:
        return known
    host = await host_id()
    if host is None:
        return False
    known = access.host_rights_without_others(actor, host)
    if known is not None:
        return known
    return access.can_see_verification_url(actor, host, await volunteer_organisation_id())
