"""Admission step 1: the document's text, from the request or by its hash (automatic persisted
queries, an HTTP protocol: a socket message carries its text), and the allow-list when only
registered documents may run."""

from __future__ import annotations

import re
from typing import Any

from exchange.documents import MAX_DOCUMENT_CHARS, DocumentStore, sha256_hex
from exchange.errors import TransportCode
from exchange.settings import Settings
from schema.admission.refusal import RequestError

_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")

NOT_REGISTERED = "Only registered documents run here; this one is not."


def needs_lookup(query: str | None, extensions: dict[str, Any] | None, settings: Settings) -> bool:
    """Whether the document step needs the database (the common case, a plain query with no
    allow-list, does not)."""
    return not query or settings.persisted_queries_only or bool((extensions or {}).get("persistedQuery"))


def persisted_digest(persisted: dict[str, Any]) -> str:
    digest = persisted.get("sha256Hash")
    # Only a well-formed hash reaches the database (a longer one failed the key column's
    # validation, a NUL PostgreSQL itself: both answered 500).
    if persisted.get("version") != 1 or not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
        raise RequestError.of(
            "Unsupported persistedQuery (version 1 with sha256Hash, 64 hexadecimal digits).",
            TransportCode.BAD_REQUEST,
            400,
        )
    return digest.lower()


async def registered(documents: DocumentStore, digest: str) -> bool:
    """Whether the document is on the allow-list (the table, through the process's cache)."""
    known = await documents.lookup(digest, need_registered=True)
    return known is not None and known.registered


async def require_registered(documents: DocumentStore, digest: str) -> None:
    if not await registered(documents, digest):
        raise RequestError.of(NOT_REGISTERED, TransportCode.PERSISTED_QUERY_NOT_ALLOWED)


async def resolve_persisted(
    documents: DocumentStore, query: str | None, digest: str, only_registered: bool
) -> str:
    if query is None:
        known = await documents.lookup(digest, need_registered=only_registered)
        if known is None or (only_registered and not known.registered):
            raise RequestError.of("PersistedQueryNotFound", TransportCode.PERSISTED_QUERY_NOT_FOUND)
        return known.document
    if len(query) > MAX_DOCUMENT_CHARS and not only_registered:
        raise RequestError.of(
            f"The query has {len(query)} characters; at most {MAX_DOCUMENT_CHARS} may be persisted. "
            "Send it without persistedQuery.",
            TransportCode.PERSISTED_QUERY_TOO_LARGE,
            400,
        )
    if sha256_hex(query) != digest:
        raise RequestError.of(
            "The query does not match its sha256Hash.", TransportCode.PERSISTED_QUERY_HASH_MISMATCH, 400
        )
    if only_registered:
        await require_registered(documents, digest)
    # Otherwise registered only once it parses and validates (``remember``, after the shape step).
    return query


async def resolve_document(
    documents: DocumentStore, settings: Settings, query: str | None, extensions: dict[str, Any] | None
) -> str:
    """The text to run; raises RequestError to refuse."""
    persisted = (extensions or {}).get("persistedQuery")
    only_registered = settings.persisted_queries_only
    if isinstance(persisted, dict):
        return await resolve_persisted(documents, query, persisted_digest(persisted), only_registered)
    if not query:
        raise RequestError.of("No GraphQL query in the request.", TransportCode.BAD_REQUEST, 400)
    if only_registered:
        await require_registered(documents, sha256_hex(query))
    return query


def remember(
    documents: DocumentStore, settings: Settings, query: str, sent_query: str | None, extensions: Any
) -> None:
    """A document sent with its hash, once it passed the shape step: kept in this process's
    bounded cache (never the table) so later requests may send the hash alone."""
    if (
        isinstance(extensions, dict)
        and isinstance(extensions.get("persistedQuery"), dict)
        and sent_query
        and not settings.persisted_queries_only
    ):
        documents.remember(query)
