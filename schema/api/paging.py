"""What a client asks a page with: first/after/last/before, checked against the page-size
cap, and the cursors that after/before carry (offsets, opaque to clients)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from graphql import GraphQLError

from exchange.errors import TransportCode
from schema.admission.cost import FIRST_AND_LAST
from schema.api.opaque import small_int, unpadded_b64decode

_CURSOR_PREFIX = "offset:"


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, argument: str) -> int:
    raw = unpadded_b64decode(cursor) or ""
    offset = small_int(raw[len(_CURSOR_PREFIX) :]) if raw.startswith(_CURSOR_PREFIX) else None
    if offset is None:
        raise bad_input(f"`{argument}` is not a cursor returned by this API.")
    return offset


def bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": TransportCode.BAD_USER_INPUT})


@dataclass(frozen=True)
class PageArgs:
    """Validated first/after/last/before. ``after``/``before`` are offsets."""

    first: int | None = None
    after: int | None = None
    last: int | None = None
    before: int | None = None

    @classmethod
    def parse(
        cls,
        first: int | None,
        after: str | None,
        last: int | None,
        before: str | None,
        cap: int,
    ) -> PageArgs:
        if first is not None and last is not None:
            raise bad_input(FIRST_AND_LAST)
        for name, value in (("first", first), ("last", last)):
            if value is None:
                continue
            if value < 0:
                raise bad_input(f"`{name}` must not be negative.")
            if value > cap:
                raise bad_input(f"`{name}` must be at most {cap} (asked for {value}); page with cursors.")
        return cls(
            first=first,
            after=decode_cursor(after, "after") if after is not None else None,
            last=last,
            before=decode_cursor(before, "before") if before is not None else None,
        )

    def default_first(self, cap: int) -> PageArgs:
        if self.first is None and self.last is None:
            return PageArgs(first=cap, after=self.after, last=None, before=self.before)
        return self

    def window(self, total: int) -> tuple[int, int]:
        """[start, end) offsets of the page, per the Relay cursor connection algorithm."""
        start = 0 if self.after is None else min(self.after + 1, total)
        end = total if self.before is None else max(min(self.before, total), start)
        if self.first is not None:
            end = min(end, start + self.first)
        if self.last is not None:
            start = max(start, end - self.last)
        return start, end

    @property
    def needs_total(self) -> bool:
        """Whether the window can only be placed once the total is known."""
        return self.last is not None and self.before is None
