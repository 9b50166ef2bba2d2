"""Fragments spread inside fragments (issue 10, item 2). ``fragment F0 { ...F1 ...F1 }``,
``fragment F1 { ...F2 ...F2 }``, … is a few hundred bytes that expands to 2^N fields: every
analysis of a document (the limits, the cost, the columns) computes each fragment once, so its
work is linear in the document's size, and a document whose spreads multiply past
``EXCHANGE_MAX_FIELDS`` is refused with ``TOO_MANY_FIELDS`` before anything else is done
with it (authentication, rate limit, execution), over HTTP and over WebSocket alike."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)
from graphql.language import Lexer, Source, TokenKind
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise import Tortoise
from websockets.sync.client import connect

from exchange.db import APP_LABEL
from schema.admission.cost import CostCalculator
from schema.admission.limits import DocumentShape, Figures, Limits
from schema.admission.prepared import prepare
from schema.build import default_schema
from schema.engine.columns import document_columns
from tests import databases
from tests.http.conftest import GRAPHQL_RESPONSE, AppFactory, codes, post
from tests.http.servers import issue_admin_key, uvicorn_server

GRAPHQL_SCHEMA = default_schema()._schema


@pytest.fixture(scope="module", autouse=True)
def models_described() -> None:
    """The column analysis reads the models' column names, which Tortoise fills in when it
    describes them (here without a database)."""
    Tortoise.init_models(["exchange.models"], APP_LABEL)


def doubling(n: int, on: str = "Query", operation: str = "query { ...F0 }") -> str:
    """The issue's document: each fragment spreads the next one twice."""
    fragments = " ".join(f"fragment F{i} on {on} {{ ...F{i + 1} ...F{i + 1} }}" for i in range(n))
    return f"{operation} {fragments} fragment F{n} on {on} {{ __typename }}"


def doubling_subscription(n: int) -> str:
    """The same for the socket, which carries subscriptions only."""
    return doubling(n, on="InvitationEvent", operation="subscription { invitationUpdates { ...F0 } }")


def token_count(text: str) -> int:
    lexer = Lexer(Source(text))
    count = 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def parts(document: DocumentNode) -> tuple[OperationDefinitionNode, dict[str, FragmentDefinitionNode]]:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return operations[0], fragments


def analyse(document: DocumentNode) -> tuple[dict[str, int], Figures, int, dict[Any, frozenset[str]]]:
    """Selections looked at by each analysis, and what they found: (visits, shape, cost, columns)."""
    operation, fragments = parts(document)
    shape = DocumentShape(fragments)
    figures = shape.of(operation.selection_set)
    calculator = CostCalculator(GRAPHQL_SCHEMA, fragments, {}, 100)
    cost = calculator.operation(operation)
    column_visits = [0]
    columns = document_columns(GRAPHQL_SCHEMA, operation, fragments, column_visits)
    visits = {"shape": shape.visits, "cost": calculator.visits, "columns": column_visits[0]}
    return visits, figures, cost, columns


def inlined(document: DocumentNode) -> DocumentNode:
    """The same operation with every spread written out as an inline fragment on the
    fragment's type: what the memoised analyses must agree with."""
    operation, fragments = parts(document)

    def expand(selection_set: SelectionSetNode) -> SelectionSetNode:
        selections: list[Any] = []
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                fragment = fragments[selection.name.value]
                selections.append(
                    InlineFragmentNode(
                        type_condition=fragment.type_condition,
                        directives=(),
                        selection_set=expand(fragment.selection_set),
                    )
                )
            elif getattr(selection, "selection_set", None) is not None:
                selections.append(
                    dataclasses.replace(selection, selection_set=expand(selection.selection_set))
                )
            else:
                selections.append(selection)
        return SelectionSetNode(selections=tuple(selections))

    return DocumentNode(
        definitions=(
            OperationDefinitionNode(
                operation=operation.operation,
                name=operation.name,
                variable_definitions=operation.variable_definitions,
                directives=operation.directives,
                selection_set=expand(operation.selection_set),
            ),
        )
    )


# ---------------------------------------------------------------- work is linear in the document


@pytest.mark.parametrize("n", [20, 40])
def test_the_doubling_document_is_analysed_once_per_fragment(n: int) -> None:
    text = doubling(n)
    visits, figures, cost, _columns = analyse(parse(text))
    tokens = token_count(text)
    assert all(count <= tokens for count in visits.values()), (visits, tokens)
    assert figures.fields == 2**n  # what the spreads expand to, counted without expanding them
    assert cost == 0  # __typename is free, however often it is spread

    prepared = prepare(GRAPHQL_SCHEMA, text, Limits.from_settings(_default_settings()))
    assert [error.extensions for error in prepared.errors] == [{"code": "TOO_MANY_FIELDS"}]
    assert f"selects {2**n} fields" in prepared.errors[0].message
    assert "at most 10000 are allowed" in prepared.errors[0].message


def _default_settings() -> Any:
    from exchange.settings import Settings

    return Settings(_env_file=None)  # type: ignore[call-arg]


ORGANISATION_FIELDS = ("slug", "name", "country", "a: slug", "b: name")


