"""The participant's report page, through HTTP: linked from the invitation page once the
exchange is completed, a form in kk, ru and en protected by the invitation page's CSRF token,
errors worded on the page, one report per link, and the report shown back sanitized."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from exchange.models import ExperienceReport, ReportAuthorKind, ReportStatus
from exchange.web.pages import CSRF_COOKIE
from schema.api.relay import encode_id
from tests.conftest import GraphQLClient
from tests.reports_world import MODERATE, ReportsWorld, build_world, make_participant

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def world(app: Any, settings: Any, admin_key: str) -> ReportsWorld:
    return await build_world(settings, admin_key)


def _csrf(page: httpx.Response) -> str:
    match = CSRF_FIELD.search(page.text)
    assert match, page.text
    return match.group(1)


@pytest.mark.parametrize(
    ("lang", "link", "label", "submit"),
    [
        ("kk", "Тәжірибеңіз туралы есеп жазыңыз", "Есептің тілі", "Есепті жіберу"),
        ("ru", "Напишите отчёт о своём опыте", "Язык отчёта", "Отправить отчёт"),
        ("en", "Write a report about your experience", "Language of your report", "Send the report"),
    ],
)
async def test_the_invitation_page_links_the_form_in_each_language(
    http: httpx.AsyncClient, world: ReportsWorld, lang: str, link: str, label: str, submit: str
) -> None:
    token = world.participants[0].token
    page = await http.get(f"/invitations/{token}?lang={lang}")
    assert page.status_code == 200
    assert f'href="/invitations/{token}/report?lang={lang}"' in page.text
    assert link in page.text
    form = await http.get(f"/invitations/{token}/report?lang={lang}")
    assert form.status_code == 200
    assert f'<html lang="{lang}">' in form.text
    assert label in form.text and submit in form.text
    assert 'name="body"' in form.text and 'name="photos"' in form.text
    assert form.headers["content-security-policy"].startswith("default-src 'self'")
    assert form.headers["referrer-policy"] == "no-referrer"
    assert "samesite=strict" in form.headers["set-cookie"].lower()
    assert not await ExperienceReport.exists()  # GET changes nothing


async def test_no_link_before_completion_or_without_a_place(
    http: httpx.AsyncClient, world: ReportsWorld
) -> None:
    running = await make_participant(world, world.running, "Runner Rita")
    page = await http.get(f"/invitations/{running.token}?lang=en")
    assert "/report" not in page.text
    form = await http.get(f"/invitations/{running.token}/report?lang=en")
    assert "You can write a report once the exchange is over: it ends " in form.text
    assert 'name="body"' not in form.text
    assert world.unanswered is not None
    unanswered = await http.get(f"/invitations/{world.unanswered.token}?lang=ru")
    assert "/report" not in unanswered.text
    refused = await http.get(f"/invitations/{world.unanswered.token}/report?lang=ru")
    assert "Отчёт могут написать только участники обмена." in refused.text
    unknown = await http.get(f"/invitations/{'x' * 43}/report")
    assert unknown.status_code == 404


async def test_sending_the_form_writes_one_report(
    http: httpx.AsyncClient, gql: GraphQLClient, world: ReportsWorld
) -> None:
    person = world.participants[0]
    url = f"/invitations/{person.token}/report"
    csrf = _csrf(await http.get(f"{url}?lang=kk"))
    sent = await http.post(
        url,
        data={
            "csrf": csrf,
            "lang": "kk",
            "language": "kk",
            "title": "Сексеуіл отырғыздық",
            "body": "Біз **сексеуіл** ектік. <script>alert(1)</script>",
            "what_worked": "Ерте бастадық.",
            "what_to_change": "",
            "photos": "https://photos.example.org/aral/1.jpg\n\n  https://photos.example.org/aral/2.jpg  ",
        },
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{url}?lang=kk&sent=1"
    report = await ExperienceReport.get()
    assert report.author_kind is ReportAuthorKind.PARTICIPANT and report.status is ReportStatus.SUBMITTED
    assert report.author_volunteer_id == person.volunteer.id
    assert report.titles == {"kk": "Сексеуіл отырғыздық"}
    assert report.what_to_change == {}
    assert report.photos == ["https://photos.example.org/aral/1.jpg", "https://photos.example.org/aral/2.jpg"]

    shown = await http.get(sent.headers["location"])
    assert "Рахмет! Есебіңіз жіберілді." in shown.text
    assert "Ұйымдастырушының тексеруін күтуде" in shown.text
    assert "<strong>сексеуіл</strong>" in shown.text
    assert "<script>" not in shown.text and "&lt;script&gt;" in shown.text
    assert 'name="body"' not in shown.text  # written: no second form
    again = await http.post(
        url, data={"csrf": csrf, "lang": "kk", "language": "kk", "title": "x", "body": "y"}
    )
    assert again.status_code == 409
    assert await ExperienceReport.all().count() == 1

    # The invitation page now says where the report stands; the host's note reaches the author.
    await gql(
        MODERATE,
        {
            "id": encode_id("ExperienceReport", report.id),
            "decision": "REJECT",
            "note": "Please leave out the children's names.",
        },
        key=world.host_key,
    )
    page = await http.get(f"/invitations/{person.token}?lang=en")
    assert "Your report" in page.text and "Not published" in page.text
    mine = await http.get(f"{url}?lang=en")
    assert "Please leave out the children&#39;s names." in mine.text


async def test_errors_are_worded_on_the_page_and_keep_what_was_typed(
    http: httpx.AsyncClient, world: ReportsWorld
) -> None:
    url = f"/invitations/{world.participants[1].token}/report"
    csrf = _csrf(await http.get(f"{url}?lang=ru"))
    refused = await http.post(
        url,
        data={
            "csrf": csrf,
            "lang": "ru",
            "language": "ru",
            "title": "",
            "body": "Текст <b>остаётся</b>",
            "photos": "http://insecure.example/a.jpg",
        },
    )
    assert refused.status_code == 400
    assert "Проверьте отчёт:" in refused.text
    assert "Напишите заголовок (до 300 знаков)." in refused.text
    assert "По одной ссылке https:// в строке, не более 10." in refused.text
    assert "Текст &lt;b&gt;остаётся&lt;/b&gt;</textarea>" in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert not await ExperienceReport.exists()
    language = await http.post(
        url, data={"csrf": csrf, "lang": "ru", "language": "xx", "title": "a", "body": "b"}
    )
    assert language.status_code == 400 and "Выберите язык." in language.text


async def test_the_form_needs_the_pages_csrf_token(http: httpx.AsyncClient, world: ReportsWorld) -> None:
    url = f"/invitations/{world.participants[0].token}/report"
    data = {"lang": "en", "language": "en", "title": "T", "body": "B"}
    missing = await http.post(url, data={**data, "csrf": ""})
    assert missing.status_code == 403 and "The page is out of date." in missing.text
    # Another invitation's token does not fit this link.
    other_csrf = _csrf(await http.get(f"/invitations/{world.participants[1].token}/report"))
    http.cookies.set(CSRF_COOKIE, other_csrf, path=f"/invitations/{world.participants[0].token}")
    forged = await http.post(url, data={**data, "csrf": other_csrf})
    assert forged.status_code == 403
    assert not await ExperienceReport.exists()
