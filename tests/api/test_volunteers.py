"""registerVolunteer and the volunteers list through HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from exchange.models import ExchangeStatus, Volunteer
from tests.api.exchange_fixtures import gid, make_exchange, make_volunteer, take_part
from tests.conftest import GraphQLClient, make_key, make_organisation

REGISTER = """
mutation($input: RegisterVolunteerInput!) {
  registerVolunteer(input: $input) {
    volunteer { id fullName email country languages skills organisation { slug } participations { totalCount } }
    userErrors { field message code }
  }
}
"""

LIST = """
query($first: Int, $after: String, $last: Int, $country: CountryCode, $language: LanguageCode, $skill: String) {
  volunteers(first: $first, after: $after, last: $last, country: $country, language: $language, skill: $skill) {
    totalCount edges { node { fullName } } pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


def new_volunteer(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "fullName": "  Айгерим   Сейтқали ",
        "email": "Aigerim.Seitkali@Example.KZ",
        "country": "KZ",
        "languages": ["kk", "ru", "en"],
        "skills": ["First aid", "Translation", "first AID"],
    }
    values.update(overrides)
    return values


async def test_organisation_registers_its_volunteer(gql: GraphQLClient) -> None:
    org = await make_organisation("kazakh-ngo")
    result = await gql(REGISTER, {"input": new_volunteer()}, key=await make_key(org))
    payload = result["data"]["registerVolunteer"]
    assert payload["userErrors"] == []
    volunteer = payload["volunteer"]
    assert volunteer["fullName"] == "Айгерим Сейтқали"
    assert volunteer["email"] == "aigerim.seitkali@example.kz"
    assert volunteer["languages"] == ["kk", "ru", "en"]
    assert volunteer["skills"] == ["First aid", "Translation"]
    assert volunteer["organisation"] == {"slug": "kazakh-ngo"}
    assert volunteer["participations"] == {"totalCount": 0}
    assert (await Volunteer.get()).email == "aigerim.seitkali@example.kz"


async def test_admin_registers_for_any_organisation_or_none(gql: GraphQLClient, admin_key: str) -> None:
    org = await make_organisation("org")
    with_org = await gql(REGISTER, {"input": new_volunteer(organisationId=gid(org))}, key=admin_key)
    assert with_org["data"]["registerVolunteer"]["volunteer"]["organisation"] == {"slug": "org"}
    without = await gql(REGISTER, {"input": new_volunteer(email="solo@example.org")}, key=admin_key)
    assert without["data"]["registerVolunteer"]["volunteer"]["organisation"] is None
    unknown = await gql(
        REGISTER,
        {"input": new_volunteer(email="x@example.org", organisationId="T3JnYW5pc2F0aW9uOjk5OQ")},
        key=admin_key,
    )
    assert [(e["field"], e["code"]) for e in unknown["data"]["registerVolunteer"]["userErrors"]] == [
        (["organisationId"], "NOT_FOUND")
    ]


async def test_organisation_registers_only_for_itself(gql: GraphQLClient) -> None:
    org = await make_organisation("org")
    other = await make_organisation("other")
    key = await make_key(org)
    result = await gql(REGISTER, {"input": new_volunteer(organisationId=gid(other))}, key=key)
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert result["data"] is None or result["data"]["registerVolunteer"] is None
    own = await gql(REGISTER, {"input": new_volunteer(organisationId=gid(org))}, key=key)
    assert own["data"]["registerVolunteer"]["userErrors"] == []


async def test_a_sender_registers_an_address_once_ignoring_case(gql: GraphQLClient) -> None:
    org = await make_organisation("org")
    key = await make_key(org)
    await make_volunteer("Existing", email="aigerim.seitkali@example.kz", organisation=org)
    result = await gql(REGISTER, {"input": new_volunteer()}, key=key)
    assert result["data"]["registerVolunteer"]["userErrors"] == [
        {
            "field": ["email"],
            "message": "This sending organisation has already registered a volunteer with this email address.",
            "code": "CONFLICT",
        }
    ]


def shape(payload: dict[str, Any]) -> dict[str, Any]:
    """A registration's answer without what the caller typed in (name, address) and the id."""
    volunteer = {k: v for k, v in payload["volunteer"].items() if k not in ("id", "fullName", "email")}
    return {"volunteer": volunteer, "userErrors": payload["userErrors"]}


async def test_registering_a_known_address_answers_as_for_a_new_one(
    gql: GraphQLClient, admin_key: str
) -> None:
    # The address is known three ways: another organisation registered it, an admin did for
    # nobody, and the volunteer used it to accept an invitation. None of it may show.
    first = await make_organisation("first-sender")
    other = await make_organisation("other-sender")
    await make_volunteer(
        "Aigerim S.", email="aigerim.seitkali@example.kz", organisation=first, skills=["Secret skill"]
    )
    await make_volunteer("Aigerim", email="aigerim.seitkali@example.kz", country="UZ", languages=["uz"])
    key = await make_key(other)
    known = await gql(REGISTER, {"input": new_volunteer()}, key=key)
    fresh = await gql(REGISTER, {"input": new_volunteer(email="someone.new@example.kz")}, key=key)
    assert "errors" not in known and "errors" not in fresh
    assert shape(known["data"]["registerVolunteer"]) == shape(fresh["data"]["registerVolunteer"])
    mine = known["data"]["registerVolunteer"]["volunteer"]
    # The caller's own record: what it typed, its organisation, its address; nothing of the others.
    assert (mine["fullName"], mine["email"], mine["skills"], mine["organisation"]) == (
        "Айгерим Сейтқали",
        "aigerim.seitkali@example.kz",
        ["First aid", "Translation"],
        {"slug": "other-sender"},
    )
    # Behind the scenes, three records of one person (one address), each its sender's own.
    records = await Volunteer.filter(email="aigerim.seitkali@example.kz").order_by("id")
    assert [(r.full_name, r.organisation_id) for r in records] == [
        ("Aigerim S.", first.id),
        ("Aigerim", None),
        ("Айгерим Сейтқали", other.id),
    ]
    # The caller sees and lists its record, not the others; only admins see them all.
    listed = await gql(LIST, {}, key=key)
    assert [e["node"]["fullName"] for e in listed["data"]["volunteers"]["edges"]] == [
        "Айгерим Сейтқали",
        "Айгерим Сейтқали",
    ]
    everyone = await gql(LIST, {}, key=admin_key)
    assert everyone["data"]["volunteers"]["totalCount"] == 4
    # An admin is told about records it could see anyway: none registered for nobody twice.
    again = await gql(REGISTER, {"input": new_volunteer()}, key=admin_key)
    assert [e["code"] for e in again["data"]["registerVolunteer"]["userErrors"]] == ["CONFLICT"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-address"}, ["email"]),
        ({"email": "two@@example.org"}, ["email"]),
        ({"fullName": "   "}, ["fullName"]),
        ({"fullName": "x" * 201}, ["fullName"]),
        ({"languages": []}, ["languages"]),
        ({"languages": ["ru", "ru"]}, ["languages", "1"]),
        ({"skills": ["ok", " "]}, ["skills", "1"]),
        ({"skills": ["s" * 101]}, ["skills", "0"]),
    ],
)
async def test_invalid_volunteer_input(
    gql: GraphQLClient, overrides: dict[str, Any], field: list[str]
) -> None:
    key = await make_key(await make_organisation("org"))
    result = await gql(REGISTER, {"input": new_volunteer(**overrides)}, key=key)
    payload = result["data"]["registerVolunteer"]
    assert payload["volunteer"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, "INVALID")]
    assert await Volunteer.all().count() == 0


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [({"country": "Kazakhstan"}, "'Kazakhstan'"), ({"languages": ["kaz"]}, "'kaz'")],
)
async def test_malformed_scalars_are_bad_user_input(
    gql: GraphQLClient, overrides: dict[str, Any], needle: str
) -> None:
    key = await make_key(await make_organisation("org"))
    result = await gql(REGISTER, {"input": new_volunteer(**overrides)}, key=key)
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert needle in result["errors"][0]["message"]


