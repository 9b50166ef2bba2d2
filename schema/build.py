"""The Strawberry schema: root types merged from per-domain query and mutation classes.

Built on demand (``build_schema``, or ``default_schema`` for the one the app and CLI serve),
never at import time."""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.admission.extension import PreparedDocument
from schema.api.context import Info, ReleaseLoaders
from schema.api.mutations.certificates import CertificateMutations
from schema.api.mutations.exchanges import ExchangeMutations
from schema.api.mutations.invitations import InvitationMutations, InvitationQueries
from schema.api.mutations.organisations import OrganisationMutations
from schema.api.mutations.privacy import PrivacyMutations
from schema.api.mutations.reports import ReportMutations, ReportQueries
from schema.api.mutations.roster import RosterMutations
from schema.api.mutations.sessions_changes import SessionChangeMutations
from schema.api.mutations.volunteers import VolunteerMutations
from schema.api.mutations.webhooks import WebhookMutations, WebhookQueries
from schema.api.node import NODE_LOOKUP, resolve_node
from schema.api.queries import ExchangeQueries, OrganisationQueries, VolunteerQueries
from schema.api.scalars import SCALAR_MAP
from schema.api.subscriptions.invitations import InvitationSubscriptions
from schema.api.subscriptions.participations import ParticipationSubscriptions
from schema.api.subscriptions.shared_execution import SharedEventExecutor
from schema.api.types.node import Node
from schema.api.types.statistics import StatisticsQueries
from schema.engine import fastpath
from schema.engine.declarations import declare


@strawberry.type
class NodeQuery:
    @strawberry.field(metadata=declare(NODE_LOOKUP))
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
# ReleaseLoaders: frees the request's loaded objects by reference counting (schema.api.context).
EXTENSIONS: tuple[type, ...] = (PreparedDocument, ReleaseLoaders)

Query = merge_types("Query", QUERY_PARTS)
Mutation = merge_types("Mutation", MUTATION_PARTS)
Subscription = merge_types("Subscription", SUBSCRIPTION_PARTS) if SUBSCRIPTION_PARTS else None


class ExchangeSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Expected refusals and request errors are the caller's business, not the log's;
        # unexpected ones are logged with their request id where they are masked (schema.transport.http).
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
    # Direct resolver calls where Strawberry's per-call wrapper changes nothing (schema.engine.fastpath).
    fastpath.install(built)
    return built


@cache
def default_schema() -> strawberry.Schema:
    """The schema the app and the CLI serve: built once, on first use."""
    return build_schema()


def export_sdl() -> str:
    return default_schema().as_str() + "\n"
