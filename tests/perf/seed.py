"""A data set for the query-count tests, written through the ORM (both databases): the
benchmark's generator at a size where every list has more than 50 entries somewhere."""

from __future__ import annotations

from typing import Any

import orjson
from tortoise import connections

from bench import datagen
from exchange import models

SPEC = datagen.Spec(
    organisations=150,
    volunteers=120,
    exchanges=60,
    sessions=300,
    participations=1200,
    seed=5,
    disjoint_organisations=True,
)
JSON_COLUMNS = {"names", "titles", "descriptions", "languages", "skills"}


def _objects(model: Any, columns: list[str], rows: list[tuple[object, ...]]) -> list[Any]:
    return [
        model(
            **{
                c: (orjson.loads(str(v)) if c in JSON_COLUMNS else v)
                for c, v in zip(columns, row, strict=True)
            }
        )
        for row in rows
    ]


async def _link(table: str, columns: tuple[str, str], rows: list[tuple[int, int]]) -> None:
    connection = connections.get("default")
    numbered = connection.capabilities.dialect != "sqlite"
    placeholders = "($1, $2)" if numbered else "(?, ?)"
    await connection.execute_many(
        f"INSERT INTO {table} ({columns[0]}, {columns[1]}) VALUES {placeholders}", [list(r) for r in rows]
    )


async def seed(spec: datagen.Spec = SPEC) -> datagen.DataSet:
    data = datagen.generate(spec)
    await models.Organisation.bulk_create(
        _objects(models.Organisation, datagen.ORG_COLUMNS, data.organisations)
    )
    await models.Volunteer.bulk_create(_objects(models.Volunteer, datagen.VOLUNTEER_COLUMNS, data.volunteers))
    await models.Exchange.bulk_create(_objects(models.Exchange, datagen.EXCHANGE_COLUMNS, data.exchanges))
    await _link("exchange_partner", ("exchange_id", "organisation_id"), data.partners)
    await models.Session.bulk_create(_objects(models.Session, datagen.SESSION_COLUMNS, data.sessions))
    await _link("session_speaker", ("session_id", "volunteer_id"), data.speakers)
    participations = _objects(models.Participation, datagen.PARTICIPATION_COLUMNS, data.participations)
    _recorded(participations, data)
    await models.Participation.bulk_create(participations, batch_size=500)
    return data


def _recorded(participations: list[models.Participation], data: datagen.DataSet) -> None:
    """Attended participations name up to three sessions of their exchange and the host that
    recorded them, so Participation.attendedSessions and recordedBy have something to load."""
    exchange_of_session = datagen.SESSION_COLUMNS.index("exchange_id")
    sessions_of: dict[Any, list[Any]] = {}
    for row in data.sessions:
        sessions_of.setdefault(row[exchange_of_session], []).append(row[0])
    host_column = datagen.EXCHANGE_COLUMNS.index("host_id")
    host_of = {row[0]: row[host_column] for row in data.exchanges}
    for participation in participations:
        if str(participation.status) == models.ParticipationStatus.ATTENDED.value:
            participation.attended_session_ids = sessions_of.get(participation.exchange_id, [])[:3]
            participation.recorded_by_id = host_of[participation.exchange_id]
