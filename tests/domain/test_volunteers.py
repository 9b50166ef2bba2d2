"""exchange.volunteers without GraphQL: who registers and edits a volunteer, the tidying of
names, addresses and skills (each skill once, folded and framed for the search), every
problem at once with nothing written."""

from __future__ import annotations

from exchange.models import Volunteer
from exchange.volunteers import NewVolunteer, VolunteerChanges, register_volunteer, update_volunteer
from tests.domain.conftest import ADMIN, ANONYMOUS, READ_ONLY, World, problems, refused


def new_volunteer(email: str = "aigerim@example.org", **fields: object) -> NewVolunteer:
    values: dict[str, object] = {"full_name": "Aigerim", "email": email, "country": "KZ", "languages": ["kk"]}
    values.update(fields)
    return NewVolunteer(**values)  # type: ignore[arg-type]


async def test_who_registers_a_volunteer_for_whom(world: World) -> None:
    assert (await refused(register_volunteer(ANONYMOUS, new_volunteer()))).code.value == "UNAUTHENTICATED"
    assert (await refused(register_volunteer(READ_ONLY, new_volunteer()))).code.value == "FORBIDDEN"
    for_another = await refused(
        register_volunteer(world.host_actor, new_volunteer(organisation_id=world.other.id))
    )
    assert for_another.code.value == "FORBIDDEN"
    own = await register_volunteer(world.host_actor, new_volunteer())
    assert own.organisation_id == world.host.id
    # An admin registers for any organisation, or none.
    unattached = await register_volunteer(ADMIN, new_volunteer("daniyar@example.org"))
    assert unattached.organisation_id is None
    assert (
        await refused(register_volunteer(ADMIN, new_volunteer("x@example.org", organisation_id=999_999)))
    ).code.value == ("NOT_FOUND")


async def test_names_addresses_and_skills_are_tidied(world: World) -> None:
    volunteer = await register_volunteer(
        world.host_actor,
        new_volunteer(
            "Aigerim@Example.ORG",
            full_name="  Aigerim   Nurlanovna ",
            skills=["First aid", " first   AID ", "Ёлки"],
        ),
    )
    assert volunteer.full_name == "Aigerim Nurlanovna"
    assert volunteer.email == "aigerim@example.org"
    assert volunteer.skills == ["First aid", "Ёлки"]  # the same skill twice is kept once
    # Framed by newlines, so a search matches whole skills, the first and the last too.
    assert volunteer.skills_folded.startswith("\n") and volunteer.skills_folded.endswith("\n")
    assert volunteer.skills_folded.count("\n") == 3

    taken = await refused(register_volunteer(world.host_actor, new_volunteer("AIGERIM@example.org")))
    assert problems(taken) == {("CONFLICT", "email")}

    before = await Volunteer.all().count()
    error = await refused(
        register_volunteer(
            world.host_actor,
            new_volunteer("not-an-address", full_name="   ", skills=["ok", "  ", "x" * 101], languages=[]),
        )
    )
    assert {field for _, field in problems(error)} == {
        "fullName",
        "email",
        "skills.1",
        "skills.2",
        "languages",
    }
    too_many = await refused(
        register_volunteer(
            world.host_actor, new_volunteer("b@example.org", skills=[f"s{i}" for i in range(51)])
        )
    )
    assert problems(too_many) == {("INVALID", "skills")}
    assert await Volunteer.all().count() == before


async def test_the_sending_organisation_edits_and_only_an_admin_moves(world: World) -> None:
    volunteer = await register_volunteer(world.host_actor, new_volunteer(skills=["first aid"]))
    # Another organisation does not see the volunteer: to it the id names nothing.
    hidden = await refused(update_volunteer(world.other_actor, volunteer.id, VolunteerChanges(full_name="X")))
    assert problems(hidden) == {("NOT_FOUND", "id")}
    moving = await refused(
        update_volunteer(world.host_actor, volunteer.id, VolunteerChanges(organisation_id=world.other.id))
    )
    assert moving.code.value == "FORBIDDEN"
    cleared = await refused(
        update_volunteer(
            world.host_actor, volunteer.id, VolunteerChanges(full_name=None, email=None, skills=["  "])
        )
    )
    assert problems(cleared) == {("INVALID", "fullName"), ("INVALID", "email"), ("INVALID", "skills.0")}
    assert (await Volunteer.get(id=volunteer.id)).skills == ["first aid"]

    edited = await update_volunteer(
        world.host_actor, volunteer.id, VolunteerChanges(skills=["Tree planting"])
    )
    assert edited.skills == ["Tree planting"] and "tree planting" in edited.skills_folded
    moved = await update_volunteer(ADMIN, volunteer.id, VolunteerChanges(organisation_id=world.other.id))
    assert moved.organisation_id == world.other.id
    # Now the former sender no longer edits it.
    assert (
        await refused(update_volunteer(world.host_actor, volunteer.id, VolunteerChanges(full_name="Y")))
    ).code.value in ("FORBIDDEN", "NOT_FOUND")
