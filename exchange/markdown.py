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

import re
from collections import OrderedDict

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

_OPTIONS = {"html": False, "linkify": False, "typographer": False}
_parser = MarkdownIt("commonmark", _OPTIONS).enable(["table", "strikethrough"])
_parser_without_tables = MarkdownIt("commonmark", _OPTIONS).enable(["strikethrough"])
# markdown-it fills in the missing cells of every table row (up to 65,536 in a text): a header
# of 1,500 columns over short rows made 20,000 characters into ~700,000 of HTML and 2 s of
# parsing. A text that could hold more table cells than this is rendered without tables
# (their pipes shown as written); a 12-column table of 700 rows still fits.
TABLE_CELLS_MAX = 20_000
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def table_cells_bound(text: str) -> int:
    """At least as many cells as the text's tables may have: a table ends at a blank line, has
    no more rows than its block has lines nor more columns than a line of it has pipes, plus
    one (and a text without pipes has no table)."""
    total = 0
    for block in _BLANK_LINE.split(text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = block.split("\n")
        pipes = max(line.count("|") for line in lines)
        if pipes:
            total += len(lines) * (pipes + 1)
    return total


# The cache is bounded by what it holds, not only by its count: a 20,000-character text may
# render to ten times that (escaped characters, up to TABLE_CELLS_MAX filled-in cells), so
# 256 entries could hold ~50 MB. A rendering too large for a fair share of it is not kept.
CACHE_ENTRIES = 256
CACHE_CHARS = 4_000_000  # texts and HTML together (1 to 4 bytes a character)
_cache: OrderedDict[str, str] = OrderedDict()
_cached_chars = 0


def _render(text: str) -> str:
    parser = _parser if table_cells_bound(text) <= TABLE_CELLS_MAX else _parser_without_tables
    return nh3.clean(
        parser.render(text),
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


def to_html(text: str) -> str:
    """Sanitized HTML for Markdown ``text`` (cached: the same report is read many times)."""
    global _cached_chars
    found = _cache.get(text)
    if found is not None:
        _cache.move_to_end(text)
        return found
    html = _render(text)
    size = len(text) + len(html)
    if size <= CACHE_CHARS // 16:
        _cache[text] = html
        _cached_chars += size
        while len(_cache) > CACHE_ENTRIES or _cached_chars > CACHE_CHARS:
            old_text, old_html = _cache.popitem(last=False)
            _cached_chars -= len(old_text) + len(old_html)
    return html


def cached_chars() -> int:
    """What the cache holds, in characters of text and HTML."""
    return _cached_chars
