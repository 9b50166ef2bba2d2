"""The HTML mail on a phone: a long unbreakable word (a URL in the organiser's note, a long
name or call link) wraps inside the card instead of widening the whole mail past the screen."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

from exchange.mail.outbox import enqueue
from exchange.mail.render import render
from exchange.models import MailKind
from tests.mail.conftest import mail_settings, make_invitation, make_world

LONG_URL = "https://docs.example.org/aral/" + "very-long-path-segment-" * 8 + "?utm_source=mail"


async def test_long_words_wrap_in_the_card_and_the_footer(sqlite_database: str, tmp_path: Path) -> None:
    settings = mail_settings(sqlite_database, tmp_path, None)
    host, exchange, sessions = await make_world()
    invitation = await make_invitation(
        exchange, host, settings, locale="ru", sessions=sessions[:1], message=f"Маршрут: {LONG_URL}"
    )
    message = await render(await enqueue(MailKind.INVITATION, invitation, settings=settings), settings)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    html = body.get_content()
    assert LONG_URL.replace("&", "&amp;") in html
    cells = re.findall(r'<td style="([^"]*)">', html)
    content = [style for style in cells if "font-size:16px" in style and "padding:28px" in style]
    footer = [style for style in cells if "border-top" in style]
    assert content and footer
    for style in content + footer:
        assert "overflow-wrap:anywhere" in style and "word-break:break-word" in style
