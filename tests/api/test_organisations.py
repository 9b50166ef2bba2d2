from __future__ import annotations

from exchange.models import ApiKeyRole, Organisation
from tests.conftest import GraphQLClient, make_key, make_organisation

CREATE = """
mutation($input: CreateOrganisationInput!) {
  createOrganisation(input: $input) {
    organisation { id slug name kind country names { locale text } parent { slug } }
    userErrors { field message code }
  }
}
"""


async def test_admin_creates_organisation_with_localized_names(gql: GraphQLClient, admin_key: str) -> None:
    result = await gql(
        CREATE,
        {
            "input": {
                "slug": "kazakh-volunteers",
                "names": [
                    {"locale": "kk", "text": "Қазақстан волонтерлері"},
                    {"locale": "en", "text": "Kazakh Volunteers"},
                ],
                "kind": "NGO",
                "country": "KZ",
            }
        },
        key=admin_key,
    )
    payload = result["data"]["createOrganisation"]
    assert payload["userErrors"] == []
    organisation = payload["organisation"]
    assert organisation["name"] == "Қазақстан волонтерлері"
    assert [n["locale"] for n in organisation["names"]] == ["kk", "en"]

    query = '{ organisation(slug: "kazakh-volunteers") { name(locale: "en") } }'
    assert (await gql(query))["data"]["organisation"]["name"] == "Kazakh Volunteers"
    by_header = await gql(
        '{ organisation(slug: "kazakh-volunteers") { name } }', headers={"Accept-Language": "en-GB,ru;q=0.5"}
    )
    assert by_header["data"]["organisation"]["name"] == "Kazakh Volunteers"


async def test_duplicate_slug_is_a_conflict(gql: GraphQLClient, admin_key: str) -> None:
    await make_organisation("taken")
    result = await gql(
        CREATE,
        {"input": {"slug": "taken", "names": [{"locale": "en", "text": "X"}], "kind": "NGO"}},
        key=admin_key,
    )
    assert result["data"]["createOrganisation"]["userErrors"] == [
        {"field": ["slug"], "message": "The slug 'taken' is taken.", "code": "CONFLICT"}
    ]


async def test_contact_email_is_validated(gql: GraphQLClient, admin_key: str) -> None:
    # It becomes the Reply-To of the organisation's invitations; it used to be stored unchecked
    # (and one past the column's 320 characters was an internal error on PostgreSQL).
    base = {"names": [{"locale": "en", "text": "X"}], "kind": "NGO"}
    for index, address in enumerate(
        ("not an address", "a@b.example\r\nBcc: x@y.example", "a" * 400 + "@x.example")
    ):
        result = await gql(
            CREATE, {"input": {**base, "slug": f"x{index}", "contactEmail": address}}, key=admin_key
        )
        payload = result["data"]["createOrganisation"]
        assert payload["organisation"] is None, address
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["contactEmail"], "INVALID")]
    good = await gql(
        CREATE, {"input": {**base, "slug": "ok", "contactEmail": " Office@Steppe.example "}}, key=admin_key
    )
    assert good["data"]["createOrganisation"]["userErrors"] == []
    assert (await Organisation.get(slug="ok")).contact_email == "Office@steppe.example"


async def test_only_admin_creates_organisations(gql: GraphQLClient) -> None:
    org = await make_organisation("org-a")
    variables = {"input": {"slug": "x", "names": [{"locale": "en", "text": "X"}], "kind": "NGO"}}
    anonymous = await gql(CREATE, variables)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    as_org = await gql(CREATE, variables, key=await make_key(org))
    assert as_org["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    read_only = await gql(CREATE, variables, key=await make_key(org, ApiKeyRole.READ_ONLY))
    assert read_only["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad_key = await gql(CREATE, variables, key="vx_not-a-key")
    assert bad_key["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_malformed_country_is_bad_user_input(gql: GraphQLClient, admin_key: str) -> None:
    result = await gql(
        CREATE,
        {"input": {"slug": "x", "names": [{"locale": "en", "text": "X"}], "kind": "NGO", "country": "XX"}},
        key=admin_key,
    )
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "XX" in result["errors"][0]["message"]


async def test_organisations_pagination(gql: GraphQLClient) -> None:
    for i in range(5):
        await make_organisation(f"org-{i}")
    first = await gql(
        "{ organisations(first: 2) { totalCount edges { cursor node { slug } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"
    )
    conn = first["data"]["organisations"]
    assert conn["totalCount"] == 5
    assert [e["node"]["slug"] for e in conn["edges"]] == ["org-0", "org-1"]
    assert conn["pageInfo"]["hasNextPage"] is True and conn["pageInfo"]["hasPreviousPage"] is False
    after = conn["pageInfo"]["endCursor"]
    second = await gql(
        "query($a: String) { organisations(first: 10, after: $a) { edges { node { slug } } pageInfo { hasNextPage hasPreviousPage } } }",
        {"a": after},
    )
    assert [e["node"]["slug"] for e in second["data"]["organisations"]["edges"]] == [
        "org-2",
        "org-3",
        "org-4",
    ]
    assert second["data"]["organisations"]["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}
    last = await gql("{ organisations(last: 2) { edges { node { slug } } pageInfo { hasPreviousPage } } }")
    assert [e["node"]["slug"] for e in last["data"]["organisations"]["edges"]] == ["org-3", "org-4"]
    too_many = await gql("{ organisations(first: 101) { totalCount } }")
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "at most 100" in too_many["errors"][0]["message"]


async def test_lookups_by_impossible_slug_are_null_not_errors(gql: GraphQLClient) -> None:
    long_slug = "a" * 101
    result = await gql(
        "query($s: String!) { organisation(slug: $s) { id } exchange(slug: $s) { id } }", {"s": long_slug}
    )
    assert "errors" not in result
    assert result["data"] == {"organisation": None, "exchange": None}
