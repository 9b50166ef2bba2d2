"""The Strawberry hook of admission: Strawberry runs the document the pipeline admitted
(schema.admission.pipeline), with no second parse or validation, and refuses an operation
that did not pass the pipeline."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from graphql import GraphQLError, parse
from strawberry.extensions import SchemaExtension

from exchange.errors import TransportCode
from schema.admission.prepared import Prepared

# The document a socket's operation was admitted with. A socket's context serves all its
# operations, so the transport sets this around handing one operation to Strawberry, whose
# task for it copies the value.
_SOCKET_ADMISSION: ContextVar[Prepared | None] = ContextVar("exchange_socket_admission", default=None)

NOT_ADMITTED = "This operation did not pass admission and does not run."


@contextlib.contextmanager
def handing_over(prepared: Prepared) -> Iterator[None]:
    """For a socket: the operation Strawberry starts in this block runs ``prepared``."""
    token = _SOCKET_ADMISSION.set(prepared)
    try:
        yield
    finally:
        _SOCKET_ADMISSION.reset(token)


def admitted_document(context: object, query: str | None) -> Prepared | None:
    """What admission prepared for this text: an HTTP request's (in its context), else a
    socket operation's."""
    extras = getattr(context, "extras", None)
    candidates = (extras.get("prepared") if isinstance(extras, dict) else None, _SOCKET_ADMISSION.get())
    for prepared in candidates:
        if isinstance(prepared, Prepared) and prepared.query == query and prepared.document is not None:
            return prepared
    return None


class PreparedDocument(SchemaExtension):
    """Lets Strawberry reuse what the pipeline parsed and validated."""

    _admitted: Prepared | None = None

    def on_parse(self) -> Iterator[None]:
        execution_context = self.execution_context
        self._admitted = admitted_document(execution_context.context, execution_context.query)
        if self._admitted is not None:
            execution_context.graphql_document = self._admitted.document
        else:
            # Never parsed here (a text no limit has bounded): a one-field stand-in of an
            # allowed kind reaches validation, which refuses it.
            kind = next(iter(execution_context.allowed_operations)).value
            execution_context.graphql_document = parse(f"{kind} {{ __typename }}")
        yield

    def on_validate(self) -> Iterator[None]:
        if self._admitted is None:
            refusal = GraphQLError(NOT_ADMITTED, extensions={"code": TransportCode.INTERNAL_SERVER_ERROR})
            self.execution_context.pre_execution_errors = [refusal]
        else:
            self.execution_context.pre_execution_errors = []  # validated once, by admission
        yield
