"""Experience reports: what an exchange's host, partners and participants learned, written
once it is completed (exchange.schedule's definition) and public once its host publishes it.

- The host and its partners write with their API keys; a participant writes through their
  invitation link (the token is the credential, as for answering; one report per link), after
  accepting and while holding a place (CONFIRMED or ATTENDED).
- A report starts SUBMITTED, except the host's own, which its writer has already approved:
  PUBLISHED at once. The host (or a platform admin) publishes or rejects the others, and may
  change its mind (take a published report down, publish a rejected one).
- Who sees what (exchange.access): a published report, whoever sees its exchange; others the
  exchange's organisers and admins; the participant who wrote one sees it on their link's page.
- Bodies and lessons are Markdown, stored as written; exchange.markdown renders them safely.
- Search folds text as exchange search does (exchange.i18n.fold over a stored column).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from exchange import access
from exchange.access import Actor
from exchange.errors import DomainError, ErrorCode, Problems, not_found
from exchange.exchanges import partner_ids_of, sees_exchange
from exchange.i18n import fold
from exchange.invitations.common import effective_status, utcnow
from exchange.invitations.respond import find_by_token
from exchange.models import (
    Exchange,
    ExchangeStatus,
    ExperienceReport,
    Invitation,
    InvitationStatus,
    Participation,
    ParticipationStatus,
    ReportAuthorKind,
    ReportStatus,
    Session,
    Theme,
    Volunteer,
)
from exchange.rows import instances
from exchange.schedule import schedule_of
from exchange.sql import PageWindow, Statement, json_list_holds_any, select_list, text_contains
from exchange.validation import LocalizedText, localized_map, search_text

TITLE_MAX = 300
BODY_MAX = 20_000
LESSON_MAX = 5_000
PHOTOS_MAX = 10
PHOTO_URL_MAX = 500
NOTE_MAX = 1_000
# Participants who may write: those holding a place (not withdrawn, not a no-show).
WRITING_PARTICIPATIONS = (ParticipationStatus.CONFIRMED, ParticipationStatus.ATTENDED)
# What erasure leaves where the person's name or address stood in their report.
ERASED_MARK = "[…]"


class Decision(StrEnum):
    PUBLISH = "PUBLISH"
    REJECT = "REJECT"


@dataclass(frozen=True)
class NewReport:
    titles: Sequence[LocalizedText]
    bodies: Sequence[LocalizedText]
    what_worked: Sequence[LocalizedText] | None = None
    what_to_change: Sequence[LocalizedText] | None = None
    photos: Sequence[str] = ()


@dataclass(frozen=True)
class ReportFilter:
    search: str | None = None
    theme: Theme | None = None
    country: str | None = None
    # Any of these goals of the report's exchange (validated by the caller); empty: any.
    sdgs: Sequence[int] = ()
    # Reports on exchanges this organisation hosts or co-organises.
    organisation_id: int | None = None
    exchange_id: int | None = None
    status: ReportStatus | None = None


@dataclass
class ReportPage:
    nodes: list[ExperienceReport]
    start: int
    total: int


# ---------------------------------------------------------------- validation


def _check_photos(problems: Problems, photos: Sequence[str]) -> list[str]:
    if len(photos) > PHOTOS_MAX:
        problems.invalid(f"A report links at most {PHOTOS_MAX} photos.", "photos")
    kept: list[str] = []
    for index, url in enumerate(photos):
        url = url.strip()
        if len(url) > PHOTO_URL_MAX:
            problems.invalid(f"A photo link is at most {PHOTO_URL_MAX} characters.", "photos", index)
            continue
        try:
            parts = urlsplit(url)
            port_ok = parts.port is None or parts.port > 0
        except ValueError:  # an unclosed "[" of an IPv6 host, or a port out of range
            parts, port_ok = None, False
        if (
            parts is None
            or not port_ok
            or parts.scheme != "https"
            or not parts.hostname
            or parts.username is not None
            or any(c.isspace() or not c.isprintable() for c in url)
        ):
            problems.invalid("A photo is an https:// link to where it is published.", "photos", index)
        elif url not in kept:
            kept.append(url)
    return kept


def _validated(problems: Problems, report: NewReport) -> dict[str, Any]:
    titles = localized_map(problems, report.titles, "titles", required=True, max_length=TITLE_MAX)
    bodies = localized_map(problems, report.bodies, "bodies", required=True, max_length=BODY_MAX)
    worked = localized_map(problems, report.what_worked, "whatWorked", required=False, max_length=LESSON_MAX)
    change = localized_map(
        problems, report.what_to_change, "whatToChange", required=False, max_length=LESSON_MAX
    )
    return {
        "titles": titles,
        "bodies": bodies,
        "what_worked": worked,
        "what_to_change": change,
        "photos": _check_photos(problems, report.photos),
        "search_text": search_text(titles, bodies, worked, change),
    }


async def _require_completed(exchange: Exchange, now: datetime) -> None:
    if exchange.status is ExchangeStatus.CANCELLED:
        raise DomainError(ErrorCode.INVALID, "A cancelled exchange takes no reports.", ["exchangeId"])
    schedule = schedule_of(exchange, await Session.filter(exchange_id=exchange.id))
    if not schedule.is_completed(now):
        raise DomainError(
            ErrorCode.INVALID,
            "Reports are written once the exchange is completed: it ends "
            f"{schedule.ends_at_local:%Y-%m-%d %H:%M} ({exchange.time_zone}).",
            ["exchangeId"],
        )


# ---------------------------------------------------------------- writing


async def submit_report(
    actor: Actor, exchange_id: int, report: NewReport, now: datetime | None = None
) -> ExperienceReport:
    """A report by the exchange's host (published at once) or one of its partners (submitted)."""
    access.require_writer(actor)
    exchange = await Exchange.get_or_none(id=exchange_id)
    if exchange is None:
        raise not_found("ExperienceExchange", ["exchangeId"])
    # Loaded once for both questions: the author's kind needs them (unless the host asks), and
    # the visibility rule too when a partner writes on a draft.
    partners = await partner_ids_of(exchange.id)
    if not await sees_exchange(actor, exchange, partners):
        raise not_found("ExperienceExchange", ["exchangeId"])
    kind = access.report_author_kind(actor, exchange.host_id, partners)
    now = now or utcnow()
    problems = Problems()
    values = _validated(problems, report)
    await _require_completed(exchange, now)
    problems.raise_if_any()
    published = kind is ReportAuthorKind.HOST
    return await ExperienceReport.create(
        exchange_id=exchange.id,
        author_kind=kind,
        author_organisation_id=actor.organisation_id,
        status=ReportStatus.PUBLISHED if published else ReportStatus.SUBMITTED,
        submitted_at=now,
        moderated_at=now if published else None,
        moderated_by_id=actor.organisation_id if published else None,
        published_at=now if published else None,
        **values,
    )


