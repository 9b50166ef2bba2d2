"""Compiling an operation into the plan's shapes (schema.engine.field_plans): over the fields
collected as graphql-core collects them (schema.engine.collecting), per field its kind,
completion and row subtree, and the cache of plans per document and directive values
(``compile_operation``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_abstract_type,
)
from strawberry.types.field import StrawberryField

from schema.engine.arguments import Arguments, arguments_of
from schema.engine.collecting import FieldCollector, directive_variables, refuse_other_directives
from schema.engine.columns import document_columns
from schema.engine.fastpath import BACKREF, DIRECT_KEY, DirectCall
from schema.engine.field_plans import (
    ABSTRACT,
    ATTRIBUTE,
    DIRECT,
    LEAF,
    LIST,
    LOADER,
    OBJECT,
    RESOLVER,
    STATS,
    TYPENAME,
    Completion,
    Fallback,
    FieldPlan,
    LazyPlan,
    ObjectPlan,
)
from schema.engine.lookup import compile_lookup
from schema.engine.rows import compile_row_field


class OperationPlan(FieldCollector):
    """Compiled lazily: object plans are built the first time a level needs them, and the
    plans for an abstract field's runtime types the first time such an object shows up."""

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        directive_values: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.directive_values = directive_values
        root = schema.query_type
        if root is None:
            raise Fallback
        # Object plans below the root are compiled while the operation runs, when refusing is
        # too late: what would refuse them is looked for now.
        refuse_other_directives(operation, fragments)
        self.root = self.object_plan(root, (operation.selection_set,))
        # Columns each model's loaders select for this operation (schema.engine.columns).
        self.columns = document_columns(schema, operation, fragments)

    def object_plan(
        self, runtime: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> ObjectPlan:
        fields: list[FieldPlan] = []
        for key, nodes in self.collect(runtime, selection_sets).items():
            fields.append(self.field_plan(runtime, key, tuple(nodes)))
        return ObjectPlan(runtime, fields)

    def field_plan(self, parent: GraphQLObjectType, key: str, nodes: tuple[FieldNode, ...]) -> FieldPlan:
        name = nodes[0].name.value
        if name == "__typename":
            return FieldPlan(key, name, nodes, None, TYPENAME)
        if name.startswith("__"):
            raise Fallback  # introspection: graphql-core's own resolvers
        definition = parent.fields.get(name)
        if definition is None:
            raise Fallback
        arguments: Arguments | None = None
        # A literal its scalar refuses: None, coerced (and reported) for each object at run time.
        with contextlib.suppress(Exception):
            arguments = arguments_of(definition, nodes[0])
        plan = FieldPlan(key, name, nodes, definition, RESOLVER, arguments=arguments)
        resolve = definition.resolve
        strawberry_field = (definition.extensions or {}).get(BACKREF)
        direct = (definition.extensions or {}).get(DIRECT_KEY)
        if (
            resolve is not None
            and getattr(resolve, "_is_default", False)
            and isinstance(strawberry_field, StrawberryField)
        ):
            plan.kind, plan.attribute = ATTRIBUTE, strawberry_field.python_name
        elif isinstance(direct, DirectCall) and direct.resolve is resolve:
            plan.kind, plan.direct, plan.is_async = DIRECT, direct, direct.is_async
            if direct.loader_call is not None and not definition.args:
                plan.kind, plan.loader_call = LOADER, direct.loader_call
        plan.completion = self.completion(definition.type, nodes)
        plan.rows = compile_row_field(self, parent, definition, nodes)
        if plan.rows is None and parent is self.schema.query_type:
            plan.rows = compile_lookup(self, definition, nodes)
        return plan

    def completion(self, type_: GraphQLOutputType, nodes: tuple[FieldNode, ...]) -> Completion:
        non_null = isinstance(type_, GraphQLNonNull)
        if non_null:
            type_ = type_.of_type  # type: ignore[union-attr]
        if isinstance(type_, GraphQLList):
            return Completion(LIST, non_null, item=self.completion(type_.of_type, nodes))
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            return Completion(LEAF, non_null, serialize=type_.coerce_output_value, leaf_type=type_)
        selection_sets = [node.selection_set for node in nodes if node.selection_set is not None]
        if isinstance(type_, GraphQLObjectType):
            return Completion(OBJECT, non_null, object_plan=LazyPlan(self, type_, selection_sets))
        if is_abstract_type(type_):
            return Completion(ABSTRACT, non_null, abstract=type_, nodes=nodes)
        raise Fallback

    def runtime_plan(self, completion: Completion, runtime: GraphQLObjectType) -> ObjectPlan:
        """The plan of an abstract field's objects of this (checked) runtime type."""
        plan = completion.runtime_plans.get(runtime.name)
        if plan is None:
            selection_sets = [
                node.selection_set for node in completion.nodes if node.selection_set is not None
            ]
            plan = completion.runtime_plans[runtime.name] = self.object_plan(runtime, selection_sets)
        return plan


def compile_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    cache: dict[Any, Any],
) -> OperationPlan | None:
    """The plan for this operation and these @skip/@include values, from ``cache`` (the
    prepared document's), or None where only graphql-core may run it."""
    if operation.operation is not OperationType.QUERY:
        return None
    key_names = cache.get(("directive-variables", id(operation)))
    if key_names is None:
        key_names = cache[("directive-variables", id(operation))] = directive_variables(operation, fragments)
    directive_values = {name: variables.get(name) for name in key_names}
    key = ("plan", id(operation), tuple(directive_values.values()))
    if key in cache:
        return cache[key]
    try:
        plan: OperationPlan | None = OperationPlan(schema, operation, fragments, directive_values)
    except Fallback:
        STATS["not compiled"] += 1
        plan = None
    cache[key] = plan
    return plan
