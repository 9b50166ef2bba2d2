"""Which table columns a query can read, per model, so its loaders select only those.

A page of exchanges reads three of a volunteer's nine columns (id, full name, organisation)
and four of a session's twelve; decoding, converting and later freeing the others was a
large part of the server's CPU under load. For a compiled query (schema.engine.plan) this module
works out, once per document, the columns each model's rows need:

* a field without a resolver reads its attribute;
* a field with a resolver reads the attributes its declaration names
  (schema.engine.declarations: ``Reads``, a global id's key, a localized text's columns,
  a relation's key); a resolver that declares nothing may read anything: all columns;
* primary keys, foreign keys and ``status`` are always selected: loaders group rows by them
  and the visibility rules (exchange.access) read them;
* attributes a resolver declares it reads on the objects it returns (``Reads(returned=...)``:
  the start time of the sessions it sorts) are selected for the model of those objects.

The union over every selection of the document's types is taken (conservatively ignoring
@skip/@include). Rows loaded this way are partial model instances (``_partial``): reading an
attribute that was not selected raises AttributeError, an error at the field that reads it
(masked as INTERNAL_SERVER_ERROR and logged), so a mistake here is a visible error, never a
wrong answer.
"""

from __future__ import annotations

import functools
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)
from strawberry.types.field import StrawberryField
from tortoise.models import Model

from schema.engine.declarations import Reads, declaration_of
from schema.engine.fastpath import BACKREF

# GraphQL type name -> the model whose instances are its objects (schema.api.types.node.model_identity).
MODELS: dict[str, type[Model]] = {}

ALL = None  # "every column"


def register(type_name: str, model: type[Model]) -> None:
    MODELS[type_name] = model


@functools.cache
def field_attributes(field: StrawberryField) -> frozenset[str] | None:
    """Attributes of the parent object that resolving ``field`` reads (None: any): its own
    attribute without a resolver, what its declaration says (schema.engine.declarations),
    every column for a resolver that declares nothing."""
    if field.extensions:
        return ALL  # extensions (permissions...) may read the parent too
    if field.base_resolver is None:
        return frozenset({field.python_name})
    declaration = declaration_of(field)
    return ALL if declaration is None else declaration.reads.attributes


def _always(model: type[Model]) -> set[str]:
    meta = model._meta
    columns = {meta.db_pk_column}
    columns.update(meta.fields_db_projection[f"{name}_id"] for name in meta.fk_fields)
    columns.update(meta.fields_db_projection[f"{name}_id"] for name in meta.o2o_fields)
    if "status" in meta.fields_db_projection:
        columns.add(meta.fields_db_projection["status"])
    return columns


def document_columns(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    visits: list[int] | None = None,
) -> dict[type[Model], frozenset[str]]:
    """For each model some selection of the operation reads, its columns to load. A model
    missing from the result is loaded whole (it needs all its columns, or is not selected).
    ``visits[0]``, when given, counts the selections looked at."""
    if visits is None:
        visits = [0]
    reads: dict[str, set[str] | None] = {}  # object type name -> attributes (None: all)

    def note(type_name: str, field: GraphQLField) -> None:
        if type_name not in MODELS:
            return
        strawberry_field = (field.extensions or {}).get(BACKREF)
        attributes = (
            field_attributes(strawberry_field) if isinstance(strawberry_field, StrawberryField) else ALL
        )
        add(type_name, attributes)
        declaration = (
            declaration_of(strawberry_field) if isinstance(strawberry_field, StrawberryField) else None
        )
        if declaration is not None and isinstance(declaration.reads, Reads) and declaration.reads.returned:
            add(get_named_type(field.type).name, declaration.reads.returned)

    def add(type_name: str, attributes: frozenset[str] | None) -> None:
        if type_name not in MODELS:
            return
        known = reads.get(type_name, set())
        if known is None:
            return
        reads[type_name] = None if attributes is ALL else known | attributes

    # A fragment adds the same reads wherever it is spread on the same type: walked once per
    # (fragment, type), or N fragments that each spread the next twice would cost 2^N walks.
    walked: set[tuple[str, str]] = set()

    def walk(selection_set: SelectionSetNode, parent: Any) -> None:
        for selection in selection_set.selections:
            visits[0] += 1
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name.startswith("__") or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                    continue
                field = parent.fields.get(name)
                if field is None:
                    continue
                if isinstance(parent, GraphQLObjectType):
                    note(parent.name, field)
                else:
                    for implementation in schema.get_possible_types(parent):
                        note(implementation.name, implementation.fields.get(name, field))
                if selection.selection_set is not None:
                    walk(selection.selection_set, get_named_type(field.type))
            elif isinstance(selection, InlineFragmentNode):
                condition = parent
                if selection.type_condition is not None:
                    condition = schema.get_type(selection.type_condition.name.value)
                walk(selection.selection_set, condition)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                condition = None if fragment is None else schema.get_type(fragment.type_condition.name.value)
                if fragment is not None and (name, getattr(condition, "name", "")) not in walked:
                    walked.add((name, getattr(condition, "name", "")))  # before: a cycle ends here too
                    walk(fragment.selection_set, condition)

    root = schema.query_type
    if root is not None:
        walk(operation.selection_set, root)
    columns: dict[type[Model], frozenset[str]] = {}
    for type_name, attributes in reads.items():
        if attributes is None:
            continue
        model = MODELS[type_name]
        projection = model._meta.fields_db_projection
        if not attributes <= projection.keys():
            continue  # reads something that is no column (a relation, a property): all columns
        wanted = _always(model) | {projection[attribute] for attribute in attributes}
        previous = columns.get(model)
        columns[model] = frozenset(wanted if previous is None else wanted | previous)
    # Two GraphQL types on one model where one needs every column: every column.
    for type_name, attributes in reads.items():
        if attributes is None or not attributes <= MODELS[type_name]._meta.fields_db_projection.keys():
            columns.pop(MODELS[type_name], None)
    return columns
