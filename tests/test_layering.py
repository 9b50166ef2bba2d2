"""The layering rule (exchange/ never imports schema/, except app.py and cli.py) is checked
by import-linter with the contracts in pyproject.toml, so a forbidden import fails the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# The parts of schema/ the contracts name.
LAYERS = ("api", "api/mutations", "api/subscriptions", "admission", "transport", "engine")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_import_contracts_are_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, (
        f"import-linter found a forbidden import:\n{result.stdout}\n{result.stderr}"
    )
    assert "0 broken" in result.stdout


def test_the_contract_catches_a_domain_module_importing_the_schema(tmp_path: Path) -> None:
    # The same configuration on a two-file project: proof the contract is not vacuous.
    (tmp_path / "pyproject.toml").write_text(
        (ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    # Every package the contracts name exists (import-linter refuses a contract on a missing one).
    for package in ("exchange", "schema", *(f"schema/{part}" for part in LAYERS)):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "schema" / "build.py").write_text("")
    (tmp_path / "schema" / "api" / "types.py").write_text("X = 1\n")
    (tmp_path / "exchange" / "app.py").write_text("from schema import types\n")  # allowed
    (tmp_path / "exchange" / "invitations.py").write_text("from schema.api.types import X\n")  # forbidden

    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "exchange.invitations -> schema.api.types" in result.stdout
    assert "exchange.app -> schema" not in result.stdout
