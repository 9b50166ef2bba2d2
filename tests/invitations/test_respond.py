from __future__ import annotations

import datetime as dt
from typing import Any

from exchange.models import (
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    Organisation,
    Participation,
    ParticipationRole,
    ParticipationStatus,
    Volunteer,
)
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, respond, token_for_email


async def test_accept_creates_volunteer_and_participation(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("Ana@Example.com", "Ana Pérez", "ES", locale="en"))
    token = await token_for_email("ana@example.com", world.settings)
    payload = await respond(gql, token, "ACCEPT")
    assert payload["userErrors"] == []
    invitation = payload["invitation"]
    assert invitation["status"] == "ACCEPTED" and invitation["respondedAt"]
    # The link holder answers anonymously: a volunteer without a public profile is not shown
    # to anonymous callers (exchange.access), so the payload has no volunteer; it is stored.
    assert invitation["volunteer"] is None
    volunteer = await Volunteer.get(email="ana@example.com")
    assert (volunteer.full_name, volunteer.country, volunteer.languages) == ("Ana Pérez", "ES", ["en"])
    participation = await Participation.get(volunteer=volunteer, exchange=world.exchange)
    assert participation.role is ParticipationRole.PARTICIPANT
    assert participation.status is ParticipationStatus.CONFIRMED
    stored = await Invitation.get(email_normalised="ana@example.com")
    assert stored.volunteer_id == volunteer.id  # type: ignore[attr-defined]


async def test_accept_links_an_existing_volunteer(gql: GraphQLClient, world: World) -> None:
    existing = await Volunteer.create(
        full_name="Ana P.", email="ana@example.com", country="ES", languages=["es"]
    )
    await invite(gql, world, invitee("ANA@example.com"))
    payload = await respond(gql, await token_for_email("ana@example.com", world.settings), "ACCEPT")
    assert payload["userErrors"] == []
    assert (await Invitation.get(email_normalised="ana@example.com")).volunteer_id == existing.id  # type: ignore[attr-defined]
    assert await Volunteer.all().count() == 1
    assert await Participation.filter(volunteer=existing).count() == 1


async def test_accept_links_the_hosts_own_record_first(gql: GraphQLClient, world: World) -> None:
    # Records of one address per sender (#13): accepting links the inviting host's own record
    # if it registered the person, else the volunteer's own (no sender), else the address's
    # first record, as when there was one record per address.
    async def linked_after_accepting(email: str) -> int:
        await invite(gql, world, invitee(email))
        await respond(gql, await token_for_email(email, world.settings), "ACCEPT")
        return (await Invitation.get(email_normalised=email)).volunteer_id  # type: ignore[attr-defined, no-any-return]

    def record(name: str, email: str, organisation: Organisation | None) -> Any:
        return Volunteer.create(
            full_name=name, email=email, country="ES", languages=["es"], organisation=organisation
        )

    senders = await record("Ana of Other", "ana@example.com", world.other)
    assert await linked_after_accepting("ana@example.com") == senders.id

    await record("Bea of Other", "bea@example.com", world.other)
    own = await record("Bea herself", "bea@example.com", None)
    assert await linked_after_accepting("bea@example.com") == own.id

    await record("Cem of Other", "cem@example.com", world.other)
    await record("Cem herself", "cem@example.com", None)
    hosts = await record("Cem", "cem@example.com", world.host)
    assert await linked_after_accepting("cem@example.com") == hosts.id


async def test_decline_and_answering_twice(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("ana@example.com"))
    token = await token_for_email("ana@example.com", world.settings)
    declined = await respond(gql, token, "DECLINE")
    assert declined["invitation"]["status"] == "DECLINED"
    assert await Participation.all().count() == 0
    for response in ("ACCEPT", "DECLINE"):
        again = await respond(gql, token, response)
        assert again["invitation"] is None
        assert again["userErrors"] == [
            {
                "field": ["token"],
                "message": "This invitation has already been answered.",
                "code": "ALREADY_RESPONDED",
            }
        ]


async def test_unknown_token_reveals_nothing(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("ana@example.com"))
    real = await token_for_email("ana@example.com", world.settings)
    for token in ("x" * 43, real[:-1] + ("A" if real[-1] != "A" else "B"), "short", "../../etc"):
        payload = await respond(gql, token, "ACCEPT")
        assert payload["userErrors"] == [
            {"field": ["token"], "message": "This invitation link is not valid.", "code": "NOT_FOUND"}
        ]
        preview = await gql("query($t: String!) { invitation(token: $t) { fullName } }", {"t": token})
        assert preview["data"] == {"invitation": None} and "errors" not in preview


async def test_capacity_reached(gql: GraphQLClient, world: World) -> None:
    world.exchange.capacity = 1
    await world.exchange.save()
    await invite(gql, world, invitee("a@example.com"), invitee("b@example.com"))
    first = await respond(gql, await token_for_email("a@example.com", world.settings), "ACCEPT")
    assert first["userErrors"] == []
    second = await respond(gql, await token_for_email("b@example.com", world.settings), "ACCEPT")
    assert second["userErrors"][0]["code"] == "CAPACITY_REACHED"
    assert (await Invitation.get(email_normalised="b@example.com")).status is InvitationStatus.QUEUED
    assert await Volunteer.filter(email="b@example.com").count() == 0
    # Declining needs no seat.
    assert (await respond(gql, await token_for_email("b@example.com", world.settings), "DECLINE"))[
        "userErrors"
    ] == []


