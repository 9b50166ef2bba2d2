"""schema.admission.limits.Limits: a key of the document cache, hashed once."""

from __future__ import annotations

import dataclasses

from exchange.settings import Settings
from schema.admission.limits import Limits


def test_equal_limits_are_one_key_and_other_limits_another() -> None:
    limits = Limits.from_settings(Settings())
    same = dataclasses.replace(limits)
    other = dataclasses.replace(limits, max_depth=limits.max_depth + 1)
    assert hash(same) == hash(limits) and same == limits
    cache = {(limits, "{ a }"): 1}
    assert cache.get((same, "{ a }")) == 1
    assert cache.get((other, "{ a }")) is None
    assert other != limits


def test_the_hash_is_the_fields_hash() -> None:
    limits = Limits.from_settings(Settings())
    fields = tuple(getattr(limits, field.name) for field in dataclasses.fields(Limits))
    assert hash(limits) == hash(fields) == hash(limits)
