"""updateSession and cancelSession (beyond the contract): changes after invitations went out,
which mail the invitees who accepted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from exchange import sessions
from exchange.exchanges import KEEP
from schema.api.context import Info
from schema.api.errors import mutate
from schema.api.mutations.exchanges import SessionPayload
from schema.api.mutations.organisations import LocalizedTextInput, texts
from schema.api.relay import pk_of
from schema.api.scalars import LanguageCode
from schema.api.types.enums import SessionFormat


@strawberry.input(description="Fields left out stay as they are; null clears an optional field.")
class UpdateSessionInput:
    titles: list[LocalizedTextInput] | None = strawberry.UNSET
    starts_at: dt.datetime | None = strawberry.UNSET
    ends_at: dt.datetime | None = strawberry.UNSET
    format: SessionFormat | None = strawberry.UNSET
    venue: str | None = strawberry.UNSET
    online_url: str | None = strawberry.UNSET
    language: LanguageCode | None = strawberry.UNSET
    capacity: int | None = strawberry.UNSET


def _kept(value: Any) -> Any:
    return KEEP if value is strawberry.UNSET else value


def _required(value: Any) -> Any:
    # A required field sent as null means "no change", like leaving it out.
    return KEEP if value is strawberry.UNSET or value is None else value


def _changes(input: UpdateSessionInput) -> sessions.SessionChanges:
    return sessions.SessionChanges(
        titles=KEEP if input.titles is strawberry.UNSET or input.titles is None else texts(input.titles),
        starts_at=_required(input.starts_at),
        ends_at=_required(input.ends_at),
        format=_required(input.format),
        venue=_kept(input.venue),
        online_url=_kept(input.online_url),
        language=_kept(input.language),
        capacity=_kept(input.capacity),
    )


@strawberry.type
class SessionChangeMutations:
    @strawberry.mutation(
        description="Host or admin only. A change of time, format or venue mails an update "
        "(new calendar SEQUENCE) to every invitee who accepted."
    )
    async def update_session(
        self, info: Info, id: strawberry.ID, input: UpdateSessionInput
    ) -> SessionPayload:
        async def action() -> dict[str, Any]:
            session = await sessions.update_session(
                info.context.actor, pk_of(id, "Session", ["id"]), _changes(input), info.context.settings
            )
            return {"session": session}

        return await mutate(SessionPayload, action)

    @strawberry.mutation(
        description="Host or admin only. Calls the session off and mails a calendar cancellation "
        "to every invitee who accepted."
    )
    async def cancel_session(self, info: Info, id: strawberry.ID) -> SessionPayload:
        async def action() -> dict[str, Any]:
            session = await sessions.cancel_session(
                info.context.actor, pk_of(id, "Session", ["id"]), info.context.settings
            )
            return {"session": session}

        return await mutate(SessionPayload, action)
