"""bench.cgdiff's reading of callgrind_annotate tables and kept dumps (the dumps themselves come
from minutes under valgrind, run by hand: bench/RESULTS.md, session 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cgdiff import EVENTS, differences, events_of, function_name, functions, render, requests_of
from bench.simulated import REQUESTS_NOTE, _measured

# As callgrind_annotate prints it: shares in brackets, bare zeros and "." for none, names
# with their object file, a recursion level on one of them.
TABLE = """\
--------------------------------------------------------------------------------
Ir                   I1mr               D1mr               D1mw             Bcm                Bim                 file:function
--------------------------------------------------------------------------------
2,000 (100.0%) 50 (100.0%) 40 (100.0%) 20 (100.0%) 30 (100.0%) 10 (100.0%)  PROGRAM TOTALS
  1,000 (50.00%)   20 ( 40.00%)   10 (25.00%)       0            5 ( 1.00%)         .           /tmp/python-build.1/Python-3.11.7/Python/ceval.c:_PyEval_EvalFrameDefault [/usr/lib/libpython3.11.so]
    500 (25.00%)   10 ( 20.00%)    .                .            .                  .           /tmp/python-build.1/Python-3.11.7/Python/ceval.c:_PyEval_EvalFrameDefault'2 [/usr/lib/libpython3.11.so]
    300 (15.00%)    .               2 ( 5.00%)      1 ( 5.00%)   4 ( 1.00%)         2 ( 2.00%)  ???:0x00000000000284f0 [/venv/orjson.so]
"""


def test_functions_merge_recursion_levels_and_drop_paths() -> None:
    table = functions(TABLE)
    assert table == {
        "python:Python/ceval.c:_PyEval_EvalFrameDefault": [1500, 30, 10, 0, 5, 0],
        "???:0x00000000000284f0": [300, 0, 2, 1, 4, 2],
    }


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (
            "/tmp/b/Python-3.11.7/Objects/obmalloc.c:_PyObject_Free [/lib/libpython3.11.so.1.0]",
            "python:Objects/obmalloc.c:_PyObject_Free",
        ),
        ("/opt/x/Python-3.12.1/Python/ceval.c:f'3", "python:Python/ceval.c:f"),
        (
            "./malloc/./malloc/malloc.c:_int_malloc [/usr/lib/libc.so.6]",
            "./malloc/./malloc/malloc.c:_int_malloc",
        ),
    ],
)
def test_function_names_compare_across_processes(raw: str, name: str) -> None:
    assert function_name(raw) == name


def test_differences_per_request_largest_first() -> None:
    first = {"interpreter": [1000, 0, 0, 0, 0, 0], "only first": [250, 10, 0, 0, 0, 0]}
    second = {"interpreter": [500, 0, 0, 0, 0, 0], "only second": [100, 0, 0, 0, 0, 0]}
    found = differences(first, 10, second, 5)
    assert [d.name for d in found] == ["only first", "interpreter", "only second"]
    # Per request: 25 instructions and one miss (25 / 2.5 + 10), against nothing.
    assert found[0].cycles == pytest.approx(20.0)
    assert found[1].cycles == pytest.approx(0.0)  # 100 a request in both
    assert found[2].cycles == pytest.approx(-8.0)
    lines = render(found, 1).splitlines()
    assert lines[0] == "estimated cycles a request, first minus second: +0.0 k"
    # The largest first, then the most negative ones, none twice.
    assert [line.rsplit("  ", 1)[1] for line in lines[1:]] == ["only first", "interpreter", "only second"]


# Kept without --caches: callgrind counted instructions alone.
INSTRUCTIONS_ONLY = """\
--------------------------------------------------------------------------------
Ir                    file:function
--------------------------------------------------------------------------------
2,000 (100.0%)  PROGRAM TOTALS
  1,500 (75.00%)  /tmp/python-build.1/Python-3.11.7/Python/ceval.c:_PyEval_EvalFrameDefault [/usr/lib/libpython3.11.so]
    300 (15.00%)  ???:0x00000000000284f0 [/venv/orjson.so]
"""


def test_a_dump_without_cache_simulation_compares_by_instructions(tmp_path: Path) -> None:
    dump = tmp_path / "instructions.out"
    dump.write_text(f"# callgrind format\n{REQUESTS_NOTE}10\nevents: Ir\nsummary: 2000\n")
    assert events_of(dump) == ("Ir",)
    table = functions(INSTRUCTIONS_ONLY, events_of(dump))
    # Laid out as with every event, the ones not counted 0.
    assert table == {
        "python:Python/ceval.c:_PyEval_EvalFrameDefault": [1500, 0, 0, 0, 0, 0],
        "???:0x00000000000284f0": [300, 0, 0, 0, 0, 0],
    }
    # Read as if it had every column, the table would give nothing.
    assert functions(INSTRUCTIONS_ONLY) == {}
    missing = tmp_path / "no-events.out"
    missing.write_text("# callgrind format\n")
    with pytest.raises(ValueError, match="events"):
        events_of(missing)


def test_kept_dump_carries_its_request_count(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "callgrind.out.1").write_text(
        "# callgrind format\nversion: 1\ndesc: Trigger: Client Request: measured\n"
        f"events: {' '.join(EVENTS)}\nsummary: 3000 30 0 0 0 0\n"
    )
    kept = tmp_path / "kept.out"
    counts = _measured(folder, 300, kept)
    assert counts.get("Ir") == 10
    lines = kept.read_text().splitlines()
    assert lines[0] == "# callgrind format" and lines[1] == f"{REQUESTS_NOTE}300"
    assert requests_of(kept) == 300
    with pytest.raises(ValueError, match="request count"):
        requests_of(folder / "callgrind.out.1")
