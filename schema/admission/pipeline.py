"""The admission pipeline: every operation, whichever transport brought it (HTTP GET and POST,
server-sent events, multipart subscriptions, graphql-transport-ws, graphql-ws), passes these
steps in this order before it runs. Each step is a module of schema.admission and refuses with
a RequestError (nothing has run); the transport only reads its request into an ``Arrival`` and
speaks the refusal in its protocol.

1. document: the text, sent or looked up by its hash (APQ), and the allow-list;
2. prepared: parsed, validated, shape limits (limits) and literal values (literals), once
   per distinct text;
3. operation: which operation runs, and whether this transport may carry it;
4. variables: coerced to their types, list sizes, no NUL;
5. pricing: the cost, refused above ``EXCHANGE_MAX_COST``;
6. authentication: the caller (a socket's was decided at ``connection_init``, here too);
7. rate_limit: the cost charged to the caller's points;
8. idempotency: a mutation's ``Idempotency-Key`` claimed (replayed, or refused);

and around execution, 9. slot: one of the process's execution slots (``execution_slot``);
afterwards an idempotency claim is settled (``settle``) or released (``release``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import GraphQLSchema, OperationDefinitionNode, OperationType
from graphql.execution.values import VariableValues

from exchange import access, idempotency
from exchange.deadlines import within
from exchange.documents import DocumentStore
from exchange.errors import DomainError, ErrorCode
from exchange.ratelimit import RateLimiter
from exchange.settings import Settings
from schema.admission import document
from schema.admission import idempotency as keys
from schema.admission.authentication import actor_for, connection_authorization, socket_refusal
from schema.admission.limits import Limits
from schema.admission.operation import Carriage, check_carriage, select_operation
from schema.admission.prepared import Prepared, prepare
from schema.admission.pricing import price
from schema.admission.rate_limit import charge
from schema.admission.refusal import RequestError
from schema.admission.slot import ExecutionSlot
from schema.admission.variables import coerce_variables

if TYPE_CHECKING:
    from collections.abc import Callable

# Bound on each database step before execution (key lookup, persisted document, idempotency
# claim): a database that stopped answering yields SERVICE_UNAVAILABLE, not a hung request.
DB_STEP_SECONDS = 5.0
IDEMPOTENCY_WAIT_SECONDS = 5.0

# Who an operation acts for: an actor (perhaps anonymous), or the DomainError its key raised,
# raised again by every resolver that asks (an HTTP request with a bad key may still be told so).
Caller = access.Actor | DomainError


@dataclass(slots=True)
class Arrival:
    """An operation as its transport received it, nothing checked yet (never changed once
    made; not frozen, because a frozen dataclass sets each field through a call, and one is
    made for every request)."""

    query: str | None  # None: sent by its hash alone
    operation_name: str | None
    variables: dict[str, Any]
    carriage: Carriage
    address: str
    extensions: dict[str, Any] | None = None
    authorization: str | None = None  # HTTP: the request's header
    caller: Caller | None = None  # a socket: whom its connection acts for
    idempotency_key: str | None = None


@dataclass(slots=True)
class Admitted:
    """An operation that passed every step, and what the steps found."""

    query: str
    prepared: Prepared
    operation: OperationDefinitionNode
    variable_values: VariableValues
    caller: Caller
    headers: dict[str, str]  # the rate limit's, for the response
    extensions_out: dict[str, Any]  # extensions.cost and extensions.rateLimit
    streamed: bool  # a subscription streamed over HTTP
    claim: idempotency.Claim | None = field(default=None)

    @property
    def coerced(self) -> dict[str, Any]:
        return self.variable_values.coerced

    @property
    def actor(self) -> access.Actor | None:
        return None if isinstance(self.caller, DomainError) else self.caller


class AdmissionPipeline:
    """The steps, and the state they keep per process (document cache, rate limiter, slots)."""

    def __init__(self, schema: GraphQLSchema, settings: Settings) -> None:
        self.schema = schema
        self.settings = settings
        self.limits = Limits.from_settings(settings)
        self.documents = DocumentStore()
        self.rate_limiter = RateLimiter(settings)
        # Operations executing at once in this process; the others wait their turn (see
        # Settings.max_concurrent_executions).
        self.execution_slots = asyncio.Semaphore(max(1, settings.max_concurrent_executions))

    async def admit(self, arrival: Arrival) -> Admitted:
        """Steps 1 to 8; raises RequestError to refuse."""
        settings, schema = self.settings, self.schema
        query = await self.document(arrival)
        prepared = self.prepare(query)
        operation = select_operation(prepared, arrival.operation_name)
        streamed = check_carriage(operation.operation, arrival.carriage)
        document.remember(self.documents, settings, query, arrival.query, arrival.extensions)
        variable_values = coerce_variables(
            schema, operation, arrival.variables, self.limits, prepared.variables, prepared.coercions
        )
        cost, cost_extension = price(schema, prepared, operation, variable_values.coerced, settings)
        caller = (
            arrival.caller if arrival.caller is not None else await self.authenticate(arrival.authorization)
        )
        actor = None if isinstance(caller, DomainError) else caller
        headers, extensions_out = await charge(
            self.rate_limiter, settings, arrival.carriage, actor, arrival.address, cost, cost_extension
        )
        admitted = Admitted(
            query, prepared, operation, variable_values, caller, headers, extensions_out, streamed
        )
        admitted.claim = await self.claim(arrival, admitted)
        return admitted

    async def document(self, arrival: Arrival) -> str:
        """Step 1: the text to run."""
        if document.needs_lookup(arrival.query, arrival.extensions, self.settings):
            return await within(
                DB_STEP_SECONDS,
                document.resolve_document(self.documents, self.settings, arrival.query, arrival.extensions),
            )
        return str(arrival.query)  # a plain query with no allow-list: no database

    def prepare(self, query: str) -> Prepared:
        """Step 2: the document parsed and checked (cached per distinct text)."""
        prepared = prepare(self.schema, query, self.limits)
        if prepared.errors:
            raise RequestError.graphql(prepared.errors)
        return prepared

    async def authenticate(self, authorization: str | None) -> Caller:
        """Step 6: the caller an Authorization value names."""
        if not authorization:
            return await actor_for(None)  # anonymous: no key to look up
        return await within(DB_STEP_SECONDS, actor_for(authorization))

    async def connection_caller(self, params: object, upgrade_caller: Caller) -> access.Actor:
        """Step 6 for a socket, once at ``connection_init``: the key in its payload, else the
        one its upgrade request sent; raises RequestError (UNAUTHENTICATED) without a valid one."""
        authorization = connection_authorization(params)
        caller = upgrade_caller if authorization is None else await self.authenticate(authorization)
        reason = socket_refusal(caller)
        if reason is not None or isinstance(caller, DomainError):
            raise RequestError([{"message": reason, "extensions": {"code": ErrorCode.UNAUTHENTICATED}}])
        return caller

    async def claim(self, arrival: Arrival, admitted: Admitted) -> idempotency.Claim | None:
        """Step 8: the mutation's ``Idempotency-Key`` claim, if it sent one."""
        key, operation = arrival.idempotency_key, admitted.operation
        if key is None or operation.operation is not OperationType.MUTATION:
            return None
        scope = keys.key_scope(self.schema, admitted.actor, operation, admitted.coerced, arrival.address)
        return await within(
            DB_STEP_SECONDS + IDEMPOTENCY_WAIT_SECONDS,
            keys.claim_idempotency(
                key, scope, admitted.prepared, operation, arrival.variables, IDEMPOTENCY_WAIT_SECONDS
            ),
        )

    def execution_slot(self) -> ExecutionSlot:
        """Step 9, around execution."""
        return ExecutionSlot(self.execution_slots, self.settings.execution_timeout_seconds)

    async def release(self, admitted: Admitted) -> None:
        """The claim given up (the execution failed), so the key may be sent again."""
        claim = admitted.claim
        if claim is not None and claim.record_id is not None:
            await within(DB_STEP_SECONDS, idempotency.release(claim.record_id))

    async def settle(
        self,
        admitted: Admitted,
        status: int,
        body: dict[str, Any],
        for_replay: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> None:
        """The claim completed with the answer, or released when a retry may fare better."""
        claim = admitted.claim
        if claim is not None and claim.record_id is not None:
            await within(DB_STEP_SECONDS, keys.settle(claim.record_id, status, body, for_replay))
