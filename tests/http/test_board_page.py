"""The live board's page as HTTP serves it: language, the key form, the policy, the files.
What it does in a browser is tests/browser/test_board.py."""

from __future__ import annotations

import json
import re

from exchange.web.board_page import content_security_policy
from exchange.web.board_texts import BOARD_TEXTS
from tests.http.conftest import AppFactory

SLUG = "aral-restoration-week-2027"


def config_of(html: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="board-config">(.*?)</script>', html, re.S)
    assert match, html
    value: dict[str, object] = json.loads(match.group(1))
    return value


async def test_board_page_in_the_readers_language_with_a_key_form_that_cannot_leak(
    make_client: AppFactory,
) -> None:
    async with make_client() as client:
        page = await client.get(f"/board/{SLUG}", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
        assert page.status_code == 200
        html = page.text
        assert '<html lang="ru">' in html and "Табло приглашений" in html and "API-ключ" in html
        config = config_of(html)
        assert config["slug"] == SLUG and config["lang"] == "ru"
        assert config["texts"] == {**BOARD_TEXTS["ru"], "language": "Язык"}
        # Country names from Babel: browsers' Intl has none in Kazakh.
        assert config["countries"]["KZ"] == "Казахстан"  # type: ignore[index]

        # The key: a password input without a name (no form submission carries it), in a form
        # that posts, whose button the script enables.
        key_input = re.search(r'<input id="board-key"[^>]*>', html, re.S)
        assert key_input and 'type="password"' in key_input.group(0)
        assert "name=" not in key_input.group(0)
        assert '<form id="board-connect" class="board-connect" method="post"' in html
        assert re.search(r'<button id="board-connect-button" type="submit" class="primary" disabled>', html)
        assert '<label for="board-key">' in html and 'role="status"' in html and 'aria-live="polite"' in html

        english = await client.get(f"/board/{SLUG}?lang=en", headers={"Accept-Language": "ru"})
        assert '<html lang="en">' in english.text and "Invitation board" in english.text
        kazakh = await client.get(f"/board/{SLUG}?lang=kk")
        assert '<html lang="kk">' in kazakh.text and "Шақырулар тақтасы" in kazakh.text
        assert config_of(kazakh.text)["countries"]["UZ"] == "Өзбекстан"  # type: ignore[index]
        # The switch keeps the reader on this board.
        assert f'href="/board/{SLUG}?lang=kk"' in english.text
        fallback = await client.get(f"/board/{SLUG}", headers={"Accept-Language": "de"})
        assert '<html lang="en">' in fallback.text


async def test_board_page_policy_allows_only_this_servers_scripts_and_sockets(
    make_client: AppFactory,
) -> None:
    async with make_client() as client:
        page = await client.get(f"/board/{SLUG}", headers={"Host": "exchange.example.org"})
        policy = page.headers["content-security-policy"]
        assert policy == (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            "connect-src 'self' ws://exchange.example.org wss://exchange.example.org; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        )
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"
        # No inline script runs: the only <script> without src is the JSON data block.
        scripts = re.findall(r"<script([^>]*)>", page.text)
        assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts), scripts

        script_link = re.search(r'<script src="(/static/board\.js\?v=[0-9a-f]{12})" defer>', page.text)
        style_link = re.search(r'href="(/static/board\.css\?v=[0-9a-f]{12})"', page.text)
        assert script_link and style_link
        script = await client.get(script_link.group(1))
        assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
        assert "graphql-transport-ws" in script.text and "connection_init" in script.text
        style = await client.get(style_link.group(1))
        assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")


def test_policy_leaves_out_a_host_header_that_is_not_a_host() -> None:
    assert "ws://127.0.0.1:8000 wss://127.0.0.1:8000;" in content_security_policy("127.0.0.1:8000")
    assert "ws://[::1]:8000 " in content_security_policy("[::1]:8000")
    for forged in ("evil.example; script-src *", "a b", "", None, "x.org:99999999"):
        assert "connect-src 'self'; " in content_security_policy(forged), forged


async def test_board_address_that_is_not_a_slug_is_404(make_client: AppFactory) -> None:
    async with make_client() as client:
        page = await client.get("/board/Not_A_Slug!?lang=en")
        assert page.status_code == 404
        assert "Exchange not found" in page.text and "content-security-policy" in page.headers


def test_every_language_has_every_board_text() -> None:
    keys = set(BOARD_TEXTS["en"])
    assert all(set(texts) == keys for texts in BOARD_TEXTS.values())
    placeholders = {key: set(re.findall(r"\{\w+\}", text)) for key, text in BOARD_TEXTS["en"].items()}
    for texts in BOARD_TEXTS.values():
        assert {key: set(re.findall(r"\{\w+\}", text)) for key, text in texts.items()} == placeholders
