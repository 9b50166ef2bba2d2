"""Compiling a declared selection into row mode's shapes (schema.engine.row_shapes): which
columns each level reads, the to-one relations joined into a statement, the children fetched
at the next level, connections; None wherever a field declares nothing row mode can serve."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    print_ast,
)
from strawberry.types.field import StrawberryField

from schema.engine.arguments import Arguments, arguments_of
from schema.engine.columns import MODELS
from schema.engine.declarations import (
    ChildPage,
    Children,
    Declaration,
    GlobalId,
    Localized,
    ToOne,
    declaration_of,
)
from schema.engine.fastpath import BACKREF
from schema.engine.row_connections import ConnectionCompiler
from schema.engine.row_shapes import (
    PAGING_ARGUMENTS,
    TYPENAME,
    Child,
    Collecting,
    Shape,
    given_arguments,
    unwrap,
)
from schema.engine.row_values import column_converter, field_of, json_decoder


class Compiler(ConnectionCompiler):
    def __init__(self, operation: Collecting) -> None:
        self.operation = operation
        self.slots: list[Arguments] = []  # env slots: localized fields' locale arguments
        self.locales: list[Localized] = []
        self.pages: list[Child] = []
        # Each distinct locale argument's slot: the fields that give it alike share one, so a
        # request works out ``locale: $locale`` once for the page, not once per field.
        self.slot_of: dict[tuple[Any, ...], int] = {}
        self.lists: list[Child] = []  # Children of shapes: a fresh dict of lists per request
        self.memos: list[Shape] = []  # joined shapes built once per key: a fresh dict per request

    def place_dicts(self) -> tuple[int, int]:
        """Give each shape's Children an env slot after the locale slots, then each shared
        joined shape one after those (call once the selection is compiled, before its builders
        are generated); returns how many of each (RowField's ``lists`` and ``memos``)."""
        for index, child in enumerate(self.lists):
            child.lists_slot = len(self.slots) + index
        for index, shape in enumerate(self.memos):
            shape.memo_slot = len(self.slots) + len(self.lists) + index
        return len(self.lists), len(self.memos)

    def shape(
        self,
        type_: GraphQLObjectType,
        nodes: Sequence[FieldNode],
        joins: Mapping[str, Any],
    ) -> Shape | None:
        model = MODELS.get(type_.name)
        if model is None:
            return None
        shape = Shape(type_, model, [model._meta.db_pk_column], [], [], [], joins)
        selection_sets = [node.selection_set for node in nodes if node.selection_set is not None]
        for key, field_nodes in self.operation.collect(type_, selection_sets).items():
            if not self.entry(shape, key, field_nodes):
                return None
        return shape

    def entry(self, shape: Shape, key: str, field_nodes: Sequence[FieldNode]) -> bool:
        """The field ``key`` added to ``shape``; False where row mode cannot serve it."""
        type_, model = shape.object_type, shape.model
        projection = model._meta.fields_db_projection
        name = field_nodes[0].name.value
        if name == "__typename":
            shape.entries.append((key, TYPENAME, type_.name))
            return True
        definition = type_.fields.get(name)
        if definition is None or name.startswith("__"):
            return False
        strawberry_field = (definition.extensions or {}).get(BACKREF)
        if not isinstance(strawberry_field, StrawberryField):
            return False
        declaration = declaration_of(strawberry_field)
        given = given_arguments(field_nodes)
        if declaration is None:
            attribute = strawberry_field.python_name
            if given or not getattr(definition.resolve, "_is_default", False) or attribute not in projection:
                return False
            converter = column_converter(model, attribute, definition.type)
            if converter is None:
                return False
            shape.entries.append((key, "column", (shape.column(projection[attribute]), converter)))
            return True
        reads = declaration.reads
        if isinstance(reads, GlobalId):
            if given or reads.attribute not in projection:
                return False
            shape.entries.append(
                (key, "id", (shape.column(projection[reads.attribute]), reads.type_name, reads.encode))
            )
            return True
        if isinstance(reads, Localized):
            return self.localized(shape, key, reads, definition, field_nodes[0], given)
        if isinstance(reads, ToOne | Children | ChildPage):
            relation = strawberry_field.python_name
            return self.relation(shape, key, reads, declaration, definition, field_nodes, given, relation)
        return False

    def localized(
        self,
        shape: Shape,
        key: str,
        reads: Localized,
        definition: GraphQLField,
        node: FieldNode,
        given: set[str],
    ) -> bool:
        """A localized text: its JSON column, its fallback column, and its locale argument
        (an env slot, read per request)."""
        model = shape.model
        projection = model._meta.fields_db_projection
        if not given <= {reads.argument} or reads.attribute not in projection:
            return False
        fallback = reads.fallback_attribute
        if fallback is not None and fallback not in projection:
            return False
        slot = self.locale_slot(reads, definition, node)
        shape.entries.append(
            (
                key,
                "localized",
                (
                    shape.column(projection[reads.attribute]),
                    json_decoder(model, reads.attribute),
                    field_of(model, reads.attribute).null,
                    None if fallback is None else shape.column(projection[fallback]),
                    reads.fallback,
                    reads.pick,
                    reads.first_locale_first,
                    slot,
                    # Checked for null only where the text can be missing: a constant fallback
                    # or a NOT NULL fallback column always gives one.
                    isinstance(definition.type, GraphQLNonNull)
                    and reads.fallback is None
                    and (fallback is None or field_of(model, fallback).null),
                ),
            )
        )
        return True

    def locale_slot(self, reads: Localized, definition: GraphQLField, node: FieldNode) -> int:
        """The env slot of the field's locale list. Its value is ``reads.locales(context, the
        argument's value)``, which depends on nothing else: the locales function, the
        argument's type and default, and what the field gives for it (nothing, a variable, a
        literal). Fields alike in these share the slot."""
        argument = definition.args.get(reads.argument)
        given = next((item.value for item in node.arguments or () if item.name.value == reads.argument), None)
        key = (
            reads.locales,
            reads.argument,
            None
            if argument is None
            else (str(argument.type), repr(argument.default_value), argument.out_name),
            None if given is None else print_ast(given),  # a variable prints as $name
        )
        slot = self.slot_of.get(key)
        if slot is None:
            slot = self.slot_of[key] = len(self.slots)
            self.slots.append(arguments_of(definition, node))
            self.locales.append(reads)
        return slot

    def relation(
        self,
        shape: Shape,
        key: str,
        reads: ToOne | Children | ChildPage,
        declaration: Declaration,
        definition: GraphQLField,
        field_nodes: Sequence[FieldNode],
        given: set[str],
        relation: str,
    ) -> bool:
        """A to-one relation joined into the shape's rows, or a field fetched at the next
        level (a child)."""
        projection = shape.model._meta.fields_db_projection
        if reads.key not in projection:
            return False
        joins = shape.joins
        joined_names = {joined_name for joined_name, _shape, _non_null in shape.joined}
        if isinstance(reads, ToOne) and relation in joins and relation not in joined_names and not given:
            # Joined into this shape's rows when the target needs no fetch of its own.
            target_type, non_null = unwrap(definition.type)
            target = (
                self.shape(target_type, field_nodes, joins[relation])
                if isinstance(target_type, GraphQLObjectType)
                else None
            )
            if target is not None and not target.children:
                # The key itself is not selected: the statement joins on the table's own
                # column, and the joined row's primary key says whether there is one.
                shape.joined.append((relation, target, non_null))
                if reads.shared:
                    self.memos.append(target)
                shape.entries.append((key, "joined", (len(shape.joined) - 1,)))
                return True
        child = self.child(key, reads, declaration, definition, field_nodes, given)
        if child is None:
            return False
        child.key_column = projection[reads.key]
        shape.column(child.key_column)
        shape.children.append(child)
        shape.entries.append((key, "child", child))
        if isinstance(reads, Children):
            self.lists.append(child)
        return True

    def child(
        self,
        key: str,
        reads: ToOne | Children | ChildPage,
        declaration: Declaration,
        definition: GraphQLField,
        nodes: Sequence[FieldNode],
        given: set[str],
    ) -> Child | None:
        type_, non_null = unwrap(definition.type)
        joins = declaration.joins
        if isinstance(reads, ToOne):
            if given or not isinstance(type_, GraphQLObjectType):
                return None
            shape = self.shape(type_, nodes, joins)
            return None if shape is None else Child(key, reads, shape, None, non_null)
        if isinstance(reads, Children):
            item, _item_non_null = unwrap(type_.of_type) if isinstance(type_, GraphQLList) else (None, False)
            if given or not isinstance(item, GraphQLObjectType) or not _item_non_null:
                return None
            shape = self.shape(item, nodes, joins)
            return None if shape is None else Child(key, reads, shape, None, non_null)
        if not given <= PAGING_ARGUMENTS or not isinstance(type_, GraphQLObjectType):
            return None
        connection = self.connection(type_, nodes, joins, reads.paging)
        if connection is None:
            return None
        child = Child(key, reads, None, connection, non_null, arguments=arguments_of(definition, nodes[0]))
        self.pages.append(child)
        return child
