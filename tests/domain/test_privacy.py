"""Export and erasure of a person's data (exchange.privacy), on SQLite and PostgreSQL: the
export holds every stored field, and after an erasure no table and no mail file holds the
address or the name, while participations, hours, statuses and speakers stay."""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Any

import pytest
from tortoise.models import Model

from exchange import privacy
from exchange.access import Actor, Role
from exchange.errors import DomainError, ErrorCode
from exchange.invitations.respond import find_by_token
from exchange.mail.dispatcher import Dispatcher
from exchange.mail.outbox import enqueue
from exchange.models import (
    IdempotencyRecord,
    Invitation,
    MailKind,
    MailStatus,
    Organisation,
    OutboxMail,
    Participation,
    Session,
    Volunteer,
)
from exchange.settings import Settings
from tests.conftest import GraphQLClient, make_organisation
from tests.privacy_world import (
    EMAIL,
    NAME,
    OTHER_EMAIL,
    OTHER_NAME,
    PERSON,
    SMTP_ECHO,
    PrivacyWorld,
    counts,
    mail_folder_mentions,
    seed,
    stored_mentions,
)

ADMIN = Actor(Role.ADMIN, key_id="test")

# Stored fields an export leaves out on purpose: the link's secret material, and search keys
# derived from an exported field (the lower-cased address, the folded skills).
NOT_EXPORTED: dict[type[Model], set[str]] = {
    Invitation: {"token_nonce", "token_hash", "email_normalised"},
    Volunteer: {"skills_folded"},
}


@pytest.fixture
async def world(gql: GraphQLClient, settings: Settings, admin_key: str) -> PrivacyWorld:
    return await seed(gql, settings, admin_key)


def exported_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def assert_every_field_exported(row: Model, exported: dict[str, Any]) -> None:
    """Each stored column of ``row`` (asked of the model, so a column added later is covered)
    is in ``exported`` under its camelCase name, with the stored value."""
    model = type(row)
    for name in model._meta.fields_db_projection:
        if name in NOT_EXPORTED.get(model, set()):
            continue
        key = name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:])
        assert key in exported, f"{model.__name__}.{name} is not exported"
        assert exported[key] == exported_value(getattr(row, name)), f"{model.__name__}.{name}"


async def test_export_holds_every_stored_field(world: PrivacyWorld) -> None:
    document = json.loads(json.dumps(await privacy.export_person(ADMIN, EMAIL.upper(), world.settings)))
    text = json.dumps(document, ensure_ascii=False)

    [volunteer] = document["volunteers"]
    assert_every_field_exported(await Volunteer.get(id=world.volunteer_id), volunteer)
    assert volunteer["fullName"] == NAME and volunteer["email"] == EMAIL.lower()
    assert volunteer["skills"] == ["First aid", "Kazakh–Danish translation"]
    assert volunteer["publicProfile"] is True
    assert volunteer["organisation"]["slug"] == "steppe-senders"
    [participation] = volunteer["participations"]
    assert_every_field_exported(await Participation.get(id=world.participation_id), participation)
    assert (participation["hours"], participation["status"]) == (12.5, "ATTENDED")
    assert participation["exchange"]["slug"] == "aral-week"
    assert [s["id"] for s in volunteer["speakerAt"]] == [world.speaker_session_id]
    assert volunteer["speakerAt"][0]["exchange"]["slug"] == "caspian-week"

    invitations = {i["id"]: i for i in document["invitations"]}
    assert set(invitations) == {world.accepted_invitation_id, world.queued_invitation_id}
    for invitation in await Invitation.filter(id__in=list(invitations)):
        assert_every_field_exported(invitation, invitations[invitation.id])
        assert invitations[invitation.id]["linkToken"] == privacy.INVITATION_LINK_NOTE
    assert (
        invitations[world.accepted_invitation_id]["message"] == "We met in Aralsk last spring; see you there."
    )
    assert invitations[world.accepted_invitation_id]["invitedBy"]["slug"] == "aral-hosts"
    assert invitations[world.queued_invitation_id]["sessions"][0]["id"] == world.speaker_session_id
    assert invitations[world.queued_invitation_id]["lastError"] == SMTP_ECHO

    mails = {m["id"]: m for m in document["mails"]}
    stored_mails = await OutboxMail.filter(invitation_id__in=list(invitations))
    assert set(mails) == {m.id for m in stored_mails} and len(mails) == 2
    for mail in stored_mails:
        assert_every_field_exported(mail, mails[mail.id])
    assert len(document["mailFiles"]) == 1 and document["mailFiles"][0].endswith(".eml")
    [record] = document["idempotencyRecords"]
    assert record["operations"] == ["registerVolunteer"]

    # The link is a credential: said to exist, never given (nor what it is derived from).
    for invitation in await Invitation.filter(id__in=list(invitations)):
        assert invitation.token_nonce not in text and invitation.token_hash not in text
    assert not any(token in text for token in world.link_tokens)
    # Nobody else's data.
    assert OTHER_EMAIL not in text and OTHER_NAME not in text
    assert document["mentions"] == []


