"""Admission steps 2 and 4, the values written in a request: no list longer than
``EXCHANGE_MAX_INPUT_LIST`` and no NUL in a string, whether the value is a literal in the
document (checked once per document, with its shape) or a variable's (checked per request)."""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, GraphQLError, ListValueNode, StringValueNode, Visitor, visit

from exchange.errors import TransportCode
from schema.admission.limits import Limits, limit_error


class _Literals(Visitor):
    """The longest literal list, and the first literal string holding a NUL."""

    def __init__(self) -> None:
        super().__init__()
        self.longest = 0
        self.node: ListValueNode | None = None
        self.nul: StringValueNode | None = None

    def enter_list_value(self, node: ListValueNode, *_args: Any) -> None:
        if len(node.values) > self.longest:
            self.longest, self.node = len(node.values), node

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if self.nul is None and "\x00" in node.value:
            self.nul = node


def literal_errors(document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    literals = _Literals()
    visit(document, literals)
    errors: list[GraphQLError] = []
    if literals.longest > limits.max_input_list:
        errors.append(input_list_error(literals.longest, limits, literals.node))
    if literals.nul is not None:
        errors.append(nul_error(literals.nul))
    return errors


def input_list_error(length: int, limits: Limits, node: Any = None) -> GraphQLError:
    return limit_error(
        f"An input list has {length} items; at most {limits.max_input_list} are allowed per list.",
        TransportCode.INPUT_LIST_TOO_LONG,
        node,
    )


def nul_error(node: Any = None) -> GraphQLError:
    # PostgreSQL text cannot hold U+0000: refused up front, the same on every database,
    # instead of failing inside a statement as an internal error.
    return limit_error(
        "Text must not contain the NUL character (U+0000).", TransportCode.BAD_USER_INPUT, node
    )


def contains_nul(value: object) -> bool:
    """Whether any string anywhere in a JSON value (the request's variables) holds a NUL."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False


def longest_list(value: object) -> int:
    """The length of the longest list anywhere in a JSON value (the request's variables)."""
    longest = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            longest = max(longest, len(item))
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return longest
