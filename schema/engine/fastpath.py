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

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.field import StrawberryField

from schema.engine.declarations import ToOne, declaration_of

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
    """A resolver that awaits ``info.context.loaders.<loader>.load(root.<key>)`` (None when the
    key is None), as its ToOne declaration says (schema.engine.declarations): the compiled
    executor (schema.engine.plan) makes that call itself for a whole level of objects, without
    a coroutine per object."""

    loader: str
    key: str
    optional: bool = True


def resolver_function(resolver: Any) -> Callable[..., Any]:
    """The plain function behind a Strawberry resolver (static and class methods unwrapped)."""
    wrapped: Any = resolver.wrapped_func
    return wrapped.__func__ if isinstance(wrapped, staticmethod | classmethod) else wrapped


def loader_call(field: StrawberryField) -> LoaderCall | None:
    """The loader call a field's ToOne declaration names, if any."""
    declaration = declaration_of(field)
    reads = declaration.reads if declaration is not None else None
    if isinstance(reads, ToOne) and reads.loader is not None:
        return LoaderCall(reads.loader, reads.key)
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
        self.loader_call = loader_call(field)

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
