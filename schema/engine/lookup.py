"""Row mode for a root lookup by global id (``node(id:)``, declared with ``Lookup``).

A lookup's type is known only once its id is decoded, so the field is compiled per type on
the first request that names it: the selection the document makes on that type (its
fragments on the type, the interface's fields) becomes a row shape (schema.engine.rows) when
every field in it is declared. A request whose id decodes to such a type is answered from
rows: one statement for the object, with the caller's visibility rule in it (a row it may not
see is missing: null, as the resolver's loader answers), joined to-one relations, then one
statement per nested level, and the result dict built by the generated builder.

Everything else goes through the resolver, unchanged: an id that does not decode or names a
type without a row fetch (its error is the resolver's: BAD_USER_INPUT), a caller whose key
was refused, a type whose selection reads an undeclared field, a refused paging argument.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from graphql import FieldNode, GraphQLField, GraphQLObjectType, GraphQLSchema
from graphql.execution.values import VariableValues

from schema.engine.arguments import Arguments, arguments_of
from schema.engine.declarations import ByKeys, Lookup
from schema.engine.row_builders import generate
from schema.engine.row_compiler import Compiler
from schema.engine.row_run import Run
from schema.engine.row_shapes import (
    Collecting,
    Shape,
    declared,
    given_arguments,
    unwrap,
)
from schema.engine.rows import ENABLED, RowField


class Compiling(Collecting, Protocol):
    """What a lookup needs of the compiled operation (schema.engine.compiling.OperationPlan):
    row mode's, and the schema, to check a decoded type against the field's."""

    schema: GraphQLSchema


@dataclass(eq=False)
class _TypeLookup:
    """The lookup's selection on one type, served from rows."""

    fetch: ByKeys
    shape: Shape
    # The shape's locale arguments and connections: RowField.prepare reads them per request.
    field: RowField


@dataclass(eq=False)
class LookupField:
    """A root lookup field of the plan; ``prepare`` chooses rows or the resolver per request."""

    operation: Compiling
    reads: Lookup
    arguments: Arguments
    definition: GraphQLField
    nodes: Sequence[FieldNode]
    # type name -> its compiled lookup, or None where that type's selection needs resolvers.
    types: dict[str, _TypeLookup | None] = field(default_factory=dict)

    def prepare(self, context: Any, variables: VariableValues) -> LookupRun | None:
        """This request's run, or None: the resolver answers (and reports what it refuses)."""
        if not ENABLED[0]:
            return None
        try:
            global_id = self.arguments.values(variables).get(self.reads.argument)
            decoded = self.reads.decode(global_id) if isinstance(global_id, str) else None
            context.actor  # noqa: B018  (an invalid key: the resolver refuses it)
        except Exception:
            return None
        if decoded is None:
            return None
        type_name, key = decoded
        if type_name not in self.types:
            self.types[type_name] = self._compile(type_name)
        lookup = self.types[type_name]
        if lookup is None:
            return None
        run = lookup.field.prepare(context, variables)
        return None if run is None else LookupRun(lookup, run, key)

    def _compile(self, type_name: str) -> _TypeLookup | None:
        served = self.reads.types.get(type_name)
        schema = self.operation.schema
        runtime = schema.get_type(type_name)
        abstract = unwrap(self.definition.type)[0]
        if (
            served is None
            or not isinstance(runtime, GraphQLObjectType)
            or not (runtime is abstract or schema.is_sub_type(abstract, runtime))  # type: ignore[arg-type]
        ):
            return None
        fetch, joins = served
        compiler = Compiler(self.operation)
        shape = compiler.shape(runtime, self.nodes, joins)
        if shape is None:
            return None
        dicts = compiler.place_dicts()
        generate(shape, 0)
        return _TypeLookup(
            fetch, shape, RowField(None, None, compiler.slots, compiler.locales, compiler.pages, *dicts)
        )


class LookupRun:
    """One request's lookup: the object's row, then its nested levels."""

    def __init__(self, lookup: _TypeLookup, run: Run, key: Any) -> None:
        self.lookup = lookup
        self.run = run
        self.key = key

    async def fill(self, sources: list[Any], column: list[Any], failed: Callable[[], None]) -> None:
        """Fill ``column`` with the looked-up object's result dict (None when the caller may
        not see it or it does not exist); on an error, ``failed()`` alone."""
        try:
            # The object's statement, then its levels', on one connection, as a RowField's.
            value = await self.run.reading(self._object)
            for index in range(len(sources)):
                column[index] = value
        except Exception:  # the resolvers then answer the field, and report their own errors
            failed()

    async def _object(self) -> dict[str, Any] | None:
        """The object's result dict, its nested levels filled, or None."""
        shape, run = self.lookup.shape, self.run
        found = await self.lookup.fetch(run.context, [self.key], run.projection(shape))
        if not found:
            return None
        build = shape.build
        assert build is not None
        value = build(found[0], run.env)
        await run.levels([(child, found[:1], [value]) for child in shape.children])
        return value


def compile_lookup(
    operation: Compiling, definition: GraphQLField, nodes: Sequence[FieldNode]
) -> LookupField | None:
    """A LookupField for this root field, or None where it is not a declared lookup."""
    declaration = declared(definition)
    if declaration is None or not isinstance(declaration.reads, Lookup) or not nodes:
        return None
    reads = declaration.reads
    given = given_arguments(nodes)
    if given != {reads.argument}:
        return None
    try:
        arguments = arguments_of(definition, nodes[0])
    except Exception:  # a literal its scalar refuses: the resolver reports it
        return None
    return LookupField(operation, reads, arguments, definition, nodes)
