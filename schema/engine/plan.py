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

The result is exactly graphql-core's on the happy path: same resolvers, same arguments, same
serializers, same ``is_type_of`` and ``resolve_type`` checks, same key order. Anything else
— a resolver error, a null in a non-null position, a value of the wrong type, a directive
other than @skip/@include, introspection at the root, a mutation or subscription — makes the
plan step aside (``Fallback``): the caller then runs the operation with graphql-core, which
produces the canonical errors and partial data. Queries are read-only, so running one again
is safe; the request's loader caches are kept, so the second run costs little SQL.

What resolvers see differs in one way: ``info.path`` is the field's key under its parent
type (no list indices or ancestors), since the plan does not track per-object paths. No
resolver here reads the path (tests/api/test_plan.py checks the whole schema's documents
against graphql-core).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import types
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from graphql import (
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLEnumType,
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
from graphql.execution.values import VariableValues, get_argument_values
from graphql.pyutils import Path, Undefined
from strawberry.types.field import StrawberryField

from schema.engine.columns import document_columns
from schema.engine.fastpath import BACKREF, DIRECT_KEY, DirectCall, LoaderCall

_EXECUTABLE_DIRECTIVES = frozenset({"skip", "include"})


# How often the plan answered and how often it stepped aside (tests and operators read these).
STATS: collections.Counter[str] = collections.Counter()


class Fallback(Exception):
    """The plan cannot give graphql-core's exact answer here: run graphql-core instead."""


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
        elif resolve is None:
            raise Fallback  # graphql-core's default resolver (dict keys too): not used here
        plan.completion = self.completion(definition.type, nodes)
        return plan

    def completion(self, type_: GraphQLOutputType, nodes: tuple[FieldNode, ...]) -> Completion:
        non_null = isinstance(type_, GraphQLNonNull)
        if non_null:
            type_ = type_.of_type  # type: ignore[union-attr]
        if isinstance(type_, GraphQLList):
            return Completion(LIST, non_null, item=self.completion(type_.of_type, nodes))
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            return Completion(LEAF, non_null, serialize=type_.serialize)
        selection_sets = [node.selection_set for node in nodes if node.selection_set is not None]
        if isinstance(type_, GraphQLObjectType):
            return Completion(OBJECT, non_null, object_plan=_LazyPlan(self, type_, selection_sets))
        if is_abstract_type(type_):
            return Completion(ABSTRACT, non_null, abstract=type_, nodes=nodes)
        raise Fallback

    def runtime_plan(self, completion: Completion, type_name: str) -> ObjectPlan:
        plan = completion.runtime_plans.get(type_name)
        if plan is None:
            runtime = self.schema.get_type(type_name)
            abstract = completion.abstract
            if not isinstance(runtime, GraphQLObjectType) or abstract is None:
                raise Fallback
            if not self.schema.is_sub_type(abstract, runtime):
                raise Fallback
            selection_sets = [
                node.selection_set for node in completion.nodes if node.selection_set is not None
            ]
            plan = completion.runtime_plans[type_name] = self.object_plan(runtime, selection_sets)
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


def _uses_variables(node: Any) -> bool:
    """Whether a field's arguments reference a variable anywhere (lists and objects too)."""
    stack: list[Any] = [argument.value for argument in node.arguments or ()]
    while stack:
        value = stack.pop()
        if isinstance(value, VariableNode):
            return True
        stack.extend(getattr(value, "values", None) or ())
        stack.extend(item.value for item in getattr(value, "fields", None) or ())
    return False


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
    """Objects at one depth that share a selection: their sources and their result dicts."""

    plan: ObjectPlan
    sources: list[Any] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)


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

    async def run(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        level = [_Group(self.plan.root, [self.root_value], [data])]
        while level:
            level = await self.resolve_level(level)
        return data

    async def resolve_level(self, groups: list[_Group]) -> list[_Group]:
        # Values per (group, field), filled now for sync fields and after the drive for async ones.
        values: list[list[list[Any]]] = []
        infos: list[list[GraphQLResolveInfo | None]] = []
        pending: list[_Entry] = []
        loads: list[_Load] = []
        try:
            for group in groups:
                group_values: list[list[Any]] = []
                group_infos: list[GraphQLResolveInfo | None] = []
                values.append(group_values)
                infos.append(group_infos)
                parent = group.plan.type
                sources = group.sources
                for field_plan in group.plan.fields:
                    kind = field_plan.kind
                    info: GraphQLResolveInfo | None = None
                    column: list[Any]
                    if kind == ATTRIBUTE:
                        attribute = field_plan.attribute
                        try:
                            column = [getattr(source, attribute) for source in sources]
                        except Exception as error:  # e.g. a column the loaders did not select
                            raise Fallback from error
                    elif kind == TYPENAME:
                        column = [parent.name] * len(sources)
                    elif kind == LOADER:
                        column = []
                        group_values.append(column)  # visible to the clean-up while it fills
                        self.load_column(field_plan, sources, column, loads)
                        group_values.pop()
                    else:
                        info = self.info(field_plan, parent)
                        column = []
                        group_values.append(column)  # visible to the clean-up while it fills
                        self.resolve_column(field_plan, info, sources, column)
                        group_values.pop()
                        if kind == RESOLVER or field_plan.is_async:
                            for index, value in enumerate(column):
                                if _is_awaitable(value):
                                    pending.append(_Entry(value, column, index))
                    group_values.append(column)
                    group_infos.append(info)
            if pending or loads:
                await _drive(pending, loads)
        except BaseException:
            _discard(value for group_values in values for column in group_values for value in column)
            raise

        next_level: dict[int, _Group] = {}
        for group, group_values, group_infos in zip(groups, values, infos, strict=True):
            results = group.results
            for field_plan, column, info in zip(group.plan.fields, group_values, group_infos, strict=True):
                key = field_plan.key
                completion = field_plan.completion
                if completion is None:  # __typename
                    for result, value in zip(results, column, strict=True):
                        result[key] = value
                    continue
                try:
                    complete = self.completer(completion, info, field_plan, group.plan.type, next_level)
                    for result, value in zip(results, column, strict=True):
                        result[key] = complete(value)
                except Exception as error:
                    # e.g. a sync resolver that returned a coroutine: nobody will await it now.
                    _discard(value for group_values in values for column in group_values for value in column)
                    if isinstance(error, Fallback):
                        raise
                    raise Fallback from error
        return list(next_level.values())

    def load_column(
        self, field_plan: FieldPlan, sources: list[Any], column: list[Any], loads: list[_Load]
    ) -> None:
        """The resolver's own DataLoader call (schema.engine.fastpath.LoaderCall) for every source:
        values already loaded go straight in, the others wait with the level's awaitables."""
        call = field_plan.loader_call
        assert call is not None
        try:
            load = getattr(self.context.loaders, call.loader).load
            key_of, optional = call.key, call.optional
            for source in sources:
                key = getattr(source, key_of)
                if key is None and optional:
                    column.append(None)
                    continue
                future = load(key)
                if future.done():
                    column.append(future.result())
                else:
                    loads.append((future, column, len(column)))
                    column.append(None)
        except (Exception, asyncio.CancelledError) as error:
            raise Fallback from error

    def resolve_column(
        self, field_plan: FieldPlan, info: GraphQLResolveInfo, sources: list[Any], column: list[Any]
    ) -> None:
        """Calls the field's resolver for every source, appending to ``column``."""
        arguments = field_plan.static_arguments
        try:
            if arguments is None:
                assert field_plan.definition is not None
                arguments = get_argument_values(
                    field_plan.definition, field_plan.nodes[0], self.variable_values
                )
            if field_plan.kind == DIRECT:
                assert field_plan.direct is not None
                call = field_plan.direct.bind(info, arguments)
                for source in sources:
                    column.append(call(source))
            else:
                assert field_plan.definition is not None
                resolve = field_plan.definition.resolve
                assert resolve is not None
                for source in sources:
                    column.append(resolve(source, info, **arguments))
        except Fallback:
            raise
        except Exception as error:
            raise Fallback from error

    def completer(
        self,
        completion: Completion,
        info: GraphQLResolveInfo | None,
        field_plan: FieldPlan,
        parent: GraphQLObjectType,
        next_level: dict[int, _Group],
    ) -> Callable[[Any], Any]:
        """The function completing one value of this field (recursively for lists)."""
        non_null = completion.non_null
        kind = completion.kind
        if kind == LEAF:
            serialize = completion.serialize
            assert serialize is not None

            def leaf(value: Any) -> Any:
                if value is None:
                    if non_null:
                        raise Fallback
                    return None
                serialized = serialize(value)
                if serialized is Undefined or serialized is None:
                    raise Fallback
                return serialized

            return leaf
        if kind == LIST:
            assert completion.item is not None
            item = self.completer(completion.item, info, field_plan, parent, next_level)

            def listed(value: Any) -> Any:
                if value is None:
                    if non_null:
                        raise Fallback
                    return None
                if isinstance(value, str | bytes | dict) or not isinstance(value, Iterable):
                    raise Fallback
                return [item(element) for element in value]

            return listed
        resolve_info = info if info is not None else self.info(field_plan, parent)
        if kind == OBJECT:
            assert completion.object_plan is not None
            object_plan = completion.object_plan.get()
            group = next_level.get(id(object_plan))
            if group is None:
                group = next_level[id(object_plan)] = _Group(object_plan)
            sources, results = group.sources, group.results
            is_type_of = object_plan.type.is_type_of

            def obj(value: Any) -> Any:
                if value is None:
                    if non_null:
                        raise Fallback
                    return None
                if is_type_of is not None and is_type_of(value, resolve_info) is not True:
                    raise Fallback  # graphql-core's "Expected value of type …" error
                result: dict[str, Any] = {}
                sources.append(value)
                results.append(result)
                return result

            return obj
        abstract = completion.abstract
        assert abstract is not None
        resolve_type = abstract.resolve_type
        if resolve_type is None:
            raise Fallback
        operation = self.plan

        def abstract_value(value: Any) -> Any:
            if value is None:
                if non_null:
                    raise Fallback
                return None
            runtime = resolve_type(value, resolve_info, abstract)
            if isinstance(runtime, GraphQLObjectType):
                runtime = runtime.name
            if not isinstance(runtime, str):
                raise Fallback  # awaitable or invalid: graphql-core handles (and reports) it
            object_plan = operation.runtime_plan(completion, runtime)
            is_type_of = object_plan.type.is_type_of
            if is_type_of is not None and is_type_of(value, resolve_info) is not True:
                raise Fallback
            group = next_level.get(id(object_plan))
            if group is None:
                group = next_level[id(object_plan)] = _Group(object_plan)
            result: dict[str, Any] = {}
            group.sources.append(value)
            group.results.append(result)
            return result

        return abstract_value


def _is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    return hasattr(type(value), "__await__") and not isinstance(value, type)


# A DataLoader future the plan waits on directly, and where its value goes: (future, column, index).
_Load = tuple[asyncio.Future[Any], list[Any], int]


class _Entry:
    """One awaitable a resolver returned, and where its value goes."""

    __slots__ = ("awaitable", "column", "index", "step")

    def __init__(self, awaitable: Any, column: list[Any], index: int) -> None:
        self.awaitable = awaitable
        self.step = awaitable.__await__()
        self.column = column
        self.index = index


# Awaitables left running after the plan stepped aside (see _drive), until they finish.
_adopted: set[asyncio.Task[None]] = set()


def _discard(values: Iterable[Any]) -> None:
    """Close coroutines that were created but never started: nobody will await them now
    (closing a created coroutine runs none of its code and silences the never-awaited warning)."""
    for value in values:
        if (
            isinstance(value, types.CoroutineType)
            and inspect.getcoroutinestate(value) == inspect.CORO_CREATED
        ):
            value.close()


async def _finish(entry: _Entry, waiting_on: Any, cancel: bool) -> None:
    """Run a started awaitable to its end, as its task would have: wait for the future it is
    suspended on, then keep stepping. With ``cancel``, do what ``Task.cancel`` does instead:
    cancel that future and throw CancelledError in at once, so a driver call mid-flight
    cleans up the way it does when its task is cancelled."""
    step = entry.step
    with contextlib.suppress(BaseException):
        if cancel:
            if waiting_on is not None:
                waiting_on.cancel()
            waiting_on = step.throw(asyncio.CancelledError())
        else:
            if waiting_on is not None and not waiting_on.done():
                await _settled(waiting_on)
            waiting_on = step.send(None)
        while True:
            if waiting_on is None:
                await asyncio.sleep(0)
            else:
                waiting_on._asyncio_future_blocking = False
                if not waiting_on.done():
                    await _settled(waiting_on)
            waiting_on = step.send(None)


def _settled(future: asyncio.Future[Any]) -> asyncio.Future[None]:
    """A future that completes (with None) when ``future`` does, whatever its outcome."""
    waiter: asyncio.Future[None] = future.get_loop().create_future()

    def wake(_done: asyncio.Future[Any]) -> None:
        if not waiter.done():
            waiter.set_result(None)

    future.add_done_callback(wake)
    return waiter


async def _drive(pending: list[_Entry], loads: list[_Load] | None = None) -> None:
    """Run awaitables to completion the way asyncio's tasks would, without a task each.

    Every awaitable is stepped until it waits on a future (or finishes). The driver then
    sleeps until some of those futures are done and resumes exactly the awaitables whose
    futures are done, like the event loop resuming tasks; a DataLoader settles a whole batch at
    once, so its waiters are resumed together. Loads issued by one round's steps land in the
    same DataLoader batches, as with tasks.

    ``loads`` are DataLoader futures the plan waits on directly (LoaderCall fields): their
    batches settle them whatever the driver does, so the driver listens to one of them at a
    time instead of putting a callback on each (one wake-up per batch, not per object).

    When the plan steps aside (an awaitable raised) or the request is cancelled, the
    awaitables still suspended are not closed mid-await (a database call must finish or clean
    up): they are adopted by background tasks that run them to their end, cancelled in the
    second case. Created but unstarted ones are closed by the caller.
    """
    loop = asyncio.get_running_loop()
    waiting: dict[Any, list[_Entry]] = {}
    settled: list[Any] = []
    wake: list[asyncio.Future[None] | None] = [None]
    loads = loads or []
    listened: set[int] = set()  # loads' futures with our callback

    def on_settled(future: Any) -> None:
        settled.append(future)
        waiter = wake[0]
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    ready = list(pending)  # to be stepped this round (not started yet, or their future is done)
    stepped = 0  # how many of ``ready`` were stepped so far
    bare: list[_Entry] = []  # suspended at a bare yield (asyncio.sleep(0)): resumed next round
    try:
        while True:
            stepped, bare = 0, []
            for entry in ready:
                stepped += 1
                try:
                    yielded = entry.step.send(None)
                except StopIteration as stop:
                    entry.column[entry.index] = stop.value
                    continue
                except Exception as error:
                    raise Fallback from error
                if yielded is None:
                    bare.append(entry)
                elif getattr(yielded, "_asyncio_future_blocking", None) is not None:
                    yielded._asyncio_future_blocking = False
                    entries = waiting.get(yielded)
                    if entries is None:
                        waiting[yielded] = [entry]
                        yielded.add_done_callback(on_settled)
                    else:
                        entries.append(entry)
                else:
                    # Not an asyncio awaitable: graphql-core's tasks report it (here it is closed).
                    with contextlib.suppress(BaseException):
                        entry.step.close()
                    raise Fallback
            ready, stepped = [], 0
            if loads:
                unsettled: list[_Load] = []
                for load in loads:
                    future = load[0]
                    if not future.done():
                        unsettled.append(load)
                    elif future.cancelled() or future.exception() is not None:
                        raise Fallback  # graphql-core reports the loader's error
                    else:
                        load[1][load[2]] = future.result()
                loads = unsettled
            if not (bare or waiting or loads):
                break
            if bare:
                await asyncio.sleep(0)
                ready, bare = bare, []
            elif not settled:
                if loads and id(loads[0][0]) not in listened:
                    listened.add(id(loads[0][0]))
                    loads[0][0].add_done_callback(on_settled)
                waiter = wake[0] = loop.create_future()
                await waiter
                wake[0] = None
            for future in settled:
                ready.extend(waiting.pop(future, ()))
            settled.clear()
    except BaseException as error:
        cancel = not isinstance(error, Exception)
        leftover: list[tuple[_Entry, Any]] = [(entry, None) for entry in (*ready[stepped:], *bare)]
        leftover += [(entry, future) for future, entries in waiting.items() for entry in entries]
        for entry, future in leftover:
            awaitable = entry.awaitable
            if (
                inspect.iscoroutine(awaitable)
                and inspect.getcoroutinestate(awaitable) == inspect.CORO_CREATED
            ):
                awaitable.close()
                continue
            task = loop.create_task(_finish(entry, future, cancel))
            _adopted.add(task)
            task.add_done_callback(_adopted.discard)
        raise


async def execute(
    plan: OperationPlan, context: Any, variable_values: VariableValues, root_value: Any = None
) -> dict[str, Any]:
    """The operation's ``data``; raises Fallback where graphql-core must answer instead."""
    try:
        data = await _Execution(plan, context, variable_values, root_value).run()
    except Fallback:
        STATS["fallback"] += 1
        raise
    STATS["planned"] += 1
    return data
