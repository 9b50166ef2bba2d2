"""The GraphQL request's parameters from a GET query string or a JSON POST body (400 or 415
when they cannot be read), as the admission pipeline's ``Arrival``. No batching."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from exchange.errors import TransportCode
from exchange.middleware import read_body
from schema.admission.operation import JSON, Carriage
from schema.admission.pipeline import Arrival
from schema.admission.refusal import RequestError

# The parameters GraphQL over HTTP defines, and the JSON type each must have when given.
_PARAMS = (("query", str), ("operationName", str), ("variables", dict), ("extensions", dict))


async def read_arrival(request: Request, carriage: Carriage) -> Arrival:
    params = await read_params(request)
    return Arrival(
        query=params.get("query"),
        operation_name=params.get("operationName"),
        variables=params.get("variables") or {},
        carriage=carriage,
        address=client_address(request),
        extensions=params.get("extensions"),
        authorization=request.headers.get("authorization"),
        idempotency_key=request.headers.get("idempotency-key"),
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def read_params(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        params: dict[str, Any] = dict(request.query_params)
        for name in ("variables", "extensions"):
            if isinstance(params.get(name), str):
                try:
                    params[name] = orjson.loads(params[name])
                except orjson.JSONDecodeError as error:
                    raise RequestError.of(
                        f"`{name}` is not valid JSON.", TransportCode.BAD_REQUEST, 400
                    ) from error
    else:
        content_type = request.headers.get("content-type", "")
        if content_type != JSON and content_type.split(";")[0].strip().lower() != JSON:
            raise RequestError.of(
                "Send the request as application/json.",
                TransportCode.UNSUPPORTED_MEDIA_TYPE,
                415,
                headers={"Accept-Post": JSON},
            )
        raw = read_body(request.scope)  # read whole by the edge, not received again
        if raw is None:
            raw = await request.body()
        if not raw:
            raise RequestError.of("The request body is empty.", TransportCode.BAD_REQUEST, 400)
        try:
            params = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise RequestError.of(
                "The request body is not valid JSON.", TransportCode.BAD_REQUEST, 400
            ) from error
        if not isinstance(params, dict):
            raise RequestError.of(
                "The request body must be a JSON object (no batching).", TransportCode.BAD_REQUEST, 400
            )
    for name, kind in _PARAMS:
        value = params.get(name)
        if value is not None and not isinstance(value, kind):
            expected = "a string" if kind is str else "an object"
            raise RequestError.of(f"`{name}` must be {expected} or null.", TransportCode.BAD_REQUEST, 400)
    return params
