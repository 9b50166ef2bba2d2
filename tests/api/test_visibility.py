"""The authorization matrix: anonymous, read-only, organisation A (host), organisation P
(A's partner), organisation B (a stranger) and admin, against DRAFT visibility, every path that
carries people (node, the volunteers list and its search, participant lists and their totals,
a volunteer's participations, speakers, an invitation's volunteer, subscriptions, webhooks),
personal data (email), the small-count rule, and every exchange, session and volunteer
mutation. The people rule is exchange.access's (README, "Who sees what")."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from exchange import access, volunteers
from exchange.models import (
    ApiKeyRole,
    ExchangeStatus,
    InvitationStatus,
    ParticipationStatus,
    Session,
    SessionFormat,
    Volunteer,
    WebhookDelivery,
    WebhookEndpoint,
)
from schema.api.relay import decode_id, encode_id
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
    strangers_public = await make_exchange("b-public", stranger, starts_on=dt.date(2027, 8, 1))
    # One reason each to be seen (or not); every volunteer has the skill searched below.
    volunteers = {
        name: await make_volunteer(name, skills=["Rescue"], **fields)
        for name, fields in (
            ("Public", {"public_profile": True}),  # chose a public profile; takes part in B's exchange
            ("Sent by A", {"organisation": host}),  # A sends them to B's exchange
            ("In Public", {}),  # takes part in A's published exchange
            ("In Draft", {}),  # takes part in A's draft, co-organised by P
            ("Accepted", {}),  # accepted an invitation to A's exchange (no participation yet)
            ("Invited", {}),  # invited to A's exchange, no answer (by record and by address)
            ("Speaker", {}),  # speaks at a session of A's published exchange
            ("Draft Speaker", {}),  # speaks at a session of A's draft
            ("Of Stranger", {"organisation": stranger}),  # B sends them to A's exchange
            ("Unrelated", {}),
        )
    }
    participations = {
        f"{name}@{exchange.slug}": await take_part(volunteers[name], exchange)
        for name, exchange in (
            ("Public", strangers_public),
            ("Sent by A", strangers_public),
            ("In Public", public),
            ("In Draft", draft),
            ("Of Stranger", public),
        )
    }
    await invite(
        public, "accepted@example.org", volunteer=volunteers["Accepted"], status=InvitationStatus.ACCEPTED
    )
    await invite(public, "invited@example.org", volunteer=volunteers["Invited"])
    await invite(draft, "INVITED@example.org")
    await invite(strangers_draft, "someone@example.org")
    talk = await Session.create(
        exchange=public,
        titles={"en": "Talk"},
        starts_at=dt.datetime(2027, 5, 1, 6, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 5, 1, 7, tzinfo=dt.UTC),
        format=SessionFormat.ONLINE,
    )
    await talk.speakers.add(volunteers["Speaker"])
    planning = await Session.create(
        exchange=draft,
        titles={"en": "Planning"},
        starts_at=dt.datetime(2027, 6, 1, 6, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 6, 1, 7, tzinfo=dt.UTC),
        format=SessionFormat.ONLINE,
    )
    await planning.speakers.add(volunteers["Draft Speaker"])
    keys: dict[str, str | None] = {
        "anonymous": None,
        "read_only": await make_key(host, ApiKeyRole.READ_ONLY),  # A's, yet it reads public data only
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
        "b-public": gid(strangers_public),
        "Talk": encode_id("Session", talk.id),
        "Planning": encode_id("Session", planning.id),
        **{name: gid(volunteer) for name, volunteer in volunteers.items()},
        **{name: gid(participation) for name, participation in participations.items()},
    }
    return World(keys, ids)


def code_of(result: dict[str, Any]) -> str | None:
    return result["errors"][0]["extensions"]["code"] if result.get("errors") else None


# ---------------------------------------------------------------- DRAFT visibility

VISIBLE_EXCHANGES = {
    "anonymous": ["public", "b-public"],
    "read_only": ["public", "b-public"],
    "host": ["public", "draft", "b-public"],
    "partner": ["public", "draft", "b-public"],
    "stranger": ["public", "b-draft", "b-public"],
    "admin": ["public", "draft", "b-draft", "b-public"],
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
    for slug in ("public", "draft", "b-draft", "b-public"):
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
        slug for slug in expected if slug.endswith("draft")
    ]


async def test_invalid_key_is_refused_even_for_public_reads(gql: GraphQLClient, world: World) -> None:
    for query in ("{ exchanges { totalCount } }", '{ exchange(slug: "public") { slug } }'):
        result = await gql(query, {}, key="vx_revoked-or-made-up")
        assert code_of(result) == "UNAUTHENTICATED"


# ---------------------------------------------------------------- people

VOLUNTEERS = [
    "Public",
    "Sent by A",
    "In Public",
    "In Draft",
    "Accepted",
    "Invited",
    "Speaker",
    "Draft Speaker",
    "Of Stranger",
    "Unrelated",
]
SEEN_BY_EVERYONE = {"Public", "Speaker"}
VISIBLE_PEOPLE = {
    "anonymous": SEEN_BY_EVERYONE,
    "read_only": SEEN_BY_EVERYONE,
    "host": SEEN_BY_EVERYONE
    | {"Sent by A", "In Public", "In Draft", "Accepted", "Draft Speaker", "Of Stranger"},
    "partner": SEEN_BY_EVERYONE | {"In Draft", "Draft Speaker"},
    "stranger": SEEN_BY_EVERYONE | {"Sent by A", "Of Stranger"},
    "admin": set(VOLUNTEERS),
}
PARTICIPATIONS = [
    "Public@b-public",
    "Sent by A@b-public",
    "In Public@public",
    "In Draft@draft",
    "Of Stranger@public",
]
VISIBLE_PARTICIPATIONS = {
    "anonymous": {"Public@b-public"},
    "read_only": {"Public@b-public"},
    # A organises public and draft, and sends "Sent by A".
    "host": {
        "Public@b-public",
        "Sent by A@b-public",
        "In Public@public",
        "In Draft@draft",
        "Of Stranger@public",
    },
    "partner": {"Public@b-public", "In Draft@draft"},
    # B organises b-public, and sends "Of Stranger".
    "stranger": {"Public@b-public", "Sent by A@b-public", "Of Stranger@public"},
    "admin": set(PARTICIPATIONS),
}
# The contract's rule: admin, the sending organisation, or an organiser of an exchange the
# volunteer takes part in or accepted an invitation to. Speaking, a public profile and an
# unanswered invitation (by record or by address) are not enough.
EMAILS_SEEN = {
    "anonymous": set(),
    "read_only": set(),
    "host": {"Sent by A", "In Public", "In Draft", "Accepted", "Of Stranger"},
    "partner": {"In Draft"},
    "stranger": {"Of Stranger", "Sent by A", "Public"},
    "admin": set(VOLUNTEERS),
}
NODE = "query($id: ID!) { node(id: $id) { ... on Volunteer { fullName email publicProfile } } }"


@pytest.mark.parametrize("actor", ACTORS)
async def test_a_volunteer_by_id_is_null_unless_the_rule_shows_them(
    gql: GraphQLClient, world: World, actor: str
) -> None:
    key = world.keys[actor]
    seen: set[str] = set()
    emails: set[str] = set()
    for name in VOLUNTEERS:
        result = await gql(NODE, {"id": world.ids[name]}, key=key)
        assert "errors" not in result, result
        node = result["data"]["node"]
        if node is not None:
            assert node["fullName"] == name and node["publicProfile"] == (name == "Public")
            seen.add(name)
            if node["email"] is not None:
                emails.add(name)
    assert seen == VISIBLE_PEOPLE[actor]
    assert emails == EMAILS_SEEN[actor]


@pytest.mark.parametrize("actor", ["anonymous", "stranger"])
async def test_walking_ids_finds_only_what_the_caller_may_see(
    gql: GraphQLClient, world: World, actor: str
) -> None:
    # Ids are sequential: a hidden one must read exactly like one that names nothing.
    query = "query($id: ID!) { node(id: $id) { __typename ... on Volunteer { fullName } } }"
    found = []
    for pk in range(1, len(VOLUNTEERS) + 5):
        result = await gql(query, {"id": encode_id("Volunteer", pk)}, key=world.keys[actor])
        assert set(result) == {"data", "extensions"}, result  # no error, no hint
        if result["data"]["node"] is not None:
            found.append(result["data"]["node"]["fullName"])
    assert set(found) == VISIBLE_PEOPLE[actor]
    hidden = await gql(NODE, {"id": world.ids["Unrelated"]}, key=world.keys[actor])
    unknown = await gql(NODE, {"id": encode_id("Volunteer", 999_999)}, key=world.keys[actor])
    assert hidden["data"] == unknown["data"] == {"node": None}
    assert "errors" not in hidden and "errors" not in unknown


LIST = (
    """query($skill: String) { volunteers(skill: $skill) { totalCount edges { node { fullName email } } } }"""
)


@pytest.mark.parametrize("actor", ACTORS)
async def test_volunteers_list_and_search_follow_the_rule(
    gql: GraphQLClient, world: World, actor: str
) -> None:
    for skill in (None, "RESCUE"):
        result = await gql(LIST, {"skill": skill}, key=world.keys[actor])
        if actor == "anonymous":
            assert code_of(result) == "UNAUTHENTICATED"
            continue
        if actor == "read_only":
            assert code_of(result) == "FORBIDDEN"
            continue
        connection = result["data"]["volunteers"]
        names = [e["node"]["fullName"] for e in connection["edges"]]
        assert set(names) == VISIBLE_PEOPLE[actor] and len(names) == len(set(names))
        assert connection["totalCount"] == len(VISIBLE_PEOPLE[actor])
        # One list, many volunteers: the email rule still holds row by row (batched lookup).
        shown = {e["node"]["fullName"] for e in connection["edges"] if e["node"]["email"] is not None}
        assert shown == EMAILS_SEEN[actor]


PARTICIPANTS = """{ exchanges { edges { node { slug participants { totalCount
  edges { node { id volunteer { fullName email } exchange { slug } } } } } } } }"""


@pytest.mark.parametrize("actor", ACTORS)
async def test_participant_lists_leave_hidden_people_out_of_edges_and_totals(
    gql: GraphQLClient, world: World, actor: str
) -> None:
    key = world.keys[actor]
    result = await gql(PARTICIPANTS, {}, key=key)
    assert "errors" not in result, result
    listed: set[str] = set()
    for edge in result["data"]["exchanges"]["edges"]:
        connection = edge["node"]["participants"]
        assert connection["totalCount"] == len(connection["edges"]), edge["node"]["slug"]
        for item in connection["edges"]:
            node = item["node"]
            listed.add(f"{node['volunteer']['fullName']}@{node['exchange']['slug']}")
            assert node["id"] == world.ids[f"{node['volunteer']['fullName']}@{node['exchange']['slug']}"]
    assert listed == VISIBLE_PARTICIPATIONS[actor]
    # A volunteer's own list: the same participations, wherever it is read from.
    through_volunteers: set[str] = set()
    for name in VISIBLE_PEOPLE[actor]:
        found = await gql(
            """query($id: ID!) { node(id: $id) { ... on Volunteer { fullName
              participations { totalCount edges { node { exchange { slug } } } } } } }""",
            {"id": world.ids[name]},
            key=key,
        )
        connection = found["data"]["node"]["participations"]
        assert connection["totalCount"] == len(connection["edges"])
        through_volunteers |= {f"{name}@{e['node']['exchange']['slug']}" for e in connection["edges"]}
    assert through_volunteers == VISIBLE_PARTICIPATIONS[actor]
    # And by id: a hidden participation reads like an unknown one.
    by_id = set()
    for name in PARTICIPATIONS:
        node = await gql(
            "query($id: ID!) { node(id: $id) { ... on Participation { volunteer { fullName } } } }",
            {"id": world.ids[name]},
            key=key,
        )
        assert "errors" not in node, node
        if node["data"]["node"] is not None:
            by_id.add(name)
    assert by_id == VISIBLE_PARTICIPATIONS[actor]


@pytest.mark.parametrize("actor", ACTORS)
async def test_speakers_of_a_visible_session_are_public(gql: GraphQLClient, world: World, actor: str) -> None:
    key = world.keys[actor]
    result = await gql(
        "{ exchanges { edges { node { slug sessions { title speakers { fullName email } } } } } }",
        {},
        key=key,
    )
    speakers = {
        session["title"]: [s["fullName"] for s in session["speakers"]]
        for edge in result["data"]["exchanges"]["edges"]
        for session in edge["node"]["sessions"]
    }
    expected = {"Talk": ["Speaker"]}
    if "draft" in VISIBLE_EXCHANGES[actor]:
        expected["Planning"] = ["Draft Speaker"]
    assert speakers == expected
    for title in ("Talk", "Planning"):
        by_id = await gql(
            "query($id: ID!) { node(id: $id) { ... on Session { speakers { fullName } } } }",
            {"id": world.ids[title]},
            key=key,
        )
        assert (by_id["data"]["node"] is not None) == (title in expected), (actor, title)
    # Speaking is public; the address is not (Speaker takes part in nothing).
    emails = {
        s["fullName"]
        for e in result["data"]["exchanges"]["edges"]
        for x in e["node"]["sessions"]
        for s in x["speakers"]
        if s["email"]
    }
    assert emails == {"Draft Speaker", "Speaker"} if actor == "admin" else emails == set()


@pytest.mark.parametrize("actor", ["host", "partner", "admin"])
async def test_an_invitations_volunteer_follows_the_rule(
    gql: GraphQLClient, world: World, actor: str
) -> None:
    result = await gql(
        '{ exchange(slug: "public") { invitations { edges { node { email volunteer { fullName } } } } } }',
        {},
        key=world.keys[actor],
    )
    volunteers = {
        e["node"]["email"]: (e["node"]["volunteer"] or {}).get("fullName")
        for e in result["data"]["exchange"]["invitations"]["edges"]
    }
    if actor == "partner":  # P does not organise "public": no invitations at all
        assert volunteers == {}
        return
    # An unanswered invitation linked to a record does not show that record to the host.
    assert volunteers == {
        "accepted@example.org": "Accepted",
        "invited@example.org": "Invited" if actor == "admin" else None,
    }


async def test_nested_email_is_null_not_an_error(gql: GraphQLClient, world: World) -> None:
    result = await gql(
        '{ exchange(slug: "b-public") { participants { edges { node { volunteer { fullName email } } } } } }',
        {},
    )
    assert "errors" not in result
    assert result["data"]["exchange"]["participants"]["edges"] == [
        {"node": {"volunteer": {"fullName": "Public", "email": None}}}
    ]


# ---------------------------------------------------------------- naming and editing people

# Whom each caller may name as a speaker or participant: the volunteers it sends, those of the
# exchanges it organises (participants, invitees who accepted), those with a public profile.
# Seeing is wider: a speaker of a published session is seen by all, named by none of these.
NAMEABLE = {
    "anonymous": set(),
    "read_only": set(),
    "host": {"Public", "Sent by A", "In Public", "In Draft", "Accepted", "Of Stranger"},
    "partner": {"Public", "In Draft"},
    "stranger": {"Public", "Sent by A", "Of Stranger"},
    "admin": set(VOLUNTEERS),
}
# Whose record each caller may edit: the volunteers it sends.
EDITABLE = {
    "anonymous": set(),
    "read_only": set(),
    "host": {"Sent by A"},
    "partner": set(),
    "stranger": {"Of Stranger"},
    "admin": set(VOLUNTEERS),
}


@pytest.mark.parametrize("actor", ACTORS)
async def test_naming_and_editing_rules(gql: GraphQLClient, world: World, actor: str) -> None:
    key = world.keys[actor]
    caller = await access.authenticate(key)
    pks = {name: int(decode_id(world.ids[name])[1]) for name in VOLUNTEERS}  # type: ignore[index]
    rights = await volunteers.naming_rights(caller, list(pks.values()))
    names = {pk: name for name, pk in pks.items()}
    assert {names[pk] for pk, may in rights.items() if may} == NAMEABLE[actor]
    # Those it may not name are either not seen at all (unknown to the caller) or only seen.
    assert {names[pk] for pk in rights} == VISIBLE_PEOPLE[actor] | NAMEABLE[actor]
    organisations = {
        v.full_name: v.organisation_id for v in await Volunteer.filter(id__in=list(pks.values()))
    }
    editable = {name for name in VOLUNTEERS if access.can_edit_volunteer(caller, organisations[name])}
    assert editable == EDITABLE[actor]


ADD_SESSION = """mutation($input: AddSessionInput!) { addSession(input: $input) {
  session { speakers { fullName } } userErrors { field code } } }"""


@pytest.mark.parametrize("actor", ["host", "admin"])
async def test_a_host_names_as_speakers_whom_the_rule_lets_it(
    gql: GraphQLClient, world: World, actor: str
) -> None:
    outcomes = {}
    for name in VOLUNTEERS:
        result = await gql(
            ADD_SESSION,
            {
                "input": {
                    "exchangeId": world.ids["public"],
                    "titles": [{"locale": "en", "text": f"With {name}"}],
                    "startsAt": "2027-05-02T10:00:00+05:00",
                    "endsAt": "2027-05-02T11:00:00+05:00",
                    "format": "ONLINE",
                    "speakerIds": [world.ids[name]],
                }
            },
            key=world.keys[actor],
        )
        payload = result["data"]["addSession"]
        if payload["userErrors"]:
            [error] = payload["userErrors"]
            assert error["field"] == ["speakerIds", "0"]
            outcomes[name] = error["code"]
        else:
            assert payload["session"]["speakers"] == [{"fullName": name}]
            outcomes[name] = "OK"
    expected = {
        name: "OK" if name in NAMEABLE[actor] else "INVALID" if name in VISIBLE_PEOPLE[actor] else "NOT_FOUND"
        for name in VOLUNTEERS
    }
    # A volunteer the host may not see is refused like an unknown id: the answer is no oracle.
    assert outcomes == expected
    if actor == "host":
        assert {name for name, code in outcomes.items() if code == "INVALID"} == {"Speaker", "Draft Speaker"}


# ---------------------------------------------------------------- counts and the small-count rule


def test_small_count_rule() -> None:
    assert access.small_counts_merged({"KZ": 4, "UZ": 3, "KG": 2, "DE": 1, "TJ": 0}) == (
        {"KZ": 4, "UZ": 3},
        3,
    )
    assert access.small_counts_merged({"KZ": 3}) == ({"KZ": 3}, 0)
    # "Other" is never a group of 1 or 2: the smallest bucket joins it, or nothing is shown.
    assert access.small_counts_merged({"KZ": 2}) == ({}, 0)
    assert access.small_counts_merged({"KZ": 1, "UZ": 1}) == ({}, 0)
    assert access.small_counts_merged({"KZ": 5, "UZ": 4, "DE": 1}) == ({"KZ": 5}, 5)
    assert access.small_counts_merged({"KZ": 3, "DE": 2}) == ({}, 5)
    assert access.small_counts_merged({}) == ({}, 0)
    # People already merged (per exchange, by statistics) are part of "other" and of everybody:
    # an "other" of 1 still takes the smallest kept bucket along, 2 alone are not shown.
    assert access.small_counts_merged({"KZ": 5, "DE": 5}, 1) == ({"KZ": 5}, 6)
    assert access.small_counts_merged({"KZ": 4}, 3) == ({"KZ": 4}, 3)
    assert access.small_counts_merged({"KZ": 4, "DE": 1}, 2) == ({"KZ": 4}, 3)
    assert access.small_counts_merged({}, 2) == ({}, 0)
    assert access.small_counts_merged({"DE": 1}, 1) == ({}, 0)


COUNTS = '{ exchange(slug: "counted") { participantCountsByCountry { country count } } }'


@pytest.mark.parametrize("actor", ACTORS)
async def test_counts_by_country_merge_small_countries_for_callers_without_full_rights(
    gql: GraphQLClient, world: World, actor: str
) -> None:
    host = await make_organisation("counted-host")
    partner = await make_organisation("counted-partner")
    counted = await make_exchange("counted", host, partners=[partner], starts_on=dt.date(2027, 9, 1))
    for country, people in (("KZ", 4), ("UZ", 3), ("KG", 2), ("DE", 1)):
        for index in range(people):
            await take_part(await make_volunteer(f"{country} {index}", country=country), counted)
    # Withdrawn people hold no place: not counted.
    await take_part(await make_volunteer("Gone", country="TJ"), counted, ParticipationStatus.WITHDRAWN)
    keys = {**world.keys, "host": await make_key(host), "partner": await make_key(partner)}
    result = await gql(COUNTS, {}, key=keys[actor])
    counts = result["data"]["exchange"]["participantCountsByCountry"]
    if actor in ("host", "partner", "admin"):
        assert counts == [
            {"country": "KZ", "count": 4},
            {"country": "UZ", "count": 3},
            {"country": "KG", "count": 2},
            {"country": "DE", "count": 1},
        ]
    else:
        assert counts == [
            {"country": "KZ", "count": 4},
            {"country": "UZ", "count": 3},
            {"country": None, "count": 3},
        ]


# ---------------------------------------------------------------- subscriptions and webhooks


async def test_webhook_payloads_carry_no_personal_data(gql: GraphQLClient, world: World) -> None:
    from tests.events.conftest import change

    host = await make_organisation("hook-host")
    await WebhookEndpoint.create(organisation=host, url="https://hooks.example.org/a", sealed_secret="s" * 32)
    exchange = await make_exchange("hooked", host, starts_on=dt.date(2027, 9, 1))
    person = await make_volunteer("Aigerim Bekova", email="aigerim@example.org")
    invitation = await invite(exchange, "aigerim@example.org", full_name="Aigerim Bekova", volunteer=person)
    await change(invitation, InvitationStatus.SENT, InvitationStatus.ACCEPTED)
    [delivery] = await WebhookDelivery.all()
    text = json.dumps(delivery.payload)
    assert "aigerim" not in text.lower() and "bekova" not in text.lower()
    assert set(delivery.payload["data"]) == {
        "eventId",
        "invitationId",
        "exchangeId",
        "previousStatus",
        "status",
        "at",
    }


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


SUBSCRIBE = """subscription($exchangeId: ID) { invitationUpdates(exchangeId: $exchangeId) {
  status invitation { email volunteer { fullName email } } } }"""


async def test_subscription_events_show_people_by_the_same_rule(
    app: Any, http: httpx.AsyncClient, gql: GraphQLClient, world: World
) -> None:
    from exchange.models import Invitation
    from tests.events.conftest import change
    from tests.http.test_multipart_subscriptions import ACCEPT, RawStream, apollo_read

    body = {"query": SUBSCRIBE, "variables": {"exchangeId": world.ids["public"]}}
    # Who may listen at all: organisers of the exchange and admins.
    for actor, code in (
        ("anonymous", "UNAUTHENTICATED"),
        ("read_only", "FORBIDDEN"),
        ("partner", "FORBIDDEN"),
        ("stranger", "FORBIDDEN"),
    ):
        key = world.keys[actor]
        headers = {"accept": ACCEPT} | ({"authorization": f"Bearer {key}"} if key else {})
        refused = RawStream(app, body, headers)
        await refused.start()
        answer: list[bytes] = []
        while (part := await refused.chunk()) is not None:
            answer.append(part)
        await refused.close()
        [payload] = apollo_read(answer)
        assert [e["extensions"]["code"] for e in payload["errors"]] == [code], actor
    stream = RawStream(app, body, {"accept": ACCEPT, "authorization": f"Bearer {world.keys['host']}"})
    await stream.start()
    try:
        chunks: list[bytes] = []
        for _ in range(200):
            if (await http.get("/healthz")).json()["live"]["subscriptions"] == 1:
                break
            await asyncio.sleep(0.025)
        invitation = await Invitation.get(email="invited@example.org")
        # The event's invitation is read when it is delivered: one change at a time.
        for previous, status in (
            (InvitationStatus.QUEUED, InvitationStatus.SENT),
            (InvitationStatus.SENT, InvitationStatus.ACCEPTED),
        ):
            await change(invitation, previous, status)
            while len(apollo_read(chunks)) < (1 if status is InvitationStatus.SENT else 2):
                chunk = await stream.chunk()
                assert chunk is not None
                chunks.append(chunk)
    finally:
        await stream.close()
    events = [payload["data"]["invitationUpdates"] for payload in apollo_read(chunks)]
    # Unanswered, the linked record is not the host's to see; once accepted, it is (with its
    # address: the volunteer accepted an invitation to an exchange the host organises).
    assert events == [
        {"status": "SENT", "invitation": {"email": "invited@example.org", "volunteer": None}},
        {
            "status": "ACCEPTED",
            "invitation": {
                "email": "invited@example.org",
                "volunteer": {"fullName": "Invited", "email": "invited@example.org"},
            },
        },
    ]
