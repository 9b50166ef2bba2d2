"""A person's data, by email address: export everything stored about them, or erase it.

Erasure anonymises in place rather than deleting, so what the person did still counts
(participations, hours, invitation statuses, speakers of sessions): the contract's non-null
fields get placeholders (the name "Erased volunteer", an address ``erased-<random>@invalid``
that nothing maps back), everything else that describes the person is emptied. The database
part is one transaction; ``.eml`` files in the mail folder are removed after it commits.

Texts written by organisations (exchange descriptions, API key labels...) are not rewritten:
where they still name the person, export and erasure say so (``mentions``), for an admin to
edit. Webhook payloads carry ids and statuses only (exchange.webhooks.payload), and the event
bus the same (exchange.events): neither holds anything to export or erase.

Nothing here logs an address or a name: the one log line of an erasure carries counts.
"""

from __future__ import annotations

import asyncio
import enum
import html
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email
from tortoise import Tortoise
from tortoise import fields as tortoise_fields
from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.transactions import in_transaction

from exchange import access, reports
from exchange.access import Actor
from exchange.certificates import erasure as certificate_erasure
from exchange.db import APP_LABEL
from exchange.errors import DomainError, ErrorCode
from exchange.invitations import tokens
from exchange.mail.transport import FileTransport
from exchange.models import (
    Certificate,
    Exchange,
    IdempotencyRecord,
    Invitation,
    MailStatus,
    Organisation,
    OutboxMail,
    Participation,
    Session,
    Volunteer,
)
from exchange.settings import Settings
from exchange.sql import Statement, text_contains

log = logging.getLogger("exchange.privacy")

EXPORT_FORMAT = "volunteer-data-export/1"
ERASED_NAME = "Erased volunteer"
_ERASED_PREFIX = "erased-"
# RFC 2606: .invalid never resolves, so a placeholder can never reach anyone's mailbox.
_ERASED_DOMAIN = "@invalid"
ERASED_RECIPIENT = "the recipient's data was erased"
# What the dispatcher writes on a mail it skips (exchange.mail.dispatcher), for this reason.
NOT_SENT_ERASED = f"not sent: {ERASED_RECIPIENT}"
# A name shorter than this matches too much unrelated text to be searched for as a substring
# (it is still found in the person's own records, by address).
MIN_NAME_TO_SEARCH = 4
# Rows reported per table as still mentioning the person: enough to act on, bounded.
MENTIONS_PER_TABLE = 100
ADDRESS_MAX = 320

# Columns not exported: secrets (the invitation link is a credential; its existence is said
# instead) and derived search keys repeating another exported column.
_NOT_EXPORTED: dict[type[Model], frozenset[str]] = {
    Invitation: frozenset({"token_nonce", "token_hash", "email_normalised"}),
    Volunteer: frozenset({"skills_folded"}),
}
INVITATION_LINK_NOTE = (
    "An invitation link was issued; it is a credential, so its value is not exported "
    "(only a hash of it is stored)."
)
NOTES = {
    "mailBodies": "Mail bodies are not stored: they are written from the invitation when a mail is sent. "
    "The mail rows below are what is kept about each message.",
    "webhooks": "Webhook deliveries carry ids and statuses only, no name or address.",
    "idempotencyRecords": "Stored answers to API calls, kept 24 hours so a retried call is not done twice; "
    "listed when they mention this person. Their content is not repeated here because an answer may "
    "concern other people too.",
    "mentions": "Other stored texts, written by organisations, that contain this address or name.",
}


# Anything shaped like an address: SMTP refusals quote the recipient ("<x@y>: Recipient
# address rejected"), and such texts reach log lines, which erasure cannot reach.
_ADDRESS_IN_TEXT = re.compile(r"[^\s<>\"'@,;:()\[\]]+@[^\s<>\"'@,;:()\[\]]+")


def without_addresses(text: str) -> str:
    """A text for a log line: every email address in it replaced by ``[address]``."""
    return _ADDRESS_IN_TEXT.sub("[address]", text)


def is_erased_address(address: str) -> bool:
    """An address erasure put in place of a real one (nothing may be sent to it)."""
    return address.startswith(_ERASED_PREFIX) and address.endswith(_ERASED_DOMAIN)


