"""graphql-core's errors for values it will not complete (schema.engine.completing), with its
exact messages: a null in a non-null field, a list field's value that is not iterable, an
abstract type's runtime type that is missing, unknown or not one of its possible types."""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, GraphQLAbstractType, GraphQLError, GraphQLObjectType, GraphQLSchema
from graphql.pyutils import inspect as inspect_value

from schema.engine.field_plans import FieldPlan


def non_null_error(parent: GraphQLObjectType, field_plan: FieldPlan) -> TypeError:
    return TypeError(f"Cannot return null for non-nullable field {parent.name}.{field_plan.name}.")


def not_iterable_error(parent: GraphQLObjectType, field_plan: FieldPlan) -> GraphQLError:
    return GraphQLError(
        f"Expected Iterable, but did not find one for field '{parent.name}.{field_plan.name}'."
    )


def runtime_type(
    schema: GraphQLSchema,
    abstract: GraphQLAbstractType,
    runtime_name: Any,
    value: Any,
    parent: GraphQLObjectType,
    field_plan: FieldPlan,
    nodes: list[FieldNode],
) -> GraphQLObjectType:
    """The object type ``resolve_type`` named, checked as graphql-core checks it (same errors)."""
    if runtime_name is None:
        raise GraphQLError(
            f"Abstract type '{abstract}' must resolve to an Object type at runtime"
            f" for field '{parent.name}.{field_plan.name}'. Either the '{abstract}' type should provide"
            " a 'resolve_type' function or each possible type should provide an 'is_type_of' function.",
            nodes,
        )
    if not isinstance(runtime_name, str):
        raise GraphQLError(
            f"Abstract type '{abstract}' must resolve to an Object type at runtime"
            f" for field '{parent.name}.{field_plan.name}' with value {inspect_value(value)},"
            f" received '{inspect_value(runtime_name)}', which is not a valid Object type name.",
            nodes,
        )
    runtime = schema.get_type(runtime_name)
    if runtime is None:
        raise GraphQLError(
            f"Abstract type '{abstract}' was resolved to a type '{runtime_name}'"
            " that does not exist inside the schema.",
            nodes,
        )
    if not isinstance(runtime, GraphQLObjectType):
        raise GraphQLError(
            f"Abstract type '{abstract}' was resolved to a non-object type '{runtime_name}'.", nodes
        )
    if not schema.is_sub_type(abstract, runtime):
        raise GraphQLError(f"Runtime Object type '{runtime}' is not a possible type for '{abstract}'.", nodes)
    return runtime
