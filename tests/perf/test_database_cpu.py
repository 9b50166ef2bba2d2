"""bench.database_cpu: PostgreSQL's CPU read from /proc, and the report's table of it."""

from __future__ import annotations

from pathlib import Path

from bench.database_cpu import CLOCK_TICKS, postgres_cpu_seconds
from bench.runner import Measurement, Report, ServerReport, render, total_cpu_ratios


def _process(proc: Path, pid: int, comm: str, utime: int, stime: int, cutime: int, cstime: int) -> None:
    entry = proc / str(pid)
    entry.mkdir()
    (entry / "comm").write_text(f"{comm}\n")
    # The command name may hold spaces and parentheses: the fields are counted after the last ")".
    rest = ["S", "1", "1", "1", "0", "-1", "4194304", "0", "0", "0", "0"]
    times = [str(utime), str(stime), str(cutime), str(cstime)]
    (entry / "stat").write_text(f"{pid} ({comm} (x) y) {' '.join(rest + times)} 20 0 1 0\n")


def test_every_postgres_process_is_summed_with_its_reaped_children(tmp_path: Path) -> None:
    _process(tmp_path, 10, "postgres", 100, 50, 7, 3)  # the postmaster: ended backends in cutime
    _process(tmp_path, 11, "postgres", 20, 10, 0, 0)
    _process(tmp_path, 12, "python", 9_000, 9_000, 0, 0)  # not PostgreSQL
    (tmp_path / "self").mkdir()  # not a process directory
    (tmp_path / "13").mkdir()  # ended between the listing and the reading
    assert postgres_cpu_seconds(tmp_path) == (100 + 50 + 7 + 3 + 20 + 10) / CLOCK_TICKS


def test_no_readable_postgres_process_is_none_not_zero(tmp_path: Path) -> None:
    _process(tmp_path, 12, "python", 1, 1, 0, 0)
    assert postgres_cpu_seconds(tmp_path) is None


def _report(windows: dict[str, list[tuple[int, float, float | None]]]) -> Report:
    report = Report(
        mode="full",
        spec={},
        connections=32,
        rounds=2,
        windows={"window": 5.0, "naive": 10.0, "warmup": 1.0, "large_connections": 4},
        scenarios={"page10": "ExchangesPage (first 10)"},
        databases={},
        servers={},
        load_averages=[],
    )
    for server, measured in windows.items():
        report.servers[server] = ServerReport(
            server,
            "",
            measurements=[
                Measurement(
                    server, "page10", r, rps=100.0, cpu_ms_per_request=cpu, database_cpu_ms_per_request=db
                )
                for r, cpu, db in measured
            ],
        )
    return report


def test_the_total_ratio_is_server_plus_postgres_per_round() -> None:
    report = _report({"ours": [(1, 3.0, 3.0), (2, 4.0, 2.0)], "asyncpg": [(1, 2.0, 2.0), (2, 2.0, 2.0)]})
    assert total_cpu_ratios(report, "ours", "asyncpg", "page10") == [1.5, 1.5]
    text = render(report)
    assert (
        "| ExchangesPage (first 10) | 2.50 | 2.00 | 1.00 / **1.25** / 1.50 | 1.50 / **1.50** / 1.50 |" in text
    )


def test_without_postgres_readings_there_is_no_table() -> None:
    report = _report({"ours": [(1, 3.0, None)], "asyncpg": [(1, 2.0, None)]})
    assert total_cpu_ratios(report, "ours", "asyncpg", "page10") == []
    assert "PostgreSQL's CPU over the same windows" not in render(report)
