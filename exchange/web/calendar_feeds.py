"""Calendar feeds to subscribe to (RFC 5545, no METHOD):

- ``/exchanges/{slug}/calendar.ics``: every session of a published exchange (a draft is
  404 like an unknown slug), for anyone;
- ``/invitations/{token}/calendar.ics``: what one invitation covers, in the entries its
  mails created (same UIDs and SEQUENCE), each marked with where the invitation stands.

An entry's DTSTAMP comes from the data, not the clock, so an unchanged feed is the same
bytes and its ETag answers If-None-Match with 304: subscribers poll often.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from exchange import access
from exchange.exchanges import sees_exchange
from exchange.i18n import parse_accept_language, pick_text, pick_ui_locale
from exchange.invitations.common import OPEN_STATUSES, effective_status
from exchange.invitations.manage import sessions_by_invitation
from exchange.invitations.respond import find_by_token
from exchange.mail import ics
from exchange.mail.outbox import mail_host
from exchange.mail.render import _place as mail_place
from exchange.mail.render import one_line
from exchange.models import Exchange, ExchangeStatus, Invitation, InvitationStatus, Organisation, Session
from exchange.settings import Settings
from exchange.validation import is_slug

CONTENT_TYPE = "text/calendar; charset=utf-8"
# Anyone may cache the public feed a while; a personal feed (its URL is a credential) is
# kept only by the subscriber, who asks again each time (cheap: 304 while unchanged).
PUBLIC_CACHE = "public, max-age=300"
PERSONAL_CACHE = "private, no-cache"
PERSONAL_HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}


def feed_path(token: str) -> str:
    return f"/invitations/{token}/calendar.ics"


def personal_feed_urls(settings: Settings, token: str, lang: str) -> tuple[str, str]:
    """The personal feed's https address and its webcal:// twin (which opens the device's
    calendar app to subscribe), in the page's language."""
    url = f"{settings.public_url.rstrip('/')}{feed_path(token)}?lang={lang}"
    return url, "webcal://" + url.split("://", 1)[1]


def entry_status(invitation_status: InvitationStatus, cancelled: bool) -> str:
    """STATUS of an entry in a personal feed: CONFIRMED once accepted, TENTATIVE while the
    answer is awaited or the invitee waits for a place (waiting list, offer), CANCELLED for a
    cancelled session or exchange and for every other status (declined, expired, withdrawn,
    and any later one that means the place is not held)."""
    if cancelled:
        return "CANCELLED"
    if invitation_status is InvitationStatus.ACCEPTED:
        return "CONFIRMED"
    if invitation_status in (*OPEN_STATUSES, InvitationStatus.WAITLISTED, InvitationStatus.OFFERED):
        return "TENTATIVE"
    return "CANCELLED"


def _stamp(session: Session) -> datetime:
    """When the session last changed as far as the row tells (it keeps no update time)."""
    return max(session.created_at, session.cancelled_at or session.created_at)


async def _all_sessions(exchange: Exchange) -> list[Session]:
    # Cancelled ones too: a subscriber's calendar learns of a cancellation only from the feed.
    return list(await Session.filter(exchange_id=exchange.id).order_by("starts_at", "id"))


async def _texts(exchange: Exchange, organisation_id: int, locale: str) -> tuple[str, str | None, str]:
    """Calendar name, location and description, worded as the mails word them."""
    organisation = await Organisation.get(id=organisation_id)
    name = one_line(pick_text(organisation.names, [locale]) or organisation.slug)
    description = one_line(pick_text(exchange.descriptions, [locale]), 500)
    title = one_line(pick_text(exchange.titles, [locale]) or exchange.slug, 300)
    return title, mail_place(exchange, locale) or None, "\n\n".join(p for p in (name, description) if p)


async def public_feed(exchange: Exchange, settings: Settings, locale: str) -> bytes:
    host = mail_host(settings)
    sessions = await _all_sessions(exchange)
    called_off = exchange.status is ExchangeStatus.CANCELLED
    entries = [
        ics.FeedEntry(
            uid=ics.public_session_uid(session, host),
            sequence=session.sequence,
            status="CANCELLED" if called_off or session.cancelled_at is not None else "CONFIRMED",
            stamp=_stamp(session),
            session=session,
        )
        for session in sessions
    ]
    if not entries:
        # No session planned yet: the exchange's days, as an invitation mail shows them.
        entries.append(
            ics.FeedEntry(
                uid=ics.public_exchange_uid(exchange, host),
                sequence=0,
                status="CANCELLED" if called_off else "CONFIRMED",
                stamp=exchange.updated_at,
            )
        )
    name, location, description = await _texts(exchange, exchange.host_id, locale)
    return ics.build_feed(
        name=name,
        exchange=exchange,
        entries=entries,
        locale=locale,
        location=location,
        description=description,
    )


