from __future__ import annotations

import datetime as dt

from exchange.models import ExchangeStatus, Invitation, InvitationStatus, MailKind, OutboxMail
from schema.api.relay import encode_id
from tests.conftest import GraphQLClient
from tests.invitations.conftest import INVITE, World, invite, invitee


async def test_host_invites_with_sessions_and_mail_is_queued(gql: GraphQLClient, world: World) -> None:
    payload = await invite(
        gql,
        world,
        invitee("Ana.Perez@Example.com", locale="en"),
        invitee("aigerim@example.kz", "Aigerim Nurlanovna", "KZ"),
        sessionIds=[world.session_id(1)],
        message="  Bring a hat.  ",
        expiresInDays=10,
    )
    assert payload["userErrors"] == []
    first, second = payload["invitations"]
    assert first["email"] == "Ana.Perez@example.com"
    assert first["status"] == "QUEUED" and first["locale"] == "en"
    # Default locale: the exchange's first language among kk/ru/en (ru here).
    assert second["locale"] == "ru" and second["country"] == "KZ"
    assert first["message"] == "Bring a hat."
    assert first["invitedBy"] == {"slug": "steppe-volunteers"}
    assert [s["id"] for s in first["sessions"]] == [world.session_id(1)]
    mails = await OutboxMail.all().order_by("id")
    assert [(m.kind, m.recipient) for m in mails] == [
        (MailKind.INVITATION, "Ana.Perez@example.com"),
        (MailKind.INVITATION, "aigerim@example.kz"),
    ]
    stored = await Invitation.get(email_normalised="ana.perez@example.com")
    assert (stored.expires_at - stored.created_at).days in (9, 10)
    # Only a hash of the link is stored, and the nonce alone is not the token.
    assert len(stored.token_hash) == 64 and stored.token_nonce not in stored.token_hash


async def test_partial_success_reports_index_paths(gql: GraphQLClient, world: World) -> None:
    payload = await invite(
        gql,
        world,
        invitee("good@example.com"),
        invitee("not-an-address"),
        invitee("second@example.com", name="   "),
        invitee("GOOD@example.com"),
        invitee("third@example.com", locale="de"),
        invitee("fourth@example.com"),
    )
    assert [i["email"] for i in payload["invitations"]] == ["good@example.com", "fourth@example.com"]
    errors = {(tuple(e["field"]), e["code"]) for e in payload["userErrors"]}
    assert errors == {
        (("invitees", "1", "email"), "INVALID"),
        (("invitees", "2", "fullName"), "INVALID"),
        (("invitees", "3", "email"), "CONFLICT"),
        (("invitees", "4", "locale"), "INVALID"),
    }
    assert await Invitation.all().count() == 2


async def test_reinvite_returns_the_live_invitation_in_input_order(gql: GraphQLClient, world: World) -> None:
    first = await invite(gql, world, invitee("ana@example.com"))
    again = await invite(gql, world, invitee("new@example.com"), invitee("ANA@example.com"))
    assert again["userErrors"] == []
    assert [i["email"] for i in again["invitations"]] == ["new@example.com", "ana@example.com"]
    assert again["invitations"][1]["id"] == first["invitations"][0]["id"]
    assert await Invitation.all().count() == 2
    assert await OutboxMail.filter(kind=MailKind.INVITATION).count() == 2


async def test_final_invitation_does_not_block_a_new_one(gql: GraphQLClient, world: World) -> None:
    first = await invite(gql, world, invitee("ana@example.com"))
    await Invitation.filter(email_normalised="ana@example.com").update(status=InvitationStatus.DECLINED)
    again = await invite(gql, world, invitee("ana@example.com"))
    assert again["invitations"][0]["id"] != first["invitations"][0]["id"]
    assert again["invitations"][0]["status"] == "QUEUED"


async def test_call_level_problems(gql: GraphQLClient, world: World) -> None:
    world.settings.invitees_per_call = 2
    world.settings.invitation_message_max_length = 10
    payload = await invite(
        gql,
        world,
        invitee("a@example.com"),
        invitee("b@example.com"),
        invitee("c@example.com"),
        message="x" * 11,
        expiresInDays=0,
    )
    assert payload["invitations"] == []
    assert {tuple(e["field"]) for e in payload["userErrors"]} == {
        ("invitees",),
        ("message",),
        ("expiresInDays",),
    }
    too_long = await invite(
        gql, world, invitee("a@example.com"), expiresInDays=world.settings.invitation_max_days + 1
    )
    assert too_long["userErrors"][0]["field"] == ["expiresInDays"]
    assert await Invitation.all().count() == 0


