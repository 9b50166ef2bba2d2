"""Standard Webhooks (https://www.standardwebhooks.com/) secrets and signatures:
``webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`` where the key
is the base64-decoded part of the ``whsec_`` secret.

The secret is stored sealed (exchange.sealed) and bound to its endpoint's row: sealed by
``seal_secret`` when added or rotated, opened by ``unseal_secret`` to sign each delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from exchange.sealed import Sealer
from exchange.settings import Settings

SECRET_PREFIX = "whsec_"  # noqa: S105  (a format marker, not a secret)
SEALING_PURPOSE = "webhook signing secret"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sealer(settings: Settings) -> Sealer:
    return Sealer.for_settings(settings, SEALING_PURPOSE)


def _context(endpoint_id: int) -> str:
    return f"webhook_endpoint:{endpoint_id}"


def seal_secret(sealer: Sealer, endpoint_id: int, secret: str) -> str:
    return sealer.seal(secret, _context(endpoint_id))


def unseal_secret(sealer: Sealer, endpoint_id: int, sealed: str) -> str:
    """Raises exchange.sealed.Unsealable (plain text included: a stored secret is always sealed)."""
    return sealer.unseal(sealed, _context(endpoint_id))


def reseal_secret(sealer: Sealer, endpoint_id: int, sealed: str) -> str | None:
    """Sealed under the current key if a previous key sealed it, else None (Sealer.reseal)."""
    return sealer.reseal(sealed, _context(endpoint_id))


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
        "content-type": "application/json",
    }
