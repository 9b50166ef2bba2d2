"""Where one server's simulated cycles go beyond another's, function by function:
``python -m bench.cgdiff OURS.out FAIR.out [--top 40]``.

The two files are dumps kept by ``python -m bench.simulated [--caches] --keep FILE`` (each notes
how many requests it counted; without ``--caches`` only instructions compare). Each function's events (instructions, first-level misses,
mispredicted branches) are read with ``callgrind_annotate``, divided by the requests, weighed
as ``bench.simulated``'s estimate weighs them, and the functions are listed by the difference
of their estimated cycles per request. Names are merged across recursion levels (``'2``) and
build paths, so the same function in both processes compares.
"""

from __future__ import annotations

import argparse
import itertools
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.simulated import REQUESTS_NOTE, Counts

EVENTS = ("Ir", "I1mr", "D1mr", "D1mw", "Bcm", "Bim")

# One column of callgrind_annotate's table: a count with its share, a bare count, or "." (none).
_CELL = r"(?:([\d,]+)(?: \(\s*[\d.]+%\))?|(\.))\s+"


def _row(columns: int) -> re.Pattern[str]:
    return re.compile(r"\s*" + _CELL * columns + r"(\S.*)$")


def function_name(raw: str) -> str:
    """A function's name without what differs between two processes or builds: the object
    file in brackets, the build directory, the recursion level."""
    name = re.sub(r"\s*\[.*?\]\s*$", "", raw)
    name = re.sub(r"^.*?/Python-3\.\d+\.\d+/", "python:", name)
    name = re.sub(r"'\d+$", "", name)
    return name.strip()


def functions(annotated: str, events: Sequence[str] = EVENTS) -> dict[str, list[int]]:
    """Events by function from ``callgrind_annotate --inclusive=no --show=<events>`` output, as
    a list in ``EVENTS``' order (0 for an event not shown)."""
    row = _row(len(events))
    positions = [EVENTS.index(event) for event in events]
    table: dict[str, list[int]] = {}
    for line in annotated.splitlines():
        found = row.match(line)
        if found is None or "PROGRAM TOTALS" in line or "file:function" in line:
            continue
        groups = found.groups()
        values = [int(groups[2 * k].replace(",", "")) if groups[2 * k] else 0 for k in range(len(events))]
        name = function_name(groups[-1])
        sums = table.setdefault(name, [0] * len(EVENTS))
        for position, value in zip(positions, values, strict=True):
            sums[position] += value
    return table


def _head(dump: Path, lines: int = 40) -> list[str]:
    """The dump's first lines, where callgrind and bench.simulated write what these read (a
    dump runs to megabytes: not read whole)."""
    with dump.open(errors="replace") as opened:
        return [line.rstrip("\n") for line in itertools.islice(opened, lines)]


def events_of(dump: Path) -> tuple[str, ...]:
    """The events of ``EVENTS`` the dump counted (its ``events:`` line): all of them with
    ``--caches``, instructions alone without."""
    for line in _head(dump):
        if line.startswith("events:"):
            counted = set(line.split()[1:])
            return tuple(event for event in EVENTS if event in counted)
    raise ValueError(f"{dump}: not a callgrind dump (no events: line)")


def requests_of(dump: Path) -> int:
    for line in _head(dump, 20):
        if line.startswith(REQUESTS_NOTE):
            return int(line[len(REQUESTS_NOTE) :])
    raise ValueError(f"{dump}: not kept by bench.simulated --keep (no request count)")


def annotate(dump: Path, events: Sequence[str]) -> str:
    if shutil.which("callgrind_annotate") is None:
        raise SystemExit("needs callgrind_annotate (apt-get install valgrind)")
    command = [
        "callgrind_annotate",
        "--inclusive=no",
        "--threshold=100",
        f"--show={','.join(events)}",
        str(dump),
    ]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@dataclass(frozen=True)
class Difference:
    name: str
    first: Counts  # per request
    second: Counts

    @property
    def cycles(self) -> float:
        return self.first.estimate() - self.second.estimate()


def differences(
    first: dict[str, list[int]], first_requests: int, second: dict[str, list[int]], second_requests: int
) -> list[Difference]:
    """Every function of either table, by how many more estimated cycles a request the first
    spends in it (most first)."""

    def per_request(values: list[int] | None, requests: int) -> Counts:
        return Counts({event: (values[i] if values else 0) / requests for i, event in enumerate(EVENTS)})

    found = [
        Difference(
            name, per_request(first.get(name), first_requests), per_request(second.get(name), second_requests)
        )
        for name in first.keys() | second.keys()
    ]
    return sorted(found, key=lambda difference: difference.cycles, reverse=True)


def render(found: list[Difference], top: int) -> str:
    total = sum(difference.cycles for difference in found)
    lines = [f"estimated cycles a request, first minus second: {total / 1e3:+.1f} k"]
    # The largest differences, then the five most negative (each line once).
    for difference in found[:top] + found[max(top, len(found) - 5) :]:
        delta = {event: difference.first.get(event) - difference.second.get(event) for event in EVENTS}
        lines.append(
            f"{difference.cycles / 1e3:+9.1f} k  ({difference.first.estimate() / 1e3:.1f} k vs "
            f"{difference.second.estimate() / 1e3:.1f} k; Ir {delta['Ir'] / 1e3:+.1f} k, "
            f"mispredicted {(delta['Bcm'] + delta['Bim']) / 1e3:+.1f} k, "
            f"D1 misses {(delta['D1mr'] + delta['D1mw']) / 1e3:+.1f} k)  {difference.name}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cgdiff", description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    # Only what both dumps counted compares (a dump kept without --caches has instructions alone).
    counted = set(events_of(args.second))
    events = tuple(event for event in events_of(args.first) if event in counted)
    found = differences(
        functions(annotate(args.first, events), events),
        requests_of(args.first),
        functions(annotate(args.second, events), events),
        requests_of(args.second),
    )
    print(render(found, args.top))


if __name__ == "__main__":
    main()
