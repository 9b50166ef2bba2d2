"""An exchange's partners are loaded only when they decide the answer: who sees its
invitations and who gets exact participant counts (exchanges.sees_invitations and
sees_exact_counts) need them only for an organisation other than the host. The admin and
the host answer without them, and so do anonymous and read-only callers. Counted where the
database receives the statements (tests/perf/sqlcount.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.models import ApiKeyRole
from tests.api.exchange_fixtures import gid, invite, make_exchange, make_volunteer, take_part
from tests.conftest import GraphQLClient, make_key, make_organisation
from tests.perf.sqlcount import SqlCounter

# Both fields ask their rule of an OPEN exchange, whose node(id) needs no partners itself.
ORGANISER_FIELDS = """query($id: ID!) {
  node(id: $id) { ... on ExperienceExchange {
    invitations(first: 5) { totalCount edges { node { id lastError } } }
    participantCountsByCountry { country count }
  } }
}"""


async def _count(gql: GraphQLClient, sql: SqlCounter, variables: dict[str, Any], key: str | None) -> Any:
    return (await sql.answer_warm(gql, ORGANISER_FIELDS, variables, key))["node"]


@pytest.mark.parametrize(
    ("caller", "loads_partners"),
    [("admin", False), ("host", False), ("anonymous", False), ("partner", True), ("other", True)],
)
async def test_partners_are_loaded_only_when_they_decide(
    gql: GraphQLClient, sql: SqlCounter, admin_key: str, caller: str, loads_partners: bool
) -> None:
    host, partner, other = [await make_organisation(slug) for slug in ("host", "partner", "other")]
    exchange = await make_exchange("aral", host, partners=[partner])
    for i in range(3):
        await take_part(await make_volunteer(f"Volunteer {i}", country="KZ"), exchange)
    await invite(exchange, "invitee@example.org", by=host, last_error="smtp.example.org refused")
    keys = {
        "admin": admin_key,
        "host": await make_key(host, ApiKeyRole.ORGANISATION),
        "partner": await make_key(partner, ApiKeyRole.ORGANISATION),
        "other": await make_key(other, ApiKeyRole.ORGANISATION),
        "anonymous": None,
    }

    node = await _count(gql, sql, {"id": gid(exchange)}, keys[caller])

    organiser = caller in {"admin", "host", "partner"}
    assert node["invitations"]["totalCount"] == (1 if organiser else 0)
    if organiser:
        assert node["invitations"]["edges"][0]["node"]["lastError"] == "smtp.example.org refused"
    # Exact counts for organisers; three people in one country survive the small-count rule.
    assert node["participantCountsByCountry"] == [{"country": "KZ", "count": 3}]
    # One statement serves both fields (the request's partner loader) when it is needed.
    assert len(sql.reading("exchange_partner")) == (1 if loads_partners else 0), "\n".join(
        sql.log.data_statements()
    )


async def test_the_host_makes_one_statement_less_than_a_partner(gql: GraphQLClient, sql: SqlCounter) -> None:
    host, partner = await make_organisation("host"), await make_organisation("partner")
    exchange = await make_exchange("aral", host, partners=[partner])
    await invite(exchange, "invitee@example.org", by=host)
    variables = {"id": gid(exchange)}

    as_partner = await _count(gql, sql, variables, await make_key(partner, ApiKeyRole.ORGANISATION))
    partner_statements = sql.data
    as_host = await _count(gql, sql, variables, await make_key(host, ApiKeyRole.ORGANISATION))

    assert as_host == as_partner  # both organise: the same answer
    assert sql.data == partner_statements - 1, "\n".join(sql.log.data_statements())


INVITATION = "query($id: ID!) { node(id: $id) { ... on Invitation { id lastError } } }"


# The lookup's own rule (invitations.manage.visible_invitation) asks for the partners only for
# another organisation, and for the exchange, both through the request's loaders, which answer
# the fields' rule (lastError) again: the exchange is read once whoever asks.
@pytest.mark.parametrize(
    ("caller", "sees", "partner_statements"),
    [("admin", True, 0), ("host", True, 0), ("partner", True, 1), ("other", False, 1)],
)
async def test_an_invitation_by_id_loads_partners_only_when_they_decide_and_its_exchange_once(
    gql: GraphQLClient, sql: SqlCounter, admin_key: str, caller: str, sees: bool, partner_statements: int
) -> None:
    host, partner, other = [await make_organisation(slug) for slug in ("host", "partner", "other")]
    exchange = await make_exchange("aral", host, partners=[partner])
    invitation = await invite(exchange, "invitee@example.org", by=host, last_error="mailbox full")
    keys = {
        "admin": admin_key,
        "host": await make_key(host, ApiKeyRole.ORGANISATION),
        "partner": await make_key(partner, ApiKeyRole.ORGANISATION),
        "other": await make_key(other, ApiKeyRole.ORGANISATION),
    }
    variables = {"id": gid(invitation)}
    node = (await sql.answer_warm(gql, INVITATION, variables, keys[caller]))["node"]

    assert node == ({"id": gid(invitation), "lastError": "mailbox full"} if sees else None)
    assert len(sql.reading("exchange_partner")) == partner_statements, "\n".join(sql.log.data_statements())
    assert len(sql.reading('FROM "exchange"')) == 1, "\n".join(sql.log.data_statements())


RESEND = """mutation($id: ID!) { resendInvitation(id: $id) {
  invitation { id status } userErrors { field code } } }"""
REVOKE = """mutation($id: ID!) { revokeInvitation(id: $id) {
  invitation { id status } userErrors { field code } } }"""


# Only the host (or an admin) resends and revokes, and both answer without the partners; a
# revocation then tells every organiser (its events), so it loads them once. Another
# organisation's refusal needs them: FORBIDDEN for a partner, NOT_FOUND for a stranger.
@pytest.mark.parametrize(
    ("caller", "mutation", "refusal", "partner_statements"),
    [
        ("admin", "resendInvitation", None, 0),
        ("host", "resendInvitation", None, 0),
        ("partner", "resendInvitation", "FORBIDDEN", 1),
        ("other", "resendInvitation", "NOT_FOUND", 1),
        ("admin", "revokeInvitation", None, 1),
        ("host", "revokeInvitation", None, 1),
        ("partner", "revokeInvitation", "FORBIDDEN", 1),
        ("other", "revokeInvitation", "NOT_FOUND", 1),
    ],
)
async def test_managing_an_invitation_loads_partners_only_when_they_decide(
    gql: GraphQLClient,
    sql: SqlCounter,
    admin_key: str,
    caller: str,
    mutation: str,
    refusal: str | None,
    partner_statements: int,
) -> None:
    host, partner, other = [await make_organisation(slug) for slug in ("host", "partner", "other")]
    exchange = await make_exchange("aral", host, partners=[partner])
    warm_up = await invite(exchange, "warm@example.org", by=host)
    counted = await invite(exchange, "counted@example.org", by=host)
    keys = {
        "admin": admin_key,
        "host": await make_key(host, ApiKeyRole.ORGANISATION),
        "partner": await make_key(partner, ApiKeyRole.ORGANISATION),
        "other": await make_key(other, ApiKeyRole.ORGANISATION),
    }
    document = RESEND if mutation == "resendInvitation" else REVOKE

    await gql(document, {"id": gid(warm_up)}, key=keys[caller])
    await sql.settle()
    sql.reset()
    answer = await gql(document, {"id": gid(counted)}, key=keys[caller])
    await sql.settle()

    if refusal == "FORBIDDEN":  # a GraphQL error: the partner sees the invitation
        assert [error["extensions"]["code"] for error in answer["errors"]] == [refusal], answer
    else:
        payload = answer["data"][mutation]
        if refusal is None:
            assert payload["userErrors"] == [], payload
            expected = "REVOKED" if mutation == "revokeInvitation" else "QUEUED"
            assert payload["invitation"]["status"] == expected
        else:
            refused = {"invitation": None, "userErrors": [{"field": ["id"], "code": refusal}]}
            assert payload == refused, payload
    assert len(sql.reading("exchange_partner")) == partner_statements, "\n".join(sql.log.data_statements())
