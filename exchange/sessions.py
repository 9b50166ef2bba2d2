"""Session services: add a session to an exchange."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from exchange import access, joins, volunteers
from exchange.access import Actor
from exchange.errors import DomainError, ErrorCode, Problems, not_found
from exchange.exchanges import KEEP, TITLE_MAX, local_day_bounds, visible_exchange
from exchange.invitations.session_mail import notify_session_change
from exchange.models import Exchange, ExchangeStatus, MailKind, Session, SessionFormat, Volunteer
from exchange.rows import instances
from exchange.settings import Settings
from exchange.sql import Projected, Statement, any_of, linked, linked_rows, projected, select_list
from exchange.validation import LocalizedText, check_capacity, check_url, localized_map

VENUE_MAX = 300
# Sessions are no longer planned once an exchange is over or called off.
FINISHED = (ExchangeStatus.COMPLETED, ExchangeStatus.CANCELLED)


@dataclass(frozen=True)
class NewSession:
    exchange_id: int
    titles: list[LocalizedText]
    starts_at: dt.datetime
    ends_at: dt.datetime
    format: SessionFormat
    venue: str | None = None
    online_url: str | None = None
    language: str | None = None
    capacity: int | None = None
    speaker_ids: list[int] | None = None


async def add_session(actor: Actor, data: NewSession, settings: Settings) -> Session:
    access.require_writer(actor)
    visible = await visible_exchange(actor, data.exchange_id)
    if visible is None:
        raise not_found("ExperienceExchange", ["exchangeId"])
    access.require_add_session(actor, visible.host_id)
    async with in_transaction() as connection:
        # Locked like updateExchange: a session is checked against the dates it will live with.
        exchange = await Exchange.filter(id=visible.id).select_for_update().using_db(connection).get()
        # Counted under the exchange's lock: two sessions added at once cannot both take the last place.
        planned = (
            await Session.filter(exchange_id=exchange.id, cancelled_at__isnull=True)
            .using_db(connection)
            .count()
        )
        values, speakers = await _validated_session(actor, exchange, data, settings, planned)
        session = await Session.create(**values, using_db=connection)
        if speakers:
            await session.speakers.add(*speakers, using_db=connection)
    return session


async def _validated_session(
    actor: Actor, exchange: Exchange, data: NewSession, settings: Settings, planned: int
) -> tuple[dict[str, Any], list[Volunteer]]:
    """The new session's column values and its speakers, or every problem at once. ``planned``
    is the exchange's sessions not cancelled. Speakers are the volunteers the actor may name
    (exchange.access): one it may not even see is NOT_FOUND, like an unknown id."""
    problems = Problems()
    if exchange.status in FINISHED:
        problems.invalid(f"The exchange is {exchange.status}; it takes no new sessions.", "exchangeId")
    elif planned >= settings.max_sessions_per_exchange:
        # Sessions are a plain list, not paginated: the cap is what bounds an answer (and its price).
        problems.invalid(
            f"The exchange has {planned} sessions planned, the most it may have "
            f"({settings.max_sessions_per_exchange}); cancel one to add another.",
            "exchangeId",
        )
    titles = localized_map(problems, data.titles, "titles", required=True, max_length=TITLE_MAX)
    _check_schedule(problems, exchange, data.starts_at, data.ends_at)
    venue = _check_venue(problems, data.venue)
    check_url(problems, data.online_url, "onlineUrl")
    check_capacity(problems, data.capacity)
    speaker_ids = data.speaker_ids or []
    named = len(set(speaker_ids))
    if named > settings.max_speakers_per_session:
        problems.invalid(
            f"A session has at most {settings.max_speakers_per_session} speakers; {named} were named.",
            "speakerIds",
        )
        speaker_ids = []  # not looked up: the list is refused whole
    rights = await volunteers.naming_rights(actor, speaker_ids)
    nameable = [pk for pk, may in rights.items() if may]
    found = {v.id: v for v in await Volunteer.filter(id__in=nameable)} if nameable else {}
    speakers: list[Volunteer] = []
    for index, pk in enumerate(speaker_ids):
        if pk not in rights:
            problems.add(ErrorCode.NOT_FOUND, "Volunteer not found.", ["speakerIds", index])
        elif pk not in found:
            problems.invalid(
                "A host names as speakers the volunteers it sends, those of its exchanges and those "
                "with a public profile.",
                "speakerIds",
                index,
            )
        elif found[pk] not in speakers:
            speakers.append(found[pk])
    problems.raise_if_any()
    values = {
        "exchange_id": exchange.id,
        "titles": titles,
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
        "format": data.format,
        "venue": venue,
        "online_url": data.online_url,
        "language": data.language,
        "capacity": data.capacity,
    }
    return values, speakers


async def sessions_by_exchange(
    exchange_ids: Sequence[int], columns: Iterable[str] | None = None
) -> dict[int, list[Session]]:
    """Sessions still planned, by start time then id (only ``columns`` when given; the
    exchange id is always among them)."""
    result: dict[int, list[Session]] = {pk: [] for pk in exchange_ids}
    statement = Statement()
    selected = select_list("s", None if columns is None else {*columns, "exchange_id"})
    rows = await statement.fetch_rows(
        f'SELECT {selected} FROM "session" s '  # noqa: S608
        f"WHERE {statement.is_in('s.exchange_id', exchange_ids)} AND s.cancelled_at IS NULL "
        "ORDER BY s.starts_at, s.id"
    )
    for session in instances(Session, rows):
        result[session.exchange_id].append(session)
    return result


async def speakers_by_session(
    session_ids: Sequence[int], columns: Iterable[str] | None = None
) -> dict[int, list[Volunteer]]:
    return await linked(
        Volunteer,
        link_table="session_speaker",
        parent_column="session_id",
        child_column="volunteer_id",
        parent_ids=session_ids,
        columns=columns,
    )


async def session_rows(exchange_ids: Sequence[int], projection: Projected) -> Sequence[Any]:
    """``sessions_by_exchange`` as rows: (exchange id, *projection), in the same order."""
    statement = Statement()

    def build() -> str:
        selects, joined = projected("s", Session, projection, joins.SESSION)
        return (
            f'SELECT s.exchange_id, {", ".join(selects)} FROM "session" s {" ".join(joined)} '  # noqa: S608
            f"WHERE {statement.is_in('s.exchange_id', exchange_ids)} AND s.cancelled_at IS NULL "
            "ORDER BY s.starts_at, s.id"
        )

    return await statement.fetch_kept(
        ("sessions", id(projection)), (projection,), [any_of(exchange_ids)], build
    )


async def speaker_rows(session_ids: Sequence[int], projection: Projected) -> Sequence[Any]:
    """``speakers_by_session`` as rows: (session id, *projection), by session then volunteer."""
    return await linked_rows(
        Volunteer,
        link_table="session_speaker",
        parent_column="session_id",
        child_column="volunteer_id",
        parent_ids=session_ids,
        projection=projection,
        offered=joins.VOLUNTEER,
    )


# ---------------------------------------------------------------- changes after invitations went out
# A session that moves or is called off concerns the invitees who accepted: each change
# bumps the calendar SEQUENCE (RFC 5545) and queues mail in the same transaction.


@dataclass(frozen=True)
class SessionChanges:
    """Fields left as KEEP stay as they are; None clears an optional field."""

    titles: list[LocalizedText] | None = KEEP
    starts_at: dt.datetime = KEEP
    ends_at: dt.datetime = KEEP
    format: SessionFormat = KEEP
    venue: str | None = KEEP
    online_url: str | None = KEEP
    language: str | None = KEEP
    capacity: int | None = KEEP


# Changes that move the calendar entry (when or where): invitees are told.
_CALENDAR_FIELDS = ("starts_at", "ends_at", "format", "venue", "online_url")


async def _session_to_manage(actor: Actor, session_id: int) -> Session:
    access.require_writer(actor)
    session = await Session.get_or_none(id=session_id)
    exchange = None if session is None else await visible_exchange(actor, session.exchange_id)
    if session is None or exchange is None:
        raise not_found("Session", ["id"])
    access.require_manage_exchange(actor, exchange)
    return session


async def _locked(session_id: int, connection: Any) -> tuple[Session, Exchange]:
    """The session and its exchange under row locks (like addSession and updateExchange), so
    the checks below hold against the dates and status that will be committed with them."""
    # The exchange first, as every other writer locks it, so the order never deadlocks.
    exchange_id = (await Session.filter(id=session_id).using_db(connection).get()).exchange_id
    exchange = await Exchange.filter(id=exchange_id).select_for_update().using_db(connection).get()
    session = await Session.filter(id=session_id).select_for_update().using_db(connection).get()
    if exchange.status in FINISHED:
        raise DomainError(
            ErrorCode.INVALID, f"The exchange is {exchange.status}; its sessions are final.", ["id"]
        )
    if session.cancelled_at is not None:
        raise DomainError(ErrorCode.INVALID, "The session is cancelled.", ["id"])
    return session, exchange


def _changed_values(problems: Problems, changes: SessionChanges) -> dict[str, object]:
    values: dict[str, object] = {}
    if changes.titles is not KEEP:
        values["titles"] = localized_map(
            problems, changes.titles, "titles", required=True, max_length=TITLE_MAX
        )
    for name in ("starts_at", "ends_at", "format", "language", "capacity", "online_url"):
        if getattr(changes, name) is not KEEP:
            values[name] = getattr(changes, name)
    if changes.venue is not KEEP:
        values["venue"] = _check_venue(problems, changes.venue)
    if changes.online_url is not KEEP:
        check_url(problems, changes.online_url, "onlineUrl")
    if changes.capacity is not KEEP:
        check_capacity(problems, changes.capacity)
    return values


def _check_venue(problems: Problems, venue: str | None) -> str | None:
    venue = (venue or "").strip() or None
    if venue is not None and len(venue) > VENUE_MAX:
        problems.invalid(f"The venue is longer than {VENUE_MAX} characters.", "venue")
    return venue


def _check_schedule(
    problems: Problems, exchange: Exchange, starts_at: dt.datetime, ends_at: dt.datetime
) -> None:
    if ends_at <= starts_at:
        problems.invalid("A session must end after it starts.", "endsAt")
        return
    opens, closes = local_day_bounds(exchange.starts_on, exchange.ends_on, exchange.time_zone)
    if not opens <= starts_at < closes:
        problems.invalid(
            f"The session must start within the exchange ({exchange.starts_on} to {exchange.ends_on} "
            f"in {exchange.time_zone}).",
            "startsAt",
        )
    if ends_at > closes:
        problems.invalid(
            f"The session ends after the exchange ({exchange.ends_on} in {exchange.time_zone}).", "endsAt"
        )


async def update_session(
    actor: Actor, session_id: int, changes: SessionChanges, settings: Settings | None = None
) -> Session:
    await _session_to_manage(actor, session_id)
    async with in_transaction() as connection:
        session, exchange = await _locked(session_id, connection)
        problems = Problems()
        values = _changed_values(problems, changes)
        starts_at = values.get("starts_at", session.starts_at)
        ends_at = values.get("ends_at", session.ends_at)
        assert isinstance(starts_at, dt.datetime) and isinstance(ends_at, dt.datetime)
        _check_schedule(problems, exchange, starts_at, ends_at)
        problems.raise_if_any()
        moved = any(name in values and values[name] != getattr(session, name) for name in _CALENDAR_FIELDS)
        for name, value in values.items():
            setattr(session, name, value)
        if moved:
            session.sequence += 1
        if values:
            fields = [*values, "sequence"] if moved else list(values)
            await session.save(update_fields=fields, using_db=connection)
        if moved:
            await notify_session_change(session, MailKind.UPDATE, settings)
    return session


async def cancel_session(actor: Actor, session_id: int, settings: Settings | None = None) -> Session:
    await _session_to_manage(actor, session_id)
    async with in_transaction() as connection:
        session, _ = await _locked(session_id, connection)
        session.cancelled_at = dt.datetime.now(dt.UTC)
        session.sequence += 1
        await session.save(update_fields=["cancelled_at", "sequence"], using_db=connection)
        await notify_session_change(session, MailKind.CANCELLATION, settings)
    return session
