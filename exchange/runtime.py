"""Process-level tuning applied once the app has started: the garbage collector.

A GraphQL response of a few thousand objects allocates tens of thousands of containers that
mostly die by reference counting. With CPython's default first-generation threshold (700
allocations) the cyclic collector runs hundreds of times per request and, with many requests
in flight, keeps promoting their live objects and rescanning them: profiled under load it
took about 40% of the server's CPU. A higher threshold makes collections rare; freezing what
exists after start-up (modules, the schema, settings) keeps those objects out of every later
collection. The price is memory: up to ``gc_threshold`` more uncollected container objects
between collections (a few MB), measured by the benchmark's peak RSS.
"""

from __future__ import annotations

import gc
import logging

from exchange.settings import Settings

log = logging.getLogger("exchange.runtime")

_frozen = False


def tune_gc(settings: Settings) -> None:
    """Once per process for the freeze (a test run starts many apps: only the first start's
    objects, the modules and the schema, are meant to be frozen)."""
    global _frozen
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(settings.gc_threshold, gen1, gen2)
    if settings.gc_freeze and not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True
    log.debug("gc thresholds %s, %d objects frozen", gc.get_threshold(), gc.get_freeze_count())
