"""An exchange's outcomes and the Sustainable Development Goal filter (exchange.outcomes)."""

from __future__ import annotations

import datetime as dt

import strawberry
from graphql import GraphQLError

from exchange import models, outcomes
from exchange.errors import TransportCode
from exchange.models import OutcomeMetric
from exchange.validation import SDG_COUNT, is_sdg
from schema.api.context import Info
from schema.api.scalars import LanguageCode
from schema.api.types.node import LocalizedText, translations

strawberry.enum(OutcomeMetric, name="OutcomeMetric")


@strawberry.type(
    name="ExchangeOutcome",
    description="What an exchange achieved, as its host recorded it once the exchange had started.",
)
class ExchangeOutcome:
    metric: OutcomeMetric
    value: float

    @strawberry.field(
        description="trees, kg, ha or people for the standard metrics; the host's unit (or null) for CUSTOM."
    )
    @staticmethod
    def unit(root: strawberry.Parent[models.ExchangeOutcome]) -> str | None:
        return outcomes.unit_of(root)

    @strawberry.field(
        description="The metric's name in the requested locale: the platform's (kk, ru, en) for the "
        "standard metrics, the host's label for CUSTOM (falling back to its default language)."
    )
    @staticmethod
    def label(
        root: strawberry.Parent[models.ExchangeOutcome], info: Info, locale: LanguageCode | None = None
    ) -> str:
        return outcomes.label_of(root, info.context.locales(locale))

    @strawberry.field(description="Every translation of the label, default language first.")
    @staticmethod
    def labels(root: strawberry.Parent[models.ExchangeOutcome]) -> list[LocalizedText]:
        return translations(outcomes.labels_of(root))

    recorded_at: dt.datetime


def sdg_filter(goals: list[int] | None, argument: str) -> tuple[int, ...]:
    """Goals to filter by, each 1-17 (BAD_USER_INPUT otherwise, like any malformed argument);
    an empty list or none filters nothing out."""
    bad = [index for index, goal in enumerate(goals or ()) if not is_sdg(goal)]
    if bad:
        raise GraphQLError(
            f"`{argument}` items {', '.join(map(str, bad))} are not Sustainable Development Goals "
            f"(numbered 1 to {SDG_COUNT}).",
            extensions={"code": TransportCode.BAD_USER_INPUT, "field": [*argument.split("."), str(bad[0])]},
        )
    return tuple(sorted(set(goals or ())))
