"""Global ids that are well-formed base64 but name no row we could have: null or NOT_FOUND,
never an internal error (they overflowed PostgreSQL's integer columns, and "²" passed
str.isdigit but not int())."""

from __future__ import annotations

import base64

import pytest

from schema.node import NODE_RESOLVERS
from tests.conftest import GraphQLClient

ODD_KEYS = ["2147483648", "99999999999", "\u00b2", "\u0663", "-1", " 1"]


def forged(type_name: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


@pytest.mark.parametrize("key", ODD_KEYS)
async def test_node_with_an_impossible_key_is_null(gql: GraphQLClient, admin_key: str, key: str) -> None:
    for type_name in sorted(NODE_RESOLVERS):
        result = await gql(
            "query($id: ID!) { node(id: $id) { id } }", {"id": forged(type_name, key)}, key=admin_key
        )
        assert result.get("errors") is None and result["data"] == {"node": None}, (type_name, result)


@pytest.mark.parametrize("key", ODD_KEYS)
async def test_mutation_with_an_impossible_key_is_not_found(
    gql: GraphQLClient, admin_key: str, key: str
) -> None:
    for mutation, type_name in (("cancelSession", "Session"), ("revokeInvitation", "Invitation")):
        result = await gql(
            f"mutation($id: ID!) {{ {mutation}(id: $id) {{ userErrors {{ field code }} }} }}",
            {"id": forged(type_name, key)},
            key=admin_key,
        )
        assert result.get("errors") is None, result
        assert result["data"][mutation]["userErrors"] == [{"field": ["id"], "code": "NOT_FOUND"}]