def _unknown_link() -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, "This invitation link is not valid.", ["invitationToken"])


async def participant_of(invitation: Invitation, now: datetime | None = None) -> Participation | None:
    """The place an accepted invitee holds in the exchange, if they hold one."""
    if effective_status(invitation, now) is not InvitationStatus.ACCEPTED or invitation.volunteer_id is None:
        return None
    return await Participation.get_or_none(
        exchange_id=invitation.exchange_id,
        volunteer_id=invitation.volunteer_id,
        status__in=list(WRITING_PARTICIPATIONS),
    )


def exchange_needed() -> DomainError:
    return DomainError(
        ErrorCode.INVALID, "Name the exchange (or give a participant's invitationToken).", ["exchangeId"]
    )


async def submit_participant_report(
    token: str, report: NewReport, *, exchange_id: int | None = None, now: datetime | None = None
) -> ExperienceReport:
    """A participant's report, authorised by their invitation link alone; one per link.
    ``exchange_id``, when given, must be the invitation's exchange."""
    invitation = await find_by_token(token)
    if invitation is None:
        raise _unknown_link()
    if exchange_id is not None and exchange_id != invitation.exchange_id:
        raise DomainError(ErrorCode.INVALID, "This invitation is to another exchange.", ["exchangeId"])
    now = now or utcnow()
    if effective_status(invitation, now) is InvitationStatus.REVOKED:
        raise DomainError(ErrorCode.REVOKED, "This invitation was revoked.", ["invitationToken"])
    if await participant_of(invitation, now) is None:
        raise DomainError(
            ErrorCode.INVALID,
            "Reports are written by the exchange's participants: this invitation holds no place in it.",
            ["invitationToken"],
        )
    problems = Problems()
    values = _validated(problems, report)
    exchange = await Exchange.get(id=invitation.exchange_id)
    await _require_completed(exchange, now)
    problems.raise_if_any()
    volunteer = await Volunteer.get(id=invitation.volunteer_id)
    try:
        async with in_transaction():
            # The link's row lock orders two submissions through it: the second sees the first.
            await Invitation.filter(id=invitation.id).select_for_update().get()
            if await ExperienceReport.filter(author_invitation_id=invitation.id).exists():
                raise _already_written()
            return await ExperienceReport.create(
                exchange_id=exchange.id,
                author_kind=ReportAuthorKind.PARTICIPANT,
                author_organisation_id=volunteer.organisation_id,
                author_volunteer_id=volunteer.id,
                author_invitation_id=invitation.id,
                status=ReportStatus.SUBMITTED,
                submitted_at=now,
                **values,
            )
    except IntegrityError:
        raise _already_written() from None  # the unique link column, should the lock be absent


