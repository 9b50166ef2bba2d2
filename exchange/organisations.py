"""Organisation services: create, update (admins), read, list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from exchange import access
from exchange.access import Actor
from exchange.errors import DomainError, ErrorCode, Problems, not_found
from exchange.exchanges import KEEP
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


@dataclass(frozen=True)
class OrganisationChanges:
    """Each field is KEEP (left out), None (cleared, where it may be) or the new value."""

    slug: Any = KEEP
    names: Any = KEEP
    kind: Any = KEEP
    country: Any = KEEP
    website: Any = KEEP
    parent_id: Any = KEEP
    contact_email: Any = KEEP


_NOT_CLEARABLE = {"slug": "slug", "names": "names", "kind": "kind"}


async def update_organisation(
    actor: Actor, organisation_id: int, changes: OrganisationChanges
) -> Organisation:
    """Admins keep organisations (regional teams, their parents, contact addresses) up to date;
    validated as when created. A new slug changes `organisation(slug:)` and the CLI's name
    for the organisation, never its id or keys."""
    access.require_admin(actor)
    organisation = await Organisation.get_or_none(id=organisation_id)
    if organisation is None:
        raise not_found("Organisation", ["id"])
    problems = Problems()
    values: dict[str, Any] = {}
    for name, input_name in _NOT_CLEARABLE.items():
        if getattr(changes, name) is None:
            problems.invalid("This field cannot be cleared.", input_name)
    if changes.slug not in (KEEP, None) and changes.slug != organisation.slug:
        check_slug(problems, changes.slug)
        values["slug"] = changes.slug
    if changes.names not in (KEEP, None):
        values["names"] = localized_map(problems, changes.names, "names", required=True, max_length=300)
    if changes.kind not in (KEEP, None):
        values["kind"] = changes.kind
    if changes.country is not KEEP:
        values["country"] = changes.country
    if changes.website is not KEEP:
        check_url(problems, changes.website, "website")
        values["website"] = changes.website
    if changes.contact_email is not KEEP:
        values["contact_email"] = (
            None
            if changes.contact_email is None
            else check_email(problems, changes.contact_email, "contactEmail")
        )
    if changes.parent_id is not KEEP:
        if changes.parent_id is not None:
            await _check_parent(problems, organisation.id, changes.parent_id)
        values["parent_id"] = changes.parent_id
    if "slug" in values and not problems and await Organisation.filter(slug=values["slug"]).exists():
        problems.add(ErrorCode.CONFLICT, f"The slug {values['slug']!r} is taken.", ["slug"])
    problems.raise_if_any()
    if not values:
        return organisation
    try:
        async with in_transaction() as connection:
            organisation.update_from_dict(values)
            await organisation.save(update_fields=list(values), using_db=connection)
    except IntegrityError:
        raise DomainError(ErrorCode.CONFLICT, f"The slug {values['slug']!r} is taken.", ["slug"]) from None
    return organisation


async def _check_parent(problems: Problems, organisation_id: int, parent_id: int) -> None:
    """The parent exists and is neither the organisation nor one of its descendants."""
    seen = {organisation_id}
    current: int | None = parent_id
    while current is not None:
        if current in seen:
            problems.invalid(
                "An organisation cannot be its own parent or its descendant's child.", "parentId"
            )
            return
        seen.add(current)
        ancestor = await Organisation.get_or_none(id=current)
        if ancestor is None:
            if current == parent_id:
                problems.add(ErrorCode.NOT_FOUND, "Parent organisation not found.", ["parentId"])
            return
        current = ancestor.parent_id


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
