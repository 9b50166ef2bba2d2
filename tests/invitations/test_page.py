"""The invitation page, through HTTP: GET shows, POST answers (with CSRF), nothing leaks."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time

import httpx
import pytest

from exchange.models import ExchangeStatus, Invitation, InvitationStatus, Participation
from exchange.web.pages import CSRF_COOKIE, CSRF_MAX_AGE_SECONDS, csrf_ok, csrf_value
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, token_for_email

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


async def _invited(gql: GraphQLClient, world: World, **extra: object) -> str:
    await invite(
        gql,
        world,
        invitee("ana@example.com", "Ana <script>alert(1)</script>", locale="kk"),
        sessionIds=[world.session_id(0)],
        message='Bring water & a hat. <img src=x onerror="alert(1)">',
        **extra,
    )
    return await token_for_email("ana@example.com", world.settings)


def _csrf(page: httpx.Response) -> str:
    match = CSRF_FIELD.search(page.text)
    assert match, page.text
    return match.group(1)


async def test_get_shows_the_invitation_and_changes_nothing(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    token = await _invited(gql, world)
    page = await http.get(f"/invitations/{token}")
    assert page.status_code == 200
    text = page.text
    assert '<html lang="kk">' in text  # the invitation's language when the browser says nothing
    assert "Арал апталығы" in text and "Сексеуіл егеміз." in text
    assert "Ашылу" in text  # the invited session, in Kazakh
    assert "09:00" in text  # 04:00 UTC in Asia/Qyzylorda
    assert "Asia/Qyzylorda (UTC+05:00)" in text
    assert "Қабылдаймын" in text and "Бас тартамын" in text
    # Everything the organiser or invitee typed is escaped.
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    assert "<img" not in text and "Bring water &amp; a hat." in text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in page.headers["cache-control"]
    cookie = page.headers["set-cookie"].lower()
    assert "samesite=strict" in cookie and "httponly" in cookie
    invitation = await Invitation.get()
    assert invitation.status is InvitationStatus.QUEUED and invitation.responded_at is None
    css = await http.get("/static/invitation.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


async def test_language_from_header_and_switch(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    token = await _invited(gql, world)
    russian = await http.get(f"/invitations/{token}", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert (
        '<html lang="ru">' in russian.text and "Неделя Арала" in russian.text and "Принимаю" in russian.text
    )
    english = await http.get(f"/invitations/{token}?lang=en", headers={"Accept-Language": "ru"})
    assert '<html lang="en">' in english.text and "Aral Sea Week" in english.text and "Accept" in english.text
    assert "9:00" in english.text
    bogus = await http.get(f"/invitations/{token}?lang=xx", headers={"Accept-Language": "de"})
    assert '<html lang="kk">' in bogus.text


async def test_accept_through_the_page(gql: GraphQLClient, world: World, http: httpx.AsyncClient) -> None:
    token = await _invited(gql, world)
    page = await http.get(f"/invitations/{token}?lang=en")
    answered = await http.post(
        f"/invitations/{token}", data={"csrf": _csrf(page), "lang": "en", "response": "ACCEPT"}
    )
    assert answered.status_code == 200
    assert "Your place is confirmed" in answered.text
    assert "Accept</button>" not in answered.text  # nothing left to answer
    assert (await Invitation.get()).status is InvitationStatus.ACCEPTED
    assert await Participation.all().count() == 1
    again = await http.post(
        f"/invitations/{token}", data={"csrf": _csrf(page), "lang": "en", "response": "DECLINE"}
    )
    assert again.status_code == 409 and "already been answered" in again.text


async def test_decline_through_the_page_in_russian(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    token = await _invited(gql, world)
    page = await http.get(f"/invitations/{token}?lang=ru")
    answered = await http.post(
        f"/invitations/{token}", data={"csrf": _csrf(page), "lang": "ru", "response": "DECLINE"}
    )
    assert "Спасибо за ответ" in answered.text
    assert (await Invitation.get()).status is InvitationStatus.DECLINED


async def test_post_without_or_with_a_bad_csrf_token_is_refused(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    token = await _invited(gql, world)
    no_form_token = await http.post(f"/invitations/{token}", data={"response": "ACCEPT", "lang": "en"})
    assert no_form_token.status_code == 403 and "This page has expired" in no_form_token.text
    page = await http.get(f"/invitations/{token}")
    csrf = _csrf(page)
    forged = csrf[:-1] + ("0" if csrf[-1] != "0" else "1")
    bad = await http.post(f"/invitations/{token}", data={"csrf": forged, "response": "ACCEPT"})
    assert bad.status_code == 403
    # A valid form value without the matching cookie (a cross-site post carries no cookie).
    http.cookies.clear()
    no_cookie = await http.post(f"/invitations/{token}", data={"csrf": csrf, "response": "ACCEPT"})
    assert no_cookie.status_code == 403
    # A token minted for another invitation does not fit this one.
    await invite(gql, world, invitee("bob@example.com"))
    other = await token_for_email("bob@example.com", world.settings)
    other_page = await http.get(f"/invitations/{other}")
    crossed = await http.post(f"/invitations/{token}", data={"csrf": _csrf(other_page), "response": "ACCEPT"})
    assert crossed.status_code == 403
    assert (await Invitation.get(email_normalised="ana@example.com")).status is InvitationStatus.QUEUED


async def test_odd_csrf_values_are_refused_not_a_server_error(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    # Both values come from the browser: non-ASCII text made compare_digest raise, and "²"
    # passed str.isdigit but not int(); each answered 500.
    token = await _invited(gql, world)
    for value in ("\u00b2.abc", "\u00e9t\u00e9", "9" * 5000 + ".x"):
        cookie = {"cookie": f"{CSRF_COOKIE}={value}".encode()}
        shown = await http.get(f"/invitations/{token}", headers=cookie)
        assert shown.status_code == 200 and _csrf(shown) != value
        posted = await http.post(
            f"/invitations/{token}", data={"csrf": value, "response": "ACCEPT"}, headers=cookie
        )
        assert posted.status_code == 403, value
    assert (await Invitation.get()).status is InvitationStatus.QUEUED


async def test_outcomes_on_the_page(gql: GraphQLClient, world: World, http: httpx.AsyncClient) -> None:
    token = await _invited(gql, world)
    page = await http.get(f"/invitations/{token}?lang=en")
    csrf = _csrf(page)

    async def post(response: str) -> httpx.Response:
        return await http.post(
            f"/invitations/{token}", data={"csrf": csrf, "lang": "en", "response": response}
        )

    world.exchange.capacity = 0
    await world.exchange.save()
    full = await http.get(f"/invitations/{token}?lang=en")
    assert "every place has been taken" in full.text and "Accept</button>" not in full.text
    assert "every place has been taken" in (await post("ACCEPT")).text
    world.exchange.status = ExchangeStatus.CLOSED
    await world.exchange.save()
    closed = await post("ACCEPT")
    assert "no longer accepts participants" in closed.text
    await Invitation.all().update(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    expired_page = await http.get(f"/invitations/{token}?lang=en")
    assert "Expired" in expired_page.text and "Accept</button>" not in expired_page.text
    assert "Decline</button>" in expired_page.text
    assert "has expired" in (await post("ACCEPT")).text
    await Invitation.all().update(status=InvitationStatus.REVOKED)
    assert "withdrawn this invitation" in (await post("DECLINE")).text


async def test_unknown_link_is_a_plain_404(gql: GraphQLClient, world: World, http: httpx.AsyncClient) -> None:
    token = await _invited(gql, world)
    for unknown in ("A" * 43, token[:-2] + "zz", "nope"):
        page = await http.get(f"/invitations/{unknown}", headers={"Accept-Language": "ru"})
        assert page.status_code == 404
        assert "Приглашение не найдено" in page.text
        assert "Арал" not in page.text and "Ana" not in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        posted = await http.post(f"/invitations/{unknown}", data={"response": "ACCEPT"})
        assert posted.status_code == 404


async def test_a_page_open_in_another_tab_keeps_working(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    token = await _invited(gql, world)
    invitation = await Invitation.get()
    earlier = csrf_value(world.settings.signing_key, invitation.token_hash, int(time.time()) - 60)
    cookie = {"Cookie": f"{CSRF_COOKIE}={earlier}"}
    # Reloading (or a second tab) keeps the browser's value instead of minting a new one...
    again = await http.get(f"/invitations/{token}?lang=en", headers=cookie)
    assert _csrf(again) == earlier
    # ...so the first tab's form still answers.
    http.cookies.clear()
    answered = await http.post(
        f"/invitations/{token}", data={"csrf": earlier, "lang": "en", "response": "DECLINE"}, headers=cookie
    )
    assert answered.status_code == 200 and "Thank you for letting us know" in answered.text
    # A value past its lifetime is refused, even when form and cookie agree.
    stale = csrf_value(
        world.settings.signing_key, invitation.token_hash, int(time.time()) - CSRF_MAX_AGE_SECONDS - 5
    )
    assert not csrf_ok(world.settings.verifying_keys, invitation.token_hash, stale, stale, int(time.time()))


async def test_access_log_hides_tokens(app: object, caplog: pytest.LogCaptureFixture) -> None:
    # uvicorn logs every request's path; an invitation link's token is the volunteer's only
    # credential, and a GraphQL GET may carry one in its variables.
    access = logging.getLogger("uvicorn.access")
    line = '%s - "%s %s HTTP/%s" %d'
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        access.info(line, "127.0.0.1:5000", "GET", "/invitations/Tok3n_secret-value?lang=kk", "1.1", 200)
        access.info(line, "127.0.0.1:5000", "POST", "/invitations/Tok3n_secret-value", "1.1", 200)
        access.info(line, "127.0.0.1:5000", "GET", '/graphql?variables={"token":"Tok3n"}', "1.1", 200)
        access.info(line, "127.0.0.1:5000", "GET", "/static/invitation.css", "1.1", 200)
    assert "Tok3n" not in caplog.text
    assert '"GET /invitations/[token]?lang=kk HTTP/1.1" 200' in caplog.text
    assert '"GET /graphql?[redacted] HTTP/1.1" 200' in caplog.text
    assert "/static/invitation.css" in caplog.text
