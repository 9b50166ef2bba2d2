"""The per-request context: who is calling, in which languages, and the request's loaders."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader
from strawberry.extensions import SchemaExtension
from strawberry.types import Info as StrawberryInfo

from exchange import pinned
from exchange.access import Actor
from exchange.errors import DomainError
from exchange.settings import Settings
from schema.api.paging import PageArgs

if TYPE_CHECKING:
    from schema.api.loaders import Loaders


@dataclass
class Context:
    settings: Settings
    # The actor, or the DomainError that authentication raised (unknown or revoked key):
    # raised again by every resolver that asks who is calling.
    _actor: Actor | DomainError
    accept_languages: list[str] = field(default_factory=list)
    request: Any = None
    response: Any = None
    # Set by the transport for token-authorised calls (respondToInvitation), etc.
    extras: dict[str, Any] = field(default_factory=dict)
    # WebSocket only: the connection_init payload (Strawberry fills it in; see schema.transport.sockets).
    connection_params: dict[str, Any] | None = None
    # Columns the running query reads, per model (schema.engine.columns): its loaders select only
    # these. Empty (every column) unless a compiled plan runs.
    columns: dict[Any, frozenset[str]] = field(default_factory=dict)

    @property
    def actor(self) -> Actor:
        if isinstance(self._actor, DomainError):
            raise self._actor
        return self._actor

    @property
    def actor_or_none(self) -> Actor | None:
        return None if isinstance(self._actor, DomainError) else self._actor

    def page_args(
        self, first: int | None, after: str | None, last: int | None = None, before: str | None = None
    ) -> PageArgs:
        """A connection's arguments, checked against the page cap; the cap when none is given.
        The same for root lists and connections inside objects."""
        cap = self.settings.page_size_cap
        return PageArgs.parse(first, after, last, before, cap).default_first(cap)

    def locales(self, explicit: str | None = None) -> list[str]:
        """Preferred languages for a localized field: the argument, then Accept-Language."""
        return [explicit, *self.accept_languages] if explicit else self.accept_languages

    def reading(self) -> AbstractAsyncContextManager[None]:
        """The scope of a run of statements sent one after another (a row-served field's
        levels, schema.engine.rows): one pooled connection for all of them (exchange.pinned)."""
        return pinned.one_connection()

    @cached_property
    def loaders(self) -> Loaders:
        from schema.api.loaders import Loaders

        return Loaders(self)

    def release(self) -> None:
        """Drop the request's DataLoader caches once the response data is built.

        The loaders, this context and graphql-core's execution context reference each other,
        so without this every model instance a request loaded stays alive until the cyclic
        garbage collector finds it (thousands per page: most of the collector's work under
        load). The next access builds fresh loaders (a WebSocket context executes again).
        """
        loaders = self.__dict__.pop("loaders", None)
        if loaders is not None:
            for value in vars(loaders).values():
                if isinstance(value, DataLoader):
                    value.clear_all()
                    value.batch = None  # the last batch holds its futures and their results


class ReleaseLoaders(SchemaExtension):
    """Calls ``Context.release`` after each execution."""

    def on_execute(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, Context):
            context.release()


Info = StrawberryInfo[Context, Any]
