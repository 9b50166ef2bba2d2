"""bench.preloaded's server and its table (the measurement itself takes minutes of load: run
by hand, bench/RESULTS.md, session 11)."""

from __future__ import annotations

from bench.preloaded import PRELOADED, render
from bench.runner import Measurement
from bench.servers import ASYNCPG


def test_the_preloaded_baseline_is_the_fair_one_under_another_factory() -> None:
    plain, preloaded = ASYNCPG.argv(8000), PRELOADED.argv(8000)
    assert "bench.baseline_asyncpg:create_app" in plain
    assert "bench.preloaded:create_app" in preloaded
    assert [part for part in preloaded if "create_app" not in part] == [
        part for part in plain if "create_app" not in part
    ]
    assert not PRELOADED.is_ours  # started where the baselines start, with their environment


def test_ratios_are_to_the_plain_baseline_in_the_same_round() -> None:
    def window(server: str, round_number: int, cpu: float, rss: float) -> Measurement:
        return Measurement(server, "page10", round_number, cpu_ms_per_request=cpu, peak_rss_mb=rss)

    found = {
        "asyncpg": [window("asyncpg", 1, 2.0, 42), window("asyncpg", 2, 1.0, 43)],
        "preloaded": [window("preloaded", 1, 2.2, 100), window("preloaded", 2, 1.0, 101)],
        "ours": [window("ours", 1, 2.6, 110), window("ours", 2, 1.4, 113)],
    }
    lines = render(found).splitlines()
    assert lines[2] == "| asyncpg | 1.500 | 1.00 / **1.00** / 1.00 | 43 |"
    assert lines[3] == "| preloaded | 1.600 | 1.00 / **1.05** / 1.10 | 101 |"
    assert lines[4] == "| ours | 2.000 | 1.30 / **1.35** / 1.40 | 113 |"