async def test_sessions_must_belong_to_the_exchange(gql: GraphQLClient, world: World) -> None:
    from exchange.models import Session
    from schema.api.relay import encode_id
    from tests.invitations.conftest import make_exchange

    elsewhere = await make_exchange(world.other, slug="other-week")
    foreign = await Session.create(
        exchange=elsewhere,
        titles={"en": "X"},
        starts_at=world.sessions[0].starts_at,
        ends_at=world.sessions[0].ends_at,
        format="ONLINE",
    )
    payload = await invite(
        gql,
        world,
        invitee("a@example.com"),
        sessionIds=[world.session_id(0), encode_id("Session", foreign.id)],
    )
    assert payload["invitations"] == []
    assert payload["userErrors"] == [
        {"field": ["sessionIds", "1"], "message": "Session not found in this exchange.", "code": "NOT_FOUND"}
    ]
    # Ids that are not Session ids are malformed input (BAD_USER_INPUT, #10 item 11; they were
    # NOT_FOUND userErrors): one error naming every such index, and nobody is invited.
    malformed = await gql(
        INVITE,
        {
            "input": {
                "exchangeId": world.exchange_id,
                "invitees": [invitee("a@example.com")],
                "sessionIds": ["garbage", world.session_id(0), world.exchange_id],
            }
        },
        key=world.host_key,
    )
    assert malformed["data"] is None
    assert [
        (e["message"], e["extensions"]["code"], e["extensions"]["field"]) for e in malformed["errors"]
    ] == [("`sessionIds` items 0, 2 are not Session ids.", "BAD_USER_INPUT", ["sessionIds", "0"])]
    assert await Invitation.all().count() == 0


async def test_only_open_exchanges_take_invitations(gql: GraphQLClient, world: World) -> None:
    for status in (ExchangeStatus.DRAFT, ExchangeStatus.CLOSED):
        world.exchange.status = status
        await world.exchange.save()
        payload = await invite(gql, world, invitee("a@example.com"))
        assert payload["invitations"] == []
        assert payload["userErrors"][0]["field"] == ["exchangeId"]
        assert payload["userErrors"][0]["code"] == "INVALID"


async def test_who_may_invite(gql: GraphQLClient, world: World) -> None:
    variables = {"input": {"exchangeId": world.exchange_id, "invitees": [invitee("a@example.com")]}}
    anonymous = await gql(INVITE, variables)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for key in (world.partner_key, world.other_key, world.read_only_key):
        refused = await gql(INVITE, variables, key=key)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
    assert await Invitation.all().count() == 0
    # An admin acts for the host: the invitation comes from the host organisation.
    by_admin = await gql(INVITE, variables, key=world.admin_key)
    assert by_admin["data"]["inviteVolunteers"]["invitations"][0]["invitedBy"] == {
        "slug": "steppe-volunteers"
    }


async def test_unknown_exchange_is_not_found(gql: GraphQLClient, world: World) -> None:
    # A well-formed id of no exchange (the service used to name it "Exchange").
    missing = await gql(
        INVITE,
        {
            "input": {
                "exchangeId": encode_id("ExperienceExchange", 999),
                "invitees": [invitee("a@example.com")],
            }
        },
        key=world.host_key,
    )
    assert missing["data"]["inviteVolunteers"]["userErrors"] == [
        {"field": ["exchangeId"], "message": "ExperienceExchange not found.", "code": "NOT_FOUND"}
    ]
    # Not an id ("bm9wZQ" is base64 for "nope"): malformed input, no longer NOT_FOUND (#10 item 11).
    malformed = await gql(
        INVITE,
        {"input": {"exchangeId": "bm9wZQ", "invitees": [invitee("a@example.com")]}},
        key=world.host_key,
    )
    assert malformed["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": ["exchangeId"]}


async def test_defaults_and_bounds(gql: GraphQLClient, world: World) -> None:
    payload = await invite(gql, world, invitee("a@example.com"), invitee("b@example.com", name="x" * 201))
    assert [e["field"] for e in payload["userErrors"]] == [["invitees", "1", "fullName"]]
    stored = await Invitation.get(email_normalised="a@example.com")
    lifetime = stored.expires_at - stored.created_at
    assert abs(lifetime - dt.timedelta(days=world.settings.invitation_default_days)) < dt.timedelta(minutes=1)
    # An exchange without kk/ru/en among its languages writes in English.
    world.exchange.languages = ["de", "uz"]
    await world.exchange.save()
    assert (await invite(gql, world, invitee("c@example.com")))["invitations"][0]["locale"] == "en"
    # A malformed country never reaches the service: the scalar refuses the whole request.
    refused = await gql(
        INVITE,
        {"input": {"exchangeId": world.exchange_id, "invitees": [invitee("d@example.com", country="XX")]}},
        key=world.host_key,
    )
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_reinviting_after_an_unswept_expiry_creates_a_new_invitation(
    gql: GraphQLClient, world: World
) -> None:
    first = await invite(gql, world, invitee("a@example.com"))
    await Invitation.all().update(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    again = await invite(gql, world, invitee("a@example.com"))
    assert again["invitations"][0]["id"] != first["invitations"][0]["id"]
    statuses = [i.status for i in await Invitation.all().order_by("id")]
    # The overdue one is settled as EXPIRED, so the address keeps a single live invitation.
    assert statuses == [InvitationStatus.EXPIRED, InvitationStatus.QUEUED]
