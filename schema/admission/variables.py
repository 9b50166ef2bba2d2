"""Admission step 4: the variables, coerced to the operation's types, and their list sizes."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLSchema, OperationDefinitionNode
from graphql.execution.values import VariableValues, get_variable_values

from exchange.errors import TransportCode
from schema.admission.limits import Limits
from schema.admission.literals import contains_nul, input_list_error, longest_list, nul_error
from schema.admission.refusal import RequestError


def coerce_variables(
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
