"""What the server-rendered pages share: their templates, headers, language choice,
stylesheets, and the double-submit CSRF token of the pages under an invitation link
(/invitations/{token} and its report page).

The CSRF token is the same value in a hidden field and a SameSite=Strict cookie, an HMAC
over the invitation's token hash and a timestamp, so it is bound to one invitation and goes
stale.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable
from functools import cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from exchange.i18n import UI_LOCALES, parse_accept_language, pick_ui_locale
from exchange.keyring import under_any_key
from exchange.models import Invitation
from exchange.settings import Settings

CSRF_COOKIE = "exchange_csrf"
CSRF_MAX_AGE_SECONDS = 12 * 3600

SECURITY_HEADERS = {
    # The token or code is in the URL: never send it on as a Referer, never show the page in a frame.
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

templates = Environment(
    loader=PackageLoader("exchange.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def html_response(body: str, status_code: int = 200) -> HTMLResponse:
    response = HTMLResponse(body, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def choose_language(request: Request, requested: str | None, fallback: str) -> str:
    if requested in UI_LOCALES:
        return requested
    return pick_ui_locale(parse_accept_language(request.headers.get("accept-language")), [fallback])


def form_language(request: Request, form: FormData, fallback: str) -> str:
    """The language a POSTed form asks for (its ``lang`` field), else as for a GET."""
    requested = form.get("lang")
    return choose_language(request, requested if isinstance(requested, str) else None, fallback)


def stylesheet_route(name: str) -> Route:
    """/static/{name}: a file, not an inline <style>, since the Content-Security-Policy allows only 'self'."""

    async def stylesheet(_request: Request) -> Response:
        response = Response(_static_text(name), media_type="text/css")
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    return Route(f"/static/{name}", stylesheet, methods=["GET"])


@cache
def _static_text(name: str) -> str:
    return (files("exchange.web") / "static" / name).read_text(encoding="utf-8")


# ---------------------------------------------------------------- CSRF of the invitation link's pages


def csrf_value(signing_key: bytes, token_hash: str, issued_at: int) -> str:
    mac = hmac.new(signing_key, f"invitation-csrf|{token_hash}|{issued_at}".encode(), hashlib.sha256)
    return f"{issued_at}.{mac.hexdigest()}"


def csrf_ok(keys: Iterable[bytes], token_hash: str, form_value: str, cookie_value: str, now: int) -> bool:
    """``keys``: Settings.verifying_keys, so a page opened before a change of the secret key
    still posts (exchange.keyring); new values are made with the signing key alone."""
    # Both come from the browser: compare_digest raises on non-ASCII text, int() on digits
    # such as "²" that str.isdigit accepts; either was an internal error (500).
    if not (form_value.isascii() and cookie_value.isascii()):
        return False
    if not form_value or not cookie_value or not hmac.compare_digest(form_value, cookie_value):
        return False
    issued, _, _ = form_value.partition(".")
    if not (issued.isdigit() and len(issued) <= 12) or not 0 <= now - int(issued) <= CSRF_MAX_AGE_SECONDS:
        return False
    made = under_any_key(
        keys,
        lambda key: csrf_value(key, token_hash, int(issued)),
        lambda value: hmac.compare_digest(form_value, value),
    )
    return made is not None


def form_csrf_ok(request: Request, form: FormData, settings: Settings, invitation: Invitation) -> bool:
    """The POSTed form's token matches the cookie and is this invitation's, and still young."""
    form_csrf = form.get("csrf")
    return csrf_ok(
        settings.verifying_keys,
        invitation.token_hash,
        form_csrf if isinstance(form_csrf, str) else "",
        request.cookies.get(CSRF_COOKIE, ""),
        int(time.time()),
    )


def csrf_for(request: Request, settings: Settings, invitation: Invitation) -> str:
    """The value for this page: the browser's current one while it is valid and young, so
    a page still open in another tab (or reached with Back) keeps working; else a new one."""
    now = int(time.time())
    current = request.cookies.get(CSRF_COOKIE, "")
    issued, _, _ = current.partition(".")
    if (
        csrf_ok(settings.verifying_keys, invitation.token_hash, current, current, now)
        and now - int(issued) < CSRF_MAX_AGE_SECONDS // 2
    ):
        return current
    return csrf_value(settings.signing_key, invitation.token_hash, now)


def set_csrf_cookie(response: Response, request: Request, settings: Settings, token: str, csrf: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=CSRF_MAX_AGE_SECONDS,
        # Per link: two invitations open in two tabs do not overwrite each other's value; the
        # path covers the link's report page too.
        path=f"/invitations/{token}",
        # Production is HTTPS end to end (public_url must be https) even when a proxy
        # terminates TLS and the app sees http.
        secure=request.url.scheme == "https" or settings.is_production,
        httponly=True,
        samesite="strict",
    )
