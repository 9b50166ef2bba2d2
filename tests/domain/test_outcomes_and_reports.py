"""Outcomes and experience reports without GraphQL: the goal check, the Markdown renderer
against injection payloads, and the services' moments (exchange.schedule's start and
completion) with the clock passed in, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from exchange import db
from exchange.access import Actor, Role
from exchange.errors import DomainError, Problems
from exchange.markdown import to_html
from exchange.models import (
    ExchangeOutcome,
    ExperienceReport,
    OutcomeMetric,
    ReportStatus,
    Session,
    SessionFormat,
)
from exchange.outcomes import Outcome, record_outcomes
from exchange.reports import ERASED_MARK, NewReport, _redacted, submit_report
from exchange.settings import Settings
from exchange.validation import LocalizedText, check_sdgs
from tests.api.exchange_fixtures import make_exchange
from tests.conftest import make_organisation
from tests.reports_world import INJECTIONS, assert_safe


def test_goals_are_checked_merged_and_sorted() -> None:
    problems = Problems()
    assert check_sdgs(problems, [17, 1, 17, 9]) == [1, 9, 17]
    assert not problems
    assert check_sdgs(problems, [0, 5, 18]) == [5]
    assert [problem.field for problem in problems.items] == [("sdgs", "0"), ("sdgs", "2")]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_each_injection_is_rendered_harmless(payload: str) -> None:
    rendered = to_html(payload)
    assert_safe(rendered)
    assert "<script" not in rendered.lower()


def test_markdown_keeps_what_people_write() -> None:
    assert to_html("**bold** and _it_ ~~old~~") == "<p><strong>bold</strong> and <em>it</em> <s>old</s></p>\n"
    assert to_html("[site](https://aral.example/a?b=1&c=2)") == (
        '<p><a href="https://aral.example/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">site</a></p>\n'
    )
    assert to_html("| a | b |\n|---|---|\n| 1 | 2 |").startswith("<table>")
    assert to_html("3 < 4 & 5 > 2") == "<p>3 &lt; 4 &amp; 5 &gt; 2</p>\n"


def test_erasure_takes_names_out_longest_first() -> None:
    texts = {"en": "Thanks to Ainur Sadykova (Ainur) — ainur@example.kz", "ru": "АЙНУР приехала"}
    redacted = _redacted(texts, ["Ainur Sadykova", "ainur@example.kz", "Ainur"])
    assert redacted == {
        "en": f"Thanks to {ERASED_MARK} ({ERASED_MARK}) — {ERASED_MARK}",
        "ru": "АЙНУР приехала",
    }
    assert _redacted({"ru": "АЙНУР приехала"}, ["Айнур"]) == {"ru": f"{ERASED_MARK} приехала"}


@pytest.fixture
async def models_ready(settings: Settings) -> AsyncIterator[None]:
    await db.init_db(settings)
    try:
        yield
    finally:
        await db.close_db()


async def test_outcomes_from_the_first_planned_session_on(models_ready: None) -> None:
    host = await make_organisation("host")
    actor = Actor(Role.ORGANISATION, host.id, "key_host")
    exchange = await make_exchange("aral", host, starts_on=dt.date(2027, 5, 10), time_zone="Asia/Qyzylorda")
    start = dt.datetime(2027, 5, 11, 4, 0, tzinfo=dt.UTC)
    await Session.create(
        exchange=exchange,
        titles={"en": "Planting"},
        starts_at=start,
        ends_at=start + dt.timedelta(hours=6),
        format=SessionFormat.IN_PERSON,
    )
    trees = [Outcome(OutcomeMetric.TREES_PLANTED, 40)]
    with pytest.raises(DomainError) as early:
        await record_outcomes(actor, exchange.id, trees, now=start - dt.timedelta(seconds=1))
    assert early.value.problems[0].message.endswith("from 2027-05-11 09:00 (Asia/Qyzylorda).")
    _, recorded = await record_outcomes(actor, exchange.id, trees, now=start)
    assert [(o.metric, o.value, o.recorded_at) for o in recorded] == [
        (OutcomeMetric.TREES_PLANTED, 40.0, start)
    ]
    custom = Outcome(
        OutcomeMetric.CUSTOM,
        2.5,
        unit="km",
        labels=[LocalizedText("kk", "Жағалау"), LocalizedText("en", "Shore")],
    )
    _, replaced = await record_outcomes(actor, exchange.id, [custom], now=start)
    assert [(o.metric, o.labels) for o in replaced] == [
        (OutcomeMetric.CUSTOM, {"kk": "Жағалау", "en": "Shore"})
    ]
    assert await ExchangeOutcome.all().count() == 1
    # Kept to the thousandth of the unit: a subnormal float is no outcome, not 5e-324 kg.
    waste = [
        Outcome(OutcomeMetric.WASTE_COLLECTED_KG, 5e-324),
        Outcome(OutcomeMetric.AREA_RESTORED_HA, 1.23456),
    ]
    _, rounded = await record_outcomes(actor, exchange.id, waste, now=start)
    assert [o.value for o in rounded] == [0.0, 1.235]
    assert sorted(o.value for o in await ExchangeOutcome.all()) == [0.0, 1.235]


async def test_reports_once_the_last_session_has_ended(models_ready: None) -> None:
    host = await make_organisation("host")
    actor = Actor(Role.ORGANISATION, host.id, "key_host")
    exchange = await make_exchange("aral", host, starts_on=dt.date(2027, 5, 10), time_zone="Asia/Qyzylorda")
    end = dt.datetime(2027, 5, 12, 10, 0, tzinfo=dt.UTC)
    await Session.create(
        exchange=exchange,
        titles={"en": "Closing"},
        starts_at=end - dt.timedelta(hours=2),
        ends_at=end,
        format=SessionFormat.ONLINE,
    )
    report = NewReport(titles=[LocalizedText("ru", "Итоги")], bodies=[LocalizedText("ru", "Учёт и ёлки")])
    with pytest.raises(DomainError) as early:
        await submit_report(actor, exchange.id, report, now=end - dt.timedelta(seconds=1))
    assert "it ends 2027-05-12 15:00 (Asia/Qyzylorda)" in early.value.problems[0].message
    written = await submit_report(actor, exchange.id, report, now=end)
    assert written.status is ReportStatus.PUBLISHED and written.published_at == end
    # Folded as exchange search folds: lower case, ё as е.
    assert (await ExperienceReport.get(id=written.id)).search_text == "итоги\nучет и елки"
