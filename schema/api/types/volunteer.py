from __future__ import annotations

import strawberry

from exchange import access, models
from schema.api import fetches
from schema.api.connections import Connection
from schema.api.context import Info
from schema.api.scalars import CountryCode, LanguageCode
from schema.api.types.node import Node, model_identity
from schema.api.types.organisation import Organisation
from schema.api.types.participation import Participation, page_connection
from schema.engine.declarations import Reads, ToOne, declare


@strawberry.type(name="Volunteer")
class Volunteer(Node):
    is_type_of, id = model_identity(models.Volunteer, "Volunteer")

    full_name: str
    country: CountryCode
    languages: list[LanguageCode]
    skills: list[str]
    public_profile: bool = strawberry.field(
        description="The volunteer chose to be shown to everyone: anonymous and read-only callers "
        "see a volunteer in participant lists only then."
    )

    @strawberry.field(
        description="Sending organisation, if any.",
        graphql_type=Organisation | None,
        metadata=declare(
            ToOne(
                "organisation_id", fetches.organisations, loader="organisation", every_key=True, shared=True
            ),
            joins=fetches.ORGANISATION_JOINS,
        ),
    )
    @staticmethod
    async def organisation(
        root: strawberry.Parent[models.Volunteer], info: Info
    ) -> models.Organisation | None:
        organisation_id = root.organisation_id
        return (
            None if organisation_id is None else await info.context.loaders.organisation.load(organisation_id)
        )

    @strawberry.field(
        description="Personal data: null unless the viewer is a platform admin, the volunteer's "
        "organisation, or an organiser of an exchange in which the volunteer has accepted an invitation "
        "or takes part.",
        metadata=declare(Reads("email", "id", "organisation_id")),
    )
    @staticmethod
    async def email(root: strawberry.Parent[models.Volunteer], info: Info) -> str | None:
        actor = info.context.actor
        visible = access.volunteer_email_known_without_lookup(actor, root.organisation_id)
        if visible is None:
            organised = await info.context.loaders.organised_by_actor.load(root.id)
            visible = access.can_see_volunteer_email(actor, root.organisation_id, organised)
        return root.email if visible else None

    @strawberry.field(
        description="Hours of the volunteer's attended participations that the viewer may see (0 when none).",
        metadata=declare(Reads("id")),
    )
    @staticmethod
    async def total_hours(root: strawberry.Parent[models.Volunteer], info: Info) -> float:
        return await info.context.loaders.volunteer_hours.load(root.id)

    @strawberry.field(
        description="How many times the volunteer was recorded as a no-show, in any exchange. Hosts only: "
        "null unless the viewer is a platform admin or hosts an exchange the volunteer takes part in.",
        metadata=declare(Reads("id")),
    )
    @staticmethod
    async def no_show_count(root: strawberry.Parent[models.Volunteer], info: Info) -> int | None:
        return await info.context.loaders.volunteer_no_shows.load(root.id)

    @strawberry.field(
        description="Participations the viewer may see, by id: in exchanges it may see, and (for "
        "anyone but the exchange's organisers, the sending organisation and admins) only with a "
        "public profile.",
        metadata=declare(Reads("id")),
    )
    @staticmethod
    async def participations(
        root: strawberry.Parent[models.Volunteer],
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Participation]:
        args = info.context.page_args(first, after, last, before)
        return page_connection(await info.context.loaders.volunteer_participations.load((root.id, args)))
