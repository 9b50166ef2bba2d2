"""Every admission rule in one table, each case run over every transport that can carry it.

A case declares the operation (a query or mutation for HTTP POST and GET, a subscription for
server-sent events, multipart, graphql-transport-ws and graphql-ws), the settings that make
the rule bite, who calls, and what the server must answer: a refusal by ``extensions.code``,
a WebSocket close, or that the operation runs. Where a transport legitimately answers
differently, ``per_transport`` says so with the reason.

The servers are real (tests/admission/conftest.py): one per settings profile and database.
The settings of all cases are merged into one profile (the allow-list mode gets its own), so
every case's documents are written to stay inside the other cases' limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from exchange.documents import sha256_hex
from tests.admission.conftest import Deployment, Deployments
from tests.admission.transports import (
    TRANSPORTS,
    GraphQLTransportWS,
    HttpGet,
    HttpPost,
    LegacyGraphQLWS,
    MultipartSubscriptions,
    Operation,
    Outcome,
    ServerSentEvents,
    Transport,
)

POST, GET = HttpPost.name, HttpGet.name
SSE, MULTIPART = ServerSentEvents.name, MultipartSubscriptions.name
TRANSPORT_WS, LEGACY_WS = GraphQLTransportWS.name, LegacyGraphQLWS.name
SOCKETS = (TRANSPORT_WS, LEGACY_WS)
STREAMS = (SSE, MULTIPART)


# ---------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Runs:
    """Admitted: a query answers with data and no error, a subscription is live."""

    def check(self, transport: Transport, outcome: Outcome) -> None:
        assert outcome.codes == [], outcome
        if transport.carries == "subscription":
            assert outcome.subscribed, outcome
        else:
            assert outcome.status == 200 and outcome.data is not None, outcome


@dataclass(frozen=True)
class Refused:
    code: str
    # The HTTP status or WebSocket close code, where the rule fixes it.
    status: int | None = None
    # Words the message must hold (what the caller is told to do).
    says: str | None = None
    # Refused before anything ran: no data. Errors raised by resolvers come with data.
    before_execution: bool = True

    def check(self, transport: Transport, outcome: Outcome) -> None:
        assert self.code in outcome.codes, outcome
        assert not outcome.subscribed, outcome
        if self.status is not None:
            assert outcome.status == self.status, outcome
        if self.says is not None:
            assert any(self.says in message for message in outcome.messages), outcome
        if self.before_execution:
            assert outcome.data is None, outcome


@dataclass(frozen=True)
class Closed:
    """The server closed the WebSocket with this code, without an error message."""

    code: int

    def check(self, transport: Transport, outcome: Outcome) -> None:
        assert outcome.status == self.code and outcome.codes == [], outcome
        assert not outcome.subscribed, outcome


Expectation = Runs | Refused | Closed

FRESH_KEY = "fresh key"  # each run gets an admin key of its own
REVOKED_KEY = "revoked key"


@dataclass(frozen=True)
class Case:
    name: str
    # What POST and GET send (None: no query or mutation can carry the rule).
    query: Operation | None
    # What the streams and sockets send (None: no subscription can carry the rule).
    subscription: Operation | None
    expect: Expectation
    # Where a transport answers otherwise, and why (in the comment beside it).
    per_transport: Mapping[str, Expectation] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    # Sent first with the same credentials, and must run (the bound itself, a first request).
    before: tuple[Operation | None, Operation | None] = (None, None)
    # The operation is sent this many times; the expectation is for the last.
    repeat: int = 1
    # The Authorization header: a fresh admin key, the revoked one, or this text.
    authorization: str | None = FRESH_KEY
    # Registered (`exchange documents register`) before the server starts.
    registered: tuple[str, ...] = ()
    transports: tuple[str, ...] | None = None  # None: every one that carries the operation
    # Rules that touch the database run on both engines; pure document checks on SQLite.
    databases: tuple[str, ...] = ("sqlite",)
    # Transports where the server does not (yet) do what the table says: a finding.
    findings: Mapping[str, str] = field(default_factory=dict)

    def operation_for(self, transport: Transport) -> Operation | None:
        return self.query if transport.carries == "query" else self.subscription

    def before_for(self, transport: Transport) -> Operation | None:
        return self.before[0] if transport.carries == "query" else self.before[1]


def q(document: str, variables: dict[str, Any] | None = None, **fields: Any) -> Operation:
    return Operation(document, variables, **fields)


def s(
    selection: str, definitions: str = "", values: dict[str, Any] | None = None, **fields: Any
) -> Operation:
    """A subscription to invitationUpdates with this selection (and variable definitions)."""
    declared = f"({definitions})" if definitions else ""
    return Operation(f"subscription{declared} {{ invitationUpdates {{ {selection} }} }}", values, **fields)


def nested(levels: int, leaf: str = "slug") -> str:
    inner = leaf
    for _ in range(levels):
        inner = f"parent {{ {inner} }}"
    return inner


def in_organisation(selection: str) -> str:
    return "{ organisations(first: 1) { edges { node { " + selection + " } } } }"


def in_host(selection: str) -> str:
    return "invitation { exchange { host { " + selection + " } } }"


def typenames(count: int) -> str:
    return " ".join(["__typename"] * count)


def doubling(root: str, type_condition: str, leaf: str, times: int) -> str:
    """``root`` selecting fragment F0, where each fragment spreads the next twice: ``leaf``
    appears 2^times times once the fragments are expanded where they are spread."""
    fragments = [f"fragment F{i} on {type_condition} {{ ...F{i + 1} ...F{i + 1} }}" for i in range(times)]
    fragments.append(f"fragment F{times} on {type_condition} {{ {leaf} }}")
    return f"{root.replace('SPREAD', '...F0')} {' '.join(fragments)}"


def apq(document: str, digest: str | None = None) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest or sha256_hex(document)}}


COUNT = "{ organisations(first: 1) { totalCount } }"
STATUS = s("status")

# Costs with EXCHANGE_PAGE_SIZE_CAP=10 and EXCHANGE_MAX_COST=130 (schema/admission/cost.py):
# this query 1 + n × (2 + 2n): 113 at n=7, 145 at n=8; ...
COSTLY_QUERY = (
    "query($n: Int) { organisations(first: $n) { edges { node { "
    "exchanges(first: $n) { edges { node { host { slug } } } } } } } }"
)
# ... this subscription 124 + 2n (sessions 20 × (1 + speakers 5)): 130 at n=3, 132 at n=4.
COSTLY_SUBSCRIPTION = (
    "invitation { exchange { sessions { speakers { fullName } } "
    "participants(first: $n) { edges { node { volunteer { fullName } } } } } }"
)
PAGE_QUERY = "query($n: Int) { organisations(first: $n) { totalCount } }"
PAGE_SUBSCRIPTION = "invitation { exchange { participants(first: $n) { totalCount } } }"
CREATE = (
    "mutation($input: CreateOrganisationInput!) { createOrganisation(input: $input) { userErrors { code } } }"
)
LITERAL_NAMES = (
    'mutation { createOrganisation(input: {slug: "lit", kind: NGO, names: ['
    + ", ".join(['{locale: "en", text: "n"}'] * 4)
    + "]}) { userErrors { code } } }"
)


def organisation(slug: str, names: int = 1) -> dict[str, Any]:
    return {"input": {"slug": slug, "kind": "NGO", "names": [{"locale": "en", "text": "N"}] * names}}


# Documents that only registration lets run in allow-list mode.
REGISTERED_QUERY = "{ organisations(first: 2) { totalCount } }"
REGISTERED_SUBSCRIPTION = "subscription { invitationUpdates { status previousStatus } }"
ALLOW_LIST = {"persisted_queries_only": True}

CASES: list[Case] = [
    # ------------------------------------------------------------ document shape
    Case(
        "depth",
        q(in_organisation(nested(5))),
        s(in_host(nested(4))),
        Refused("QUERY_TOO_DEEP", says="at most 8"),
        settings={"max_depth": 8},
        before=(
            q(in_organisation(nested(4))),
            s(in_host(nested(3))),
        ),
    ),
    Case(
        "aliases",
        q("{ a: __typename b: __typename c: __typename }"),
        s("a: status b: status c: status"),
        Refused("TOO_MANY_ALIASES", says="at most 2"),
        settings={"max_aliases": 2},
        before=(q("{ a: __typename b: __typename }"), s("a: status b: status")),
    ),
    Case(
        "root fields",
        q(
            "{ organisations(first: 1) { totalCount } exchanges(first: 1) { totalCount } "
            "more: organisations(first: 2) { totalCount } }"
        ),
        # A subscription selects exactly one root field (GraphQL's own rule, the next case).
        None,
        Refused("TOO_MANY_ROOT_FIELDS", says="at most 2"),
        settings={"max_root_fields": 2},
        before=(q("{ organisations(first: 1) { totalCount } exchanges(first: 1) { totalCount } }"), None),
    ),
    Case(
        "root fields: a subscription selects one",
        None,
        Operation("subscription { invitationUpdates { status } other: invitationUpdates { at } }"),
        Refused("GRAPHQL_VALIDATION_FAILED", says="only one top level field"),
    ),
    Case(
        "tokens",
        q("{ organisations(first: 1) { totalCount " + typenames(100) + " } }"),
        s("status " + typenames(100)),
        Refused("TOO_MANY_TOKENS", says="100 tokens"),
        settings={"max_tokens": 100},
        before=(q("{ organisations(first: 1) { totalCount " + typenames(80) + " } }"), None),
        # graphql-transport-ws closes on a document that does not parse (4400, as the
        # protocol's reference server does); graphql-ws answers with an error message.
        per_transport={TRANSPORT_WS: Closed(4400), LEGACY_WS: Refused("TOO_MANY_TOKENS", says="100 tokens")},
    ),
    Case(
        "fields, fragments counted where spread",
        q(doubling("{ organisations(first: 1) { SPREAD } }", "OrganisationConnection", "totalCount", 7)),
        Operation(doubling("subscription { invitationUpdates { SPREAD } }", "InvitationEvent", "status", 7)),
        Refused("TOO_MANY_FIELDS", says="at most 100"),
        settings={"max_fields": 100},
        before=(
            q(doubling("{ organisations(first: 1) { SPREAD } }", "OrganisationConnection", "totalCount", 6)),
            Operation(
                doubling("subscription { invitationUpdates { SPREAD } }", "InvitationEvent", "status", 6)
            ),
        ),
    ),
    # ------------------------------------------------------------ input
    Case(
        "input list in variables",
        q(CREATE, organisation("listed", names=4)),
        None,
        Refused("INPUT_LIST_TOO_LONG", status=400, says="at most 3"),
        settings={"max_input_list": 3},
        # GET never carries a mutation, and says so before looking at the variables.
        per_transport={GET: Refused("METHOD_NOT_ALLOWED", status=405)},
    ),
    Case(
        "input list literal",
        q(LITERAL_NAMES),
        None,
        Refused("INPUT_LIST_TOO_LONG", status=400, says="at most 3"),
        settings={"max_input_list": 3},
        # Document checks come before the method check: GET gets the same refusal.
    ),
    Case(
        "NUL in a variable",
        q("query($q: String) { exchanges(filter: {search: $q}) { totalCount } }", {"q": "a\u0000b"}),
        Operation("subscription($e: ID) { invitationUpdates(exchangeId: $e) { status } }", {"e": "a\u0000b"}),
        Refused("BAD_USER_INPUT"),
    ),
    # ------------------------------------------------------------ pages
    Case(
        "page over the cap",
        q(PAGE_QUERY, {"n": 11}),
        s(PAGE_SUBSCRIPTION, "$n: Int", values={"n": 11}),
        Refused("BAD_USER_INPUT", says="at most 10"),
        settings={"page_size_cap": 10},
        before=(q(PAGE_QUERY, {"n": 10}), s(PAGE_SUBSCRIPTION, "$n: Int", values={"n": 10})),
    ),
    # Sockets ran this one (the page failing at every event): their cost check read the raw
    # variables, without the defaults; it coerces them now, as HTTP does.
    Case(
        "page over the cap as a variable's default",
        q(PAGE_QUERY.replace("$n: Int", "$n: Int = 11")),
        s(PAGE_SUBSCRIPTION, "$n: Int = 11"),
        Refused("BAD_USER_INPUT", says="at most 10"),
        settings={"page_size_cap": 10},
    ),
    Case(
        "page over the cap in a literal",
        q("{ organisations(first: 11) { totalCount } }"),
        s(PAGE_SUBSCRIPTION.replace("$n", "11")),
        Refused("BAD_USER_INPUT", says="at most 10"),
        settings={"page_size_cap": 10},
    ),
    Case(
        "negative page",
        q("{ organisations(last: -1) { totalCount } }"),
        s(PAGE_SUBSCRIPTION.replace("first: $n", "last: -1")),
        Refused("BAD_USER_INPUT", says="must not be negative"),
    ),
    Case(
        "first and last together",
        q("query($f: Int, $l: Int) { organisations(first: $f, last: $l) { totalCount } }", {"f": 2, "l": 1}),
        s(
            PAGE_SUBSCRIPTION.replace("first: $n", "first: $f, last: $l"),
            "$f: Int, $l: Int",
            values={"f": 2, "l": 1},
        ),
        Refused("BAD_USER_INPUT", says="cannot be used together"),
        before=(
            q(
                "query($f: Int, $l: Int) { organisations(first: $f, last: $l) { totalCount } }",
                {"f": 2, "l": None},
            ),
            s(
                PAGE_SUBSCRIPTION.replace("first: $n", "first: $f, last: $l"),
                "$f: Int, $l: Int",
                values={"l": 2},
            ),
        ),
    ),
    # ------------------------------------------------------------ cost
    Case(
        "cost",
        q(COSTLY_QUERY, {"n": 8}),
        s(COSTLY_SUBSCRIPTION, "$n: Int", values={"n": 4}),
        Refused("QUERY_TOO_COSTLY", says="at most 130"),
        settings={"max_cost": 130, "page_size_cap": 10},
        before=(q(COSTLY_QUERY, {"n": 7}), s(COSTLY_SUBSCRIPTION, "$n: Int", values={"n": 3})),
    ),
    # ------------------------------------------------------------ rate limit
    Case(
        "rate limit",
        # 113 points (query) or 130 (subscription) a time, 300 per window: the third is refused.
        q(COSTLY_QUERY, {"n": 7}),
        s(COSTLY_SUBSCRIPTION, "$n: Int", values={"n": 3}),
        Refused("RATE_LIMITED", says="Rate limit reached"),
        settings={"rate_limit_points": 300, "rate_limit_window_seconds": 600},
        repeat=3,
        per_transport={
            POST: Refused("RATE_LIMITED", status=429),
            GET: Refused("RATE_LIMITED", status=429),
            SSE: Refused("RATE_LIMITED", status=429),
            MULTIPART: Refused("RATE_LIMITED", status=429),
            # Sockets are bounded by subscriptions per connection and per key instead
            # (README, "Limits, errors and safe retries").
            TRANSPORT_WS: Runs(),
            LEGACY_WS: Runs(),
        },
    ),
    # ------------------------------------------------------------ authentication
    *(
        Case(
            f"authentication: {label}",
            q(COUNT),
            STATUS,
            Refused("UNAUTHENTICATED", says=says, before_execution=False),
            authorization=authorization,
            databases=("sqlite", "postgres"),
            per_transport={
                # Refused at connection_init, before any operation.
                TRANSPORT_WS: Closed(4403),
                # Strawberry's graphql-ws: connection_error, then close 1011.
                LEGACY_WS: Refused("UNAUTHENTICATED", status=1011, says=says),
            },
        )
        for label, authorization, says in [
            ("unknown key", "Bearer vx_not-a-key", "unknown or revoked"),
            ("revoked key", REVOKED_KEY, "unknown or revoked"),
            ("another scheme", "Basic dXNlcjpwYXNz", "Bearer"),
        ]
    ),
    Case(
        "authentication: no key",
        q(COUNT),
        STATUS,
        Refused("UNAUTHENTICATED", says="API key is required"),
        authorization=None,
        per_transport={
            POST: Runs(),  # anonymous callers may read
            GET: Runs(),
            TRANSPORT_WS: Closed(4403),
            LEGACY_WS: Refused("UNAUTHENTICATED", status=1011, says="API key is required"),
        },
    ),
    # ------------------------------------------------------------ persisted documents (APQ)
    Case(
        "APQ: unknown hash",
        q(COUNT, extensions=apq(COUNT), send_document=False),
        Operation(STATUS.document, extensions=apq(STATUS.document), send_document=False),
        Refused("PERSISTED_QUERY_NOT_FOUND"),
        databases=("sqlite", "postgres"),
        per_transport={
            # A socket message carries the document itself: one without is malformed.
            TRANSPORT_WS: Closed(4400),
            LEGACY_WS: Refused("BAD_REQUEST", says="payload.query"),
        },
    ),
    Case(
        "APQ: hash mismatch",
        q(COUNT, extensions=apq(COUNT, "0" * 64)),
        Operation(STATUS.document, extensions=apq(STATUS.document, "0" * 64)),
        Refused("PERSISTED_QUERY_HASH_MISMATCH", status=400),
        # Sockets take no persistedQuery extension (APQ is an HTTP protocol): the text runs.
        per_transport=dict.fromkeys(SOCKETS, Runs()),
    ),
    Case(
        "APQ: known hash",
        q(COUNT, extensions=apq(COUNT), send_document=False),
        Operation(STATUS.document, extensions=apq(STATUS.document), send_document=False),
        Runs(),
        before=(q(COUNT, extensions=apq(COUNT)), Operation(STATUS.document, extensions=apq(STATUS.document))),
        per_transport={TRANSPORT_WS: Closed(4400), LEGACY_WS: Refused("BAD_REQUEST", says="payload.query")},
    ),
    # ------------------------------------------------------------ allow-list
    Case(
        "allow-list: unregistered document",
        q(COUNT),
        STATUS,
        Refused("PERSISTED_QUERY_NOT_ALLOWED"),
        settings=ALLOW_LIST,
        registered=(REGISTERED_QUERY, REGISTERED_SUBSCRIPTION),
        databases=("sqlite", "postgres"),
    ),
    Case(
        "allow-list: unregistered document with its hash",
        q(COUNT, extensions=apq(COUNT)),
        Operation(STATUS.document, extensions=apq(STATUS.document)),
        # Sockets ignore the extension and check the text: the same refusal.
        Refused("PERSISTED_QUERY_NOT_ALLOWED"),
        settings=ALLOW_LIST,
        registered=(REGISTERED_QUERY, REGISTERED_SUBSCRIPTION),
    ),
    Case(
        "allow-list: registered document by its text",
        q(REGISTERED_QUERY),
        Operation(REGISTERED_SUBSCRIPTION),
        Runs(),
        settings=ALLOW_LIST,
        registered=(REGISTERED_QUERY, REGISTERED_SUBSCRIPTION),
        databases=("sqlite", "postgres"),
    ),
    Case(
        "allow-list: registered document by its hash",
        q(REGISTERED_QUERY, extensions=apq(REGISTERED_QUERY), send_document=False),
        Operation(REGISTERED_SUBSCRIPTION, extensions=apq(REGISTERED_SUBSCRIPTION), send_document=False),
        Runs(),
        settings=ALLOW_LIST,
        registered=(REGISTERED_QUERY, REGISTERED_SUBSCRIPTION),
        databases=("sqlite", "postgres"),
        per_transport={TRANSPORT_WS: Closed(4400), LEGACY_WS: Refused("BAD_REQUEST", says="payload.query")},
    ),
    # ------------------------------------------------------------ idempotency (HTTP only)
    Case(
        "idempotency key reused for another request",
        q(CREATE, organisation("second"), headers={"Idempotency-Key": "same-key"}),
        None,
        Refused("IDEMPOTENCY_KEY_REUSED", status=422),
        before=(q(CREATE, organisation("first"), headers={"Idempotency-Key": "same-key"}), None),
        transports=(POST,),
        databases=("sqlite", "postgres"),
    ),
    Case(
        "idempotency key too long",
        q(CREATE, organisation("long-key"), headers={"Idempotency-Key": "k" * 201}),
        None,
        Refused("BAD_REQUEST", status=400, says="1 to 200 characters"),
        transports=(POST,),
    ),
]


# ---------------------------------------------------------------- profiles


def profiles(cases: list[Case]) -> dict[bool, tuple[dict[str, Any], tuple[str, ...]]]:
    """The servers the table needs: every case's limits in one profile, once with and once
    without the allow-list; two cases may not want different values of a setting."""
    merged: dict[str, Any] = {}
    registered: dict[bool, list[str]] = {False: [], True: []}
    for case in cases:
        for name, value in case.settings.items():
            if name == "persisted_queries_only":
                continue
            assert merged.get(name, value) == value, f"{case.name}: {name} conflicts with another case"
            merged[name] = value
        registered[allow_list(case)].extend(
            d for d in case.registered if d not in registered[allow_list(case)]
        )
    return {
        mode: ({**merged, "persisted_queries_only": mode}, tuple(registered[mode])) for mode in (False, True)
    }


def allow_list(case: Case) -> bool:
    return bool(case.settings.get("persisted_queries_only", False))


PROFILES = profiles(CASES)


def runs() -> list[Any]:
    params = []
    for backend in ("sqlite", "postgres"):
        for case in CASES:
            if backend not in case.databases:
                continue
            for transport in TRANSPORTS:
                carried = case.query if transport.carries == "query" else case.subscription
                if carried is None or (case.transports is not None and transport.name not in case.transports):
                    continue
                marks = []
                if transport.name in case.findings:
                    marks.append(pytest.mark.xfail(strict=True, reason=case.findings[transport.name]))
                params.append(
                    pytest.param(
                        backend, case, transport, marks=marks, id=f"{backend}-{case.name}-{transport.name}"
                    )
                )
    return params


def credentials(case: Case, deployment: Deployment) -> str | None:
    if case.authorization == FRESH_KEY:
        return f"Bearer {deployment.fresh_key()}"
    if case.authorization == REVOKED_KEY:
        return f"Bearer {deployment.revoked_key}"
    return case.authorization


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "case", "transport_class"), runs())
async def test_admission(
    deployments: Deployments, backend: str, case: Case, transport_class: type[Transport]
) -> None:
    deployment = deployments.get(backend, PROFILES[allow_list(case)])
    transport = transport_class(deployment.server)
    authorization = credentials(case, deployment)
    before = case.before_for(transport)
    if before is not None:
        Runs().check(transport, await transport.send(before, authorization))
    operation = case.operation_for(transport)
    assert operation is not None
    for _ in range(case.repeat - 1):
        Runs().check(transport, await transport.send(operation, authorization))
    outcome = await transport.send(operation, authorization)
    case.per_transport.get(transport.name, case.expect).check(transport, outcome)


def test_every_transport_is_in_the_table() -> None:
    """Each transport carries some case, and every per-transport answer names a real one."""
    names = {transport.name for transport in TRANSPORTS}
    for case in CASES:
        assert set(case.per_transport) <= names, case.name
        assert set(case.findings) <= names, case.name
    carried = {param.values[2].name for param in runs()}
    assert carried == names
