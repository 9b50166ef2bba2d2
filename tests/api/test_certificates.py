"""Certificates of participation (#16) through HTTP on SQLite and PostgreSQL: issueCertificate
and its refusals, Participation.certificate per viewer, the verification page and the PDF
(parsed back in kk, ru and en), unknown and forged codes, revocation and reissue when the
participation changes, the code never stored, the mail with the PDF, automatic issuing, and
erasure."""

from __future__ import annotations

import datetime as dt
import io
import os
import secrets
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import pypdf
import pytest
from tortoise import Tortoise

from exchange import access, privacy
from exchange.certificates import codes
from exchange.db import APP_LABEL
from exchange.mail.dispatcher import Dispatcher
from exchange.middleware import redact_path
from exchange.models import (
    ApiKeyRole,
    Certificate,
    CertificateStatus,
    Exchange,
    ExchangeStatus,
    MailKind,
    MailStatus,
    OutboxMail,
    Participation,
    ParticipationStatus,
    Session,
    SessionFormat,
    Volunteer,
)
from exchange.settings import DEVELOPMENT_SECRET, Settings
from schema.api.relay import encode_id
from tests.api.exchange_fixtures import gid, make_exchange, make_volunteer
from tests.conftest import GraphQLClient, make_key, make_organisation

KAZAKH_LETTERS = "әғқңөұүһі"
NAME = "Әлия Ғұмарқызы Үмбетова"
EMAIL = "aliya.umbetova@example.org"
TITLES = {
    "kk": "Арал аптасы: сексеуіл көшеттері һәм теңіз түбі",
    "ru": "Аральская неделя: саксаул на дне моря",
    "en": "Aral week: saxaul on the sea bed",
}
HOST_NAMES = {"kk": "Арал экология орталығы", "ru": "Аральский экоцентр", "en": "Aral Ecology Centre"}
SESSION_TITLES = {"kk": "Көшет отырғызу", "ru": "Посадка саженцев", "en": "Planting seedlings"}

ISSUE = """
mutation($id: ID!) {
  issueCertificate(participationId: $id) {
    participation { id certificate { status issuedAt revokedAt language verificationUrl } }
    userErrors { field message code }
  }
}
"""
CERTIFICATE = """
query($id: ID!) {
  node(id: $id) { ... on Participation { certificate { status language verificationUrl } } }
}
"""


@dataclass
class World:
    keys: dict[str, str | None]
    exchange: Exchange
    sessions: list[Session]
    volunteer: Volunteer
    participation: Participation
    future: Exchange


async def _attended(
    volunteer: Volunteer, exchange: Exchange, hours: float | None, sessions: list[Session]
) -> Participation:
    return await Participation.create(
        volunteer=volunteer,
        exchange=exchange,
        status=ParticipationStatus.ATTENDED,
        hours=hours,
        attended_session_ids=[s.id for s in sessions],
    )


@pytest.fixture
async def world(app: Any, admin_key: str) -> World:
    host = await make_organisation("aral-eco", names=HOST_NAMES)
    partner = await make_organisation("un-volunteers", names={"en": "UN Volunteers"})
    sender = await make_organisation("tashkent-youth", names={"ru": "Молодёжь Ташкента"}, country="UZ")
    other = await make_organisation("nukus-ngo")
    now = dt.datetime.now(dt.UTC)
    # Ended ten days ago (not marked COMPLETED: completed by exchange.schedule's clock rule).
    exchange = await make_exchange(
        "aral-week",
        host,
        partners=[partner],
        titles=TITLES,
        status=ExchangeStatus.CLOSED,
        starts_on=(now - dt.timedelta(days=12)).date(),
        ends_on=(now - dt.timedelta(days=10)).date(),
        time_zone="Asia/Qyzylorda",
        city="Aralsk",
    )
    sessions = [
        await Session.create(
            exchange=exchange,
            titles=SESSION_TITLES,
            starts_at=now - dt.timedelta(days=12, hours=6),
            ends_at=now - dt.timedelta(days=12, hours=2),
            format=SessionFormat.IN_PERSON,
        ),
        await Session.create(
            exchange=exchange,
            titles={"en": "Closing meeting"},
            starts_at=now - dt.timedelta(days=10, hours=5),
            ends_at=now - dt.timedelta(days=10, hours=3),
            format=SessionFormat.IN_PERSON,
        ),
    ]
    volunteer = await make_volunteer(NAME, email=EMAIL, organisation=sender, languages=["kk", "ru"])
    future = await make_exchange("aral-2027", host, time_zone="Asia/Qyzylorda")
    return World(
        keys={
            "host": await make_key(host),
            "partner": await make_key(partner),
            "sender": await make_key(sender),
            "other": await make_key(other),
            "read_only": await make_key(host, ApiKeyRole.READ_ONLY),
            "admin": admin_key,
            "anonymous": None,
        },
        exchange=exchange,
        sessions=sessions,
        volunteer=volunteer,
        participation=await _attended(volunteer, exchange, 7.5, sessions),
        future=future,
    )


