"""Malformed ids are BAD_USER_INPUT everywhere (#10 item 11).

An id that does not decode, or decodes to another type than the argument expects, is a
GraphQL error with ``extensions.code`` BAD_USER_INPUT (and ``extensions.field``, the path
inside the input as in userErrors) in every query and mutation, and nothing is written; a
well-formed id of the right type that names nothing stays ``null`` (node) or NOT_FOUND.
``node(id:)`` takes every Node type, so only ids that are no Node's are malformed there.
These answered null or a NOT_FOUND userError before. Subscriptions: tests/events/test_live.py.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from exchange.models import (
    ApiKey,
    Exchange,
    Invitation,
    Organisation,
    OutboxMail,
    Session,
    SessionFormat,
    Volunteer,
    WebhookEndpoint,
)
from schema.api.relay import encode_id
from tests.api.exchange_fixtures import gid, make_exchange, make_volunteer
from tests.conftest import GraphQLClient, make_organisation

Ids = dict[str, str]


def forged(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@dataclass(frozen=True)
class IdArgument:
    name: str
    document: str
    # The variables with ``the_id`` where the id under test goes.
    variables: Callable[[Ids, str], dict[str, Any]]
    expects: str  # the type the argument takes
    field: list[str]  # extensions.field of the refusal
    # What a well-formed id of the right type that names nothing gets: "null", "empty" (a
    # list), "NOT_FOUND" (a userError on ``field``) or "NOT_FOUND error" (a GraphQL error).
    missing: str = "NOT_FOUND"


def _exchange_input(ids: Ids, **extra: Any) -> dict[str, Any]:
    return {
        "slug": "new-week",
        "titles": [{"locale": "en", "text": "New week"}],
        "theme": "ECOLOGY",
        "country": "KZ",
        "startsOn": "2027-06-01",
        "endsOn": "2027-06-03",
        "timeZone": "Asia/Almaty",
        "languages": ["en"],
        "hostId": ids["host"],
        **extra,
    }


def _session_input(ids: Ids, **extra: Any) -> dict[str, Any]:
    return {
        "exchangeId": ids["exchange"],
        "titles": [{"locale": "en", "text": "Talk"}],
        "startsAt": "2027-05-11T10:00:00+05:00",
        "endsAt": "2027-05-11T11:00:00+05:00",
        "format": "IN_PERSON",
        "venue": "Hall",
        **extra,
    }


def _invite_input(ids: Ids, **extra: Any) -> dict[str, Any]:
    invitee = {"email": "new@example.org", "fullName": "New Person", "country": "KZ"}
    return {"exchangeId": ids["exchange"], "invitees": [invitee], **extra}


ERRORS = "userErrors { field code }"
ARGUMENTS = [
    IdArgument(
        "node(id)",
        "query($id: ID!) { node(id: $id) { id } }",
        lambda ids, the_id: {"id": the_id},
        "Node",
        ["id"],
        missing="null",
    ),
    IdArgument(
        "webhookEndpoints(organisationId)",
        "query($id: ID) { webhookEndpoints(organisationId: $id) { id } }",
        lambda ids, the_id: {"id": the_id},
        "Organisation",
        ["organisationId"],
        missing="empty",
    ),
    IdArgument(
        "webhookDeliveries(endpointId)",
        "query($id: ID!) { webhookDeliveries(endpointId: $id) { totalCount } }",
        lambda ids, the_id: {"id": the_id},
        "WebhookEndpoint",
        ["endpointId"],
        missing="NOT_FOUND error",
    ),
    IdArgument(
        "createExchange(input.hostId)",
        f"mutation($input: CreateExchangeInput!) {{ createExchange(input: $input) {{ {ERRORS} }} }}",
        lambda ids, the_id: {"input": _exchange_input(ids, hostId=the_id)},
        "Organisation",
        ["hostId"],
    ),
    IdArgument(
        "createExchange(input.partnerIds)",
        f"mutation($input: CreateExchangeInput!) {{ createExchange(input: $input) {{ {ERRORS} }} }}",
        lambda ids, the_id: {"input": _exchange_input(ids, partnerIds=[ids["partner"], the_id])},
        "Organisation",
        ["partnerIds", "1"],
    ),
    IdArgument(
        "updateExchange(id)",
        f'mutation($id: ID!) {{ updateExchange(id: $id, input: {{city: "Elsewhere"}}) {{ {ERRORS} }} }}',
        lambda ids, the_id: {"id": the_id},
        "ExperienceExchange",
        ["id"],
    ),
    IdArgument(
        "updateExchange(input.partnerIds)",
        "mutation($id: ID!, $input: UpdateExchangeInput!) "
        f"{{ updateExchange(id: $id, input: $input) {{ {ERRORS} }} }}",
        lambda ids, the_id: {"id": ids["exchange"], "input": {"partnerIds": [the_id, ids["partner"]]}},
        "Organisation",
        ["partnerIds", "0"],
    ),
    IdArgument(
        "addSession(input.exchangeId)",
        f"mutation($input: AddSessionInput!) {{ addSession(input: $input) {{ {ERRORS} }} }}",
        lambda ids, the_id: {"input": _session_input(ids, exchangeId=the_id)},
        "ExperienceExchange",
        ["exchangeId"],
    ),
    IdArgument(
        "addSession(input.speakerIds)",
        f"mutation($input: AddSessionInput!) {{ addSession(input: $input) {{ {ERRORS} }} }}",
        lambda ids, the_id: {"input": _session_input(ids, speakerIds=[ids["volunteer"], the_id])},
        "Volunteer",
        ["speakerIds", "1"],
    ),
    IdArgument(
        "createOrganisation(input.parentId)",
        f"mutation($input: CreateOrganisationInput!) {{ createOrganisation(input: $input) {{ {ERRORS} }} }}",
        lambda ids, the_id: {
            "input": {
                "slug": "new-team",
                "names": [{"locale": "en", "text": "New team"}],
                "kind": "NGO",
                "parentId": the_id,
            }
        },
        "Organisation",
        ["parentId"],
    ),
    IdArgument(
        "issueApiKey(organisationId)",
        f"mutation($id: ID!) {{ issueApiKey(organisationId: $id, role: ORGANISATION) {{ {ERRORS} }} }}",
        lambda ids, the_id: {"id": the_id},
        "Organisation",
        ["organisationId"],
    ),
    IdArgument(
        "registerVolunteer(input.organisationId)",
        f"mutation($input: RegisterVolunteerInput!) {{ registerVolunteer(input: $input) {{ {ERRORS} }} }}",
        lambda ids, the_id: {
            "input": {
                "fullName": "New Volunteer",
                "email": "new.volunteer@example.org",
                "country": "KZ",
                "languages": ["kk"],
                "organisationId": the_id,
            }
        },
        "Organisation",
        ["organisationId"],
    ),
    IdArgument(
        "inviteVolunteers(input.exchangeId)",
        f"mutation($input: InviteVolunteersInput!) {{ inviteVolunteers(input: $input) {{ {ERRORS} }} }}",
        lambda ids, the_id: {"input": _invite_input(ids, exchangeId=the_id)},
        "ExperienceExchange",
        ["exchangeId"],
    ),
    IdArgument(
        "inviteVolunteers(input.sessionIds)",
        f"mutation($input: InviteVolunteersInput!) {{ inviteVolunteers(input: $input) {{ {ERRORS} }} }}",
        lambda ids, the_id: {"input": _invite_input(ids, sessionIds=[ids["session"], the_id])},
        "Session",
        ["sessionIds", "1"],
    ),
    IdArgument(
        "resendInvitation(id)",
        f"mutation($id: ID!) {{ resendInvitation(id: $id) {{ {ERRORS} }} }}",
        lambda ids, the_id: {"id": the_id},
        "Invitation",
        ["id"],
    ),
    IdArgument(
        "revokeInvitation(id)",
        f"mutation($id: ID!) {{ revokeInvitation(id: $id) {{ {ERRORS} }} }}",
        lambda ids, the_id: {"id": the_id},
        "Invitation",
        ["id"],
    ),
    IdArgument(
        "updateSession(id)",
        f'mutation($id: ID!) {{ updateSession(id: $id, input: {{venue: "Elsewhere"}}) {{ {ERRORS} }} }}',
        lambda ids, the_id: {"id": the_id},
        "Session",
        ["id"],
    ),
    IdArgument(
        "cancelSession(id)",
        f"mutation($id: ID!) {{ cancelSession(id: $id) {{ {ERRORS} }} }}",
        lambda ids, the_id: {"id": the_id},
        "Session",
        ["id"],
    ),
    IdArgument(
        "addWebhookEndpoint(organisationId)",
        'mutation($id: ID) { addWebhookEndpoint(url: "https://crm.example.org/new", organisationId: $id) '
        f"{{ {ERRORS} }} }}",
        lambda ids, the_id: {"id": the_id},
        "Organisation",
        ["organisationId"],
    ),
    IdArgument(
        "removeWebhookEndpoint(id)",
        f"mutation($id: ID!) {{ removeWebhookEndpoint(id: $id) {{ {ERRORS} }} }}",
        lambda ids, the_id: {"id": the_id},
        "WebhookEndpoint",
        ["id"],
    ),
    IdArgument(
        "rotateWebhookSecret(id)",
        f"mutation($id: ID!) {{ rotateWebhookSecret(id: $id) {{ {ERRORS} }} }}",
        lambda ids, the_id: {"id": the_id},
        "WebhookEndpoint",
        ["id"],
    ),
]


def malformed_ids(argument: IdArgument, ids: Ids) -> list[str]:
    """Ids that do not decode, and real ids of another type than the argument takes."""
    undecodable = ["garbage", "", "not an id", forged("no separator"), forged("Session:abc")]
    if argument.expects == "Node":
        # Any Node's id is welcome; a WebhookEndpoint's or an unknown type's is not one.
        return [*undecodable, ids["endpoint"], forged("Spaceship:1"), forged("Node:1")]
    out_of_range = [forged(f"{argument.expects}:-1"), forged(f"{argument.expects}:2147483648")]
    other_type = ids["volunteer"] if argument.expects != "Volunteer" else ids["exchange"]
    return [*undecodable, *out_of_range, other_type, ids["endpoint_number_as_api_key"]]


async def world(gql: GraphQLClient, admin_key: str) -> Ids:
    host = await make_organisation("host")
    partner = await make_organisation("partner")
    exchange = await make_exchange("week", host, partners=[partner])
    session = await Session.create(
        exchange=exchange,
        titles={"en": "Opening"},
        starts_at=dt.datetime(2027, 5, 10, 4, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 5, 10, 6, 0, tzinfo=dt.UTC),
        format=SessionFormat.IN_PERSON,
        venue="Museum",
    )
    volunteer = await make_volunteer("Aigerim Bekova")
    invited = await gql(
        "mutation($input: InviteVolunteersInput!) { inviteVolunteers(input: $input) { invitations { id } } }",
        {
            "input": {
                "exchangeId": gid(exchange),
                "invitees": [{"email": "a@example.org", "fullName": "A", "country": "KZ"}],
            }
        },
        key=admin_key,
    )
    endpoint = await gql(
        'mutation($org: ID) { addWebhookEndpoint(url: "https://crm.example.org/hooks", organisationId: $org) '
        "{ endpoint { id } } }",
        {"org": gid(host)},
        key=admin_key,
    )
    endpoint_id = endpoint["data"]["addWebhookEndpoint"]["endpoint"]["id"]
    pk = int(base64.urlsafe_b64decode(endpoint_id + "==").decode().partition(":")[2])
    return {
        "host": gid(host),
        "partner": gid(partner),
        "exchange": gid(exchange),
        "session": encode_id("Session", session.id),
        "volunteer": gid(volunteer),
        "invitation": invited["data"]["inviteVolunteers"]["invitations"][0]["id"],
        "endpoint": endpoint_id,
        # The right number under the wrong type: the type decides, not whether the row exists.
        "endpoint_number_as_api_key": encode_id("ApiKey", pk),
    }


async def stored() -> tuple[Any, ...]:
    """Everything these operations could write."""
    return (
        await Exchange.all().order_by("id").values_list("id", "city", "slug"),
        await Session.all().order_by("id").values_list("id", "venue", "cancelled_at"),
        await Organisation.all().count(),
        await Volunteer.all().count(),
        await Invitation.all().order_by("id").values_list("id", "status"),
        await ApiKey.all().count(),
        await WebhookEndpoint.all().order_by("id").values_list("id", "sealed_secret"),
        await OutboxMail.all().count(),
    )


@pytest.mark.parametrize("argument", ARGUMENTS, ids=[a.name for a in ARGUMENTS])
async def test_a_malformed_id_is_bad_user_input_and_changes_nothing(
    gql: GraphQLClient, admin_key: str, argument: IdArgument
) -> None:
    ids = await world(gql, admin_key)
    before = await stored()
    for the_id in malformed_ids(argument, ids):
        result = await gql(argument.document, argument.variables(ids, the_id), key=admin_key)
        errors = result.get("errors") or []
        assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in errors] == [
            ("BAD_USER_INPUT", argument.field)
        ], (the_id, result)
        assert "is not" in errors[0]["message"] and argument.expects in errors[0]["message"], errors
        assert await stored() == before, the_id


@pytest.mark.parametrize("argument", ARGUMENTS, ids=[a.name for a in ARGUMENTS])
async def test_a_well_formed_id_that_names_nothing_stays_null_or_not_found(
    gql: GraphQLClient, admin_key: str, argument: IdArgument
) -> None:
    ids = await world(gql, admin_key)
    before = await stored()
    type_name = "ExperienceExchange" if argument.expects == "Node" else argument.expects
    for the_id in (encode_id(type_name, 0), encode_id(type_name, 2**31 - 1)):
        result = await gql(argument.document, argument.variables(ids, the_id), key=admin_key)
        root = next(iter(result["data"] or {None: None}))
        if argument.missing in ("null", "empty"):
            expected = None if argument.missing == "null" else []
            assert "errors" not in result and result["data"] == {root: expected}, result
        elif argument.missing == "NOT_FOUND error":
            assert [e["extensions"]["code"] for e in result["errors"]] == ["NOT_FOUND"], result
        else:
            assert "errors" not in result, result
            assert {"field": argument.field, "code": "NOT_FOUND"} in result["data"][root]["userErrors"], (
                result
            )
        assert await stored() == before, the_id
