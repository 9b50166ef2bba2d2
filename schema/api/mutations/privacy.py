"""exportVolunteerData and eraseVolunteer: a person's data by email address, platform admins
only. Both are mutations: sent with POST only, so the address never sits in a URL, and the
export is declared shown-once, so an Idempotency-Key never stores a copy of it."""

from __future__ import annotations

from typing import Any

import orjson
import strawberry

from exchange import privacy
from schema.api.context import Info
from schema.api.errors import UserError, mutate
from schema.api.shown_once import shown_once


@strawberry.type(
    description="A stored text, written by an organisation, that still contains the address or name."
)
class StoredMention:
    table: str
    column: str
    row_id: str = strawberry.field(description="The row's key in that table.")


@strawberry.type(description="What an erasure changed; counts, participations and hours are kept.")
class VolunteerErasure:
    volunteers: int = strawberry.field(description="Volunteer records anonymised.")
    invitations: int = strawberry.field(description="Invitations anonymised; their links no longer work.")
    mails: int = strawberry.field(description="Mail rows whose recipient was replaced.")
    queued_mails_cancelled: int = strawberry.field(
        description="Of those, mails still queued: never sent now."
    )
    idempotency_records: int = strawberry.field(description="Stored API answers naming the person, deleted.")
    organisation_contacts: int = strawberry.field(
        description="Organisations whose contact address was the person's, cleared."
    )
    certificates: int = strawberry.field(
        description="Certificates of participation whose name was replaced; their codes no longer open a page."
    )
    mail_files: int = strawberry.field(description="Mail files (.eml) deleted from the mail folder.")
    mentions_left: list[StoredMention] = strawberry.field(
        description="Texts written by organisations that still name the person: edit them by hand."
    )


@strawberry.type
class ExportVolunteerDataPayload:
    data: str | None = shown_once(
        description="Everything stored about the person, as a JSON document (format volunteer-data-export/1).",
        if_lost="Ask for the export again with a new Idempotency-Key.",
    )
    user_errors: list[UserError]


@strawberry.type
class EraseVolunteerPayload:
    erasure: VolunteerErasure | None = None
    user_errors: list[UserError]


def _erasure(done: privacy.Erasure) -> VolunteerErasure:
    return VolunteerErasure(
        volunteers=done.volunteers,
        invitations=done.invitations,
        mails=done.mails,
        queued_mails_cancelled=done.queued_mails_cancelled,
        idempotency_records=done.idempotency_records,
        organisation_contacts=done.organisation_contacts,
        certificates=done.certificates,
        mail_files=done.mail_files,
        mentions_left=[
            StoredMention(table=m.table, column=m.column, row_id=m.row_id) for m in done.mentions_left
        ],
    )


@strawberry.type
class PrivacyMutations:
    @strawberry.mutation(
        description="Platform admin only. Everything stored about the person with this address "
        "(volunteer records, participations, sessions they speak at, invitations, mail, mail files); "
        "NOT_FOUND when nothing is."
    )
    async def export_volunteer_data(self, info: Info, email: str) -> ExportVolunteerDataPayload:
        async def action() -> dict[str, Any]:
            document = await privacy.export_person(info.context.actor, email, info.context.settings)
            return {"data": orjson.dumps(document).decode()}

        return await mutate(ExportVolunteerDataPayload, action)

    @strawberry.mutation(
        description="Platform admin only. Anonymises the person with this address in place: names and "
        "addresses become placeholders, other personal fields are emptied, queued mail is cancelled, "
        "invitation links stop working; participations, hours and statuses stay. NOT_FOUND when "
        "nothing is stored for the address (never known, or erased already)."
    )
    async def erase_volunteer(self, info: Info, email: str) -> EraseVolunteerPayload:
        async def action() -> dict[str, Any]:
            done = await privacy.erase_person(info.context.actor, email, info.context.settings)
            return {"erasure": _erasure(done)}

        return await mutate(EraseVolunteerPayload, action)
