"""The privacy notice in the invitation mail (#13): in the mail's language, a short paragraph
saying what the organiser gave, who sees it and where to ask for a copy or deletion, with a
link to the whole notice on the invitation page (its "privacy" section, in the same
language)."""

from __future__ import annotations

import html as html_lib
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from exchange.mail.outbox import enqueue
from exchange.mail.render import render
from exchange.models import MailKind
from exchange.notice import ANCHOR, NOTICE
from exchange.settings import Settings
from tests.mail.conftest import PUBLIC_URL, mail_settings, make_invitation, make_world

PRIVACY_CONTACT = "privacy@exchange.test"
NOTICE_LINK = re.compile(re.escape(PUBLIC_URL) + r"/invitations/[^\s\"<>]+#" + ANCHOR)
HOSTS = {"kk": "Арал қоры", "ru": "Фонд «Арал»", "en": "Aral Foundation"}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # The app fixture serves the page on the same database and secret key as the mail.
    return mail_settings(database_url, tmp_path, None, privacy_contact=PRIVACY_CONTACT)


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


async def _mail(
    settings: Settings, locale: str, kind: MailKind = MailKind.INVITATION, **world: Any
) -> EmailMessage:
    host, exchange, sessions = await make_world(**world)
    invitation = await make_invitation(exchange, host, settings, locale=locale, sessions=sessions)
    return await render(await enqueue(kind, invitation, settings=settings), settings)


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
async def test_the_mail_carries_the_notice_and_links_to_it(
    app: Any, http: httpx.AsyncClient, settings: Settings, locale: str
) -> None:
    text, html = _parts(await _mail(settings, locale))
    words = NOTICE[locale]
    summary = words["mail"].format(organisation=HOSTS[locale])
    rights = words["mail_rights"].format(contact=PRIVACY_CONTACT)
    assert f"{words['heading']}\n{summary} {rights}\n" in text
    assert html_lib.escape(summary, quote=False) in html.replace("&#39;", "'").replace("&#34;", '"')
    assert f'<a href="mailto:{PRIVACY_CONTACT}" style="color:#0b6e4f;">{PRIVACY_CONTACT}</a>' in html

    [text_link] = NOTICE_LINK.findall(text)
    assert text.count(f"{words['mail_more']}: {text_link}") == 1
    [html_link] = {html_lib.unescape(link) for link in NOTICE_LINK.findall(html)}
    assert html_link == text_link
    assert parse_qs(urlsplit(text_link).query)["lang"] == [locale]

    # The link opens the page's notice, in the mail's language.
    page = await http.get(text_link.removeprefix(PUBLIC_URL).split("#")[0])
    assert page.status_code == 200 and f'<html lang="{locale}">' in page.text
    assert f'<section id="{ANCHOR}"' in page.text and words["heading"] in page.text
    assert f"mailto:{PRIVACY_CONTACT}" in page.text


@pytest.mark.parametrize("kind", [MailKind.RESEND, MailKind.REMINDER])
async def test_every_mail_asking_for_an_answer_carries_it(
    database: str, tmp_path: Path, kind: MailKind
) -> None:
    settings = mail_settings(database, tmp_path, None)
    text, html = _parts(await _mail(settings, "ru", kind))
    assert NOTICE["ru"]["mail"].format(organisation=HOSTS["ru"]) in text
    assert len(NOTICE_LINK.findall(text)) == 1 and len(NOTICE_LINK.findall(html)) == 1


async def test_without_a_privacy_contact_the_organisers_address_or_name(
    database: str, tmp_path: Path
) -> None:
    settings = mail_settings(database, tmp_path, None)  # no EXCHANGE_PRIVACY_CONTACT
    text, html = _parts(await _mail(settings, "en"))
    assert NOTICE["en"]["mail_rights"].format(contact="hello@aral-fund.kz") in text
    assert 'href="mailto:hello@aral-fund.kz"' in html

    text, html = _parts(await _mail(settings, "kk", slug="balkhash", contact_email=None))
    assert NOTICE["kk"]["mail_rights_no_contact"].format(organisation=HOSTS["kk"]) in text
    assert "mailto:" not in html


async def test_the_notice_escapes_what_organisers_typed(database: str, tmp_path: Path) -> None:
    settings = mail_settings(database, tmp_path, None, privacy_contact=PRIVACY_CONTACT)
    names = {"en": 'Aral <b onmouseover="x()">Fund</b>'}
    _text, html = _parts(await _mail(settings, "en", host_names=names))
    box = html[html.index(NOTICE["en"]["heading"]) :]
    assert "<b onmouseover" not in box
    assert "the organiser (Aral &lt;b onmouseover=&#34;x()&#34;&gt;Fund&lt;/b&gt;) gave us" in box


@pytest.mark.parametrize("kind", [MailKind.UPDATE, MailKind.CANCELLATION])
async def test_mails_that_ask_nothing_leave_it_out(database: str, tmp_path: Path, kind: MailKind) -> None:
    # Schedule changes and cancellations go to people who have answered: the notice came with
    # the invitation they answered.
    settings = mail_settings(database, tmp_path, None, privacy_contact=PRIVACY_CONTACT)
    text, html = _parts(await _mail(settings, "en", kind))
    assert NOTICE["en"]["heading"] not in text and NOTICE["en"]["heading"] not in html
    assert not NOTICE_LINK.search(text)