async def test_erasure_leaves_no_trace_and_keeps_the_counts(world: PrivacyWorld) -> None:
    assert await stored_mentions(*PERSON)  # the search does find them before
    assert mail_folder_mentions(world.mail_dir, *PERSON)
    before = await counts()

    done = await privacy.erase_person(ADMIN, f"  {EMAIL}  ", world.settings)

    assert (done.volunteers, done.invitations, done.mails, done.queued_mails_cancelled) == (1, 2, 2, 1)
    assert (done.idempotency_records, done.mail_files, done.mentions_left) == (1, 1, [])
    assert await stored_mentions(*PERSON) == []
    assert mail_folder_mentions(world.mail_dir, *PERSON) == []
    assert await counts() == before

    volunteer = await Volunteer.get(id=world.volunteer_id)
    assert volunteer.full_name == privacy.ERASED_NAME and privacy.is_erased_address(volunteer.email)
    assert (volunteer.skills, volunteer.languages, volunteer.skills_folded) == ([], [], "")
    assert volunteer.public_profile is False
    assert volunteer.organisation_id == world.sender.id  # type: ignore[attr-defined]
    for invitation in await Invitation.filter(
        id__in=[world.accepted_invitation_id, world.queued_invitation_id]
    ):
        assert (invitation.email, invitation.email_normalised) == (volunteer.email, volunteer.email)
        assert invitation.full_name == privacy.ERASED_NAME
        assert invitation.message is None and invitation.last_error is None
    queued = await OutboxMail.get(invitation_id=world.queued_invitation_id)
    assert (queued.status, queued.sent_at, queued.last_error) == (
        MailStatus.SENT,
        None,
        privacy.NOT_SENT_ERASED,
    )
    assert not await IdempotencyRecord.exists()

    # Bob, invited in the same call and mailed in the same batch, keeps everything.
    other = await Invitation.get(id=world.other_invitation_id)
    assert (other.email, other.full_name) == (OTHER_EMAIL, OTHER_NAME)
    assert [name for name, _ in mail_folder_mentions(world.mail_dir, OTHER_EMAIL, OTHER_NAME)]
    assert await OutboxMail.filter(recipient=OTHER_EMAIL).count() == 1


async def test_erased_links_stop_working_and_later_mail_is_not_sent(world: PrivacyWorld) -> None:
    await privacy.erase_person(ADMIN, EMAIL, world.settings)

    for token in world.link_tokens:
        assert await find_by_token(token) is None
    # What may be queued later for a kept invitation (a reminder, a session update) is
    # skipped by the dispatcher, not written to the placeholder address.
    invitation = await Invitation.get(id=world.queued_invitation_id)
    reminder = await enqueue(MailKind.REMINDER, invitation, settings=world.settings)
    files = sorted(p.name for p in world.mail_dir.iterdir())
    assert await Dispatcher(world.settings).run_once() == 1
    reminder = await OutboxMail.get(id=reminder.id)
    assert (reminder.status, reminder.sent_at, reminder.last_error) == (
        MailStatus.SENT,
        None,
        privacy.NOT_SENT_ERASED,
    )
    assert sorted(p.name for p in world.mail_dir.iterdir()) == files


