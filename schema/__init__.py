"""The Strawberry schema: root types merged from per-domain query and mutation classes."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema import fastpath
from schema.context import Info, ReleaseLoaders
from schema.limits import PreparedDocument
from schema.mutations.certificates import CertificateMutations
from schema.mutations.exchanges import ExchangeMutations
from schema.mutations.invitations import InvitationMutations, InvitationQueries
from schema.mutations.organisations import OrganisationMutations
from schema.mutations.privacy import PrivacyMutations
from schema.mutations.reports import ReportMutations, ReportQueries
from schema.mutations.roster import RosterMutations
from schema.mutations.sessions_changes import SessionChangeMutations
from schema.mutations.volunteers import VolunteerMutations
from schema.mutations.webhooks import WebhookMutations, WebhookQueries
from schema.node import resolve_node
from schema.queries import ExchangeQueries, OrganisationQueries, VolunteerQueries
from schema.scalars import SCALAR_MAP
from schema.subscriptions import InvitationSubscriptions, ParticipationSubscriptions, SharedEventExecutor
from schema.types.node import Node
from schema.types.statistics import StatisticsQueries


@strawberry.type
class NodeQuery:
    @strawberry.field
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        info.context.actor  # noqa: B018  (an invalid key is refused)
        return await resolve_node(info, id)


# Each area adds its root classes here (and nothing else in this file).
QUERY_PARTS: tuple[type, ...] = (
    NodeQuery,
    OrganisationQueries,
    ExchangeQueries,
    VolunteerQueries,
    InvitationQueries,
    WebhookQueries,
    ReportQueries,
    StatisticsQueries,
)
MUTATION_PARTS: tuple[type, ...] = (
    OrganisationMutations,
    ExchangeMutations,
    VolunteerMutations,
    InvitationMutations,
    SessionChangeMutations,
    WebhookMutations,
    PrivacyMutations,
    ReportMutations,
    CertificateMutations,
    RosterMutations,
)
SUBSCRIPTION_PARTS: tuple[type, ...] = (InvitationSubscriptions, ParticipationSubscriptions)
EXTRA_TYPES: tuple[type, ...] = ()
# Schema extensions, per request. PreparedDocument: parse/validation cache and the limits;
# ReleaseLoaders: frees the request's loaded objects by reference counting (schema.context).
EXTENSIONS: tuple[type, ...] = (PreparedDocument, ReleaseLoaders)

Query = merge_types("Query", QUERY_PARTS)
Mutation = merge_types("Mutation", MUTATION_PARTS)
Subscription = merge_types("Subscription", SUBSCRIPTION_PARTS) if SUBSCRIPTION_PARTS else None


class ExchangeSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Expected refusals and request errors are the caller's business, not the log's;
        # unexpected ones are logged with their request id where they are masked (schema.http).
        return None


def build_schema(**kwargs: Any) -> strawberry.Schema:
    built = ExchangeSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=EXTRA_TYPES,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
        extensions=kwargs.pop("extensions", list(EXTENSIONS)),
        # Subscriptions: one execution per event for subscribers that would get the same answer.
        execution_context_class=kwargs.pop("execution_context_class", SharedEventExecutor),
        **kwargs,
    )
    # Direct resolver calls where Strawberry's per-call wrapper changes nothing (schema.fastpath).
    fastpath.install(built)
    return built


schema = build_schema()


def export_sdl() -> str:
    return schema.as_str() + "\n"
