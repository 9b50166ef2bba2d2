"""schema.transport.headers: the indexed lookups answer as Starlette's scan does."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from schema.transport.headers import IndexedHeaders

RAW = [
    (b"host", b"example.org"),
    (b"accept", b"application/json"),
    (b"x-repeated", b"first"),
    (b"x-repeated", b"second"),
    (b"accept-language", b"kk, ru;q=0.8"),
    (b"x-latin", "Zürich".encode("latin-1")),
]


@pytest.mark.parametrize("name", ["Accept", "accept", "X-Repeated", "accept-language", "x-latin", "absent"])
def test_lookups_answer_as_the_scan(name: str) -> None:
    indexed, scanned = IndexedHeaders({"headers": list(RAW)}), Headers(raw=list(RAW))
    assert indexed.get(name) == scanned.get(name)
    assert indexed.get(name, "default") == scanned.get(name, "default")
    assert (name in indexed) == (name in scanned)
    if name in scanned:
        assert indexed[name] == scanned[name]
    else:
        with pytest.raises(KeyError):
            indexed[name]


def test_everything_else_is_starlettes() -> None:
    indexed = IndexedHeaders({"headers": list(RAW)})
    assert indexed.getlist("x-repeated") == ["first", "second"]
    assert indexed.raw == RAW
    assert len(indexed.keys()) == len(RAW)


def test_the_table_of_names_stays_small_whatever_is_asked() -> None:
    from schema.transport import headers

    indexed = IndexedHeaders({"headers": [*RAW, *((f"x-n{i}".encode(), b"v") for i in range(200))]})
    for i in range(200):  # more names than the table keeps: each still found
        assert indexed.get(f"X-N{i}") == "v"
        assert f"x-n{i}" in indexed
    assert len(headers._RAW_NAMES) <= headers._MOST_NAMES
