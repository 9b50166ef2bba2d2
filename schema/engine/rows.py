"""Row mode: a declared subtree of a query answered from database rows, without resolvers.

Where a field's declaration is a fetch (schema.engine.declarations: ToOne, Children,
ChildPage, RootPage) and every field selected below it is declared (or a plain column),
the compiled plan (schema.engine.plan) hands the whole subtree to a ``RowField``:

* one statement per nesting level, over the keys in hand (``= ANY($1)`` on PostgreSQL, an IN
  list on SQLite, see exchange.sql.Statement.is_in), selecting only the columns the selection
  reads; a to-one relation whose fetch offers it is joined into its parent's statement;
* the rows stay the driver's tuples: no model instance, no DataLoader, no future per key;
* each selection's result dicts are built by a function generated once per document and
  selection (field order, global ids, localized texts with their fallbacks, date-times and
  enums as the schema's scalars serialise them, connections with cursors and pageInfo).

Values are exactly what graphql-core gives through the resolvers (tests/api/test_plan.py
compares both). Where a selection has a field that declares nothing, ``compile_row_field``
returns None and the plan runs that field through its resolver as before; fields below it
may again be row subtrees over the model instances it returns.

The parts: row_shapes (the compiled shapes), row_compiler (selection -> shapes), row_values
(column values as the schema serialises them), row_builders (the generated builders),
row_run (one request's fetches, level by level); here, the field the plan holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import FieldNode, GraphQLField, GraphQLObjectType
from graphql.execution.values import VariableValues

from schema.engine.arguments import Arguments, arguments_of
from schema.engine.columns import MODELS
from schema.engine.declarations import ChildPage, Children, Localized, Projection, RootPage
from schema.engine.row_builders import generate
from schema.engine.row_compiler import Compiler
from schema.engine.row_run import Run, page_args
from schema.engine.row_shapes import (
    Child,
    Collecting,
    Connection,
    declared,
    given_arguments,
    unwrap,
)
from schema.engine.row_values import refresh_time_settings

# Row mode on (tests that pin the resolvers' own behaviour, e.g. injected resolver failures,
# turn it off; the resolvers then answer every field).
ENABLED = [True]


# ---------------------------------------------------------------- the compiled field


@dataclass(eq=False)
class RowField:
    """A field of the plan answered from rows with everything below it."""

    child: Child | None  # ToOne, Children, ChildPage over model instances
    root: tuple[RootPage, Connection, Arguments] | None  # a root connection
    slots: list[Arguments]
    locales: list[Localized]
    pages: list[Child]  # the connections in the subtree
    lists: int = 0  # dicts of lists after the locale slots (Child.lists_slot)
    memos: int = 0  # then dicts of shared joined objects by key (Shape.memo_slot)
    projections: dict[int, Projection] = field(default_factory=dict)

    def prepare(self, context: Any, variables: VariableValues) -> Run | None:
        """This request's run, or None when an argument is refused (a bad cursor, a page
        too large): the field then runs through its resolver, which reports it exactly where
        and as often as graphql-core does."""
        if not ENABLED[0]:
            return None
        try:
            env: list[Any] = [
                reads.locales(context, arguments.values(variables).get(reads.argument))
                for arguments, reads in zip(self.slots, self.locales, strict=True)
            ]
            if self.lists:
                env += [defaultdict(list) for _ in range(self.lists)]
            if self.memos:
                env += [{} for _ in range(self.memos)]
            pages: dict[int, Any] = {}
            for child in self.pages:
                assert child.arguments is not None and isinstance(child.reads, ChildPage)
                pages[id(child)] = page_args(child.reads.paging, context, child.arguments.values(variables))
            root_page = None
            if self.root is not None:
                reads, _connection, arguments = self.root
                root_page = page_args(reads.paging, context, arguments.values(variables))
        except Exception:
            return None
        refresh_time_settings()
        return Run(self, context, env, pages, root_page)


def compile_row_field(
    operation: Collecting, parent: GraphQLObjectType, definition: GraphQLField, nodes: Sequence[FieldNode]
) -> RowField | None:
    """A RowField for this field of the plan, or None where its resolver must run."""
    declaration = declared(definition)
    if declaration is None or len(nodes) == 0:
        return None
    reads = declaration.reads
    compiler = Compiler(operation)
    given = given_arguments(nodes)
    if isinstance(reads, RootPage):
        type_, _ = unwrap(definition.type)
        if not given <= reads.arguments or not isinstance(type_, GraphQLObjectType):
            return None
        connection = compiler.connection(type_, nodes, declaration.joins, reads.paging)
        if connection is None:
            return None
        dicts = compiler.place_dicts()
        if connection.node is not None:
            generate(connection.node, 0)
        return RowField(
            None,
            (reads, connection, arguments_of(definition, nodes[0])),
            compiler.slots,
            compiler.locales,
            compiler.pages,
            *dicts,
        )
    if not isinstance(reads, Children | ChildPage):
        # A to-one relation of a model instance stays with its loader: the loader batches it
        # with the level's other loads of the same table and serves rows already primed
        # (the page of exchanges primes the hosts it joined).
        return None
    model = MODELS.get(parent.name)
    if model is None:
        return None
    child = compiler.child(
        nodes[0].alias.value if nodes[0].alias else nodes[0].name.value,
        reads,
        declaration,
        definition,
        nodes,
        given,
    )
    if child is None:
        return None
    dicts = compiler.place_dicts()
    if child.shape is not None:
        generate(child.shape, 1 if isinstance(reads, Children) else 0)
    elif child.connection is not None and child.connection.node is not None:
        generate(child.connection.node, 3, child.connection)
    return RowField(child, None, compiler.slots, compiler.locales, compiler.pages, *dicts)
