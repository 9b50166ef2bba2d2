"""Persisted (trusted) documents: GraphQL texts known by their SHA-256.

Two ways in: Apollo's automatic persisted queries (a client sends a hash, and the text once
when the server does not know it; saved with ``registered=False``), and registration by an
operator (``exchange documents register FILE``; ``registered=True``). In allow-list mode
(``EXCHANGE_PERSISTED_QUERIES_ONLY``) only registered documents run.
"""

from __future__ import annotations

import hashlib
import json
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

LRU_SIZE = 2048
MAX_DOCUMENT_CHARS = 100_000


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Known:
    document: str
    registered: bool


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[str, Known] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, digest: str) -> Known | None:
        with self.lock:
            item = self.items.get(digest)
            if item is not None:
                self.items.move_to_end(digest)
            return item

    def put(self, digest: str, known: Known) -> None:
        with self.lock:
            self.items[digest] = known
            self.items.move_to_end(digest)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


class DocumentStore:
    """The table behind an in-memory LRU; one per application (tests run many)."""

    def __init__(self, size: int = LRU_SIZE) -> None:
        self._lru = _LRU(size)

    async def lookup(self, digest: str, *, need_registered: bool = False) -> Known | None:
        known = self._lru.get(digest)
        # An operator may register a document while servers run: a cached APQ entry is
        # not the last word when only registered documents may run.
        if known is not None and (known.registered or not need_registered):
            return known
        row = await PersistedDocument.get_or_none(sha256=digest)
        if row is None:
            return None
        known = Known(row.document, row.registered)
        self._lru.put(digest, known)
        return known

    async def save(self, document: str, *, registered: bool) -> str:
        digest = await save(document, registered=registered)
        self._lru.put(digest, Known(document, registered))
        return digest


async def save(document: str, *, registered: bool) -> str:
    """Store ``document`` under its hash; an operator's registration upgrades an APQ entry."""
    digest = sha256_hex(document)
    existing = await PersistedDocument.get_or_none(sha256=digest)
    if existing is None:
        try:
            await PersistedDocument.create(sha256=digest, document=document, registered=registered)
        except IntegrityError:  # a concurrent save of the same text
            if registered:
                await PersistedDocument.filter(sha256=digest).update(registered=True)
    elif registered and not existing.registered:
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
    if path.suffix.lower() == ".json":
        return documents_in_manifest(text)
    return documents_in_graphql(text)


async def register_file(path: Path) -> dict[str, str]:
    """Register every document in ``path``; returns {hash: document}."""
    found = documents_in_file(path)
    for document in found.values():
        if len(document) > MAX_DOCUMENT_CHARS:
            raise ManifestError(f"a document is longer than {MAX_DOCUMENT_CHARS} characters")
    for document in found.values():
        await save(document, registered=True)
    return found
