"""The waiting list's fields cost the same number of SQL statements for a page of 5
invitations as for 50 (Invitation.waitlistPosition: one statement for every waiting
invitation of a response), counted where the database receives them (tests/perf/sqlcount.py),
on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from exchange.invitations import tokens
from exchange.models import Invitation, InvitationStatus
from exchange.settings import Settings
from tests.conftest import GraphQLClient, make_key, make_organisation
from tests.invitations.conftest import make_exchange
from tests.perf.sqlcount import SqlCounter

PAGE = """query($first: Int!) { exchange(slug: "aral-week") {
  invitations(first: $first) { edges { node { id status waitlistPosition offerExpiresAt withdrawnAt } } } } }"""
STATUSES = (InvitationStatus.WAITLISTED, InvitationStatus.OFFERED, InvitationStatus.WITHDRAWN)


async def _count(
    gql: GraphQLClient, sql: SqlCounter, key: str, first: int
) -> tuple[list[dict[str, Any]], int]:
    await sql.settle()
    sql.reset()
    result = await gql(PAGE, {"first": first}, key=key)
    await sql.settle()
    assert "errors" not in result, result
    return [edge["node"] for edge in result["data"]["exchange"]["invitations"]["edges"]], sql.data


async def test_a_page_of_invitations_costs_the_same_for_5_and_50(
    app: Any, gql: GraphQLClient, sql: SqlCounter, settings: Settings
) -> None:
    host = await make_organisation("steppe-volunteers")
    key = await make_key(host)
    exchange = await make_exchange(host, capacity=1, waitlist=True)
    start = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    await Invitation.bulk_create(
        [
            Invitation(
                exchange_id=exchange.id,
                invited_by_id=host.id,
                email=f"w{i}@example.org",
                email_normalised=f"w{i}@example.org",
                full_name=f"Waiting {i}",
                country="KZ",
                locale="kk",
                status=STATUSES[i % 3],
                token_nonce=f"{i:032x}",
                token_hash=tokens.token_hash(tokens.token_for(f"{i:032x}", settings.signing_key)),
                expires_at=start + dt.timedelta(days=30),
                waitlisted_at=start + dt.timedelta(minutes=i),
                offer_expires_at=start + dt.timedelta(days=400) if i % 3 == 1 else None,
            )
            for i in range(60)
        ]
    )
    small, few = await _count(gql, sql, key, 5)
    large, many = await _count(gql, sql, key, 50)
    assert few == many
    waiting = [node["waitlistPosition"] for node in large if node["status"] == "WAITLISTED"]
    assert waiting == list(range(1, len(waiting) + 1)) and len(waiting) == 17
    assert all(node["waitlistPosition"] is None for node in large if node["status"] != "WAITLISTED")
    assert [node["status"] for node in small] == [
        "WAITLISTED",
        "OFFERED",
        "WITHDRAWN",
        "WAITLISTED",
        "OFFERED",
    ]