def _placeholder_address() -> str:
    # Random, not derived from the address: nothing maps it back to the person.
    return f"{_ERASED_PREFIX}{secrets.token_hex(12)}{_ERASED_DOMAIN}"


def _addresses(email: str) -> frozenset[str]:
    """The forms the address may be stored under, lower-cased (stored addresses are
    email-validator's normalised form, compared case-insensitively)."""
    candidate = email.strip()
    if not candidate or "@" not in candidate or len(candidate) > ADDRESS_MAX:
        raise DomainError(ErrorCode.INVALID, "Give the person's email address.", ["email"])
    forms = {candidate.lower()}
    try:
        forms.add(validate_email(candidate, check_deliverability=False).normalized.lower())
    except EmailNotValidError:
        pass  # an address stored by older rules may not validate today: searched as given
    return frozenset(forms)


def _nothing_stored() -> DomainError:
    return DomainError(
        ErrorCode.NOT_FOUND,
        "Nothing is stored for this address (it was never known, or it has been erased).",
        ["email"],
    )


# ---------------------------------------------------------------- what is stored


@dataclass(frozen=True)
class Mention:
    """A stored text that contains the address or the name: table, column and the row's key."""

    table: str
    column: str
    row_id: str

    def __str__(self) -> str:
        return f"{self.table} {self.row_id} ({self.column})"


@dataclass
class Footprint:
    """The rows that are about one person (by address), read together."""

    addresses: frozenset[str]
    volunteers: list[Volunteer] = field(default_factory=list)
    invitations: list[Invitation] = field(default_factory=list)
    mails: list[OutboxMail] = field(default_factory=list)
    idempotency_records: list[IdempotencyRecord] = field(default_factory=list)
    contact_of: list[Organisation] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)

    @property
    def names(self) -> frozenset[str]:
        return frozenset([v.full_name for v in self.volunteers] + [i.full_name for i in self.invitations])

    @property
    def searchable_names(self) -> frozenset[str]:
        return frozenset(name for name in self.names if len(name.strip()) >= MIN_NAME_TO_SEARCH)

    @property
    def all_addresses(self) -> frozenset[str]:
        return (
            self.addresses
            | {i.email.lower() for i in self.invitations}
            | {m.recipient.lower() for m in self.mails}
        )

    @property
    def is_empty(self) -> bool:
        return not (
            self.volunteers or self.invitations or self.mails or self.idempotency_records or self.contact_of
        )

    def covered(self) -> set[tuple[str, str]]:
        """(table, row key) of the rows this footprint reports or handles itself."""
        rows: list[tuple[Sequence[Model], str]] = [
            (self.volunteers, "volunteer"),
            (self.invitations, "invitation"),
            (self.mails, "outbox_mail"),
            (self.idempotency_records, "idempotency_record"),
            (self.contact_of, "organisation"),
            (self.certificates, "certificate"),
        ]
        return {(table, str(row.pk)) for items, table in rows for row in items}


async def _footprint(addresses: frozenset[str], *, lock: bool) -> Footprint:
    """Everything keyed to the address. With ``lock`` (inside the erasure's transaction) the
    invitations are locked before the volunteers are read: an answer to an invitation, which
    locks it and may create the volunteer, has then either committed or waits for us."""
    found = Footprint(addresses)

    def locked(query: Any) -> Any:
        return query.select_for_update() if lock else query

    if lock:
        # Their mail rows first, as the mail dispatcher locks a mail row then its invitation:
        # the other order could deadlock with a dispatcher recording a delivery meanwhile.
        invited = Invitation.filter(email_normalised__in=list(addresses)).values("id")
        await OutboxMail.filter(invitation_id__in=Subquery(invited)).select_for_update()
    by_address = await locked(Invitation.filter(email_normalised__in=list(addresses)).order_by("id"))
    found.volunteers = list(await locked(Volunteer.filter(email__in=list(addresses)).order_by("id")))
    volunteer_ids = [v.id for v in found.volunteers]
    linked = (
        await locked(
            Invitation.filter(volunteer_id__in=volunteer_ids)
            .exclude(id__in=[i.id for i in by_address])
            .order_by("id")
        )
        if volunteer_ids
        else []
    )
    found.invitations = sorted([*by_address, *linked], key=lambda i: i.id)
    invitation_ids = [i.id for i in found.invitations]
    to_person = [Q(recipient__iexact=address) for address in addresses]
    if invitation_ids:
        to_person.append(Q(invitation_id__in=invitation_ids))
    found.mails = list(await locked(OutboxMail.filter(Q(*to_person, join_type="OR")).order_by("id")))
    contact = Q(*[Q(contact_email__iexact=address) for address in addresses], join_type="OR")
    found.contact_of = list(await locked(Organisation.filter(contact).order_by("id")))
    found.certificates = await certificate_erasure.of_volunteers(volunteer_ids, lock=lock)
    ids = await _rows_mentioning(IdempotencyRecord, found.all_addresses, found.searchable_names)
    found.idempotency_records = list(await IdempotencyRecord.filter(id__in=ids).order_by("id")) if ids else []
    return found


