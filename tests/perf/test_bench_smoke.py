"""The benchmark itself works: `python -m bench run --smoke` builds its tiny data sets (and the
5x one), starts our server and both baselines as real processes, finds the same JSON from all
three and measures them in alternating windows, round after round. Numbers are not asserted
(no timed assertions); the shape of the run is."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from bench.runner import SMOKE_SCENARIOS
from tests.services import POSTGRES_URL, need_postgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.postgres
def test_bench_smoke_run(tmp_path: Path) -> None:
    need_postgres()
    out = tmp_path / "report.json"
    env = {**os.environ, "EXCHANGE_BENCH_POSTGRES_URL": POSTGRES_URL}
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--smoke", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    servers = report["servers"]
    assert set(servers) == {"ours", "asyncpg", "naive"}
    assert list(report["scenarios"]) == list(SMOKE_SCENARIOS)
    assert servers["asyncpg"]["checks"] == dict.fromkeys(SMOKE_SCENARIOS, "equal")
    on_one_x = [key for key in SMOKE_SCENARIOS if "@" not in key]
    assert servers["naive"]["checks"] == dict.fromkeys(on_one_x, "equal")
    assert not report["problems"]
    rounds = report["rounds"]
    assert rounds >= 2
    for name in ("ours", "asyncpg"):
        measured = servers[name]["measurements"]
        assert sorted((m["scenario"], m["round"]) for m in measured) == sorted(
            (key, r) for key in SMOKE_SCENARIOS for r in range(1, rounds + 1)
        )
        assert all(m["requests"] > 0 and m["failures"] == 0 for m in measured)
        assert all(m["peak_rss_mb"] > 0 for m in measured)
        # A request alone is timed in every round, not only the first: the large result's
        # target is the median of the same-round ratios.
        assert all(m["single_request_ms"] > 0 for m in measured)
        # PostgreSQL runs on this machine (the suite's own): its CPU is read around every window.
        assert all(m["database_cpu_ms_per_request"] is not None for m in measured)
        assert all(m["database_cpu_ms_per_request"] >= 0 for m in measured)
        assert any(m["database_cpu_ms_per_request"] > 0 for m in measured)
    assert {m["scenario"] for m in servers["naive"]["measurements"]} == {"page20"}

    def started(name: str, round_number: int) -> float:
        found = [
            m
            for m in servers[name]["measurements"]
            if m["scenario"] == "page20" and m["round"] == round_number
        ]
        return float(found[0]["started_at"])

    # Alternating: ours, the fair baseline, the naive one, then ours again in the next round.
    assert started("ours", 1) < started("asyncpg", 1) < started("naive", 1) < started("ours", 2)
    # The statements come from the wire; the naive baseline must show its N+1, and ours as many
    # statements for 10 exchanges as for 20.
    ours_statements = servers["ours"]["statements"]
    assert ours_statements["page20"]["data"] < servers["naive"]["statements"]["page20"]["data"]
    assert ours_statements["page10"]["data"] == ours_statements["page20"]["data"]
    assert servers["ours"]["peak_rss_mb"] > 0
    # The large result's time alone: the median over the rounds of ours' over the baseline's.
    (alone,) = [target for target in report["targets"] if "(alone)" in target[0]]

    def single(name: str, round_number: int) -> float:
        (found,) = [
            m["single_request_ms"]
            for m in servers[name]["measurements"]
            if m["scenario"] == "large" and m["round"] == round_number
        ]
        return float(found)

    per_round = [single("ours", r) / single("asyncpg", r) for r in range(1, rounds + 1)]
    assert alone[2].startswith(f"{statistics.median(per_round):.2f}x (rounds ")
    assert alone[1] == (statistics.median(per_round) <= 1.25)
