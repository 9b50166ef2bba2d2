"""Inviting volunteers to an exchange: each invitee is judged on its own, so one bad
address does not stop the rest of a list; problems of the call itself stop everything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from tortoise.transactions import in_transaction

from exchange import access
from exchange.access import Actor
from exchange.errors import DomainError, ErrorCode, Problem, Problems
from exchange.events import AfterCommit
from exchange.exchanges import managed_exchange
from exchange.i18n import UI_LOCALES, is_country_code, pick_ui_locale
from exchange.invitations import tokens
from exchange.invitations.common import (
    LIVE_STATUSES,
    OPEN_STATUSES,
    effective_status,
    lock_exchange,
    status_changed,
    utcnow,
)
from exchange.mail.outbox import enqueue_many
from exchange.models import Exchange, ExchangeStatus, Invitation, InvitationStatus, MailKind, Session
from exchange.settings import Settings
from exchange.validation import check_email

FULL_NAME_MAX = 200


@dataclass(frozen=True)
class Invitee:
    email: str
    full_name: str
    country: str
    locale: str | None = None


@dataclass(frozen=True)
class InviteRequest:
    exchange_id: int
    invitees: Sequence[Invitee]
    session_ids: Sequence[int] | None = None
    message: str | None = None
    expires_in_days: int | None = None


@dataclass
class InviteResult:
    """One invitation per valid invitee in input order (an existing live one when the
    address was invited before), and the problems of the invalid ones."""

    invitations: list[Invitation] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Ids of the invitations this call created (the others were live already).
    created_ids: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class _Valid:
    index: int
    email: str
    email_normalised: str
    full_name: str
    country: str
    locale: str


def default_locale(exchange: Exchange) -> str:
    """The exchange's first language the platform writes in (kk, ru, en), else English."""
    return pick_ui_locale([code for code in exchange.languages if code in UI_LOCALES])


async def load_managed_exchange(
    actor: Actor, exchange_id: int, field: str
) -> tuple[Exchange, frozenset[int]]:
    """The exchange whose invitations the actor manages; NOT_FOUND when they may not even
    see it (drafts of others), FORBIDDEN when they see it but are not its host."""
    exchange, partners = await managed_exchange(actor, exchange_id, field, _require_inviter)
    return exchange, access.organiser_ids(exchange.host_id, partners)


def _require_inviter(actor: Actor, exchange: Exchange) -> None:
    access.require_manage_invitations(actor, exchange.host_id)


def _check_invitee(problems: Problems, index: int, invitee: Invitee, fallback_locale: str) -> _Valid | None:
    before = len(problems.items)
    email = check_email(problems, invitee.email, "invitees", index, "email")
    full_name = " ".join(invitee.full_name.split())
    if not full_name:
        problems.invalid("The full name must not be empty.", "invitees", index, "fullName")
    elif len(full_name) > FULL_NAME_MAX:
        problems.invalid(
            f"The full name is longer than {FULL_NAME_MAX} characters.", "invitees", index, "fullName"
        )
    if not is_country_code(invitee.country):
        problems.invalid(
            f"{invitee.country!r} is not an ISO 3166-1 alpha-2 country code.", "invitees", index, "country"
        )
    locale = invitee.locale or fallback_locale
    if locale not in UI_LOCALES:
        problems.invalid(
            f"Invitations are written in {', '.join(UI_LOCALES)}; {locale!r} is not one of them.",
            "invitees",
            index,
            "locale",
        )
    if len(problems.items) > before:
        return None
    return _Valid(index, email, email.lower(), full_name, invitee.country, locale)


async def _check_call(
    problems: Problems, settings: Settings, exchange: Exchange, request: InviteRequest
) -> tuple[list[Session], int]:
    if exchange.status is not ExchangeStatus.OPEN:
        problems.invalid(
            f"Invitations go only to open exchanges; this one is {exchange.status.value}.", "exchangeId"
        )
    if not request.invitees:
        problems.invalid("Give at least one invitee.", "invitees")
    elif len(request.invitees) > settings.invitees_per_call:
        problems.invalid(
            f"At most {settings.invitees_per_call} invitees per call (got {len(request.invitees)}); "
            "split the list into several calls.",
            "invitees",
        )
    if request.message is not None and len(request.message) > settings.invitation_message_max_length:
        problems.invalid(
            f"The message is longer than {settings.invitation_message_max_length} characters.", "message"
        )
    days = settings.invitation_default_days if request.expires_in_days is None else request.expires_in_days
    if not 1 <= days <= settings.invitation_max_days:
        problems.invalid(
            f"expiresInDays must be between 1 and {settings.invitation_max_days}.", "expiresInDays"
        )
    sessions: list[Session] = []
    if request.session_ids:
        found = {
            s.id: s for s in await Session.filter(id__in=list(request.session_ids), exchange_id=exchange.id)
        }
        seen: set[int] = set()
        for index, session_id in enumerate(request.session_ids):
            session = found.get(session_id)
            if session is None:
                problems.add(
                    ErrorCode.NOT_FOUND, "Session not found in this exchange.", ["sessionIds", index]
                )
            elif session.cancelled_at is not None:
                problems.invalid("This session is cancelled.", "sessionIds", index)
            elif session_id not in seen:
                seen.add(session_id)
                sessions.append(session)
    return sessions, days


