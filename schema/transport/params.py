"""The GraphQL request's parameters from a GET query string or a JSON POST body (400 or 415
when they cannot be read). No batching."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from exchange.errors import TransportCode
from schema.admission.operation import JSON
from schema.admission.refusal import RequestError


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
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != JSON:
            raise RequestError.of(
                "Send the request as application/json.",
                TransportCode.UNSUPPORTED_MEDIA_TYPE,
                415,
                headers={"Accept-Post": JSON},
            )
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
    for name, kind in (("query", str), ("operationName", str), ("variables", dict), ("extensions", dict)):
        value = params.get(name)
        if value is not None and not isinstance(value, kind):
            expected = "a string" if kind is str else "an object"
            raise RequestError.of(f"`{name}` must be {expected} or null.", TransportCode.BAD_REQUEST, 400)
    return params
