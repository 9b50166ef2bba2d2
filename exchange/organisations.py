"""Organisation services: create, read, list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from exchange import access
from exchange.access import Actor
from exchange.errors import DomainError, ErrorCode, Problems
from exchange.models import ApiKeyRole, Organisation, OrganisationKind
from exchange.validation import LocalizedText, check_email, check_slug, check_url, is_slug, localized_map


@dataclass(frozen=True)
class NewOrganisation:
    slug: str
    names: list[LocalizedText]
    kind: OrganisationKind
    country: str | None = None
    website: str | None = None
    parent_id: int | None = None
    contact_email: str | None = None


async def create_organisation(actor: Actor, data: NewOrganisation) -> Organisation:
    access.require_admin(actor)
    problems = Problems()
    check_slug(problems, data.slug)
    names = localized_map(problems, data.names, "names", required=True, max_length=300)
    check_url(problems, data.website, "website")
    # The Reply-To of every invitation the organisation sends.
    contact_email = (
        None if data.contact_email is None else check_email(problems, data.contact_email, "contactEmail")
    )
    parent = None
    if data.parent_id is not None:
        parent = await Organisation.get_or_none(id=data.parent_id)
        if parent is None:
            problems.add(ErrorCode.NOT_FOUND, "Parent organisation not found.", ["parentId"])
    if not problems and await Organisation.filter(slug=data.slug).exists():
        problems.add(ErrorCode.CONFLICT, f"The slug {data.slug!r} is taken.", ["slug"])
    problems.raise_if_any()
    try:
        async with in_transaction():
            return await Organisation.create(
                slug=data.slug,
                names=names,
                kind=data.kind,
                country=data.country,
                website=data.website,
                parent=parent,
                contact_email=contact_email,
            )
    except IntegrityError:
        # Two creations raced for the slug: the loser hears the same as a sequential caller.
        raise DomainError(ErrorCode.CONFLICT, f"The slug {data.slug!r} is taken.", ["slug"]) from None


async def get_by_slug(slug: str) -> Organisation | None:
    # A string that cannot be a slug names no organisation (and would not fit the column).
    return await Organisation.get_or_none(slug=slug) if is_slug(slug) else None


def list_organisations(kind: OrganisationKind | None = None, country: str | None = None) -> Any:
    """Every organisation is public; returns a queryset ordered by id."""
    queryset = Organisation.all().order_by("id")
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    if country is not None:
        queryset = queryset.filter(country=country)
    return queryset


async def issue_api_key(actor: Actor, organisation_id: int, role: ApiKeyRole) -> access.IssuedKey:
    access.require_admin(actor)
    organisation = await Organisation.get_or_none(id=organisation_id)
    if organisation is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Organisation not found.", ["organisationId"])
    if role is ApiKeyRole.ADMIN:
        raise DomainError(ErrorCode.INVALID, "Admin keys are issued with the CLI only.", ["role"])
    return await access.issue_key(role, organisation)


async def revoke_api_key(actor: Actor, public_id: str) -> None:
    access.require_admin(actor)
    if not await access.revoke_key(public_id):
        raise DomainError(ErrorCode.NOT_FOUND, "No active API key has this id.", ["keyId"])
