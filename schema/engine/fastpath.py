"""Direct resolver calls for fields that need nothing of Strawberry's per-call machinery.

For every field with a resolver, Strawberry wraps the call: it builds an Info, converts every
argument (walking its type), runs the field-extension chain (a ``reduce`` of partials, even
when there are none), then awaits coroutines once more in its own wrapper. That costs about
as much as the whole rest of resolving a field; a page of exchanges resolves ~2,000 such
fields (ids, localized names, related objects).

``install`` replaces, after the schema is built, the graphql-core resolver of each field that
qualifies by a closure that calls the resolver function directly: the same Strawberry Info
(built only if the resolver asks for it), the same ``root``/``self``/``info`` parameters, the
arguments renamed from GraphQL to Python. A field qualifies when nothing the wrapper does
would change the outcome: no field extensions (permissions are extensions), no exception
handlers, not a subscription or mutation, and only scalar arguments (graphql-core has already
parsed those; Strawberry would pass them through unchanged). Everything else keeps
Strawberry's resolver.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.field import StrawberryField

BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
_BUILTIN_SCALARS = (str, int, float, bool, strawberry.ID)


def _scalar_argument(type_: Any, scalar_registry: Any) -> bool:
    while isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    if isinstance(type_, StrawberryList):
        return False
    return type_ in _BUILTIN_SCALARS or type_ in scalar_registry


def _qualifies(field: StrawberryField, schema: strawberry.Schema) -> bool:
    converter = schema.schema_converter
    if field.base_resolver is None or field.extensions or field.is_subscription:
        return False
    if getattr(converter, "_exception_handler_specs", ()):
        return False
    return all(_scalar_argument(arg.type, converter.scalar_registry) for arg in field.arguments)


DIRECT_KEY = "exchange.fastpath.direct"


@dataclass(frozen=True)
class LoaderCall:
    """A resolver whose whole body is ``return await info.context.loaders.<loader>.load(root.<key>)``
    (or, with ``optional``, the same behind ``None if root.<key> is None else ...``): the compiled
    executor (schema.engine.plan) makes that call itself for a whole level of objects, without a
    coroutine per object. Found by reading the resolver's source, so it is the resolver."""

    loader: str
    key: str
    optional: bool


def _loads(node: ast.AST, info: str, parent: str, key: ast.AST | None = None) -> tuple[str, str] | None:
    """(loader, key attribute) when ``node`` is ``await info.context.loaders.<loader>.load(<key>)``
    with <key> ``parent.<attribute>`` (or the given name node)."""
    if not isinstance(node, ast.Await) or not isinstance(node.value, ast.Call):
        return None
    call = node.value
    if call.keywords or len(call.args) != 1:
        return None
    method = call.func
    if not (isinstance(method, ast.Attribute) and method.attr == "load"):
        return None
    loader = method.value
    if not (isinstance(loader, ast.Attribute) and isinstance(loader.value, ast.Attribute)):
        return None
    loaders, context = loader.value, loader.value.value
    if not (
        loaders.attr == "loaders"
        and isinstance(context, ast.Attribute)
        and context.attr == "context"
        and isinstance(context.value, ast.Name)
        and context.value.id == info
    ):
        return None
    argument = call.args[0]
    if key is not None:
        return (loader.attr, "") if ast.dump(argument) == ast.dump(key) else None
    if (
        isinstance(argument, ast.Attribute)
        and isinstance(argument.value, ast.Name)
        and argument.value.id == parent
    ):
        return loader.attr, argument.attr
    return None


def resolver_function(resolver: Any) -> Callable[..., Any]:
    """The plain function behind a Strawberry resolver (static and class methods unwrapped)."""
    wrapped: Any = resolver.wrapped_func
    return wrapped.__func__ if isinstance(wrapped, staticmethod | classmethod) else wrapped


