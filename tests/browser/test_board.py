"""The live board in a real browser: a coordinator types a key into /board/{slug} and sees
a new invitation appear, then the invitee's answer given through the invitation page.

Each test runs `exchange serve --demo` (a real process, its own database), a headless
Chromium at phone width, and the invitee's side through the mail the server wrote.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser import cdp
from tests.browser.conftest import DEMO_SLUG, Demo, running_demo

pytestmark = pytest.mark.slow

INVITE = """
mutation($input: InviteVolunteersInput!) {
  inviteVolunteers(input: $input) { invitations { id status } userErrors { field message code } }
}
"""
EXCHANGE_ID = "query($slug: String!) { exchange(slug: $slug) { id } }"
ORGANISATION_ID = "query($slug: String!) { organisation(slug: $slug) { id } }"
ISSUE_KEY = """
mutation($organisationId: ID!, $role: ApiKeyRole!) {
  issueApiKey(organisationId: $organisationId, role: $role) { key keyId userErrors { message } }
}
"""
REVOKE_KEY = "mutation($keyId: String!) { revokeApiKey(keyId: $keyId) { userErrors { message } } }"

# Seconds the board may take to show a change made over HTTP. The board itself is told at
# once (one process, in-memory bus); the margin is for two shared cores under the suite.
SHOWN_WITHIN = 3.0


def row(invitation_id: str) -> str:
    return (
        "[...document.querySelectorAll('#board-list .board-row')]"
        f".find(r => r.dataset.id === {json.dumps(invitation_id)})"
    )


async def axe_serious(page: cdp.Page, node_modules: Path) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate((node_modules / "axe-core" / "axe.min.js").read_text() + "\n;true")
    violations: list[dict[str, Any]] = await page.evaluate(
        """axe.run(document, {resultTypes: ['violations']}).then(result => result.violations.map(v => ({
             id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))})))"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


async def connect_board(page: cdp.Page, demo: Demo, key: str, lang: str = "en") -> None:
    await page.goto(f"{demo.url}/board/{DEMO_SLUG}?lang={lang}")
    # The button works only once the script has taken the form over.
    await page.wait_for("!document.getElementById('board-connect-button').disabled", what="the script")
    await page.type_into("#board-key", key)
    await page.press_enter()


def state(page_name: str = "live") -> str:
    return f"document.getElementById('board-state').dataset.state === '{page_name}'"


def csp_complaints(page: cdp.Page) -> list[str]:
    return [line for line in page.console if "Content Security Policy" in line or "exception" in line]


