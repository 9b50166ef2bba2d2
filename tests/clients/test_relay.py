"""relay-compiler on the exported schema.graphql with a partner's documents
(tests/js/clients/relay/src: @connection lists, @refetchable fragments on Query and on Node
types); the operations it generates run through relay-runtime against the server."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import Served, client_result
from tests.events.conftest import ROOT

pytestmark = [pytest.mark.redis, pytest.mark.slow]

GENERATED_OPERATIONS = [
    "ExchangeCardRefetchQuery",
    "ExchangeListPaginationQuery",
    "ExchangeListQuery",
    "OrganisationPageQuery",
    "OrganisationPageRefetchQuery",
]


@pytest.fixture(scope="module")
def relay_artifacts(js_clients: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documents compiled in a temporary project, as a partner's build would."""
    project = tmp_path_factory.mktemp("relay-project")
    shutil.copytree(js_clients / "relay" / "src", project / "src")
    shutil.copyfile(ROOT / "schema.graphql", project / "schema.graphql")
    (project / "relay.config.json").write_text(
        json.dumps({"src": "./src", "schema": "./schema.graphql", "language": "javascript"})
    )
    # The generated artifacts are ES modules.
    (project / "package.json").write_text(json.dumps({"type": "module"}))
    compiled = subprocess.run(
        [str(js_clients / "node_modules" / ".bin" / "relay-compiler"), "relay.config.json"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert compiled.returncode == 0, (
        f"relay-compiler refused the documents:\n{compiled.stdout}\n{compiled.stderr}"
    )
    return project / "src" / "__generated__"


async def test_generated_operations_run_without_errors(
    served: Served, js_clients: Path, relay_artifacts: Path
) -> None:
    result = await client_result(
        js_clients,
        "relay.mjs",
        {
            "http": served.http,
            "key": served.world.reader.key,
            "artifacts": str(relay_artifacts),
            "organisation": served.world.host.slug,
        },
    )
    assert result["operations"] == GENERATED_OPERATIONS
    responses = {response["name"]: response for response in result["responses"]}
    assert sorted(responses) == GENERATED_OPERATIONS
    for name, response in responses.items():
        assert (response["status"], response.get("errors")) == (200, None), (name, response)

    # What the compiler generated is what ran: a pagination query taking the cursor, and
    # refetch queries through Query.node.
    assert "after: $cursor" in responses["ExchangeListPaginationQuery"]["text"]
    assert "node(id: $id)" in responses["ExchangeCardRefetchQuery"]["text"]
    first_page = responses["ExchangeListQuery"]["data"]["exchanges"]
    next_page = responses["ExchangeListPaginationQuery"]["data"]["exchanges"]
    assert first_page["totalCount"] >= 2 and first_page["pageInfo"]["hasNextPage"]
    assert next_page["edges"][0]["node"]["id"] != first_page["edges"][0]["node"]["id"]
    card = responses["ExchangeCardRefetchQuery"]["data"]["node"]
    assert (card["__typename"], card["id"]) == ("ExperienceExchange", first_page["edges"][0]["node"]["id"])
    organisation = responses["OrganisationPageRefetchQuery"]["data"]["node"]
    assert (organisation["slug"], organisation["id"]) == (served.world.host.slug, served.world.host.id)
    assert [edge["node"]["slug"] for edge in organisation["exchanges"]["edges"]] == [
        served.world.exchange_slug
    ]
