"""A participant's experience report, through their invitation link: /invitations/{token}/report.

The invitation page links here once the exchange is completed (exchange.web.report_link).
GET shows the form, or the report already written through this link with its status; it
never changes anything. The form is POSTed with the invitation page's double-submit CSRF
token (the same cookie, whose path covers this page, and the same HMAC bound to the
invitation); a sent report redirects to GET (303), so reloading does not send it twice.
The service (exchange.reports.submit_participant_report) decides; this page only words its
answers in kk, ru or en. No JavaScript; every value is escaped, and the report's Markdown is
shown as exchange.markdown's sanitized HTML.
"""

from __future__ import annotations

from typing import Any

from babel.dates import format_datetime
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from exchange.errors import DomainError
from exchange.i18n import UI_LOCALES, pick_text
from exchange.invitations.common import utcnow
from exchange.invitations.respond import find_by_token
from exchange.markdown import to_html
from exchange.models import Exchange, ExchangeStatus, ExperienceReport, Invitation, Session
from exchange.reports import NewReport, participant_of, report_of_invitation, submit_participant_report
from exchange.schedule import schedule_of
from exchange.settings import Settings
from exchange.validation import LocalizedText
from exchange.web import invitation_page
from exchange.web.pages import (
    SECURITY_HEADERS,
    choose_language,
    csrf_for,
    form_csrf_ok,
    form_language,
    html_response,
    set_csrf_cookie,
    stylesheet_route,
    templates,
)
from exchange.web.report_link import report_url
from exchange.web.report_texts import TEXTS
from exchange.web.texts import LANGUAGE_NAMES
from exchange.web.texts import TEXTS as PAGE_TEXTS

# Form fields, and which of them each field of the service's input is shown at.
FIELDS = ("language", "title", "body", "what_worked", "what_to_change", "photos")
_PROBLEM_FIELDS = {
    "titles": ("title", "error_titles"),
    "bodies": ("body", "error_bodies"),
    "whatWorked": ("what_worked", "error_lessons"),
    "whatToChange": ("what_to_change", "error_lessons"),
    "photos": ("photos", "error_photos"),
}


def _words(lang: str) -> dict[str, str]:
    # base.html names the language switch with the invitation page's word.
    return {"language": PAGE_TEXTS[lang]["language"], **TEXTS[lang]}


def _form_values(form: FormData | None, lang: str) -> dict[str, str]:
    values = {name: "" for name in FIELDS}
    values["language"] = lang
    if form is not None:
        for name in FIELDS:
            value = form.get(name)
            if isinstance(value, str):
                values[name] = value
    return values


def _new_report(values: dict[str, str]) -> NewReport:
    language = values["language"]

    def text(name: str) -> list[LocalizedText] | None:
        written = values[name].strip()
        return [LocalizedText(language, written)] if written else None

    return NewReport(
        titles=text("title") or [],
        bodies=text("body") or [],
        what_worked=text("what_worked"),
        what_to_change=text("what_to_change"),
        photos=[line.strip() for line in values["photos"].splitlines() if line.strip()],
    )


def _shown(report: ExperienceReport, lang: str, t: dict[str, str]) -> dict[str, Any]:
    """The report as its author sees it: in the page's language where written in it."""
    preferred = [lang]
    worked = pick_text(report.what_worked, preferred)
    change = pick_text(report.what_to_change, preferred)
    return {
        "title": pick_text(report.titles, preferred) or "",
        "language": next(
            (code for code in preferred if code in report.bodies), next(iter(report.bodies), lang)
        ),
        # Sanitized by exchange.markdown: safe to insert as markup.
        "body_html": Markup(to_html(pick_text(report.bodies, preferred) or "")),  # noqa: S704
        "worked_html": Markup(to_html(worked)) if worked else None,  # noqa: S704
        "change_html": Markup(to_html(change)) if change else None,  # noqa: S704
        "photos": report.photos,
        "status": report.status.value,
        "status_label": t[f"status_{report.status.value}"],
        "note": report.moderation_note,
    }


