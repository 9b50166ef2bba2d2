"""Global ids: encode_id gives byte for byte the fair baseline's ids (bench/baseline_asyncpg.gid)
and base64url's, and decode_id reads back every id a 32-bit primary key makes.

encode_id is the same expression as the baseline's gid (binascii without base64's Python
wrappers), so its cost per id is the baseline's; bench/RESULTS.md has the profile."""

from __future__ import annotations

import base64
import random

from bench.baseline_asyncpg import gid
from schema.api.relay import decode_id, encode_id

TYPE_NAMES = [
    "ExperienceExchange",
    "Organisation",
    "Session",
    "Volunteer",
    "Participation",
    "Invitation",
    "A",
]
MAX_INT = 2**31 - 1


_rng = random.Random(14)
_EDGES = [0, 1, 9, 10, 99, 100, 999, MAX_INT - 1, MAX_INT, MAX_INT + 1, 2**32, 2**63 - 1, 10**30]
PKS = [*range(3000), *_EDGES, *(_rng.randrange(1, 2**63) for _ in range(3000))]


def test_ids_are_the_baseline_s_and_base64url_s() -> None:
    for type_name in TYPE_NAMES:
        for pk in PKS:
            ours = encode_id(type_name, pk)
            assert ours == gid(type_name, pk), (type_name, pk)
            reference = base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")
            assert ours == reference, (type_name, pk)


def test_decode_reads_back_every_32_bit_key_and_refuses_larger_ones() -> None:
    for type_name in TYPE_NAMES:
        for pk in PKS:
            expected = (type_name, pk) if pk <= MAX_INT else None
            assert decode_id(encode_id(type_name, pk)) == expected, (type_name, pk)
