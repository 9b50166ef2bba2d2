"""The mail as the invitee meets it: its links open the invitation page in the mail's
language whatever the browser prefers (the page's language switch still works), its
buttons carry the page's own words, and its text parts are quoted-printable, so a `.eml`
file reads with `cat`."""

from __future__ import annotations

import html as html_lib
import os
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from exchange.mail.dispatcher import Dispatcher
from exchange.mail.outbox import enqueue
from exchange.mail.render import render
from exchange.models import MailKind
from exchange.settings import Settings
from tests.mail.conftest import PUBLIC_URL, RecordingBus, mail_settings, make_invitation, make_world

PAGE_LINK = re.compile(re.escape(PUBLIC_URL) + r"/invitations/[^\s\"<>]+")
# The page's own words for each language, as a volunteer reads them on it.
PAGE_WORDS = {
    "kk": ("Қабылдаймын", "Бас тартамын", "Қатысуыңызды растау үшін «Қабылдаймын» батырмасын басыңыз."),
    "ru": ("Принимаю", "Отказываюсь", "Чтобы подтвердить участие, нажмите «Принимаю»."),
    "en": ("Accept", "Decline", "To confirm your place, press “Accept”."),
}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # The app fixture serves the page on the same database and secret key as the mail.
    return mail_settings(database_url, tmp_path, None)


async def _mail(settings: Settings, locale: str, kind: MailKind = MailKind.INVITATION) -> EmailMessage:
    host, exchange, sessions = await make_world()
    invitation = await make_invitation(exchange, host, settings, locale=locale, sessions=sessions)
    return await render(await enqueue(kind, invitation, settings=settings), settings)


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    # SMTP carries CRLF line ends; the tests read lines as written.
    return text.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


def _page_buttons(page: str) -> tuple[str, str]:
    accept = re.search(r'<button type="submit" name="response" value="ACCEPT"[^>]*>([^<]+)</button>', page)
    decline = re.search(r'<button type="submit" name="response" value="DECLINE"[^>]*>([^<]+)</button>', page)
    assert accept and decline, page
    return accept.group(1), decline.group(1)


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
async def test_every_link_opens_the_page_in_the_mails_language(
    app: Any, http: httpx.AsyncClient, settings: Settings, locale: str
) -> None:
    message = await _mail(settings, locale)
    text, html = _parts(message)
    links = PAGE_LINK.findall(text) + [html_lib.unescape(link) for link in PAGE_LINK.findall(html)]
    assert len(links) >= 6  # page, accept and decline, in each part
    for link in links:
        assert parse_qs(urlsplit(link).query)["lang"] == [locale], link
    # The calendar file has no page link to carry a language (the token must not travel there).
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            assert "/invitations/" not in part.get_content()

    other = "en" if locale != "en" else "kk"
    [accept_link] = {link for link in links if "response=accept" in link}
    page = await http.get(accept_link.removeprefix(PUBLIC_URL), headers={"Accept-Language": other})
    assert page.status_code == 200
    assert f'<html lang="{locale}">' in page.text
    assert _page_buttons(page.text)[0] == PAGE_WORDS[locale][0]
    assert PAGE_WORDS[locale][2] in page.text  # asks to confirm the answer chosen in the mail

    # The language switch still works, and keeps the answer being confirmed.
    switch = re.search(rf'<a href="([^"]+)" lang="{other}" hreflang="{other}">', page.text)
    assert switch, page.text
    switched = await http.get(html_lib.unescape(switch.group(1)), headers={"Accept-Language": locale})
    assert f'<html lang="{other}">' in switched.text
    assert PAGE_WORDS[other][2] in switched.text


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
async def test_the_mail_names_the_answers_with_the_pages_words(
    app: Any, http: httpx.AsyncClient, settings: Settings, locale: str
) -> None:
    text, html = _parts(await _mail(settings, locale))
    # The page itself (the notice's link adds #privacy to it).
    [page_link] = {link for link in PAGE_LINK.findall(text) if "response=" not in link and "#" not in link}
    page_accept, page_decline = _page_buttons((await http.get(page_link.removeprefix(PUBLIC_URL))).text)
    assert (page_accept, page_decline) == PAGE_WORDS[locale][:2]

    mail_buttons = dict(re.findall(r'<a href="[^"]*response=(accept|decline)"[^>]*>([^<]+)</a>', html))
    assert mail_buttons == {"accept": page_accept, "decline": page_decline}
    text_labels = dict(
        (answer, label) for label, answer in re.findall(r"^(.+): \S+response=(accept|decline)$", text, re.M)
    )
    assert text_labels == {"accept": page_accept, "decline": page_decline}


async def test_eml_text_parts_are_quoted_printable_and_read_with_cat(
    database: str, tmp_path: Path, bus: RecordingBus
) -> None:
    settings = mail_settings(database, tmp_path, None)
    host, exchange, sessions = await make_world()
    note = "From the organiser: bring a hat = sun & water.\nСу ала келіңіз!"
    invitation = await make_invitation(
        exchange, host, settings, locale="en", full_name="Aigerim Sadykova", sessions=sessions, message=note
    )
    await enqueue(MailKind.INVITATION, invitation, settings=settings)
    assert await Dispatcher(settings).run_once() == 1
    [eml] = os.listdir(settings.mail_dir)
    raw = (Path(settings.mail_dir) / eml).read_bytes()

    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    encodings = {
        part.get_content_type(): part["Content-Transfer-Encoding"]
        for part in message.walk()
        if not part.is_multipart()
    }
    assert encodings["text/plain"] == encodings["text/html"] == "quoted-printable"
    # What `cat` shows: the words as written, not base64.
    assert b"Dear Aigerim Sadykova," in raw
    assert b"Planting saxaul together by the Aral Sea." in raw
    assert b"Aral Sea Week" in raw
    assert raw.isascii()
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            encoded = part.get_payload()
            assert isinstance(encoded, str)
            assert max(len(line) for line in encoded.splitlines()) <= 76  # RFC 2045's limit
    # A line starting "From " would become ">From " in an mbox; it is encoded instead.
    assert b"\r\n=46rom the organiser: bring a hat =3D sun & water." in raw
    text, html = _parts(message)
    assert note in text
    assert "From the organiser: bring a hat = sun &amp; water." in html
