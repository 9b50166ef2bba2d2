"""GraphiQL in a real browser, its files served from a mirror of our own (no CDN): a
subscription typed into the IDE runs over the WebSocket with the headers editor's key, and
a wrong key is refused with 4403. The mirror is the npm packages of tests/js/browser, laid out
like unpkg.com on another origin, as EXCHANGE_GRAPHIQL_ASSETS_URL documents."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from schema.transport.graphiql import ASSET_PATHS
from tests.browser import cdp
from tests.browser.conftest import DEMO_SLUG, running_demo
from tests.browser.test_board import EXCHANGE_ID, INVITE, csp_complaints
from tests.events.conftest import live

pytestmark = pytest.mark.slow

# unpkg's path: <name>@<version>/<file>, the name possibly scoped (@graphiql/plugin-explorer).
_UNPKG = re.compile(r"/assets/((?:@[^/]+/)?[^/@]+)@([^/]+)/(.+)")


class Mirror(SimpleHTTPRequestHandler):
    """unpkg.com's layout over node_modules, with the CORS header that Subresource Integrity
    needs for files from another origin."""

    def __init__(self, *args: Any, node_modules: Path, **kwargs: Any) -> None:
        self.node_modules = node_modules
        super().__init__(*args, directory=str(node_modules), **kwargs)

    def translate_path(self, path: str) -> str:
        match = _UNPKG.fullmatch(path.split("?")[0])
        if not match:
            return str(self.node_modules / "missing")
        name, version, rest = match.groups()
        package = self.node_modules / name
        if json.loads((package / "package.json").read_text())["version"] != version:
            return str(self.node_modules / "missing")
        return str(package / rest)

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def mirror(node_modules: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Mirror, node_modules=node_modules))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/assets"
    finally:
        server.shutdown()
        server.server_close()


def editor(which: str) -> str:
    """The CodeMirror instance of GraphiQL's query, headers or result editor."""
    selectors = {
        "query": ".graphiql-query-editor .CodeMirror",
        "headers": ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror",
        "result": ".result-window .CodeMirror",
    }
    return f"document.querySelector({json.dumps(selectors[which])}).CodeMirror"


async def click_text(page: cdp.Page, text: str) -> None:
    clicked = await page.evaluate(
        f"""(() => {{
          const button = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === {json.dumps(text)});
          if (button) button.click();
          return !!button;
        }})()"""
    )
    assert clicked, text


async def test_graphiql_runs_a_subscription_over_the_websocket_with_the_headers_key(
    tmp_path: Path, browser: str, node_modules: Path
) -> None:
    with (
        mirror(node_modules) as assets,
        running_demo(
            f"sqlite://{tmp_path / 'graphiql.sqlite3'}", tmp_path, EXCHANGE_GRAPHIQL_ASSETS_URL=assets
        ) as demo,
    ):
        key = demo.organisation_key
        exchange_id = (await demo.graphql(EXCHANGE_ID, {"slug": DEMO_SLUG}))["exchange"]["id"]
        # A named subscription, given in the URL as a shared link would.
        document = (
            f'subscription Watch {{ invitationUpdates(exchangeId: "{exchange_id}") '
            "{ status previousStatus invitation { email } } }"
        )
        async with cdp.open_page(browser, cdp.DESKTOP) as page:
            await page.goto(f"{demo.url}/graphql?q={quote(document)}")
            await page.wait_for(
                "!!document.querySelector('.graphiql-execute-button')", within=20, what="GraphiQL"
            )
            assert all(
                any(request["url"] == f"{assets}/{path}" for request in page.requests) for path in ASSET_PATHS
            )
            assert await page.evaluate(f"{editor('query')}.getValue()") == document

            await click_text(page, "Headers")
            await page.evaluate(
                f"{editor('headers')}.setValue({json.dumps(json.dumps({'Authorization': f'Bearer {key}'}))})"
            )
            await page.click(".graphiql-execute-button")
            # The subscription is live on the server before anything happens.
            for _ in range(200):
                if (await live(demo.server))["subscriptions"] == 1:
                    break
                await asyncio.sleep(0.05)
            assert (await live(demo.server))["subscriptions"] == 1, page.console
            assert page.sockets == [f"ws://127.0.0.1:{demo.server.port}/graphql"]

            payload = (
                await demo.graphql(
                    INVITE,
                    {
                        "input": {
                            "exchangeId": exchange_id,
                            "invitees": [
                                {"email": "erlan@example.org", "fullName": "Erlan", "country": "KZ"}
                            ],
                        }
                    },
                    key=key,
                )
            )["inviteVolunteers"]
            assert payload["userErrors"] == []
            result = await page.wait_for(
                f"(v => v.includes('erlan@example.org') && v)({editor('result')}.getValue())",
                what="the event in the result pane",
            )
            assert (
                json.loads(result)["data"]["invitationUpdates"]["invitation"]["email"] == "erlan@example.org"
            )
            # Nothing of it went over POST.
            posted = [json.loads(r["body"]).get("query", "") for r in page.requests if r["method"] == "POST"]
            assert posted and not [query for query in posted if query.lstrip().startswith("subscription")]
            await page.screenshot(tmp_path / "graphiql.png")

            # Stop, then run with a key the server does not know: the socket is refused (4403).
            await page.click(".graphiql-execute-button")
            await page.evaluate(f'{editor("headers")}.setValue(\'{{"Authorization": "Bearer vx_wrong"}}\')')
            await page.click(".graphiql-execute-button")
            await page.wait_for(f"{editor('result')}.getValue().includes('4403')", what="the refusal")
            assert csp_complaints(page) == []
