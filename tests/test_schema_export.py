"""The committed schema.graphql is what the server exports, and the export honours the public
contract except for the parts still being delivered (tests/contract_pending.txt)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CHECK_CONTRACT = SHARED / "tools" / "check_contract.py"
PENDING = Path(__file__).with_name("contract_pending.txt")
REGENERATE = "exchange export-schema -o schema.graphql"


def exported(tmp_path: Path) -> str:
    """What `exchange export-schema` prints, run as a user would, with no database around."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("EXCHANGE_")}
    env["PYTHONPATH"] = str(ROOT)
    env["EXCHANGE_DATABASE_URL"] = f"sqlite://{tmp_path / 'never-created.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "-m", "exchange.cli", "export-schema"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "never-created.sqlite3").exists()
    return result.stdout


def test_committed_schema_is_the_exported_one(tmp_path: Path) -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert exported(tmp_path) == committed, (
        f"schema.graphql is out of date: regenerate it with `{REGENERATE}` and commit it"
    )


def pending_changes() -> set[str]:
    lines = PENDING.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_contract_breaks_only_where_work_is_pending(tmp_path: Path) -> None:
    if not CHECK_CONTRACT.is_file():
        message = f"the shared contract checker is not at {CHECK_CONTRACT}"
        if REQUIRE_SERVICES:
            pytest.fail(message + " (EXCHANGE_TEST_REQUIRE_SERVICES=1 makes it mandatory)")
        pytest.skip(message)
    sdl = tmp_path / "exported.graphql"
    sdl.write_text(exported(tmp_path), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(CHECK_CONTRACT), str(sdl)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.rstrip().splitlines()[-1].startswith("contract:"), result.stdout + result.stderr
    breaking = {line for line in result.stdout.splitlines() if re.match(r"^[A-Z_]+: ", line)}

    expected = pending_changes()
    new = sorted(breaking - expected)
    delivered = sorted(expected - breaking)
    report = []
    if new:
        report.append("Breaking changes against ../shared/contract/schema.graphql that are not pending:")
        report += [f"  + {line}" for line in new]
        report.append("  fix the schema (the contract is public; partners build against it).")
    if delivered:
        report.append("Delivered since tests/contract_pending.txt was written; delete these lines from it:")
        report += [f"  - {line}" for line in delivered]
    assert not report, "\n".join(report)
    assert (result.returncode == 0) == (not expected)
