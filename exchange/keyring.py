"""Values made with the server's secret key that must outlive its rotation: an invitation's
link token, a certificate's verification code, the CSRF value of an invitation's pages.

Each is an HMAC under the key of something stored, checked against something stored or sent
back (the token's or the code's SHA-256, the browser's CSRF value). A volunteer keeps what
was made under the key of the day: after EXCHANGE_SECRET_KEY changes, a reminder must carry
the same link again, the host must still see the same code, a form opened before must still
post. So such a value is found or checked under every key of ``Settings.verifying_keys``
(the current key, then EXCHANGE_PREVIOUS_SECRET_KEYS), while new ones are made with
``Settings.signing_key`` alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


def under_any_key(
    keys: Iterable[bytes], derive: Callable[[bytes], str], matches: Callable[[str], bool]
) -> str | None:
    """``derive(key)`` for the first of ``keys`` whose value ``matches`` (a constant-time
    comparison); None when none does. Every key is tried even after a match, so the time it
    takes does not tell which key made the value."""
    found = None
    for key in keys:
        value = derive(key)
        if matches(value) and found is None:
            found = value
    return found