@functools.cache
def function_tree(function: Callable[..., Any]) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The syntax tree of a function's definition (parsed once), or None without its source
    (schema.engine.columns and ``loader_call`` read resolvers this way)."""
    try:
        definition = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return None
    return definition if isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef) else None


def loader_call(function: Callable[..., Any], info: str | None, parent: str | None) -> LoaderCall | None:
    if info is None or parent is None or not inspect.iscoroutinefunction(function):
        return None
    definition = function_tree(function)
    if not isinstance(definition, ast.AsyncFunctionDef):
        return None
    body = [statement for statement in definition.body if not isinstance(statement, ast.Expr)]  # docstrings
    if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
        found = _loads(body[0].value, info, parent)
        return None if found is None else LoaderCall(found[0], found[1], optional=False)
    # key = root.<attribute>; return None if key is None else await ...load(key)
    if len(body) == 2 and isinstance(body[0], ast.Assign) and isinstance(body[1], ast.Return):
        assign, returned = body[0], body[1].value
        if not (
            len(assign.targets) == 1
            and isinstance(assign.targets[0], ast.Name)
            and isinstance(assign.value, ast.Attribute)
            and isinstance(assign.value.value, ast.Name)
            and assign.value.value.id == parent
            and isinstance(returned, ast.IfExp)
        ):
            return None
        name = assign.targets[0].id
        test = returned.test
        if not (
            isinstance(returned.body, ast.Constant)
            and returned.body.value is None
            and isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id == name
            and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Is)
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value is None
        ):
            return None
        found = _loads(returned.orelse, info, parent, key=ast.Name(id=name, ctx=ast.Load()))
        return None if found is None else LoaderCall(found[0], assign.value.attr, optional=True)
    return None


class DirectCall:
    """How to call one field's resolver function directly.

    ``resolve`` is the graphql-core resolver installed for the field (one object at a time);
    ``bind`` serves the compiled executor (``schema.engine.plan``), which resolves a field for many
    objects at once: the Strawberry ``Info`` and the keyword arguments are built once, and
    the returned function takes only the object."""

    def __init__(self, field: StrawberryField, schema: strawberry.Schema) -> None:
        resolver = field.base_resolver
        assert resolver is not None
        self.function = resolver_function(resolver)
        self.field = field
        self.is_async = resolver.is_async
        self.info_class = schema.config.info_class
        self.names = {
            schema.config.name_converter.from_argument(arg): arg.python_name for arg in field.arguments
        }
        self.self_first = resolver.self_parameter is not None
        # One parameter can be both (a `root` annotated strawberry.Parent): named once.
        self.source_names = list(
            dict.fromkeys(
                p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None
            )
        )
        self.info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
        # The object can go first, by position, when it is `self` or the first parameter.
        parameters = list(inspect.signature(self.function).parameters.values())
        self.source_first = (self.self_first and not self.source_names) or (
            not self.self_first
            and len(self.source_names) == 1
            and bool(parameters)
            and parameters[0].name == self.source_names[0]
            and parameters[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        )
        self.resolve = self._resolver()
        self.loader_call = loader_call(
            self.function, self.info_name, self.source_names[0] if len(self.source_names) == 1 else None
        )

    def _kwargs(self, info: GraphQLResolveInfo | None, arguments: dict[str, Any]) -> dict[str, Any]:
        names = self.names
        kwargs = {names[name]: value for name, value in arguments.items()} if arguments else {}
        if self.info_name is not None and info is not None:
            kwargs[self.info_name] = self.info_class(_raw_info=info, _field=self.field)
        return kwargs

    def bind(self, info: GraphQLResolveInfo, arguments: dict[str, Any]) -> Callable[[Any], Any]:
        function = self.function
        kwargs = self._kwargs(info, arguments)
        if self.source_first:
            if not kwargs:
                return function
            return lambda source: function(source, **kwargs)
        if not self.source_names:
            return lambda _source: function(**kwargs)
        names = self.source_names
        if self.self_first:
            return lambda source: function(source, **kwargs, **dict.fromkeys(names, source))
        return lambda source: function(**kwargs, **dict.fromkeys(names, source))

    def _resolver(self) -> Callable[..., Any]:
        """The graphql-core resolver: ``bind`` for one object (nothing to bind without
        arguments or info)."""
        function = self.function
        if not self.names and not self.source_names and self.info_name is None:
            if self.self_first:
                return lambda source, _info: function(source)
            return lambda _source, _info: function()
        bind = self.bind
        return lambda source, info, **arguments: bind(info, arguments)(source)


def install(schema: strawberry.Schema) -> list[str]:
    """Give the qualifying fields direct resolvers; returns their ``Type.field`` names."""
    graphql_schema = schema._schema
    skipped_roots = {t.name for t in (graphql_schema.mutation_type, graphql_schema.subscription_type) if t}
    installed = []
    for graphql_type in graphql_schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        if graphql_type.name in skipped_roots:
            continue
        for name, graphql_field in graphql_type.fields.items():
            field = (graphql_field.extensions or {}).get(BACKREF)
            if isinstance(field, StrawberryField) and _qualifies(field, schema):
                direct = DirectCall(field, schema)
                graphql_field.resolve = direct.resolve
                graphql_field.extensions = {**(graphql_field.extensions or {}), DIRECT_KEY: direct}
                installed.append(f"{graphql_type.name}.{name}")
    return installed
