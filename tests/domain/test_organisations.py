"""exchange.organisations without GraphQL: admins only, every problem at once with nothing
written, parents without cycles, and API keys (no admin keys over the API; a revocation is
announced on the bus)."""

from __future__ import annotations

from exchange import access
from exchange.models import ApiKey, ApiKeyRole, Organisation, OrganisationKind
from exchange.organisations import (
    NewOrganisation,
    OrganisationChanges,
    create_organisation,
    get_by_slug,
    issue_api_key,
    revoke_api_key,
    update_organisation,
)
from exchange.validation import LocalizedText
from tests.domain.conftest import ADMIN, RecordingBus, World, problems, refused


def new_organisation(slug: str = "kokshetau-youth", **fields: object) -> NewOrganisation:
    values: dict[str, object] = {
        "slug": slug,
        "names": [LocalizedText("en", "Youth")],
        "kind": OrganisationKind.NGO,
    }
    values.update(fields)
    return NewOrganisation(**values)  # type: ignore[arg-type]


async def test_admins_create_organisations_checked_whole(world: World) -> None:
    assert (
        await refused(create_organisation(world.host_actor, new_organisation()))
    ).code.value == "FORBIDDEN"
    before = await Organisation.all().count()
    error = await refused(
        create_organisation(
            ADMIN,
            new_organisation(
                "Not A Slug", names=[], website="ftp://x", contact_email="nobody", parent_id=999_999
            ),
        )
    )
    assert {field for _, field in problems(error)} == {"slug", "names", "website", "contactEmail", "parentId"}
    assert await Organisation.all().count() == before
    taken = await refused(create_organisation(ADMIN, new_organisation(world.host.slug)))
    assert problems(taken) == {("CONFLICT", "slug")}

    child = await create_organisation(
        ADMIN, new_organisation(parent_id=world.host.id, contact_email="Team@Youth.kz")
    )
    assert child.parent_id == world.host.id
    assert await get_by_slug("kokshetau-youth") == child
    assert await get_by_slug("no such slug!") is None


async def test_updates_keep_the_tree_a_tree(world: World) -> None:
    child = await create_organisation(ADMIN, new_organisation("child", parent_id=world.host.id))
    grandchild = await create_organisation(ADMIN, new_organisation("grandchild", parent_id=child.id))
    for parent_id in (world.host.id, grandchild.id):  # itself, its own descendant
        cycle = await refused(
            update_organisation(ADMIN, world.host.id, OrganisationChanges(parent_id=parent_id))
        )
        assert problems(cycle) == {("INVALID", "parentId")}
    assert (await Organisation.get(id=world.host.id)).parent_id is None

    cleared = await refused(
        update_organisation(ADMIN, child.id, OrganisationChanges(slug=None, names=None, kind=None))
    )
    assert problems(cleared) == {("INVALID", "slug"), ("INVALID", "names"), ("INVALID", "kind")}
    taken = await refused(update_organisation(ADMIN, child.id, OrganisationChanges(slug=world.host.slug)))
    assert problems(taken) == {("CONFLICT", "slug")}
    assert problems(await refused(update_organisation(ADMIN, 999_999, OrganisationChanges()))) == {
        ("NOT_FOUND", "id")
    }
    assert (
        await refused(update_organisation(world.host_actor, child.id, OrganisationChanges()))
    ).code.value == ("FORBIDDEN")

    # Moved under the grandchild's former grandparent's sibling: a legal move is written.
    moved = await update_organisation(ADMIN, grandchild.id, OrganisationChanges(parent_id=world.other.id))
    assert (await Organisation.get(id=moved.id)).parent_id == world.other.id


async def test_keys_issued_and_revoked_by_admins(world: World, bus: RecordingBus) -> None:
    refused_admin = await refused(issue_api_key(ADMIN, world.host.id, ApiKeyRole.ADMIN))
    assert problems(refused_admin) == {("INVALID", "role")}
    assert problems(await refused(issue_api_key(ADMIN, 999_999, ApiKeyRole.ORGANISATION))) == {
        ("NOT_FOUND", "organisationId")
    }
    assert (
        await refused(issue_api_key(world.host_actor, world.host.id, ApiKeyRole.READ_ONLY))
    ).code.value == ("FORBIDDEN")
    assert await ApiKey.all().count() == 0

    issued = await issue_api_key(ADMIN, world.host.id, ApiKeyRole.READ_ONLY)
    actor = await access.authenticate(issued.secret)
    assert actor.role is access.Role.READ_ONLY and actor.organisation_id == world.host.id
    await revoke_api_key(ADMIN, issued.public_id)
    assert bus.revoked_keys == [issued.public_id]  # every process ends the key's streams
    assert problems(await refused(revoke_api_key(ADMIN, issued.public_id))) == {("NOT_FOUND", "keyId")}
    assert bus.revoked_keys == [issued.public_id]
