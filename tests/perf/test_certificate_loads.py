"""Participation.certificate loads what its selected fields need: the certificate row for
status, language and the dates; for verificationUrl also the exchange (its host) only for an
organisation (an admin's and an anonymous caller's answer does not depend on it), and the
volunteer (their sending organisation) only for an organisation other than the host, the one
caller whose answer depends on it. Counted where the database receives the statements
(tests/perf/sqlcount.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from exchange.models import ApiKeyRole, ExchangeStatus, Participation, ParticipationStatus
from tests.api.exchange_fixtures import gid, make_exchange, make_volunteer
from tests.conftest import GraphQLClient, make_key, make_organisation
from tests.perf.sqlcount import SqlCounter

ISSUE = """mutation($id: ID!) {
  issueCertificate(participationId: $id) { participation { id } userErrors { field message code } }
}"""
BARE = "query($id: ID!) { node(id: $id) { ... on Participation { id } } }"
STATE = """query($id: ID!) {
  node(id: $id) { ... on Participation { id certificate { status issuedAt revokedAt language } } }
}"""
WITH_URL = """query($id: ID!) {
  node(id: $id) { ... on Participation { id certificate { status issuedAt revokedAt language verificationUrl } } }
}"""


async def _count(gql: GraphQLClient, sql: SqlCounter, document: str, variables: Any, key: str | None) -> Any:
    return (await sql.answer_warm(gql, document, variables, key))["node"]


# Statements beyond the bare node(id): (without verificationUrl, with it), and whether the
# caller reads the address.
EXPECTED = {
    "admin": ((1, 1), True),  # the certificate
    "host": ((1, 2), True),  # and the exchange, whose host decides
    "sender": ((1, 3), True),  # and the volunteer, whose organisation decides
    "other": ((1, 3), False),
    "anonymous": ((1, 1), False),
}


@pytest.mark.parametrize("caller", sorted(EXPECTED))
async def test_the_exchange_and_the_volunteer_are_loaded_only_when_they_decide(
    gql: GraphQLClient, sql: SqlCounter, admin_key: str, caller: str
) -> None:
    host, sender, other = [await make_organisation(slug) for slug in ("host", "sender", "other")]
    now = dt.datetime.now(dt.UTC)
    exchange = await make_exchange(
        "aral",
        host,
        status=ExchangeStatus.CLOSED,
        starts_on=(now - dt.timedelta(days=12)).date(),
        ends_on=(now - dt.timedelta(days=10)).date(),
    )
    # A public profile: every caller sees the participation.
    volunteer = await make_volunteer("Aliya", organisation=sender, public_profile=True)
    participation = await Participation.create(
        volunteer=volunteer, exchange=exchange, status=ParticipationStatus.ATTENDED, hours=6.0
    )
    host_key = await make_key(host, ApiKeyRole.ORGANISATION)
    issued = await gql(ISSUE, {"id": gid(participation)}, key=host_key)
    assert issued["data"]["issueCertificate"]["userErrors"] == [], issued
    keys = {
        "admin": admin_key,
        "host": host_key,
        "sender": await make_key(sender, ApiKeyRole.ORGANISATION),
        "other": await make_key(other, ApiKeyRole.ORGANISATION),
        "anonymous": None,
    }
    variables = {"id": gid(participation)}
    (state_extra, url_extra), reads_url = EXPECTED[caller]

    await _count(gql, sql, BARE, variables, keys[caller])
    bare = sql.data
    state = await _count(gql, sql, STATE, variables, keys[caller])
    assert sql.data == bare + state_extra, "\n".join(sql.log.data_statements())
    with_url = await _count(gql, sql, WITH_URL, variables, keys[caller])
    assert sql.data == bare + url_extra, "\n".join(sql.log.data_statements())

    assert state["certificate"]["status"] == "VALID"
    assert {k: v for k, v in with_url["certificate"].items() if k != "verificationUrl"} == state[
        "certificate"
    ]
    url = with_url["certificate"]["verificationUrl"]
    assert (url is not None) is reads_url
    if reads_url:
        assert url.startswith("https://exchange.test/")
