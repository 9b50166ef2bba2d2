"""The benchmark itself works: `python -m bench run --smoke` builds its tiny data set, starts
our server and both baselines as real processes, finds the same JSON from all three and
measures each under load for a moment. Numbers are not asserted (no timed assertions)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert servers["asyncpg"]["checks"] == {"1": "equal", "2": "equal", "3": "equal"}
    assert servers["naive"]["checks"] == {"1": "equal", "2": "equal", "3": "equal"}
    assert not report["problems"]
    for name in ("ours", "asyncpg"):
        measured = {m["scenario"]: m for m in servers[name]["measurements"]}
        assert set(measured) == {"1", "2", "3"}
        assert all(m["requests"] > 0 and m["failures"] == 0 for m in measured.values())
    # The statement counts come from the wire; the naive baseline must show its N+1.
    assert servers["ours"]["statements"]["1"]["data"] < servers["naive"]["statements"]["1"]["data"]
    assert servers["ours"]["peak_rss_mb"] > 0
