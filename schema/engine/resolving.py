"""Resolving one field for a group of objects (schema.engine.execution): attributes, the
resolver's own DataLoader call, and resolvers, with each failure noted where it happened."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo
from graphql.execution import default_field_resolver
from graphql.execution.values import get_argument_values

from schema.engine.drive import Load
from schema.engine.field_plans import DIRECT, FieldPlan
from schema.engine.state import ExecutionState, Group


class Resolving(ExecutionState):
    """Column by column: one field's values for all objects of a group."""

    def attributes_one_by_one(self, group: Group, field_plan: FieldPlan, sources: list[Any]) -> list[Any]:
        column: list[Any] = []
        attribute = field_plan.attribute
        for index, source in enumerate(sources):
            column.append(None)
            try:
                column[index] = getattr(source, attribute)
            except Exception as error:
                self.fail(group, index, field_plan, column, error, group.round)
        return column

    def load_column(
        self, group: Group, field_plan: FieldPlan, sources: list[Any], column: list[Any], loads: list[Load]
    ) -> None:
        """The resolver's own DataLoader call (schema.engine.fastpath.LoaderCall) for every source:
        values already loaded go straight in, the others wait with the level's awaitables. An
        error here is the resolver's, raised inside its coroutine (a task's step in graphql-core)."""
        call = field_plan.loader_call
        assert call is not None
        where = (group, field_plan)
        key_of, optional = call.key, call.optional
        in_coroutine = (group.round[0], group.round[1] + 1)
        try:
            load = getattr(self.context.loaders, call.loader).load
        except Exception as error:
            for index in range(len(sources)):
                column.append(None)
                self.fail(group, index, field_plan, column, error, in_coroutine)
            return
        try:
            for source in sources:
                key = getattr(source, key_of)
                if key is None and optional:
                    column.append(None)
                    continue
                future = load(key)
                if future.done() and not future.cancelled() and future.exception() is None:
                    column.append(future.result())
                else:
                    loads.append((future, column, len(column), where))
                    column.append(None)
            return
        except Exception as error:
            self.fail(group, len(column), field_plan, column, error, in_coroutine, append=True)
        # After a failure, one object at a time (the rest of the column).
        for index in range(len(column), len(sources)):
            try:
                key = getattr(sources[index], key_of)
                future = None if key is None and optional else load(key)
            except Exception as error:
                self.fail(group, index, field_plan, column, error, in_coroutine, append=True)
                continue
            if future is not None:
                loads.append((future, column, index, where))
            column.append(None)

    def resolve_column(
        self,
        group: Group,
        field_plan: FieldPlan,
        info: GraphQLResolveInfo,
        sources: list[Any],
        column: list[Any],
    ) -> None:
        """Calls the field's resolver for every source, appending to ``column``."""
        try:
            if field_plan.arguments is not None:
                arguments = field_plan.arguments.values(self.variable_values)
            else:
                assert field_plan.definition is not None
                arguments = get_argument_values(
                    field_plan.definition, field_plan.nodes[0], self.variable_values
                )
        except Exception as error:
            # graphql-core coerces the arguments for each object: each fails alike.
            for index in range(len(sources)):
                column.append(None)
                self.fail(group, index, field_plan, column, error, group.round)
            return
        call: Callable[[Any], Any]
        if field_plan.kind == DIRECT:
            assert field_plan.direct is not None
            call = field_plan.direct.bind(info, arguments)
            try:
                for source in sources:
                    column.append(call(source))
                return
            except Exception as error:
                self.fail(group, len(column), field_plan, column, error, group.round, append=True)
        else:
            assert field_plan.definition is not None
            resolve = field_plan.definition.resolve or default_field_resolver
            try:
                for source in sources:
                    column.append(resolve(source, info, **arguments))
                return
            except Exception as error:
                self.fail(group, len(column), field_plan, column, error, group.round, append=True)
            call = functools.partial(_call_resolver, resolve, info, arguments)
        # After a failure, one object at a time (the rest of the column).
        for index in range(len(column), len(sources)):
            column.append(None)
            try:
                column[index] = call(sources[index])
            except Exception as error:
                self.fail(group, index, field_plan, column, error, group.round)


def _call_resolver(
    resolve: Callable[..., Any], info: GraphQLResolveInfo, arguments: dict[str, Any], source: Any
) -> Any:
    return resolve(source, info, **arguments)
