"""The waiting list and withdrawal on the invitation page (no account, the link's token),
on SQLite and PostgreSQL: joining when full, the place on the list, an offer with its
venue-local deadline and the claim, withdrawing (and its refusal once the exchange has
started), a lapsed offer; in kk, ru and en."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from babel.dates import format_date, format_time

from exchange.models import (
    Exchange,
    Invitation,
    InvitationStatus,
    MailKind,
    OutboxMail,
    Participation,
    ParticipationStatus,
    Session,
)
from exchange.web.texts import TEXTS
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee, token_for_email
from tests.invitations.test_page import _csrf

LANGUAGES = ["kk", "ru", "en"]


def later(**delta: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(**delta)


def _text(t: str) -> str:
    """A page text as the HTML carries it (Jinja escapes quotes)."""
    return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")


async def _post(http: httpx.AsyncClient, token: str, lang: str, response: str) -> httpx.Response:
    page = await http.get(f"/invitations/{token}?lang={lang}")
    return await http.post(
        f"/invitations/{token}", data={"csrf": _csrf(page), "lang": lang, "response": response}
    )


async def _full(gql: GraphQLClient, world: World, lang: str, *, waitlist: bool = True) -> tuple[str, str]:
    """One place, taken by the accepted invitee; the other (in ``lang``) not answered yet.
    Returns both tokens (accepted, newcomer)."""
    await Exchange.filter(id=world.exchange.id).update(capacity=1, waitlist=waitlist)
    await invite(gql, world, invitee("in@example.com", "Aigerim", locale=lang))
    await invite(gql, world, invitee("next@example.com", "Dana", locale=lang))
    accepted = await token_for_email("in@example.com", world.settings)
    newcomer = await token_for_email("next@example.com", world.settings)
    return accepted, newcomer


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_joining_the_waiting_list_on_the_page(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient, lang: str
) -> None:
    t = TEXTS[lang]
    accepted, newcomer = await _full(gql, world, lang)
    assert (await _post(http, accepted, lang, "ACCEPT")).status_code == 200
    page = await http.get(f"/invitations/{newcomer}?lang={lang}")
    # Full, with a waiting list: accepting joins it, and the page says so first.
    assert _text(t["join_waitlist_hint"]) in page.text
    assert _text(t["result_capacity"]) not in page.text
    assert 'value="ACCEPT"' in page.text
    # No public-profile box: the volunteer record waits for a place.
    assert 'name="public_profile"' not in page.text
    joined = await http.post(
        f"/invitations/{newcomer}", data={"csrf": _csrf(page), "lang": lang, "response": "ACCEPT"}
    )
    assert joined.status_code == 200
    assert _text(t["result_waitlisted"]) in joined.text
    assert t["waitlist_position"].format(position=1) in joined.text
    assert t["status_WAITLISTED"] in joined.text
    assert f'value="DECLINE" class="secondary">{_text(t["leave_waitlist"])}</button>' in joined.text
    assert 'value="ACCEPT"' not in joined.text
    assert (await Invitation.get(email_normalised="next@example.com")).status is InvitationStatus.WAITLISTED
    # Leaving the list from the page.
    left = await _post(http, newcomer, lang, "DECLINE")
    assert left.status_code == 200 and _text(t["result_declined"]) in left.text
    assert (await Invitation.get(email_normalised="next@example.com")).status is InvitationStatus.DECLINED


async def test_without_a_waitlist_the_page_still_says_full(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient
) -> None:
    accepted, newcomer = await _full(gql, world, "en", waitlist=False)
    await _post(http, accepted, "en", "ACCEPT")
    page = await http.get(f"/invitations/{newcomer}?lang=en")
    assert "Sorry, every place has been taken." in page.text and 'value="ACCEPT"' not in page.text


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_withdrawing_on_the_page_and_the_offer_it_makes(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient, lang: str
) -> None:
    t = TEXTS[lang]
    accepted, newcomer = await _full(gql, world, lang)
    await _post(http, accepted, lang, "ACCEPT")
    await _post(http, newcomer, lang, "ACCEPT")
    page = await http.get(f"/invitations/{accepted}?lang={lang}")
    # Until the start, in the venue's time (Asia/Qyzylorda, UTC+5): the first session, 04:00 UTC.
    assert _text(t["withdraw_summary"]) in page.text
    starts = f"{format_date(dt.date(2027, 5, 10), 'long', locale=lang)}, {format_time(dt.time(9, 0), 'short', locale=lang)}"
    assert _text(t["withdraw_hint"].format(date=starts)) in page.text
    assert 'value="WITHDRAW"' in page.text
    # The mail-style link asks to confirm: the disclosure opens, the button has focus.
    confirm = await http.get(f"/invitations/{accepted}?lang={lang}&response=withdraw")
    assert '<details class="withdraw" open>' in confirm.text
    assert _text(t["confirm_withdraw"]) in confirm.text
    withdrawn = await _post(http, accepted, lang, "WITHDRAW")
    assert withdrawn.status_code == 200
    assert _text(t["result_withdrawn"]) in withdrawn.text
    assert _text(t["withdrawn_text"]) in withdrawn.text
    assert 'value="WITHDRAW"' not in withdrawn.text
    assert (await Participation.get()).status is ParticipationStatus.WITHDRAWN
    assert [m.recipient for m in await OutboxMail.filter(kind=MailKind.WITHDRAWAL)] == ["in@example.com"]
    # The first waiting now has an offer, with its deadline in the venue's time.
    offered = await Invitation.get(email_normalised="next@example.com")
    assert offered.status is InvitationStatus.OFFERED
    deadline = dt.datetime(2027, 5, 1, 10, 30, tzinfo=dt.UTC)  # 15:30 at the venue
    await Invitation.filter(id=offered.id).update(offer_expires_at=deadline)
    await Session.filter(exchange_id=world.exchange.id).update(
        starts_at=dt.datetime(2027, 5, 10, 4, 0, tzinfo=dt.UTC)
    )
    page = await http.get(f"/invitations/{newcomer}?lang={lang}")
    assert _text(t["offer_heading"]) in page.text
    claim_by = f"{format_date(dt.date(2027, 5, 1), 'long', locale=lang)}, {format_time(dt.time(15, 30), 'short', locale=lang)}"
    assert _text(t["offer_text"].format(date=claim_by)) in page.text
    assert t["status_OFFERED"] in page.text
    claimed = await http.post(
        f"/invitations/{newcomer}", data={"csrf": _csrf(page), "lang": lang, "response": "ACCEPT"}
    )
    assert claimed.status_code == 200 and _text(t["result_accepted"]) in claimed.text
    assert (await Invitation.get(id=offered.id)).status is InvitationStatus.ACCEPTED


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_no_withdrawal_on_the_page_after_the_start(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient, lang: str
) -> None:
    t = TEXTS[lang]
    accepted, _ = await _full(gql, world, lang)
    before = await http.get(f"/invitations/{accepted}?lang={lang}")
    await http.post(
        f"/invitations/{accepted}", data={"csrf": _csrf(before), "lang": lang, "response": "ACCEPT"}
    )
    stale = await http.get(f"/invitations/{accepted}?lang={lang}")
    assert 'value="WITHDRAW"' in stale.text
    await Session.filter(id=world.sessions[0].id).update(starts_at=later(minutes=-5), ends_at=later(hours=1))
    page = await http.get(f"/invitations/{accepted}?lang={lang}")
    assert 'value="WITHDRAW"' not in page.text
    assert _text(t["withdraw_closed"]) in page.text
    # A form still open from before the start is refused, in words.
    refused = await http.post(
        f"/invitations/{accepted}", data={"csrf": _csrf(stale), "lang": lang, "response": "WITHDRAW"}
    )
    assert refused.status_code == 409
    assert _text(t["result_withdraw_started"]) in refused.text
    assert (await Invitation.get(email_normalised="in@example.com")).status is InvitationStatus.ACCEPTED


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_a_lapsed_offer_on_the_page(
    gql: GraphQLClient, world: World, http: httpx.AsyncClient, lang: str
) -> None:
    t = TEXTS[lang]
    accepted, newcomer = await _full(gql, world, lang)
    await _post(http, accepted, lang, "ACCEPT")
    await _post(http, newcomer, lang, "ACCEPT")
    await _post(http, accepted, lang, "WITHDRAW")
    offered = await http.get(f"/invitations/{newcomer}?lang={lang}")
    assert 'value="ACCEPT"' in offered.text
    await Invitation.filter(email_normalised="next@example.com").update(offer_expires_at=later(seconds=-1))
    page = await http.get(f"/invitations/{newcomer}?lang={lang}")
    assert _text(t["offer_lapsed"]) in page.text
    assert 'value="ACCEPT"' not in page.text and 'value="DECLINE"' not in page.text
    late = await http.post(
        f"/invitations/{newcomer}", data={"csrf": _csrf(offered), "lang": lang, "response": "ACCEPT"}
    )
    assert late.status_code == 409 and _text(t["result_offer_lapsed"]) in late.text
