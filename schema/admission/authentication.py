"""Admission step 6: the caller, from an HTTP request's ``Authorization`` header (an API key, or
nobody), or for a socket from its ``connection_init`` payload, else its upgrade request's header."""

from __future__ import annotations

from exchange import access
from exchange.errors import DomainError, unauthenticated

WRONG_SCHEME_MESSAGE = (
    "Only Bearer API keys are accepted: send `Authorization: Bearer <key>`, not another scheme."
)


def bearer_secret(authorization: str | None) -> str | None:
    """The key in an Authorization header: after ``Bearer``, or the whole value when it has
    no scheme (a bare key)."""
    if not authorization:
        return None
    scheme, _, secret = authorization.strip().partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else authorization.strip() or None


def other_scheme(authorization: str | None) -> bool:
    """Whether an Authorization header names a scheme other than Bearer ("Basic ...")."""
    scheme, space, rest = (authorization or "").strip().partition(" ")
    return bool(space and rest.strip()) and scheme.lower() != "bearer"


async def actor_for(authorization: str | None) -> access.Actor | DomainError:
    if other_scheme(authorization):
        # Not "unknown or revoked": no key was looked up, and the caller should learn why.
        return unauthenticated(WRONG_SCHEME_MESSAGE)
    secret = bearer_secret(authorization)
    try:
        return await access.authenticate(secret)
    except access.InvalidKey:
        return unauthenticated("The API key is unknown or revoked.")


def connection_authorization(params: object) -> str | None:
    """The key a socket's ``connection_init`` payload carries (``Authorization``, or lower-case)."""
    if not isinstance(params, dict):
        return None
    value = params.get("Authorization", params.get("authorization"))
    return value if isinstance(value, str) else None


def socket_refusal(caller: access.Actor | DomainError) -> str | None:
    """Why a socket may not act for this caller, or None: a socket needs a valid key (its
    subscriptions see only what that key may see, and nothing anonymous is streamed)."""
    if isinstance(caller, DomainError):
        return caller.problems[0].message
    return None if caller.is_authenticated else "An API key is required."
