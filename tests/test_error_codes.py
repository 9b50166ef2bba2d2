"""One error vocabulary: every extensions.code the server sends is a member of
exchange.errors' ErrorCode (its AUTH_CODES) or TransportCode, the contract's UserErrorCode is
the domain's ErrorCode less AUTH_CODES, and README's "Error codes" table lists exactly the
codes of the two enums."""

from __future__ import annotations

import ast
import re
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLEnumType, GraphQLError

from exchange.errors import AUTH_CODES, DomainError, ErrorCode, TransportCode
from schema.api.errors import USER_ERROR_CODES, UserErrorCode, by_domain_code, mutate
from schema.build import default_schema

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
VOCABULARY = {*(code.value for code in TransportCode), *(code.value for code in AUTH_CODES)}
CODE = re.compile(r"`([A-Z][A-Z_]{3,})`")


def readme_error_table() -> list[str]:
    """The codes in the first column of the table after "**Error codes.**"."""
    text = README.split("**Error codes.**", 1)[1]
    rows = []
    for line in text.split("\n\n", 2)[1].splitlines():
        if line.startswith("| `"):
            rows.extend(CODE.findall(line.split("|")[1]))
    return rows


def test_the_readme_error_table_lists_every_code_once() -> None:
    listed = readme_error_table()
    assert len(listed) == len(set(listed)), sorted(code for code in listed if listed.count(code) > 1)
    assert set(listed) - VOCABULARY == set(), "README lists codes the server never sends"
    assert VOCABULARY - set(listed) == set(), "codes missing from README's Error codes table"


def test_codes_in_the_readmes_other_tables_are_in_the_vocabulary() -> None:
    # The ordered checks of "Limits, errors and safe retries" and the stream codes of "Live updates".
    mentioned: set[str] = set()
    table_is_about_codes = False
    for line in README.splitlines():
        if not line.startswith("|"):
            table_is_about_codes = False
            continue
        if not table_is_about_codes:
            header = line.lower()
            table_is_about_codes = "extensions.code" in header or "refusal" in header
            continue
        mentioned.update(code for code in CODE.findall(line) if not code.startswith("EXCHANGE_"))
    assert mentioned, "the tables were not found"
    assert mentioned - VOCABULARY == set()


def _code_literals(path: Path) -> list[str]:
    """``{"code": "SOME_CODE"}`` written as a string: the code bypasses the enums. (Other
    "code" keys, e.g. a certificate's label "Verification code", are not error codes.)"""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "code"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                    and re.fullmatch(r"[A-Z][A-Z0-9_]+", value.value)
                ):
                    found.append(f"{path.relative_to(ROOT)}:{value.lineno} {value.value}")
    return found


def test_the_server_writes_codes_from_the_enums_only() -> None:
    sources = [
        path
        for package in ("exchange", "schema")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]
    assert not [literal for path in sources for literal in _code_literals(path)]


def test_user_error_code_is_the_domains_error_code_less_the_auth_codes() -> None:
    assert {code.name for code in UserErrorCode} == {
        code.name for code in ErrorCode if code not in AUTH_CODES
    }
    assert {domain.name: contract.name for domain, contract in USER_ERROR_CODES.items()} == {
        code.name: code.name for code in ErrorCode if code not in AUTH_CODES
    }


def test_a_code_on_one_side_only_stops_the_server() -> None:
    class Grown(StrEnum):  # the domain with one code more than the contract
        INVALID = "INVALID"
        NOT_FOUND = "NOT_FOUND"
        CONFLICT = "CONFLICT"
        CAPACITY_REACHED = "CAPACITY_REACHED"
        EXPIRED = "EXPIRED"
        ALREADY_RESPONDED = "ALREADY_RESPONDED"
        REVOKED = "REVOKED"
        QUOTA_SPENT = "QUOTA_SPENT"

    with pytest.raises(RuntimeError, match="QUOTA_SPENT"):
        by_domain_code(Grown)  # type: ignore[arg-type]

    class Shrunk(Enum):  # the contract without one of the domain's codes
        INVALID = "INVALID"

    with pytest.raises(RuntimeError, match="NOT_FOUND"):
        by_domain_code(contract=Shrunk)  # type: ignore[arg-type]


@pytest.mark.parametrize("code", list(ErrorCode))
async def test_every_domain_code_reaches_the_caller_as_itself(code: ErrorCode) -> None:
    """A refusal with any domain code leaves as that code: a userError whose enum value the
    schema can serialize, or (AUTH_CODES) a GraphQL error; never a masked internal error."""

    async def refuse() -> dict[str, Any]:
        raise DomainError(code, "Refused.")

    if code in AUTH_CODES:
        with pytest.raises(GraphQLError) as raised:
            await mutate(dict, refuse)
        assert raised.value.extensions == {"code": code.value}
        return
    payload = await mutate(dict, refuse)
    [error] = payload["user_errors"]
    enum_type = default_schema()._schema.get_type("UserErrorCode")
    assert isinstance(enum_type, GraphQLEnumType)
    assert enum_type.serialize(error.code) == code.value
