"""The invitation page's line about an experience report (exchange.web.report_page): nothing
until the exchange is completed or for an invitee who holds no place in it; then a link to
write one, or to the one written through this link with its status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from exchange.models import Exchange, Invitation, Session
from exchange.reports import participant_of, report_of_invitation
from exchange.schedule import schedule_of
from exchange.web.report_texts import TEXTS


def report_url(token: str, lang: str) -> str:
    return f"/invitations/{token}/report?lang={lang}"


async def report_link(
    invitation: Invitation, exchange: Exchange, token: str, lang: str, now: datetime | None = None
) -> dict[str, Any] | None:
    if await participant_of(invitation, now) is None:
        return None
    if not schedule_of(exchange, await Session.filter(exchange_id=exchange.id)).is_completed(now):
        return None
    t = TEXTS[lang]
    report = await report_of_invitation(invitation.id)
    return {
        "url": report_url(token, lang),
        "text": t["link_own"] if report is not None else t["link_write"],
        "hint": t[f"status_{report.status.value}"] if report is not None else t["link_hint"],
    }
