"""The roster through HTTP (#15): addParticipant, updateParticipation, removeParticipant for
the host or an admin, counted against capacity, one live participation per volunteer; who may
be named; updateVolunteer and updateOrganisation, so regional teams are kept without invitations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from exchange.models import (
    ApiKeyRole,
    Exchange,
    ExchangeStatus,
    InvitationStatus,
    Organisation,
    Participation,
    ParticipationStatus,
    Session,
    SessionFormat,
    Volunteer,
)
from tests.api.exchange_fixtures import gid, invite, make_exchange, make_volunteer, take_part
from tests.conftest import GraphQLClient, make_key, make_organisation

PARTICIPATION = "participation { id role status hours volunteer { fullName } exchange { slug seatsLeft } }"
ERRORS = "userErrors { field message code }"

ADD = f"""
mutation($exchangeId: ID!, $volunteerId: ID!, $role: ParticipationRole!) {{
  addParticipant(exchangeId: $exchangeId, volunteerId: $volunteerId, role: $role) {{ {PARTICIPATION} {ERRORS} }}
}}
"""
ADD_DEFAULT_ROLE = f"""
mutation($exchangeId: ID!, $volunteerId: ID!) {{
  addParticipant(exchangeId: $exchangeId, volunteerId: $volunteerId) {{ {PARTICIPATION} {ERRORS} }}
}}
"""
UPDATE = f"""
mutation($id: ID!, $input: UpdateParticipationInput!) {{
  updateParticipation(id: $id, input: $input) {{ {PARTICIPATION} {ERRORS} }}
}}
"""
REMOVE = f"""
mutation($id: ID!) {{ removeParticipant(id: $id) {{ removedParticipationId {ERRORS} }} }}
"""
UPDATE_VOLUNTEER = f"""
mutation($id: ID!, $input: UpdateVolunteerInput!) {{
  updateVolunteer(id: $id, input: $input) {{
    volunteer {{ id fullName email country languages skills organisation {{ slug }} }} {ERRORS}
  }}
}}
"""
UPDATE_ORGANISATION = f"""
mutation($id: ID!, $input: UpdateOrganisationInput!) {{
  updateOrganisation(id: $id, input: $input) {{
    organisation {{ id slug name names {{ locale text }} kind country website parent {{ slug }} }} {ERRORS}
  }}
}}
"""


@dataclass
class Roster:
    host: Organisation
    partner: Organisation
    other: Organisation
    keys: dict[str, str | None]
    exchange: Exchange
    # Volunteers by how the host relates to them.
    team: Volunteer  # sent by the host (its regional team)
    public: Volunteer  # another organisation's, with a public profile
    alumnus: Volunteer  # another organisation's, took part in another exchange of the host
    speaker: Volunteer  # another organisation's, speaks at a published session elsewhere
    private: Volunteer  # another organisation's, nothing the host may see


@pytest.fixture
async def roster(app: Any, admin_key: str) -> Roster:
    host = await make_organisation("mangystau-eco-volunteers")
    partner = await make_organisation("un-volunteers")
    other = await make_organisation("elsewhere")
    exchange = await make_exchange("caspian-week", host, partners=[partner], capacity=3)
    earlier = await make_exchange("caspian-2026", host, status=ExchangeStatus.COMPLETED)
    foreign = await make_exchange("foreign-forum", other)
    alumnus = await make_volunteer("Alumnus", organisation=other)
    await take_part(alumnus, earlier, ParticipationStatus.ATTENDED)
    speaker = await make_volunteer("Speaker", organisation=other)
    session = await Session.create(
        exchange=foreign,
        titles={"en": "Talk"},
        starts_at=dt.datetime(2027, 5, 10, 4, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 5, 10, 5, tzinfo=dt.UTC),
        format=SessionFormat.ONLINE,
    )
    await session.speakers.add(speaker)
    return Roster(
        host=host,
        partner=partner,
        other=other,
        keys={
            "host": await make_key(host),
            "partner": await make_key(partner),
            "other": await make_key(other),
            "read_only": await make_key(host, ApiKeyRole.READ_ONLY),
            "admin": admin_key,
            "anonymous": None,
        },
        exchange=exchange,
        team=await make_volunteer("Erlan Kassymov", organisation=host),
        public=await make_volunteer("Public Person", organisation=other, public_profile=True),
        alumnus=alumnus,
        speaker=speaker,
        private=await make_volunteer("Private Person", organisation=other),
    )


async def add(
    gql: GraphQLClient, roster: Roster, volunteer: Volunteer, key: str = "host", **extra: Any
) -> Any:
    variables = {
        "exchangeId": gid(roster.exchange),
        "volunteerId": gid(volunteer),
        "role": "PARTICIPANT",
        **extra,
    }
    return await gql(ADD, variables, key=roster.keys[key])


def codes(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


async def test_host_adds_its_regional_team_counted_against_capacity(
    gql: GraphQLClient, roster: Roster
) -> None:
    result = await add(gql, roster, roster.team, role="COORDINATOR")
    payload = result["data"]["addParticipant"]
    assert payload["userErrors"] == []
    participation = payload["participation"]
    assert (participation["role"], participation["status"], participation["hours"]) == (
        "COORDINATOR",
        "CONFIRMED",
        None,
    )
    assert participation["volunteer"] == {"fullName": "Erlan Kassymov"}
    assert participation["exchange"] == {"slug": "caspian-week", "seatsLeft": 2}
    stored = await Participation.get(volunteer_id=roster.team.id, exchange_id=roster.exchange.id)
    assert stored.status is ParticipationStatus.CONFIRMED
    # The role defaults to PARTICIPANT.
    default = await gql(
        ADD_DEFAULT_ROLE,
        {"exchangeId": gid(roster.exchange), "volunteerId": gid(roster.public)},
        key=roster.keys["host"],
    )
    assert default["data"]["addParticipant"]["participation"]["role"] == "PARTICIPANT"


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("partner", "FORBIDDEN"),
        ("other", "FORBIDDEN"),
        ("read_only", "FORBIDDEN"),
        ("anonymous", "UNAUTHENTICATED"),
    ],
)
async def test_only_the_host_or_an_admin_keeps_the_roster(
    gql: GraphQLClient, roster: Roster, key: str, code: str
) -> None:
    result = await add(gql, roster, roster.team, key=key)
    assert result["errors"][0]["extensions"]["code"] == code
    assert await Participation.filter(exchange_id=roster.exchange.id).count() == 0
    admin = await add(gql, roster, roster.private, key="admin")
    assert admin["data"]["addParticipant"]["userErrors"] == []


async def test_another_organisations_draft_is_not_found(gql: GraphQLClient, roster: Roster) -> None:
    await Exchange.filter(id=roster.exchange.id).update(status=ExchangeStatus.DRAFT)
    result = await add(gql, roster, roster.team, key="other")
    assert codes(result["data"]["addParticipant"]) == [(["exchangeId"], "NOT_FOUND")]


async def test_the_host_names_only_the_volunteers_the_naming_rule_allows(
    gql: GraphQLClient, roster: Roster
) -> None:
    for volunteer in (roster.team, roster.public, roster.alumnus):
        result = await add(gql, roster, volunteer)
        assert result["data"]["addParticipant"]["userErrors"] == [], volunteer.full_name
    # Seen (a speaker of a published session is public) but not the host's to name.
    speaker = await add(gql, roster, roster.speaker)
    assert codes(speaker["data"]["addParticipant"]) == [(["volunteerId"], "INVALID")]
    # Not even seen: the same answer as an id that names nobody.
    private = await add(gql, roster, roster.private)
    assert codes(private["data"]["addParticipant"]) == [(["volunteerId"], "NOT_FOUND")]
    missing = await gql(
        ADD,
        {"exchangeId": gid(roster.exchange), "volunteerId": "Vm9sdW50ZWVyOjk5OTk5", "role": "MENTOR"},
        key=roster.keys["host"],
    )
    assert codes(missing["data"]["addParticipant"]) == [(["volunteerId"], "NOT_FOUND")]
    assert {p.volunteer_id for p in await Participation.filter(exchange_id=roster.exchange.id)} == {
        roster.team.id,
        roster.public.id,
        roster.alumnus.id,
    }


async def test_capacity_conflict_and_a_withdrawn_participation_coming_back(
    gql: GraphQLClient, roster: Roster
) -> None:
    await Exchange.filter(id=roster.exchange.id).update(capacity=1)
    first = (await add(gql, roster, roster.team))["data"]["addParticipant"]
    assert first["userErrors"] == []
    full = (await add(gql, roster, roster.public))["data"]["addParticipant"]
    assert codes(full) == [(["exchangeId"], "CAPACITY_REACHED")]
    again = (await add(gql, roster, roster.team))["data"]["addParticipant"]
    assert codes(again) == [(["volunteerId"], "CONFLICT")]

    withdrawn = await gql(
        UPDATE,
        {"id": first["participation"]["id"], "input": {"status": "WITHDRAWN"}},
        key=roster.keys["host"],
    )
    assert withdrawn["data"]["updateParticipation"]["participation"]["status"] == "WITHDRAWN"
    assert withdrawn["data"]["updateParticipation"]["participation"]["exchange"]["seatsLeft"] == 1
    public = (await add(gql, roster, roster.public))["data"]["addParticipant"]
    assert public["userErrors"] == []
    back = await gql(
        UPDATE,
        {"id": first["participation"]["id"], "input": {"status": "CONFIRMED"}},
        key=roster.keys["host"],
    )
    assert codes(back["data"]["updateParticipation"]) == [(["status"], "CAPACITY_REACHED")]

    # A place freed again: adding the withdrawn volunteer brings the same participation back.
    await gql(REMOVE, {"id": public["participation"]["id"]}, key=roster.keys["host"])
    readded = (await add(gql, roster, roster.team, role="MENTOR"))["data"]["addParticipant"]
    assert readded["userErrors"] == []
    assert readded["participation"]["id"] == first["participation"]["id"]
    assert (readded["participation"]["role"], readded["participation"]["status"]) == ("MENTOR", "CONFIRMED")


async def test_a_cancelled_exchange_takes_nobody(gql: GraphQLClient, roster: Roster) -> None:
    await Exchange.filter(id=roster.exchange.id).update(status=ExchangeStatus.CANCELLED)
    result = await add(gql, roster, roster.team)
    assert codes(result["data"]["addParticipant"]) == [(["exchangeId"], "INVALID")]


async def test_update_participation_rules(gql: GraphQLClient, roster: Roster) -> None:
    added = (await add(gql, roster, roster.team))["data"]["addParticipant"]["participation"]
    host = roster.keys["host"]
    role = await gql(UPDATE, {"id": added["id"], "input": {"role": "SPEAKER"}}, key=host)
    assert role["data"]["updateParticipation"]["participation"]["role"] == "SPEAKER"
    cleared = await gql(UPDATE, {"id": added["id"], "input": {"role": None, "status": None}}, key=host)
    assert codes(cleared["data"]["updateParticipation"]) == [(["role"], "INVALID"), (["status"], "INVALID")]
    attended = await gql(UPDATE, {"id": added["id"], "input": {"status": "ATTENDED"}}, key=host)
    assert codes(attended["data"]["updateParticipation"]) == [(["status"], "INVALID")]
    assert "recordAttendance" in attended["data"]["updateParticipation"]["userErrors"][0]["message"]
    partner = await gql(UPDATE, {"id": added["id"], "input": {"role": "MENTOR"}}, key=roster.keys["partner"])
    assert partner["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # The private volunteer's participation elsewhere: the host cannot see it.
    foreign = await take_part(roster.private, await make_exchange("other-week", roster.other))
    hidden = await gql(UPDATE, {"id": gid(foreign), "input": {"role": "MENTOR"}}, key=host)
    assert codes(hidden["data"]["updateParticipation"]) == [(["id"], "NOT_FOUND")]
    assert (await Participation.get(id=foreign.id)).role.value == "PARTICIPANT"


async def test_an_invitee_who_accepted_is_taken_off_by_revoking(gql: GraphQLClient, roster: Roster) -> None:
    participation = await take_part(roster.public, roster.exchange)
    await invite(
        roster.exchange,
        "public.person@example.org",
        status=InvitationStatus.ACCEPTED,
        volunteer=roster.public,
    )
    host = roster.keys["host"]
    withdraw = await gql(UPDATE, {"id": gid(participation), "input": {"status": "WITHDRAWN"}}, key=host)
    assert codes(withdraw["data"]["updateParticipation"]) == [(["status"], "INVALID")]
    assert "revokeInvitation" in withdraw["data"]["updateParticipation"]["userErrors"][0]["message"]
    remove = await gql(REMOVE, {"id": gid(participation)}, key=host)
    assert codes(remove["data"]["removeParticipant"]) == [(["id"], "INVALID")]
    assert await Participation.filter(id=participation.id, status=ParticipationStatus.CONFIRMED).exists()


async def test_remove_participant_frees_the_place(gql: GraphQLClient, roster: Roster) -> None:
    added = (await add(gql, roster, roster.team))["data"]["addParticipant"]["participation"]
    partner = await gql(REMOVE, {"id": added["id"]}, key=roster.keys["partner"])
    assert partner["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    removed = await gql(REMOVE, {"id": added["id"]}, key=roster.keys["host"])
    assert removed["data"]["removeParticipant"] == {"removedParticipationId": added["id"], "userErrors": []}
    assert not await Participation.filter(exchange_id=roster.exchange.id).exists()
    node = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": added["id"]}, key=roster.keys["host"])
    assert node["data"]["node"] is None
    again = await gql(REMOVE, {"id": added["id"]}, key=roster.keys["host"])
    assert codes(again["data"]["removeParticipant"]) == [(["id"], "NOT_FOUND")]
    seats = await gql('query { exchange(slug: "caspian-week") { seatsLeft } }', key=roster.keys["host"])
    assert seats["data"]["exchange"]["seatsLeft"] == 3


# ---------------------------------------------------------------- updateVolunteer


async def test_the_sending_organisation_updates_its_volunteer(gql: GraphQLClient, roster: Roster) -> None:
    changes = {
        "fullName": "  Erlan   Kassymov ",
        "email": "Erlan@Aktau.Example",
        "country": "KZ",
        "languages": ["kk", "en"],
        "skills": ["Diving", "Boat handling", "diving"],
    }
    result = await gql(UPDATE_VOLUNTEER, {"id": gid(roster.team), "input": changes}, key=roster.keys["host"])
    payload = result["data"]["updateVolunteer"]
    assert payload["userErrors"] == []
    assert payload["volunteer"] == {
        "id": gid(roster.team),
        "fullName": "Erlan Kassymov",
        "email": "erlan@aktau.example",
        "country": "KZ",
        "languages": ["kk", "en"],
        "skills": ["Diving", "Boat handling"],
        "organisation": {"slug": "mangystau-eco-volunteers"},
    }
    # The skill search sees the new skills.
    found = await gql(
        'query { volunteers(skill: "boat HANDLING") { edges { node { fullName } } } }',
        key=roster.keys["host"],
    )
    assert found["data"]["volunteers"]["edges"] == [{"node": {"fullName": "Erlan Kassymov"}}]
    cleared = await gql(
        UPDATE_VOLUNTEER, {"id": gid(roster.team), "input": {"skills": None}}, key=roster.keys["host"]
    )
    assert cleared["data"]["updateVolunteer"]["volunteer"]["skills"] == []


async def test_update_volunteer_refusals(gql: GraphQLClient, roster: Roster) -> None:
    host = roster.keys["host"]
    # Seen (public profile) but sent by another organisation.
    public = await gql(UPDATE_VOLUNTEER, {"id": gid(roster.public), "input": {"fullName": "X"}}, key=host)
    assert public["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    private = await gql(UPDATE_VOLUNTEER, {"id": gid(roster.private), "input": {"fullName": "X"}}, key=host)
    assert codes(private["data"]["updateVolunteer"]) == [(["id"], "NOT_FOUND")]
    move = await gql(
        UPDATE_VOLUNTEER, {"id": gid(roster.team), "input": {"organisationId": gid(roster.other)}}, key=host
    )
    assert move["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    cleared = await gql(
        UPDATE_VOLUNTEER, {"id": gid(roster.team), "input": {"fullName": None, "languages": None}}, key=host
    )
    assert codes(cleared["data"]["updateVolunteer"]) == [
        (["fullName"], "INVALID"),
        (["languages"], "INVALID"),
    ]
    bad = await gql(
        UPDATE_VOLUNTEER,
        {"id": gid(roster.team), "input": {"email": "not-an-address", "skills": [" "]}},
        key=host,
    )
    assert codes(bad["data"]["updateVolunteer"]) == [(["email"], "INVALID"), (["skills", "0"], "INVALID")]
    await make_volunteer("Second Record", email="taken@example.org", organisation=roster.host)
    taken = await gql(
        UPDATE_VOLUNTEER, {"id": gid(roster.team), "input": {"email": "TAKEN@example.org"}}, key=host
    )
    assert codes(taken["data"]["updateVolunteer"]) == [(["email"], "CONFLICT")]
    assert (await Volunteer.get(id=roster.team.id)).full_name == "Erlan Kassymov"


async def test_an_admin_moves_a_volunteer_to_another_sending_organisation(
    gql: GraphQLClient, roster: Roster
) -> None:
    admin = roster.keys["admin"]
    moved = await gql(
        UPDATE_VOLUNTEER,
        {"id": gid(roster.private), "input": {"organisationId": gid(roster.host)}},
        key=admin,
    )
    assert moved["data"]["updateVolunteer"]["volunteer"]["organisation"] == {
        "slug": "mangystau-eco-volunteers"
    }
    # Now the host sends them: it may edit and name them.
    renamed = await gql(
        UPDATE_VOLUNTEER,
        {"id": gid(roster.private), "input": {"fullName": "Now Ours"}},
        key=roster.keys["host"],
    )
    assert renamed["data"]["updateVolunteer"]["volunteer"]["fullName"] == "Now Ours"
    assert (await add(gql, roster, roster.private))["data"]["addParticipant"]["userErrors"] == []
    none = await gql(
        UPDATE_VOLUNTEER, {"id": gid(roster.private), "input": {"organisationId": None}}, key=admin
    )
    assert none["data"]["updateVolunteer"]["volunteer"]["organisation"] is None


# ---------------------------------------------------------------- updateOrganisation


async def test_an_admin_keeps_a_regional_team_up_to_date(gql: GraphQLClient, roster: Roster) -> None:
    national = await make_organisation("volunteers-of-kazakhstan")
    changes = {
        "names": [
            {"locale": "kk", "text": "Маңғыстау эко-еріктілері"},
            {"locale": "en", "text": "Mangystau Eco Team"},
        ],
        "kind": "COMMUNITY",
        "website": "https://aktau.example.org",
        "parentId": gid(national),
        "contactEmail": "Team@Aktau.Example.org",
    }
    result = await gql(
        UPDATE_ORGANISATION, {"id": gid(roster.host), "input": changes}, key=roster.keys["admin"]
    )
    payload = result["data"]["updateOrganisation"]
    assert payload["userErrors"] == []
    organisation = payload["organisation"]
    assert organisation["name"] == "Маңғыстау эко-еріктілері"
    assert [n["locale"] for n in organisation["names"]] == ["kk", "en"]
    assert (organisation["kind"], organisation["website"], organisation["parent"]) == (
        "COMMUNITY",
        "https://aktau.example.org",
        {"slug": "volunteers-of-kazakhstan"},
    )
    assert (await Organisation.get(id=roster.host.id)).contact_email == "Team@aktau.example.org"
    renamed = await gql(
        UPDATE_ORGANISATION,
        {"id": gid(roster.host), "input": {"slug": "aktau-eco-team", "website": None}},
        key=roster.keys["admin"],
    )
    assert renamed["data"]["updateOrganisation"]["organisation"]["slug"] == "aktau-eco-team"
    assert renamed["data"]["updateOrganisation"]["organisation"]["website"] is None
    # Its keys still act for it.
    assert (await add(gql, roster, roster.team))["data"]["addParticipant"]["userErrors"] == []


async def test_update_organisation_refusals(gql: GraphQLClient, roster: Roster) -> None:
    admin = roster.keys["admin"]
    host_key = roster.keys["host"]
    forbidden = await gql(
        UPDATE_ORGANISATION, {"id": gid(roster.host), "input": {"website": None}}, key=host_key
    )
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    child = await make_organisation("aktau-branch", parent=roster.host)
    cycle = await gql(
        UPDATE_ORGANISATION, {"id": gid(roster.host), "input": {"parentId": gid(child)}}, key=admin
    )
    assert codes(cycle["data"]["updateOrganisation"]) == [(["parentId"], "INVALID")]
    itself = await gql(
        UPDATE_ORGANISATION, {"id": gid(roster.host), "input": {"parentId": gid(roster.host)}}, key=admin
    )
    assert codes(itself["data"]["updateOrganisation"]) == [(["parentId"], "INVALID")]
    unknown = await gql(
        UPDATE_ORGANISATION,
        {"id": gid(roster.host), "input": {"parentId": "T3JnYW5pc2F0aW9uOjk5OTk"}},
        key=admin,
    )
    assert codes(unknown["data"]["updateOrganisation"]) == [(["parentId"], "NOT_FOUND")]
    taken = await gql(
        UPDATE_ORGANISATION, {"id": gid(roster.host), "input": {"slug": "elsewhere"}}, key=admin
    )
    assert codes(taken["data"]["updateOrganisation"]) == [(["slug"], "CONFLICT")]
    cleared = await gql(
        UPDATE_ORGANISATION,
        {"id": gid(roster.host), "input": {"names": None, "slug": "Not A Slug"}},
        key=admin,
    )
    assert codes(cleared["data"]["updateOrganisation"]) == [(["names"], "INVALID"), (["slug"], "INVALID")]
    missing = await gql(
        UPDATE_ORGANISATION, {"id": "T3JnYW5pc2F0aW9uOjk5OTk", "input": {"website": None}}, key=admin
    )
    assert codes(missing["data"]["updateOrganisation"]) == [(["id"], "NOT_FOUND")]
    assert (await Organisation.get(id=roster.host.id)).parent_id is None
