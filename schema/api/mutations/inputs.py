"""What every update mutation does with its optional inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from exchange import exchanges


def given(value: Any, convert: Callable[[Any], Any] = lambda value: value) -> Any:
    """UNSET (left out) -> KEEP; null stays null (clears); anything else converted."""
    if value is strawberry.UNSET:
        return exchanges.KEEP
    return None if value is None else convert(value)
