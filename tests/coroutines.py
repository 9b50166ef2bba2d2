"""Coroutines made and never awaited (work begun and dropped): the one way the tests catch
them. When such a coroutine is finalised, CPython warns "coroutine ... was never awaited";
under an "error" filter that warning cannot be raised from a finaliser and reaches
``sys.unraisablehook`` with the coroutine, which ``never_awaited`` notes instead."""

from __future__ import annotations

import contextlib
import gc
import inspect
import logging
import sys
import traceback
import tracemalloc
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphql

GRAPHQL_CORE_EXECUTION = str(Path(graphql.__file__).parent / "execution")


@dataclass(frozen=True)
class Abandoned:
    """A coroutine finalised without having been awaited."""

    coroutine: str  # its repr: the function it would have run
    # Whether graphql-core's execution made it (known only with ``origin_depth``).
    by_graphql_core: bool
    created: str  # where it was made, when tracemalloc traces (PYTHONTRACEMALLOC=25)

    def __str__(self) -> str:
        where = "graphql-core" if self.by_graphql_core else "unknown"
        return f"{self.coroutine} ({where}){self.created}"


@contextlib.contextmanager
def never_awaited(left: list[Abandoned], origin_depth: int = 0) -> Iterator[None]:
    """Notes in ``left`` the coroutines finalised, never awaited, while the block runs; any
    other unraisable goes on to the hook before (pytest's, which fails the test).
    ``origin_depth`` frames of each coroutine's creation are kept (CPython's origin tracking,
    a cost on every coroutine made in the block) to tell graphql-core's own apart."""
    previous = sys.unraisablehook

    def note(unraisable: Any) -> None:
        if not inspect.iscoroutine(unraisable.object):
            previous(unraisable)
            return
        created = tracemalloc.get_object_traceback(unraisable.object)
        origin = unraisable.object.cr_origin or ()
        left.append(
            Abandoned(
                repr(unraisable.object),
                any(GRAPHQL_CORE_EXECUTION in frame[0] for frame in origin),
                "\n" + "".join(created.format()) if created else "",
            )
        )

    sys.unraisablehook = note
    depth = sys.get_coroutine_origin_tracking_depth()
    sys.set_coroutine_origin_tracking_depth(origin_depth)
    try:
        with warnings.catch_warnings():
            # Raised in the finaliser, the warning becomes an unraisable: the hook sees it.
            warnings.simplefilter("error", RuntimeWarning)
            yield
    finally:
        sys.set_coroutine_origin_tracking_depth(depth)
        sys.unraisablehook = previous


def release_abandoned_coroutines() -> None:
    """Abandoned coroutines live on in the frames of logged tracebacks (pytest keeps the
    records); free them now and collect, so that they are finalised in the caller's window
    (inside ``never_awaited``, or in the test that left them, for pytest's hook)."""
    for handler in logging.getLogger().handlers:
        for record in getattr(handler, "records", ()):
            if record.exc_info and record.exc_info[2] is not None:
                traceback.clear_frames(record.exc_info[2])
                record.exc_info = None
    gc.collect()
