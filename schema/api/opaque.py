"""What global ids and cursors share: both are unpadded URL-safe base64 of ``prefix:number``,
so both are read back the same way and both refuse numbers the databases cannot hold."""

from __future__ import annotations

import base64
import binascii

# Primary keys and offsets are 32-bit integers in both databases: anything larger names no
# row and, sent along, would overflow the column's type in the statement.
_MAX_INT = 2**31 - 1


def unpadded_b64decode(text: str) -> str | None:
    """The text inside unpadded URL-safe base64, or None for anything that is not that."""
    try:
        return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def small_int(digits: str) -> int | None:
    """The value of 1-10 ASCII digits up to 2^31-1; None for anything else (e.g. "²", which
    str.isdigit accepts and int() refuses)."""
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 10):
        return None
    value = int(digits)
    return value if value <= _MAX_INT else None
