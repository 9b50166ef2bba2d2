"""Markdown that people write (experience reports) as HTML that is safe to show.

Two independent locks, so one mistake is not enough to let a script through:
1. markdown-it-py (CommonMark) with raw HTML turned off: ``<script>`` in the text stays
   text (escaped); its link check already refuses ``javascript:``, ``vbscript:``, ``file:``
   and ``data:`` targets;
2. nh3 (the Rust ammonia sanitizer) then keeps only the tags and attributes below: no
   ``on*`` attribute, no ``style``, no image (a picture from any address would tell that
   address who reads the report; photos are the report's own links), and URLs only in the
   http(s) and mailto schemes; every link gets ``rel="nofollow noopener noreferrer"``.

The stored text is never changed: the API returns it as written, and renders on request.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "strong", "em", "s", "del", "code", "pre", "blockquote",
        "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
        "a", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)


@lru_cache(maxsize=256)
def to_html(text: str) -> str:
    """Sanitized HTML for Markdown ``text`` (cached: the same report is read many times)."""
    return nh3.clean(
        _parser.render(text),
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
