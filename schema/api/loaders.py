"""Every DataLoader, one set per request, keyed by primary key (or parent key for lists).

Grouped by the area of the domain each reads (organisations and exchanges, volunteers,
participations, invitations, statistics), so a new loader has one obvious place; the
attribute names are what resolvers call (``info.context.loaders.<name>``)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from exchange import (
    attendance,
    exchanges,
    models,
    participations,
    sessions,
    statistics,
    volunteers,
)
from exchange.certificates import service as certificates
from exchange.invitations import manage as invitation_reads
from exchange.invitations import waitlist
from exchange.outcomes import outcomes_by_exchange
from exchange.sql import Page
from schema.api.batching import by_id_loader, grouped_loader, paged_loader, visible_by_id_loader
from schema.api.paging import PageArgs

if TYPE_CHECKING:
    from schema.api.context import Context


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
    """Built lazily once per request by the context; each loader is built on its first use.

    A request uses two or three of these loaders: building all of them per request cost a
    lookup 3.6% of its CPU plus most of the garbage collection it triggered (bench/RESULTS.md,
    session 4). ``cached_property`` stores a built loader in the instance's ``__dict__``, which
    is where ``Context.release`` and the engine's ``settle_loaders`` find the loaders in use."""

    def __init__(self, context: Context) -> None:
        self.context = context
        # Only the columns the query reads (Context.columns, from the compiled plan: schema.transport.execution), where given.
        self._columns: dict[Any, frozenset[str]] = context.columns

    # (statistic, scope, subject) -> its figures: one statement per statistic and scope.
    @cached_property
    def statistics(
        self,
    ) -> DataLoader[tuple[statistics.Statistic, statistics.Scope, int], statistics.Figures]:
        return DataLoader(load_fn=lambda keys: statistics.batch(self.context.actor, keys))

    # Organisations, exchanges and their sessions (exchange/exchanges.py, sessions.py).
    @cached_property
    def organisation(self) -> DataLoader[int, models.Organisation | None]:
        return by_id_loader(models.Organisation, self._columns)

    @cached_property
    def exchange(self) -> DataLoader[int, models.Exchange | None]:
        return by_id_loader(models.Exchange, self._columns)

    @cached_property
    def session(self) -> DataLoader[int, models.Session | None]:
        return by_id_loader(models.Session, self._columns)

    @cached_property
    def exchange_partners(self) -> DataLoader[int, list[models.Organisation]]:
        columns = self._columns
        return grouped_loader(
            lambda ids: exchanges.partners_by_exchange(ids, columns.get(models.Organisation))
        )

    @cached_property
    def exchange_sessions(self) -> DataLoader[int, list[models.Session]]:
        columns = self._columns
        return grouped_loader(lambda ids: sessions.sessions_by_exchange(ids, columns.get(models.Session)))

    @cached_property
    def session_speakers(self) -> DataLoader[int, list[models.Volunteer]]:
        columns = self._columns
        return grouped_loader(lambda ids: sessions.speakers_by_session(ids, columns.get(models.Volunteer)))

    @cached_property
    def exchange_outcomes(self) -> DataLoader[int, list[models.ExchangeOutcome]]:
        return grouped_loader(outcomes_by_exchange, default=[])

    # Nested connection: every organisation's page in one statement; keyed (id, page args).
    @cached_property
    def organisation_exchanges(self) -> DataLoader[tuple[int, PageArgs], Page]:
        return paged_loader(lambda ids, page: exchanges.pages_by_organisation(self.context.actor, ids, page))

    # Volunteers, under the people rule (exchange/volunteers.py, attendance.py).
    # Every volunteer row, for paths already inside the people rule (a participation the
    # caller may see, a session's speakers); by-id lookups from outside use visible_volunteer.
    @cached_property
    def volunteer(self) -> DataLoader[int, models.Volunteer | None]:
        return by_id_loader(models.Volunteer, self._columns)

    @cached_property
    def visible_volunteer(self) -> DataLoader[int, models.Volunteer | None]:
        actor = self.context.actor_or_none
        if actor is not None and actor.is_admin:
            return self.volunteer
        columns = self._columns
        return visible_by_id_loader(
            lambda ids: volunteers.visible_by_ids(self.context.actor, ids, columns.get(models.Volunteer))
        )

    # A volunteer's hours over the participations the caller may see; no-shows for hosts
    # (None for other callers): one statement each for every volunteer of a response.
    @cached_property
    def volunteer_hours(self) -> DataLoader[int, float]:
        return grouped_loader(lambda ids: attendance.hours_by_volunteer(self.context.actor, ids), default=0.0)

    @cached_property
    def volunteer_no_shows(self) -> DataLoader[int, int | None]:
        return grouped_loader(lambda ids: attendance.no_shows_by_volunteer(self.context.actor, ids))

    @cached_property
    def volunteer_participations(self) -> DataLoader[tuple[int, PageArgs], Page]:
        return paged_loader(
            lambda ids, page: participations.pages_by_volunteer(self.context.actor, ids, page)
        )

    # Volunteer id -> whether the calling organisation organises an exchange they are
    # invited to or take part in (the email rule), for all volunteers of a response at once.
    @cached_property
    def organised_by_actor(self) -> DataLoader[int, bool]:
        return DataLoader(load_fn=self._organised_by_actor)

    # Participations and what is counted over them (exchange/participations.py).
    @cached_property
    def visible_participation(self) -> DataLoader[int, models.Participation | None]:
        columns = self._columns
        return visible_by_id_loader(
            lambda ids: participations.visible_by_ids(
                self.context.actor, ids, columns.get(models.Participation)
            )
        )

    @cached_property
    def places_taken(self) -> DataLoader[int, int]:
        return grouped_loader(participations.places_taken, default=0)

    @cached_property
    def participant_countries(self) -> DataLoader[int, dict[str, int]]:
        return grouped_loader(participations.countries_by_exchange, default={})

    # Nested connection: every exchange's page in one statement; keyed (id, page args).
    @cached_property
    def exchange_participants(self) -> DataLoader[tuple[int, PageArgs], Page]:
        columns = self._columns
        return paged_loader(
            lambda ids, page: participations.pages_by_exchange(
                self.context.actor, ids, page, columns.get(models.Participation)
            )
        )

    # Participation id -> its certificate (the valid one, else the last revoked), or None.
    @cached_property
    def participation_certificate(self) -> DataLoader[int, models.Certificate | None]:
        return grouped_loader(certificates.latest_by_participation)

    # Invitations (exchange/invitations/manage.py, waitlist.py).
    @cached_property
    def invitation_sessions(self) -> DataLoader[int, list[models.Session]]:
        return grouped_loader(invitation_reads.sessions_by_invitation, default=[])

    # Pages keyed (exchange id, page args, status).
    @cached_property
    def exchange_invitations(self) -> DataLoader[tuple[int, PageArgs, models.InvitationStatus | None], Page]:
        return DataLoader(load_fn=_invitation_pages)

    # Invitation id -> place on its exchange's waiting list (None unless WAITLISTED).
    @cached_property
    def waitlist_positions(self) -> DataLoader[int, int | None]:
        return grouped_loader(waitlist.positions)

    async def _organised_by_actor(self, keys: list[int]) -> list[bool]:
        organisation_id = self.context.actor.organisation_id
        found = (
            set()
            if organisation_id is None
            else await volunteers.organised_volunteer_ids(organisation_id, keys)
        )
        return [key in found for key in keys]

    async def partner_ids(self, exchange_id: int) -> frozenset[int]:
        return frozenset(partner.id for partner in await self.exchange_partners.load(exchange_id))

    async def sees_invitations(self, exchange: models.Exchange) -> bool:
        """Whether the caller may read the exchange's invitations (exchange.access's rule);
        the partners are loaded only when they decide it."""
        return await exchanges.sees_invitations(self.context.actor, exchange, self.partner_ids)

    async def sees_exact_counts(self, exchange_id: int, host_id: int) -> bool:
        """Whether the caller has full rights over the exchange's people (exchange.access's
        rule); the partners are loaded only when they decide it."""
        return await exchanges.sees_exact_counts(self.context.actor, exchange_id, host_id, self.partner_ids)

    async def visible_exchange(self, exchange_id: int) -> models.Exchange | None:
        """The exchange if it exists and the caller may see it (the rule of exchange.access)."""
        exchange = await self.exchange.load(exchange_id)
        if exchange is None:
            return None
        seen = await exchanges.sees_exchange(self.context.actor, exchange, self.partner_ids)
        return exchange if seen else None