async def test_board_shows_a_new_invitation_then_its_acceptance(
    empty_database: str, tmp_path: Path, browser: str, node_modules: Path
) -> None:
    with running_demo(empty_database, tmp_path) as demo:
        async with cdp.open_page(browser) as board:
            await board.goto(f"{demo.url}/board/{DEMO_SLUG}?lang=en")
            await board.wait_for("!document.getElementById('board-connect-button').disabled")
            assert await axe_serious(board, node_modules) == []

            key = demo.organisation_key
            await board.type_into("#board-key", key)
            await board.click("#board-connect-button")
            await board.wait_for(state("live"), what="the board to go live")
            assert await board.evaluate("document.getElementById('board-title').textContent") == (
                "Volunteer Session at the Regional Ecological Summit"
            )
            assert await board.evaluate("document.getElementById('board-count').textContent") == "Total: 0"

            # The key is in the page's memory only.
            assert await board.evaluate("location.href") == f"{demo.url}/board/{DEMO_SLUG}?lang=en"
            assert await board.evaluate("document.getElementById('board-key').value") == ""
            assert await board.evaluate("localStorage.length + sessionStorage.length") == 0
            assert await board.evaluate("document.cookie") == ""
            assert key not in await board.evaluate("document.documentElement.outerHTML")
            assert all(key not in request["url"] for request in board.requests)
            posts = [r for r in board.requests if r["url"].endswith("/graphql") and r["method"] == "POST"]
            assert posts and all(r["headers"].get("Authorization") == f"Bearer {key}" for r in posts)
            assert board.sockets == [f"ws://127.0.0.1:{demo.server.port}/graphql"]

            exchange_id = (await demo.graphql(EXCHANGE_ID, {"slug": DEMO_SLUG}))["exchange"]["id"]
            invited_at = time.monotonic()
            payload = (
                await demo.graphql(
                    INVITE,
                    {
                        "input": {
                            "exchangeId": exchange_id,
                            "invitees": [
                                {
                                    "email": "dana@example.org",
                                    "fullName": "Dana Seitqali",
                                    "country": "KZ",
                                    "locale": "kk",
                                }
                            ],
                        }
                    },
                    key=key,
                )
            )["inviteVolunteers"]
            assert payload["userErrors"] == []
            invitation_id = payload["invitations"][0]["id"]
            await board.wait_for(f"!!{row(invitation_id)}", within=SHOWN_WITHIN, what="the new invitation")
            appeared = time.monotonic() - invited_at
            text = await board.evaluate(f"{row(invitation_id)}.innerText")
            assert "Dana Seitqali" in text and "dana@example.org" in text and "Kazakhstan" in text
            assert await board.evaluate("document.getElementById('board-count').textContent") == "Total: 1"
            assert "New invitation: Dana Seitqali" in await board.evaluate(
                "document.getElementById('board-announcer').textContent"
            )

            # The invitee answers through the page the mail links to, in another tab.
            link = await demo.invitation_link("dana@example.org")
            async with cdp.open_page(browser) as invitee:
                await invitee.goto(link + "?lang=en")
                await invitee.click("button[name=response][value=ACCEPT]")
                await invitee.wait_for("!!document.querySelector('.result-accepted')", what="the answer")
            answered_at = time.monotonic()
            await board.wait_for(
                f"{row(invitation_id)}.dataset.status === 'ACCEPTED'", within=SHOWN_WITHIN, what="ACCEPTED"
            )
            accepted = time.monotonic() - answered_at
            assert "Accepted" in await board.evaluate(f"{row(invitation_id)}.innerText")
            assert "Dana Seitqali: Accepted." in await board.evaluate(
                "document.getElementById('board-announcer').textContent"
            )
            assert await board.evaluate(state("live"))

            await board.screenshot(tmp_path / "board.png")
            assert await axe_serious(board, node_modules) == []
            assert csp_complaints(board) == []
            print(
                f"board: new invitation shown {appeared:.2f} s after the mutation, ACCEPTED {accepted:.2f} s"
            )


async def test_board_says_why_a_key_is_refused(tmp_path: Path, browser: str) -> None:
    with running_demo(f"sqlite://{tmp_path / 'refusals.sqlite3'}", tmp_path) as demo:
        organisation = (await demo.graphql(ORGANISATION_ID, {"slug": "volunteers-of-kazakhstan"}))[
            "organisation"
        ]

        async def issue(role: str) -> dict[str, Any]:
            issued: dict[str, Any] = (
                await demo.graphql(
                    ISSUE_KEY, {"organisationId": organisation["id"], "role": role}, key=demo.admin_key
                )
            )["issueApiKey"]
            return issued

        async with cdp.open_page(browser) as board:
            # An unknown key: refused, said in the page's language, the form ready again.
            await connect_board(board, demo, "vx_not-a-key", lang="ru")
            await board.wait_for(state("disconnected"), what="the refusal")
            assert await board.evaluate("document.getElementById('board-error').textContent") == (
                "Ключ отклонён: он неизвестен или отозван. Проверьте его и попробуйте снова."
            )
            assert await board.evaluate("document.activeElement.id") == "board-key"
            assert not await board.evaluate("document.getElementById('board-key').disabled")

            # A read-only key reads the exchange but may not follow its invitations.
            await connect_board(board, demo, (await issue("READ_ONLY"))["key"])
            await board.wait_for(state("disconnected"), what="the refusal")
            assert (await board.evaluate("document.getElementById('board-error').textContent")).startswith(
                "This key may not watch this exchange's invitations"
            )

            # A key revoked while the board is live: the stream ends and the board says so.
            issued = await issue("ORGANISATION")
            await connect_board(board, demo, issued["key"], lang="kk")
            await board.wait_for(state("live"), what="the board to go live")
            assert (await demo.graphql(REVOKE_KEY, {"keyId": issued["keyId"]}, key=demo.admin_key))[
                "revokeApiKey"
            ]["userErrors"] == []
            await board.wait_for(state("disconnected"), within=5, what="the end of the stream")
            assert (await board.evaluate("document.getElementById('board-error').textContent")).startswith(
                "Кілт қабылданбады"
            )
            await board.screenshot(tmp_path / "board-refused.png")
            assert csp_complaints(board) == []
