"""exportVolunteerData and eraseVolunteer through HTTP, on SQLite and PostgreSQL: admins only,
clear answers for unknown addresses, nothing personal kept for Idempotency-Key replays or
written to the logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from exchange.models import IdempotencyRecord, Volunteer
from exchange.settings import Settings
from tests.conftest import GraphQLClient
from tests.privacy_world import (
    EMAIL,
    NAME,
    PERSON,
    PrivacyWorld,
    counts,
    mail_folder_mentions,
    seed,
    stored_mentions,
)

EXPORT = """
mutation($email: String!) { exportVolunteerData(email: $email) { data userErrors { field code message } } }
"""
ERASE = """
mutation($email: String!) {
  eraseVolunteer(email: $email) {
    erasure {
      volunteers invitations mails queuedMailsCancelled idempotencyRecords organisationContacts mailFiles
      mentionsLeft { table column rowId }
    }
    userErrors { field code message }
  }
}
"""


# Tortoise and aiosqlite echo every statement with its parameters at DEBUG. The server
# configures no handler for them (uvicorn's log configuration covers uvicorn's loggers only),
# so these records are written nowhere unless an operator routes them.
DRIVER_LOGGERS = ("tortoise.db_client", "aiosqlite")


@pytest.fixture
async def world(gql: GraphQLClient, settings: Settings, admin_key: str) -> PrivacyWorld:
    return await seed(gql, settings, admin_key)


def payload(result: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in result, result
    found: dict[str, Any] = result["data"][name]
    return found


async def test_admin_exports_a_person_as_json(gql: GraphQLClient, world: PrivacyWorld) -> None:
    exported = payload(await gql(EXPORT, {"email": EMAIL}, key=world.admin_key), "exportVolunteerData")
    assert exported["userErrors"] == []
    document = json.loads(exported["data"])
    assert document["format"] == "volunteer-data-export/1"
    assert [(v["fullName"], v["email"]) for v in document["volunteers"]] == [(NAME, EMAIL.lower())]
    assert len(document["invitations"]) == 2 and len(document["mails"]) == 2

    unknown = payload(
        await gql(EXPORT, {"email": "nobody@example.org"}, key=world.admin_key), "exportVolunteerData"
    )
    assert unknown["data"] is None
    assert [(e["field"], e["code"]) for e in unknown["userErrors"]] == [(["email"], "NOT_FOUND")]


async def test_admin_erases_a_person_and_erasing_again_is_not_found(
    gql: GraphQLClient, world: PrivacyWorld
) -> None:
    before = await counts()
    erased = payload(
        await gql(
            ERASE, {"email": EMAIL.upper()}, key=world.admin_key, headers={"Idempotency-Key": "erase-1"}
        ),
        "eraseVolunteer",
    )
    assert erased == {
        "erasure": {
            "volunteers": 1,
            "invitations": 2,
            "mails": 2,
            "queuedMailsCancelled": 1,
            "idempotencyRecords": 1,
            "organisationContacts": 0,
            "mailFiles": 1,
            "mentionsLeft": [],
        },
        "userErrors": [],
    }
    # The erasure's own stored answer (for replays) is counts only: nothing anywhere names them.
    assert await IdempotencyRecord.filter(key="erase-1").exists()
    assert await stored_mentions(*PERSON) == []
    assert mail_folder_mentions(world.mail_dir, *PERSON) == []
    assert await counts() == before
    replay = await gql.post(
        ERASE, {"email": EMAIL.upper()}, key=world.admin_key, headers={"Idempotency-Key": "erase-1"}
    )
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["data"]["eraseVolunteer"] == erased

    again = payload(await gql(ERASE, {"email": EMAIL}, key=world.admin_key), "eraseVolunteer")
    assert again["erasure"] is None
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [(["email"], "NOT_FOUND")]


async def test_an_export_is_never_kept_for_replays(gql: GraphQLClient, world: PrivacyWorld) -> None:
    await IdempotencyRecord.all().delete()  # the registration's stored answer names them too
    headers = {"Idempotency-Key": "export-1"}
    first = payload(
        await gql(EXPORT, {"email": EMAIL}, key=world.admin_key, headers=headers), "exportVolunteerData"
    )
    assert NAME in first["data"]
    assert [
        table for table, _column, _needle in await stored_mentions(*PERSON) if table == "idempotency_record"
    ] == []
    replay = await gql(EXPORT, {"email": EMAIL}, key=world.admin_key, headers=headers)
    assert replay["data"]["exportVolunteerData"]["data"] is None
    assert [e["extensions"]["code"] for e in replay["errors"]] == ["SECRET_NOT_REPLAYED"]


@pytest.mark.parametrize("caller", ["organisation", "read-only", "anonymous"])
async def test_only_a_platform_admin_may_export_or_erase(
    gql: GraphQLClient, world: PrivacyWorld, caller: str
) -> None:
    key = {"organisation": world.host_b_key, "read-only": world.read_only_key, "anonymous": None}[caller]
    expected = "UNAUTHENTICATED" if key is None else "FORBIDDEN"
    for document, name in ((EXPORT, "exportVolunteerData"), (ERASE, "eraseVolunteer")):
        result = await gql(document, {"email": EMAIL}, key=key)
        assert result["data"] is None or result["data"][name] is None
        assert [e["extensions"]["code"] for e in result["errors"]] == [expected]
    assert (await Volunteer.get(id=world.volunteer_id)).full_name == NAME


async def test_export_and_erasure_log_no_address_or_name(
    gql: GraphQLClient, world: PrivacyWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    payload(await gql(EXPORT, {"email": EMAIL}, key=world.admin_key), "exportVolunteerData")
    payload(await gql(ERASE, {"email": EMAIL}, key=world.admin_key), "eraseVolunteer")
    payload(await gql(ERASE, {"email": EMAIL}, key=world.admin_key), "eraseVolunteer")  # NOT_FOUND

    assert any(record.name == "exchange.privacy" for record in caplog.records)  # the erasure's counts
    needles = [needle.casefold() for needle in (*PERSON, EMAIL.lower())]
    for record in caplog.records:
        if record.name in DRIVER_LOGGERS and record.levelno == logging.DEBUG:
            continue
        text = (record.getMessage() + (record.exc_text or "")).casefold()
        assert not [n for n in needles if n in text], (record.name, record.getMessage())
