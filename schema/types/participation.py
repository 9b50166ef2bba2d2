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

    @strawberry.field(graphql_type=Annotated["Volunteer", strawberry.lazy("schema.types.volunteer")])
    @staticmethod
    async def volunteer(root: strawberry.Parent[models.Participation], info: Info) -> models.Volunteer | None:
        return await info.context.loaders.volunteer.load(root.volunteer_id)

    @strawberry.field(graphql_type=Annotated["ExperienceExchange", strawberry.lazy("schema.types.exchange")])
    @staticmethod
    async def exchange(root: strawberry.Parent[models.Participation], info: Info) -> models.Exchange | None:
        return await info.context.loaders.exchange.load(root.exchange_id)

    role: ParticipationRole
    status: ParticipationStatus
    hours: float | None
    joined_at: dt.datetime
