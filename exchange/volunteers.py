"""Volunteer services: register, list (organisations and admins only), and who organises whom."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from exchange import access
from exchange.access import Actor
from exchange.errors import DomainError, ErrorCode, Problems
from exchange.i18n import fold
from exchange.models import Organisation, Volunteer
from exchange.sql import Statement, json_list_contains
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


def _email_taken() -> DomainError:
    return DomainError(ErrorCode.CONFLICT, "A volunteer with this email address is registered.", ["email"])


async def register_volunteer(actor: Actor, data: NewVolunteer) -> Volunteer:
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
    if not problems and await Volunteer.filter(email=email).exists():
        raise _email_taken()
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
    except IntegrityError:
        raise _email_taken() from None


def list_volunteers(
    actor: Actor, country: str | None = None, language: str | None = None, skill: str | None = None
) -> Any:
    """A queryset ordered by id; only organisations and admins list volunteers."""
    access.require_volunteer_list(actor)
    queryset = Volunteer.all()
    if country is not None:
        queryset = queryset.filter(country=country)
    if language is not None:
        queryset = json_list_contains(queryset, "languages", language)
    if skill is not None and (needle := fold(skill)):
        queryset = queryset.filter(skills_folded__contains=f"\n{needle}\n")
    return queryset.order_by("id")


async def organised_volunteer_ids(organisation_id: int, volunteer_ids: Sequence[int]) -> set[int]:
    """Those of ``volunteer_ids`` invited to (by record or by address) or taking part in an
    exchange that ``organisation_id`` hosts or co-organises: one statement."""
    if not volunteer_ids:
        return set()
    statement = Statement()
    ids = statement.in_list(volunteer_ids)

    def organiser(alias: str) -> str:
        org = statement.param(organisation_id)
        org2 = statement.param(organisation_id)
        return (
            f"({alias}.host_id = {org} OR EXISTS (SELECT 1 FROM exchange_partner ep "  # noqa: S608
            f"WHERE ep.exchange_id = {alias}.id AND ep.organisation_id = {org2}))"
        )

    sql = (
        f"SELECT v.id FROM volunteer v WHERE v.id IN {ids} AND ("  # noqa: S608
        "EXISTS (SELECT 1 FROM participation p JOIN exchange e ON e.id = p.exchange_id "
        f"WHERE p.volunteer_id = v.id AND {organiser('e')}) "
        "OR EXISTS (SELECT 1 FROM invitation i JOIN exchange e2 ON e2.id = i.exchange_id "
        f"WHERE (i.volunteer_id = v.id OR i.email_normalised = v.email) AND {organiser('e2')}))"
    )
    return {int(row["id"]) for row in await statement.fetch(sql)}
