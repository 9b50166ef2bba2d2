"""The live board: /board/{exchange-slug}, where a coordinator watches an exchange's invitations.

The page itself holds nothing secret and reads no database: it is the same for every visitor
of a slug. The coordinator types an API key into it; the page's own script (static/board.js)
keeps the key in a variable, reads the current list with a GraphQL query over fetch
(``Authorization: Bearer``) and then follows ``invitationUpdates`` over a WebSocket speaking
graphql-transport-ws, the key in ``connection_init``'s payload. The key never reaches the URL,
storage or cookies: the input has no ``name`` (a form submission cannot carry it), the form
posts, and its button only works once the script has taken over.

Same-origin WebSockets are always accepted (schema.transport.http's origin check compares the Origin
with the Host); a proxy that rewrites Host needs the page's origin in
EXCHANGE_WEBSOCKET_ORIGINS (see README, "The live board").
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib.resources import files

from babel import Locale
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from exchange.validation import is_slug
from exchange.web.board_texts import BOARD_TEXTS
from exchange.web.pages import choose_language
from exchange.web.texts import LANGUAGE_NAMES, TEXTS

# What a Host header may hold before it goes into the policy: a name or address and a port.
# Anything else (a forged header with spaces or semicolons) leaves only 'self'.
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")

_env = Environment(
    loader=PackageLoader("exchange.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# The page's texts go into a JSON data block; tojson still escapes <, >, & and '.
_env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}


def content_security_policy(host: str | None) -> str:
    """Scripts and styles from this server only; fetch and WebSocket to this server only.

    CSP Level 3 lets 'self' match ws(s) of the page's host, but older engines do not: the
    socket's origin is named as well."""
    sockets = f" ws://{host} wss://{host}" if host and _HOST.fullmatch(host) else ""
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src 'self'{sockets}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


def _headers(request: Request) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(request.headers.get("host")),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }


@cache
def _static(name: str) -> tuple[str, str]:
    """A static file's text and a short digest of it, which goes into the page's link so a
    browser never runs yesterday's script with today's page."""
    text = (files("exchange.web") / "static" / name).read_text(encoding="utf-8")
    return text, hashlib.sha256(text.encode()).hexdigest()[:12]


@cache
def _countries(lang: str) -> dict[str, str]:
    # Babel's names, as on the invitation page: browsers' own (Intl.DisplayNames) lack Kazakh.
    territories = Locale.parse(lang).territories
    return {code: name for code, name in territories.items() if len(code) == 2 and code.isalpha()}


def _texts(lang: str) -> dict[str, str]:
    return {**BOARD_TEXTS[lang], "language": TEXTS[lang]["language"]}


def render(request: Request, slug: str, lang: str) -> HTMLResponse:
    t = _texts(lang)
    body = _env.get_template("board.html").render(
        lang=lang,
        t=t,
        languages=LANGUAGE_NAMES,
        switch_url=f"/board/{slug}",
        slug=slug,
        config={"slug": slug, "lang": lang, "texts": t, "countries": _countries(lang)},
        script_version=_static("board.js")[1],
        style_version=_static("board.css")[1],
    )
    response = HTMLResponse(body)
    response.headers.update(_headers(request))
    return response


def routes() -> list[Route]:
    async def show(request: Request) -> Response:
        slug = request.path_params["slug"]
        lang = choose_language(request, request.query_params.get("lang"), "en")
        if not is_slug(slug):
            t = _texts(lang)
            body = _env.get_template("not_found.html").render(
                lang=lang,
                t={**t, "not_found_title": t["bad_address_title"], "not_found": t["bad_address"]},
                languages=LANGUAGE_NAMES,
                switch_url=None,
            )
            response = HTMLResponse(body, status_code=404)
            response.headers.update(_headers(request))
            return response
        return render(request, slug, lang)

    def static(name: str, media_type: str) -> Route:
        async def serve(request: Request) -> Response:
            response = Response(_static(name)[0], media_type=media_type)
            response.headers["X-Content-Type-Options"] = "nosniff"
            # The page links it with ?v=<digest>: a new file is a new URL.
            response.headers["Cache-Control"] = "public, max-age=86400"
            return response

        return Route(f"/static/{name}", serve, methods=["GET"])

    return [
        Route("/board/{slug}", show, methods=["GET"]),
        static("board.js", "text/javascript"),
        static("board.css", "text/css"),
    ]
