"""Admission step 4 (schema/admission/variables.py): coerced values are remembered per
document for small sets of plain scalars, and what is remembered never answers a different
set: values equal in Python but of another type (1, 1.0, True) are coerced (or refused) on
their own; large or nested values are never kept; a refusal is never kept."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.settings import Settings
from schema.admission.limits import Limits
from schema.admission.prepared import prepare
from schema.admission.refusal import RequestError
from schema.admission.variables import REMEMBERED_PER_DOCUMENT, _remembered_as, coerce_variables
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
