"""GraphiQL's page as HTTP serves it: the WebSocket fetcher, the files' base URL
(EXCHANGE_GRAPHIQL_ASSETS_URL) and a policy that follows it. In a browser:
tests/browser/test_graphiql.py."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from pydantic import ValidationError

from exchange.settings import Settings
from schema.transport.graphiql import ASSET_PATHS
from tests.http.conftest import AppFactory


def inline_script(html: str) -> str:
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 1
    return scripts[0]


async def test_graphiql_runs_subscriptions_over_the_websocket_with_files_from_unpkg_by_default(
    make_client: AppFactory,
) -> None:
    async with make_client(graphiql=True) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
    html = page.text
    for path in ASSET_PATHS:
        assert f'src="https://unpkg.com/{path}"' in html or f'href="https://unpkg.com/{path}"' in html, path
    script = inline_script(html)
    # Subscriptions: a graphql-ws client on the same endpoint, the headers as connection_init's payload.
    assert "graphqlWs.createClient" in script and 'replace(/^http/, "ws")' in script
    assert "connectionParams: () => JSON.parse(text)" in script
    assert 'operation.operation === "subscription"' in script
    policy = page.headers["content-security-policy"]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}' https://unpkg.com;" in policy
    assert "'unsafe-inline'" not in policy.split("style-src")[0]  # no inline script but that one
    assert "style-src 'self' 'unsafe-inline' https://unpkg.com;" in policy
    assert "connect-src 'self' ws: wss:;" in policy and "frame-ancestors 'none'" in policy


async def test_graphiql_files_and_policy_follow_the_assets_setting(make_client: AppFactory) -> None:
    mirror = "https://static.exchange.example.org/graphiql"
    async with make_client(graphiql=True, graphiql_assets_url=mirror + "/") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert "unpkg.com" not in page.text and "unpkg.com" not in page.headers["content-security-policy"]
    for path in ASSET_PATHS:
        assert f"{mirror}/{path}" in page.text
    assert "script-src 'self' 'sha256-" in page.headers["content-security-policy"]
    assert (
        f" {mirror}/; style-src 'self' 'unsafe-inline' {mirror}/;" in page.headers["content-security-policy"]
    )

    async with make_client(graphiql=True, graphiql_assets_url="/graphiql-assets") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert 'src="/graphiql-assets/graphiql@3.8.3/graphiql.min.js"' in page.text
    policy = page.headers["content-security-policy"]
    assert "https://" not in policy and "style-src 'self' 'unsafe-inline'; img-src 'self' data:;" in policy


@pytest.mark.parametrize(
    "value",
    [
        "unpkg.com",
        "//cdn.example.org",
        "https://cdn.example.org/a b",
        "https://cdn.example.org/\"'",
        "javascript:x",
        "https://cdn.example.org/?v=1",
        "https://cdn.example.org/;script-src",
        "",
    ],
)
def test_assets_setting_refuses_what_is_not_a_url_or_a_path(value: str) -> None:
    with pytest.raises(ValidationError, match="must be an http\\(s\\) URL or a path"):
        Settings(_env_file=None, graphiql_assets_url=value)  # type: ignore[call-arg]
