"""schema.engine.arguments against graphql-core: for any sequence of requests (each its own
coerced variable set, values present, missing or null), ``Arguments.values`` answers what
``get_argument_values`` answers, errors included, whatever the earlier requests left in it."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, build_schema, parse
from graphql.execution.values import get_argument_values, get_variable_values
from hypothesis import given, settings
from hypothesis import strategies as st

from schema.engine.arguments import Arguments, arguments_of

SCHEMA = build_schema(
    """
    input Window { first: Int, after: String = "a" }
    type Query {
      pick(id: ID!, first: Int = 10, after: String, tags: [String!], window: Window, flag: Boolean! = true): String
    }
    """
)
FIELD = SCHEMA.query_type.fields["pick"]  # type: ignore[union-attr]

# Documents whose arguments take every form: variables (non-null and nullable arguments,
# with and without defaults), literals, nothing, and variables nested in lists and objects.
DOCUMENTS = [
    "query($id: ID!, $first: Int) { pick(id: $id, first: $first) }",
    "query($id: ID!, $first: Int = 5) { pick(id: $id, first: $first) }",
    'query($id: ID, $after: String) { pick(id: $id, after: $after, tags: ["x"], flag: false) }',
    "query($id: ID!, $flag: Boolean) { pick(id: $id, flag: $flag) }",
    "query($id: ID!, $tag: String!) { pick(id: $id, tags: [$tag]) }",
    "query($id: ID!, $first: Int) { pick(id: $id, window: { first: $first }) }",
    "query($first: Int) { pick(id: 7, first: $first) }",
    'query { pick(id: "x", first: 3) }',
]

VALUES = {
    "id": st.one_of(st.text(max_size=4), st.integers(-5, 5), st.none()),
    "first": st.one_of(st.integers(-3, 3), st.none()),
    "after": st.one_of(st.text(max_size=3), st.none()),
    "flag": st.one_of(st.booleans(), st.none()),
    "tag": st.one_of(st.text(max_size=3), st.none()),
}


def _parts(document: str) -> tuple[OperationDefinitionNode, FieldNode]:
    operation = parse(document).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    node = operation.selection_set.selections[0]
    assert isinstance(node, FieldNode)
    return operation, node


def _answer(call: Any) -> Any:
    try:
        return ("values", call())
    except GraphQLError as error:
        return ("error", error.message)


variable_sets = st.lists(
    st.fixed_dictionaries({}, optional=VALUES),  # each value present, null or missing
    min_size=1,
    max_size=6,
)


@pytest.mark.parametrize("document", DOCUMENTS)
@settings(max_examples=60, deadline=None)
@given(sets=variable_sets)
def test_answers_as_graphql_core_for_every_request(document: str, sets: list[dict[str, Any]]) -> None:
    operation, node = _parts(document)
    arguments = arguments_of(FIELD, node)
    for raw in sets:
        variables = get_variable_values(SCHEMA, operation.variable_definitions or (), raw)
        if isinstance(variables, list):  # refused at admission: never reaches a field
            continue
        expected = _answer(lambda v=variables: get_argument_values(FIELD, node, v))
        got = _answer(lambda v=variables: arguments.values(v))
        assert got == expected, (raw, got, expected)
        if got[0] == "values":  # the same keys in the same order (the response's order)
            assert list(got[1]) == list(expected[1])


def test_fresh_values_take_the_template_not_graphql_core(monkeypatch: pytest.MonkeyPatch) -> None:
    """After one answer from graphql-core, a variable set it was not given is answered from
    the template: an id sent once (never remembered by admission) costs no coercion."""
    operation, node = _parts("query($id: ID!, $first: Int = 5) { pick(id: $id, first: $first, flag: false) }")
    arguments = arguments_of(FIELD, node)
    first = get_variable_values(SCHEMA, operation.variable_definitions, {"id": "a"})
    assert not isinstance(first, list)
    assert arguments.values(first) == {"id": "a", "first": 5, "flag": False}

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("graphql-core asked again")

    monkeypatch.setattr("schema.engine.arguments.get_argument_values", refuse)
    for raw, expected in [
        ({"id": "b"}, {"id": "b", "first": 5, "flag": False}),
        ({"id": "c", "first": 2}, {"id": "c", "first": 2, "flag": False}),
        ({"id": 4, "first": None}, {"id": "4", "first": None, "flag": False}),
    ]:
        variables = get_variable_values(SCHEMA, operation.variable_definitions, raw)
        assert not isinstance(variables, list)
        assert arguments.values(variables) == expected


def test_a_nested_variable_always_asks_graphql_core() -> None:
    _operation, node = _parts("query($id: ID!, $tag: String!) { pick(id: $id, tags: [$tag]) }")
    arguments = arguments_of(FIELD, node)
    assert isinstance(arguments, Arguments) and arguments.variables is None


def test_no_value_a_caller_sent_stays_after_its_request() -> None:
    """The template keeps graphql-core's keys and literals, not the request's values (an id, an
    invitation token): nothing a caller sent stays in memory once its request is answered."""
    operation, node = _parts('query($id: ID!, $after: String) { pick(id: $id, after: $after, tags: ["x"]) }')
    arguments = arguments_of(FIELD, node)
    for raw in (
        {"id": "inv_secret-token-1", "after": "cursor-1"},
        {"id": "inv_secret-token-2", "after": "c2"},
    ):
        variables = get_variable_values(SCHEMA, operation.variable_definitions or (), raw)
        assert not isinstance(variables, list)
        assert arguments.values(variables)["id"] == raw["id"]
        kept = repr(vars(arguments))
        assert "inv_secret" not in kept and "cursor-1" not in kept and "c2" not in kept
    assert arguments.template is not None and list(arguments.template) == [
        "id",
        "first",
        "after",
        "tags",
        "flag",
    ]
