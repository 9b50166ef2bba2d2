"""Codes come from what an error is, never from its message text or class name: graphql-core's
rule that refused a literal, the token count where parsing stopped, the node a variable error
points at, the exception types that mean the database is away."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from asyncpg import exceptions as pg
from graphql import GraphQLError, OperationDefinitionNode, parse, validate
from graphql.execution.values import get_variable_values
from tortoise.exceptions import OperationalError
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from schema.admission.refusal import request_error_code
from schema.build import default_schema
from schema.transport.errors import is_unavailable
from tests import databases
from tests.http.conftest import AppFactory, codes, post
from tests.http.servers import issue_admin_key, uvicorn_server

# A literal that does not fit its type is the caller's input problem, as a variable's value is.
MALFORMED_LITERALS = [
    '{ organisations(country: "XX") { totalCount } }',
    '{ organisations(first: "ten") { totalCount } }',
    "{ organisations(kind: NGOO) { totalCount } }",  # unknown enum value
    '{ organisations(kind: "NGO") { totalCount } }',  # a string for an enum
    "{ node(id: null) { id } }",  # null where a value is required
    "{ exchanges(filter: {nope: 1}) { totalCount } }",
    "mutation { createOrganisation(input: {}) { userErrors { code } } }",
]
INVALID_DOCUMENTS = [
    "{ organisations { nope } }",
    "{ organisations(nope: 1) { totalCount } }",
    "{ node { id } }",  # a required argument left out
    "query($n: String) { organisations(first: $n) { totalCount } }",
]


async def test_literals_that_do_not_fit_their_type_are_bad_user_input(make_client: AppFactory) -> None:
    async with make_client() as client:
        for query in MALFORMED_LITERALS:
            response = await post(client, query)
            assert response.status_code == 400, query
            assert set(codes(response)) == {"BAD_USER_INPUT"}, (query, response.json())
        for query in INVALID_DOCUMENTS:
            response = await post(client, query)
            assert response.status_code == 400, query
            assert codes(response) == ["GRAPHQL_VALIDATION_FAILED"], (query, response.json())


async def test_the_token_limit_is_told_from_a_syntax_error_by_counting(make_client: AppFactory) -> None:
    async with make_client(max_tokens=8) as client:
        cases = [
            ("{ organisations { totalCount } }", None),  # 6 tokens
            ("{ organisations { totalCount } } }", "GRAPHQL_PARSE_FAILED"),  # 7th token wrong
            ("{ organisations { totalCount totalCount totalCount } }", None),  # 8
            ("{ organisations { totalCount totalCount totalCount totalCount } }", "TOO_MANY_TOKENS"),
            ("{ organisations {\n#\n#\n#\n totalCount } }", "TOO_MANY_TOKENS"),  # comments count
            ("{ organisations {\n#\n#\n#\n#\n#\n#\n totalCount } }", "TOO_MANY_TOKENS"),  # a run of them
            ("{ organisations { totalCount " + "totalCount " * 5, "TOO_MANY_TOKENS"),  # wrong past 8 only
            ('{ organisations(first: "unterminated', "GRAPHQL_PARSE_FAILED"),
            ("{ organisations(first: 1 totalCount } }", "GRAPHQL_PARSE_FAILED"),
        ]
        for query, code in cases:
            response = await post(client, query)
            assert codes(response) == ([code] if code else []), (query, response.json())


def test_graphql_cores_own_errors_are_coded_by_what_they_are() -> None:
    graphql_schema = default_schema()._schema
    with pytest.raises(GraphQLError) as syntax:
        parse("{ organisations")
    assert request_error_code(syntax.value) == "GRAPHQL_PARSE_FAILED"

    document = parse("query($n: Int!) { organisations(first: $n) { totalCount } }")
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    variable_errors = get_variable_values(graphql_schema, operation.variable_definitions, {"n": "ten"})
    assert isinstance(variable_errors, list) and variable_errors
    assert {request_error_code(error) for error in variable_errors} == {"BAD_USER_INPUT"}

    [unknown] = validate(graphql_schema, parse("{ nope }"))
    assert request_error_code(unknown) == "GRAPHQL_VALIDATION_FAILED"

    # What a message says does not matter.
    assert request_error_code(GraphQLError("Syntax Error: not really")) == "GRAPHQL_VALIDATION_FAILED"
    assert request_error_code(GraphQLError("Variable '$x' got invalid value")) == "GRAPHQL_VALIDATION_FAILED"
    assert request_error_code(GraphQLError("Expected value of type 'Int', found x")) == (
        "GRAPHQL_VALIDATION_FAILED"
    )


def _raised_by_tortoise(error: sqlite3.Error) -> OperationalError:
    """Tortoise's SQLite client raises its OperationalError inside the except block."""
    try:
        try:
            raise error
        except sqlite3.OperationalError as exc:
            raise OperationalError(exc)  # as Tortoise does (its context is the cause)
    except OperationalError as wrapped:
        return wrapped


def test_a_locked_or_missing_sqlite_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as locked:
            other.execute("SELECT * FROM t")
    finally:
        other.close()
        holder.close()
    assert locked.value.sqlite_errorcode == sqlite3.SQLITE_BUSY
    assert is_unavailable(locked.value)
    assert is_unavailable(_raised_by_tortoise(locked.value))

    with pytest.raises(sqlite3.OperationalError) as cannot_open:
        sqlite3.connect(tmp_path / "no" / "such" / "dir.sqlite3")
    assert is_unavailable(_raised_by_tortoise(cannot_open.value))

    working = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.OperationalError) as no_table:
            working.execute("SELECT * FROM missing")
    finally:
        working.close()
    assert not is_unavailable(_raised_by_tortoise(no_table.value))


def test_unavailable_is_told_by_exception_type_not_by_words() -> None:
    assert is_unavailable(pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"))
    assert is_unavailable(pg.TooManyConnectionsError("sorry, too many clients already"))
    assert is_unavailable(ConnectionRefusedError(111, "Connect call failed"))
    assert not is_unavailable(RuntimeError("while loading"))
    try:
        try:
            raise pg.ConnectionDoesNotExistError("connection was closed")
        except pg.PostgresError as error:
            raise RuntimeError("while loading") from error
    except RuntimeError as raised:
        assert is_unavailable(raised)
    # Words that once were read as "the database is away".
    assert not is_unavailable(OperationalError("connection parameter is locked: unable to open the door"))
    assert not is_unavailable(pg.UndefinedTableError('relation "connection" does not exist'))


@pytest.mark.slow
def test_variable_errors_over_websocket_are_bad_user_input(tmp_path: Path) -> None:
    """Over WebSocket, Strawberry runs graphql-core's variable coercion, whose errors carry no
    code of their own: they point at the variable's definition, hence BAD_USER_INPUT."""
    database_url = databases.sqlite_url(tmp_path)
    key = issue_admin_key(database_url)
    query = "subscription($e: ID) { invitationUpdates(exchangeId: $e) { status } }"
    with uvicorn_server({"EXCHANGE_DATABASE_URL": database_url}, tmp_path / "server.log") as url:
        ws_url = url.replace("http://", "ws://") + "/graphql"
        with connect(ws_url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=10) as ws:
            ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
            assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
            payload = {"query": query, "variables": {"e": {"not": "an id"}}}
            ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            answer = json.loads(ws.recv(timeout=10))
    assert answer["type"] == "error", answer
    assert [error["extensions"]["code"] for error in answer["payload"]] == ["BAD_USER_INPUT"], answer
