"""Who sees an exchange is asked in one place, ``exchange.exchanges.sees_exchange``, which loads
the partners only when the answer needs them. A module that called access's rule itself would
load them on its own again, and could drift from that one answer (it has: four places loaded
the partners before asking). This guard reads the source of the domain and the API, the way
import-linter reads imports."""

from __future__ import annotations

import ast
from pathlib import Path

import exchange
import schema

_RULE = frozenset({"can_see_exchange", "seen_without_partners"})
# The rule's definition, and the one function that asks it for everybody.
_HOME = frozenset({"exchange/access.py", "exchange/exchanges.py"})


def asks_the_rule(source: str) -> list[int]:
    """Lines that name the rule: a call, a reference or an import."""
    found = {
        node.lineno
        for node in ast.walk(ast.parse(source))
        if (isinstance(node, ast.Attribute) and node.attr in _RULE)
        or (isinstance(node, ast.Name) and node.id in _RULE)
        or (isinstance(node, ast.ImportFrom) and any(alias.name in _RULE for alias in node.names))
    }
    return sorted(found)


def test_the_guard_sees_each_way_of_asking_the_rule() -> None:
    sample = """
from exchange.access import can_see_exchange
seen = access.can_see_exchange(actor, status, host_id, partners)
known = access.seen_without_partners(actor, status, host_id)
rule = can_see_exchange
seen = await exchanges.sees_exchange(actor, exchange)
"""
    assert asks_the_rule(sample) == [2, 3, 4, 5]


def test_only_the_home_asks_who_sees_an_exchange() -> None:
    root = Path(exchange.__file__).parent.parent
    packages = [Path(exchange.__file__).parent, Path(schema.__file__).parent]
    offenders = {
        relative: lines
        for package in packages
        for path in sorted(package.rglob("*.py"))
        if (relative := path.relative_to(root).as_posix()) not in _HOME
        and (lines := asks_the_rule(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
    # Read where it should be read: the home is among the files and asks the rule.
    assert asks_the_rule((root / "exchange/exchanges.py").read_text(encoding="utf-8"))
