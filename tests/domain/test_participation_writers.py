"""Every write to participations goes through a model instance, so the signals that keep
certificates true (exchange/models/certificate.py) always run: a queryset ``update``/``delete``,
a bulk write or raw SQL on the table would change a participation behind its certificate's back.
This guard reads the domain's source, the way import-linter reads imports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import exchange

_BYPASSING_METHODS = frozenset({"update", "delete", "bulk_update", "bulk_create", "raw"})
_RAW_WRITE = re.compile(r"\b(update|insert\s+into|delete\s+from)\s+\"?participation\"?\b", re.IGNORECASE)


def _chain_root(node: ast.expr) -> ast.expr:
    while isinstance(node, ast.Call | ast.Attribute):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


def writes_behind_signals(source: str) -> list[int]:
    """Lines that write participations without a model instance."""
    found: list[int] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            root = _chain_root(node.func.value)
            if (
                node.func.attr in _BYPASSING_METHODS
                and isinstance(root, ast.Name)
                and root.id == "Participation"
                and (node.func.attr != "delete" or isinstance(node.func.value, ast.Call))
            ):
                found.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _RAW_WRITE.search(node.value):
            found.append(node.lineno)
    return found


def test_the_guard_sees_each_way_around_the_signals() -> None:
    sample = """
await Participation.filter(exchange_id=1).update(status="WITHDRAWN")
await Participation.filter(id=2).delete()
await Participation.bulk_create(rows)
await conn.execute_query('UPDATE "participation" SET hours = 1')
await participation.delete()
await participation.save(update_fields=["status"])
"""
    assert writes_behind_signals(sample) == [2, 3, 4, 5]


def test_no_domain_module_writes_participations_behind_the_signals() -> None:
    package = Path(exchange.__file__).parent
    offenders = {
        str(path.relative_to(package)): lines
        for path in sorted(package.rglob("*.py"))
        if "migrations" not in path.parts
        and (lines := writes_behind_signals(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