async def _render(
    request: Request,
    settings: Settings,
    invitation: Invitation,
    token: str,
    lang: str,
    *,
    form: FormData | None = None,
    errors: dict[str, str] | None = None,
    result: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    t = _words(lang)
    now = utcnow()
    exchange = await Exchange.get(id=invitation.exchange_id)
    schedule = schedule_of(exchange, await Session.filter(exchange_id=exchange.id))
    title = pick_text(exchange.titles, [lang]) or exchange.slug
    report = await report_of_invitation(invitation.id)
    message = None
    if report is not None:
        state = "report"
    elif await participant_of(invitation, now) is None:
        state, message = "closed", t["not_participant"]
    elif exchange.status is ExchangeStatus.CANCELLED:
        state, message = "closed", t["cancelled"]
    elif not schedule.is_completed(now):
        ends = format_datetime(schedule.ends_at, "long", tzinfo=schedule.time_zone, locale=lang)
        state, message = "closed", t["not_yet"].format(date=ends)
    else:
        state = "form"
    csrf = csrf_for(request, settings, invitation)
    body = templates.get_template("report.html").render(
        lang=lang,
        t=t,
        languages=LANGUAGE_NAMES,
        report_languages={code: LANGUAGE_NAMES[code] for code in UI_LOCALES},
        switch_url=f"/invitations/{token}/report",
        switch_extra="",
        action=f"/invitations/{token}/report",
        back_url=f"/invitations/{token}?lang={lang}",
        csrf=csrf,
        title=title,
        intro=t["intro"].format(title=title),
        state=state,
        message=message,
        report=_shown(report, lang, t) if report is not None else None,
        values=_form_values(form, lang),
        errors=errors or {},
        result=result,
        result_text=t[result] if result else None,
    )
    response = html_response(body, status_code)
    # The invitation page's cookie, set here too for a reader who comes straight to this page.
    set_csrf_cookie(response, request, settings, token, csrf)
    return response


def _errors(error: DomainError, t: dict[str, str]) -> dict[str, str]:
    """The page's words for the input's problems, one per form field (None: not the form's)."""
    shown: dict[str, str] = {}
    for problem in error.problems:
        place = _PROBLEM_FIELDS.get((problem.field or ("",))[0])
        if place is not None:
            shown.setdefault(place[0], t[place[1]])
    return shown


def routes(settings: Settings) -> list[Route]:
    async def show(request: Request) -> Response:
        token = request.path_params["token"]
        invitation = await find_by_token(token)
        if invitation is None:
            return invitation_page._not_found(
                choose_language(request, request.query_params.get("lang"), "en")
            )
        lang = choose_language(request, request.query_params.get("lang"), invitation.locale)
        sent = request.query_params.get("sent") == "1"
        return await _render(request, settings, invitation, token, lang, result="sent" if sent else None)

    async def send(request: Request) -> Response:
        token = request.path_params["token"]
        form = await request.form()
        invitation = await find_by_token(token)
        if invitation is None:
            return invitation_page._not_found(form_language(request, form, "en"))
        lang = form_language(request, form, invitation.locale)
        if not form_csrf_ok(request, form, settings, invitation):
            return await _render(
                request, settings, invitation, token, lang, form=form, result="csrf", status_code=403
            )
        values = _form_values(form, lang)
        if values["language"] not in UI_LOCALES:
            errors = {"language": _words(lang)["error_language"]}
            return await _render(
                request, settings, invitation, token, lang, form=form, errors=errors, status_code=400
            )
        try:
            await submit_participant_report(token, _new_report(values))
        except DomainError as error:
            errors = _errors(error, _words(lang))
            # Not the form's problem (not completed, no place, written already): the page
            # says what the state is.
            return await _render(
                request,
                settings,
                invitation,
                token,
                lang,
                form=form,
                errors=errors,
                status_code=400 if errors else 409,
            )
        response = RedirectResponse(f"{report_url(token, lang)}&sent=1", status_code=303)
        response.headers.update(SECURITY_HEADERS)
        return response

    return [
        stylesheet_route("report.css"),
        Route("/invitations/{token}/report", show, methods=["GET"]),
        Route("/invitations/{token}/report", send, methods=["POST"]),
    ]
