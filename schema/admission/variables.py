"""Admission step 4: the variables, coerced to the operation's types, and their list sizes.

Coercion is a function of the operation and the values alone, and clients send the same few
small variable sets again and again (a page size, a locale, a country): a document remembers
the coerced values of up to ``REMEMBERED_PER_DOCUMENT`` such sets (profiled at 0.08 ms a
request, most of it coercing the defaults again). Only short plain scalars are remembered:
no ids, tokens, e-mail addresses or search texts (nothing secret stays in memory this way),
at most 8 declared variables with short names, so what a document keeps is a few kB at most
whatever clients send. Execution only reads the values."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from graphql import GraphQLSchema, OperationDefinitionNode
from graphql.execution.values import VariableValues, get_variable_values

from exchange.errors import TransportCode
from schema.admission.limits import Limits
from schema.admission.literals import contains_nul, input_list_error, longest_list, nul_error
from schema.admission.refusal import RequestError

REMEMBERED_PER_DOCUMENT = 4
_MOST_VARIABLES = 8
_SHORT_NAME = 32
_SHORT_TEXT = 16  # a language or country code, an enum value; not an id or a token
_SCALARS = (str, int, float, bool, type(None))


def _remembered_as(operation: OperationDefinitionNode, raw: dict[str, Any]) -> Hashable | None:
    """The key of a small set of short plain scalars, every one a declared variable (an
    undeclared one is still checked for NUL and list sizes, so it is never answered from
    memory); types included: 1, 1.0 and True are equal in Python and coerce differently.
    None for anything else."""
    if len(raw) > _MOST_VARIABLES:
        return None
    declared = {definition.variable.name.value for definition in operation.variable_definitions or ()}
    items = []
    for name, value in raw.items():
        kind = value.__class__
        if (
            name not in declared
            or len(name) > _SHORT_NAME
            or kind not in _SCALARS
            or (kind is str and len(value) > _SHORT_TEXT)
        ):
            return None
        items.append((name, kind, value))
    return (id(operation), tuple(sorted(items, key=lambda item: item[0])))


def coerce_variables(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    raw: dict[str, Any],
    limits: Limits,
    remembered: dict[Hashable, VariableValues] | None = None,
) -> VariableValues:
    """The coerced values (raises RequestError with BAD_USER_INPUT); ``remembered``: the
    document's earlier results (schema.admission.prepared.Prepared.variables)."""
    key = None if remembered is None else _remembered_as(operation, raw)
    if remembered is None or key is None:
        return _coerce(schema, operation, raw, limits)
    found = remembered.get(key)
    if found is None:
        found = _coerce(schema, operation, raw, limits)
        if len(remembered) < REMEMBERED_PER_DOCUMENT:
            remembered[key] = found
    return found


def _coerce(
    schema: GraphQLSchema, operation: OperationDefinitionNode, raw: dict[str, Any], limits: Limits
) -> VariableValues:
    coerced_or_errors = get_variable_values(
        schema,
        operation.variable_definitions or (),
        raw,
        max_errors=20,
        hide_suggestions=limits.hide_suggestions,
    )
    if isinstance(coerced_or_errors, list):
        for error in coerced_or_errors:
            error.extensions = {**(error.extensions or {}), "code": TransportCode.BAD_USER_INPUT}
        raise RequestError.graphql(coerced_or_errors)
    longest = longest_list(raw)
    if longest > limits.max_input_list:
        raise RequestError.graphql([input_list_error(longest, limits)])
    if contains_nul(raw):
        raise RequestError.graphql([nul_error()])
    return coerced_or_errors
