"""Compiling a declared selection into row mode's shapes (schema.engine.row_shapes): which
columns each level reads, the to-one relations joined into a statement, the children fetched
at the next level, connections; None wherever a field declares nothing row mode can serve."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import FieldNode, GraphQLField, GraphQLList, GraphQLNonNull, GraphQLObjectType
from strawberry.types.field import StrawberryField

from schema.engine.columns import MODELS
from schema.engine.declarations import (
    ChildPage,
    Children,
    Declaration,
    GlobalId,
    Localized,
    Paging,
    ToOne,
    declaration_of,
)
from schema.engine.fastpath import BACKREF
from schema.engine.row_shapes import (
    CURSOR,
    EDGES,
    NODE,
    PAGE_INFO,
    PAGE_INFO_FIELDS,
    PAGING_ARGUMENTS,
    TOTAL,
    TYPENAME,
    Arguments,
    Child,
    Collecting,
    Connection,
    Shape,
    arguments_of,
    unwrap,
)
from schema.engine.row_values import column_converter, json_decoder


class Compiler:
    def __init__(self, operation: Collecting) -> None:
        self.operation = operation
        self.slots: list[Arguments] = []  # env slots: localized fields' locale arguments
        self.locales: list[Localized] = []
        self.pages: list[Child] = []

    def shape(
        self,
        type_: GraphQLObjectType,
        nodes: Sequence[FieldNode],
        joins: Mapping[str, Any],
    ) -> Shape | None:
        model = MODELS.get(type_.name)
        if model is None:
            return None
        meta = model._meta
        projection = meta.fields_db_projection
        shape = Shape(type_, model, [meta.db_pk_column], [], [], [], joins)
        selection_sets = [node.selection_set for node in nodes if node.selection_set is not None]
        for key, field_nodes in self.operation.collect(type_, selection_sets).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                shape.entries.append((key, TYPENAME, type_.name))
                continue
            definition = type_.fields.get(name)
            if definition is None or name.startswith("__"):
                return None
            strawberry_field = (definition.extensions or {}).get(BACKREF)
            if not isinstance(strawberry_field, StrawberryField):
                return None
            declaration = declaration_of(strawberry_field)
            given = {argument.name.value for node in field_nodes for argument in node.arguments or ()}
            resolve = definition.resolve
            if declaration is None:
                attribute = strawberry_field.python_name
                if given or not getattr(resolve, "_is_default", False) or attribute not in projection:
                    return None
                converter = column_converter(model, attribute, definition.type)
                if converter is None:
                    return None
                shape.entries.append((key, "column", (shape.column(projection[attribute]), converter)))
                continue
            reads = declaration.reads
            if isinstance(reads, GlobalId):
                if given or reads.attribute not in projection:
                    return None
                shape.entries.append(
                    (key, "id", (shape.column(projection[reads.attribute]), reads.type_name, reads.encode))
                )
            elif isinstance(reads, Localized):
                if not given <= {reads.argument} or reads.attribute not in projection:
                    return None
                fallback = reads.fallback_attribute
                if fallback is not None and fallback not in projection:
                    return None
                self.slots.append(arguments_of(definition, field_nodes[0]))
                self.locales.append(reads)
                shape.entries.append(
                    (
                        key,
                        "localized",
                        (
                            shape.column(projection[reads.attribute]),
                            json_decoder(model, reads.attribute),
                            None if fallback is None else shape.column(projection[fallback]),
                            reads.fallback,
                            reads.pick,
                            len(self.slots) - 1,
                            isinstance(definition.type, GraphQLNonNull),
                        ),
                    )
                )
            elif isinstance(reads, ToOne | Children | ChildPage):
                if reads.key not in projection:
                    return None
                relation = strawberry_field.python_name
                joined_names = {joined_name for joined_name, _shape, _non_null in shape.joined}
                if (
                    isinstance(reads, ToOne)
                    and relation in joins
                    and relation not in joined_names
                    and not given
                ):
                    # Joined into this shape's rows when the target needs no fetch of its own.
                    target_type, non_null = unwrap(definition.type)
                    target = (
                        self.shape(target_type, field_nodes, joins[relation])
                        if isinstance(target_type, GraphQLObjectType)
                        else None
                    )
                    if target is not None and not target.children:
                        shape.column(projection[reads.key])
                        shape.joined.append((relation, target, non_null))
                        shape.entries.append((key, "joined", (len(shape.joined) - 1,)))
                        continue
                child = self.child(key, reads, declaration, definition, field_nodes, given)
                if child is None:
                    return None
                child.key_column = projection[reads.key]
                shape.column(child.key_column)
                shape.children.append(child)
                shape.entries.append((key, "child", None))
            else:
                return None
        return shape

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

    def connection(
        self, type_: GraphQLObjectType, nodes: Sequence[FieldNode], joins: Mapping[str, Any], paging: Paging
    ) -> Connection | None:
        """The selection on a Connection type (schema.api.relay.Connection), or None."""
        selection_sets = [node.selection_set for node in nodes if node.selection_set is not None]
        connection = Connection([], [], [], None, paging.cursor)
        collected = self.operation.collect(type_, selection_sets)
        # One edges and one pageInfo each: the builder fills a single list of their fields.
        for single in ("edges", "pageInfo"):
            if sum(1 for nodes_ in collected.values() if nodes_[0].name.value == single) > 1:
                return None
        for key, field_nodes in collected.items():
            name = field_nodes[0].name.value
            if name == "__typename":
                connection.fields.append((key, TYPENAME, type_.name))
            elif name == "totalCount" and not field_nodes[0].selection_set:
                connection.fields.append((key, TOTAL, None))
            elif name == "edges":
                edges_type, _ = unwrap(type_.fields["edges"].type)
                edge_type = unwrap(edges_type.of_type)[0] if isinstance(edges_type, GraphQLList) else None
                if not isinstance(edge_type, GraphQLObjectType):
                    return None
                edge_sets = [node.selection_set for node in field_nodes if node.selection_set is not None]
                edge_fields = self.operation.collect(edge_type, edge_sets)
                if sum(1 for nodes_ in edge_fields.values() if nodes_[0].name.value == "node") > 1:
                    return None
                for edge_key, edge_nodes in edge_fields.items():
                    edge_name = edge_nodes[0].name.value
                    if edge_name == "__typename":
                        connection.edge_fields.append((edge_key, TYPENAME, edge_type.name))
                    elif edge_name == "cursor":
                        connection.edge_fields.append((edge_key, CURSOR, None))
                    elif edge_name == "node":
                        node_type, _ = unwrap(edge_type.fields["node"].type)
                        if not isinstance(node_type, GraphQLObjectType):
                            return None
                        connection.node = self.shape(node_type, edge_nodes, joins)
                        if connection.node is None:
                            return None
                        connection.edge_fields.append((edge_key, NODE, None))
                    else:
                        return None
                connection.fields.append((key, EDGES, None))
            elif name == "pageInfo":
                info_type, _ = unwrap(type_.fields["pageInfo"].type)
                if not isinstance(info_type, GraphQLObjectType):
                    return None
                info_sets = [node.selection_set for node in field_nodes if node.selection_set is not None]
                for info_key, info_nodes in self.operation.collect(info_type, info_sets).items():
                    info_name = info_nodes[0].name.value
                    if info_name == "__typename":
                        connection.page_info.append((info_key, TYPENAME, info_type.name))
                    elif info_name in PAGE_INFO_FIELDS:
                        connection.page_info.append((info_key, PAGE_INFO_FIELDS[info_name], None))
                    else:
                        return None
                connection.fields.append((key, PAGE_INFO, None))
            else:
                return None
        if connection.node is None:
            return None  # the page's rows are read for its nodes: without one, the resolver answers
        return connection