async def personal_feed(invitation: Invitation, exchange: Exchange, settings: Settings, locale: str) -> bytes:
    """The invited sessions, or for an invitation to the whole exchange its all-day entry
    (as its mails have it) followed by every session of the exchange."""
    host = mail_host(settings)
    status = effective_status(invitation)
    called_off = exchange.status is ExchangeStatus.CANCELLED
    invited = (await sessions_by_invitation([invitation.id]))[invitation.id]
    entries: list[ics.FeedEntry] = []
    answered = invitation.responded_at or invitation.created_at
    if not invited:
        entries.append(
            ics.FeedEntry(
                uid=ics.exchange_uid(exchange, invitation, host),
                sequence=invitation.calendar_sequence,
                status=entry_status(status, called_off),
                stamp=max(answered, exchange.updated_at),
            )
        )
    sessions: Sequence[Session] = invited or await _all_sessions(exchange)
    for session in sessions:
        entries.append(
            ics.FeedEntry(
                uid=ics.session_uid(session, invitation, host),
                sequence=session.sequence + invitation.calendar_sequence,
                status=entry_status(status, called_off or session.cancelled_at is not None),
                stamp=max(_stamp(session), answered),
                session=session,
            )
        )
    name, location, description = await _texts(exchange, invitation.invited_by_id, locale)
    return ics.build_feed(
        name=name,
        exchange=exchange,
        entries=entries,
        locale=locale,
        location=location,
        description=description,
    )


def etag_of(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def _fresh(request: Request, etag: str) -> bool:
    """If-None-Match names this ETag (weak comparison, RFC 9110 13.1.2), or is ``*``."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(candidate.strip().removeprefix("W/") == etag for candidate in header.split(","))


def _feed_response(request: Request, body: bytes, filename: str, headers: dict[str, str]) -> Response:
    etag = etag_of(body)
    headers = {**headers, "ETag": etag}
    if _fresh(request, etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(body, media_type=CONTENT_TYPE, headers=headers)


def _not_found(headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(
        "Not found.\n", status_code=404, headers={"Cache-Control": "no-store", **(headers or {})}
    )


def _requested_locale(request: Request, fallback: Sequence[str]) -> str:
    preferred = [
        request.query_params.get("lang", ""),
        *parse_accept_language(request.headers.get("accept-language")),
    ]
    return pick_ui_locale(preferred, fallback)


def routes(settings: Settings) -> list[Route]:
    async def exchange_feed(request: Request) -> Response:
        slug = request.path_params["slug"]
        # A path that is no slug names nothing (the ORM would refuse it with an error, a 500).
        exchange = await Exchange.get_or_none(slug=slug) if is_slug(slug) else None
        # Anyone may fetch it: shown exactly when an anonymous API caller sees the exchange.
        if exchange is None or not await sees_exchange(access.ANONYMOUS, exchange):
            return _not_found()
        locale = _requested_locale(request, exchange.languages or [])
        body = await public_feed(exchange, settings, locale)
        headers = {"Cache-Control": PUBLIC_CACHE, "Vary": "Accept-Language"}
        return _feed_response(request, body, f"{exchange.slug}.ics", headers)

    async def invitation_feed(request: Request) -> Response:
        invitation = await find_by_token(request.path_params["token"])
        if invitation is None or effective_status(invitation) is InvitationStatus.REVOKED:
            return _not_found(PERSONAL_HEADERS)
        exchange = await Exchange.get(id=invitation.exchange_id)
        # The mails' language unless the link asks for another.
        requested = request.query_params.get("lang", "")
        locale = pick_ui_locale([requested, invitation.locale], exchange.languages)
        body = await personal_feed(invitation, exchange, settings, locale)
        headers = {"Cache-Control": PERSONAL_CACHE, **PERSONAL_HEADERS}
        return _feed_response(request, body, f"{exchange.slug}.ics", headers)

    return [
        Route("/exchanges/{slug}/calendar.ics", exchange_feed, methods=["GET"]),
        Route("/invitations/{token}/calendar.ics", invitation_feed, methods=["GET"]),
    ]
