from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from exchange import models
from exchange.sql import Page
from schema.context import Info
from schema.relay import Connection, build_connection
from schema.types.enums import ParticipationRole, ParticipationStatus
from schema.types.node import Node, model_identity

if TYPE_CHECKING:
    from schema.types.exchange import ExperienceExchange
    from schema.types.volunteer import Volunteer


def page_connection(page: Page) -> Connection[Any]:
    return build_connection(page.nodes, page.start, page.total)


@strawberry.type(name="Participation")
class Participation(Node):
    is_type_of, id = model_identity(models.Participation, "Participation")

    @strawberry.field
    @staticmethod
    async def volunteer(
        root: strawberry.Parent[models.Participation], info: Info
    ) -> Annotated[Volunteer, strawberry.lazy("schema.types.volunteer")]:
        return await info.context.loaders.volunteer.load(root.volunteer_id)  # type: ignore[attr-defined]

    @strawberry.field
    @staticmethod
    async def exchange(
        root: strawberry.Parent[models.Participation], info: Info
    ) -> Annotated[ExperienceExchange, strawberry.lazy("schema.types.exchange")]:
        return await info.context.loaders.exchange.load(root.exchange_id)  # type: ignore[attr-defined]

    role: ParticipationRole
    status: ParticipationStatus
    hours: float | None
    joined_at: dt.datetime
