"""One execution of a subscription's selection per event for every subscriber that would
get the same answer."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any, ClassVar

import orjson

from schema.api.context import Context
from schema.api.subscriptions.invitations import DeliveredEvent
from schema.api.subscriptions.participations import DeliveredParticipationEvent
from schema.engine.unstarted import ClosingExecutor


class SharedEventExecutor(ClosingExecutor):
    """Executes a subscription's selection once per event for all subscribers that would get
    the same answer: same document, operation, variables, caller (role and organisation) and
    languages. The fan-out then costs one execution per distinct subscription, not one per
    subscriber (1,000 dashboards of one organisation: one execution per process)."""

    _results: ClassVar[OrderedDict[tuple[Any, ...], Any]] = OrderedDict()
    _KEPT: ClassVar[int] = 1024

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._share_key = self._share_key_for(payload)  # type: ignore[attr-defined]
        return executor

    def _share_key_for(self, payload: Any) -> tuple[Any, ...] | None:
        context = self.context_value
        if not isinstance(payload, DeliveredEvent | DeliveredParticipationEvent) or not isinstance(
            context, Context
        ):
            return None
        actor = context.actor_or_none
        operation = self.operation
        source = operation.loc.source.body if operation.loc is not None else None
        if actor is None or source is None:
            return None
        try:
            variables = orjson.dumps(self.variable_values.coerced, option=orjson.OPT_SORT_KEYS, default=str)
        except TypeError:
            return None
        return (
            payload.event.event_id,
            source,
            operation.name.value if operation.name else None,
            variables,
            actor.role,
            actor.organisation_id,
            tuple(context.accept_languages),
        )

    def execute_operation(self, serially: bool | None = None) -> Any:
        key = getattr(self, "_share_key", None)
        if key is None:
            return super().execute_operation(serially)
        shared = self._results.get(key)
        if shared is None:
            result = super().execute_operation(serially)
            if not self.is_awaitable(result):
                self._remember(key, result)
                return result
            shared = asyncio.ensure_future(result)
            self._remember(key, shared)
        elif not isinstance(shared, asyncio.Future):
            return shared
        return _await_shared(shared)

    @classmethod
    def _remember(cls, key: tuple[Any, ...], value: Any) -> None:
        cls._results[key] = value
        if len(cls._results) > cls._KEPT:
            cls._results.popitem(last=False)


async def _await_shared(future: asyncio.Future[Any]) -> Any:
    if future.done():
        return future.result()
    # Shielded: one subscriber leaving must not cancel the execution the others wait for.
    return await asyncio.shield(future)
