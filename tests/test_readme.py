"""The README keeps up with the code: every setting is documented, and the test command
that CI runs is one line between its markers."""

from __future__ import annotations

import re
from pathlib import Path

from exchange.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"EXCHANGE_[A-Z0-9_]+", README))
    missing = sorted(
        f"EXCHANGE_{name.upper()}"
        for name in Settings.model_fields
        if f"EXCHANGE_{name.upper()}" not in documented
    )
    assert not missing, f"settings missing from README.md's Settings section: {', '.join(missing)}"


def test_readme_starts_with_the_two_commands_and_marks_the_test_command() -> None:
    commands = [line for line in README.split("\n## ", 1)[0].splitlines() if line.startswith("python3 ")]
    assert len(commands) == 2, commands
    assert commands[0].endswith("exchange serve --demo")
    marked = re.search(r"<!-- test-command -->\n```sh\n(.+)\n```\n<!-- /test-command -->", README)
    assert marked is not None and marked.group(1) == commands[1]
    assert "pytest" in commands[1]
    assert ".ci/run" in README and "test-command" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
