"""What one execution of a compiled plan holds (schema.engine.execution): the groups of
objects at each depth, the failures noted so far, the resolve info of a field, and how a
failure is noted (schema.engine.failures reports them)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from graphql import GraphQLObjectType, GraphQLResolveInfo
from graphql.execution.values import VariableValues
from graphql.pyutils import Path

from schema.engine.compiling import OperationPlan
from schema.engine.failures import Failure, Round
from schema.engine.field_plans import FieldPlan, ObjectPlan


@dataclass(eq=False)
class Group:
    """Objects at one depth that share a selection: their sources and their result dicts.

    ``parent`` and ``field`` say where they come from (the parent group's objects' values of
    that field), and ``round`` how far into the execution graphql-core would reach them (see
    schema.engine.failures.Round): enough to rebuild an
    object's path and order its errors when one fails (schema.engine.failures), at no cost
    per object."""

    plan: ObjectPlan
    sources: list[Any] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    parent: Group | None = None
    field: FieldPlan | None = None
    round: Round = (0, 0)


# A value whose resolver or load failed (the failure is noted): completed as null.
FAILED: Any = type("_Failed", (), {"__repr__": lambda _self: "<failed>"})()


class ExecutionState:
    """The execution's inputs and its failures (resolving and completing share them)."""

    def __init__(
        self,
        plan: OperationPlan,
        context: Any,
        variable_values: VariableValues,
        root_value: Any,
    ) -> None:
        self.plan = plan
        self.context = context
        self.variable_values = variable_values
        self.root_value = root_value
        self.failures: list[Failure] = []
        # ids of the columns holding a FAILED value (completed one by one).
        self.failed_columns: set[int] = set()
        # Row mode for this execution, until a row subtree fails; the fields whose row subtree
        # failed in the level being resolved: (group, field, column).
        self.rows_on = True
        self.rows_failed_here: list[tuple[Group, FieldPlan, list[Any]]] = []

    def info(self, field_plan: FieldPlan, parent: GraphQLObjectType) -> GraphQLResolveInfo:
        plan = self.plan
        definition = field_plan.definition
        assert definition is not None
        return GraphQLResolveInfo(
            field_plan.name,
            list(field_plan.nodes),
            definition.type,
            parent,
            Path(None, field_plan.key, parent.name),
            plan.schema,
            plan.fragments,
            self.root_value,
            plan.operation,
            self.variable_values,
            self.context,
            is_awaitable,
            None,
            None,  # type: ignore[arg-type]
        )

    # ------------------------------------------------------------ failures

    def fail(
        self,
        group: Group,
        index: int,
        field_plan: FieldPlan,
        column: list[Any],
        error: BaseException,
        round_: Round,
        append: bool = False,
    ) -> None:
        """A field's resolver (or load) failed for one object: its value completes as null.
        ``append``: the value's place is the column's next one."""
        if append:
            column.append(FAILED)
        else:
            column[index] = FAILED
        self.failed_columns.add(id(column))
        self.failures.append(Failure(group, index, field_plan, (), error, round_))

    def fail_awaited(
        self, where: Any, column: list[Any], index: int, error: BaseException, waited: bool
    ) -> None:
        group, field_plan = where
        waits, hops = group.round
        self.fail(group, index, field_plan, column, error, (waits + waited, hops + 1))


def is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    return hasattr(type(value), "__await__") and not isinstance(value, type)
