"""The authorization matrix: anonymous, read-only, organisation A (host), organisation P
(A's partner), organisation B (a stranger) and admin, against DRAFT visibility, the
volunteers list, personal data (email) and every exchange, session and volunteer mutation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from exchange.models import ApiKeyRole, ExchangeStatus
from tests.api.exchange_fixtures import gid, invite, make_exchange, make_volunteer, take_part
from tests.conftest import GraphQLClient, make_key, make_organisation

ACTORS = ["anonymous", "read_only", "host", "partner", "stranger", "admin"]


@dataclass
class World:
    keys: dict[str, str | None]
    ids: dict[str, str]


@pytest.fixture
async def world(admin_key: str) -> World:
    host = await make_organisation("org-a")
    partner = await make_organisation("org-p")
    stranger = await make_organisation("org-b")
    public = await make_exchange("public", host, starts_on=dt.date(2027, 5, 1))
    draft = await make_exchange(
        "draft", host, partners=[partner], status=ExchangeStatus.DRAFT, starts_on=dt.date(2027, 6, 1)
    )
    strangers_draft = await make_exchange(
        "b-draft", stranger, status=ExchangeStatus.DRAFT, starts_on=dt.date(2027, 7, 1)
    )
    # Whose email each organisation may read:
    of_stranger = await make_volunteer("Of Stranger", organisation=stranger)  # B's own
    in_public = await make_volunteer("In Public")  # takes part in A's public exchange
    await take_part(in_public, public)
    in_draft = await make_volunteer("In Draft")  # takes part in A's draft, co-organised by P
    await take_part(in_draft, draft)
    invited = await make_volunteer("Invited", email="Invited@example.org".lower())  # invited by address
    await invite(draft, "INVITED@example.org")
    linked = await make_volunteer("Linked", email="linked@example.org")  # invitation linked to the record
    await invite(public, "other-address@example.org", volunteer=linked)
    unrelated = await make_volunteer("Unrelated")
    await invite(strangers_draft, "someone@example.org")
    keys: dict[str, str | None] = {
        "anonymous": None,
        "read_only": await make_key(host, ApiKeyRole.READ_ONLY),
        "host": await make_key(host),
        "partner": await make_key(partner),
        "stranger": await make_key(stranger),
        "admin": admin_key,
    }
    ids = {
        "host": gid(host),
        "partner": gid(partner),
        "stranger": gid(stranger),
        "public": gid(public),
        "draft": gid(draft),
        "b-draft": gid(strangers_draft),
        "Of Stranger": gid(of_stranger),
        "In Public": gid(in_public),
        "In Draft": gid(in_draft),
        "Invited": gid(invited),
        "Linked": gid(linked),
        "Unrelated": gid(unrelated),
    }
    return World(keys, ids)


def code_of(result: dict[str, Any]) -> str | None:
    return result["errors"][0]["extensions"]["code"] if result.get("errors") else None


# ---------------------------------------------------------------- DRAFT visibility

VISIBLE_EXCHANGES = {
    "anonymous": ["public"],
    "read_only": ["public"],
    "host": ["public", "draft"],
    "partner": ["public", "draft"],
    "stranger": ["public", "b-draft"],
    "admin": ["public", "draft", "b-draft"],
}


@pytest.mark.parametrize("actor", ACTORS)
async def test_drafts_are_seen_by_their_organisers_and_admins(
    gql: GraphQLClient, world: World, actor: str
) -> None:
    key = world.keys[actor]
    expected = VISIBLE_EXCHANGES[actor]
    listed = await gql("{ exchanges { totalCount edges { node { slug } } } }", {}, key=key)
    assert [e["node"]["slug"] for e in listed["data"]["exchanges"]["edges"]] == expected
    assert listed["data"]["exchanges"]["totalCount"] == len(expected)
    for slug in ("public", "draft", "b-draft"):
        by_slug = await gql("query($s: String!) { exchange(slug: $s) { slug } }", {"s": slug}, key=key)
        assert (by_slug["data"]["exchange"] is not None) == (slug in expected), (actor, slug)
        by_node = await gql(
            "query($id: ID!) { node(id: $id) { ... on ExperienceExchange { slug } } }",
            {"id": world.ids[slug]},
            key=key,
        )
        assert (by_node["data"]["node"] is not None) == (slug in expected), (actor, slug)
    # Nested lists follow the same rule: A's exchanges as seen through the organisation.
    nested = await gql(
        '{ organisation(slug: "org-a") { exchanges { totalCount edges { node { slug } } } } }', {}, key=key
    )
    assert [e["node"]["slug"] for e in nested["data"]["organisation"]["exchanges"]["edges"]] == [
        slug for slug in expected if slug in ("public", "draft")
    ]
    draft_filter = await gql(
        "{ exchanges(filter: {status: DRAFT}) { edges { node { slug } } } }", {}, key=key
    )
    assert [e["node"]["slug"] for e in draft_filter["data"]["exchanges"]["edges"]] == [
        slug for slug in expected if slug != "public"
    ]


async def test_participations_into_drafts_are_hidden_from_the_public(
    gql: GraphQLClient, world: World
) -> None:
    query = """query($id: ID!) { node(id: $id) { ... on Volunteer { participations { totalCount } } } }"""
    for actor, count in (("anonymous", 0), ("stranger", 0), ("partner", 1), ("host", 1), ("admin", 1)):
        result = await gql(query, {"id": world.ids["In Draft"]}, key=world.keys[actor])
        assert result["data"]["node"]["participations"]["totalCount"] == count, actor


async def test_invalid_key_is_refused_even_for_public_reads(gql: GraphQLClient, world: World) -> None:
    for query in ("{ exchanges { totalCount } }", '{ exchange(slug: "public") { slug } }'):
        result = await gql(query, {}, key="vx_revoked-or-made-up")
        assert code_of(result) == "UNAUTHENTICATED"


# ---------------------------------------------------------------- volunteers and email

EMAILS_SEEN = {
    "anonymous": set(),
    "read_only": set(),
    "host": {"In Public", "In Draft", "Invited", "Linked"},
    "partner": {"In Draft", "Invited"},
    "stranger": {"Of Stranger"},
    "admin": {"Of Stranger", "In Public", "In Draft", "Invited", "Linked", "Unrelated"},
}
VOLUNTEERS = ["Of Stranger", "In Public", "In Draft", "Invited", "Linked", "Unrelated"]


@pytest.mark.parametrize("actor", ACTORS)
async def test_email_follows_the_contract_rule(gql: GraphQLClient, world: World, actor: str) -> None:
    key = world.keys[actor]
    seen: set[str] = set()
    for name in VOLUNTEERS:
        result = await gql(
            "query($id: ID!) { node(id: $id) { ... on Volunteer { fullName email country } } }",
            {"id": world.ids[name]},
            key=key,
        )
        node = result["data"]["node"]
        assert node["fullName"] == name and node["country"] == "KZ"  # public fields are public
        if node["email"] is not None:
            seen.add(name)
    assert seen == EMAILS_SEEN[actor]


@pytest.mark.parametrize("actor", ACTORS)
async def test_volunteers_list_needs_an_organisation_or_admin(
    gql: GraphQLClient, world: World, actor: str
) -> None:
    result = await gql(
        "{ volunteers { totalCount edges { node { fullName email } } } }", {}, key=world.keys[actor]
    )
    if actor == "anonymous":
        assert code_of(result) == "UNAUTHENTICATED"
    elif actor == "read_only":
        assert code_of(result) == "FORBIDDEN"
    else:
        connection = result["data"]["volunteers"]
        assert connection["totalCount"] == len(VOLUNTEERS)
        # One list, many volunteers: the email rule still holds row by row (batched lookup).
        shown = {e["node"]["fullName"] for e in connection["edges"] if e["node"]["email"] is not None}
        assert shown == EMAILS_SEEN[actor]


async def test_nested_email_is_null_not_an_error(gql: GraphQLClient, world: World) -> None:
    result = await gql(
        '{ exchange(slug: "public") { participants { edges { node { volunteer { fullName email } } } } } }',
        {},
    )
    assert "errors" not in result
    assert result["data"]["exchange"]["participants"]["edges"] == [
        {"node": {"volunteer": {"fullName": "In Public", "email": None}}}
    ]


# ---------------------------------------------------------------- mutations

EXPECTED_MUTATIONS: dict[str, dict[str, str]] = {
    # actor: {operation: outcome}; outcome is a GraphQL error code, a userError code, or OK.
    "anonymous": {
        "create": "UNAUTHENTICATED",
        "create_for_other": "UNAUTHENTICATED",
        "update_public": "UNAUTHENTICATED",
        "update_draft": "UNAUTHENTICATED",
        "session": "UNAUTHENTICATED",
        "register": "UNAUTHENTICATED",
        "register_for_other": "UNAUTHENTICATED",
    },
    "read_only": {
        "create": "FORBIDDEN",
        "create_for_other": "FORBIDDEN",
        "update_public": "FORBIDDEN",
        "update_draft": "FORBIDDEN",
        "session": "FORBIDDEN",
        "register": "FORBIDDEN",
        "register_for_other": "FORBIDDEN",
    },
    "host": {
        "create": "OK",
        "create_for_other": "FORBIDDEN",
        "update_public": "OK",
        "update_draft": "OK",
        "session": "OK",
        "register": "OK",
        "register_for_other": "FORBIDDEN",
    },
    "partner": {
        "create": "OK",
        "create_for_other": "FORBIDDEN",
        "update_public": "FORBIDDEN",
        "update_draft": "FORBIDDEN",
        "session": "FORBIDDEN",
        "register": "OK",
        "register_for_other": "FORBIDDEN",
    },
    "stranger": {
        "create": "OK",
        "create_for_other": "FORBIDDEN",
        "update_public": "FORBIDDEN",
        "update_draft": "NOT_FOUND",
        "session": "FORBIDDEN",
        "register": "OK",
        "register_for_other": "FORBIDDEN",
    },
    "admin": {
        "create": "INVALID",
        "create_for_other": "OK",
        "update_public": "OK",
        "update_draft": "OK",
        "session": "OK",
        "register": "OK",
        "register_for_other": "OK",
    },
}


def outcome(result: dict[str, Any], field: str) -> str:
    if result.get("errors"):
        return str(result["errors"][0]["extensions"]["code"])
    errors = result["data"][field]["userErrors"]
    return str(errors[0]["code"]) if errors else "OK"


@pytest.mark.parametrize("actor", ACTORS)
async def test_mutation_matrix(gql: GraphQLClient, world: World, actor: str) -> None:
    key = world.keys[actor]
    exchange_input = {
        "slug": f"new-{actor.replace('_', '-')}",
        "titles": [{"locale": "en", "text": "New"}],
        "theme": "SOCIAL",
        "country": "KZ",
        "startsOn": "2027-09-01",
        "endsOn": "2027-09-02",
        "timeZone": "Asia/Almaty",
        "languages": ["en"],
    }
    create = """mutation($input: CreateExchangeInput!) { createExchange(input: $input) {
      exchange { slug } userErrors { field code } } }"""
    update = """mutation($id: ID!, $input: UpdateExchangeInput!) { updateExchange(id: $id, input: $input) {
      exchange { city } userErrors { field code } } }"""
    session = """mutation($input: AddSessionInput!) { addSession(input: $input) {
      session { id } userErrors { field code } } }"""
    register = """mutation($input: RegisterVolunteerInput!) { registerVolunteer(input: $input) {
      volunteer { email } userErrors { field code } } }"""
    volunteer_input = {"fullName": "New Person", "country": "KZ", "languages": ["kk"]}
    results = {
        "create": outcome(await gql(create, {"input": exchange_input}, key=key), "createExchange"),
        "create_for_other": outcome(
            await gql(
                create,
                {"input": {**exchange_input, "slug": "for-other", "hostId": world.ids["host"]}},
                key=key,
            )
            if actor != "host"
            else await gql(
                create,
                {"input": {**exchange_input, "slug": "for-other", "hostId": world.ids["stranger"]}},
                key=key,
            ),
            "createExchange",
        ),
        "update_public": outcome(
            await gql(update, {"id": world.ids["public"], "input": {"city": "Aralsk"}}, key=key),
            "updateExchange",
        ),
        "update_draft": outcome(
            await gql(update, {"id": world.ids["draft"], "input": {"city": "Aralsk"}}, key=key),
            "updateExchange",
        ),
        "session": outcome(
            await gql(
                session,
                {
                    "input": {
                        "exchangeId": world.ids["public"],
                        "titles": [{"locale": "en", "text": "Talk"}],
                        "startsAt": "2027-05-01T10:00:00+05:00",
                        "endsAt": "2027-05-01T11:00:00+05:00",
                        "format": "IN_PERSON",
                    }
                },
                key=key,
            ),
            "addSession",
        ),
        "register": outcome(
            await gql(register, {"input": {**volunteer_input, "email": f"{actor}@example.org"}}, key=key),
            "registerVolunteer",
        ),
        "register_for_other": outcome(
            await gql(
                register,
                {
                    "input": {
                        **volunteer_input,
                        "email": f"{actor}-2@example.org",
                        "organisationId": world.ids["host"],
                    }
                },
                key=key,
            )
            if actor != "host"
            else await gql(
                register,
                {
                    "input": {
                        **volunteer_input,
                        "email": f"{actor}-2@example.org",
                        "organisationId": world.ids["stranger"],
                    }
                },
                key=key,
            ),
            "registerVolunteer",
        ),
    }
    assert results == EXPECTED_MUTATIONS[actor]