def _text_columns(model: type[Model]) -> list[str]:
    """The model's columns that can hold free text: strings (not enumerations) and JSON."""
    meta = model._meta
    columns = []
    for name, column in meta.fields_db_projection.items():
        definition = meta.fields_map[name]
        if getattr(definition, "enum_type", None) is not None:
            continue
        if isinstance(
            definition, tortoise_fields.CharField | tortoise_fields.TextField | tortoise_fields.JSONField
        ):
            columns.append(column)
    return columns


def _mention_conditions(
    statement: Statement, column: str, addresses: Iterable[str], names: Iterable[str]
) -> list[str]:
    text = f'CAST("{column}" AS TEXT)'
    conditions = [text_contains(statement, f"LOWER({text})", address) for address in sorted(addresses)]
    for name in sorted(names):
        # As written, and in any case where the database lowers the text (PostgreSQL does for
        # every script; SQLite's LOWER and LIKE fold ASCII only).
        conditions.append(text_contains(statement, text, name))
        if name.lower() != name:
            conditions.append(text_contains(statement, f"LOWER({text})", name.lower()))
    return conditions


async def _rows_mentioning(
    model: type[Model], addresses: Iterable[str], names: Iterable[str], *, limit: int | None = None
) -> list[Any]:
    """Keys of the ``model`` rows with any text column containing an address (any case) or a name."""
    found = await _mentions_in(model, addresses, names, limit=limit)
    return [key for key, _column in found]