async def invite_volunteers(actor: Actor, settings: Settings, request: InviteRequest) -> InviteResult:
    exchange, organiser_ids = await load_managed_exchange(actor, request.exchange_id, "exchangeId")
    problems = Problems()
    sessions, days = await _check_call(problems, settings, exchange, request)
    problems.raise_if_any()

    fallback_locale = default_locale(exchange)
    valid: list[_Valid] = []
    first_index: dict[str, int] = {}
    for index, invitee in enumerate(request.invitees):
        checked = _check_invitee(problems, index, invitee, fallback_locale)
        if checked is None:
            continue
        if checked.email_normalised in first_index:
            problems.add(
                ErrorCode.CONFLICT,
                f"This address already appears as invitee {first_index[checked.email_normalised]}.",
                ["invitees", index, "email"],
            )
            continue
        first_index[checked.email_normalised] = index
        valid.append(checked)

    result = InviteResult(problems=problems.items)
    if not valid:
        return result
    message = request.message.strip() if request.message and request.message.strip() else None
    after = AfterCommit()
    async with in_transaction():
        locked = await lock_exchange(exchange.id)
        if locked.status is not ExchangeStatus.OPEN:
            raise DomainError(ErrorCode.INVALID, "The exchange is no longer open.", ["exchangeId"])
        # cancelSession takes the same lock: a session cancelled since _check_call shows now.
        if (
            sessions
            and await Session.filter(
                id__in=[session.id for session in sessions], cancelled_at__isnull=False
            ).exists()
        ):
            raise DomainError(ErrorCode.INVALID, "A session was cancelled meanwhile.", ["sessionIds"])
        now = utcnow()
        live: dict[str, Invitation] = {}
        existing = await Invitation.filter(
            exchange_id=exchange.id,
            email_normalised__in=[v.email_normalised for v in valid],
            status__in=LIVE_STATUSES,
        ).order_by("id")
        for invitation in existing:
            if effective_status(invitation, now) is InvitationStatus.EXPIRED:
                # Overdue but not yet swept: settle it now so the address has one live invitation.
                previous = InvitationStatus(invitation.status)
                if await Invitation.filter(id=invitation.id, status__in=OPEN_STATUSES).update(
                    status=InvitationStatus.EXPIRED
                ):
                    invitation.status = InvitationStatus.EXPIRED
                    status_changed(after, invitation, organiser_ids, previous, InvitationStatus.EXPIRED, now)
                continue
            live.setdefault(invitation.email_normalised, invitation)
        expires_at = now + timedelta(days=days)
        created: list[Invitation] = []
        for item in valid:
            known = live.get(item.email_normalised)
            if known is not None:
                result.invitations.append(known)
                continue
            nonce = tokens.new_nonce()
            invitation = await Invitation.create(
                exchange_id=exchange.id,
                invited_by_id=exchange.host_id,
                email=item.email,
                email_normalised=item.email_normalised,
                full_name=item.full_name,
                country=item.country,
                locale=item.locale,
                status=InvitationStatus.QUEUED,
                token_nonce=nonce,
                token_hash=tokens.token_hash(tokens.token_for(nonce, settings.signing_key)),
                message=message,
                expires_at=expires_at,
            )
            if sessions:
                await invitation.sessions.add(*sessions)
            created.append(invitation)
            status_changed(after, invitation, organiser_ids, None, InvitationStatus.QUEUED, now)
            live[item.email_normalised] = invitation
            result.created_ids.add(invitation.id)
            result.invitations.append(invitation)
        await enqueue_many(MailKind.INVITATION, created, settings=settings)
        await after.stage()
    await after.publish()
    return result
