"""The CPU time PostgreSQL spends, read from /proc, so that a window's database work per request
can be set beside the server's.

PostgreSQL runs on the same 2 cores as the servers and the load generator: a server whose
statements cost the database more serves fewer requests a second at the same CPU of its own.
The window's throughput ratio follows the sum of the two, which is why the benchmark reports
both. Every process whose command name is ``postgres`` is counted (the postmaster with what
it has reaped of ended backends, the backends, the background processes); what the other idle
servers' pooled connections spend in a window is part of the noise, the same for every window.
"""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _cpu_ticks(stat: str) -> int:
    # After the ")" that ends the command name: utime, stime, cutime, cstime are fields 12-15.
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])


def postgres_cpu_seconds(proc: Path = PROC) -> float | None:
    """User and system CPU seconds of every ``postgres`` process so far (with their reaped
    children's); None where no such process can be read (another machine, another user)."""
    total = 0
    found = False
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            total += _cpu_ticks((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):  # ended meanwhile, or not ours to read
            continue
        found = True
    return total / CLOCK_TICKS if found else None
