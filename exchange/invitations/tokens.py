"""Invitation link tokens.

A token is HMAC-SHA256(secret key, the invitation's random nonce): 256 bits that any mail
of the invitation (first, resend, reminder) can carry again, while the database alone
(nonce + SHA-256 of the token) never yields a usable link.

A link is checked against the stored hash alone, so it keeps working after the secret key
changes; what needs a key is making the token again for a later mail, which ``token_of``
does under every key the server still accepts (exchange.keyring).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

from exchange.keyring import under_any_key


def new_nonce() -> str:
    return secrets.token_hex(16)


def token_for(nonce: str, signing_key: bytes) -> str:
    digest = hmac.new(signing_key, nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_of(nonce: str, stored_hash: str, keys: Iterable[bytes]) -> str | None:
    """The invitation's token as its first mail carried it: made under whichever of ``keys``
    (``Settings.verifying_keys``) gives the stored hash; None when none does (the key it
    was made with is no longer listed, or the invitation was erased)."""
    return under_any_key(keys, lambda key: token_for(nonce, key), lambda token: matches(token, stored_hash))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    return 20 <= len(token) <= 100 and all(c.isalnum() or c in "-_" for c in token)


def matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token), stored_hash)


def link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/invitations/{token}"
