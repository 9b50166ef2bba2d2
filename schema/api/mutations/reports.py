"""recordOutcomes, submitExperienceReport, moderateExperienceReport and experienceReports:
input -> service call (exchange.outcomes, exchange.reports) -> payload."""

from __future__ import annotations

from typing import Any

import strawberry

from exchange import models, outcomes, reports
from exchange.models import OutcomeMetric
from schema.api.connections import Connection, build_connection
from schema.api.context import Info
from schema.api.errors import UserError, mutate
from schema.api.mutations.organisations import LocalizedTextInput, texts
from schema.api.relay import pk_of
from schema.api.types.exchange import ExperienceExchange
from schema.api.types.outcome import ExchangeOutcome, sdg_filter
from schema.api.types.report import ExperienceReport, ExperienceReportFilter

strawberry.enum(reports.Decision, name="ExperienceReportDecision")


@strawberry.input
class OutcomeInput:
    metric: OutcomeMetric
    value: float = strawberry.field(
        description="At least 0, at most 1,000,000,000, in the metric's unit; whole for TREES_PLANTED "
        "and PEOPLE_REACHED."
    )
    unit: str | None = strawberry.field(
        default=None,
        description="CUSTOM only (up to 40 characters); a standard metric's unit is fixed (trees, kg, "
        "ha, people) and may only be repeated.",
    )
    label: list[LocalizedTextInput] | None = strawberry.field(
        default=None, description="CUSTOM only, and required there: the metric's name, [{locale, text}]."
    )


@strawberry.type
class RecordOutcomesPayload:
    exchange: ExperienceExchange | None = None
    outcomes: list[ExchangeOutcome] | None = None
    user_errors: list[UserError]


@strawberry.input
class SubmitExperienceReportInput:
    exchange_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Required with an API key; with invitationToken it may be left out (the "
        "invitation's exchange).",
    )
    invitation_token: str | None = strawberry.field(
        default=None,
        description="A participant writes through their invitation link's token, without a key "
        "(one report per link).",
    )
    titles: list[LocalizedTextInput]
    bodies: list[LocalizedTextInput] = strawberry.field(description="Markdown, up to 20,000 characters each.")
    what_worked: list[LocalizedTextInput] | None = strawberry.field(
        default=None, description="Markdown, up to 5,000 characters each."
    )
    what_to_change: list[LocalizedTextInput] | None = strawberry.field(
        default=None, description="Markdown, up to 5,000 characters each."
    )
    photos: list[str] | None = strawberry.field(
        default=None, description="Up to 10 https:// links, 500 characters each."
    )


@strawberry.type
class ExperienceReportPayload:
    report: ExperienceReport | None = None
    user_errors: list[UserError]


def _new_report(input: SubmitExperienceReportInput) -> reports.NewReport:
    return reports.NewReport(
        titles=texts(input.titles) or [],
        bodies=texts(input.bodies) or [],
        what_worked=texts(input.what_worked),
        what_to_change=texts(input.what_to_change),
        photos=list(input.photos or []),
    )


def report_filter(given: ExperienceReportFilter | None) -> reports.ReportFilter | None:
    if given is None:
        return None
    return reports.ReportFilter(
        search=given.search,
        theme=given.theme,
        country=given.country,
        sdgs=sdg_filter(given.sdgs, "filter.sdgs"),
        organisation_id=pk_of(given.organisation_id, "Organisation", ["filter", "organisationId"])
        if given.organisation_id is not None
        else None,
        exchange_id=pk_of(given.exchange_id, "ExperienceExchange", ["filter", "exchangeId"])
        if given.exchange_id is not None
        else None,
        status=given.status,
    )


@strawberry.type
class ReportMutations:
    @strawberry.mutation(
        description="Replaces the exchange's outcomes (an empty list clears them). The host (or an "
        "admin) only, once the exchange has started (INVALID before, on exchangeId)."
    )
    async def record_outcomes(
        self, info: Info, exchange_id: strawberry.ID, outcomes: list[OutcomeInput]
    ) -> RecordOutcomesPayload:
        async def action() -> dict[str, Any]:
            actor = info.context.actor
            exchange, recorded = await _record(actor, exchange_id, outcomes)
            return {"exchange": exchange, "outcomes": recorded}

        return await mutate(RecordOutcomesPayload, action)

    @strawberry.mutation(
        description="A report on a completed exchange: by its host (published at once) or a partner with "
        "their key, or by a participant with invitationToken and no key (both SUBMITTED until the host "
        "publishes them)."
    )
    async def submit_experience_report(
        self, info: Info, input: SubmitExperienceReportInput
    ) -> ExperienceReportPayload:
        async def action() -> dict[str, Any]:
            actor = info.context.actor
            exchange_id = (
                pk_of(input.exchange_id, "ExperienceExchange", ["exchangeId"])
                if input.exchange_id is not None
                else None
            )
            if input.invitation_token is not None:
                report = await reports.submit_participant_report(
                    input.invitation_token, _new_report(input), exchange_id=exchange_id
                )
            elif exchange_id is None:
                raise reports.exchange_needed()
            else:
                report = await reports.submit_report(actor, exchange_id, _new_report(input))
            return {"report": report}

        return await mutate(ExperienceReportPayload, action)

    @strawberry.mutation(
        description="Publish or reject a report (again: a published one may be taken down, a rejected one "
        "published). The exchange's host or a platform admin. The note is shown to the organisers and, on "
        "the invitation page, to a participant author."
    )
    async def moderate_experience_report(
        self, info: Info, id: strawberry.ID, decision: reports.Decision, note: str | None = None
    ) -> ExperienceReportPayload:
        async def action() -> dict[str, Any]:
            report = await reports.moderate_report(
                info.context.actor, pk_of(id, "ExperienceReport", ["id"]), decision, note
            )
            return {"report": report}

        return await mutate(ExperienceReportPayload, action)


async def _record(
    actor: Any, exchange_id: strawberry.ID, given: list[OutcomeInput]
) -> tuple[models.Exchange, list[models.ExchangeOutcome]]:
    return await outcomes.record_outcomes(
        actor,
        pk_of(exchange_id, "ExperienceExchange", ["exchangeId"]),
        [
            outcomes.Outcome(metric=item.metric, value=item.value, unit=item.unit, labels=texts(item.label))
            for item in given
        ],
    )


@strawberry.type
class ReportQueries:
    @strawberry.field(
        description="Experience reports the caller may see (published ones on exchanges they may see; the "
        "organisers and admins also the others), newest first."
    )
    async def experience_reports(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ExperienceReportFilter | None = None,
    ) -> Connection[ExperienceReport]:
        context = info.context
        page = await reports.page_reports(
            context.actor,
            report_filter(filter),
            context.page_args(first, after, last, before),
            context.columns.get(models.ExperienceReport),
        )
        return build_connection(page.nodes, page.start, page.total)
