"""Completing a field's values as graphql-core completes them (schema.engine.execution):
leaves serialised, objects checked and placed in the next level's groups, lists item by
item, and graphql-core's error for a value it would not complete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from graphql import GraphQLError, GraphQLObjectType, GraphQLResolveInfo
from graphql.execution import default_type_resolver
from graphql.pyutils import Undefined, is_iterable
from graphql.pyutils import inspect as inspect_value

from schema.engine.completion_errors import non_null_error, not_iterable_error, runtime_type
from schema.engine.failures import Failure, Round
from schema.engine.field_plans import LEAF, LIST, OBJECT, Completion, FieldPlan, ObjectPlan
from schema.engine.state import FAILED, ExecutionState, Group


class Placing(NamedTuple):
    """Where a field's object values go: the field, the group it is resolved for, that
    level's round, and the next level's groups (by id of their ObjectPlan)."""

    field_plan: FieldPlan
    group: Group
    round_: Round
    next_level: dict[int, Group]

    def group_of(self, object_plan: ObjectPlan) -> Group:
        """The next level's group of ``object_plan``, made when its first object comes."""
        child = self.next_level.get(id(object_plan))
        if child is None:
            child = self.next_level[id(object_plan)] = Group(
                object_plan, [], [], self.group, self.field_plan, self.round_
            )
        return child


class Completing(ExecutionState):
    """Completion of a column of values, fast, or one by one where one fails."""

    def completer(
        self,
        completion: Completion,
        info: GraphQLResolveInfo | None,
        field_plan: FieldPlan,
        group: Group,
        round_: Round,
        next_level: dict[int, Group],
    ) -> Callable[[Any], Any]:
        """The function completing one value of this field (recursively for lists). It raises
        graphql-core's error for a value graphql-core would not complete; the caller then
        completes the field's values one by one (``complete_one_by_one``) to place it."""
        non_null = completion.non_null
        kind = completion.kind
        parent = group.plan.type
        if kind == LEAF:
            return _leaf_completer(completion, parent, field_plan)
        if kind == LIST:
            assert completion.item is not None
            item = self.completer(completion.item, info, field_plan, group, round_, next_level)

            def listed(value: Any) -> Any:
                if value is None:
                    if non_null:
                        raise non_null_error(parent, field_plan)
                    return None
                if not is_iterable(value):
                    raise not_iterable_error(parent, field_plan)
                return [item(element) for element in value]

            return listed
        resolve_info = info if info is not None else self.info(field_plan, parent)
        placing = Placing(field_plan, group, round_, next_level)
        if kind == OBJECT:
            return self.object_completer(completion, resolve_info, placing)
        return self.abstract_completer(completion, resolve_info, placing)

    def object_completer(
        self, completion: Completion, resolve_info: GraphQLResolveInfo, placing: Placing
    ) -> Callable[[Any], Any]:
        """An object value: checked by its type's ``is_type_of``, then placed in the next
        level's group of its selection."""
        field_plan = placing.field_plan
        non_null, parent, nodes = completion.non_null, placing.group.plan.type, list(field_plan.nodes)
        assert completion.object_plan is not None
        child = placing.group_of(completion.object_plan.get())
        sources, results = child.sources, child.results
        object_type = child.plan.type
        is_type_of = object_type.is_type_of

        def obj(value: Any) -> Any:
            if value is None:
                if non_null:
                    raise non_null_error(parent, field_plan)
                return None
            if is_type_of is not None and not is_type_of(value, resolve_info):
                raise GraphQLError(
                    f"Expected value of type '{object_type}' but got: {inspect_value(value)}.", nodes
                )
            result: dict[str, Any] = {}
            sources.append(value)
            results.append(result)
            return result

        return obj

    def abstract_completer(
        self, completion: Completion, resolve_info: GraphQLResolveInfo, placing: Placing
    ) -> Callable[[Any], Any]:
        """A value of an interface or union: its runtime type resolved and checked as
        graphql-core checks it, then placed in the group of that type's plan."""
        field_plan = placing.field_plan
        non_null, parent, nodes = completion.non_null, placing.group.plan.type, list(field_plan.nodes)
        abstract = completion.abstract
        assert abstract is not None
        resolve_type = abstract.resolve_type or default_type_resolver
        operation = self.plan
        schema = operation.schema

        def abstract_value(value: Any) -> Any:
            if value is None:
                if non_null:
                    raise non_null_error(parent, field_plan)
                return None
            runtime_name = resolve_type(value, resolve_info, abstract)
            runtime = runtime_type(schema, abstract, runtime_name, value, parent, field_plan, nodes)
            object_plan = operation.runtime_plan(completion, runtime)
            is_type_of = runtime.is_type_of
            if is_type_of is not None and not is_type_of(value, resolve_info):
                raise GraphQLError(
                    f"Expected value of type '{runtime}' but got: {inspect_value(value)}.", nodes
                )
            child = placing.group_of(object_plan)
            result: dict[str, Any] = {}
            child.sources.append(value)
            child.results.append(result)
            return result

        return abstract_value

    def complete_one_by_one(
        self,
        group: Group,
        field_plan: FieldPlan,
        column: list[Any],
        info: GraphQLResolveInfo | None,
        round_: Round,
        next_level: dict[int, Group],
    ) -> None:
        """A field's values completed one at a time, each failure noted where it happened.
        The fast pass may have placed some objects already: its groups start again."""
        for child in next_level.values():
            if child.field is field_plan:
                child.sources.clear()
                child.results.clear()
        completion = field_plan.completion
        assert completion is not None
        key = field_plan.key
        for index, (result, value) in enumerate(zip(group.results, column, strict=True)):
            if value is FAILED:
                result[key] = None
            else:
                result[key] = self.complete_value(
                    completion, value, info, field_plan, group, index, (), round_, next_level
                )

    def complete_value(
        self,
        completion: Completion,
        value: Any,
        info: GraphQLResolveInfo | None,
        field_plan: FieldPlan,
        group: Group,
        index: int,
        indices: tuple[int, ...],
        round_: Round,
        next_level: dict[int, Group],
    ) -> Any:
        """One value completed, or None with its failure noted (list items one by one)."""
        try:
            if completion.kind == LIST and value is not None:
                if not is_iterable(value):
                    raise not_iterable_error(group.plan.type, field_plan)
                item = completion.item
                assert item is not None
                return [
                    self.complete_value(
                        item,
                        element,
                        info,
                        field_plan,
                        group,
                        index,
                        (*indices, position),
                        round_,
                        next_level,
                    )
                    for position, element in enumerate(value)
                ]
            # Leaves and objects place nothing before they succeed: the fast function will do.
            return self.completer(completion, info, field_plan, group, round_, next_level)(value)
        except Exception as error:
            self.failures.append(Failure(group, index, field_plan, indices, error, round_))
            return None


def _leaf_completer(
    completion: Completion, parent: GraphQLObjectType, field_plan: FieldPlan
) -> Callable[[Any], Any]:
    """A leaf value: serialised by its scalar or enum, graphql-core's error where that gives
    nothing."""
    non_null = completion.non_null
    serialize = completion.serialize
    assert serialize is not None
    leaf_type = completion.leaf_type

    def leaf(value: Any) -> Any:
        if value is None:
            if non_null:
                raise non_null_error(parent, field_plan)
            return None
        serialized = serialize(value)
        if serialized is Undefined or serialized is None:
            raise TypeError(
                f"Expected `{inspect_value(leaf_type)}.coerce_output_value({inspect_value(value)})`"
                f" to return non-nullable value, returned: {inspect_value(serialized)}"
            )
        return serialized

    return leaf
