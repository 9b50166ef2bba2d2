"""schema.engine.row_compiler's locale slots: a request works out each distinct locale argument
once (an env slot), whichever fields and levels give it; fields that give it differently keep
slots of their own. The answers themselves are compared with graphql-core's in test_rows.py
(SHARED_LOCALES)."""

from __future__ import annotations

from typing import Any

from graphql import print_ast

from bench.runner import operations as bench_operations
from exchange.settings import Settings
from schema.admission.limits import Limits
from schema.admission.prepared import prepare
from schema.build import default_schema
from schema.engine.plan import compile_operation


def root_row_field(query: str, settings: Settings) -> Any:
    schema = default_schema()._schema  # type: ignore[attr-defined]
    prepared = prepare(schema, query, Limits.from_settings(settings))
    assert not prepared.errors
    operation = prepared.operation(None)
    assert operation is not None
    plan = compile_operation(schema, operation, prepared.fragments, {}, prepared.plans)
    assert plan is not None
    (field_plan,) = plan.root.fields
    assert field_plan.rows is not None
    return field_plan.rows


def test_the_benchmark_page_works_out_its_locale_once(settings: Settings) -> None:
    # title and name(locale: $locale) in five places over four levels: one slot.
    rows = root_row_field(bench_operations()["ExchangesPage"], settings)
    assert len(rows.slots) == 1


def test_fields_that_give_the_locale_differently_keep_their_own_slots(settings: Settings) -> None:
    rows = root_row_field(
        """query($l: LanguageCode, $m: LanguageCode) { exchanges { edges { node {
            title(locale: $l) a: title(locale: $l) b: title(locale: $m) c: title(locale: "ru")
            e: title f: title
            host { name(locale: $l) g: name(locale: "ru") h: name } } } } }""",
        settings,
    )
    # $l, $m, the literal "ru", and none: four, whichever type or level gives them.
    given = sorted(
        print_ast(slot.node.arguments[0].value) if slot.node.arguments else "-" for slot in rows.slots
    )
    assert given == ['"ru"', "$l", "$m", "-"]
