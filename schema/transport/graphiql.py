"""GraphiQL at GET /graphql (development): the page, its fetcher and its Content-Security-Policy.

Strawberry's own page uses GraphiQL's toolkit fetcher, which picks the socket only when
GraphiQL hands it the editor's parsed document (else it POSTs, and the server refuses a
subscription over POST), retries a refused socket (4403) five times before saying anything,
and loads its files from unpkg.com only. This page's script (graphiql.js) decides from the
text it sends, runs subscriptions on its own graphql-ws client with the headers editor's
JSON (the Authorization header) as connection_init's payload and no silent retries, names
the close codes, and its files come from
EXCHANGE_GRAPHIQL_ASSETS_URL: unpkg.com by default, or any server (or path of this one) laid
out like it, for deployments whose browsers have no internet. The files are pinned by
Subresource Integrity hashes, so a mirror must serve them unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from urllib.parse import urlsplit

# What a mirror must hold, relative to the base URL (unpkg.com's paths; each file is the npm
# package's file of that path, e.g. node_modules/graphiql/graphiql.min.js).
ASSET_PATHS = (
    "react@18.2.0/umd/react.production.min.js",
    "react-dom@18.2.0/umd/react-dom.production.min.js",
    "graphiql@3.8.3/graphiql.min.css",
    "graphiql@3.8.3/graphiql.min.js",
    "@graphiql/plugin-explorer@1.0.2/dist/style.css",
    "@graphiql/plugin-explorer@1.0.2/dist/index.umd.js",
    "graphql-ws@6.0.6/umd/graphql-ws.min.js",
)


@dataclass(frozen=True)
class GraphiQLPage:
    html: str
    content_security_policy: str


def _text(name: str) -> str:
    return (files("schema.transport") / name).read_text(encoding="utf-8")


def asset_source(assets_url: str) -> str:
    """The CSP source that admits the files: nothing more than 'self' for a path on this
    server, the origin for an origin, else the base as a path prefix."""
    if assets_url.startswith("/"):
        return ""
    parts = urlsplit(assets_url)
    if parts.path in ("", "/"):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/"


@cache
def graphiql_page(assets_url: str) -> GraphiQLPage:
    """The page for a base URL already checked by Settings (no quotes, spaces or semicolons)."""
    script = _text("graphiql.js")
    # The one inline script is allowed by its hash, not by 'unsafe-inline'.
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    page = _text("graphiql.html").replace("{assets}", html.escape(assets_url)).replace("{script}", script)
    source = asset_source(assets_url)
    extra = f" {source}" if source else ""
    policy = (
        f"default-src 'self'; script-src 'self' 'sha256-{digest}'{extra}; "
        # GraphiQL's editors set inline styles.
        f"style-src 'self' 'unsafe-inline'{extra}; img-src 'self' data:{extra}; font-src 'self' data:{extra}; "
        "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    return GraphiQLPage(page, policy)
