"""bench.simulated's reading of a callgrind profile (the server run under valgrind is measured
by hand: it takes minutes; bench/RESULTS.md, session 8)."""

from __future__ import annotations

import pytest

from bench.simulated import INSTRUCTIONS_PER_CYCLE, MISPREDICT_CYCLES, MISS_CYCLES, per_request, render

PROFILE = """# callgrind format
version: 1
creator: callgrind-3.19.0
cmd: python -m uvicorn
desc: Trigger: Client Request: measured
events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw Bc Bcm Bi Bim
fl=(1) ceval.c
fn=(1) _PyEval_EvalFrameDefault
0 10 1 1 1 1 1 0 0 0 1 1 1 1
summary: 3000000 900 600 3000 300 150 6 3 3 1200 90 600 60
totals: 9 9 9 9 9 9 9 9 9 9 9 9 9
"""


def test_totals_divided_by_the_requests() -> None:
    counts = per_request(PROFILE, 300)
    assert counts.get("Ir") == 10_000
    assert counts.get("I1mr") == 10
    assert counts.get("D1mr") == 1
    assert counts.get("D1mw") == 0.5
    assert counts.get("Bcm") == 0.3
    assert counts.get("Bim") == 0.2
    assert counts.get("absent") == 0


def test_estimate_weighs_misses_and_mispredictions() -> None:
    counts = per_request(PROFILE, 300)
    expected = (
        10_000 / INSTRUCTIONS_PER_CYCLE + MISS_CYCLES * (10 + 1 + 0.5) + MISPREDICT_CYCLES * (0.3 + 0.2)
    )
    assert counts.estimate() == pytest.approx(expected)


def test_instructions_only_profile_estimates_from_instructions() -> None:
    counts = per_request("events: Ir\nsummary: 2500\n", 1)
    assert counts.estimate() == pytest.approx(1000)
    assert render("ours", "page10", counts, caches=False) == (
        "ours, page10: 0.003 M instructions per request (server process, HTTP)"
    )


def test_render_with_caches_names_every_event() -> None:
    text = render("asyncpg", "page10", per_request(PROFILE, 300), caches=True)
    assert "I1mr 0.0 k" in text and "Bim 0.0 k" in text and "estimate 0.004 M cycles" in text


@pytest.mark.parametrize(("text", "requests"), [("no events here\n", 1), (PROFILE, 0)])
def test_refuses_what_it_cannot_read(text: str, requests: int) -> None:
    with pytest.raises(ValueError):
        per_request(text, requests)


def test_render_sums_the_last_level_misses() -> None:
    counts = per_request(PROFILE.replace("6 3 3 1200", "600000 300000 300000 1200"), 300)  # ILmr DLmr DLmw
    assert "last-level misses 4.00 k (ILmr, DLmr, DLmw)" in render("ours", "page10", counts, caches=True)
    assert "last-level" not in render("ours", "page10", per_request("events: Ir\nsummary: 1\n", 1), True)


@pytest.mark.parametrize("size", ["1000", "65535", "3000000"])
def test_last_level_size_must_be_a_power_of_two(size: str) -> None:
    from bench.simulated import main

    with pytest.raises(SystemExit, match="power of two"):
        main(["--last-level", size])
