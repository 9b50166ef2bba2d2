"""Admission step for mutations: ``Idempotency-Key`` (replay, 409 in progress, 422 reused)."""

from __future__ import annotations

from typing import Any

import orjson
from graphql import FieldNode, GraphQLString, OperationDefinitionNode, value_from_ast

from exchange import access, idempotency
from exchange.errors import TransportCode
from schema.admission.limits import Prepared
from schema.admission.refusal import RequestError


def invitation_token(operation: OperationDefinitionNode, variables: dict[str, Any]) -> str | None:
    """The token argument of a respondToInvitation call, literal or from a variable."""
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value == "respondToInvitation":
            for argument in selection.arguments or ():
                if argument.name.value == "token":
                    value = value_from_ast(argument.value, GraphQLString, variables)
                    return value if isinstance(value, str) else None
    return None


def key_scope(
    actor: access.Actor | None, operation: OperationDefinitionNode, coerced: dict[str, Any], address: str
) -> str:
    if actor is not None and actor.key_id:
        return f"key:{actor.key_id}"
    token = invitation_token(operation, coerced)
    return idempotency.scope_for_token(token) if token else f"addr:{address}"


async def claim_idempotency(
    key: str,
    scope: str,
    prepared: Prepared,
    operation: OperationDefinitionNode,
    raw_variables: dict[str, Any],
    wait_seconds: float,
) -> idempotency.Claim:
    key = key.strip()
    if not key or len(key) > idempotency.MAX_KEY_LENGTH:
        raise RequestError.of(
            f"Idempotency-Key must be 1 to {idempotency.MAX_KEY_LENGTH} characters.",
            TransportCode.BAD_REQUEST,
            400,
        )
    fingerprint = idempotency.request_hash(
        prepared.sha256.encode(),
        (operation.name.value if operation.name else "").encode(),
        orjson.dumps(raw_variables, option=orjson.OPT_SORT_KEYS),
    )
    claim = await idempotency.claim(scope, key, fingerprint, wait_seconds=wait_seconds)
    if claim.status is idempotency.Status.MISMATCH:
        raise RequestError.of(
            "This Idempotency-Key was used for a different request; use a new key.",
            TransportCode.IDEMPOTENCY_KEY_REUSED,
            422,
        )
    if claim.status is idempotency.Status.IN_PROGRESS:
        raise RequestError.of(
            "A request with this Idempotency-Key is still in progress; retry later.",
            TransportCode.IDEMPOTENCY_IN_PROGRESS,
            409,
            headers={"Retry-After": "1"},
        )
    return claim
