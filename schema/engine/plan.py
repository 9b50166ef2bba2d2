"""Compiled execution of queries: a known document's fields resolved level by level.

graphql-core executes a query field by field: for every field of every object it builds a
resolve info, checks the result for awaitability, completes it through a chain of generic
calls and, for every awaited list item, creates an asyncio task. A page of exchanges has
about 3,000 fields, and that walk cost more than half of the server's CPU (bench/RESULTS.md).

This module compiles an operation once per document (kept with the prepared document in
``schema.admission.limits``) into a tree of per-type field plans, then executes it breadth first: all
objects of the same selection at the same depth form one group, and each field is resolved
for the whole group in one loop. Arguments are coerced once per field and group, not per
object; a resolver's Strawberry ``Info`` is built once per field and group. Async resolvers
(the DataLoader fields) are driven without tasks: each coroutine is stepped until it waits on
a future, the futures of the whole level are awaited together (so each loader still
dispatches one batch for the level), then every coroutine is resumed.

The result is exactly graphql-core's: same resolvers, same arguments, same serializers, same
``is_type_of`` and ``resolve_type`` checks, same key order, and, when a field fails (its
resolver or loader raises, a null in a non-null position, a value of the wrong type), the
same errors with their paths and the same partial data, in graphql-core's order
(schema.engine.failures): the plan runs an operation once, errors included. A declared
subtree answered from rows (schema.engine.rows) whose fetch fails runs through its resolvers
instead, in the same execution (``resolve_instead_of_rows``), so its errors are theirs too.
What it cannot
run at all (introspection at the root, directives other than @skip/@include, mutations and
subscriptions) is refused when compiling (``compile_operation`` gives None), before anything
runs, and graphql-core runs it instead.

What resolvers see differs in one way: ``info.path`` is the field's key under its parent
type (no list indices or ancestors), since the plan does not track per-object paths (an
error's path is rebuilt when it happens). No resolver here reads the path
(tests/api/test_plan.py checks the whole schema's documents against graphql-core).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import functools
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from graphql import (
    DirectiveNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    is_abstract_type,
    type_from_ast,
)
from graphql.execution import default_field_resolver, default_type_resolver
from graphql.execution.values import VariableValues, get_argument_values
from graphql.pyutils import Path, Undefined, is_iterable
from graphql.pyutils import inspect as inspect_value
from strawberry.types.field import StrawberryField

from schema.engine.columns import document_columns
from schema.engine.drive import Entry, Load, discard, drive
from schema.engine.failures import Failure, Round, report
from schema.engine.fastpath import BACKREF, DIRECT_KEY, DirectCall, LoaderCall
from schema.engine.lookup import LookupField, compile_lookup
from schema.engine.rows import RowField, compile_row_field
from schema.engine.rows import uses_variables as _uses_variables

_EXECUTABLE_DIRECTIVES = frozenset({"skip", "include"})


# How often the plan answered and how often a document was not compiled (tests and operators
# read these).
STATS: collections.Counter[str] = collections.Counter()


class Fallback(Exception):
    """Raised while compiling: the plan cannot run this operation; graphql-core runs it instead.
    Never raised once an operation runs."""


# ---------------------------------------------------------------- compiled shapes

# Field kinds: how a value is obtained for one object.
TYPENAME, ATTRIBUTE, DIRECT, RESOLVER, LOADER = range(5)
# Completion kinds: what is done with the value.
LEAF, OBJECT, ABSTRACT, LIST = range(4)


@dataclass(eq=False)
class Completion:
    kind: int
    non_null: bool
    serialize: Callable[[Any], Any] | None = None  # LEAF
    leaf_type: GraphQLScalarType | GraphQLEnumType | None = None  # LEAF, for its error message
    object_plan: _LazyPlan | None = None  # OBJECT
    abstract: GraphQLAbstractType | None = None  # ABSTRACT
    runtime_plans: dict[str, ObjectPlan] = field(default_factory=dict)  # ABSTRACT, by type name
    nodes: tuple[FieldNode, ...] = ()  # ABSTRACT: the selections to compile per runtime type
    item: Completion | None = None  # LIST


@dataclass(eq=False)
class FieldPlan:
    key: str
    name: str
    nodes: tuple[FieldNode, ...]
    definition: GraphQLField | None  # None for __typename
    kind: int
    attribute: str = ""
    direct: DirectCall | None = None
    loader_call: LoaderCall | None = None
    # The declared subtree (schema.engine.rows) or root lookup by id (schema.engine.lookup)
    # answered from rows, when the request allows; else the field runs as its kind says.
    rows: RowField | LookupField | None = None
    is_async: bool = False
    # Coerced arguments when they use no variable (the same for every request), else None.
    static_arguments: dict[str, Any] | None = None
    completion: Completion | None = None


@dataclass(eq=False)
class ObjectPlan:
    type: GraphQLObjectType
    fields: list[FieldPlan]


class OperationPlan:
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
        _refuse_other_directives(operation, fragments)
        self.root = self.object_plan(root, (operation.selection_set,))
        # Columns each model's loaders select for this operation (schema.engine.columns).
        self.columns = document_columns(schema, operation, fragments)

    # ------------------------------------------------------------ field collection

    def _included(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name not in _EXECUTABLE_DIRECTIVES:
                raise Fallback  # @defer, @stream, or anything graphql-core handles itself
            value = self._directive_argument(directive)
            if (name == "skip" and value is True) or (name == "include" and value is not True):
                return False
        return True

    def _directive_argument(self, directive: DirectiveNode) -> Any:
        for argument in directive.arguments or ():
            if argument.name.value == "if":
                value = argument.value
                if isinstance(value, VariableNode):
                    return self.directive_values.get(value.name.value)
                return getattr(value, "value", None)
        return None

    def _matches(self, condition: Any, runtime: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        conditional = type_from_ast(self.schema, condition)
        if conditional is runtime:
            return True
        if is_abstract_type(conditional):
            return self.schema.is_sub_type(conditional, runtime)
        return False

    def collect(
        self,
        runtime: GraphQLObjectType,
        selection_sets: Iterable[SelectionSetNode],
    ) -> dict[str, list[FieldNode]]:
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def visit(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self._included(selection):  # type: ignore[arg-type]
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    grouped.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self._matches(selection.type_condition, runtime):
                        visit(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name in visited:
                        continue
                    visited.add(name)
                    fragment = self.fragments.get(name)
                    if fragment is not None and self._matches(fragment.type_condition, runtime):
                        visit(fragment.selection_set)
                else:  # pragma: no cover - a selection kind this graphql-core does not have
                    raise Fallback

        for selection_set in selection_sets:
            visit(selection_set)
        return grouped

    # ------------------------------------------------------------ compiling

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
        static_arguments: dict[str, Any] | None = None
        if not any(_uses_variables(node) for node in nodes):
            # A literal its scalar refuses: coerced (and reported) for each object at run time.
            with contextlib.suppress(Exception):
                static_arguments = get_argument_values(definition, nodes[0])
        plan = FieldPlan(key, name, nodes, definition, RESOLVER, static_arguments=static_arguments)
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
            return Completion(OBJECT, non_null, object_plan=_LazyPlan(self, type_, selection_sets))
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


class _LazyPlan:
    """An object plan compiled on first use (a deep schema would otherwise compile every
    branch of a document up front, including the ones no result reaches)."""

    __slots__ = ("_built", "_operation", "_selection_sets", "type")

    def __init__(
        self, operation: OperationPlan, type_: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> None:
        self._operation = operation
        self.type = type_
        self._selection_sets = selection_sets
        self._built: ObjectPlan | None = None

    def get(self) -> ObjectPlan:
        built = self._built
        if built is None:
            built = self._built = self._operation.object_plan(self.type, self._selection_sets)
        return built


def _refuse_other_directives(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> None:
    """Fallback when any selection carries a directive other than @skip/@include (@defer,
    @stream: graphql-core's own)."""
    stack: list[Any] = [operation.selection_set, *(f.selection_set for f in fragments.values())]
    while stack:
        selection_set = stack.pop()
        for selection in selection_set.selections:
            for directive in selection.directives or ():
                if directive.name.value not in _EXECUTABLE_DIRECTIVES:
                    raise Fallback
            if getattr(selection, "selection_set", None) is not None:
                stack.append(selection.selection_set)


def directive_variables(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> tuple[str, ...]:
    """Variables that @skip/@include read: their values select the plan."""
    found: list[str] = []
    stack: list[Any] = [operation.selection_set, *(f.selection_set for f in fragments.values())]
    while stack:
        selection_set = stack.pop()
        for selection in selection_set.selections:
            for directive in selection.directives or ():
                for argument in directive.arguments or ():
                    if isinstance(argument.value, VariableNode) and argument.value.name.value not in found:
                        found.append(argument.value.name.value)
            if getattr(selection, "selection_set", None) is not None:
                stack.append(selection.selection_set)
    return tuple(sorted(found))


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


# ---------------------------------------------------------------- execution


@dataclass(eq=False)
class _Group:
    """Objects at one depth that share a selection: their sources and their result dicts.

    ``parent`` and ``field`` say where they come from (the parent group's objects' values of
    that field), and ``round`` how far into the execution graphql-core would reach them (see
    schema.engine.failures.Round): enough to rebuild an
    object's path and order its errors when one fails (schema.engine.failures), at no cost
    per object."""

    plan: ObjectPlan
    sources: list[Any] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    parent: _Group | None = None
    field: FieldPlan | None = None
    round: Round = (0, 0)


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


# A value whose resolver or load failed (the failure is noted): completed as null.
_FAILED: Any = type("_Failed", (), {"__repr__": lambda _self: "<failed>"})()


class _Execution:
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
        # ids of the columns holding a _FAILED value (completed one by one).
        self.failed_columns: set[int] = set()
        # Row mode for this execution, until a row subtree fails; the fields whose row subtree
        # failed in the level being resolved: (group, field, column).
        self.rows_on = True
        self.rows_failed_here: list[tuple[_Group, FieldPlan, list[Any]]] = []

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
            _is_awaitable,
            None,
            None,  # type: ignore[arg-type]
        )

    async def run(self) -> ExecutionResult:
        data: dict[str, Any] = {}
        level = [_Group(self.plan.root, [self.root_value], [data])]
        while level:
            level = await self.resolve_level(level)
        if not self.failures:
            return ExecutionResult(data, None)
        completed, errors = report(self.failures, data)
        return ExecutionResult(completed, errors)

    # ------------------------------------------------------------ failures

    def fail(
        self,
        group: _Group,
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
            column.append(_FAILED)
        else:
            column[index] = _FAILED
        self.failed_columns.add(id(column))
        self.failures.append(Failure(group, index, field_plan, (), error, round_))

    def fail_awaited(
        self, where: Any, column: list[Any], index: int, error: BaseException, waited: bool
    ) -> None:
        group, field_plan = where
        waits, hops = group.round
        self.fail(group, index, field_plan, column, error, (waits + waited, hops + 1))

    # ------------------------------------------------------------ resolving

    async def resolve_level(self, groups: list[_Group]) -> list[_Group]:
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
        self, level: _Level, group: _Group, field_plan: FieldPlan, group_values: list[list[Any]]
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
            STATS["rows"] += 1
            column = [None] * len(sources)
            fill = rows.fill(sources, column, functools.partial(self.rows_failed, group, field_plan))
            level.pending.append(Entry(fill, [None], 0, context=contextvars.copy_context()))
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
                if _is_awaitable(value):
                    level.pending.append(Entry(value, column, index, where))
                    is_async = True
        return column, info, is_async

    def rows_failed(
        self, group: _Group, field_plan: FieldPlan, column: list[Any], _error: BaseException
    ) -> None:
        """A row subtree's fetch failed (the database, or a null where the schema allows
        none): the field runs through its resolver instead (``resolve_instead_of_rows``)."""
        self.rows_on = False
        self.rows_failed_here.append((group, field_plan, column))

    async def resolve_instead_of_rows(self, groups: list[_Group], level: _Level) -> None:
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

    def complete_level(self, groups: list[_Group], level: _Level) -> list[_Group]:
        """The level's values completed into their result dicts; the groups of the next level."""
        next_level: dict[int, _Group] = {}
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

    def attributes_one_by_one(self, group: _Group, field_plan: FieldPlan, sources: list[Any]) -> list[Any]:
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
        self, group: _Group, field_plan: FieldPlan, sources: list[Any], column: list[Any], loads: list[Load]
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
        group: _Group,
        field_plan: FieldPlan,
        info: GraphQLResolveInfo,
        sources: list[Any],
        column: list[Any],
    ) -> None:
        """Calls the field's resolver for every source, appending to ``column``."""
        arguments = field_plan.static_arguments
        try:
            if arguments is None:
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

    # ------------------------------------------------------------ completing

    def completer(
        self,
        completion: Completion,
        info: GraphQLResolveInfo | None,
        field_plan: FieldPlan,
        group: _Group,
        round_: Round,
        next_level: dict[int, _Group],
    ) -> Callable[[Any], Any]:
        """The function completing one value of this field (recursively for lists). It raises
        graphql-core's error for a value graphql-core would not complete; the caller then
        completes the field's values one by one (``complete_one_by_one``) to place it."""
        non_null = completion.non_null
        kind = completion.kind
        parent = group.plan.type
        if kind == LEAF:
            serialize = completion.serialize
            assert serialize is not None
            leaf_type = completion.leaf_type

            def leaf(value: Any) -> Any:
                if value is None:
                    if non_null:
                        raise _non_null_error(parent, field_plan)
                    return None
                serialized = serialize(value)
                if serialized is Undefined or serialized is None:
                    raise TypeError(
                        f"Expected `{inspect_value(leaf_type)}.coerce_output_value({inspect_value(value)})`"
                        f" to return non-nullable value, returned: {inspect_value(serialized)}"
                    )
                return serialized

            return leaf
        if kind == LIST:
            assert completion.item is not None
            item = self.completer(completion.item, info, field_plan, group, round_, next_level)

            def listed(value: Any) -> Any:
                if value is None:
                    if non_null:
                        raise _non_null_error(parent, field_plan)
                    return None
                if not is_iterable(value):
                    raise _not_iterable_error(parent, field_plan)
                return [item(element) for element in value]

            return listed
        resolve_info = info if info is not None else self.info(field_plan, parent)
        nodes = list(field_plan.nodes)
        if kind == OBJECT:
            assert completion.object_plan is not None
            object_plan = completion.object_plan.get()
            child = next_level.get(id(object_plan))
            if child is None:
                child = next_level[id(object_plan)] = _Group(object_plan, [], [], group, field_plan, round_)
            sources, results = child.sources, child.results
            object_type = object_plan.type
            is_type_of = object_type.is_type_of

            def obj(value: Any) -> Any:
                if value is None:
                    if non_null:
                        raise _non_null_error(parent, field_plan)
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
        abstract = completion.abstract
        assert abstract is not None
        resolve_type = abstract.resolve_type or default_type_resolver
        operation = self.plan
        schema = operation.schema

        def abstract_value(value: Any) -> Any:
            if value is None:
                if non_null:
                    raise _non_null_error(parent, field_plan)
                return None
            runtime_name = resolve_type(value, resolve_info, abstract)
            runtime = _runtime_type(schema, abstract, runtime_name, value, parent, field_plan, nodes)
            object_plan = operation.runtime_plan(completion, runtime)
            is_type_of = runtime.is_type_of
            if is_type_of is not None and not is_type_of(value, resolve_info):
                raise GraphQLError(
                    f"Expected value of type '{runtime}' but got: {inspect_value(value)}.", nodes
                )
            child = next_level.get(id(object_plan))
            if child is None:
                child = next_level[id(object_plan)] = _Group(object_plan, [], [], group, field_plan, round_)
            result: dict[str, Any] = {}
            child.sources.append(value)
            child.results.append(result)
            return result

        return abstract_value

    def complete_one_by_one(
        self,
        group: _Group,
        field_plan: FieldPlan,
        column: list[Any],
        info: GraphQLResolveInfo | None,
        round_: Round,
        next_level: dict[int, _Group],
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
            if value is _FAILED:
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
        group: _Group,
        index: int,
        indices: tuple[int, ...],
        round_: Round,
        next_level: dict[int, _Group],
    ) -> Any:
        """One value completed, or None with its failure noted (list items one by one)."""
        try:
            if completion.kind == LIST and value is not None:
                if not is_iterable(value):
                    raise _not_iterable_error(group.plan.type, field_plan)
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


def _call_resolver(
    resolve: Callable[..., Any], info: GraphQLResolveInfo, arguments: dict[str, Any], source: Any
) -> Any:
    return resolve(source, info, **arguments)


def _non_null_error(parent: GraphQLObjectType, field_plan: FieldPlan) -> TypeError:
    return TypeError(f"Cannot return null for non-nullable field {parent.name}.{field_plan.name}.")


def _not_iterable_error(parent: GraphQLObjectType, field_plan: FieldPlan) -> GraphQLError:
    return GraphQLError(
        f"Expected Iterable, but did not find one for field '{parent.name}.{field_plan.name}'."
    )


def _runtime_type(
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


def _is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    return hasattr(type(value), "__await__") and not isinstance(value, type)


async def execute(
    plan: OperationPlan, context: Any, variable_values: VariableValues, root_value: Any = None
) -> ExecutionResult:
    """The operation's result, errors and partial data included, as graphql-core gives it.

    When cancelled (the deadline, or the client gone), the cancellation reaches every awaitable
    the plan started and the loaders' batches, and this returns only once they have ended."""
    try:
        result = await _Execution(plan, context, variable_values, root_value).run()
    except asyncio.CancelledError:
        await settle_loaders(context)
        raise
    STATS["planned"] += 1
    return result


async def settle_loaders(context: Any) -> None:
    """Cancel the request's DataLoader batches still running and wait for their end (their
    futures were cancelled with the awaitables that wanted them; a batch scheduled but not yet
    started then finds nobody waiting and returns at once)."""
    loaders = vars(context).get("loaders")
    if loaders is None:
        return
    await asyncio.sleep(0)  # a dispatch scheduled with call_soon creates its task now
    running = []
    for loader in vars(loaders).values():
        batch = getattr(loader, "batch", None)
        task = getattr(batch, "_dispatch_task", None)
        if isinstance(task, asyncio.Task) and not task.done():
            task.cancel()
            running.append(task)
    if running:
        await asyncio.wait(running)
