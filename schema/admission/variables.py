"""Admission step 4: the variables, coerced to the operation's types, and their list sizes.

Coercion is a function of the operation and the values alone, and clients send the same few
small variable sets again and again (a page size, a locale, a country): a document remembers
the coerced values of up to ``REMEMBERED_PER_DOCUMENT`` such sets (profiled at 0.08 ms a
request, most of it coercing the defaults again). Only short plain scalars are remembered:
no ids, tokens, e-mail addresses or search texts (nothing secret stays in memory this way),
at most 8 declared variables with short names, so what a document keeps is a few kB at most
whatever clients send. Execution only reads the values.

Sets that are not remembered (an id, a cursor, a search text) are coerced per request. Where
every variable the operation declares is of a scalar or enum type, graphql-core's coercion
comes down to each type's own ``coerce_input_value``, the defaults and the null rules; that
is done here directly (``_Leaves``), without graphql-core's walk over the definitions (about
600 bytecodes a request, profiled on a node lookup). Whatever that path does not accept
as valid (a missing required value, a null for a non-null type, a value its type refuses)
goes to graphql-core, which answers with its own errors."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLNonNull,
    GraphQLSchema,
    OperationDefinitionNode,
    Undefined,
    is_leaf_type,
)
from graphql.execution.get_variable_signature import get_variable_signature
from graphql.execution.values import VariableValues, VariableValueSource, get_variable_values
from graphql.utilities.coerce_input_value import coerce_default_value

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
    compiled: dict[int, Any] | None = None,
) -> VariableValues:
    """The coerced values (raises RequestError with BAD_USER_INPUT); ``remembered``: the
    document's earlier results (schema.admission.prepared.Prepared.variables); ``compiled``:
    its operations' coercions (Prepared.coercions)."""
    key = None if remembered is None else _remembered_as(operation, raw)
    if remembered is None or key is None:
        return _coerce(schema, operation, raw, limits, compiled)
    found = remembered.get(key)
    if found is None:
        found = _coerce(schema, operation, raw, limits, compiled)
        if len(remembered) < REMEMBERED_PER_DOCUMENT:
            remembered[key] = found
    return found


def _coerce(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    raw: dict[str, Any],
    limits: Limits,
    compiled: dict[int, Any] | None,
) -> VariableValues:
    leaves = _leaves_of(schema, operation, compiled)
    coerced = None if leaves is None else leaves.coerce(raw)
    coerced_or_errors = (
        coerced
        if coerced is not None
        else get_variable_values(
            schema,
            operation.variable_definitions or (),
            raw,
            max_errors=20,
            hide_suggestions=limits.hide_suggestions,
        )
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


class _Leaves:
    """An operation whose variables are all of scalar or enum types, coerced as graphql-core's
    ``coerce_variable_values`` does when every value is valid; None where it would report
    an error (graphql-core then runs and reports it)."""

    def __init__(self, variables: list[tuple[str, Any, Any, bool, bool]]) -> None:
        # (name, signature, scalar or enum type, non-null, has a default)
        self.variables = variables

    def coerce(self, raw: dict[str, Any]) -> VariableValues | None:
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        for name, signature, leaf, non_null, has_default in self.variables:
            value = raw.get(name, Undefined)
            if value is Undefined:
                sources[name] = VariableValueSource(signature)
                if has_default:
                    try:
                        default = coerce_default_value(signature)  # graphql-core keeps it once coerced
                    except TypeError:
                        return None
                    if default is not Undefined:
                        coerced[name] = default
                    continue
                if non_null:
                    return None
                continue  # a nullable variable without a value is left out
            sources[name] = VariableValueSource(signature, value)
            if value is None:
                if non_null:
                    return None
                coerced[name] = None
                continue
            try:
                value = leaf.coerce_input_value(value)
            except Exception:
                return None
            if value is Undefined:
                return None
            coerced[name] = value
        return VariableValues(sources, coerced)


def _leaves_of(
    schema: GraphQLSchema, operation: OperationDefinitionNode, compiled: dict[int, _Leaves | None] | None
) -> _Leaves | None:
    """The operation's _Leaves (None: a variable of a list or input object type), kept in
    ``compiled`` (its document's, which lives as long as the document is cached) by the
    operation's identity (the document holds it)."""
    if compiled is None:
        return _compile_leaves(schema, operation)
    key = id(operation)
    if key not in compiled:
        compiled[key] = _compile_leaves(schema, operation)
    return compiled[key]


def _compile_leaves(schema: GraphQLSchema, operation: OperationDefinitionNode) -> _Leaves | None:
    variables: list[tuple[str, Any, Any, bool, bool]] = []
    for definition in operation.variable_definitions or ():
        signature = get_variable_signature(schema, definition)
        if isinstance(signature, GraphQLError):
            return None
        type_ = signature.type
        non_null = isinstance(type_, GraphQLNonNull)
        leaf = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if not is_leaf_type(leaf):
            return None
        variables.append((signature.name, signature, leaf, non_null, bool(definition.default_value)))
    return _Leaves(variables)