async def _issue(
    gql: GraphQLClient, world: World, participation: Participation, key: str = "host"
) -> dict[str, Any]:
    return await gql(ISSUE, {"id": gid(participation)}, key=world.keys[key])


def _code_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


async def _stored_text() -> str:
    """Every row of every table, as text: where a stored code would show."""
    rows = []
    for model in Tortoise.apps[APP_LABEL].values():
        rows += [str(row) for row in await model.all().values()]
    return "\n".join(rows)


# ---------------------------------------------------------------- issuing


async def test_issue_refusals_say_why(gql: GraphQLClient, world: World) -> None:
    confirmed_volunteer = await make_volunteer("Confirmed Only")
    confirmed = await Participation.create(
        volunteer=confirmed_volunteer, exchange=world.exchange, status=ParticipationStatus.CONFIRMED
    )
    no_hours = await _attended(await make_volunteer("No Hours"), world.exchange, None, [])
    not_completed = await _attended(await make_volunteer("Too Early"), world.future, 4.0, [])

    cases = [
        (confirmed, "Only an ATTENDED participation is certified; this one is CONFIRMED"),
        (no_hours, "No hours are recorded"),
        (not_completed, "The exchange is not completed yet"),
    ]
    for participation, message in cases:
        answer = (await _issue(gql, world, participation))["data"]["issueCertificate"]
        assert answer["participation"] is None
        [error] = answer["userErrors"]
        assert error["code"] == "INVALID" and error["field"] == ["participationId"]
        assert message in error["message"]
    assert not await Certificate.exists()

    # Not the host: partners read the roster, they do not certify; read-only and anonymous neither.
    for key, code in (("partner", "FORBIDDEN"), ("read_only", "FORBIDDEN"), ("anonymous", "UNAUTHENTICATED")):
        answer = await _issue(gql, world, world.participation, key)
        assert answer["errors"][0]["extensions"]["code"] == code, key
    # An organisation that cannot see the participation learns nothing of it.
    answer = (await _issue(gql, world, world.participation, "other"))["data"]["issueCertificate"]
    assert answer["userErrors"][0]["code"] == "NOT_FOUND"
    assert not await Certificate.exists()

    issued = (await _issue(gql, world, world.participation))["data"]["issueCertificate"]
    assert issued["userErrors"] == []
    again = (await _issue(gql, world, world.participation, "admin"))["data"]["issueCertificate"]
    assert again["userErrors"][0]["code"] == "CONFLICT"
    assert await Certificate.filter(status=CertificateStatus.VALID).count() == 1


