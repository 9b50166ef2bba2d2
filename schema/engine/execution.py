"""Executing a compiled plan breadth first (see schema.engine.plan): each level's fields
resolved for whole groups of objects, its awaitables driven together (schema.engine.drive),
row subtrees filled from rows (schema.engine.rows) or, when their fetch fails, through their
resolvers instead, then the values completed into the next level's groups."""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import ExecutionResult, GraphQLResolveInfo

from schema.engine.completing import Completing
from schema.engine.drive import Entry, Load, discard, drive
from schema.engine.failures import report
from schema.engine.field_plans import ATTRIBUTE, LOADER, RESOLVER, STATS, TYPENAME, FieldPlan
from schema.engine.resolving import Resolving
from schema.engine.state import Group, is_awaitable


@dataclass(eq=False)
class _Level:
    """What resolving one level collects before its awaitables are driven: per group and
    field, the column of values, the resolve info and whether graphql-core would await them."""

    values: list[list[list[Any]]] = field(default_factory=list)
    infos: list[list[GraphQLResolveInfo | None]] = field(default_factory=list)
    awaited: list[list[bool]] = field(default_factory=list)
    pending: list[Entry] = field(default_factory=list)
    loads: list[Load] = field(default_factory=list)
    waited: set[int] = field(default_factory=set)  # ids of the columns whose values waited on a future
    row_columns: set[int] = field(default_factory=set)  # ids of the columns of final values from rows