@st.composite
def nested_spreads(draw: st.DrawFn) -> str:
    """A valid document on the real schema: ``count`` fragments on Organisation, each spreading
    later ones ``fan_out`` times, inside ``parent { }`` nesting, inline fragments and
    connections of several page sizes (a fragment on the connection type is spread under
    each), so the spreads multiply in every way the analyses walk."""
    count = draw(st.integers(1, 12))
    fan_out = draw(st.integers(1, 4))
    max_nesting = draw(st.integers(0, 3))
    connection_fragments = draw(st.integers(0, 4))
    pages: list[int] = []

    def body(index: int, nesting: int) -> str:
        items = [draw(st.sampled_from(ORGANISATION_FIELDS))]
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["field", "spread", "parent", "inline", "connection"]))
            later = range(index + 1, count)
            if kind == "spread" and later:
                items += [f"...F{draw(st.sampled_from(later))}"] * draw(st.integers(1, fan_out))
            elif kind == "parent" and nesting < max_nesting:
                items.append(f"parent {{ {body(index, nesting + 1)} }}")
            elif kind == "inline":
                items.append(
                    f"... on Organisation {{ {body(index, nesting + 1 if nesting < max_nesting else nesting)} }}"
                )
            elif kind == "connection" and connection_fragments:
                # Aliased apart: one response name with two page sizes would not validate.
                pages.append(draw(st.integers(0, 100)))
                items.append(f"e{len(pages)}: exchanges(first: {pages[-1]}) {{ ...C0 }}")
            else:
                items.append(draw(st.sampled_from(ORGANISATION_FIELDS)))
        if index + 1 < count:  # every fragment is used (validation refuses unused ones)
            items += [f"...F{index + 1}"] * fan_out
        return " ".join(items)

    fragments = [f"fragment F{i} on Organisation {{ {body(i, 0)} }}" for i in range(count)]
    for j in range(connection_fragments):
        after = f"...C{j + 1} " * fan_out if j + 1 < connection_fragments else ""
        fragments.append(
            f"fragment C{j} on ExperienceExchangeConnection {{ totalCount "
            f"edges {{ node {{ slug sessions {{ id speakers {{ fullName }} }} }} }} {after}}}"
        )
    # The connection fragments are used even where no F happened to select a connection.
    used = f"c: exchanges(first: {draw(st.integers(0, 100))}) {{ ...C0 }}" if connection_fragments else ""
    return f'query {{ organisation(slug: "x") {{ ...F0 {used} }} }} ' + " ".join(fragments)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nested_spreads())
def test_analyses_are_linear_in_the_token_count(text: str) -> None:
    document = parse(text)
    visits, figures, cost, columns = analyse(document)
    tokens = token_count(text)
    # Each selection is at least one token and each analysis looks at each one once.
    assert all(count <= tokens for count in visits.values()), (visits, tokens)

    # The figures are those of the document written out without fragments (when that is
    # small enough to write out).
    if figures.fields <= 3000:
        _, expanded_figures, expanded_cost, expanded_columns = analyse(inlined(document))
        assert (figures, cost, columns) == (expanded_figures, expanded_cost, expanded_columns)

    # The whole check, validation included: a coded refusal or nothing, never an exception.
    limits = Limits.from_settings(_default_settings())
    prepared = prepare(GRAPHQL_SCHEMA, text, limits)
    for error in prepared.errors:
        assert error.extensions and error.extensions.get("code"), error
    refusals = [error.extensions.get("code") for error in prepared.errors if error.extensions]
    if "GRAPHQL_VALIDATION_FAILED" not in refusals:
        assert ("TOO_MANY_FIELDS" in refusals) == (figures.fields > limits.max_fields)


# ---------------------------------------------------------------- over HTTP and WebSocket


async def test_doubling_fragments_are_refused_over_http(make_client: AppFactory) -> None:
    async with make_client() as client:
        response = await post(client, doubling(20))  # anonymous, as in the report
        assert response.status_code == 400, response.text
        assert "data" not in response.json()
        assert codes(response) == ["TOO_MANY_FIELDS"]
        assert "selects 1048576 fields" in response.json()["errors"][0]["message"]


async def test_spreads_under_the_field_cap_run_and_answer(make_client: AppFactory) -> None:
    # F0 spreads F1 twice, ... F5 is __typename: 32 fields once expanded, one in the answer.
    async with make_client(max_fields=32) as client:
        response = await post(client, doubling(5))
        assert response.status_code == 200, response.text
        assert response.json()["data"] == {"__typename": "Query"}
    async with make_client(max_fields=31) as client:
        response = await post(client, doubling(5))
        assert response.status_code == 400, response.text
        assert codes(response) == ["TOO_MANY_FIELDS"]
        assert "at most 31 are allowed" in response.json()["errors"][0]["message"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real server (before the fix, N=40 held its event loop for good, /healthz with it) and
    a key for its WebSocket, which takes no anonymous connections."""
    tmp_path = tmp_path_factory.mktemp("fragments")
    database_url = databases.sqlite_url(tmp_path)
    key = issue_admin_key(database_url)
    with uvicorn_server({"EXCHANGE_DATABASE_URL": database_url}, tmp_path / "server.log") as url:
        yield url, key


@pytest.mark.slow
@pytest.mark.parametrize("n", [20, 40])
def test_doubling_fragments_are_refused_by_a_served_process(server: tuple[str, str], n: int) -> None:
    url, _key = server
    with httpx.Client(base_url=url, timeout=10) as client:
        response = client.post("/graphql", json={"query": doubling(n)}, headers={"Accept": GRAPHQL_RESPONSE})
        assert response.status_code == 400, response.text
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["TOO_MANY_FIELDS"]
        assert client.get("/healthz").status_code == 200


@pytest.mark.slow
@pytest.mark.parametrize("n", [20, 40])
def test_doubling_fragments_are_refused_over_websocket(server: tuple[str, str], n: int) -> None:
    url, key = server
    with connect(
        url.replace("http://", "ws://") + "/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        open_timeout=10,
    ) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": doubling_subscription(n)}}))
        message = json.loads(ws.recv(timeout=10))
    assert message["type"] == "error", message
    assert [error["extensions"]["code"] for error in message["payload"]] == ["TOO_MANY_FIELDS"]
