"""A request refused or failed before execution, as every transport reports it: the
RequestError an admission step raised, else the failure masked (a database away:
SERVICE_UNAVAILABLE, 503, retry; anything else: INTERNAL_SERVER_ERROR, 500, logged with the
request id the client is told)."""

from __future__ import annotations

import logging
import uuid

from starlette.requests import HTTPConnection

from exchange.errors import TransportCode
from schema.admission.refusal import RequestError
from schema.transport.errors import INTERNAL_MESSAGE, UNAVAILABLE_MESSAGE, is_unavailable

log = logging.getLogger("exchange.graphql")


def request_id_of(request: HTTPConnection) -> str:
    state = request.scope.setdefault("state", {})
    request_id = state.get("request_id")
    if not request_id:
        request_id = state["request_id"] = uuid.uuid4().hex
    return str(request_id)


def as_refusal(error: Exception, request_id: str) -> RequestError:
    if isinstance(error, RequestError):
        return error
    if is_unavailable(error):
        log.warning("request %s: database unavailable: %r", request_id, error)
        refused = RequestError.of(
            UNAVAILABLE_MESSAGE, TransportCode.SERVICE_UNAVAILABLE, 503, headers={"Retry-After": "1"}
        )
    else:
        log.error("request %s: unexpected error before execution", request_id, exc_info=error)
        refused = RequestError.of(INTERNAL_MESSAGE, TransportCode.INTERNAL_SERVER_ERROR, 500)
    refused.errors[0]["extensions"]["requestId"] = request_id
    return refused
