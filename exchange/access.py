"""Who is calling, and every rule about who may see or do what. Nothing else compares roles."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from exchange import events
from exchange.errors import DomainError, ErrorCode, forbidden, unauthenticated
from exchange.models import (
    ApiKey,
    ApiKeyRole,
    Exchange,
    ExchangeStatus,
    InvitationStatus,
    Organisation,
    ParticipationStatus,
)
from exchange.models.report import ReportAuthorKind, ReportStatus

KEY_PREFIX = "vx_"
K = TypeVar("K")


class Role(StrEnum):
    ANONYMOUS = "ANONYMOUS"
    READ_ONLY = "READ_ONLY"
    ORGANISATION = "ORGANISATION"
    ADMIN = "ADMIN"


@dataclass(frozen=True)
class Actor:
    role: Role
    organisation_id: int | None = None
    key_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_organisation(self) -> bool:
        return self.role is Role.ORGANISATION and self.organisation_id is not None

    @property
    def is_authenticated(self) -> bool:
        return self.role is not Role.ANONYMOUS


ANONYMOUS = Actor(Role.ANONYMOUS)


# ---------------------------------------------------------------- API keys


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    public_id: str
    secret: str
    key: ApiKey


async def issue_key(
    role: ApiKeyRole, organisation: Organisation | None, label: str | None = None
) -> IssuedKey:
    """A new key: 256 random bits, returned once; only its SHA-256 is stored."""
    public_id = "key_" + secrets.token_hex(8)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = await ApiKey.create(
        public_id=public_id,
        secret_hash=hash_secret(secret),
        role=role,
        organisation=organisation,
        label=label,
    )
    return IssuedKey(public_id, secret, key)


class InvalidKey(Exception):
    """The presented key is unknown or revoked."""


async def authenticate(secret: str | None) -> Actor:
    """The actor behind a bearer secret; no secret is anonymous, a bad one raises InvalidKey."""
    if not secret:
        return ANONYMOUS
    digest = hash_secret(secret)
    key = await ApiKey.get_or_none(secret_hash=digest)
    # The lookup is by hash, so its timing says nothing about the secret; compare anyway
    # in constant time to keep that property if the lookup ever changes.
    if key is None or not hmac.compare_digest(key.secret_hash, digest) or key.revoked_at is not None:
        raise InvalidKey
    role = {
        ApiKeyRole.ADMIN: Role.ADMIN,
        ApiKeyRole.ORGANISATION: Role.ORGANISATION,
        ApiKeyRole.READ_ONLY: Role.READ_ONLY,
    }[key.role]
    return Actor(role=role, organisation_id=key.organisation_id, key_id=key.public_id)


async def revoke_key(public_id: str) -> bool:
    """Revokes an active key; its open subscriptions end in every process as the bus carries
    the news (the periodic key check is only the fallback, e.g. while Redis is away)."""
    updated = await ApiKey.filter(public_id=public_id, revoked_at=None).update(revoked_at=datetime.now(UTC))
    if updated:
        await events.announce_key_revoked(public_id)
    return updated > 0


async def is_key_active(public_id: str) -> bool:
    return await ApiKey.filter(public_id=public_id, revoked_at=None).exists()


# ---------------------------------------------------------------- policies


def require_authenticated(actor: Actor) -> None:
    if not actor.is_authenticated:
        raise unauthenticated()


def require_admin(actor: Actor) -> None:
    require_authenticated(actor)
    if not actor.is_admin:
        raise forbidden("Only a platform admin may do this.")


def require_writer(actor: Actor) -> None:
    """Admins and organisation keys write; read-only keys and anonymous callers do not."""
    require_authenticated(actor)
    if not (actor.is_admin or actor.is_organisation):
        raise forbidden("This API key is read-only.")


def can_list_volunteers(actor: Actor) -> bool:
    return actor.is_admin or actor.is_organisation


def require_volunteer_list(actor: Actor) -> None:
    require_authenticated(actor)
    if not can_list_volunteers(actor):
        raise forbidden("The volunteer list needs an organisation or admin key.")


def organiser_ids(exchange_host_id: int, partner_ids: frozenset[int] | set[int]) -> frozenset[int]:
    return frozenset({exchange_host_id, *partner_ids})


def is_organiser(actor: Actor, host_id: int, partner_ids: frozenset[int] | set[int]) -> bool:
    """The host or a partner organisation of an exchange."""
    return actor.is_organisation and actor.organisation_id in organiser_ids(host_id, partner_ids)


def can_see_exchange(actor: Actor, status: ExchangeStatus, host_id: int, partner_ids: frozenset[int]) -> bool:
    known = seen_without_partners(actor, status, host_id)
    return is_organiser(actor, host_id, partner_ids) if known is None else known


def seen_without_partners(actor: Actor, status: ExchangeStatus, host_id: int) -> bool | None:
    """``can_see_exchange``'s answer when it does not depend on the partners, else None.

    Only a draft asked about by an organisation that is neither an admin nor its host needs
    them, so a caller that must load the partners first loads them only then."""
    if status is not ExchangeStatus.DRAFT or actor.is_admin:
        return True
    if not actor.is_organisation:
        return False
    return True if actor.organisation_id == host_id else None


def can_manage_exchange(actor: Actor, host_id: int) -> bool:
    """Only the host writes an exchange (partners read); an admin acts for the host."""
    return actor.is_admin or (actor.is_organisation and actor.organisation_id == host_id)


def require_manage_exchange(actor: Actor, exchange: Exchange) -> None:
    require_writer(actor)
    if not can_manage_exchange(actor, exchange.host_id):
        raise forbidden("Only the exchange's host organisation may change it.")


def can_see_invitations(actor: Actor, host_id: int, partner_ids: frozenset[int]) -> bool:
    return actor.is_admin or is_organiser(actor, host_id, partner_ids)


def host_rights_without_others(actor: Actor, host_id: int) -> bool | None:
    """The answer of a right held by an admin, the exchange's host and some other organisations
    when those others cannot change it, else None: ``can_see_invitations`` and
    ``sees_exact_counts`` (the others: its partners), ``can_see_verification_url`` (the
    volunteer's sending organisation).

    Only an organisation other than the host needs the others, so a caller that must load them
    first loads them only then."""
    known = host_rights_without_exchange(actor)
    if known is not None:
        return known
    return True if actor.organisation_id == host_id else None


def host_rights_without_exchange(actor: Actor) -> bool | None:
    """``host_rights_without_others``'s answer when not even the exchange's host can change it
    (an admin: yes; a caller acting for no organisation: no), else None: a caller that must
    load the exchange to learn its host loads it only for an organisation."""
    if actor.is_admin:
        return True
    return None if actor.is_organisation else False


def can_see_verification_url(actor: Actor, host_id: int, volunteer_organisation_id: int | None) -> bool:
    """Who may read a certificate's address (it carries the code): the exchange's host, an
    admin, and the volunteer's sending organisation, which hand it to the volunteer."""
    known = host_rights_without_others(actor, host_id)
    if known is not None:
        return known
    return actor.organisation_id == volunteer_organisation_id  # an organisation: never None here


def can_manage_invitations(actor: Actor, host_id: int) -> bool:
    """Only the host invites, resends and revokes (partners read); an admin acts for the host."""
    return can_manage_exchange(actor, host_id)


def require_manage_invitations(actor: Actor, host_id: int) -> None:
    require_writer(actor)
    if not can_manage_invitations(actor, host_id):
        raise forbidden("Only the exchange's host organisation may invite, resend or revoke.")


def can_see_volunteer_email(
    actor: Actor, volunteer_organisation_id: int | None, organised_by_actor: bool
) -> bool:
    """The contract's rule: a platform admin, the volunteer's organisation, or an organiser
    (host or partner) of an exchange in which the volunteer has accepted an invitation or
    takes part. ``organised_by_actor`` is that last fact (``organised_volunteers_sql``),
    computed by a loader for the actor; an unanswered invitation is not enough."""
    if actor.is_admin:
        return True
    if not actor.is_organisation:
        return False
    return volunteer_organisation_id == actor.organisation_id or organised_by_actor


def can_subscribe_to_invitations(actor: Actor) -> bool:
    return actor.is_admin or actor.is_organisation


# ---------------------------------------------------------------- exchanges, sessions, volunteers
# Lists are filtered in the database; the SQL rendering below says the same as
# can_see_exchange and must change together with it.


def visible_exchanges_sql(actor: Actor, alias: str, param: Callable[[object], str]) -> str | None:
    """The same condition as SQL over the exchange row ``alias`` (None: no condition)."""
    if actor.is_admin:
        return None
    public = f"{alias}.status <> {param(ExchangeStatus.DRAFT.value)}"
    if not actor.is_organisation:
        return public
    org = actor.organisation_id
    return (
        f"({public} OR {alias}.host_id = {param(org)} OR EXISTS (SELECT 1 FROM exchange_partner ep "  # noqa: S608
        f"WHERE ep.exchange_id = {alias}.id AND ep.organisation_id = {param(org)}))"
    )


# ---------------------------------------------------------------- people
# One rule for who sees a volunteer, for every read path: lists, node, nested fields, search,
# subscriptions (through the same fields), and later statistics. Each path filters in SQL
# with the renderings below, so the compiled executor (schema.engine.plan) and graphql-core read the
# same rows. Hidden people are left out of lists and their totalCount (never null in a
# non-null field); a hidden id reads like an unknown one (node: null).
#
# * an admin sees everyone;
# * anyone sees a volunteer who chose a public profile, and the speakers of the sessions of
#   the exchanges they may see (speaking at a published session is public);
# * an organisation also sees the volunteers it sends and those of the exchanges it hosts or
#   co-organises (participants, invitees who accepted);
# * a participation is shown to anonymous and read-only callers when its volunteer chose a
#   public profile; to an organisation also when it organises the exchange or sends the
#   volunteer. A visible participation's volunteer is always visible (above).
# Aggregates a caller without full rights sees go through ``small_counts_merged``.


def _organises_sql(exchange_alias: str, organisation: str) -> str:
    """SQL: the exchange row ``exchange_alias`` is hosted or co-organised by the organisation
    whose placeholder is ``organisation``."""
    return (
        f"({exchange_alias}.host_id = {organisation} OR EXISTS (SELECT 1 FROM exchange_partner op "  # noqa: S608
        f"WHERE op.exchange_id = {exchange_alias}.id AND op.organisation_id = {organisation}))"
    )


def organised_volunteers_sql(volunteer_alias: str, organisation: str) -> str:
    """SQL: the volunteer row takes part in, or has accepted an invitation to, an exchange the
    organisation (placeholder) hosts or co-organises. By record, never by address."""
    v = volunteer_alias
    return (
        "(EXISTS (SELECT 1 FROM participation ap JOIN exchange ae ON ae.id = ap.exchange_id "  # noqa: S608
        f"WHERE ap.volunteer_id = {v}.id AND {_organises_sql('ae', organisation)}) "
        "OR EXISTS (SELECT 1 FROM invitation ai JOIN exchange aie ON aie.id = ai.exchange_id "
        f"WHERE ai.volunteer_id = {v}.id AND ai.status = '{InvitationStatus.ACCEPTED.value}' "
        f"AND {_organises_sql('aie', organisation)}))"
    )


def visible_volunteers_sql(actor: Actor, alias: str, param: Callable[[object], str]) -> str | None:
    """The people rule as SQL over the volunteer row ``alias`` (None: no condition)."""
    if actor.is_admin:
        return None
    public = f"{alias}.public_profile"
    speaks = (
        "EXISTS (SELECT 1 FROM session_speaker sv JOIN session svs ON svs.id = sv.session_id "  # noqa: S608
        f"JOIN exchange sve ON sve.id = svs.exchange_id WHERE sv.volunteer_id = {alias}.id "
        f"AND {visible_exchanges_sql(actor, 'sve', param)})"
    )
    if not actor.is_organisation:
        return f"({public} OR {speaks})"
    organisation = param(actor.organisation_id)
    return (
        f"({public} OR {alias}.organisation_id = {organisation} "
        f"OR {organised_volunteers_sql(alias, organisation)} OR {speaks})"
    )


def visible_participations_sql(actor: Actor, alias: str, param: Callable[[object], str]) -> str | None:
    """The rule for the participation row ``alias`` in an exchange the actor may see (the
    caller checks that, see visible_exchanges_sql); None: no condition. A NO_SHOW is shown to
    the exchange's host only (no-shows are visible to hosts only)."""
    if actor.is_admin:
        return None
    if not actor.is_organisation:
        return (
            f"(EXISTS (SELECT 1 FROM volunteer pv WHERE pv.id = {alias}.volunteer_id AND pv.public_profile) "  # noqa: S608
            f"AND {alias}.status <> '{ParticipationStatus.NO_SHOW.value}')"
        )
    organisation = param(actor.organisation_id)
    return (
        "((EXISTS (SELECT 1 FROM volunteer pv WHERE pv.id = "  # noqa: S608
        f"{alias}.volunteer_id AND (pv.public_profile OR pv.organisation_id = {organisation})) "
        f"OR EXISTS (SELECT 1 FROM exchange pe WHERE pe.id = {alias}.exchange_id "
        f"AND {_organises_sql('pe', organisation)})) "
        f"AND ({alias}.status <> '{ParticipationStatus.NO_SHOW.value}' OR EXISTS (SELECT 1 FROM exchange "
        f"pne WHERE pne.id = {alias}.exchange_id AND pne.host_id = {organisation})))"
    )


def sees_exact_counts(actor: Actor, host_id: int, partner_ids: frozenset[int]) -> bool:
    """Full rights over an exchange's people: its organisers and admins see every participant,
    so their aggregates need no small-count rule."""
    return actor.is_admin or is_organiser(actor, host_id, partner_ids)


def exact_counts_sql(actor: Actor, exchange_alias: str, param: Callable[[object], str]) -> str:
    """sees_exact_counts as an SQL condition over the exchange row ``exchange_alias`` (for
    aggregates over many exchanges, which split their rows by it in the database)."""
    if actor.is_admin:
        return "1 = 1"
    if not actor.is_organisation:
        return "1 = 0"
    return _organises_sql(exchange_alias, param(actor.organisation_id))


# Fewer people than this in a bucket of an aggregate could single someone out.
SMALL_COUNT = 3


def small_counts_merged(counts: Mapping[K, int], merged: int = 0) -> tuple[dict[K, int], int]:
    """The one small-count rule, for every aggregate a caller without full rights sees: the
    buckets of at least SMALL_COUNT people, and the sum of the others ("other", 0 if none).

    ``merged`` is people already merged before ``counts`` were added up (statistics merge
    small buckets per exchange first, so no filter isolates one exchange's person); they are
    part of "other" and of everybody together below.

    "Other" is never 1 or 2 people itself: a lone small bucket merged alone would be shown
    as it is, so the smallest kept bucket joins it; and when everybody together is fewer
    than SMALL_COUNT, nothing is shown at all."""
    kept = {bucket: count for bucket, count in counts.items() if count >= SMALL_COUNT}
    other = merged + sum(count for count in counts.values() if 0 < count < SMALL_COUNT)
    if 0 < other < SMALL_COUNT and kept:
        smallest = min(kept, key=lambda bucket: (kept[bucket], str(bucket)))
        other += kept.pop(smallest)
    if other < SMALL_COUNT:
        other = 0
    return kept, other


# ---------------------------------------------------------------- naming and editing people
# Beside the people rule: whom an organisation may name (as a speaker or a participant) and
# whose record it may edit. Naming is narrower than seeing: a speaker of someone else's
# published session is seen by everyone, named only by those the rule below lets.


def nameable_volunteers_sql(actor: Actor, alias: str, param: Callable[[object], str]) -> str | None:
    """The naming rule as SQL over the volunteer row ``alias`` (None: any volunteer): an
    organisation names as speakers or participants the volunteers it sends, those of the
    exchanges it hosts or co-organises (participants, invitees who accepted) and those with a
    public profile; an admin names anyone; other callers nobody."""
    if actor.is_admin:
        return None
    if not actor.is_organisation:
        return "1 = 0"
    organisation = param(actor.organisation_id)
    return (
        f"({alias}.public_profile OR {alias}.organisation_id = {organisation} "
        f"OR {organised_volunteers_sql(alias, organisation)})"
    )


def can_edit_volunteer(actor: Actor, volunteer_organisation_id: int | None) -> bool:
    """A volunteer's record is edited by the organisation that sends them, or an admin."""
    return actor.is_admin or (
        actor.is_organisation
        and volunteer_organisation_id is not None
        and volunteer_organisation_id == actor.organisation_id
    )


def require_edit_volunteer(actor: Actor, volunteer_organisation_id: int | None) -> None:
    require_writer(actor)
    if not can_edit_volunteer(actor, volunteer_organisation_id):
        raise forbidden("Only the volunteer's sending organisation (or an admin) may edit this volunteer.")


# ---------------------------------------------------------------- roster and attendance
# Who moves volunteers between senders, and who learns of no-shows.


def require_move_volunteer(actor: Actor) -> None:
    """Changing which organisation sends a volunteer is an admin's act: an organisation would
    otherwise hand its people to another, or take another's."""
    if not actor.is_admin:
        raise forbidden("Only a platform admin may change a volunteer's sending organisation.")


def can_see_no_shows(actor: Actor, hosts_an_exchange_of_theirs: bool) -> bool:
    """No-shows are shown to hosts only: an admin, or an organisation hosting an exchange the
    volunteer takes part in (``hosts_an_exchange_of_theirs``, looked up for the actor)."""
    return actor.is_admin or (actor.is_organisation and hosts_an_exchange_of_theirs)


def participation_event_audience(
    host_id: int, partner_ids: frozenset[int], *statuses: ParticipationStatus | None
) -> frozenset[int]:
    """Who hears a participation event: the exchange's organisers, like invitation events;
    only its host when the change shows a no-show (before or after), as reads do."""
    if ParticipationStatus.NO_SHOW in statuses:
        return frozenset({host_id})
    return organiser_ids(host_id, partner_ids)


def exchange_host_for(actor: Actor, requested_host_id: int | None) -> int:
    """Which organisation hosts a new exchange: an organisation key hosts its own; an admin
    acts for a host and must name it."""
    require_writer(actor)
    if actor.is_admin:
        if requested_host_id is None:
            raise DomainError(
                ErrorCode.INVALID, "An admin key belongs to no organisation: give hostId.", ["hostId"]
            )
        return requested_host_id
    assert actor.organisation_id is not None
    if requested_host_id is not None and requested_host_id != actor.organisation_id:
        raise forbidden("An organisation key creates exchanges for its own organisation only.")
    return actor.organisation_id


def volunteer_organisation_for(actor: Actor, requested_organisation_id: int | None) -> int | None:
    """The sending organisation of a volunteer being registered: an organisation key
    registers for itself; an admin for any organisation or none."""
    require_writer(actor)
    if actor.is_admin:
        return requested_organisation_id
    if requested_organisation_id is not None and requested_organisation_id != actor.organisation_id:
        raise forbidden("An organisation key registers volunteers for its own organisation only.")
    return actor.organisation_id


def volunteer_email_known_without_lookup(actor: Actor, volunteer_organisation_id: int | None) -> bool | None:
    """can_see_volunteer_email when it does not depend on the actor's exchanges: True or
    False, or None when only the "organised by the actor" lookup can tell."""
    if can_see_volunteer_email(actor, volunteer_organisation_id, organised_by_actor=False):
        return True
    if not can_see_volunteer_email(actor, volunteer_organisation_id, organised_by_actor=True):
        return False
    return None


def can_add_session(actor: Actor, host_id: int) -> bool:
    return can_manage_exchange(actor, host_id)


def require_add_session(actor: Actor, host_id: int) -> None:
    require_writer(actor)
    if not can_add_session(actor, host_id):
        raise forbidden("Only the exchange's host organisation may add sessions.")


# ---------------------------------------------------------------- live updates and webhooks


def can_hear_invitation_event(actor: Actor, organiser_ids: frozenset[int]) -> bool:
    """Invitation events reach an admin, or the host or a partner organisation of the
    exchange as it was organised when the event happened."""
    return actor.is_admin or (actor.is_organisation and actor.organisation_id in organiser_ids)


def invitation_event_scope(actor: Actor, only_organisation: int | None) -> int | None:
    """The organisation a subscription is indexed under, so an event only visits its
    audience: an organisation's own, or the one an admin narrowed to (None: every event)."""
    return only_organisation if actor.is_admin else actor.organisation_id


def can_subscribe_to_participations(actor: Actor) -> bool:
    return actor.is_admin or actor.is_organisation


def require_subscribe_to_participations(actor: Actor) -> None:
    require_authenticated(actor)
    if not can_subscribe_to_participations(actor):
        raise forbidden("Participation updates need an organisation or admin key.")


def require_subscribe_to_invitations(actor: Actor) -> None:
    require_authenticated(actor)
    if not can_subscribe_to_invitations(actor):
        raise forbidden("Invitation updates need an organisation or admin key.")


def webhook_owner_for(actor: Actor, requested_organisation_id: int | None) -> int:
    """The organisation whose webhook endpoints are managed: an organisation key manages its
    own; an admin names one."""
    require_writer(actor)
    if actor.is_admin:
        if requested_organisation_id is None:
            # A missing argument, not a refusal: the same as createExchange without hostId.
            raise DomainError(
                ErrorCode.INVALID,
                "An admin key belongs to no organisation: give organisationId.",
                ["organisationId"],
            )
        return requested_organisation_id
    if requested_organisation_id is not None and requested_organisation_id != actor.organisation_id:
        raise forbidden("An organisation key manages its own webhook endpoints only.")
    assert actor.organisation_id is not None
    return actor.organisation_id


def can_manage_webhooks(actor: Actor, organisation_id: int) -> bool:
    return actor.is_admin or (actor.is_organisation and actor.organisation_id == organisation_id)


# ---------------------------------------------------------------- outcomes and experience reports


def require_record_outcomes(actor: Actor, host_id: int) -> None:
    """Outcomes are the host's record (partners read them); an admin acts for the host."""
    require_writer(actor)
    if not can_manage_exchange(actor, host_id):
        raise forbidden("Only the exchange's host organisation records its outcomes.")


def report_author_kind(actor: Actor, host_id: int, partner_ids: frozenset[int]) -> ReportAuthorKind:
    """What an API key writes a report as: the exchange's host or one of its partners.
    Participants write through their invitation link; admins moderate but write none (they
    speak for no organisation)."""
    require_writer(actor)
    if actor.is_organisation and actor.organisation_id == host_id:
        return ReportAuthorKind.HOST
    if is_organiser(actor, host_id, partner_ids):
        return ReportAuthorKind.PARTNER
    raise forbidden(
        "Reports are written by the exchange's host, its partners, or its participants through "
        "their invitation link."
    )


def can_see_report(actor: Actor, status: ReportStatus, host_id: int, partner_ids: frozenset[int]) -> bool:
    """A published report is seen by whoever sees its exchange (checked apart, as for every
    read of the exchange); one submitted or rejected only by the exchange's organisers (whose
    keys wrote theirs) and admins. A participant reads their own through their link."""
    return status is ReportStatus.PUBLISHED or actor.is_admin or is_organiser(actor, host_id, partner_ids)


def visible_reports_sql(
    actor: Actor, report_alias: str, exchange_alias: str, param: Callable[[object], str]
) -> str | None:
    """can_see_report as SQL over the report row and its exchange's row (None: no condition);
    the caller adds visible_exchanges_sql for the exchange."""
    if actor.is_admin:
        return None
    published = f"{report_alias}.status = {param(ReportStatus.PUBLISHED.value)}"
    if not actor.is_organisation:
        return published
    organisation = param(actor.organisation_id)
    return (
        f"({published} OR {exchange_alias}.host_id = {organisation} OR EXISTS (SELECT 1 FROM "  # noqa: S608
        f"exchange_partner rp WHERE rp.exchange_id = {exchange_alias}.id AND rp.organisation_id = {organisation}))"
    )


def require_moderate_report(actor: Actor, host_id: int) -> None:
    """The host publishes or rejects the reports on its exchange (its own included); a
    platform admin may too."""
    require_writer(actor)
    if not can_manage_exchange(actor, host_id):
        raise forbidden(
            "Only the exchange's host organisation (or a platform admin) publishes or rejects its reports."
        )
