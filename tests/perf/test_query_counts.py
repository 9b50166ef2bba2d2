"""SQL statements per GraphQL operation: constant in the page size, and never more than the
committed baseline (tests/perf/query_counts.json, keyed by backend then operation).

Each operation runs twice, with page size 5 and with page size 50, over a data set where
the larger page holds ten times as many objects; the number of data statements (BEGIN,
COMMIT, savepoints and driver chatter excluded, see tests/perf/sqlcount.py) must be the same.

When a count grows the test fails. When it shrinks the test passes and says so at the end
of the run; lower the baseline with

    EXCHANGE_UPDATE_QUERY_COUNTS=1 pytest tests/perf/test_query_counts.py

and commit tests/perf/query_counts.json (the same command records new operations).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from graphql import parse, validate

from bench.runner import operations as bench_operations
from exchange import models
from exchange.invitations import tokens
from exchange.models import ApiKeyRole
from schema.api.relay import encode_id
from tests.conftest import GraphQLClient, make_key
from tests.perf.seed import seed
from tests.perf.sqlcount import SqlCounter

BASELINE = Path(__file__).with_name("query_counts.json")
UPDATE = os.environ.get("EXCHANGE_UPDATE_QUERY_COUNTS") == "1"
BENCH = bench_operations()

# Notes for the end-of-run summary (counts that shrank, baselines written).
NOTES: list[str] = []


@dataclass(frozen=True)
class Operation:
    name: str
    document: str
    # Variables for a page size; None: the operation does not page (counted once).
    variables: Any
    key: str | None = None  # "admin" | "organisation" | None (anonymous)


STATISTICS_FIGURES = """
fragment Figures on ImpactStatistics {
  exchangeCount participantCount volunteerHours distinctCountries
  participantsByCountry { country count } participantsByRole { role count }
  invitationsByStatus { status count } exchangesByTheme { theme count } exchangesByCountry { country count }
  outcomeTotals { metric unit total exchangeCount label }
}"""


# The seed's first exchange and volunteer (primary key 1 in the test's fresh database).
FIRST_EXCHANGE = encode_id("ExperienceExchange", 1)
FIRST_VOLUNTEER = encode_id("Volunteer", 1)


def _paged(size: int) -> dict[str, Any]:
    return {"first": size}


OPERATIONS = [
    Operation("ExchangesPage", BENCH["ExchangesPage"], _paged),
    Operation("LargeResult", BENCH["LargeResult"], _paged),
    Operation("NodeLookupExchange", BENCH["NodeLookup"], lambda _size: {"id": FIRST_EXCHANGE}),
    Operation("NodeLookupVolunteer", BENCH["NodeLookup"], lambda _size: {"id": FIRST_VOLUNTEER}),
    # node(id:) from rows with nested levels: the exchange with its host joined, then one
    # statement per level (partners, sessions, their speakers, the participants' page).
    Operation(
        "NodeLookupExchangeNested",
        """query NodeLookupExchangeNested($id: ID!, $first: Int!) {
          node(id: $id) { id ... on ExperienceExchange { slug title host { id name } partners { id name }
            sessions { id title startsAt speakers { id fullName } }
            participants(first: $first) { totalCount edges { node { id role volunteer { id fullName } } } } } }
        }""",
        lambda size: {"id": FIRST_EXCHANGE, "first": size},
    ),
    Operation(
        "ExchangeDetails",
        """query ExchangeDetails($first: Int!) {
          exchanges(first: $first) {
            totalCount pageInfo { hasNextPage endCursor }
            edges { cursor node {
              id title description theme status country city startsOn endsOn timeZone capacity seatsLeft languages
              titles { locale text } descriptions { locale text }
              host { id name parent { id name } }
              partners { id name kind }
              sessions { id title startsAt endsAt format venue onlineUrl language capacity
                exchange { id slug } speakers { id fullName organisation { id name } } }
              participants(first: $first) { totalCount pageInfo { hasNextPage }
                edges { node { id role status hours joinedAt exchange { id } volunteer { id fullName } } } }
            } }
          }
        }""",
        _paged,
    ),
    Operation(
        "ParticipantCountries",
        """query ParticipantCountries($first: Int!) {
          exchanges(first: $first) { edges { node { id participantCountsByCountry { country count } } } }
        }""",
        _paged,
    ),
    Operation(
        "OrganisationExchanges",
        """query OrganisationExchanges($first: Int!) {
          organisations(first: $first) {
            totalCount
            edges { node {
              id slug name kind country parent { id name }
              exchanges(first: $first) { totalCount edges { node { id title host { id name } partners { id } } } }
            } }
          }
        }""",
        _paged,
    ),
    Operation(
        "VolunteersAsAdmin",
        """query VolunteersAsAdmin($first: Int!) {
          volunteers(first: $first) {
            totalCount
            edges { node {
              id fullName email country languages skills organisation { id name }
              participations(first: $first) { totalCount
                edges { node { id role status exchange { id title host { name } } volunteer { id } } } }
            } }
          }
        }""",
        _paged,
        key="admin",
    ),
    Operation(
        "VolunteersAsOrganisation",
        """query VolunteersAsOrganisation($first: Int!) {
          volunteers(first: $first) {
            totalCount
            edges { node { id fullName email participations(first: $first) { totalCount edges { node { id } } } } }
          }
        }""",
        _paged,
        key="organisation",
    ),
    Operation(
        "AttendanceAsAdmin",
        """query AttendanceAsAdmin($first: Int!) {
          volunteers(first: $first) {
            edges { node { id totalHours noShowCount
              participations(first: $first) { edges { node {
                id status hours recordedAt recordedBy { id name } attendedSessions { id title startsAt } } } } } }
          }
        }""",
        _paged,
        key="admin",
    ),
    Operation(
        "AttendanceAsOrganisation",
        """query AttendanceAsOrganisation($first: Int!) {
          volunteers(first: $first) {
            edges { node { id totalHours noShowCount
              participations(first: $first) { edges { node {
                id status hours recordedAt recordedBy { id name } attendedSessions { id title startsAt } } } } } }
          }
        }""",
        _paged,
        key="organisation",
    ),
    Operation(
        "AttendanceOfParticipants",
        """query AttendanceOfParticipants($first: Int!) {
          exchanges(first: $first) { edges { node { id
            participants(first: $first) { edges { node { id hours recordedBy { name } attendedSessions { id }
              volunteer { id totalHours noShowCount } } } } } } }
        }""",
        _paged,
    ),
    Operation(
        "ExchangeInvitations",
        """query ExchangeInvitations($first: Int!) {
          exchanges(first: $first) {
            edges { node {
              id
              invitations(first: $first) { totalCount
                edges { node { id email fullName status createdAt expiresAt
                  exchange { id } invitedBy { id name } sessions { id title } volunteer { id fullName } } } }
            } }
          }
        }""",
        _paged,
        key="admin",
    ),
    Operation(
        "WebhookEndpoints",
        "query WebhookEndpoints { webhookEndpoints { id url description createdAt } }",
        lambda _size: {},
        key="organisation",
    ),
    Operation(
        "WebhookDeliveries",
        """query WebhookDeliveries($first: Int!, $endpoint: ID!) {
          webhookDeliveries(endpointId: $endpoint, first: $first) {
            totalCount edges { node { id eventId eventType status attempts createdAt deliveredAt } }
          }
        }""",
        lambda size: {"first": size, "endpoint": "V2ViaG9va0VuZHBvaW50OjE"},
        key="organisation",
    ),
    Operation(
        "InvitationPreview",
        """query InvitationPreview($token: String!) {
          invitation(token: $token) {
            fullName locale status expiresAt message
            exchange { id title host { name } } invitedBy { id name } sessions { id title startsAt }
          }
        }""",
        lambda _size: {"token": PREVIEW_TOKEN},
    ),
    Operation(
        "ExchangeOutcomes",
        """query ExchangeOutcomes($first: Int!) {
          exchanges(first: $first) { edges { node { id sdgs outcomes { metric value unit label labels { locale } } } } }
        }""",
        _paged,
    ),
    Operation(
        "ExperienceReports",
        """query ExperienceReports($first: Int!) {
          experienceReports(first: $first) {
            totalCount edges { node { id title bodyHtml status exchange { id title sdgs host { name } }
              outcomes { metric value label } author { kind organisation { name } volunteer { fullName } } } }
          }
        }""",
        _paged,
    ),
    # Impact statistics: one statement per statistic for every exchange or organisation of a page.
    Operation(
        "ExchangeStatistics",
        """query ExchangeStatistics($first: Int!) {
          exchanges(first: $first) { edges { node { id statistics { ...Figures } } } }
        }"""
        + STATISTICS_FIGURES,
        _paged,
    ),
    Operation(
        "OrganisationStatistics",
        """query OrganisationStatistics($first: Int!) {
          organisations(first: $first) { edges { node { id statistics(filter: {from: "2020-01-01"}) { ...Figures } } } }
        }"""
        + STATISTICS_FIGURES,
        _paged,
        key="organisation",
    ),
    Operation(
        "ImpactStatistics",
        """query ImpactStatistics { impactStatistics(filter: {from: "2020-01-01", to: "2035-12-31"}) { ...Figures } }"""
        + STATISTICS_FIGURES,
        lambda _size: {},
        key="admin",
    ),
]

PREVIEW_NONCE = "0f" * 16
PREVIEW_TOKEN = ""  # set by _seed_invitations (it depends on the app's secret key)


def _baseline() -> dict[str, dict[str, int]]:
    if BASELINE.exists():
        data: dict[str, dict[str, int]] = json.loads(BASELINE.read_text(encoding="utf-8"))
        return data
    return {}


def _record(backend: str, name: str, count: int) -> None:
    data = _baseline()
    data.setdefault(backend, {})[name] = count
    ordered = {b: dict(sorted(ops.items())) for b, ops in sorted(data.items())}
    BASELINE.write_text(json.dumps(ordered, indent=2) + "\n", encoding="utf-8")


def _unsupported(document: str) -> str | None:
    """Why the schema cannot run ``document`` yet (a field not built), or None."""
    from schema.build import default_schema

    schema = default_schema()
    errors = validate(schema._schema, parse(document))
    return "; ".join(e.message for e in errors) if errors else None


async def _seed_invitations(data_exchanges: int, signing_key: bytes) -> None:
    global PREVIEW_TOKEN
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    invitations = []
    for i in range(1, 241):
        nonce = PREVIEW_NONCE if i == 1 else f"{i:032x}"
        token = tokens.token_for(nonce, signing_key)
        if i == 1:
            PREVIEW_TOKEN = token
        invitations.append(
            models.Invitation(
                id=i,
                exchange_id=(i % data_exchanges) + 1,
                invited_by_id=2,  # not a host: no loader cache hit that depends on the page size
                email=f"invitee{i}@example.org",
                email_normalised=f"invitee{i}@example.org",
                full_name=f"Invitee {i}",
                country="KZ",
                locale=("kk", "ru", "en")[i % 3],
                status=models.InvitationStatus.SENT,
                token_nonce=nonce,
                token_hash=tokens.token_hash(token),
                expires_at=now + dt.timedelta(days=400),
                volunteer_id=(i % 100) + 1 if i % 4 == 0 else None,
            )
        )
    await models.Invitation.bulk_create(invitations)
    from tortoise import connections

    connection = connections.get("default")
    placeholders = "($1, $2)" if connection.capabilities.dialect != "sqlite" else "(?, ?)"
    await connection.execute_many(
        f"INSERT INTO invitation_session (invitation_id, session_id) VALUES {placeholders}",
        [[i, (i * 5) % 300 + 1] for i in range(1, 241) if i % 2 == 0],
    )


async def _seed_webhooks() -> None:
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    await models.WebhookEndpoint.bulk_create(
        [
            models.WebhookEndpoint(
                id=i, organisation_id=1, url=f"https://hooks.example.org/{i}", sealed_secret="s" * 32
            )
            for i in (1, 2, 3)
        ]
    )
    await models.WebhookDelivery.bulk_create(
        [
            models.WebhookDelivery(
                id=i,
                endpoint_id=1,
                event_id=f"evt_{i}",
                event_type="invitation.updated",
                payload={"n": i},
                next_attempt_at=now,
            )
            for i in range(1, 61)
        ]
    )


async def _seed_reports(data_exchanges: int) -> None:
    """Two outcomes per exchange, and one published report per exchange by one of the
    volunteers (half of the volunteers with a public profile)."""
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    await models.ExchangeOutcome.bulk_create(
        [
            models.ExchangeOutcome(
                exchange_id=exchange_id,
                position=position,
                metric=metric,
                value=10.0,
                labels={"en": "Shore"} if metric is models.OutcomeMetric.CUSTOM else {},
                recorded_at=now,
            )
            for exchange_id in range(1, data_exchanges + 1)
            for position, metric in enumerate(
                (models.OutcomeMetric.TREES_PLANTED, models.OutcomeMetric.CUSTOM)
            )
        ]
    )
    await models.ExperienceReport.bulk_create(
        [
            models.ExperienceReport(
                exchange_id=exchange_id,
                status=models.ReportStatus.PUBLISHED,
                author_kind=models.ReportAuthorKind.PARTICIPANT,
                author_volunteer_id=exchange_id,
                titles={"en": f"Report {exchange_id}"},
                bodies={"en": "We planted **saxaul**."},
                submitted_at=now,
                published_at=now,
            )
            for exchange_id in range(1, data_exchanges + 1)
        ]
    )


async def _count(
    gql: GraphQLClient, sql: SqlCounter, operation: Operation, size: int, key: str | None
) -> int:
    variables = operation.variables(size)
    # Warm-up: connections of the pool, prepared statements, lazy imports.
    await gql(operation.document, variables, key=key)
    await sql.settle()
    sql.reset()
    payload = await gql(operation.document, variables, key=key)
    await sql.settle()
    assert "errors" not in payload, payload["errors"]
    return sql.data


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.name for op in OPERATIONS])
async def test_statements_are_constant_and_within_baseline(
    operation: Operation, gql: GraphQLClient, sql: SqlCounter, admin_key: str, settings: Any
) -> None:
    reason = _unsupported(operation.document)
    if reason is not None:
        pytest.skip(f"{operation.name} needs what the schema does not have yet: {reason}")
    data = await seed()
    await _seed_invitations(len(data.exchanges), settings.signing_key)
    await _seed_webhooks()
    await _seed_reports(len(data.exchanges))
    keys = {
        "admin": admin_key,
        "organisation": await make_key(await models.Organisation.get(id=1), ApiKeyRole.ORGANISATION),
    }
    key = keys.get(operation.key or "")

    small = await _count(gql, sql, operation, 5, key)
    large = await _count(gql, sql, operation, 50, key)
    statements = sql.log.data_statements()
    assert small == large, (
        f"{operation.name} makes {small} statements for page size 5 but {large} for 50: "
        f"something is loaded per object. Statements of the larger run:\n" + "\n".join(statements)
    )
    assert large > 0, "nothing was counted: the counter is not attached"

    baseline = _baseline().get(sql.backend, {}).get(operation.name)
    if UPDATE:
        if baseline != large:
            _record(sql.backend, operation.name, large)
            NOTES.append(f"{sql.backend} {operation.name}: baseline {baseline} -> {large} written")
        return
    assert baseline is not None, (
        f"{operation.name} has no baseline for {sql.backend} ({large} statements); record it with "
        "EXCHANGE_UPDATE_QUERY_COUNTS=1 pytest tests/perf/test_query_counts.py and commit query_counts.json"
    )
    assert large <= baseline, (
        f"{operation.name} on {sql.backend} now makes {large} data statements, the baseline is {baseline}. "
        "Statements:\n" + "\n".join(statements)
    )
    if large < baseline:
        NOTES.append(
            f"{sql.backend} {operation.name}: {large} statements, baseline {baseline}: lower it with "
            "EXCHANGE_UPDATE_QUERY_COUNTS=1 pytest tests/perf/test_query_counts.py"
        )


# Lists built from the row's own columns: no database access, nothing to count.
IN_MEMORY = {"LocalizedText"}


def _covered() -> set[tuple[str, str]]:
    from graphql import TypeInfo, TypeInfoVisitor, Visitor, get_named_type, visit

    from schema.build import default_schema

    schema = default_schema()
    found: set[tuple[str, str]] = set()
    type_info = TypeInfo(schema._schema)

    class Collect(Visitor):
        def enter_field(self, node: Any, *_args: Any) -> None:
            parent = type_info.get_parent_type()
            if parent is not None:
                found.add((get_named_type(parent).name, node.name.value))

    for operation in OPERATIONS:
        if _unsupported(operation.document) is None:
            visit(parse(operation.document), TypeInfoVisitor(type_info, Collect()))
    return found


def _list_fields() -> set[tuple[str, str]]:
    """(type, field) of every list of objects and every connection reachable from Query."""
    from graphql import GraphQLInterfaceType, GraphQLList, GraphQLNonNull, GraphQLObjectType, get_named_type

    from schema.build import default_schema

    schema = default_schema()
    gschema = schema._schema
    result: set[tuple[str, str]] = set()
    seen: set[str] = set()
    todo: list[Any] = [gschema.query_type]
    while todo:
        current = todo.pop()
        if current.name in seen:
            continue
        seen.add(current.name)
        if isinstance(current, GraphQLInterfaceType):
            todo.extend(gschema.get_possible_types(current))
        for name, field in current.fields.items():
            named = get_named_type(field.type)
            if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
                continue
            todo.append(named)
            inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            is_list = isinstance(inner, GraphQLList)
            if named.name in IN_MEMORY or named.name.endswith(("Edge", "PageInfo")):
                continue
            if is_list or named.name.endswith("Connection"):
                result.add((current.name, name))
    return result


def test_every_list_and_connection_is_counted() -> None:
    """A new list field or connection needs an operation above (and a baseline)."""
    missing = sorted(_list_fields() - _covered())
    assert not missing, (
        "These lists/connections are not exercised by any query-count operation; add them to "
        f"OPERATIONS in {__file__}: {missing}"
    )
