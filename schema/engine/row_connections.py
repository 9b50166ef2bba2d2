"""Compiling a connection's selection for row mode (schema.engine.row_compiler): totalCount,
edges with cursors and their node's shape, pageInfo; None where row mode cannot serve it (two
edges or pageInfo keys, an edge without a node, a field it does not know)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import FieldNode, GraphQLList, GraphQLObjectType

from schema.engine.declarations import Paging
from schema.engine.row_builders import generate_connection
from schema.engine.row_shapes import (
    CURSOR,
    EDGES,
    NODE,
    PAGE_INFO,
    PAGE_INFO_FIELDS,
    TOTAL,
    TYPENAME,
    Collecting,
    Connection,
    Shape,
    unwrap,
)


class ConnectionCompiler:
    """Row mode's compiler (schema.engine.row_compiler.Compiler) for connections."""

    operation: Collecting

    def shape(
        self, type_: GraphQLObjectType, nodes: Sequence[FieldNode], joins: Mapping[str, Any]
    ) -> Shape | None:
        raise NotImplementedError  # the compiler's

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
                if not self.edges(connection, type_, field_nodes, joins):
                    return None
                connection.fields.append((key, EDGES, None))
            elif name == "pageInfo":
                if not self.page_info(connection, type_, field_nodes):
                    return None
                connection.fields.append((key, PAGE_INFO, None))
            else:
                return None
        if connection.node is None:
            return None  # the page's rows are read for its nodes: without one, the resolver answers
        generate_connection(connection)
        return connection

    def edges(
        self,
        connection: Connection,
        type_: GraphQLObjectType,
        field_nodes: Sequence[FieldNode],
        joins: Mapping[str, Any],
    ) -> bool:
        edges_type, _ = unwrap(type_.fields["edges"].type)
        edge_type = unwrap(edges_type.of_type)[0] if isinstance(edges_type, GraphQLList) else None
        if not isinstance(edge_type, GraphQLObjectType):
            return False
        edge_sets = [node.selection_set for node in field_nodes if node.selection_set is not None]
        edge_fields = self.operation.collect(edge_type, edge_sets)
        if sum(1 for nodes_ in edge_fields.values() if nodes_[0].name.value == "node") > 1:
            return False
        for edge_key, edge_nodes in edge_fields.items():
            edge_name = edge_nodes[0].name.value
            if edge_name == "__typename":
                connection.edge_fields.append((edge_key, TYPENAME, edge_type.name))
            elif edge_name == "cursor":
                connection.edge_fields.append((edge_key, CURSOR, None))
            elif edge_name == "node":
                node_type, _ = unwrap(edge_type.fields["node"].type)
                if not isinstance(node_type, GraphQLObjectType):
                    return False
                connection.node = self.shape(node_type, edge_nodes, joins)
                if connection.node is None:
                    return False
                connection.edge_fields.append((edge_key, NODE, None))
            else:
                return False
        return True

    def page_info(
        self, connection: Connection, type_: GraphQLObjectType, field_nodes: Sequence[FieldNode]
    ) -> bool:
        info_type, _ = unwrap(type_.fields["pageInfo"].type)
        if not isinstance(info_type, GraphQLObjectType):
            return False
        info_sets = [node.selection_set for node in field_nodes if node.selection_set is not None]
        for info_key, info_nodes in self.operation.collect(info_type, info_sets).items():
            info_name = info_nodes[0].name.value
            if info_name == "__typename":
                connection.page_info.append((info_key, TYPENAME, info_type.name))
            elif info_name in PAGE_INFO_FIELDS:
                connection.page_info.append((info_key, PAGE_INFO_FIELDS[info_name], None))
            else:
                return False
        return True