async def _mentions_in(
    model: type[Model], addresses: Iterable[str], names: Iterable[str], *, limit: int | None = None
) -> list[tuple[Any, str]]:
    columns = _text_columns(model)
    addresses, names = list(addresses), list(names)
    if not columns or not (addresses or names):
        return []
    statement = Statement()
    pk = model._meta.db_pk_column
    # One CASE per row says which column matched first: enough to point an admin at it.
    cases = []
    conditions = []
    for column in columns:
        matches = " OR ".join(_mention_conditions(statement, column, addresses, names))
        cases.append(f"WHEN {matches} THEN '{column}'")
        conditions.append(f"({matches})")
    table = model._meta.db_table
    sql = (
        f'SELECT "{pk}" AS row_key, CASE {" ".join(cases)} END AS matched FROM "{table}" '  # noqa: S608
        f'WHERE {" OR ".join(conditions)} ORDER BY "{pk}"'
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [(row["row_key"], str(row["matched"])) for row in await statement.fetch(sql)]


async def _mentions(
    addresses: Iterable[str], names: Iterable[str], *, leave_out: set[tuple[str, str]]
) -> list[Mention]:
    """Every stored text, in every table, that contains an address or a name, apart from the
    rows in ``leave_out``. Generic over the models, so a table added later is searched too."""
    found: list[Mention] = []
    addresses, names = list(addresses), list(names)
    for model in Tortoise.apps[APP_LABEL].values():
        table = model._meta.db_table
        # Rows left out may match as well: ask for enough to still fill the report.
        limit = MENTIONS_PER_TABLE + sum(1 for t, _ in leave_out if t == table)
        rows = await _mentions_in(model, addresses, names, limit=limit)
        kept = [
            Mention(table, column, str(key)) for key, column in rows if (table, str(key)) not in leave_out
        ]
        found += kept[:MENTIONS_PER_TABLE]
    return found


# ---------------------------------------------------------------- mail files


def _mail_text(path: Path) -> str:
    """What a reader of the file sees: headers decoded (RFC 2047), every part decoded
    (quoted-printable, base64), HTML entities resolved, whitespace collapsed, case-folded."""
    raw = path.read_bytes()
    texts = [raw.decode("utf-8", "replace")]
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        texts += [f"{name}: {value}" for name, value in message.items()]
        for part in message.walk():
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    except Exception:  # noqa: S110 (a file that does not parse is still searched as raw text)
        pass
    return " ".join(html.unescape("\n".join(texts)).split()).casefold()


_MAIL_FILE = re.compile(r"\.eml(\.partial)?$")


def _mail_files(
    directory: Path, message_ids: Iterable[str], addresses: Iterable[str], names: Iterable[str]
) -> list[Path]:
    """The mail folder's files of these messages, and any other that names the person."""
    if not directory.is_dir():
        return []
    transport = FileTransport(directory)
    found = {transport.path_for(message_id) for message_id in message_ids}
    found = {path for path in found if path.exists()}
    needles = [a.casefold() for a in addresses] + [" ".join(n.split()).casefold() for n in names]
    for path in directory.iterdir():
        if path in found or not _MAIL_FILE.search(path.name) or not path.is_file():
            continue
        text = _mail_text(path)
        if any(needle in text for needle in needles):
            found.add(path)
    return sorted(found)


async def _person_mail_files(settings: Settings, footprint: Footprint) -> list[Path]:
    return await asyncio.to_thread(
        _mail_files,
        Path(settings.mail_dir),
        [mail.message_id for mail in footprint.mails],
        footprint.all_addresses,
        footprint.searchable_names,
    )


# ---------------------------------------------------------------- export


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def exported_columns(model: type[Model]) -> list[str]:
    """The model's fields an export carries (all but secrets and derived search keys)."""
    skip = _NOT_EXPORTED.get(model, frozenset())
    return [name for name in model._meta.fields_db_projection if name not in skip]


def export_row(row: Model) -> dict[str, Any]:
    """Every exported stored field of a row, under its camelCase name: a column added later
    is exported without a change here."""
    return {_camel(name): _value(getattr(row, name)) for name in exported_columns(type(row))}


async def _exchanges(ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    rows = await Exchange.filter(id__in=list(set(ids))).only("id", "slug", "titles")
    return {e.id: {"id": e.id, "slug": e.slug, "titles": e.titles} for e in rows}


async def _organisations(ids: Iterable[int | None]) -> dict[int | None, dict[str, Any]]:
    # Keyed by int | None so a volunteer without an organisation looks up nothing.
    wanted = [pk for pk in set(ids) if pk is not None]
    rows = await Organisation.filter(id__in=wanted).only("id", "slug", "names") if wanted else []
    return {o.id: {"id": o.id, "slug": o.slug, "names": o.names} for o in rows}


def _operations(stored: dict[str, Any] | None) -> list[str]:
    """The root fields a stored answer is for (exchange.idempotency keeps {status, body})."""
    body = (stored or {}).get("body")
    data = body.get("data") if isinstance(body, dict) else None
    return sorted(data) if isinstance(data, dict) else []


async def _document(
    email: str, footprint: Footprint, files: list[Path], mentions: list[Mention]
) -> dict[str, Any]:
    volunteer_ids = [v.id for v in footprint.volunteers]
    participations = (
        list(await Participation.filter(volunteer_id__in=volunteer_ids).order_by("id"))
        if volunteer_ids
        else []
    )
    # One query per record and invitation: a person has a handful of them.
    speaking = {
        v.id: list(await Session.filter(speakers__id=v.id).order_by("starts_at", "id"))
        for v in footprint.volunteers
    }
    invitation_sessions = {
        i.id: sorted(await i.sessions.all(), key=lambda s: (s.starts_at, s.id)) for i in footprint.invitations
    }
    exchanges = await _exchanges(
        [p.exchange_id for p in participations]
        + [s.exchange_id for sessions in speaking.values() for s in sessions]
        + [i.exchange_id for i in footprint.invitations]
    )
    organisations = await _organisations(
        [v.organisation_id for v in footprint.volunteers] + [i.invited_by_id for i in footprint.invitations]
    )

    def session(s: Session) -> dict[str, Any]:
        return {
            "id": s.id,
            "titles": s.titles,
            "startsAt": _value(s.starts_at),
            "endsAt": _value(s.ends_at),
            "cancelledAt": _value(s.cancelled_at),
            "exchange": exchanges.get(s.exchange_id),
        }

    volunteers = []
    for volunteer in footprint.volunteers:
        row = export_row(volunteer)
        row["organisation"] = organisations.get(volunteer.organisation_id)
        row["participations"] = [
            {**export_row(p), "exchange": exchanges.get(p.exchange_id)}
            for p in participations
            if p.volunteer_id == volunteer.id
        ]
        row["speakerAt"] = [session(s) for s in speaking[volunteer.id]]
        row["certificates"] = [
            certificate_erasure.exported(c) for c in footprint.certificates if c.volunteer_id == volunteer.id
        ]
        volunteers.append(row)
    invitations = []
    for invitation in footprint.invitations:
        row = export_row(invitation)
        row["exchange"] = exchanges.get(invitation.exchange_id)
        row["invitedBy"] = organisations.get(invitation.invited_by_id)
        row["sessions"] = [session(s) for s in invitation_sessions[invitation.id]]
        row["linkToken"] = INVITATION_LINK_NOTE
        invitations.append(row)
    return {
        "format": EXPORT_FORMAT,
        "exportedAt": _value(datetime.now(UTC)),
        "email": email,
        "volunteers": volunteers,
        "invitations": invitations,
        "mails": [export_row(mail) for mail in footprint.mails],
        "mailFiles": [path.name for path in files],
        "organisationContactAddress": [
            {"id": o.id, "slug": o.slug, "names": o.names, "contactEmail": o.contact_email}
            for o in footprint.contact_of
        ],
        "idempotencyRecords": [
            {
                "id": r.id,
                "operations": _operations(r.response),
                "completed": r.completed,
                "createdAt": _value(r.created_at),
                "expiresAt": _value(r.expires_at),
            }
            for r in footprint.idempotency_records
        ],
        "mentions": [{"table": m.table, "column": m.column, "id": m.row_id} for m in mentions],
        "experienceReports": [
            export_row(report)
            for report in await reports.reports_by_authors(
                volunteer_ids, [i.id for i in footprint.invitations]
            )
        ],
        "notes": NOTES,
    }


async def export_person(actor: Actor, email: str, settings: Settings) -> dict[str, Any]:
    """Everything stored about the person with this address, as a JSON-ready document."""
    access.require_admin(actor)
    footprint = await _footprint(_addresses(email), lock=False)
    files = await _person_mail_files(settings, footprint)
    if footprint.is_empty and not files:
        raise _nothing_stored()
    mentions = await _mentions(
        footprint.all_addresses, footprint.searchable_names, leave_out=footprint.covered()
    )
    return await _document(email.strip().lower(), footprint, files, mentions)


# ---------------------------------------------------------------- erasure


@dataclass
class Erasure:
    """What an erasure changed (counts), and where organisations' texts still name the person."""

    volunteers: int = 0
    invitations: int = 0
    # Experience reports they wrote, anonymised (exchange.reports).
    reports: int = 0
    mails: int = 0
    queued_mails_cancelled: int = 0
    idempotency_records: int = 0
    organisation_contacts: int = 0
    # Certificates whose name was replaced and whose code no longer opens their page.
    certificates: int = 0
    mail_files: int = 0
    mentions_left: list[Mention] = field(default_factory=list)


async def preview_erasure(actor: Actor, email: str, settings: Settings) -> Erasure:
    """What ``erase_person`` would change now, changing nothing (the CLI asks before erasing)."""
    access.require_admin(actor)
    footprint = await _footprint(_addresses(email), lock=False)
    files = await _person_mail_files(settings, footprint)
    if footprint.is_empty and not files:
        raise _nothing_stored()
    return Erasure(
        volunteers=len(footprint.volunteers),
        invitations=len(footprint.invitations),
        mails=len(footprint.mails),
        queued_mails_cancelled=sum(m.status is MailStatus.PENDING for m in footprint.mails),
        idempotency_records=len(footprint.idempotency_records),
        organisation_contacts=len(footprint.contact_of),
        certificates=len(footprint.certificates),
        mail_files=len(files),
    )


async def erase_person(actor: Actor, email: str, settings: Settings) -> Erasure:
    """Anonymises the person with this address in place (see the module's docstring).
    Erasing again, or an address never known, is NOT_FOUND: nothing is stored for it."""
    access.require_admin(actor)
    addresses = _addresses(email)
    placeholder = _placeholder_address()
    done = Erasure()
    async with in_transaction():
        footprint = await _footprint(addresses, lock=True)
        needles = (footprint.all_addresses, footprint.searchable_names)
        message_ids = [mail.message_id for mail in footprint.mails]
        if not footprint.is_empty:
            await _anonymise(footprint, placeholder, done)
            done.mentions_left = await _mentions(*needles, leave_out=set())
    # After the commit: a file deleted for a transaction that rolled back would be lost.
    files = await asyncio.to_thread(_mail_files, Path(settings.mail_dir), message_ids, *needles)
    if footprint.is_empty and not files:
        raise _nothing_stored()
    for path in files:
        path.unlink(missing_ok=True)
    done.mail_files = len(files)
    log.info(
        "erasure: %d volunteer record(s), %d invitation(s), %d mail row(s) (%d queued, cancelled), "
        "%d idempotency record(s), %d organisation contact(s), %d mail file(s); %d mention(s) left",
        done.volunteers,
        done.invitations,
        done.mails,
        done.queued_mails_cancelled,
        done.idempotency_records,
        done.organisation_contacts,
        done.mail_files,
        len(done.mentions_left),
    )
    return done


async def _anonymise(footprint: Footprint, placeholder: str, done: Erasure) -> None:
    # One placeholder for all the person's records: they stay one (erased) person, as records
    # sharing an address are, each still unique for its sending organisation.
    volunteer_ids = [v.id for v in footprint.volunteers]
    if volunteer_ids:
        # No longer shown to everyone either: the choice to be public was the person's own.
        await Volunteer.filter(id__in=volunteer_ids).update(
            full_name=ERASED_NAME,
            email=placeholder,
            languages=[],
            skills=[],
            skills_folded="",
            public_profile=False,
        )
    done.volunteers = len(volunteer_ids)
    # Their experience reports stay, anonymised (exchange.reports), in this transaction.
    done.reports = await reports.anonymise_authors(
        volunteer_ids,
        [invitation.id for invitation in footprint.invitations],
        footprint.searchable_names,
        footprint.all_addresses,
    )
    for invitation in footprint.invitations:
        # A fresh nonce and an unrelated random hash: no link, old or derived, matches any more.
        await Invitation.filter(id=invitation.id).update(
            email=placeholder,
            email_normalised=placeholder,
            full_name=ERASED_NAME,
            message=None,
            last_error=None,
            token_nonce=tokens.new_nonce(),
            token_hash=secrets.token_hex(32),
        )
    done.invitations = len(footprint.invitations)
    mail_ids = [mail.id for mail in footprint.mails]
    if mail_ids:
        # last_error too: an earlier failure's text may quote the address (SMTP refusals do).
        await OutboxMail.filter(id__in=mail_ids).update(recipient=placeholder, last_error=None)
        # Cancelled as the dispatcher skips a mail: done, never sent (sent_at stays empty).
        done.queued_mails_cancelled = await OutboxMail.filter(
            id__in=mail_ids, status=MailStatus.PENDING
        ).update(status=MailStatus.SENT, last_error=NOT_SENT_ERASED, claimed_until=None, claimed_by=None)
    done.mails = len(mail_ids)
    if footprint.idempotency_records:
        await IdempotencyRecord.filter(id__in=[r.id for r in footprint.idempotency_records]).delete()
    done.idempotency_records = len(footprint.idempotency_records)
    if footprint.contact_of:
        await Organisation.filter(id__in=[o.id for o in footprint.contact_of]).update(contact_email=None)
    done.organisation_contacts = len(footprint.contact_of)
    done.certificates = await certificate_erasure.anonymise(footprint.certificates, ERASED_NAME)
