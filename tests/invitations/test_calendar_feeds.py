"""Calendar feeds: /exchanges/{slug}/calendar.ics and /invitations/{token}/calendar.ics,
parsed with icalendar, against the entries the invitation mails carry."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from icalendar import Calendar

from bench.servers import free_port
from exchange.invitations import tokens
from exchange.mail.render import render
from exchange.models import ExchangeStatus, Invitation, MailKind, OutboxMail, Session
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, respond, token_for_email, token_of

CANCEL = """mutation($id: ID!) { cancelSession(id: $id) { session { id } userErrors { code } } }"""
UPDATE = """mutation($id: ID!, $input: UpdateSessionInput!) { updateSession(id: $id, input: $input) {
  session { id } userErrors { code } } }"""
REVOKE = """mutation($id: ID!) { revokeInvitation(id: $id) { invitation { status } userErrors { code } } }"""
ZONE = ZoneInfo("Asia/Qyzylorda")


def _parsed(response: httpx.Response) -> Calendar:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def _events(calendar: Calendar) -> dict[str, Any]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def _vtimezone(calendar: Calendar) -> bytes:
    [zone] = calendar.walk("VTIMEZONE")
    ical: bytes = zone.to_ical()
    return ical


async def _mail_calendar(email: str, settings: Any, kind: MailKind = MailKind.INVITATION) -> Calendar:
    mail = await OutboxMail.filter(recipient=email, kind=kind).order_by("-id").first()
    assert mail is not None
    message = await render(mail, settings)
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_payload(decode=True))


async def test_the_public_feed_has_every_session_in_the_venues_zone(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    cancelled = await gql(CANCEL, {"id": world.session_id(1)}, key=world.host_key)
    assert cancelled["data"]["cancelSession"]["userErrors"] == []
    response = await http.get("/exchanges/aral-week/calendar.ics?lang=ru")
    calendar = _parsed(response)
    assert "METHOD" not in calendar  # published, not an iTIP message
    assert str(calendar["X-WR-CALNAME"]) == "Неделя Арала"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["etag"].startswith('"')
    assert str(_vtimezone(calendar)).count("TZID:Asia/Qyzylorda") == 1
    events = _events(calendar)
    opening, planting = world.sessions
    assert sorted(events) == [f"session-{opening.id}@exchange.test", f"session-{planting.id}@exchange.test"]
    first = events[f"session-{opening.id}@exchange.test"]
    start = first.decoded("DTSTART")
    # Written in the venue's zone (TZID), the same instant as stored.
    assert start.tzinfo == ZONE and (start.hour, start.minute) == (9, 0)
    assert start == opening.starts_at and first.decoded("DTEND") == opening.ends_at
    assert first["DTSTART"].params["TZID"] == "Asia/Qyzylorda"
    assert str(first["SUMMARY"]) == "Неделя Арала: Открытие"
    assert str(first["STATUS"]) == "CONFIRMED" and str(first["LOCATION"]) == "Aralsk museum"
    assert "ATTENDEE" not in first and "ORGANIZER" not in first
    second = events[f"session-{planting.id}@exchange.test"]
    assert str(second["STATUS"]) == "CANCELLED" and int(second["SEQUENCE"]) == 1


async def test_the_public_feed_answers_if_none_match_with_304(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    first = await http.get("/exchanges/aral-week/calendar.ics?lang=en")
    etag = first.headers["etag"]
    again = await http.get("/exchanges/aral-week/calendar.ics?lang=en")
    assert again.content == first.content and again.headers["etag"] == etag  # no clock in the bytes
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        unchanged = await http.get(
            "/exchanges/aral-week/calendar.ics?lang=en", headers={"If-None-Match": header}
        )
        assert unchanged.status_code == 304 and unchanged.content == b""
        assert (
            unchanged.headers["etag"] == etag and unchanged.headers["cache-control"] == "public, max-age=300"
        )
    # Another language is another representation.
    kazakh = await http.get("/exchanges/aral-week/calendar.ics?lang=kk", headers={"If-None-Match": etag})
    assert kazakh.status_code == 200 and kazakh.headers["etag"] != etag
    # A moved session changes the feed: the old ETag no longer matches.
    moved = await gql(
        UPDATE, {"id": world.session_id(0), "input": {"venue": "Town hall"}}, key=world.host_key
    )
    assert moved["data"]["updateSession"]["userErrors"] == []
    changed = await http.get("/exchanges/aral-week/calendar.ics?lang=en", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    event = _events(_parsed(changed))[f"session-{world.sessions[0].id}@exchange.test"]
    assert str(event["LOCATION"]) == "Town hall" and int(event["SEQUENCE"]) == 1


async def test_drafts_are_not_found_like_unknown_slugs(world: World, http: httpx.AsyncClient) -> None:
    unknown = await http.get("/exchanges/no-such-exchange/calendar.ics")
    assert unknown.status_code == 404
    world.exchange.status = ExchangeStatus.DRAFT
    await world.exchange.save()
    draft = await http.get("/exchanges/aral-week/calendar.ics")
    assert (draft.status_code, draft.content) == (404, unknown.content)
    # Every published status has a feed; a cancelled exchange's entries are cancelled.
    for status in (
        ExchangeStatus.OPEN,
        ExchangeStatus.CLOSED,
        ExchangeStatus.COMPLETED,
        ExchangeStatus.CANCELLED,
    ):
        world.exchange.status = status
        await world.exchange.save()
        statuses = {
            str(e["STATUS"])
            for e in _parsed(await http.get("/exchanges/aral-week/calendar.ics")).walk("VEVENT")
        }
        assert statuses == ({"CANCELLED"} if status is ExchangeStatus.CANCELLED else {"CONFIRMED"}), status


async def test_an_exchange_without_sessions_shows_its_days(world: World, http: httpx.AsyncClient) -> None:
    await Session.all().delete()
    [event] = _parsed(await http.get("/exchanges/aral-week/calendar.ics")).walk("VEVENT")
    assert str(event["UID"]) == f"exchange-{world.exchange.id}@exchange.test"
    assert event.decoded("DTSTART") == dt.date(2027, 5, 10) and event.decoded("DTEND") == dt.date(2027, 5, 17)


async def test_the_personal_feed_repeats_the_mails_entries(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    await invite(gql, world, invitee("ana@example.com", locale="kk"), sessionIds=[world.session_id(0)])
    token = await token_for_email("ana@example.com", world.settings)
    mail = await _mail_calendar("ana@example.com", world.settings)
    response = await http.get(f"/invitations/{token}/calendar.ics")
    feed = _parsed(response)
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert str(feed["X-WR-CALNAME"]) == "Арал апталығы"  # the mail's language
    assert _vtimezone(feed) == _vtimezone(mail)
    mail_events, feed_events = _events(mail), _events(feed)
    invitation = await Invitation.get(email="ana@example.com")
    uid = f"session-{world.sessions[0].id}-invitation-{invitation.id}@exchange.test"
    assert list(feed_events) == list(mail_events) == [uid]
    entry, mailed = feed_events[uid], mail_events[uid]
    for name in ("SEQUENCE", "SUMMARY", "LOCATION", "DESCRIPTION"):
        assert entry[name] == mailed[name], name
    assert entry.decoded("DTSTART") == mailed.decoded("DTSTART") == world.sessions[0].starts_at
    assert entry.decoded("DTSTART").tzinfo == ZONE
    # Not answered yet: pencilled in.
    assert str(entry["STATUS"]) == "TENTATIVE" and "ATTENDEE" not in entry

    assert (await respond(gql, token, "ACCEPT"))["userErrors"] == []
    accepted = _events(_parsed(await http.get(f"/invitations/{token}/calendar.ics")))[uid]
    assert str(accepted["STATUS"]) == "CONFIRMED"

    # The session moves: the feed has the update the mail carries, same UID and SEQUENCE.
    moved = await gql(
        UPDATE,
        {
            "id": world.session_id(0),
            "input": {"startsAt": "2027-05-10T11:00:00+05:00", "endsAt": "2027-05-10T13:00:00+05:00"},
        },
        key=world.host_key,
    )
    assert moved["data"]["updateSession"]["userErrors"] == []
    update = _events(await _mail_calendar("ana@example.com", world.settings, MailKind.UPDATE))[uid]
    fed = _events(_parsed(await http.get(f"/invitations/{token}/calendar.ics?lang=en")))[uid]
    assert fed["SEQUENCE"] == update["SEQUENCE"] == 1
    assert fed.decoded("DTSTART") == update.decoded("DTSTART")
    assert fed.decoded("DTSTART").astimezone(ZONE).hour == 11

    cancelled = await gql(CANCEL, {"id": world.session_id(0)}, key=world.host_key)
    assert cancelled["data"]["cancelSession"]["userErrors"] == []
    gone = _events(_parsed(await http.get(f"/invitations/{token}/calendar.ics")))[uid]
    assert str(gone["STATUS"]) == "CANCELLED" and int(gone["SEQUENCE"]) == 2


async def test_a_whole_exchange_invitation_feeds_its_day_entry_and_every_session(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    await invite(gql, world, invitee("bo@example.com", locale="en"))
    token = await token_for_email("bo@example.com", world.settings)
    invitation = await Invitation.get(email="bo@example.com")
    [mailed] = _events(await _mail_calendar("bo@example.com", world.settings)).values()
    events = _events(_parsed(await http.get(f"/invitations/{token}/calendar.ics")))
    day = events.pop(str(mailed["UID"]))
    assert str(mailed["UID"]) == f"exchange-{world.exchange.id}-invitation-{invitation.id}@exchange.test"
    assert day.decoded("DTSTART") == mailed.decoded("DTSTART") == dt.date(2027, 5, 10)
    assert day["SEQUENCE"] == mailed["SEQUENCE"] and str(day["TRANSP"]) == "TRANSPARENT"
    assert sorted(events) == sorted(
        f"session-{s.id}-invitation-{invitation.id}@exchange.test" for s in world.sessions
    )
    # Declined: every entry is called off, so a subscribed calendar lets it go.
    assert (await respond(gql, token, "DECLINE"))["userErrors"] == []
    declined = _parsed(await http.get(f"/invitations/{token}/calendar.ics"))
    assert {str(e["STATUS"]) for e in declined.walk("VEVENT")} == {"CANCELLED"}


async def test_the_personal_feed_etag(gql: GraphQLClient, world: World, http: httpx.AsyncClient) -> None:
    await invite(gql, world, invitee("ana@example.com"), sessionIds=[world.session_id(0)])
    token = await token_for_email("ana@example.com", world.settings)
    first = await http.get(f"/invitations/{token}/calendar.ics")
    etag = first.headers["etag"]
    unchanged = await http.get(f"/invitations/{token}/calendar.ics", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.headers["cache-control"] == "private, no-cache"
    assert (await respond(gql, token, "ACCEPT"))["userErrors"] == []
    answered = await http.get(f"/invitations/{token}/calendar.ics", headers={"If-None-Match": etag})
    assert answered.status_code == 200 and answered.headers["etag"] != etag


async def test_unknown_and_revoked_links_have_no_feed(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    payload = await invite(gql, world, invitee("ana@example.com"))
    token = await token_for_email("ana@example.com", world.settings)
    assert (await http.get(f"/invitations/{token}/calendar.ics")).status_code == 200
    unknown = tokens.token_for("not-a-nonce-of-ours", world.settings.signing_key)
    for path in (f"/invitations/{unknown}/calendar.ics", "/invitations/short/calendar.ics"):
        missing = await http.get(path)
        assert missing.status_code == 404 and missing.headers["cache-control"] == "no-store"
    revoked = await gql(REVOKE, {"id": payload["invitations"][0]["id"]}, key=world.host_key)
    assert revoked["data"]["revokeInvitation"]["invitation"]["status"] == "REVOKED"
    assert (await http.get(f"/invitations/{token}/calendar.ics")).status_code == 404


async def test_the_access_log_line_does_not_carry_the_token(
    app: Any, gql: GraphQLClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await invite(gql, world, invitee("ana@example.com"))
    invitation = await Invitation.get(email="ana@example.com")
    token = token_of(invitation, world.settings)
    # A real uvicorn writes the line (on the app whose lifespan the fixture already runs).
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None, log_level="info")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(1000):  # uvicorn offers no event to wait on
            if server.started:
                break
            await asyncio.sleep(0.01)
        with caplog.at_level(logging.INFO, logger="uvicorn.access"):
            async with httpx.AsyncClient() as client:
                response = await client.get(
                    f"http://127.0.0.1:{port}/invitations/{token}/calendar.ics?lang=ru"
                )
        assert response.status_code == 200
    finally:
        server.should_exit = True
        await serving
    lines = [record.getMessage() for record in caplog.records if record.name == "uvicorn.access"]
    assert any('"GET /invitations/[token]/calendar.ics?lang=ru HTTP/1.1" 200' in line for line in lines), (
        lines
    )
    assert token not in caplog.text


@pytest.mark.parametrize(
    ("lang", "words"),
    [("kk", "Күнтізбеге жазылу"), ("ru", "Подписаться в календаре"), ("en", "Subscribe in your calendar")],
)
async def test_the_invitation_page_links_its_feed(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient, lang: str, words: str
) -> None:
    payload = await invite(gql, world, invitee("ana@example.com"), sessionIds=[world.session_id(0)])
    token = await token_for_email("ana@example.com", world.settings)
    page = (await http.get(f"/invitations/{token}?lang={lang}")).text
    feed = f"exchange.test/invitations/{token}/calendar.ics?lang={lang}"
    assert f'<a href="webcal://{feed}" rel="nofollow">{words}</a>' in page
    assert f'<a href="https://{feed}" rel="nofollow" download>' in page
    fetched = _parsed(await http.get(f"/invitations/{token}/calendar.ics?lang={lang}"))
    assert len(fetched.walk("VEVENT")) == 1
    await gql(REVOKE, {"id": payload["invitations"][0]["id"]}, key=world.host_key)
    assert "calendar.ics" not in (await http.get(f"/invitations/{token}?lang={lang}")).text
