"""Admission rules an operation declares where it is defined, as field metadata
(``@strawberry.mutation(metadata=...)``), read back through the built schema, so admission
names no operation and imports no GraphQL type."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLField
from strawberry.schema.schema_converter import GraphQLCoreConverter

IDEMPOTENCY_SCOPE = "exchange.admission.idempotency_scope"


def idempotency_scoped_by(argument: str) -> dict[str, str]:
    """Metadata for a mutation that callers without an API key may send: their
    ``Idempotency-Key`` is scoped by this argument's value (a bearer token, never stored),
    not by their address, which two people behind one NAT share."""
    return {IDEMPOTENCY_SCOPE: argument}


def declared(field: GraphQLField | None, name: str) -> Any:
    """The value a field declared under ``name``, or None."""
    if field is None:
        return None
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    metadata = getattr(definition, "metadata", None) or {}
    return metadata.get(name)
