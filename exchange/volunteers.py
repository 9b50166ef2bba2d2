"""Volunteer services: register, list (organisations and admins only, and only the volunteers
they may see), and who organises whom."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from exchange import access
from exchange.access import Actor
from exchange.errors import DomainError, ErrorCode, Problems, not_found
from exchange.exchanges import KEEP
from exchange.i18n import fold
from exchange.models import Organisation, Volunteer
from exchange.rows import instances
from exchange.sql import Page, PageWindow, Statement, json_list_holds, select_list, text_contains
from exchange.validation import check_email, check_languages

NAME_MAX = 200
SKILL_MAX = 100
SKILLS_MAX = 50


@dataclass(frozen=True)
class NewVolunteer:
    full_name: str
    email: str
    country: str
    languages: list[str]
    skills: list[str] | None = None
    organisation_id: int | None = None


def skills_folded(skills: Sequence[str]) -> str:
    """Every skill folded and framed by newlines, so one LIKE '%\\nskill\\n%' matches a whole skill.

    The only way ``Volunteer.skills_folded`` is written (the API, the demo, the benchmark's
    data): the demo once joined skills without the outer newlines, so a volunteer's first
    and last skills were never found (migration 0008 frames such rows)."""
    return "\n" + "".join(fold(skill) + "\n" for skill in skills) if skills else ""


def _email_taken(organisation_id: int | None) -> DomainError:
    # Said only of the sender's own record (or of the records without a sender, to an admin):
    # never of another organisation's.
    message = (
        "This sending organisation has already registered a volunteer with this email address."
        if organisation_id is not None
        else "A volunteer without a sending organisation is registered with this email address."
    )
    return DomainError(ErrorCode.CONFLICT, message, ["email"])


def same_sender(organisation_id: int | None) -> dict[str, object]:
    """ORM filter for the records of one sender (None: the volunteers' own, without one)."""
    if organisation_id is None:
        return {"organisation_id__isnull": True}
    return {"organisation_id": organisation_id}


async def register_volunteer(actor: Actor, data: NewVolunteer) -> Volunteer:
    """A new record of the person for its sending organisation. An address another
    organisation registered (or the volunteer used to accept an invitation) is no obstacle
    and no news: the caller gets its own record, linked to the others by the address and
    holding only what the caller gave, exactly as for a new address. Only the same sender
    registering the address twice is a CONFLICT."""
    organisation_id = access.volunteer_organisation_for(actor, data.organisation_id)
    problems = Problems()
    full_name = " ".join(data.full_name.split())
    if not full_name:
        problems.invalid("The name must not be empty.", "fullName")
    elif len(full_name) > NAME_MAX:
        problems.invalid(f"The name is longer than {NAME_MAX} characters.", "fullName")
    email = check_email(problems, data.email, "email").lower()
    languages = check_languages(problems, data.languages)
    skills: list[str] = []
    raw_skills = data.skills or []
    if len(raw_skills) > SKILLS_MAX:
        problems.invalid(f"At most {SKILLS_MAX} skills.", "skills")
    for index, raw in enumerate(raw_skills):
        skill = " ".join(raw.split())
        if not skill:
            problems.invalid("A skill must not be empty.", "skills", index)
        elif len(skill) > SKILL_MAX:
            problems.invalid(f"A skill is at most {SKILL_MAX} characters.", "skills", index)
        elif fold(skill) not in {fold(s) for s in skills}:
            skills.append(skill)
    if organisation_id is not None and not await Organisation.filter(id=organisation_id).exists():
        problems.add(ErrorCode.NOT_FOUND, "Organisation not found.", ["organisationId"])
    if not problems and await Volunteer.filter(email=email, **same_sender(organisation_id)).exists():
        raise _email_taken(organisation_id)
    problems.raise_if_any()
    try:
        async with in_transaction() as connection:
            return await Volunteer.create(
                full_name=full_name,
                email=email,
                country=data.country,
                languages=languages,
                skills=skills,
                skills_folded=skills_folded(skills),
                organisation_id=organisation_id,
                using_db=connection,
            )
    except IntegrityError:  # the same sender, concurrently (migration 0009's unique index)
        raise _email_taken(organisation_id) from None


@dataclass(frozen=True)
class VolunteerFilter:
    country: str | None = None
    language: str | None = None
    skill: str | None = None


async def page_volunteers(
    actor: Actor, criteria: VolunteerFilter, page: PageWindow, columns: Iterable[str] | None = None
) -> Page:
    """The volunteers the actor may see (exchange.access's people rule), filtered, by id: one
    COUNT and one page (only ``columns`` when given). Only organisations and admins list."""
    access.require_volunteer_list(actor)
    statement = Statement()
    conditions: list[str] = []
    visible = access.visible_volunteers_sql(actor, "v", statement.param)
    if visible is not None:
        conditions.append(visible)
    if criteria.country is not None:
        conditions.append(f"v.country = {statement.param(criteria.country)}")
    if criteria.language is not None:
        conditions.append(json_list_holds(statement, "v.languages", criteria.language))
    if criteria.skill is not None and (needle := fold(criteria.skill)):
        conditions.append(text_contains(statement, "v.skills_folded", f"\n{needle}\n"))
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    [count_row] = await statement.fetch_rows(f"SELECT COUNT(*) AS total FROM volunteer v{where}")  # noqa: S608
    total = int(count_row[0])
    start, end = page.window(total)
    if end <= start:
        return Page([], start, total)
    rows = await statement.fetch_rows(
        f"SELECT {select_list('v', columns)} FROM volunteer v{where} ORDER BY v.id "  # noqa: S608
        f"LIMIT {statement.param(end - start)} OFFSET {statement.param(start)}"
    )
    return Page(instances(Volunteer, rows), start, total)


async def visible_by_ids(
    actor: Actor, volunteer_ids: Sequence[int], columns: Iterable[str] | None = None
) -> list[Volunteer]:
    """The volunteers with these ids that the actor may see (the others read as unknown)."""
    statement = Statement()
    visible = access.visible_volunteers_sql(actor, "v", statement.param)
    rows = await statement.fetch_rows(
        f"SELECT {select_list('v', columns)} FROM volunteer v "  # noqa: S608
        f"WHERE {statement.is_in('v.id', volunteer_ids)}" + (f" AND {visible}" if visible else "")
    )
    return instances(Volunteer, rows)


async def organised_volunteer_ids(organisation_id: int, volunteer_ids: Sequence[int]) -> set[int]:
    """Those of ``volunteer_ids`` taking part in, or having accepted an invitation to, an
    exchange that ``organisation_id`` hosts or co-organises (the email rule): one statement."""
    if not volunteer_ids:
        return set()
    statement = Statement()
    organiser = statement.param(organisation_id)
    rows = await statement.fetch(
        f"SELECT v.id FROM volunteer v WHERE {statement.is_in('v.id', volunteer_ids)} "  # noqa: S608
        f"AND {access.organised_volunteers_sql('v', organiser)}"
    )
    return {int(row["id"]) for row in rows}


async def naming_rights(actor: Actor, volunteer_ids: Sequence[int]) -> dict[int, bool]:
    """Of ``volunteer_ids``, those the actor may see, each with whether it may name them
    (access.nameable_volunteers_sql); one statement. An id missing from the answer names no
    volunteer the actor knows of: refuse it like an unknown one."""
    if not volunteer_ids:
        return {}
    statement = Statement()
    conditions = [statement.is_in("v.id", volunteer_ids)]
    visible = access.visible_volunteers_sql(actor, "v", statement.param)
    if visible is not None:
        conditions.append(visible)
    nameable = access.nameable_volunteers_sql(actor, "v", statement.param)
    rows = await statement.fetch(
        f"SELECT v.id, CASE WHEN {nameable or '1 = 1'} THEN 1 ELSE 0 END AS nameable "  # noqa: S608
        f"FROM volunteer v WHERE {' AND '.join(conditions)}"
    )
    return {int(row["id"]): bool(row["nameable"]) for row in rows}


# ---------------------------------------------------------------- naming and editing
# Refusals never tell more than the people rule shows: a volunteer the caller may not see is
# NOT_FOUND, like an unknown id.


async def require_nameable(actor: Actor, volunteer_id: int, field: str) -> None:
    """The actor may name this volunteer as a participant (naming_rights): NOT_FOUND when it
    may not even see them, INVALID when it sees them but may not name them (as for speakers)."""
    rights = await naming_rights(actor, [volunteer_id])
    if volunteer_id not in rights:
        raise not_found("Volunteer", [field])
    if not rights[volunteer_id]:
        raise DomainError(
            ErrorCode.INVALID,
            "A host names as participants the volunteers it sends, those of its exchanges and those "
            "with a public profile.",
            [field],
        )


@dataclass(frozen=True)
class VolunteerChanges:
    """Each field is KEEP (left out), None (cleared, where it may be) or the new value."""

    full_name: Any = KEEP
    email: Any = KEEP
    country: Any = KEEP
    languages: Any = KEEP
    skills: Any = KEEP
    organisation_id: Any = KEEP


def _checked_name(problems: Problems, raw: str, field: str = "fullName") -> str:
    full_name = " ".join(raw.split())
    if not full_name:
        problems.invalid("The name must not be empty.", field)
    elif len(full_name) > NAME_MAX:
        problems.invalid(f"The name is longer than {NAME_MAX} characters.", field)
    return full_name


def _checked_skills(problems: Problems, raw_skills: Sequence[str], field: str = "skills") -> list[str]:
    """Skills with their spaces tidied, each once (compared folded), or problems."""
    skills: list[str] = []
    if len(raw_skills) > SKILLS_MAX:
        problems.invalid(f"At most {SKILLS_MAX} skills.", field)
    for index, raw in enumerate(raw_skills):
        skill = " ".join(raw.split())
        if not skill:
            problems.invalid("A skill must not be empty.", field, index)
        elif len(skill) > SKILL_MAX:
            problems.invalid(f"A skill is at most {SKILL_MAX} characters.", field, index)
        elif fold(skill) not in {fold(s) for s in skills}:
            skills.append(skill)
    return skills


_NOT_CLEARABLE = {"full_name": "fullName", "email": "email", "country": "country", "languages": "languages"}


async def update_volunteer(actor: Actor, volunteer_id: int, changes: VolunteerChanges) -> Volunteer:
    """Edits a volunteer's record: their sending organisation (or an admin) only; only an
    admin moves them to another sending organisation (or to none)."""
    access.require_writer(actor)
    if not await visible_by_ids(actor, [volunteer_id], ("id",)):
        raise not_found("Volunteer", ["id"])
    volunteer = await Volunteer.get_or_none(id=volunteer_id)
    if volunteer is None:
        raise not_found("Volunteer", ["id"])
    access.require_edit_volunteer(actor, volunteer.organisation_id)
    if changes.organisation_id is not KEEP and changes.organisation_id != volunteer.organisation_id:
        access.require_move_volunteer(actor)
    problems = Problems()
    values: dict[str, Any] = {}
    for name, input_name in _NOT_CLEARABLE.items():
        if getattr(changes, name) is None:
            problems.invalid("This field cannot be cleared.", input_name)
    if changes.full_name not in (KEEP, None):
        values["full_name"] = _checked_name(problems, changes.full_name)
    if changes.email not in (KEEP, None):
        values["email"] = check_email(problems, changes.email, "email").lower()
    if changes.country not in (KEEP, None):
        values["country"] = changes.country
    if changes.languages not in (KEEP, None):
        values["languages"] = check_languages(problems, changes.languages)
    if changes.skills is not KEEP:
        values["skills"] = _checked_skills(problems, changes.skills or [])
        values["skills_folded"] = skills_folded(values["skills"])
    if changes.organisation_id is not KEEP:
        if (
            changes.organisation_id is not None
            and not await Organisation.filter(id=changes.organisation_id).exists()
        ):
            problems.add(ErrorCode.NOT_FOUND, "Organisation not found.", ["organisationId"])
        values["organisation_id"] = changes.organisation_id
    problems.raise_if_any()
    if not values:
        return volunteer
    # One record per address and sending organisation (migration 0009): the same sender's
    # other record of the address is the only one a change can collide with, and it is the
    # caller's own (or an admin asks), so saying so tells nobody anything new.
    try:
        async with in_transaction() as connection:
            volunteer.update_from_dict(values)
            await volunteer.save(update_fields=list(values), using_db=connection)
    except IntegrityError:
        raise _email_taken(volunteer.organisation_id) from None
    return volunteer
