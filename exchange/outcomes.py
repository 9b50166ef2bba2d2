"""An exchange's outcomes: what it achieved (trees planted, waste collected, area cleaned or
restored, people reached, or a metric the host names), recorded by its host once it has
started (exchange.schedule's definition) and read by whoever sees the exchange.

``record_outcomes`` replaces the whole set in one transaction, so readers see the old set or
the new one, never a mix; the exchange row is locked as session changes lock it, so the
start that is checked is the start there is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from exchange import access
from exchange.access import Actor
from exchange.errors import DomainError, ErrorCode, Problems, not_found
from exchange.exchanges import visible_exchange
from exchange.i18n import pick_text, pick_ui_locale
from exchange.invitations.common import utcnow
from exchange.models import Exchange, ExchangeOutcome, OutcomeMetric, Session
from exchange.rows import instances
from exchange.schedule import schedule_of
from exchange.sql import Statement
from exchange.validation import LocalizedText, localized_map

# The unit of each standard metric: fixed, so totals over exchanges add up.
UNITS: dict[OutcomeMetric, str] = {
    OutcomeMetric.TREES_PLANTED: "trees",
    OutcomeMetric.WASTE_COLLECTED_KG: "kg",
    OutcomeMetric.AREA_RESTORED_HA: "ha",
    OutcomeMetric.PEOPLE_REACHED: "people",
}
# Counted things come in whole numbers.
WHOLE_NUMBERS = frozenset({OutcomeMetric.TREES_PLANTED, OutcomeMetric.PEOPLE_REACHED})
# The standard metrics' names in the platform's languages (CUSTOM ones are the host's).
LABELS: dict[OutcomeMetric, dict[str, str]] = {
    OutcomeMetric.TREES_PLANTED: {
        "kk": "Отырғызылған ағаштар",
        "ru": "Посажено деревьев",
        "en": "Trees planted",
    },
    OutcomeMetric.WASTE_COLLECTED_KG: {
        "kk": "Жиналған қоқыс",
        "ru": "Собрано отходов",
        "en": "Waste collected",
    },
    OutcomeMetric.AREA_RESTORED_HA: {
        "kk": "Тазартылған не қалпына келтірілген аумақ",
        "ru": "Очищенная или восстановленная площадь",
        "en": "Area cleaned or restored",
    },
    OutcomeMetric.PEOPLE_REACHED: {"kk": "Қамтылған адамдар", "ru": "Охвачено людей", "en": "People reached"},
}
# A billion trees, kilograms or hectares: beyond any exchange, and far inside a float's
# exact integers, so totals stay exact.
MAX_VALUE = 1_000_000_000
# Values are kept to the thousandth of their unit (a gram, ten square metres): a float like
# 5e-324 would otherwise be stored, summed and shown as a meaningless non-zero figure.
VALUE_DECIMALS = 3
MAX_OUTCOMES = 20
UNIT_MAX = 40
LABEL_MAX = 100


@dataclass(frozen=True)
class Outcome:
    metric: OutcomeMetric
    value: float
    unit: str | None = None
    labels: Sequence[LocalizedText] | None = None


def unit_of(outcome: ExchangeOutcome) -> str | None:
    return UNITS.get(outcome.metric, outcome.unit)


def labels_of(outcome: ExchangeOutcome) -> dict[str, str]:
    """{locale: label}, default language first: the platform's names for a standard metric."""
    return LABELS.get(outcome.metric, outcome.labels)


def label_of(outcome: ExchangeOutcome, preferred: Sequence[str]) -> str:
    if outcome.metric in LABELS:
        return LABELS[outcome.metric][pick_ui_locale(preferred)]
    return pick_text(outcome.labels, preferred) or outcome.metric.value


