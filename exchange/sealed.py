"""Secrets the server must read back but never store in plain text (webhook signing secrets:
unlike API keys, which are only compared and so stored as hashes, these sign requests).

A value is sealed with AES-256-GCM under a key derived by HKDF-SHA256 from the server's
secret key (``EXCHANGE_SECRET_KEY``) and a purpose label, so the bytes that seal rows are
not the bytes that sign invitation tokens, and one purpose's values do not open as
another's. Stored as ``v1:`` + base64(12-byte random nonce || ciphertext || 16-byte tag);
the prefix names the format, so a later one can be read beside it. The associated data is
the version, the purpose and the row the value belongs to: a sealed value copied into
another row (another organisation's endpoint, say) no longer opens.

Key rotation: the current key seals; it and every key of ``EXCHANGE_PREVIOUS_SECRET_KEYS``
are tried when opening, and ``reseal`` gives a value sealed under a previous key again under
the current one.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from exchange.settings import Settings

VERSION = "v1"
PREFIX = VERSION + ":"
_NONCE_BYTES = 12
_TAG_BYTES = 16


class Unsealable(ValueError):
    """No key of this server opens the value. The message says why in general terms and
    never carries the value."""


def derive_key(server_key: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=f"volunteer-exchange sealed {VERSION} {purpose}".encode(),
    ).derive(server_key)


@dataclass(frozen=True)
class Sealer:
    """Seals and opens one purpose's values. ``keys`` are derived keys, the current one first."""

    purpose: str
    keys: tuple[bytes, ...]

    @classmethod
    def for_settings(cls, settings: Settings, purpose: str) -> Sealer:
        return cls(purpose, tuple(derive_key(key, purpose) for key in settings.verifying_keys))

    def _associated_data(self, context: str) -> bytes:
        return f"{VERSION}|{self.purpose}|{context}".encode()

    def seal(self, plain: str, context: str) -> str:
        """``context`` names the row the value belongs to (e.g. ``webhook_endpoint:12``)."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = AESGCM(self.keys[0]).encrypt(nonce, plain.encode(), self._associated_data(context))
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def _open(self, sealed: str, context: str) -> tuple[str, int]:
        """The plain value and the index of the key that opened it (0: the current one)."""
        if not sealed.startswith(PREFIX):
            # Plain text, or a format this code does not know: refused, never used as is.
            raise Unsealable(f"not a sealed value (expected the {VERSION} format)")
        try:
            raw = base64.b64decode(sealed.removeprefix(PREFIX), validate=True)
        except (binascii.Error, ValueError):
            raise Unsealable("the sealed value is damaged (not base64)") from None
        if len(raw) < _NONCE_BYTES + _TAG_BYTES:
            raise Unsealable("the sealed value is damaged (too short)")
        nonce, body = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        associated = self._associated_data(context)
        for index, key in enumerate(self.keys):
            try:
                plain = AESGCM(key).decrypt(nonce, body, associated)
            except InvalidTag:
                continue
            return plain.decode(), index
        raise Unsealable(
            "no key of this server opens it: EXCHANGE_SECRET_KEY changed without the old key in "
            "EXCHANGE_PREVIOUS_SECRET_KEYS, or the value was altered or moved to another row"
        )

    def unseal(self, sealed: str, context: str) -> str:
        return self._open(sealed, context)[0]

    def reseal(self, sealed: str, context: str) -> str | None:
        """The value sealed again under the current key when a previous key opened it; None
        when the current key already does. Raises Unsealable like ``unseal``."""
        plain, index = self._open(sealed, context)
        return None if index == 0 else self.seal(plain, context)
