"""Admission step 8, for mutations over HTTP: ``Idempotency-Key`` (replay, 409 in progress, 422
reused). A key is scoped by the caller's API key, else by the argument the mutation declares
(schema.admission.declarations.idempotency_scoped_by), else by the caller's address."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from graphql import FieldNode, GraphQLSchema, OperationDefinitionNode, value_from_ast

from exchange import access, idempotency
from exchange.errors import TransportCode
from schema.admission.declarations import IDEMPOTENCY_SCOPE, declared
from schema.admission.prepared import Prepared
from schema.admission.refusal import RequestError

# Answers a retry may change: the claim is released so the key can be sent again.
RETRYABLE = frozenset(
    {TransportCode.TIMEOUT, TransportCode.SERVICE_UNAVAILABLE, TransportCode.INTERNAL_SERVER_ERROR}
)


def declared_scope(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> str | None:
    """The value of the argument a root mutation field declares as its idempotency scope,
    literal or from a variable; None when no field selected declares one."""
    mutation = schema.mutation_type
    if mutation is None:
        return None
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            continue
        field = mutation.fields.get(selection.name.value)
        argument_name = declared(field, IDEMPOTENCY_SCOPE)
        if field is None or argument_name is None:
            continue
        for argument in selection.arguments or ():
            if argument.name.value == argument_name:
                value = value_from_ast(argument.value, field.args[argument_name].type, variables)
                return value if isinstance(value, str) else None
    return None


def key_scope(
    schema: GraphQLSchema,
    actor: access.Actor | None,
    operation: OperationDefinitionNode,
    coerced: dict[str, Any],
    address: str,
) -> str:
    if actor is not None and actor.key_id:
        return f"key:{actor.key_id}"
    token = declared_scope(schema, operation, coerced)
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


def replayed(claim: idempotency.Claim | None) -> tuple[dict[str, Any], int] | None:
    """The stored answer (body, status) when the key was completed before."""
    if claim is None or claim.status is not idempotency.Status.REPLAY:
        return None
    stored = claim.response or {}
    return dict(stored.get("body") or {}), int(stored.get("status") or 200)


async def settle(
    record_id: int,
    status: int,
    body: dict[str, Any],
    for_replay: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    """The claim released after a failure a retry may fix, else completed with the answer
    (``for_replay``: the copy that may be stored)."""
    codes = {error.get("extensions", {}).get("code") for error in body.get("errors") or []}
    if codes & RETRYABLE:
        await idempotency.release(record_id)
        return
    await idempotency.complete(record_id, {"status": status, "body": for_replay(body)})