def _checked(problems: Problems, index: int, outcome: Outcome, seen: set[OutcomeMetric]) -> ExchangeOutcome:
    field = ("outcomes", index)
    metric = outcome.metric
    value = outcome.value
    if not math.isfinite(value):
        problems.invalid("The value must be a finite number.", *field, "value")
    elif value < 0:
        problems.invalid("An outcome is never negative.", *field, "value")
    elif value > MAX_VALUE:
        problems.invalid(f"The value is above {MAX_VALUE:,}: give it in the metric's unit.", *field, "value")
    elif metric in WHOLE_NUMBERS and not float(value).is_integer():
        problems.invalid(f"{metric.value} counts whole {UNITS[metric]}.", *field, "value")
    unit = " ".join((outcome.unit or "").split()) or None
    labels: dict[str, str] = {}
    if metric is OutcomeMetric.CUSTOM:
        if unit is not None and len(unit) > UNIT_MAX:
            problems.invalid(f"The unit is longer than {UNIT_MAX} characters.", *field, "unit")
        found = Problems()
        labels = localized_map(found, outcome.labels, "label", required=True, max_length=LABEL_MAX)
        for problem in found.items:
            problems.add(problem.code, problem.message, (*field, *(problem.field or ("label",))))
    else:
        if metric in seen:
            problems.invalid(f"{metric.value} is given twice: record its total once.", *field, "metric")
        seen.add(metric)
        if unit is not None and unit.casefold() != UNITS[metric]:
            problems.invalid(f"{metric.value} is counted in {UNITS[metric]}.", *field, "unit")
        unit = None  # the metric's own, from UNITS
        if outcome.labels:
            problems.invalid(
                f"Only CUSTOM outcomes take a label; {metric.value} has the platform's.", *field, "label"
            )
    return ExchangeOutcome(
        position=index,
        metric=metric,
        value=round(float(value), VALUE_DECIMALS) if math.isfinite(value) else 0.0,
        unit=unit,
        labels=labels,
    )


async def record_outcomes(
    actor: Actor, exchange_id: int, outcomes: Sequence[Outcome], now: datetime | None = None
) -> tuple[Exchange, list[ExchangeOutcome]]:
    """Replaces the exchange's outcomes with ``outcomes`` (an empty list clears them): its host
    (or an admin) only, once the exchange has started."""
    access.require_writer(actor)
    seen_exchange = await visible_exchange(actor, exchange_id)
    if seen_exchange is None:
        raise not_found("ExperienceExchange", ["exchangeId"])
    access.require_record_outcomes(actor, seen_exchange.host_id)
    now = now or utcnow()
    problems = Problems()
    if len(outcomes) > MAX_OUTCOMES:
        problems.invalid(f"An exchange records at most {MAX_OUTCOMES} outcomes.", "outcomes")
    seen: set[OutcomeMetric] = set()
    rows = [_checked(problems, index, outcome, seen) for index, outcome in enumerate(outcomes)]
    async with in_transaction() as connection:
        exchange = await Exchange.filter(id=exchange_id).select_for_update().using_db(connection).get()
        schedule = schedule_of(exchange, await Session.filter(exchange_id=exchange.id).using_db(connection))
        if not schedule.has_started(now):
            raise DomainError(
                ErrorCode.INVALID,
                "Outcomes are recorded once the exchange has started, from "
                f"{schedule.starts_at_local:%Y-%m-%d %H:%M} ({exchange.time_zone}).",
                ["exchangeId"],
            )
        problems.raise_if_any()
        await ExchangeOutcome.filter(exchange_id=exchange.id).using_db(connection).delete()
        recorded_by = actor.organisation_id if actor.is_organisation else None
        for row in rows:
            row.exchange_id = exchange.id
            row.recorded_at = now
            row.recorded_by_id = recorded_by
        if rows:
            await ExchangeOutcome.bulk_create(rows, using_db=connection)
    return exchange, await ExchangeOutcome.filter(exchange_id=exchange.id).order_by("position")


async def outcomes_by_exchange(exchange_ids: Sequence[int]) -> dict[int, list[ExchangeOutcome]]:
    """Each exchange's outcomes in the host's order: one statement for every exchange."""
    statement = Statement()
    rows = await statement.fetch_rows(
        f"SELECT t.* FROM exchange_outcome t WHERE {statement.is_in('t.exchange_id', exchange_ids)} "  # noqa: S608
        "ORDER BY t.exchange_id, t.position"
    )
    found: dict[int, list[ExchangeOutcome]] = {pk: [] for pk in exchange_ids}
    for outcome in instances(ExchangeOutcome, rows):
        found[outcome.exchange_id].append(outcome)
    return found
