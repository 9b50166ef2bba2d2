"""The roster and attendance (beyond the contract): addParticipant, updateParticipation,
removeParticipant, recordAttendance. Input -> exchange.roster / exchange.attendance -> payload."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from exchange import attendance, roster
from schema.api.context import Info
from schema.api.errors import UserError, mutate
from schema.api.mutations.inputs import given
from schema.api.relay import pk_of, pks_of
from schema.api.types.enums import ParticipationRole, ParticipationStatus
from schema.api.types.participation import Participation


@strawberry.input(description="Fields left out stay as they are; neither may be null.")
class UpdateParticipationInput:
    role: ParticipationRole | None = strawberry.UNSET
    status: ParticipationStatus | None = strawberry.field(
        default=strawberry.UNSET,
        description="CONFIRMED or WITHDRAWN (ATTENDED and NO_SHOW: recordAttendance). CONFIRMED takes a "
        "place again after a withdrawal, or clears recorded attendance.",
    )


@strawberry.input
class RecordAttendanceInput:
    status: ParticipationStatus = strawberry.field(description="ATTENDED or NO_SHOW.")
    hours: float | None = strawberry.field(
        default=None,
        description="ATTENDED only, required: at least 0.01 (kept to the hundredth), at most the exchange's length in hours.",
    )
    session_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="ATTENDED only: the exchange's sessions attended (planned and begun).",
    )


@strawberry.type
class ParticipationPayload:
    participation: Participation | None = None
    user_errors: list[UserError]


@strawberry.type
class RemoveParticipantPayload:
    removed_participation_id: strawberry.ID | None = None
    user_errors: list[UserError]


@strawberry.type
class RosterMutations:
    @strawberry.mutation(
        description="Host or admin only (partners: FORBIDDEN). Puts a volunteer the host may name (one it "
        "sends, one of its exchanges', or one with a public profile) on the exchange as CONFIRMED, counted "
        "against the capacity like an accepted invitation (CAPACITY_REACHED); CONFLICT when they already take part."
    )
    async def add_participant(
        self,
        info: Info,
        exchange_id: strawberry.ID,
        volunteer_id: strawberry.ID,
        role: ParticipationRole = ParticipationRole.PARTICIPANT,
    ) -> ParticipationPayload:
        async def action() -> dict[str, Any]:
            participation = await roster.add_participant(
                info.context.actor,
                pk_of(exchange_id, "ExperienceExchange", ["exchangeId"]),
                pk_of(volunteer_id, "Volunteer", ["volunteerId"]),
                role,
            )
            return {"participation": participation}

        return await mutate(ParticipationPayload, action)

    @strawberry.mutation(description="Host or admin only. A new role, or CONFIRMED / WITHDRAWN.")
    async def update_participation(
        self, info: Info, id: strawberry.ID, input: UpdateParticipationInput
    ) -> ParticipationPayload:
        async def action() -> dict[str, Any]:
            participation = await roster.update_participation(
                info.context.actor,
                pk_of(id, "Participation", ["id"]),
                roster.ParticipationChanges(role=given(input.role), status=given(input.status)),
                info.context.settings,
            )
            return {"participation": participation}

        return await mutate(ParticipationPayload, action)

    @strawberry.mutation(
        description="Host or admin only. Deletes the participation, with its hours. An invitee who accepted "
        "is taken off by revoking the invitation (INVALID here)."
    )
    async def remove_participant(self, info: Info, id: strawberry.ID) -> RemoveParticipantPayload:
        async def action() -> dict[str, Any]:
            await roster.remove_participant(
                info.context.actor, pk_of(id, "Participation", ["id"]), info.context.settings
            )
            return {"removed_participation_id": id}

        return await mutate(RemoveParticipantPayload, action)

    @strawberry.mutation(
        description="Host or admin only, once the exchange has started (its first session, venue time). "
        "Recording again replaces the record."
    )
    async def record_attendance(
        self,
        info: Info,
        participation_id: Annotated[strawberry.ID, strawberry.argument(description="The participation.")],
        input: RecordAttendanceInput,
    ) -> ParticipationPayload:
        async def action() -> dict[str, Any]:
            participation = await attendance.record_attendance(
                info.context.actor,
                pk_of(participation_id, "Participation", ["participationId"]),
                attendance.Attendance(
                    status=input.status,
                    hours=input.hours,
                    session_ids=pks_of(input.session_ids, "Session", "sessionIds") or [],
                ),
            )
            return {"participation": participation}

        return await mutate(ParticipationPayload, action)
