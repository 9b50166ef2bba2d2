"""Every DataLoader, one set per request, keyed by primary key (or parent key for lists)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from strawberry.dataloader import DataLoader

from exchange import (
    access,
    attendance,
    exchanges,
    models,
    participations,
    sessions,
    sql,
    statistics,
    volunteers,
)
from exchange.certificates import service as certificates
from exchange.invitations import manage as invitation_reads
from exchange.invitations import waitlist
from exchange.outcomes import outcomes_by_exchange
from exchange.sql import Page
from schema.api.paging import PageArgs

if TYPE_CHECKING:
    from schema.api.context import Context

M = TypeVar("M")


def by_key(rows: Iterable[M], keys: Sequence[Any], attr: str = "id") -> list[M | None]:
    index = {getattr(row, attr): row for row in rows}
    return [index.get(key) for key in keys]


def _by_id_loader(model: Any, columns: dict[Any, frozenset[str]]) -> DataLoader[int, Any]:
    async def load(keys: list[int]) -> list[Any]:
        return by_key(await sql.by_ids(model, keys, columns.get(model)), keys)

    return DataLoader(load_fn=load)


def _visible_by_id_loader(fetch: Callable[[list[int]], Awaitable[list[Any]]]) -> DataLoader[int, Any]:
    """By id, through a fetch that leaves out what the caller may not see (None for those)."""

    async def load(keys: list[int]) -> list[Any]:
        return by_key(await fetch(keys), keys)

    return DataLoader(load_fn=load)


def _grouped_loader(
    fetch: Callable[[list[int]], Awaitable[dict[int, Any]]], default: Any = None
) -> DataLoader[int, Any]:
    """A loader over a batch function returning {key: value} (lists or counts per parent)."""

    async def load(keys: list[int]) -> list[Any]:
        found = await fetch(list(dict.fromkeys(keys)))
        return [found.get(key, default) for key in keys]

    return DataLoader(load_fn=load)


def _paged_loader(
    fetch: Callable[[list[int], PageArgs], Awaitable[dict[int, Page]]],
) -> DataLoader[tuple[int, PageArgs], Page]:
    """Keys are (parent id, page args); one fetch per distinct page args in a batch."""

    async def load(keys: list[tuple[int, PageArgs]]) -> list[Page]:
        parents_by_args: dict[PageArgs, list[int]] = {}
        for parent, args in keys:
            parents_by_args.setdefault(args, [])
            if parent not in parents_by_args[args]:
                parents_by_args[args].append(parent)
        pages: dict[tuple[int, PageArgs], Page] = {}
        for args, parents in parents_by_args.items():
            for parent, page in (await fetch(parents, args)).items():
                pages[(parent, args)] = page
        return [pages.get(key, Page()) for key in keys]

    return DataLoader(load_fn=load)


async def _invitation_pages(keys: list[tuple[int, PageArgs, models.InvitationStatus | None]]) -> list[Page]:
    """One statement per distinct (page args, status) in a batch, covering every exchange."""
    groups: dict[tuple[PageArgs, models.InvitationStatus | None], list[int]] = {}
    for exchange_id, args, status in keys:
        groups.setdefault((args, status), [])
        if exchange_id not in groups[(args, status)]:
            groups[(args, status)].append(exchange_id)
    pages: dict[tuple[int, PageArgs, models.InvitationStatus | None], Page] = {}
    for (args, status), exchange_ids in groups.items():
        for exchange_id, page in (
            await invitation_reads.pages_by_exchange(exchange_ids, args, status)
        ).items():
            pages[(exchange_id, args, status)] = page
    return [pages.get(key, Page()) for key in keys]


class Loaders:
    """Built lazily once per request by the context."""

    def __init__(self, context: Context) -> None:
        self.context = context
        # Only the columns the query reads (Context.columns, set by schema.engine.plan), where given.
        columns = context.columns
        self.organisation: DataLoader[int, models.Organisation | None] = _by_id_loader(
            models.Organisation, columns
        )
        # Exchanges, sessions, volunteers, participations (see exchange/exchanges.py & co.).
        self.exchange: DataLoader[int, models.Exchange | None] = _by_id_loader(models.Exchange, columns)
        self.session: DataLoader[int, models.Session | None] = _by_id_loader(models.Session, columns)
        # Every volunteer row, for paths already inside the people rule (a participation the
        # caller may see, a session's speakers); by-id lookups from outside use visible_volunteer.
        self.volunteer: DataLoader[int, models.Volunteer | None] = _by_id_loader(models.Volunteer, columns)
        actor = context.actor_or_none
        self.visible_volunteer: DataLoader[int, models.Volunteer | None] = (
            self.volunteer
            if actor is not None and actor.is_admin
            else _visible_by_id_loader(
                lambda ids: volunteers.visible_by_ids(self.context.actor, ids, columns.get(models.Volunteer))
            )
        )
        self.visible_participation: DataLoader[int, models.Participation | None] = _visible_by_id_loader(
            lambda ids: participations.visible_by_ids(
                self.context.actor, ids, columns.get(models.Participation)
            )
        )
        self.exchange_partners: DataLoader[int, list[models.Organisation]] = _grouped_loader(
            lambda ids: exchanges.partners_by_exchange(ids, columns.get(models.Organisation))
        )
        self.exchange_sessions: DataLoader[int, list[models.Session]] = _grouped_loader(
            lambda ids: sessions.sessions_by_exchange(ids, columns.get(models.Session))
        )
        self.session_speakers: DataLoader[int, list[models.Volunteer]] = _grouped_loader(
            lambda ids: sessions.speakers_by_session(ids, columns.get(models.Volunteer))
        )
        self.places_taken: DataLoader[int, int] = _grouped_loader(participations.places_taken, default=0)
        self.exchange_outcomes: DataLoader[int, list[models.ExchangeOutcome]] = _grouped_loader(
            outcomes_by_exchange, default=[]
        )
        self.participant_countries: DataLoader[int, dict[str, int]] = _grouped_loader(
            participations.countries_by_exchange, default={}
        )
        # Nested connections: every parent's page in one statement; keyed (parent id, page args).
        self.exchange_participants: DataLoader[tuple[int, PageArgs], Page] = _paged_loader(
            lambda ids, page: participations.pages_by_exchange(
                self.context.actor, ids, page, columns.get(models.Participation)
            )
        )
        # A volunteer's hours over the participations the caller may see; no-shows for hosts
        # (None for other callers): one statement each for every volunteer of a response.
        self.volunteer_hours: DataLoader[int, float] = _grouped_loader(
            lambda ids: attendance.hours_by_volunteer(self.context.actor, ids), default=0.0
        )
        self.volunteer_no_shows: DataLoader[int, int | None] = _grouped_loader(
            lambda ids: attendance.no_shows_by_volunteer(self.context.actor, ids)
        )
        # Participation id -> its certificate (the valid one, else the last revoked), or None.
        self.participation_certificate: DataLoader[int, models.Certificate | None] = _grouped_loader(
            certificates.latest_by_participation
        )
        self.volunteer_participations: DataLoader[tuple[int, PageArgs], Page] = _paged_loader(
            lambda ids, page: participations.pages_by_volunteer(self.context.actor, ids, page)
        )
        self.organisation_exchanges: DataLoader[tuple[int, PageArgs], Page] = _paged_loader(
            lambda ids, page: exchanges.pages_by_organisation(self.context.actor, ids, page)
        )
        # Volunteer id -> whether the calling organisation organises an exchange they are
        # invited to or take part in (the email rule), for all volunteers of a response at once.
        self.organised_by_actor: DataLoader[int, bool] = DataLoader(load_fn=self._organised_by_actor)
        # Invitations (exchange/invitations/manage.py); pages keyed (exchange id, page args, status).
        self.invitation_sessions: DataLoader[int, list[models.Session]] = _grouped_loader(
            invitation_reads.sessions_by_invitation, default=[]
        )
        self.exchange_invitations: DataLoader[tuple[int, PageArgs, models.InvitationStatus | None], Page] = (
            DataLoader(load_fn=_invitation_pages)
        )
        # (statistic, scope, subject) -> its figures: one statement per statistic and scope.
        self.statistics: DataLoader[
            tuple[statistics.Statistic, statistics.Scope, int], statistics.Figures
        ] = DataLoader(load_fn=lambda keys: statistics.batch(self.context.actor, keys))
        # Invitation id -> place on its exchange's waiting list (None unless WAITLISTED).
        self.waitlist_positions: DataLoader[int, int | None] = _grouped_loader(waitlist.positions)

    async def _organised_by_actor(self, keys: list[int]) -> list[bool]:
        organisation_id = self.context.actor.organisation_id
        found = (
            set()
            if organisation_id is None
            else await volunteers.organised_volunteer_ids(organisation_id, keys)
        )
        return [key in found for key in keys]

    async def sees_invitations(self, exchange: models.Exchange) -> bool:
        """Whether the caller may read the exchange's invitations (exchange.access's rule)."""
        partners = await self.exchange_partners.load(exchange.id)
        partner_ids = frozenset(partner.id for partner in partners)
        return access.can_see_invitations(self.context.actor, exchange.host_id, partner_ids)

    async def sees_exact_counts(self, exchange_id: int, host_id: int) -> bool:
        """Whether the caller has full rights over the exchange's people (exchange.access)."""
        actor = self.context.actor
        if not actor.is_organisation:  # the answer needs no partners: one statement less
            return access.sees_exact_counts(actor, host_id, frozenset())
        partners = await self.exchange_partners.load(exchange_id)
        partner_ids = frozenset(partner.id for partner in partners)
        return access.sees_exact_counts(actor, host_id, partner_ids)

    async def visible_exchange(self, exchange_id: int) -> models.Exchange | None:
        """The exchange if it exists and the caller may see it (the rule of exchange.access)."""
        exchange = await self.exchange.load(exchange_id)
        if exchange is None:
            return None
        partners = await self.exchange_partners.load(exchange_id)
        partner_ids = frozenset(partner.id for partner in partners)
        if not access.can_see_exchange(self.context.actor, exchange.status, exchange.host_id, partner_ids):
            return None
        return exchange
