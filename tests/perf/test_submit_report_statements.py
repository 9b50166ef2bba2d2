"""reports.submit_report loads the exchange's partners once per call: the visibility rule
(which needs them when a partner writes on a draft) and the author's kind share one load.
Counted where the database receives the statements (tests/perf/sqlcount.py), on SQLite and
PostgreSQL; the report written is the same as before."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from exchange import access, reports
from exchange.access import Actor, Role
from exchange.errors import DomainError, ErrorCode
from exchange.models import ExchangeStatus, ReportAuthorKind, ReportStatus
from exchange.validation import LocalizedText
from tests.api.exchange_fixtures import make_exchange
from tests.conftest import make_organisation
from tests.perf.sqlcount import SqlCounter

NOW = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
REPORT = reports.NewReport(
    titles=[LocalizedText("en", "Saxaul week")], bodies=[LocalizedText("en", "We planted saxaul.")]
)


@pytest.mark.parametrize("status", [ExchangeStatus.DRAFT, ExchangeStatus.CLOSED])
@pytest.mark.parametrize("writer", ["host", "partner"])
async def test_the_partners_are_loaded_once(sql: SqlCounter, status: ExchangeStatus, writer: str) -> None:
    host, partner = await make_organisation("host"), await make_organisation("partner")
    exchange = await make_exchange(
        "aral", host, partners=[partner], status=status, starts_on=dt.date(2025, 9, 1)
    )
    actor = Actor(Role.ORGANISATION, (host if writer == "host" else partner).id)
    await sql.settle()
    sql.reset()

    report = await reports.submit_report(actor, exchange.id, REPORT, now=NOW)

    await sql.settle()
    assert len(sql.reading("exchange_partner")) == 1, "\n".join(sql.log.data_statements())
    kind = ReportAuthorKind.HOST if writer == "host" else ReportAuthorKind.PARTNER
    assert (report.author_kind, report.author_organisation_id) == (kind, actor.organisation_id)
    assert report.status is (ReportStatus.PUBLISHED if writer == "host" else ReportStatus.SUBMITTED)


async def test_refusals_are_unchanged(app: Any) -> None:
    host, other = await make_organisation("host"), await make_organisation("other")
    draft = await make_exchange("aral", host, status=ExchangeStatus.DRAFT, starts_on=dt.date(2025, 9, 1))
    closed = await make_exchange(
        "balkhash", host, status=ExchangeStatus.CLOSED, starts_on=dt.date(2025, 9, 1)
    )
    stranger = Actor(Role.ORGANISATION, other.id)
    cases = [
        # Another organisation's draft reads like an unknown exchange.
        (stranger, draft.id, ErrorCode.NOT_FOUND),
        (stranger, draft.id + closed.id + 1, ErrorCode.NOT_FOUND),
        # It sees the closed one, but writes on it neither as host nor as partner.
        (stranger, closed.id, ErrorCode.FORBIDDEN),
        # Admins moderate and write none.
        (Actor(Role.ADMIN), closed.id, ErrorCode.FORBIDDEN),
        (access.ANONYMOUS, closed.id, ErrorCode.UNAUTHENTICATED),
    ]
    for actor, exchange_id, code in cases:
        with pytest.raises(DomainError) as refused:
            await reports.submit_report(actor, exchange_id, REPORT, now=NOW)
        assert [p.code for p in refused.value.problems] == [code], (actor, exchange_id)