def _already_written() -> DomainError:
    return DomainError(
        ErrorCode.CONFLICT, "A report was already written through this invitation link.", ["invitationToken"]
    )


async def moderate_report(
    actor: Actor, report_id: int, decision: Decision, note: str | None = None, now: datetime | None = None
) -> ExperienceReport:
    """Publish or reject a report: the exchange's host or a platform admin."""
    access.require_writer(actor)
    report = await visible_report(actor, report_id)
    if report is None:
        raise not_found("ExperienceReport", ["id"])
    exchange = await Exchange.get(id=report.exchange_id)
    access.require_moderate_report(actor, exchange.host_id)
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise DomainError(ErrorCode.INVALID, f"The note is longer than {NOTE_MAX} characters.", ["note"])
    target = ReportStatus.PUBLISHED if decision is Decision.PUBLISH else ReportStatus.REJECTED
    now = now or utcnow()
    async with in_transaction():
        locked = await ExperienceReport.filter(id=report.id).select_for_update().get()
        if locked.status is target:
            raise DomainError(
                ErrorCode.INVALID, f"The report is already {target.value.lower()}.", ["decision"]
            )
        await ExperienceReport.filter(id=report.id).update(
            status=target,
            moderated_at=now,
            moderated_by_id=actor.organisation_id if actor.is_organisation else None,
            moderation_note=note,
            published_at=now if target is ReportStatus.PUBLISHED else None,
        )
    return await ExperienceReport.get(id=report.id)


# ---------------------------------------------------------------- reading


def _conditions(actor: Actor, criteria: ReportFilter | None, statement: Statement) -> list[str]:
    """SQL over the report ``r`` and its exchange ``e``: what the actor may see, then the filter."""
    conditions = [
        condition
        for condition in (
            access.visible_exchanges_sql(actor, "e", statement.param),
            access.visible_reports_sql(actor, "r", "e", statement.param),
        )
        if condition is not None
    ]
    if criteria is None:
        return conditions
    if criteria.search is not None and (needle := fold(criteria.search)):
        conditions.append(text_contains(statement, "r.search_text", needle))
    if criteria.theme is not None:
        conditions.append(f"e.theme = {statement.param(criteria.theme.value)}")
    if criteria.country is not None:
        conditions.append(f"e.country = {statement.param(criteria.country)}")
    if criteria.sdgs:
        conditions.append(json_list_holds_any(statement, "e.sdgs", criteria.sdgs))
    if criteria.organisation_id is not None:
        organisation = statement.param(criteria.organisation_id)
        conditions.append(
            f"(e.host_id = {organisation} OR EXISTS (SELECT 1 FROM exchange_partner fp "  # noqa: S608
            f"WHERE fp.exchange_id = e.id AND fp.organisation_id = {organisation}))"
        )
    if criteria.exchange_id is not None:
        conditions.append(f"r.exchange_id = {statement.param(criteria.exchange_id)}")
    if criteria.status is not None:
        conditions.append(f"r.status = {statement.param(criteria.status.value)}")
    return conditions


