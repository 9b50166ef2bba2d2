"""Global ids whose key no row of ours could have (it overflowed PostgreSQL's integer
columns, and "²" passed str.isdigit but not int()): never an internal error. Such an id
does not decode, so it is malformed input, BAD_USER_INPUT (#10 item 11; these answered null
and NOT_FOUND before); tests/api/test_malformed_ids.py covers every id argument."""

from __future__ import annotations

import base64

import pytest

from schema.api.node import NODE_RESOLVERS
from tests.conftest import GraphQLClient

ODD_KEYS = ["2147483648", "99999999999", "\u00b2", "\u0663", "-1", " 1"]


def forged(type_name: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


@pytest.mark.parametrize("key", ODD_KEYS)
async def test_node_with_an_impossible_key_is_bad_user_input(
    gql: GraphQLClient, admin_key: str, key: str
) -> None:
    for type_name in sorted(NODE_RESOLVERS):
        result = await gql(
            "query($id: ID!) { node(id: $id) { id } }", {"id": forged(type_name, key)}, key=admin_key
        )
        assert result["data"] == {"node": None}, (type_name, result)
        assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"], (type_name, result)


@pytest.mark.parametrize("key", ODD_KEYS)
async def test_mutation_with_an_impossible_key_is_bad_user_input(
    gql: GraphQLClient, admin_key: str, key: str
) -> None:
    for mutation, type_name in (("cancelSession", "Session"), ("revokeInvitation", "Invitation")):
        result = await gql(
            f"mutation($id: ID!) {{ {mutation}(id: $id) {{ userErrors {{ field code }} }} }}",
            {"id": forged(type_name, key)},
            key=admin_key,
        )
        assert result["data"] is None, result
        assert [e["extensions"] for e in result["errors"]] == [{"code": "BAD_USER_INPUT", "field": ["id"]}]
