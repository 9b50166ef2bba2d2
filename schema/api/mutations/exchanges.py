"""createExchange, updateExchange, addSession: input -> service call -> payload."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from exchange import access, exchanges, sessions
from schema.api.context import Info
from schema.api.errors import UserError, mutate
from schema.api.mutations.inputs import given
from schema.api.mutations.organisations import LocalizedTextInput, texts
from schema.api.relay import pk_of, pks_of
from schema.api.scalars import CountryCode, LanguageCode
from schema.api.types.enums import ExchangeStatus, SessionFormat, Theme
from schema.api.types.exchange import ExperienceExchange, Session


@strawberry.input
class CreateExchangeInput:
    slug: str
    titles: list[LocalizedTextInput]
    descriptions: list[LocalizedTextInput] | None = None
    theme: Theme
    host_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Hosting organisation; defaults to the caller's organisation (required for admin keys).",
    )
    partner_ids: list[strawberry.ID] | None = None
    country: CountryCode
    city: str | None = None
    starts_on: dt.date
    ends_on: dt.date
    time_zone: str
    capacity: int | None = None
    languages: list[LanguageCode]
    sdgs: list[int] = strawberry.field(
        default_factory=list,
        description="UN Sustainable Development Goals the exchange serves, 1-17 (repeats merged, sorted).",
    )
    status: ExchangeStatus | None = strawberry.field(default=None, description="DRAFT (default) or OPEN.")
    waitlist: bool = strawberry.field(
        default=False,
        description="Keep a waiting list when every place is taken (see ExperienceExchange.waitlist).",
    )


@strawberry.input(description="Fields left out stay unchanged; an explicit null clears an optional field.")
class UpdateExchangeInput:
    titles: list[LocalizedTextInput] | None = strawberry.UNSET
    descriptions: list[LocalizedTextInput] | None = strawberry.UNSET
    theme: Theme | None = strawberry.UNSET
    partner_ids: list[strawberry.ID] | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    starts_on: dt.date | None = strawberry.UNSET
    ends_on: dt.date | None = strawberry.UNSET
    time_zone: str | None = strawberry.UNSET
    capacity: int | None = strawberry.field(default=strawberry.UNSET, description="null: unlimited.")
    languages: list[LanguageCode] | None = strawberry.UNSET
    sdgs: list[int] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the goals; [] or null: none."
    )
    status: ExchangeStatus | None = strawberry.field(
        default=strawberry.UNSET,
        description="DRAFT -> OPEN -> CLOSED (may reopen) -> COMPLETED; CANCELLED from any state before COMPLETED.",
    )
    waitlist: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Turning it off keeps those already waiting on the list (they are still offered "
        "freed places in turn); only new acceptances are refused when full.",
    )


@strawberry.input
class AddSessionInput:
    exchange_id: strawberry.ID
    titles: list[LocalizedTextInput]
    starts_at: dt.datetime
    ends_at: dt.datetime
    format: SessionFormat
    venue: str | None = None
    online_url: str | None = None
    language: LanguageCode | None = None
    capacity: int | None = None
    speaker_ids: list[strawberry.ID] | None = None


@strawberry.type
class ExchangePayload:
    exchange: ExperienceExchange | None = None
    user_errors: list[UserError]


@strawberry.type
class SessionPayload:
    session: Session | None = None
    user_errors: list[UserError]


@strawberry.type
class ExchangeMutations:
    @strawberry.mutation(description="Organisation keys host their own exchanges; admin keys give hostId.")
    async def create_exchange(self, info: Info, input: CreateExchangeInput) -> ExchangePayload:
        async def action() -> dict[str, Any]:
            actor = info.context.actor
            access.require_writer(actor)
            exchange = await exchanges.create_exchange(
                actor,
                exchanges.NewExchange(
                    slug=input.slug,
                    titles=texts(input.titles) or [],
                    descriptions=texts(input.descriptions),
                    theme=input.theme,
                    host_id=pk_of(input.host_id, "Organisation", ["hostId"])
                    if input.host_id is not None
                    else None,
                    partner_ids=pks_of(input.partner_ids, "Organisation", "partnerIds"),
                    country=input.country,
                    city=input.city,
                    starts_on=input.starts_on,
                    ends_on=input.ends_on,
                    time_zone=input.time_zone,
                    capacity=input.capacity,
                    languages=list(input.languages),
                    sdgs=list(input.sdgs),
                    status=input.status,
                    waitlist=input.waitlist,
                ),
            )
            return {"exchange": exchange}

        return await mutate(ExchangePayload, action)

    @strawberry.mutation(description="The host organisation (or an admin) only.")
    async def update_exchange(
        self, info: Info, id: strawberry.ID, input: UpdateExchangeInput
    ) -> ExchangePayload:
        async def action() -> dict[str, Any]:
            actor = info.context.actor
            access.require_writer(actor)
            changes = exchanges.ExchangeChanges(
                titles=given(input.titles, texts),
                descriptions=given(input.descriptions, texts),
                theme=given(input.theme),
                partner_ids=given(input.partner_ids, lambda ids: pks_of(ids, "Organisation", "partnerIds")),
                city=given(input.city),
                starts_on=given(input.starts_on),
                ends_on=given(input.ends_on),
                time_zone=given(input.time_zone),
                capacity=given(input.capacity),
                languages=given(input.languages, list),
                sdgs=given(input.sdgs, list),
                status=given(input.status),
                waitlist=given(input.waitlist),
            )
            exchange = await exchanges.update_exchange(
                actor, pk_of(id, "ExperienceExchange", ["id"]), changes, info.context.settings
            )
            return {"exchange": exchange}

        return await mutate(ExchangePayload, action)

    @strawberry.mutation(description="The host organisation (or an admin) only.")
    async def add_session(self, info: Info, input: AddSessionInput) -> SessionPayload:
        async def action() -> dict[str, Any]:
            actor = info.context.actor
            access.require_writer(actor)
            session = await sessions.add_session(
                actor,
                sessions.NewSession(
                    exchange_id=pk_of(input.exchange_id, "ExperienceExchange", ["exchangeId"]),
                    titles=texts(input.titles) or [],
                    starts_at=input.starts_at,
                    ends_at=input.ends_at,
                    format=input.format,
                    venue=input.venue,
                    online_url=input.online_url,
                    language=input.language,
                    capacity=input.capacity,
                    speaker_ids=pks_of(input.speaker_ids, "Volunteer", "speakerIds"),
                ),
                info.context.settings,
            )
            return {"session": session}

        return await mutate(SessionPayload, action)