async def page_reports(
    actor: Actor, criteria: ReportFilter | None, page: PageWindow, columns: Iterable[str] | None = None
) -> ReportPage:
    """The reports the actor may see, filtered, newest first: one COUNT and one page."""
    statement = Statement()
    conditions = _conditions(actor, criteria, statement)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    joined = f"FROM experience_report r JOIN exchange e ON e.id = r.exchange_id{where}"
    [count_row] = await statement.fetch_rows(f"SELECT COUNT(*) AS total {joined}")
    total = int(count_row[0])
    start, end = page.window(total)
    if end <= start:
        return ReportPage([], start, total)
    rows = await statement.fetch_rows(
        f"SELECT {select_list('r', columns)} {joined} ORDER BY r.id DESC "
        f"LIMIT {statement.param(end - start)} OFFSET {statement.param(start)}"
    )
    return ReportPage(instances(ExperienceReport, rows), start, total)


async def visible_reports(actor: Actor, report_ids: Sequence[int]) -> list[ExperienceReport]:
    """The reports with these ids that the actor may see (others left out): one statement."""
    statement = Statement()
    conditions = [statement.is_in("r.id", report_ids), *_conditions(actor, None, statement)]
    rows = await statement.fetch_rows(
        "SELECT r.* FROM experience_report r JOIN exchange e ON e.id = r.exchange_id "  # noqa: S608
        f"WHERE {' AND '.join(conditions)}"
    )
    return instances(ExperienceReport, rows)


async def visible_report(actor: Actor, report_id: int) -> ExperienceReport | None:
    found = await visible_reports(actor, [report_id])
    return found[0] if found else None


async def report_of_invitation(invitation_id: int) -> ExperienceReport | None:
    """The report written through an invitation link (its author's own view)."""
    return await ExperienceReport.get_or_none(author_invitation_id=invitation_id)


# ---------------------------------------------------------------- erasure


def _redacted(texts: dict[str, str], needles: Sequence[str]) -> dict[str, str]:
    if not needles:
        return dict(texts)
    pattern = re.compile("|".join(re.escape(needle) for needle in needles), re.IGNORECASE)
    return {locale: pattern.sub(ERASED_MARK, text) for locale, text in texts.items()}


async def anonymise_authors(
    volunteer_ids: Sequence[int],
    invitation_ids: Sequence[int],
    names: Iterable[str],
    addresses: Iterable[str],
) -> int:
    """Erasure's part (exchange.privacy, inside its transaction): the person's reports stay,
    for what they teach, but no longer lead to them. The link to the volunteer and the
    invitation goes, their names and addresses are taken out of the texts, and the photos go
    (they may show the person). Returns how many reports were changed."""
    who = Q(author_volunteer_id__in=list(volunteer_ids)) | Q(author_invitation_id__in=list(invitation_ids))
    reports = await ExperienceReport.filter(who).select_for_update().order_by("id")
    # Longest first, so a full name is taken out before a part of it.
    needles = sorted({n.strip() for n in (*names, *addresses) if n.strip()}, key=len, reverse=True)
    for report in reports:
        report.titles = _redacted(report.titles, needles)
        report.bodies = _redacted(report.bodies, needles)
        report.what_worked = _redacted(report.what_worked, needles)
        report.what_to_change = _redacted(report.what_to_change, needles)
        report.photos = []
        report.search_text = search_text(
            report.titles, report.bodies, report.what_worked, report.what_to_change
        )
        report.author_volunteer_id = None
        report.author_invitation_id = None
        await report.save(
            update_fields=[
                "titles",
                "bodies",
                "what_worked",
                "what_to_change",
                "photos",
                "search_text",
                "author_volunteer_id",
                "author_invitation_id",
            ]
        )
    return len(reports)


async def reports_by_authors(
    volunteer_ids: Sequence[int], invitation_ids: Sequence[int]
) -> list[ExperienceReport]:
    """The person's reports (for their data export)."""
    if not (volunteer_ids or invitation_ids):
        return []
    who = Q(author_volunteer_id__in=list(volunteer_ids)) | Q(author_invitation_id__in=list(invitation_ids))
    return list(await ExperienceReport.filter(who).order_by("id"))
