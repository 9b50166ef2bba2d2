"""SQL statements for the new lists do not grow with the page: exchanges filtered by goal with
their outcomes, and experience reports with their exchange, outcomes and author, count the
same for a page of 5 and of 50 (ten times the objects), counted where the database receives
them (tests/perf/sqlcount.py), and no more than the numbers pinned here."""

from __future__ import annotations

import datetime as dt

import pytest

from exchange.models import (
    Exchange,
    ExchangeOutcome,
    ExchangeStatus,
    ExperienceReport,
    OutcomeMetric,
    ReportAuthorKind,
    ReportStatus,
    Theme,
    Volunteer,
)
from tests.conftest import GraphQLClient, make_organisation
from tests.perf.sqlcount import SqlCounter

EXCHANGES = """query($first: Int!) {
  exchanges(first: $first, filter: {sdgs: [13, 15]}) {
    totalCount edges { node { id slug sdgs host { name } outcomes { metric value unit label labels { locale } } } }
  }
}"""
REPORTS = """query($first: Int!) {
  experienceReports(first: $first, filter: {sdgs: [13], search: "saxaul"}) {
    totalCount edges { node { id title bodyHtml whatWorkedHtml photos status
      exchange { id title sdgs host { name } } outcomes { metric value label }
      author { kind organisation { name } volunteer { fullName } } } }
  }
}"""
# COUNT, the page with its hosts, outcomes.
EXCHANGES_STATEMENTS = 3
# COUNT, the page, exchanges, outcomes, organisations (hosts and authors' senders), volunteers.
REPORTS_STATEMENTS = 6


async def _seed(size: int) -> None:
    now = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    hosts = [await make_organisation(f"host-{i}") for i in range(3)]
    await Volunteer.bulk_create(
        [
            Volunteer(
                full_name=f"Volunteer {i}",
                email=f"v{i}@example.org",
                country="KZ",
                languages=["kk"],
                public_profile=i % 2 == 0,
                organisation_id=hosts[i % 3].id,
            )
            for i in range(size)
        ]
    )
    volunteers = list(await Volunteer.all().order_by("id"))
    await Exchange.bulk_create(
        [
            Exchange(
                slug=f"aral-{i}",
                titles={"en": f"Aral {i}"},
                descriptions={},
                search_text=f"aral {i}",
                theme=Theme.ECOLOGY,
                status=ExchangeStatus.COMPLETED,
                host_id=hosts[i % 3].id,
                country="KZ",
                starts_on=dt.date(2025, 9, 1),
                ends_on=dt.date(2025, 9, 5),
                time_zone="Asia/Qyzylorda",
                languages=["en"],
                sdgs=[13, 15] if i % 2 == 0 else [13],
            )
            for i in range(size)
        ]
    )
    exchanges = list(await Exchange.all().order_by("id"))
    await ExchangeOutcome.bulk_create(
        [
            ExchangeOutcome(
                exchange_id=exchange.id,
                position=position,
                metric=metric,
                value=10.0 * (position + 1),
                labels={"en": "Shore"} if metric is OutcomeMetric.CUSTOM else {},
                recorded_at=now,
            )
            for exchange in exchanges
            for position, metric in enumerate((OutcomeMetric.TREES_PLANTED, OutcomeMetric.CUSTOM))
        ]
    )
    await ExperienceReport.bulk_create(
        [
            ExperienceReport(
                exchange_id=exchange.id,
                status=ReportStatus.PUBLISHED,
                author_kind=ReportAuthorKind.PARTICIPANT,
                author_organisation_id=volunteer.organisation_id,
                author_volunteer_id=volunteer.id,
                titles={"en": f"Saxaul {exchange.id}"},
                bodies={"en": "We planted **saxaul**."},
                what_worked={"en": "- water"},
                what_to_change={},
                photos=["https://photos.example.org/1.jpg"],
                search_text=f"saxaul {exchange.id}\nwe planted **saxaul**.\n- water",
                submitted_at=now,
                published_at=now,
            )
            for exchange, volunteer in zip(exchanges, volunteers, strict=True)
        ]
    )


async def _count(
    gql: GraphQLClient, sql: SqlCounter, document: str, size: int, key: str | None
) -> tuple[int, int]:
    data = next(iter((await sql.answer_warm(gql, document, {"first": size}, key)).values()))
    return sql.data, len(data["edges"])


@pytest.mark.parametrize(
    ("document", "expected"), [(EXCHANGES, EXCHANGES_STATEMENTS), (REPORTS, REPORTS_STATEMENTS)]
)
@pytest.mark.parametrize("caller", ["anonymous", "admin"])
async def test_statements_do_not_grow_with_the_page(
    gql: GraphQLClient, sql: SqlCounter, admin_key: str, document: str, expected: int, caller: str
) -> None:
    await _seed(60)
    key = admin_key if caller == "admin" else None
    small, shown_small = await _count(gql, sql, document, 5, key)
    large, shown_large = await _count(gql, sql, document, 50, key)
    assert (shown_small, shown_large) == (5, 50)
    assert small == large, "\n".join(sql.log.data_statements())
    # An admin's key is looked up once more.
    assert large <= expected + (caller == "admin"), "\n".join(sql.log.data_statements())
