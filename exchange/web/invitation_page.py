"""The page an invitation link opens: /invitations/{token}.

GET only shows (mail scanners and link previews fetch links; a fetch must never answer for
the volunteer). Accept and Decline are POSTed forms with a double-submit CSRF token bound to
this invitation (exchange.web.pages). Works without JavaScript; every value is escaped by Jinja2's autoescape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from exchange import notice
from exchange.errors import DomainError, ErrorCode
from exchange.i18n import pick_text
from exchange.invitations.common import OPEN_STATUSES, effective_status, utcnow
from exchange.invitations.manage import sessions_by_invitation
from exchange.invitations.respond import Response as Answer
from exchange.invitations.respond import find_by_token, respond
from exchange.invitations.waitlist import anyone_waiting, free_places
from exchange.invitations.waitlist import positions as waitlist_positions
from exchange.models import (
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    Organisation,
    SessionFormat,
)
from exchange.schedule import schedule_for
from exchange.settings import Settings
from exchange.venue_time import date_span, session_when, utc_offset
from exchange.web.calendar_feeds import personal_feed_urls
from exchange.web.pages import (
    choose_language,
    csrf_for,
    form_csrf_ok,
    form_language,
    html_response,
    set_csrf_cookie,
    stylesheet_route,
    templates,
)
from exchange.web.report_link import report_link
from exchange.web.texts import LANGUAGE_NAMES, TEXTS

# The form's checkbox for Volunteer.public_profile ("yes" when ticked).
PUBLIC_PROFILE_FIELD = "public_profile"

_ERROR_RESULTS = {
    ErrorCode.EXPIRED: "expired",
    ErrorCode.REVOKED: "revoked",
    ErrorCode.ALREADY_RESPONDED: "already",
    ErrorCode.CAPACITY_REACHED: "capacity",
}
# The page's words after an answer, by the invitation's status then.
_ANSWERED = {
    InvitationStatus.ACCEPTED: "accepted",
    InvitationStatus.DECLINED: "declined",
    InvitationStatus.WAITLISTED: "waitlisted",
    InvitationStatus.OFFERED: "offered",
    InvitationStatus.WITHDRAWN: "withdrawn",
}

# ---------------------------------------------------------------- rendering


@dataclass(frozen=True)
class SessionLine:
    title: str
    when: str
    where: str | None
    cancelled: bool
    # The mail gives the call's link; the page must too (the invitee may only have the page).
    online_url: str | None = None


def _privacy(lang: str, organisation: str, contact: str | None) -> dict[str, Any]:
    """The privacy notice's section, in the page's language."""
    words = notice.NOTICE[lang]
    return {
        "anchor": notice.ANCHOR,
        "heading": words["heading"],
        "parts": [
            (words["stored_title"], words["stored"].format(organisation=organisation)),
            (words["seen_title"], words["seen"].format(organisation=organisation)),
            (words["kept_title"], words["kept"]),
            (words["rights_title"], notice.rights_html(lang, contact, organisation)),
        ],
        "public_profile": words["public_profile"],
        "public_profile_hint": words["public_profile_hint"],
        # The version is one unbreakable word: "2026-" and "12" on two lines read as two things.
        "consent": escape(words["consent"]).format(
            version=Markup('<span class="version">{}</span>').format(notice.NOTICE_VERSION)
        ),
    }


async def _page_context(
    invitation: Invitation, lang: str, t: dict[str, str], settings: Settings
) -> dict[str, Any]:
    exchange = await Exchange.get(id=invitation.exchange_id)
    organisation = await Organisation.get(id=invitation.invited_by_id)
    zone = ZoneInfo(exchange.time_zone)
    sessions = (await sessions_by_invitation([invitation.id]))[invitation.id]
    lines = []
    for session in sessions:
        where = t["online"] if session.format is SessionFormat.ONLINE else session.venue
        lines.append(
            SessionLine(
                title=pick_text(session.titles, [lang]) or "",
                when=session_when(session.starts_at, session.ends_at, zone, lang, date_format="full"),
                where=where,
                cancelled=session.cancelled_at is not None,
                online_url=session.online_url if session.format is not SessionFormat.IN_PERSON else None,
            )
        )
    now = utcnow()
    status = effective_status(invitation, now)
    # No place for a newcomer: every one held or offered, or others wait for one already.
    free = await free_places(exchange, now)
    full = free == 0 or (free is not None and await anyone_waiting(exchange.id))
    joins_waitlist = full and exchange.waitlist and status in OPEN_STATUSES
    offer_lapsed = invitation.status is InvitationStatus.OFFERED and status is InvitationStatus.EXPIRED
    locale = Locale.parse(lang)
    place = ", ".join(part for part in (exchange.city, locale.territories.get(exchange.country)) if part)
    opens = datetime.combine(exchange.starts_on, datetime.min.time(), tzinfo=zone)
    closes = datetime.combine(exchange.ends_on, datetime.max.time(), tzinfo=zone)
    # Session times on the page carry no offset: an exchange across a clock change names both.
    offsets = dict.fromkeys((utc_offset(zone, opens), utc_offset(zone, closes)))
    organisation_name = pick_text(organisation.names, [lang]) or organisation.slug
    return {
        "title": pick_text(exchange.titles, [lang]) or exchange.slug,
        "description": pick_text(exchange.descriptions, [lang]),
        "organisation": organisation_name,
        "name": invitation.full_name,
        "dates": date_span(exchange.starts_on, exchange.ends_on, lang),
        "place": place,
        "time_zone": f"{exchange.time_zone} ({' / '.join(offsets)})",
        "sessions": lines,
        "message": invitation.message,
        "status": status.value,
        "status_label": t[f"status_{status.value}"],
        # Day and minute are what a person needs; seconds and a raw offset only confuse.
        "answer_by": (
            f"{format_date(invitation.expires_at.astimezone(zone).date(), 'long', locale=lang)}, "
            f"{format_time(invitation.expires_at, 'short', tzinfo=zone, locale=lang)}"
        ),
        # Which answers the page offers: the service decides in the end, this only avoids
        # showing buttons that can only fail.
        "can_accept": exchange.status is ExchangeStatus.OPEN
        and (
            (status in OPEN_STATUSES and (not full or joins_waitlist)) or status is InvitationStatus.OFFERED
        ),
        "full": full,
        "can_decline": status in (*OPEN_STATUSES, *_WAITING, InvitationStatus.EXPIRED) and not offer_lapsed,
        "joins_waitlist": joins_waitlist,
        "offer_lapsed": offer_lapsed,
        **await _after_yes(invitation, exchange, status, zone, lang, now),
        "exchange_open": exchange.status is ExchangeStatus.OPEN,
        "privacy": _privacy(
            lang, organisation_name, notice.contact_for(settings.privacy_contact, organisation.contact_email)
        ),
    }


_WAITING = (InvitationStatus.WAITLISTED, InvitationStatus.OFFERED)


def _local_moment(at: datetime, zone: ZoneInfo, lang: str) -> str:
    return f"{format_date(at.astimezone(zone).date(), 'long', locale=lang)}, {format_time(at, 'short', tzinfo=zone, locale=lang)}"


async def _after_yes(
    invitation: Invitation,
    exchange: Exchange,
    status: InvitationStatus,
    zone: ZoneInfo,
    lang: str,
    now: datetime,
) -> dict[str, Any]:
    """The page's part for the waiting list (the place on it, an offer's deadline) and for
    withdrawing an accepted place (until the exchange starts, exchange.schedule)."""
    position = None
    if status is InvitationStatus.WAITLISTED:
        position = (await waitlist_positions([invitation.id])).get(invitation.id)
    claim_by = None
    if status is InvitationStatus.OFFERED and invitation.offer_expires_at is not None:
        claim_by = _local_moment(invitation.offer_expires_at, zone, lang)
    starts_at = None
    can_withdraw = False
    if status is InvitationStatus.ACCEPTED and exchange.status is not ExchangeStatus.CANCELLED:
        schedule = await schedule_for(exchange)
        starts_at = _local_moment(schedule.starts_at, zone, lang)
        can_withdraw = not schedule.has_started(now)
    return {
        "waitlist_position": position,
        "claim_by": claim_by,
        "starts_at": starts_at,
        "can_withdraw": can_withdraw,
        "withdraw_closed": starts_at is not None and not can_withdraw,
    }


def _not_found(lang: str) -> HTMLResponse:
    t = TEXTS[lang]
    body = templates.get_template("not_found.html").render(
        lang=lang, t=t, languages=LANGUAGE_NAMES, switch_url=None
    )
    return html_response(body, 404)


async def _render(
    request: Request,
    settings: Settings,
    invitation: Invitation,
    token: str,
    lang: str,
    *,
    result: str | None = None,
    status_code: int = 200,
    chosen: str | None = None,
    public_profile: bool = False,
) -> HTMLResponse:
    t = TEXTS[lang]
    csrf = csrf_for(request, settings, invitation)
    context = await _page_context(invitation, lang, t, settings)
    # A revoked link has no feed (404): no link to it.
    calendar_url, webcal_url = (
        personal_feed_urls(settings, token, lang) if context["status"] != "REVOKED" else (None, None)
    )
    # Once the exchange is completed, a participant is asked for an experience report.
    report = await report_link(invitation, await Exchange.get(id=invitation.exchange_id), token, lang)
    body = templates.get_template("invitation.html").render(
        lang=lang,
        t=t,
        languages=LANGUAGE_NAMES,
        switch_url=f"/invitations/{token}",
        # Switching language keeps the answer the mail's button asked to confirm.
        switch_extra=f"&response={chosen.lower()}" if chosen else "",
        action=f"/invitations/{token}",
        csrf=csrf,
        result=result,
        result_text=t[f"result_{result}"] if result else None,
        chosen=chosen,
        # A page shown again (stale form, a refused answer) keeps the box as it was ticked.
        public_profile_checked=public_profile,
        calendar_url=calendar_url,
        webcal_url=webcal_url,
        report=report,
        **context,
    )
    response = html_response(body, status_code)
    set_csrf_cookie(response, request, settings, token, csrf)
    return response


_CHOICES = {"accept": Answer.ACCEPT.value, "decline": Answer.DECLINE.value, "withdraw": Answer.WITHDRAW.value}


def routes(settings: Settings) -> list[Route]:
    async def show(request: Request) -> Response:
        token = request.path_params["token"]
        invitation = await find_by_token(token)
        if invitation is None:
            return _not_found(choose_language(request, request.query_params.get("lang"), "en"))
        lang = choose_language(request, request.query_params.get("lang"), invitation.locale)
        # The mail's Accept/Decline buttons link here with ?response=: GET never answers, so
        # the page asks to confirm that answer (its button focused) instead of ignoring it.
        chosen = _CHOICES.get(request.query_params.get("response", "").lower())
        return await _render(request, settings, invitation, token, lang, chosen=chosen)

    async def answer(request: Request) -> Response:
        token = request.path_params["token"]
        form = await request.form()
        invitation = await find_by_token(token)
        if invitation is None:
            return _not_found(form_language(request, form, "en"))
        lang = form_language(request, form, invitation.locale)
        # An unticked box sends nothing: no public profile unless the volunteer asks for one.
        public_profile = form.get(PUBLIC_PROFILE_FIELD) == "yes"
        if not form_csrf_ok(request, form, settings, invitation):
            return await _render(
                request,
                settings,
                invitation,
                token,
                lang,
                result="csrf",
                status_code=403,
                public_profile=public_profile,
            )
        choice = form.get("response")
        if not isinstance(choice, str) or choice not in _CHOICES.values():
            return await _render(
                request, settings, invitation, token, lang, status_code=400, public_profile=public_profile
            )
        try:
            invitation = await respond(
                token,
                Answer(choice),
                public_profile=public_profile if choice == Answer.ACCEPT.value else None,
                settings=settings,
            )
        except DomainError as error:
            if error.code is ErrorCode.NOT_FOUND:
                return _not_found(lang)
            fresh = await find_by_token(token)
            if fresh is None:
                return _not_found(lang)
            result = _ERROR_RESULTS.get(error.code)
            if error.code is ErrorCode.EXPIRED and fresh.status is InvitationStatus.OFFERED:
                result = "offer_lapsed"
            elif choice == Answer.WITHDRAW.value and fresh.status is InvitationStatus.ACCEPTED:
                # Accepted yet refused: the exchange has started, or it was cancelled.
                exchange = await Exchange.get(id=fresh.exchange_id)
                result = "closed" if exchange.status is ExchangeStatus.CANCELLED else "withdraw_started"
            if result is None:
                exchange = await Exchange.get(id=fresh.exchange_id)
                result = "closed" if exchange.status is not ExchangeStatus.OPEN else "invalid"
            return await _render(
                request,
                settings,
                fresh,
                token,
                lang,
                result=result,
                status_code=409,
                public_profile=public_profile,
            )
        result = _ANSWERED.get(InvitationStatus(invitation.status), "declined")
        return await _render(request, settings, invitation, token, lang, result=result)

    return [
        stylesheet_route("invitation.css"),
        Route("/invitations/{token}", show, methods=["GET"]),
        Route("/invitations/{token}", answer, methods=["POST"]),
    ]
