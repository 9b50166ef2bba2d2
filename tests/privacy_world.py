"""A person with everything the platform can store about them, made through the API where
the API makes it, and independent searches of every table and of the mail folder, for the
export and erasure tests (tests/domain, tests/api, tests/cli)."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from tortoise import connections

from exchange import access
from exchange.app import create_app
from exchange.invitations import tokens
from exchange.mail.dispatcher import Dispatcher
from exchange.models import (
    ApiKeyRole,
    Invitation,
    MailStatus,
    Organisation,
    OutboxMail,
    Participation,
    ParticipationStatus,
    Session,
    SessionFormat,
    Volunteer,
)
from exchange.settings import Settings
from schema.api.relay import encode_id
from tests.api.exchange_fixtures import make_exchange
from tests.conftest import GraphQLClient, make_key, make_organisation, make_settings

# Mixed case and scripts: addresses compare case-insensitively; names travel RFC 2047-encoded
# in mail headers and quoted-printable in bodies, where a plain byte search would miss them.
EMAIL = "Ainur.Ostergaard@Example.KZ"
NAME = "Айнұр Østergaard"
NAME_PARTS = ("Айнұр", "Østergaard")
OTHER_EMAIL = "bob.control@example.org"
OTHER_NAME = "Bob Control"
SMTP_ECHO = "450 4.2.1 <ainur.ostergaard@example.kz>: mailbox busy, try again later"

REGISTER = """
mutation($input: RegisterVolunteerInput!) {
  registerVolunteer(input: $input) { volunteer { id fullName email } userErrors { code message } }
}
"""
INVITE = """
mutation($input: InviteVolunteersInput!) {
  inviteVolunteers(input: $input) { invitations { id email fullName status } userErrors { field code message } }
}
"""
RESPOND = """
mutation($token: String!) {
  respondToInvitation(token: $token, response: ACCEPT) { invitation { status } userErrors { code message } }
}
"""


@dataclass
class PrivacyWorld:
    settings: Settings
    admin_key: str
    sender: Organisation
    host_b: Organisation
    host_c: Organisation
    host_b_key: str
    read_only_key: str
    volunteer_id: int
    accepted_invitation_id: int
    queued_invitation_id: int
    other_invitation_id: int
    speaker_session_id: int
    participation_id: int
    link_tokens: list[str] = field(default_factory=list)

    @property
    def mail_dir(self) -> Path:
        return Path(self.settings.mail_dir)


def _ok(result: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"][name]
    assert payload["userErrors"] == [], payload
    return payload


async def seed(gql: GraphQLClient, settings: Settings, admin_key: str) -> PrivacyWorld:
    """The person: registered by one organisation (with an Idempotency-Key, so a stored answer
    carries their address and name), invited by two others (one invitation delivered as an
    .eml file, accepted, with 12.5 attended hours; one still queued, its mail row quoting
    the address as an SMTP refusal would), speaker of a session. Bob is invited beside them
    and must come out of an erasure untouched."""
    sender = await make_organisation("steppe-senders")
    host_b = await make_organisation("aral-hosts")
    host_c = await make_organisation("caspian-hosts", country="KZ")
    sender_key, host_b_key, host_c_key = (
        await make_key(sender),
        await make_key(host_b),
        await make_key(host_c),
    )
    read_only_key = await make_key(sender, ApiKeyRole.READ_ONLY)
    exchange_b = await make_exchange("aral-week", host_b, capacity=20)
    exchange_c = await make_exchange("caspian-week", host_c, starts_on=dt.date(2027, 6, 1))
    speaker_session = await Session.create(
        exchange=exchange_c,
        titles={"en": "Clean beaches", "ru": "Чистые пляжи"},
        starts_at=dt.datetime(2027, 6, 2, 4, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 6, 2, 6, 0, tzinfo=dt.UTC),
        format=SessionFormat.IN_PERSON,
        venue="Aktau promenade",
    )

    registered = _ok(
        await gql(
            REGISTER,
            {
                "input": {
                    "fullName": NAME,
                    "email": EMAIL,
                    "country": "DK",
                    "languages": ["kk", "en"],
                    "skills": ["First aid", "Kazakh–Danish translation"],
                }
            },
            key=sender_key,
            headers={"Idempotency-Key": "register-the-person"},
        ),
        "registerVolunteer",
    )
    volunteer = await Volunteer.get(email=EMAIL.lower())
    assert registered["volunteer"]["fullName"] == NAME
    await Volunteer.filter(id=volunteer.id).update(public_profile=True)  # they chose to be shown

    _ok(
        await gql(
            INVITE,
            {
                "input": {
                    "exchangeId": encode_id("ExperienceExchange", exchange_b.id),
                    "invitees": [
                        {"email": EMAIL, "fullName": NAME, "country": "DK", "locale": "en"},
                        {"email": OTHER_EMAIL, "fullName": OTHER_NAME, "country": "DE", "locale": "en"},
                    ],
                    # One note for every invitee of the call: it names nobody.
                    "message": "We met in Aralsk last spring; see you there.",
                }
            },
            key=host_b_key,
        ),
        "inviteVolunteers",
    )
    assert await Dispatcher(settings).run_once() == 2  # two .eml files in the mail folder
    accepted = await Invitation.get(exchange_id=exchange_b.id, email_normalised=EMAIL.lower())
    other = await Invitation.get(exchange_id=exchange_b.id, email_normalised=OTHER_EMAIL)
    link = tokens.token_for(accepted.token_nonce, settings.signing_key)
    _ok(await gql(RESPOND, {"token": link}), "respondToInvitation")
    participation = await Participation.get(volunteer_id=volunteer.id, exchange_id=exchange_b.id)
    await Participation.filter(id=participation.id).update(status=ParticipationStatus.ATTENDED, hours=12.5)

    _ok(
        await gql(
            INVITE,
            {
                "input": {
                    "exchangeId": encode_id("ExperienceExchange", exchange_c.id),
                    "invitees": [{"email": EMAIL, "fullName": NAME, "country": "DK", "locale": "ru"}],
                    "sessionIds": [encode_id("Session", speaker_session.id)],
                }
            },
            key=host_c_key,
        ),
        "inviteVolunteers",
    )
    queued = await Invitation.get(exchange_id=exchange_c.id)
    # An earlier temporary refusal, as the dispatcher records it (SMTP servers quote the address).
    await OutboxMail.filter(invitation_id=queued.id).update(last_error=SMTP_ECHO, attempts=1)
    await Invitation.filter(id=queued.id).update(last_error=SMTP_ECHO, delivery_attempts=1)
    await speaker_session.speakers.add(volunteer)
    assert await OutboxMail.filter(invitation_id=queued.id, status=MailStatus.PENDING).count() == 1

    return PrivacyWorld(
        settings=settings,
        admin_key=admin_key,
        sender=sender,
        host_b=host_b,
        host_c=host_c,
        host_b_key=host_b_key,
        read_only_key=read_only_key,
        volunteer_id=volunteer.id,
        accepted_invitation_id=accepted.id,
        queued_invitation_id=queued.id,
        other_invitation_id=other.id,
        speaker_session_id=speaker_session.id,
        participation_id=participation.id,
        link_tokens=[link, tokens.token_for(queued.token_nonce, settings.signing_key)],
    )


def seed_for_cli(database_url: str, tmp_path: Path) -> PrivacyWorld:
    """``seed`` in a server started and stopped here, for commands that open the database themselves."""

    async def run() -> PrivacyWorld:
        settings = make_settings(database_url, tmp_path)
        application = create_app(settings)
        async with LifespanManager(application) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                admin = (await access.issue_key(ApiKeyRole.ADMIN, None)).secret
                return await seed(GraphQLClient(client), settings, admin)

    return asyncio.run(run())


# ---------------------------------------------------------------- what is stored, measured


async def counts() -> dict[str, Any]:
    """What must survive an erasure: participations (status, hours, role), invitation
    statuses and links to records, speakers, how many rows of each kind."""
    return {
        "participations": sorted(
            await Participation.all().values_list(
                "id", "volunteer_id", "exchange_id", "role", "status", "hours"
            )
        ),
        "invitations": sorted(
            await Invitation.all().values_list(
                "id", "exchange_id", "volunteer_id", "status", "sent_at", "responded_at", "expires_at"
            )
        ),
        "speakers": sorted(
            (session.id, speaker.id)
            for session in await Session.all().prefetch_related("speakers")
            for speaker in session.speakers
        ),
        "volunteers": await Volunteer.all().count(),
        "mails": sorted(await OutboxMail.all().values_list("id", "invitation_id", "kind", "message_id")),
    }


async def tables_and_columns() -> dict[str, list[str]]:
    """Every table and column of the database, asked of the database itself (not the models)."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "sqlite":
        tables = [
            row["name"]
            for row in await conn.execute_query_dict(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: [row["name"] for row in await conn.execute_query_dict(f'PRAGMA table_info("{table}")')]
            for table in tables
        }
    found: dict[str, list[str]] = {}
    for row in await conn.execute_query_dict(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "ORDER BY table_name, ordinal_position"
    ):
        found.setdefault(row["table_name"], []).append(row["column_name"])
    return found


def _holds(text: str, needles: Iterable[str]) -> list[str]:
    folded = " ".join(text.split()).casefold()
    return [needle for needle in needles if needle.casefold() in folded]


async def stored_mentions(*needles: str) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every value of every column of every table (cast to text,
    JSON included) that contains a needle, case-insensitively."""
    conn = connections.get("default")
    hits = []
    for table, columns in (await tables_and_columns()).items():
        select = ", ".join(f'CAST("{column}" AS TEXT) AS "{column}"' for column in columns)
        for row in await conn.execute_query_dict(f'SELECT {select} FROM "{table}"'):
            for column in columns:
                value = row[column]
                if value is not None:
                    hits += [(table, column, needle) for needle in _holds(str(value), needles)]
    return hits


def mail_folder_mentions(directory: Path, *needles: str) -> list[tuple[str, str]]:
    """(file, needle) for every file under the folder whose bytes, decoded headers or decoded
    parts (quoted-printable, base64, HTML entities) contain a needle."""
    hits = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []:
        raw = path.read_bytes()
        texts = [raw.decode("utf-8", "replace")]
        message = BytesParser(policy=policy.default).parsebytes(raw)
        texts += [str(value) for value in message.values()]
        for part in message.walk():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
        hits += [(path.name, needle) for needle in _holds(html.unescape("\n".join(texts)), needles)]
    return hits


PERSON = (EMAIL, NAME, *NAME_PARTS)
