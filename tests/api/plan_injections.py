"""Failures injected into the compiled plan's requests (tests/api/test_plan_failures.py): a
resolver that raises or returns null in a non-null field, a value its scalar refuses or an
object of another type for some objects, a DataLoader whose batch raises, and a database that
is away. Each also counts the calls it sees, so that a test can tell whether the plan repeated
any work under the failure."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from tortoise.exceptions import DBConnectionError

from exchange import models, sessions, sql
from schema.build import default_schema
from schema.engine.fastpath import DIRECT_KEY, DirectCall
from tests.api.plan_corpus import ADMIN, Case


def direct_call(type_name: str, field_name: str) -> DirectCall:
    graphql_type = default_schema()._schema.type_map[type_name]  # type: ignore[attr-defined]
    direct = graphql_type.fields[field_name].extensions[DIRECT_KEY]
    assert isinstance(direct, DirectCall)
    return direct


@dataclass
class Injection:
    """A failure put in place for one request (or, with ``fail`` false, only the counting of the
    calls it would see: object or key -> count)."""

    name: str
    install: Callable[[pytest.MonkeyPatch, collections.Counter[Any], bool], None]
    # Fields the failure is in: a document without any of them is not run with it.
    fields: tuple[str, ...]
    # Who asks, when the document's callers include them (else its first caller).
    actor: str | None = None
    # Whether row mode (schema/engine/rows.py) meets the failure too, and so stays on: the
    # injection also fails the row fetch of the same rows. A resolver, or a loader whose rows
    # row mode joins into another statement, is patched for graphql-core alone: row mode off.
    rows: bool = False


def failing_resolver(
    type_name: str, field_name: str, outcome: Callable[[Any], Any], every: bool = False
) -> Injection:
    """The field's resolver, for objects with an even id (``every``: all), replaced by
    ``outcome(root)`` (which raises or returns a bad value); the others resolve as before.
    Every call is counted by object."""

    def install(monkeypatch: pytest.MonkeyPatch, calls: collections.Counter[Any], fail: bool) -> None:
        direct = direct_call(type_name, field_name)
        # The plan calls a loader field's loader itself, not the function: no injection there.
        assert direct.loader_call is None, f"{type_name}.{field_name} is a loader call"
        original = direct.function

        def resolver(*args: Any, **kwargs: Any) -> Any:
            root = args[0] if args else next(iter(kwargs.values()))
            calls[(type_name, root.id)] += 1
            if fail and (every or root.id % 2 == 0):
                return outcome(root)
            return original(*args, **kwargs)

        monkeypatch.setattr(direct, "function", resolver)

    return Injection(f"{type_name}.{field_name}", install, (field_name,))


def raising(_root: Any) -> Any:
    raise RuntimeError("injected resolver failure")


def failing_batches(
    name: str,
    module: Any,
    functions: tuple[str, str],
    error: Callable[[], Exception],
    fields: tuple[str, ...],
) -> Injection:
    """A domain fetch behind a DataLoader raises for the whole batch, and so does its row
    variant (``functions``: the loader's, the row mode's); keys are counted per function."""

    def install(monkeypatch: pytest.MonkeyPatch, calls: collections.Counter[Any], fail: bool) -> None:
        def failing(function: str, original: Callable[..., Any]) -> Callable[..., Any]:
            async def fetch(ids: Any, *args: Any, **kwargs: Any) -> Any:
                for key in ids:
                    calls[(function, key)] += 1
                if not fail:
                    return await original(ids, *args, **kwargs)
                await asyncio.sleep(0)  # fails after a round trip's worth of waiting, as SQL would
                raise error()

            return fetch

        for function in functions:
            monkeypatch.setattr(module, function, failing(function, getattr(module, function)))

    return Injection(name, install, fields, rows=True)


def failing_organisation_rows(
    monkeypatch: pytest.MonkeyPatch, calls: collections.Counter[Any], fail: bool
) -> None:
    """Loading organisations by id (ExperienceExchange.host, Organisation.parent: the plan's
    direct loader calls) meets a database that is away."""
    original = sql.by_ids

    async def by_ids(model: Any, ids: Any, columns: Any = None) -> Any:
        if model is models.Organisation:
            for key in ids:
                calls[("organisation", key)] += 1
            if fail:
                raise DBConnectionError("injected: connection refused")
        return await original(model, ids, columns)

    monkeypatch.setattr(sql, "by_ids", by_ids)


INJECTIONS = [
    failing_resolver("ExperienceExchange", "title", raising),  # non-null String
    failing_resolver("ExperienceExchange", "description", raising),  # nullable
    failing_resolver("ExperienceExchange", "title", lambda _root: None),  # null in a non-null field
    failing_resolver("Session", "title", raising),  # deeper, in lists of sessions
    failing_resolver("ExperienceExchange", "seatsLeft", lambda _root: "many"),  # not an Int (async resolver)
    # The invitation itself where its sessions belong (Session's is_type_of refuses it).
    dataclasses.replace(
        failing_resolver("Invitation", "sessions", lambda root: [root], every=True), actor=ADMIN
    ),
    failing_batches(
        "speakers' batch raises",
        sessions,
        ("speakers_by_session", "speaker_rows"),
        lambda: RuntimeError("injected batch failure"),
        ("speakers",),
    ),
    failing_batches(
        "sessions' batch: database away",
        sessions,
        ("sessions_by_exchange", "session_rows"),
        lambda: DBConnectionError("injected: connection lost"),
        ("sessions",),
    ),
    Injection("organisations by id: database away", failing_organisation_rows, ("host", "parent")),
]


def caller(case: Case, injection: Injection) -> str:
    return injection.actor if injection.actor in case.actors else case.actors[0]


def concerned(case: Case, injection: Injection) -> bool:
    return any(field in case.query for field in injection.fields)


@contextlib.contextmanager
def injected(injection: Injection, fail: bool) -> Iterator[collections.Counter[Any]]:
    calls: collections.Counter[Any] = collections.Counter()
    with pytest.MonkeyPatch.context() as monkeypatch:
        injection.install(monkeypatch, calls, fail)
        yield calls
