"""Persisted (trusted) documents: GraphQL texts known by their SHA-256.

Two ways in: Apollo's automatic persisted queries (a client sends a hash, and the text once
when the server does not know it), and registration by an operator (``exchange documents
register FILE``). In allow-list mode (``EXCHANGE_PERSISTED_QUERIES_ONLY``) only registered
documents run.

Only registered documents are stored in the database. An automatic registration lives in
the process's memory only, in a cache bounded by bytes: anyone may send one (a read-only key
sits in every partner frontend), so storing them would let anyone grow the table without
end, and the protocol needs no more (a process that does not know a hash answers
PersistedQueryNotFound and the client sends the text once again).
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    Visitor,
    parse,
    print_ast,
    visit,
)
from tortoise.exceptions import IntegrityError

from exchange.models import PersistedDocument

# The longest document that may be persisted, automatically or by an operator. A document of
# EXCHANGE_MAX_TOKENS (5,000) tokens, written out generously, stays well below it; only
# comments and padding go beyond (graphql-core does not count them as tokens).
MAX_DOCUMENT_CHARS = 100_000
# What one process's document cache may hold, in bytes of the texts it keeps.
CACHE_BYTES = 16 * 1024 * 1024
# A cached entry's own cost besides its text: the hash key, the record, the cache's links.
ENTRY_OVERHEAD_BYTES = 400


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class DocumentTooLarge(ValueError):
    """A document longer than MAX_DOCUMENT_CHARS offered for persisting."""

    def __init__(self, length: int) -> None:
        super().__init__(
            f"The document has {length} characters; at most {MAX_DOCUMENT_CHARS} may be persisted."
        )
        self.length = length


def check_size(document: str) -> None:
    if len(document) > MAX_DOCUMENT_CHARS:
        raise DocumentTooLarge(len(document))


@dataclass(frozen=True)
class Known:
    document: str
    registered: bool


def entry_bytes(document: str) -> int:
    """Memory an entry holds: the text object itself (1, 2 or 4 bytes a character, by its
    widest character) and the entry's overhead."""
    return sys.getsizeof(document) + ENTRY_OVERHEAD_BYTES


class _LRU:
    """Least recently used entries, bounded by the bytes they hold (not their number: one
    entry may be 100 times another)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.items: OrderedDict[str, tuple[Known, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, digest: str) -> Known | None:
        with self.lock:
            item = self.items.get(digest)
            if item is None:
                return None
            self.items.move_to_end(digest)
            return item[0]

    def put(self, digest: str, known: Known) -> None:
        size = entry_bytes(known.document)
        with self.lock:
            previous = self.items.pop(digest, None)
            if previous is not None:
                self.bytes -= previous[1]
            if size > self.max_bytes:
                return
            self.items[digest] = (known, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (_, evicted) = self.items.popitem(last=False)
                self.bytes -= evicted

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.bytes = 0


class DocumentStore:
    """Registered documents from the table, and automatic registrations, behind one LRU
    bounded by bytes; one per application (tests run many)."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self._lru = _LRU(max_bytes)

    @property
    def cached_bytes(self) -> int:
        return self._lru.bytes

    async def lookup(self, digest: str, *, need_registered: bool = False) -> Known | None:
        known = self._lru.get(digest)
        # An operator may register a document while servers run: a cached APQ entry is
        # not the last word when only registered documents may run.
        if known is not None and (known.registered or not need_registered):
            return known
        row = await PersistedDocument.get_or_none(sha256=digest, registered=True)
        if row is None:
            return None
        known = Known(row.document, row.registered)
        self._lru.put(digest, known)
        return known

    def remember(self, document: str) -> str:
        """An automatic registration: this process's memory only (see the module's note)."""
        check_size(document)
        digest = sha256_hex(document)
        if self._lru.get(digest) is None:
            self._lru.put(digest, Known(document, registered=False))
        return digest


async def save(document: str) -> str:
    """Register ``document`` under its hash (an operator's registration)."""
    check_size(document)
    digest = sha256_hex(document)
    existing = await PersistedDocument.get_or_none(sha256=digest)
    if existing is None:
        try:
            await PersistedDocument.create(sha256=digest, document=document, registered=True)
        except IntegrityError:  # a concurrent save of the same text
            await PersistedDocument.filter(sha256=digest).update(registered=True)
    elif not existing.registered:
        await PersistedDocument.filter(sha256=digest).update(registered=True)
    return digest


# ---------------------------------------------------------------- registration from files


class ManifestError(ValueError):
    """A file to register is not a GraphQL document or a valid manifest."""


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: object) -> None:
        self.names.add(node.name.value)


def _used_fragments(
    node: object, fragments: dict[str, FragmentDefinitionNode]
) -> list[FragmentDefinitionNode]:
    seen: dict[str, FragmentDefinitionNode] = {}
    pending = [node]
    while pending:
        spreads = _Spreads()
        visit(pending.pop(), spreads)  # type: ignore[arg-type]
        for name in sorted(spreads.names):
            if name not in seen and name in fragments:
                seen[name] = fragments[name]
                pending.append(fragments[name])
    return list(seen.values())


def documents_in_graphql(text: str) -> dict[str, str]:
    """Documents to register from a .graphql file: the whole text, and, when it holds several
    operations, each operation printed with the fragments it uses. Returns {hash: text}."""
    try:
        document = parse(text)
    except GraphQLError as error:
        raise ManifestError(f"not a GraphQL document: {error.message}") from error
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations:
        raise ManifestError("the file holds no operation")
    found = {sha256_hex(text): text}
    if len(operations) > 1:
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        for operation in operations:
            single = print_ast(DocumentNode(definitions=(operation, *_used_fragments(operation, fragments))))
            found[sha256_hex(single)] = single
    return found


def documents_in_manifest(text: str) -> dict[str, str]:
    """{hash: document} as JSON, or Apollo's persisted-query manifest; hashes are checked."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ManifestError(f"not JSON: {error}") from error
    if isinstance(data, dict) and isinstance(data.get("operations"), list):
        pairs = [
            (str(item.get("id")), item.get("body")) for item in data["operations"] if isinstance(item, dict)
        ]
    elif isinstance(data, dict):
        pairs = list(data.items())
    else:
        raise ManifestError("expected an object {sha256: document}")
    found: dict[str, str] = {}
    for digest, body in pairs:
        if not isinstance(body, str):
            raise ManifestError(f"{digest}: the document is not a string")
        if sha256_hex(body) != digest.lower():
            raise ManifestError(f"{digest}: the hash is not the SHA-256 of its document")
        try:
            parse(body)
        except GraphQLError as error:
            raise ManifestError(f"{digest}: not a GraphQL document: {error.message}") from error
        found[digest.lower()] = body
    return found


def documents_in_file(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    found = documents_in_manifest(text) if path.suffix.lower() == ".json" else documents_in_graphql(text)
    for document in found.values():
        if len(document) > MAX_DOCUMENT_CHARS:
            raise ManifestError(f"a document is longer than {MAX_DOCUMENT_CHARS} characters")
    return found


async def register_file(path: Path) -> dict[str, str]:
    """Register every document in ``path``; returns {hash: document}."""
    found = documents_in_file(path)
    for document in found.values():
        await save(document)
    return found