async def test_issued_certificate_is_verified_by_its_code(
    gql: GraphQLClient, http: httpx.AsyncClient, world: World
) -> None:
    answer = (await _issue(gql, world, world.participation))["data"]["issueCertificate"]
    certificate = answer["participation"]["certificate"]
    assert certificate["status"] == "VALID" and certificate["language"] == "kk"
    url = certificate["verificationUrl"]
    assert url.startswith("https://exchange.test/certificates/")
    code = _code_of(url)
    assert len(codes.normalised(code) or "") == 24 and code.count("-") == 5  # 120 bits, six groups

    page = await http.get(f"/certificates/{code}")
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer" and "no-store" in page.headers["cache-control"]
    text = page.text
    assert 'lang="kk"' in text and "Жарамды" in text  # the volunteer's language by default
    for fact in (NAME, TITLES["kk"], HOST_NAMES["kk"], "UN Volunteers", "7,5", SESSION_TITLES["kk"], code):
        assert fact in text, fact
    assert EMAIL not in text
    english = await http.get(f"/certificates/{code}?lang=en")
    assert "Valid." in english.text and TITLES["en"] in english.text and "7.5" in english.text
    russian = await http.get(f"/certificates/{code}", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert "Действителен" in russian.text and TITLES["ru"] in russian.text
    # Typed from paper: any case, spaces instead of dashes.
    typed = await http.get(f"/certificates/{code.lower().replace('-', ' ')}")
    assert typed.status_code == 200 and NAME in typed.text

    # Who sees the address with the code: the host, an admin, the volunteer's sending organisation.
    for key, sees_url in (("host", True), ("admin", True), ("sender", True), ("partner", False)):
        read = await gql(CERTIFICATE, {"id": gid(world.participation)}, key=world.keys[key])
        shown = read["data"]["node"]["certificate"]
        assert shown["status"] == "VALID", key
        assert (shown["verificationUrl"] == url) if sees_url else shown["verificationUrl"] is None, key

    # The code is stored nowhere, in no form a reader could use: only its SHA-256.
    stored = await _stored_text()
    plain = codes.normalised(code)
    assert plain is not None
    assert plain not in stored and code not in stored and plain.lower() not in stored
    row = await Certificate.get()
    assert row.code_hash == codes.code_hash(plain)


async def test_replayed_issue_does_not_store_the_address(gql: GraphQLClient, world: World) -> None:
    headers = {"Idempotency-Key": "issue-certificate-1"}
    first = await gql(ISSUE, {"id": gid(world.participation)}, key=world.keys["host"], headers=headers)
    url = first["data"]["issueCertificate"]["participation"]["certificate"]["verificationUrl"]
    replay = await gql(ISSUE, {"id": gid(world.participation)}, key=world.keys["host"], headers=headers)
    assert replay["data"]["issueCertificate"]["participation"]["certificate"]["verificationUrl"] is None
    assert replay["errors"][0]["extensions"]["code"] == "SECRET_NOT_REPLAYED"
    assert codes.normalised(_code_of(url)) not in await _stored_text()
    assert await Certificate.all().count() == 1


async def test_unknown_and_forged_codes_are_404(
    http: httpx.AsyncClient, gql: GraphQLClient, world: World
) -> None:
    answer = (await _issue(gql, world, world.participation))["data"]["issueCertificate"]
    code = _code_of(answer["participation"]["certificate"]["verificationUrl"])
    plain = codes.normalised(code)
    assert plain is not None
    forged = plain[:-1] + ("A" if plain[-1] != "A" else "B")
    made_up = codes.grouped(codes.code_for(secrets.token_hex(16), b"someone else's key"))
    for path in (
        f"/certificates/{codes.grouped(forged)}",
        f"/certificates/{made_up}",
        "/certificates/not-a-code",
        "/certificates/" + "A" * 25,
        f"/certificates/{codes.grouped(forged)}.pdf",
        "/certificates/%00.pdf",
    ):
        response = await http.get(path)
        assert response.status_code == 404, path
        assert NAME not in response.text
    assert "Unknown certificate" in (await http.get(f"/certificates/{made_up}?lang=en")).text


# ---------------------------------------------------------------- the PDF


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_pdf_reads_back_in_each_language(
    http: httpx.AsyncClient, gql: GraphQLClient, world: World, lang: str
) -> None:
    answer = (await _issue(gql, world, world.participation))["data"]["issueCertificate"]
    code = _code_of(answer["participation"]["certificate"]["verificationUrl"])
    response = await http.get(f"/certificates/{code}.pdf?lang={lang}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="certificate-{lang}.pdf"' in response.headers["content-disposition"]
    text = _pdf_text(response.content)
    words = {
        "kk": ("Қатысу сертификаты", "Еріктілік сағаттары", "7,5"),
        "ru": ("Сертификат участия", "Часы волонтёрской работы", "7,5"),
        "en": ("Certificate of participation", "Volunteer hours", "7.5"),
    }[lang]
    for expected in (*words, NAME, TITLES[lang], HOST_NAMES[lang], "UN Volunteers", SESSION_TITLES[lang]):
        assert expected in text, expected
    assert "Closing meeting" in text  # a session titled in English only
    assert code in text and f"https://exchange.test/certificates/{code}" in text
    assert "Asia/Qyzylorda" in text  # dates and times in the venue's zone, named
    if lang == "kk":
        assert all(letter in text for letter in KAZAKH_LETTERS), [c for c in KAZAKH_LETTERS if c not in text]
    assert "@" not in text and EMAIL not in text


# ---------------------------------------------------------------- changes


async def test_a_change_revokes_and_reissues(
    http: httpx.AsyncClient, gql: GraphQLClient, world: World
) -> None:
    answer = (await _issue(gql, world, world.participation))["data"]["issueCertificate"]
    old_code = _code_of(answer["participation"]["certificate"]["verificationUrl"])

    participation = await Participation.get(id=world.participation.id)
    participation.hours = 6.0
    await participation.save(update_fields=["hours"])

    read = await gql(CERTIFICATE, {"id": gid(world.participation)}, key=world.keys["host"])
    new_url = read["data"]["node"]["certificate"]["verificationUrl"]
    new_code = _code_of(new_url)
    assert new_code != old_code

    old_page = await http.get(f"/certificates/{old_code}?lang=en")
    assert old_page.status_code == 200
    assert "Revoked." in old_page.text and TITLES["en"] in old_page.text
    # Nothing personal on a revoked page, and no way to the replacement.
    for personal in (NAME, "Volunteer hours", SESSION_TITLES["en"], ".pdf", new_code, old_code + ".pdf"):
        assert personal not in old_page.text, personal
    assert (await http.get(f"/certificates/{old_code}.pdf")).status_code == 404
    assert read["data"]["node"]["certificate"]["language"] == "kk"
    new_page = await http.get(f"/certificates/{new_code}?lang=en")
    assert "Valid." in new_page.text and ">6<" in new_page.text.replace(" ", "")
    assert await Certificate.filter(participation_id=world.participation.id).count() == 2
    mails = await OutboxMail.filter(kind=MailKind.CERTIFICATE).order_by("id")
    assert len(mails) == 2 and all(m.recipient == EMAIL for m in mails)

    # The same facts saved again change nothing.
    await participation.save(update_fields=["hours"])
    assert await Certificate.filter(participation_id=world.participation.id).count() == 2

    # Sessions attended are certified too.
    participation.attended_session_ids = [world.sessions[0].id]
    await participation.save(update_fields=["attended_session_ids"])
    assert await Certificate.filter(participation_id=world.participation.id).count() == 3

    # No longer attended: revoked, nothing to reissue; the field shows the revoked one.
    participation.status = ParticipationStatus.CONFIRMED
    participation.hours = None
    await participation.save(update_fields=["status", "hours"])
    assert not await Certificate.filter(status=CertificateStatus.VALID).exists()
    read = await gql(CERTIFICATE, {"id": gid(world.participation)}, key=world.keys["host"])
    assert read["data"]["node"]["certificate"] == {
        "status": "REVOKED",
        "language": "kk",
        "verificationUrl": None,
    }


async def test_removing_the_participant_leaves_a_revoked_page(
    http: httpx.AsyncClient, gql: GraphQLClient, world: World
) -> None:
    answer = (await _issue(gql, world, world.participation))["data"]["issueCertificate"]
    code = _code_of(answer["participation"]["certificate"]["verificationUrl"])
    await (await Participation.get(id=world.participation.id)).delete()
    page = await http.get(f"/certificates/{code}?lang=en")
    assert page.status_code == 200 and "Revoked." in page.text and NAME not in page.text
    row = await Certificate.get()
    assert row.participation_id is None and row.status is CertificateStatus.REVOKED


async def test_automatic_issue_when_attendance_is_recorded(
    world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exchange.certificates import service

    volunteer = await make_volunteer("Automatic Attendee")
    participation = await Participation.create(
        volunteer=volunteer, exchange=world.exchange, status=ParticipationStatus.CONFIRMED
    )

    async def record(hours: float) -> None:
        participation.status = ParticipationStatus.ATTENDED
        participation.hours = hours
        participation.recorded_at = dt.datetime.now(dt.UTC)
        await participation.save(update_fields=["status", "hours", "recorded_at"])

    await record(3.0)  # the setting is off by default
    assert not await Certificate.filter(participation_id=participation.id).exists()

    monkeypatch.setattr(
        service, "get_settings", lambda: settings.model_copy(update={"certificates_automatic": True})
    )
    await record(3.5)
    [certificate] = await Certificate.filter(participation_id=participation.id)
    assert certificate.status is CertificateStatus.VALID and certificate.facts["hours"] == 3.5
    assert certificate.issued_by_id == world.exchange.host_id
    assert await OutboxMail.filter(kind=MailKind.CERTIFICATE, recipient=volunteer.email).count() == 1


# ---------------------------------------------------------------- the mail


async def test_certificate_mail_carries_the_pdf_in_the_volunteers_language(
    gql: GraphQLClient, world: World, settings: Settings
) -> None:
    answer = (await _issue(gql, world, world.participation))["data"]["issueCertificate"]
    code = _code_of(answer["participation"]["certificate"]["verificationUrl"])
    [mail] = await OutboxMail.filter(kind=MailKind.CERTIFICATE)
    assert mail.payload == {"certificate_id": (await Certificate.get()).id} and mail.invitation_id is None

    assert await Dispatcher(settings).run_once() == 1
    [eml] = [name for name in os.listdir(settings.mail_dir) if name.endswith(".eml")]
    message = BytesParser(policy=policy.default).parsebytes((Path(settings.mail_dir) / eml).read_bytes())
    assert message["Content-Language"] == "kk" and "Қатысу сертификатыңыз" in str(message["Subject"])
    body = message.get_body(("plain",))
    assert body is not None and code in body.get_content() and "Сәлеметсіз бе" in body.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    text = _pdf_text(attachment.get_payload(decode=True))
    assert NAME in text and code in text and EMAIL not in text
    assert (await OutboxMail.get(id=mail.id)).status is MailStatus.SENT


async def test_a_mail_queued_for_a_revoked_certificate_is_not_sent(world: World, settings: Settings) -> None:
    from exchange.certificates import service

    await service.issue(access.Actor(access.Role.ADMIN, key_id="key_admin"), world.participation.id, settings)
    participation = await Participation.get(id=world.participation.id)
    participation.hours = 5.0
    await participation.save(update_fields=["hours"])
    dispatcher = Dispatcher(settings)
    assert await dispatcher.run_once() == 2
    first, second = await OutboxMail.filter(kind=MailKind.CERTIFICATE).order_by("id")
    assert first.sent_at is None and "revoked" in (first.last_error or "")
    assert second.sent_at is not None


# ---------------------------------------------------------------- a change of the secret key

NEW_KEY = "n" * 40


def _rotate(settings: Settings, previous: list[str]) -> None:
    """The server restarted with a new EXCHANGE_SECRET_KEY (these tests issue under the
    development secret) and EXCHANGE_PREVIOUS_SECRET_KEYS=previous: the app and the mail read
    this settings object each time, so changing it in place is that restart."""
    settings.secret_key = NEW_KEY
    settings.previous_secret_keys = previous


def _sent_text(settings: Settings) -> str:
    [eml] = [name for name in os.listdir(settings.mail_dir) if name.endswith(".eml")]
    message = BytesParser(policy=policy.default).parsebytes((Path(settings.mail_dir) / eml).read_bytes())
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


async def test_with_the_old_key_listed_the_code_is_shown_and_mailed_as_issued(
    gql: GraphQLClient, http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    answer = (await _issue(gql, world, world.participation))["data"]["issueCertificate"]
    url = answer["participation"]["certificate"]["verificationUrl"]
    code = _code_of(url)

    _rotate(settings, [DEVELOPMENT_SECRET])
    read = await gql(CERTIFICATE, {"id": gid(world.participation)}, key=world.keys["host"])
    assert read["data"]["node"]["certificate"]["verificationUrl"] == url
    assert (await http.get(f"/certificates/{code}")).status_code == 200
    # The mail queued before the change goes out after it with the code as issued.
    assert await Dispatcher(settings).run_once() == 1
    assert (await OutboxMail.get(kind=MailKind.CERTIFICATE)).status is MailStatus.SENT
    assert code in _sent_text(settings)

    # A certificate issued now has a code made under the new key.
    second = await _attended(await make_volunteer("Second Attendee"), world.exchange, 3.0, world.sessions)
    issued = (await _issue(gql, world, second))["data"]["issueCertificate"]
    new_code = codes.normalised(_code_of(issued["participation"]["certificate"]["verificationUrl"]))
    row = await Certificate.get(participation_id=second.id)
    assert new_code == codes.code_for(row.code_nonce, NEW_KEY.encode())
    assert new_code != codes.code_for(row.code_nonce, DEVELOPMENT_SECRET.encode())


async def test_without_the_old_key_the_code_verifies_but_is_neither_shown_nor_mailed(
    gql: GraphQLClient, http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    answer = (await _issue(gql, world, world.participation))["data"]["issueCertificate"]
    code = _code_of(answer["participation"]["certificate"]["verificationUrl"])

    _rotate(settings, [])
    read = await gql(CERTIFICATE, {"id": gid(world.participation)}, key=world.keys["host"])
    shown = read["data"]["node"]["certificate"]
    assert shown["status"] == "VALID" and shown["verificationUrl"] is None
    # A code is checked against its stored hash, under no key: the printed one still verifies.
    assert (await http.get(f"/certificates/{code}")).status_code == 200
    # The queued mail cannot write the code again: it fails for good, saying why.
    assert await Dispatcher(settings).run_once() == 1
    mail = await OutboxMail.get(kind=MailKind.CERTIFICATE)
    assert mail.status is MailStatus.FAILED and "EXCHANGE_PREVIOUS_SECRET_KEYS" in (mail.last_error or "")


# ---------------------------------------------------------------- erasure


async def test_erasure_anonymises_certificates(
    http: httpx.AsyncClient, gql: GraphQLClient, world: World, settings: Settings
) -> None:
    answer = (await _issue(gql, world, world.participation))["data"]["issueCertificate"]
    code = _code_of(answer["participation"]["certificate"]["verificationUrl"])
    admin = access.Actor(access.Role.ADMIN, key_id="key_admin")

    exported = await privacy.export_person(admin, EMAIL, settings)
    [certificate] = exported["volunteers"][0]["certificates"]
    assert certificate["status"] == "VALID" and certificate["facts"]["name"] == NAME
    assert "not stored" in certificate["code"] and codes.normalised(code) not in str(exported)
    assert not any(m["table"] == "certificate" for m in exported["mentions"])

    done = await privacy.erase_person(admin, EMAIL, settings)
    assert done.certificates == 1
    row = await Certificate.get()
    assert row.facts["name"] == privacy.ERASED_NAME and row.status is CertificateStatus.REVOKED
    assert NAME not in str(row.facts)
    assert (await http.get(f"/certificates/{code}")).status_code == 404
    assert not done.mentions_left


def test_access_log_hides_the_code() -> None:
    assert redact_path("/certificates/ABCD-EFGH-IJKL-MNOP-QRST-UVWX") == "/certificates/[code]"
    assert (
        redact_path("/certificates/ABCD-EFGH-IJKL-MNOP-QRST-UVWX.pdf?lang=kk")
        == "/certificates/[code].pdf?lang=kk"
    )


RECORD = """
mutation($id: ID!, $input: RecordAttendanceInput!) {
  recordAttendance(participationId: $id, input: $input) {
    participation { certificate { status verificationUrl } }
    userErrors { field message code }
  }
}
"""


def _has_record_attendance() -> bool:
    from schema.build import default_schema

    return "recordAttendance(" in default_schema().as_str()


@pytest.mark.skipif(not _has_record_attendance(), reason="recordAttendance (#15) has not landed yet")
async def test_record_attendance_issues_automatically_and_reissues(
    gql: GraphQLClient, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exchange.certificates import service

    monkeypatch.setattr(
        service, "get_settings", lambda: settings.model_copy(update={"certificates_automatic": True})
    )
    participation = await Participation.create(
        volunteer=await make_volunteer("Recorded Attendee"),
        exchange=world.exchange,
        status=ParticipationStatus.CONFIRMED,
    )
    attended = {
        "status": "ATTENDED",
        "hours": 2.0,
        "sessionIds": [encode_id("Session", world.sessions[0].id)],
    }
    answer = await gql(RECORD, {"id": gid(participation), "input": attended}, key=world.keys["host"])
    first = answer["data"]["recordAttendance"]["participation"]["certificate"]
    assert first["status"] == "VALID" and first["verificationUrl"]
    attended["hours"] = 3.0
    answer = await gql(RECORD, {"id": gid(participation), "input": attended}, key=world.keys["host"])
    second = answer["data"]["recordAttendance"]["participation"]["certificate"]
    assert second["status"] == "VALID" and second["verificationUrl"] != first["verificationUrl"]
    assert (
        await Certificate.filter(participation_id=participation.id, status=CertificateStatus.REVOKED).count()
        == 1
    )