async def test_erasing_twice_or_an_unknown_address_is_not_found(world: PrivacyWorld) -> None:
    await privacy.erase_person(ADMIN, EMAIL, world.settings)
    for call in (privacy.erase_person, privacy.export_person, privacy.preview_erasure):
        for address in (EMAIL, "never.seen@example.org"):
            with pytest.raises(DomainError) as refused:
                await call(ADMIN, address, world.settings)
            assert refused.value.code is ErrorCode.NOT_FOUND
            assert refused.value.problems[0].field == ("email",)
    for blank in ("", "   ", "no-at-sign"):
        with pytest.raises(DomainError) as invalid:
            await privacy.erase_person(ADMIN, blank, world.settings)
        assert invalid.value.code is ErrorCode.INVALID


async def test_preview_counts_what_erasure_does_and_changes_nothing(world: PrivacyWorld) -> None:
    before = await stored_mentions(*PERSON)
    preview = await privacy.preview_erasure(ADMIN, EMAIL, world.settings)
    assert await stored_mentions(*PERSON) == before
    done = await privacy.erase_person(ADMIN, EMAIL, world.settings)
    assert preview == done


@pytest.mark.parametrize("role", [Role.ORGANISATION, Role.READ_ONLY, Role.ANONYMOUS])
async def test_only_a_platform_admin_exports_or_erases(world: PrivacyWorld, role: Role) -> None:
    actor = Actor(role, organisation_id=world.sender.id if role is not Role.ANONYMOUS else None)
    for call in (privacy.export_person, privacy.erase_person, privacy.preview_erasure):
        with pytest.raises(DomainError) as refused:
            await call(actor, EMAIL, world.settings)
        assert refused.value.code in (ErrorCode.FORBIDDEN, ErrorCode.UNAUTHENTICATED)
    assert await Volunteer.get(id=world.volunteer_id).values_list("full_name", flat=True) == NAME


async def test_organisers_texts_naming_the_person_are_reported_not_rewritten(world: PrivacyWorld) -> None:
    invitation = await Invitation.get(id=world.accepted_invitation_id)
    exchange = await invitation.exchange
    exchange.descriptions = {"en": f"With a talk by {NAME} on saxaul."}
    await exchange.save(update_fields=["descriptions"])
    session = await Session.get(id=world.speaker_session_id)
    session.titles = {"en": f"Questions to {EMAIL.upper()}"}  # the address in another case
    await session.save(update_fields=["titles"])
    expected = [("exchange", "descriptions", str(exchange.id)), ("session", "titles", str(session.id))]

    document = await privacy.export_person(ADMIN, EMAIL, world.settings)
    assert sorted((m["table"], m["column"], m["id"]) for m in document["mentions"]) == expected

    done = await privacy.erase_person(ADMIN, EMAIL, world.settings)
    assert sorted((m.table, m.column, m.row_id) for m in done.mentions_left) == expected
    assert f"exchange {exchange.id} (descriptions)" in [str(m) for m in done.mentions_left]
    assert {table for table, _column, _needle in await stored_mentions(*PERSON)} == {"exchange", "session"}


async def test_an_organisation_contact_address_of_the_person_is_exported_and_cleared(
    world: PrivacyWorld,
) -> None:
    contact = await make_organisation("ainur-fund", contact_email=EMAIL)
    document = await privacy.export_person(ADMIN, EMAIL, world.settings)
    assert [(o["slug"], o["contactEmail"]) for o in document["organisationContactAddress"]] == [
        ("ainur-fund", EMAIL)
    ]
    done = await privacy.erase_person(ADMIN, EMAIL, world.settings)
    assert done.organisation_contacts == 1
    assert (await Organisation.get(id=contact.id)).contact_email is None
    assert await stored_mentions(*PERSON) == []
