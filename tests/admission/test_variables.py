"""Admission step 4 (schema/admission/variables.py): coerced values are remembered per
document for small sets of plain scalars, and what is remembered never answers a different
set: values equal in Python but of another type (1, 1.0, True) are coerced (or refused) on
their own; large or nested values are never kept; a refusal is never kept."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse, print_ast
from graphql.execution.values import get_variable_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.settings import Settings
from schema.admission.limits import Limits
from schema.admission.prepared import prepare
from schema.admission.refusal import RequestError
from schema.admission.variables import REMEMBERED_PER_DOCUMENT, _leaves_of, _remembered_as, coerce_variables
from schema.build import default_schema

DOCUMENT = 'query Page($first: Int, $locale: LanguageCode = "en") { exchanges(first: $first) { edges { node { title(locale: $locale) } } } }'


@pytest.fixture(scope="module")
def setup() -> tuple[Any, Any, Limits]:
    schema = default_schema()._schema
    limits = Limits.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    prepared = prepare(schema, DOCUMENT, limits)
    assert not prepared.errors
    return schema, prepared, limits


def coerce(setup: tuple[Any, Any, Limits], raw: dict[str, Any], remembered: dict[Any, Any]) -> Any:
    schema, prepared, limits = setup
    return coerce_variables(schema, prepared.operation("Page"), raw, limits, remembered)


def test_the_same_values_are_coerced_once(setup: tuple[Any, Any, Limits]) -> None:
    remembered: dict[Any, Any] = {}
    first = coerce(setup, {"first": 10, "locale": "ru"}, remembered)
    again = coerce(setup, {"locale": "ru", "first": 10}, remembered)  # same set, other order
    assert again is first and len(remembered) == 1
    assert first.coerced == {"first": 10, "locale": "ru"}
    assert coerce(setup, {"first": 10}, remembered).coerced == {"first": 10, "locale": "en"}
    assert len(remembered) == 2


def test_equal_values_of_another_type_are_not_answered_from_memory(setup: tuple[Any, Any, Limits]) -> None:
    remembered: dict[Any, Any] = {}
    assert coerce(setup, {"first": 1}, remembered).coerced == {"first": 1, "locale": "en"}
    for other in (True, 1.5):
        with pytest.raises(RequestError) as refused:
            coerce(setup, {"first": other}, remembered)
        assert refused.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert coerce(setup, {"first": 1.0}, remembered).coerced["first"] == 1  # Int accepts 1.0
    assert len(remembered) == 2  # 1 and 1.0; the refusals were not kept


def test_only_small_plain_sets_are_kept(setup: tuple[Any, Any, Limits]) -> None:
    remembered: dict[Any, Any] = {}
    coerce(setup, {"first": 3, "locale": "kk"}, remembered)
    with pytest.raises(RequestError):
        coerce(setup, {"first": 3, "locale": "x" * 500}, remembered)
    with pytest.raises(RequestError):
        coerce(setup, {"first": [3]}, remembered)
    assert len(remembered) == 1
    for n in range(REMEMBERED_PER_DOCUMENT + 10):
        coerce(setup, {"first": n}, remembered)
    assert len(remembered) == REMEMBERED_PER_DOCUMENT  # bounded; later sets are coerced each time
    assert coerce(setup, {"first": 999}, remembered).coerced["first"] == 999


def test_ids_tokens_and_undeclared_variables_are_never_kept(setup: tuple[Any, Any, Limits]) -> None:
    """Long texts (ids, invitation tokens, e-mail addresses) are coerced every time, so no
    secret stays in memory; a set with an undeclared variable is never answered from memory,
    since that variable is still checked (a NUL in it refuses the request)."""
    remembered: dict[Any, Any] = {}
    assert coerce(setup, {"first": 2, "locale": "kk"}, remembered).coerced["locale"] == "kk"
    assert len(remembered) == 1
    with pytest.raises(RequestError) as refused:
        coerce(setup, {"first": 2, "locale": "kk", "extra": "a\u0000b"}, remembered)
    assert refused.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    coerce(setup, {"first": 2, "locale": "kk", "extra": "fine"}, remembered)
    assert len(remembered) == 1
    operation = setup[1].operation("Page")
    token = "inv_" + "Zx9" * 12
    assert _remembered_as(operation, {"first": 2, "locale": token}) is None  # long: never kept
    assert _remembered_as(operation, {"first": 2, "extra": "fine"}) is None  # undeclared
    assert _remembered_as(operation, {"first": 2, "locale": "kk"}) is not None


# ---------------------------------------------------------------- scalar and enum variables
# Sets not remembered are coerced by schema.admission.variables._Leaves where every variable
# is of a scalar or enum type: exactly graphql-core's answer when it has one, and graphql-core
# itself (its errors) for everything else.

LEAF_TYPES = [
    "ID",
    "String",
    "Int",
    "Float",
    "Boolean",
    "LanguageCode",
    "CountryCode",
    "DateTime",
    "Date",
    "Theme",
]
LEAF_DEFAULTS = {
    "Int": "3",
    "String": '"x"',
    "LanguageCode": '"kk"',
    "Theme": "ENVIRONMENT",
    "Boolean": "true",
}

leaf_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**33), 2**33),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "",
            "kk",
            "en",
            "ru",
            "XX",
            "KZ",
            "kz",
            "ENVIRONMENT",
            "2026-12-07",
            "2026-12-07T10:00:00Z",
            "1.5",
            "7",
        ]
    ),
    st.text(max_size=6),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 2), max_size=1),
)


@st.composite
def leaf_operations(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    declared = []
    raw: dict[str, Any] = {}
    for index in range(draw(st.integers(1, 4))):
        type_name = draw(st.sampled_from(LEAF_TYPES))
        non_null = draw(st.booleans())
        default = LEAF_DEFAULTS.get(type_name) if draw(st.booleans()) else None
        declared.append(
            f"$v{index}: {type_name}{'!' if non_null else ''}{f' = {default}' if default else ''}"
        )
        if draw(st.booleans()):  # else missing
            raw[f"v{index}"] = draw(leaf_values)
    return f"query Leaves({', '.join(declared)}) {{ __typename }}", raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=leaf_operations())
def test_scalar_and_enum_variables_coerce_as_graphql_core(setup: tuple[Any, Any, Limits], case: Any) -> None:
    schema, _prepared, _limits = setup
    document, raw = case
    operation = parse(document).definitions[0]  # unused variables: coerced all the same
    assert isinstance(operation, OperationDefinitionNode)
    leaves = _leaves_of(schema, operation, None)
    assert leaves is not None
    expected = get_variable_values(schema, operation.variable_definitions or (), raw)
    got = leaves.coerce(raw)
    if isinstance(expected, list):
        assert got is None, (document, raw, got)
    else:
        assert got is not None, (document, raw, expected)
        assert got.coerced == expected.coerced and list(got.coerced) == list(expected.coerced)
        assert [type(value) for value in got.coerced.values()] == [type(v) for v in expected.coerced.values()]
        assert _sources(got) == _sources(expected)


def _sources(values: Any) -> list[tuple[Any, ...]]:
    # Signatures are built per call (compared by what they say, not by identity).
    return [
        (name, source.signature.name, str(source.signature.type), _default(source.signature), source.value)
        for name, source in values.sources.items()
    ]


def _default(signature: Any) -> Any:
    default = signature.default
    if not default:
        return None
    return print_ast(default.literal) if default.literal is not None else default.value


def test_lists_and_input_objects_go_to_graphql_core(setup: tuple[Any, Any, Limits]) -> None:
    schema, _prepared, _limits = setup
    for declared in ("$ids: [ID!]!", "$filter: ExchangeFilter"):
        operation = parse(f"query Many({declared}) {{ __typename }}").definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        assert _leaves_of(schema, operation, None) is None


def test_a_fresh_id_is_coerced_without_graphql_core(
    setup: tuple[Any, Any, Limits], monkeypatch: pytest.MonkeyPatch
) -> None:
    schema, _prepared, limits = setup
    prepared = prepare(
        schema,
        'query One($id: ID!, $l: LanguageCode = "en") { node(id: $id) { ... on ExperienceExchange { title(locale: $l) } } }',
        limits,
    )
    assert not prepared.errors

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("graphql-core asked")

    monkeypatch.setattr("schema.admission.variables.get_variable_values", refuse)
    one = prepared.operation("One")
    for global_id in ("RXhjaGFuZ2U6OQ", "RXhjaGFuZ2U6MTA"):
        values = coerce_variables(schema, one, {"id": global_id}, limits, {}, prepared.coercions)
        assert values.coerced == {"id": global_id, "l": "en"}
    assert list(prepared.coercions) == [id(one)]  # compiled once, kept with its document
    monkeypatch.undo()
    with pytest.raises(RequestError) as refused:  # graphql-core's own refusal
        coerce_variables(schema, prepared.operation("One"), {"id": None}, limits, {})
    assert refused.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "$id" in refused.value.errors[0]["message"]
