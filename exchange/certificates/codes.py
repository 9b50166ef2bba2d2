"""Verification codes of certificates.

A code is 120 bits, HMAC-SHA256(signing key, "certificate:" + the certificate's random nonce)
cut to 15 bytes, written in base32 (A-Z, 2-7: no 0/O or 1/I to confuse) as six groups of four
to read aloud or type from paper: ``K7QD-2MXA-...``. As with invitation links, the mail (sent
later, rendered then) and the host's view can carry it again, while the database alone (the
nonce and the code's SHA-256) never yields a code. Anything typed is normalised (case,
spaces, dashes) before its hash is looked up; what is not 24 base32 letters is no code.
A typed code is checked against the stored hash alone, so it keeps working after the secret
key changes; ``code_of`` makes it again under every key the server still accepts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

from exchange.keyring import under_any_key

CODE_BYTES = 15  # 120 bits: 24 base32 characters, no padding
CODE_LENGTH = 24
GROUP = 4
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_SEPARATORS = str.maketrans("", "", "- \u00a0\u2010\u2011\u2012\u2013")


def new_nonce() -> str:
    return secrets.token_hex(16)


def code_for(nonce: str, signing_key: bytes) -> str:
    """The certificate's code, ungrouped. The message is prefixed so that no certificate code
    is ever the HMAC of an invitation's nonce (exchange.invitations.tokens)."""
    digest = hmac.new(signing_key, f"certificate:{nonce}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:CODE_BYTES]).decode("ascii")


def code_of(nonce: str, stored_hash: str, keys: Iterable[bytes]) -> str | None:
    """The certificate's code as issued: made under whichever of ``keys``
    (``Settings.verifying_keys``) gives the stored hash; None when none does."""
    return under_any_key(keys, lambda key: code_for(nonce, key), lambda code: matches(code, stored_hash))


def grouped(code: str) -> str:
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalised(text: str) -> str | None:
    """The code in ``text`` as stored (upper case, no separators), or None when it cannot be
    one: then it is unknown without a database lookup."""
    if len(text) > 64:
        return None
    code = text.translate(_SEPARATORS).upper()
    if len(code) != CODE_LENGTH or not set(code) <= _ALPHABET:
        return None
    return code


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def matches(code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(code_hash(code), stored_hash)


def page_url(public_url: str, code: str) -> str:
    return f"{public_url.rstrip('/')}/certificates/{grouped(code)}"