async def test_withdrawn_participants_free_their_seat(gql: GraphQLClient, world: World) -> None:
    world.exchange.capacity = 1
    await world.exchange.save()
    await invite(gql, world, invitee("a@example.com"), invitee("b@example.com"))
    await respond(gql, await token_for_email("a@example.com", world.settings), "ACCEPT")
    await Participation.all().update(status=ParticipationStatus.WITHDRAWN)
    second = await respond(gql, await token_for_email("b@example.com", world.settings), "ACCEPT")
    assert second["userErrors"] == []


async def test_expired_link_refuses_accept_but_records_decline(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("a@example.com"), invitee("b@example.com"))
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    await Invitation.all().update(expires_at=past)
    accepted = await respond(gql, await token_for_email("a@example.com", world.settings), "ACCEPT")
    assert accepted["userErrors"] == [
        {"field": ["token"], "message": "This invitation has expired.", "code": "EXPIRED"}
    ]
    declined = await respond(gql, await token_for_email("b@example.com", world.settings), "DECLINE")
    assert declined["userErrors"] == [] and declined["invitation"]["status"] == "DECLINED"
    # Also after the sweep stored EXPIRED.
    await Invitation.filter(email_normalised="a@example.com").update(status=InvitationStatus.EXPIRED)
    late = await respond(gql, await token_for_email("a@example.com", world.settings), "DECLINE")
    assert late["invitation"]["status"] == "DECLINED"


async def test_revoked_link(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("a@example.com"))
    await Invitation.all().update(status=InvitationStatus.REVOKED)
    payload = await respond(gql, await token_for_email("a@example.com", world.settings), "ACCEPT")
    assert payload["userErrors"][0]["code"] == "REVOKED"


async def test_closed_exchange_takes_no_new_acceptances(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("a@example.com"))
    world.exchange.status = ExchangeStatus.CLOSED
    await world.exchange.save()
    payload = await respond(gql, await token_for_email("a@example.com", world.settings), "ACCEPT")
    assert payload["userErrors"][0]["code"] == "INVALID"
    assert await Participation.all().count() == 0
    assert (await respond(gql, await token_for_email("a@example.com", world.settings), "DECLINE"))[
        "userErrors"
    ] == []


async def test_token_holder_sees_anonymous_nested_fields(gql: GraphQLClient, world: World) -> None:
    await invite(gql, world, invitee("a@example.com"))
    token = await token_for_email("a@example.com", world.settings)
    result = await gql(
        """mutation($t: String!) { respondToInvitation(token: $t, response: ACCEPT) {
             invitation { email volunteer { email } exchange { invitations { totalCount } } } } }""",
        {"t": token},
    )
    invitation = result["data"]["respondToInvitation"]["invitation"]
    assert invitation["email"] == "a@example.com"
    assert invitation["volunteer"] is None  # no public profile: hidden from anonymous callers
    assert invitation["exchange"]["invitations"]["totalCount"] == 0


async def test_preview_shows_what_the_link_holder_may_see(gql: GraphQLClient, world: World) -> None:
    await invite(
        gql, world, invitee("a@example.com", "Ana"), sessionIds=[world.session_id(0)], message="Hi <b>Ana</b>"
    )
    token = await token_for_email("a@example.com", world.settings)
    result = await gql(
        """query($t: String!) { invitation(token: $t) {
             exchange { slug title(locale: "kk") } sessions { title(locale: "en") } invitedBy { slug }
             fullName locale status expiresAt message } }""",
        {"t": token},
    )
    preview = result["data"]["invitation"]
    assert preview["exchange"] == {"slug": "aral-week", "title": "Арал апталығы"}
    assert preview["sessions"] == [{"title": "Opening"}]
    assert preview["invitedBy"] == {"slug": "steppe-volunteers"}
    assert preview["fullName"] == "Ana" and preview["locale"] == "ru" and preview["status"] == "QUEUED"
    assert preview["message"] == "Hi <b>Ana</b>"


async def test_the_link_holder_does_not_read_delivery_errors(gql: GraphQLClient, world: World) -> None:
    # Transport errors name mail hosts and spool paths: organisers read them, the volunteer
    # answering with the link (anonymous) gets null.
    await invite(gql, world, invitee("ana@example.com"))
    error = "SMTPConnectError: Error connecting to smtp.internal.example on port 25"
    await Invitation.filter(email_normalised="ana@example.com").update(last_error=error)
    answered = await gql(
        """mutation($token: String!) { respondToInvitation(token: $token, response: DECLINE) {
             invitation { id status lastError } } }""",
        {"token": await token_for_email("ana@example.com", world.settings)},
    )
    invitation = answered["data"]["respondToInvitation"]["invitation"]
    assert invitation["status"] == "DECLINED" and invitation["lastError"] is None
    query = "query($id: ID!) { node(id: $id) { ... on Invitation { lastError } } }"
    for key in (world.host_key, world.partner_key, world.admin_key):
        seen = await gql(query, {"id": invitation["id"]}, key=key)
        assert seen["data"]["node"] == {"lastError": error}
