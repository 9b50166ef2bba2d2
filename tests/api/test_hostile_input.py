"""What a hostile or careless caller sends to today's features: each case answers with a
clear refusal (a userErrors entry, a 404 page), never an internal error, and the Markdown
cache stays bounded by what it holds."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from exchange import markdown
from tests.conftest import GraphQLClient
from tests.reports_world import ReportsWorld, build_world, report_input, submit


@pytest.fixture
async def world(app: Any, settings: Any, admin_key: str) -> ReportsWorld:
    return await build_world(settings, admin_key)


@pytest.mark.parametrize(
    "photo",
    ["https://[::1/picture.jpg", "https://photos.example:99999/a.jpg", "https://photos.example:port/a.jpg"],
)
async def test_a_photo_link_urlsplit_refuses_is_a_user_error(
    world: ReportsWorld, gql: GraphQLClient, photo: str
) -> None:
    # urlsplit raises ValueError for these (it was an INTERNAL_SERVER_ERROR).
    photos = ["https://photos.example/fine.jpg", photo]
    payload = await submit(
        gql, {**report_input(photos=photos), "exchangeId": world.gid(world.completed)}, key=world.host_key
    )
    assert payload["report"] is None
    assert payload["userErrors"] == [
        {
            "field": ["photos", "1"],
            "message": "A photo is an https:// link to where it is published.",
            "code": "INVALID",
        }
    ]


async def test_a_feed_path_that_is_no_slug_is_not_found(world: ReportsWorld, http: httpx.AsyncClient) -> None:
    # Longer than the slug column: the ORM's own check raised (a 500) before the lookup.
    for slug in ("a" * 5000, "Aral%20Week", "%00"):
        response = await http.get(f"/exchanges/{slug}/calendar.ics")
        assert response.status_code == 404, slug
        assert response.text == "Not found.\n"


def _wide_table(columns: int, rows: int, tag: str) -> str:
    # Rows of one cell under a wide header: markdown-it fills in every missing cell.
    return f"{tag}\n\n|{'h|' * columns}\n|{'-|' * columns}\n" + "x\n" * rows


def test_the_markdown_cache_is_bounded_by_what_it_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(markdown, "CACHE_CHARS", 32_000)
    texts = [_wide_table(12, 12, f"table {n}") for n in range(40)]
    rendered = [markdown.to_html(text) for text in texts]
    assert all(len(html) > 10 * len(text) for text, html in zip(texts, rendered, strict=True))
    assert sum(map(len, rendered)) > 2 * markdown.CACHE_CHARS
    assert markdown.cached_chars() <= markdown.CACHE_CHARS
    # The newest stays cached: the same object again, not a second rendering.
    assert markdown.to_html(texts[-1]) is rendered[-1]


def test_a_table_of_many_empty_cells_is_rendered_without_tables() -> None:
    # 30,000 filled-in cells: ~300,000 characters of HTML from 2,000 (and 2 s of parsing at 1,500
    # columns over a 20,000-character text); shown as written instead.
    text = _wide_table(300, 100, "bomb")
    rendered = markdown.to_html(text)
    assert "<table>" not in rendered
    assert len(rendered) < 2 * len(text)


def test_a_long_table_still_renders_as_a_table() -> None:
    row = "|" + "cell|" * 12 + "\n"
    text = "Prose first.\n\n" + row + "|" + "-|" * 12 + "\n" + row * 700 + "\nProse after.\n" * 300
    assert markdown.table_cells_bound(text) <= markdown.TABLE_CELLS_MAX
    rendered = markdown.to_html(text)
    assert rendered.count("<tr>") == 701 and rendered.count("<td>cell</td>") == 12 * 700
