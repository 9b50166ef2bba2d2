"""exchange.documents without HTTP or the CLI: what registration takes from a .graphql file (each
operation with only the fragments it uses) and from a manifest (both formats, hashes
checked), and registration promoting a row an older version stored automatically."""

from __future__ import annotations

import json

import pytest

from exchange.documents import (
    MAX_DOCUMENT_CHARS,
    DocumentStore,
    DocumentTooLarge,
    ManifestError,
    check_size,
    documents_in_graphql,
    documents_in_manifest,
    save,
    sha256_hex,
)
from exchange.models import PersistedDocument
from tests.domain.conftest import RecordingBus

FILE = """
query Orgs { organisations(first: 2) { ...Count } }
query Exchanges { exchanges(first: 2) { totalCount } }
fragment Count on OrganisationConnection { totalCount }
fragment Unused on OrganisationConnection { totalCount }
"""


def test_a_graphql_file_gives_the_whole_and_each_operation_with_its_fragments() -> None:
    found = documents_in_graphql(FILE)
    assert sha256_hex(FILE) in found
    by_text = {text for digest, text in found.items() if digest != sha256_hex(FILE)}
    orgs = next(text for text in by_text if "query Orgs" in text)
    exchanges = next(text for text in by_text if "query Exchanges" in text)
    assert "fragment Count" in orgs and "Unused" not in orgs and "fragment" not in exchanges
    assert all(sha256_hex(text) == digest for digest, text in found.items())


def test_manifests_are_checked_by_their_hashes() -> None:
    query = "{ organisations(first: 1) { totalCount } }"
    plain = documents_in_manifest(json.dumps({sha256_hex(query): query}))
    apollo = documents_in_manifest(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": sha256_hex(query), "name": "Count", "type": "query", "body": query}],
            }
        )
    )
    assert plain == apollo == {sha256_hex(query): query}
    with pytest.raises(ManifestError):
        documents_in_manifest(json.dumps({"0" * 64: query}))
    with pytest.raises(ManifestError):
        documents_in_manifest("[1, 2]")
    check_size("x" * MAX_DOCUMENT_CHARS)
    with pytest.raises(DocumentTooLarge):
        check_size("x" * (MAX_DOCUMENT_CHARS + 1))


async def test_registration_promotes_an_automatic_row(bus: RecordingBus) -> None:
    query = "{ __typename }"
    digest = sha256_hex(query)
    await PersistedDocument.create(sha256=digest, document=query, registered=False)
    store = DocumentStore()
    store.remember(query)  # known to this process from an APQ request only
    assert await store.lookup(digest, need_registered=True) is None
    assert await save(query) == digest == await save(query)
    assert await PersistedDocument.filter(sha256=digest, registered=True).count() == 1
    known = await store.lookup(digest, need_registered=True)
    assert known is not None and known.registered and known.document == query