async def test_volunteer_filters(gql: GraphQLClient, admin_key: str) -> None:
    await make_volunteer("Asel", country="KZ", languages=["kk", "ru"], skills=["Первая помощь", "Cooking"])
    await make_volunteer("Bekzod", country="UZ", languages=["uz", "ru"], skills=["Translation"])
    await make_volunteer("Clara", country="DE", languages=["de", "en"], skills=["First aid"])
    await make_volunteer("Daulet", country="KZ", languages=["kk"], skills=["Әлеуметтік жұмыс"])

    async def names(**args: Any) -> list[str]:
        result = await gql(LIST, args, key=admin_key)
        assert "errors" not in result, result
        return [e["node"]["fullName"] for e in result["data"]["volunteers"]["edges"]]

    assert await names() == ["Asel", "Bekzod", "Clara", "Daulet"]
    assert await names(country="KZ") == ["Asel", "Daulet"]
    assert await names(language="ru") == ["Asel", "Bekzod"]
    assert await names(language="en") == ["Clara"]
    assert await names(skill="ПЕРВАЯ ПОМОЩЬ") == ["Asel"]
    assert await names(skill="first AID") == ["Clara"]
    assert await names(skill="ӘЛЕУМЕТТІК ЖҰМЫС") == ["Daulet"]
    assert await names(skill="aid") == []  # a whole skill, not a fragment
    assert await names(country="KZ", language="ru", skill="cooking") == ["Asel"]
    first = await gql(LIST, {"first": 3}, key=admin_key)
    connection = first["data"]["volunteers"]
    assert connection["totalCount"] == 4 and connection["pageInfo"]["hasNextPage"]
    rest = await gql(LIST, {"first": 3, "after": connection["pageInfo"]["endCursor"]}, key=admin_key)
    assert [e["node"]["fullName"] for e in rest["data"]["volunteers"]["edges"]] == ["Daulet"]
    assert await names(last=1) == ["Daulet"]
    capped = await gql(LIST, {"first": 1000}, key=admin_key)
    assert capped["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_participations_show_only_visible_exchanges(gql: GraphQLClient) -> None:
    host = await make_organisation("host")
    # A public profile: the subject is which exchanges show, not which people (test_visibility).
    volunteer = await make_volunteer("Asel", public_profile=True)
    for index, status in enumerate((ExchangeStatus.OPEN, ExchangeStatus.DRAFT, ExchangeStatus.COMPLETED)):
        exchange = await make_exchange(
            f"x{index}", host, status=status, starts_on=dt.date(2027, 1, 1 + index)
        )
        await take_part(volunteer, exchange)
    query = """query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Volunteer {
      participations(first: $first, after: $after) { totalCount edges { node { exchange { slug } } }
        pageInfo { hasNextPage endCursor } } } } }"""

    async def slugs(key: str | None = None, **args: Any) -> tuple[int, list[str]]:
        result = await gql(query, {"id": gid(volunteer), **args}, key=key)
        assert "errors" not in result, result
        connection = result["data"]["node"]["participations"]
        return connection["totalCount"], [e["node"]["exchange"]["slug"] for e in connection["edges"]]

    assert await slugs() == (2, ["x0", "x2"])
    assert await slugs(await make_key(await make_organisation("other"))) == (2, ["x0", "x2"])
    host_key = await make_key(host)
    assert await slugs(host_key) == (3, ["x0", "x1", "x2"])
    first = await gql(query, {"id": gid(volunteer), "first": 2}, key=host_key)
    cursor = first["data"]["node"]["participations"]["pageInfo"]["endCursor"]
    assert await slugs(host_key, first=2, after=cursor) == (3, ["x2"])