class Execution(Resolving, Completing):
    """One run of an operation's plan: levels resolved, driven and completed in turn."""

    async def run(self) -> ExecutionResult:
        data: dict[str, Any] = {}
        if not await self.root_from_rows(data):
            level = [Group(self.plan.root, [self.root_value], [data])]
            while level:
                level = await self.resolve_level(level)
        if not self.failures:
            return ExecutionResult(data, None)
        completed, errors = report(self.failures, data)
        return ExecutionResult(completed, errors)

    async def root_from_rows(self, data: dict[str, Any]) -> bool:
        """A root selection of one field answered from rows (a page, a lookup by id): its run
        awaited on its own, without a level's columns, infos and completion, nor a driven entry
        (about 530 bytecodes a request, counted). False where that is not so, or when its fetch
        failed: the levels then run as usual, and after a failure with row mode off, so the
        field's resolver answers it, as ``resolve_instead_of_rows`` would."""
        fields = self.plan.root.fields
        if len(fields) != 1 or not self.rows_on:
            return False
        field_plan = fields[0]
        rows = field_plan.rows
        run = None if rows is None else rows.prepare(self.context, self.variable_values)
        if run is None:
            return False
        column: list[Any] = [None]
        failed: list[bool] = []
        # Awaited on this task, not driven as an entry of its own: nothing runs beside it, so
        # the connection it lends itself (exchange.pinned, a context variable it sets and
        # resets) is seen by nobody else, and its waits and cancellation are the task's.
        STATS["rows"] += 1
        await run.fill([self.root_value], column, functools.partial(failed.append, True))
        if failed:
            self.rows_on = False
            return False
        data[field_plan.key] = column[0]
        return True

    # ------------------------------------------------------------ resolving

    async def resolve_level(self, groups: list[Group]) -> list[Group]:
        level = _Level()
        try:
            for group in groups:
                group_values: list[list[Any]] = []
                group_infos: list[GraphQLResolveInfo | None] = []
                group_awaited: list[bool] = []
                level.values.append(group_values)
                level.infos.append(group_infos)
                level.awaited.append(group_awaited)
                for field_plan in group.plan.fields:
                    column, info, is_async = self.start_field(level, group, field_plan, group_values)
                    group_values.append(column)
                    group_infos.append(info)
                    group_awaited.append(is_async)
            if level.pending or level.loads:
                await drive(level.pending, level.loads, self.fail_awaited, level.waited)
            if self.rows_failed_here:
                await self.resolve_instead_of_rows(groups, level)
        except BaseException:
            discard(value for group_values in level.values for column in group_values for value in column)
            raise
        return self.complete_level(groups, level)

    def start_field(
        self, level: _Level, group: Group, field_plan: FieldPlan, group_values: list[list[Any]]
    ) -> tuple[list[Any], GraphQLResolveInfo | None, bool]:
        """One field's values for the group's objects: final for sync fields, else filled by
        the level's drive. Returns the column, the resolve info (resolver kinds) and whether
        graphql-core would await the field's values."""
        kind = field_plan.kind
        parent = group.plan.type
        sources = group.sources
        column: list[Any]
        if kind == ATTRIBUTE:
            attribute = field_plan.attribute
            try:
                return [getattr(source, attribute) for source in sources], None, False
            except Exception:  # e.g. a column the loaders did not select
                return self.attributes_one_by_one(group, field_plan, sources), None, False
        if kind == TYPENAME:
            return [parent.name] * len(sources), None, False
        if (
            self.rows_on
            and field_plan.rows is not None
            and (rows := field_plan.rows.prepare(self.context, self.variable_values))
        ):
            column = [None] * len(sources)
            failed = functools.partial(self.rows_failed, group, field_plan, column)
            level.pending.append(_row_entry(rows, sources, column, failed))
            level.row_columns.add(id(column))
            level.waited.add(id(column))
            return column, None, True
        column = []
        group_values.append(column)  # visible to the clean-up while it fills
        try:
            if kind == LOADER:
                before = len(level.loads)
                self.load_column(group, field_plan, sources, column, level.loads)
                if len(level.loads) > before:
                    level.waited.add(id(column))
                return column, None, True  # the resolver is a coroutine function
            info = self.info(field_plan, parent)
            self.resolve_column(group, field_plan, info, sources, column)
        finally:
            group_values.pop()
        is_async = False
        if kind == RESOLVER or field_plan.is_async:
            where = (group, field_plan)
            for index, value in enumerate(column):
                if is_awaitable(value):
                    level.pending.append(Entry(value, column, index, where))
                    is_async = True
        return column, info, is_async

    def rows_failed(self, group: Group, field_plan: FieldPlan, column: list[Any]) -> None:
        """A row subtree's fetch failed (the database, or a null where the schema allows
        none): the field runs through its resolver instead (``resolve_instead_of_rows``)."""
        self.rows_on = False
        self.rows_failed_here.append((group, field_plan, column))

    async def resolve_instead_of_rows(self, groups: list[Group], level: _Level) -> None:
        """The fields whose row subtree failed, run for the same objects through their
        resolvers, as if row mode had never answered them: graphql-core's errors (one per
        object or list position where a resolver failed, nulls going up by the schema's
        non-null rules) come from the plan's own failure handling, in the same execution
        under the same deadline. Row mode is off for the rest of the execution (set by
        ``rows_failed``), so what failed is asked once more, through the resolvers only;
        the levels above it in the subtree are read again (on this failure path only)."""
        failed, self.rows_failed_here = self.rows_failed_here, []
        level.pending, level.loads = [], []
        for group, field_plan, column in failed:
            group_index, field_index = groups.index(group), group.plan.fields.index(field_plan)
            level.row_columns.discard(id(column))
            level.waited.discard(id(column))
            group_values = level.values[group_index]
            replacement, info, is_async = self.start_field(level, group, field_plan, group_values)
            group_values[field_index] = replacement
            level.infos[group_index][field_index] = info
            level.awaited[group_index][field_index] = is_async
        if level.pending or level.loads:
            await drive(level.pending, level.loads, self.fail_awaited, level.waited)

    def complete_level(self, groups: list[Group], level: _Level) -> list[Group]:
        """The level's values completed into their result dicts; the groups of the next level."""
        next_level: dict[int, Group] = {}
        failed_columns = self.failed_columns
        waited, row_columns = level.waited, level.row_columns
        for group, group_values, group_infos, group_awaited in zip(
            groups, level.values, level.infos, level.awaited, strict=True
        ):
            results = group.results
            for field_plan, column, info, is_async in zip(
                group.plan.fields, group_values, group_infos, group_awaited, strict=True
            ):
                key = field_plan.key
                completion = field_plan.completion
                if completion is None or id(column) in row_columns:
                    for result, value in zip(results, column, strict=True):
                        result[key] = value
                    continue
                round_ = (group.round[0] + (id(column) in waited), group.round[1] + is_async)
                if failed_columns and id(column) in failed_columns:
                    self.complete_one_by_one(group, field_plan, column, info, round_, next_level)
                    continue
                try:
                    complete = self.completer(completion, info, field_plan, group, round_, next_level)
                    for result, value in zip(results, column, strict=True):
                        result[key] = complete(value)
                except Exception:
                    self.complete_one_by_one(group, field_plan, column, info, round_, next_level)
        return list(next_level.values())


def _row_entry(run: Any, sources: list[Any], column: list[Any], failed: Callable[[], None]) -> Entry:
    """A row run filling ``column`` for ``sources``, to drive in a context of its own (the
    connection it lends itself stays its own); ``failed()`` on an error."""
    STATS["rows"] += 1
    return Entry(run.fill(sources, column, failed), [None], 0, context=contextvars.copy_context())
