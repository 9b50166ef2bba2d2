from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from exchange import models
from exchange.sql import Page
from schema.api import fetches
from schema.api.connections import Connection, build_connection
from schema.api.context import Info
from schema.api.types.certificate import Certificate, IssuedCertificate
from schema.api.types.enums import ParticipationRole, ParticipationStatus
from schema.api.types.node import Node, model_identity
from schema.engine.declarations import Reads, ToOne, declare

if TYPE_CHECKING:
    from schema.api.types.exchange import ExperienceExchange, Session
    from schema.api.types.organisation import Organisation
    from schema.api.types.volunteer import Volunteer


def page_connection(page: Page) -> Connection[Any]:
    return build_connection(page.nodes, page.start, page.total)


@strawberry.type(name="Participation")
class Participation(Node):
    is_type_of, id = model_identity(models.Participation, "Participation")

    @strawberry.field(
        graphql_type=Annotated["Volunteer", strawberry.lazy("schema.api.types.volunteer")],
        metadata=declare(
            ToOne("volunteer_id", fetches.volunteers_by_id, loader="volunteer", every_key=True),
            joins=fetches.VOLUNTEER_JOINS,
        ),
    )
    @staticmethod
    async def volunteer(root: strawberry.Parent[models.Participation], info: Info) -> models.Volunteer | None:
        return await info.context.loaders.volunteer.load(root.volunteer_id)

    @strawberry.field(
        graphql_type=Annotated["ExperienceExchange", strawberry.lazy("schema.api.types.exchange")],
        metadata=declare(
            ToOne("exchange_id", fetches.exchanges_by_id, loader="exchange", every_key=True),
            joins=fetches.EXCHANGE_JOINS,
        ),
    )
    @staticmethod
    async def exchange(root: strawberry.Parent[models.Participation], info: Info) -> models.Exchange | None:
        return await info.context.loaders.exchange.load(root.exchange_id)

    role: ParticipationRole
    status: ParticipationStatus
    hours: float | None
    joined_at: dt.datetime
    recorded_at: dt.datetime | None = strawberry.field(
        description="When the host recorded attendance (recordAttendance); null until then."
    )

    @strawberry.field(
        description="The organisation whose key recorded attendance (the host); null until recorded, "
        "or when a platform admin recorded it.",
        graphql_type=Annotated["Organisation", strawberry.lazy("schema.api.types.organisation")] | None,
        metadata=declare(
            ToOne(
                "recorded_by_id", fetches.organisations, loader="organisation", every_key=True, shared=True
            ),
            joins=fetches.ORGANISATION_JOINS,
        ),
    )
    @staticmethod
    async def recorded_by(
        root: strawberry.Parent[models.Participation], info: Info
    ) -> models.Organisation | None:
        recorded_by_id = root.recorded_by_id
        return (
            None if recorded_by_id is None else await info.context.loaders.organisation.load(recorded_by_id)
        )

    @strawberry.field(
        description="The sessions attended, as recorded with the attendance, by start time.",
        graphql_type=list[Annotated["Session", strawberry.lazy("schema.api.types.exchange")]],
        metadata=declare(Reads("attended_session_ids", returned=("starts_at",))),
    )
    @staticmethod
    async def attended_sessions(
        root: strawberry.Parent[models.Participation], info: Info
    ) -> list[models.Session]:
        found = await info.context.loaders.session.load_many(list(root.attended_session_ids or []))
        return sorted((s for s in found if s is not None), key=lambda s: (s.starts_at, s.id))

    @strawberry.field(
        description="Its certificate of participation: the valid one, else the last revoked; null when none "
        "was issued.",
        graphql_type=Certificate | None,
        metadata=declare(Reads("volunteer_id", "id", "exchange_id")),
    )
    @staticmethod
    async def certificate(
        root: strawberry.Parent[models.Participation], info: Info
    ) -> IssuedCertificate | None:
        row = await info.context.loaders.participation_certificate.load(root.id)
        # The exchange and the volunteer are Certificate.verificationUrl's to load, if asked.
        return None if row is None else IssuedCertificate(row, root.exchange_id, root.volunteer_id)
