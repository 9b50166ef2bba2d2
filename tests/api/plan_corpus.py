"""The data set and the documents of tests/api/test_plan.py: every root query field and every
field of every type reachable from them, with the GraphQL features the compiled plan
(schema/engine/plan.py) handles itself (aliases, fragments, field merging, @skip/@include,
variables), documents whose answer has errors and partial data (the plan answers them too),
and the ones it leaves to graphql-core (introspection at the root, mutations)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from exchange import models
from exchange.invitations import tokens
from exchange.models import (
    ApiKeyRole,
    DeliveryStatus,
    ExchangeStatus,
    InvitationStatus,
    OrganisationKind,
    ParticipationRole,
    ParticipationStatus,
    SessionFormat,
    Theme,
)
from schema.api.paging import encode_cursor
from schema.api.relay import encode_id
from tests.api.exchange_fixtures import gid, invite, make_exchange, make_volunteer, take_part
from tests.conftest import make_key, make_organisation

# What the compiled plan is expected to do with a case (schema.engine.plan.STATS keys, plus BYPASSED).
PLANNED = "planned"  # the plan answered (errors and partial data included), graphql-core not at all
NOT_COMPILED = "not compiled"  # the plan refused the document (introspection at the root)
BYPASSED = "bypassed"  # the plan is never consulted (mutations; requests refused before execution)

ANONYMOUS, READ_ONLY, HOST, PARTNER, STRANGER, ADMIN = (
    "anonymous",
    "read_only",
    "host",
    "partner",
    "stranger",
    "admin",
)
EVERYONE = (ANONYMOUS, READ_ONLY, HOST, PARTNER, STRANGER, ADMIN)
KEYED = (READ_ONLY, HOST, PARTNER, STRANGER, ADMIN)
ORGANISERS = (HOST, PARTNER, STRANGER, ADMIN)


@dataclass
class World:
    keys: dict[str, str | None]
    ids: dict[str, str]
    token: str


@dataclass(frozen=True)
class Case:
    name: str
    query: str
    # Variables, or a function of the world's ids (global ids differ per backend and run).
    variables: dict[str, Any] | Callable[[World], dict[str, Any]] | None = None
    actors: tuple[str, ...] = (ANONYMOUS,)
    expect: str = PLANNED
    headers: dict[str, str] = field(default_factory=dict)
    # Happy-path cases answer without errors; set for cases whose answer has errors (the
    # plan answers those too, with graphql-core's errors and partial data).
    errors_expected: bool = False
    # Several root fields that each send their own SQL: the plan deadlocks on SQLite's single
    # connection (test_plan.test_sibling_root_queries_on_sqlite); run on PostgreSQL only.
    contending: bool = False

    def variables_for(self, world: World) -> dict[str, Any] | None:
        if callable(self.variables):
            return self.variables(world)
        return self.variables


# ---------------------------------------------------------------- the data set


async def seed(signing_key: bytes, admin_key: str) -> World:
    """Organisations with parents, exchanges in every status (two DRAFTs), partners,
    sessions (one cancelled), speakers, participations of every role and status, volunteers
    with and without an organisation, invitations (one with a preview token) and webhooks."""
    un = await make_organisation(
        "un",
        names={"en": "United Nations", "ru": "Организация Объединённых Наций"},
        kind=OrganisationKind.INTERNATIONAL,
        country=None,
        website="https://un.org",
    )
    unv = await make_organisation(
        "unv",
        names={"en": "UN Volunteers", "ru": "Добровольцы ООН", "kk": "БҰҰ еріктілері"},
        kind=OrganisationKind.INTERNATIONAL,
        country=None,
        parent=un,
    )
    host = await make_organisation(
        "host-a",
        names={"kk": "Арал жастары", "ru": "Молодёжь Арала", "en": "Aral Youth"},
        kind=OrganisationKind.NGO,
        country="KZ",
        website="https://aral.example.kz",
        contact_email="team@aral.example.kz",
    )
    partner = await make_organisation(
        "partner-p",
        names={"ru": "Университет Ташкента", "en": "Tashkent University"},
        kind=OrganisationKind.EDUCATION,
        country="UZ",
        parent=unv,
    )
    stranger = await make_organisation(
        "stranger-b", names={"de": "Fremde GmbH"}, kind=OrganisationKind.BUSINESS, country="DE"
    )
    ministry = await make_organisation(
        "ministry", names={"kk": "Министрлік"}, kind=OrganisationKind.GOVERNMENT, country="KZ", parent=un
    )

    aral = await make_exchange(
        "aral-open",
        host,
        partners=[unv, partner],
        titles={"kk": "Арал теңізі", "ru": "Аральское море", "en": "The Aral Sea"},
        descriptions={"ru": "Посадка саксаула", "en": "Planting saxaul"},
        starts_on=dt.date(2027, 5, 10),
        ends_on=dt.date(2027, 5, 14),
        city="Aralsk",
        capacity=4,
    )
    draft = await make_exchange(
        "a-draft",
        host,
        partners=[partner],
        status=ExchangeStatus.DRAFT,
        titles={"ru": "Черновик", "en": "Draft plans"},
        starts_on=dt.date(2027, 6, 1),
        theme=Theme.EDUCATION,
        languages=["ru"],
    )
    closed = await make_exchange(
        "b-closed",
        stranger,
        status=ExchangeStatus.CLOSED,
        titles={"en": "Closed summit", "de": "Geschlossener Gipfel"},
        starts_on=dt.date(2027, 4, 2),
        country="DE",
        time_zone="Europe/Berlin",
        theme=Theme.CULTURE,
        languages=["en", "de"],
        capacity=1,
    )
    b_draft = await make_exchange(
        "b-draft", stranger, status=ExchangeStatus.DRAFT, starts_on=dt.date(2027, 7, 1)
    )
    completed = await make_exchange(
        "health-done",
        unv,
        partners=[ministry],
        status=ExchangeStatus.COMPLETED,
        titles={"en": "Health camp", "ru": "Лагерь здоровья"},
        descriptions={"en": "First aid"},
        starts_on=dt.date(2026, 9, 1),
        country="UZ",
        time_zone="Asia/Tashkent",
        theme=Theme.HEALTH,
        languages=["uz", "ru"],
    )
    cancelled = await make_exchange(
        "called-off",
        host,
        status=ExchangeStatus.CANCELLED,
        titles={"en": "Called off"},
        starts_on=dt.date(2027, 8, 20),
        theme=Theme.SPORT,
    )

    # Aigerim and Anna chose public profiles; the others are seen by the people rule only.
    aigerim = await make_volunteer(
        "Aigerim Bekova", organisation=host, skills=["First aid", "Kazakh"], public_profile=True
    )
    timur = await make_volunteer(
        "Timur Rashidov",
        organisation=partner,
        country="UZ",
        languages=["uz", "ru", "en"],
        skills=["Logistics"],
    )
    anna = await make_volunteer(
        "Anna Schmidt", country="DE", languages=["de", "en"], skills=[], public_profile=True
    )
    dana = await make_volunteer("Dana Nurlanova", organisation=stranger, skills=["Photography"])
    loner = await make_volunteer("Loner", email="loner@example.net", country="KG", languages=["ky"])

    at = dt.datetime(2027, 5, 10, 4, 0, tzinfo=dt.UTC)
    opening = await models.Session.create(
        exchange=aral,
        titles={"ru": "Открытие", "en": "Opening"},
        starts_at=at,
        ends_at=at + dt.timedelta(hours=1, minutes=30),
        format=SessionFormat.HYBRID,
        venue="Aralsk, House of Culture",
        online_url="https://meet.example.org/aral",
        language="ru",
        capacity=80,
    )
    await opening.speakers.add(aigerim, timur)
    planting = await models.Session.create(
        exchange=aral,
        titles={"en": "Planting"},
        starts_at=at + dt.timedelta(days=1),
        ends_at=at + dt.timedelta(days=1, hours=6),
        format=SessionFormat.IN_PERSON,
        venue="Kokaral",
    )
    await planting.speakers.add(anna)
    dropped = await models.Session.create(
        exchange=aral,
        titles={"en": "Boat trip"},
        starts_at=at + dt.timedelta(days=2),
        ends_at=at + dt.timedelta(days=2, hours=2),
        format=SessionFormat.IN_PERSON,
        cancelled_at=dt.datetime(2027, 5, 1, tzinfo=dt.UTC),
    )
    draft_session = await models.Session.create(
        exchange=draft,
        titles={"ru": "Планёрка"},
        starts_at=dt.datetime(2027, 6, 1, 5, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 6, 1, 6, tzinfo=dt.UTC),
        format=SessionFormat.ONLINE,
        online_url="https://meet.example.org/draft",
        language="ru",
    )
    await draft_session.speakers.add(dana)
    await models.Session.create(
        exchange=closed,
        titles={"en": "Keynote", "de": "Grundsatzrede"},
        starts_at=dt.datetime(2027, 4, 2, 8, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 4, 2, 9, tzinfo=dt.UTC),
        format=SessionFormat.ONLINE,
        capacity=500,
    )

    p_aigerim = await take_part(aigerim, aral, role=ParticipationRole.COORDINATOR)
    await take_part(timur, aral, role=ParticipationRole.SPEAKER)
    await take_part(anna, aral, ParticipationStatus.WITHDRAWN, ParticipationRole.MENTOR)
    attended = await take_part(dana, aral, ParticipationStatus.ATTENDED)
    attended.hours = 12.5
    await attended.save()
    await take_part(loner, draft)
    await take_part(anna, closed, ParticipationStatus.CONFIRMED)
    await take_part(timur, completed, ParticipationStatus.ATTENDED, ParticipationRole.MENTOR)
    await take_part(aigerim, b_draft)

    token = tokens.token_for("preview-nonce", signing_key)
    previewed = await invite(
        aral,
        "guest@example.org",
        full_name="Guest Invitee",
        token_nonce="preview-nonce",
        token_hash=tokens.token_hash(token),
        message="Join us at the sea",
        status=InvitationStatus.SENT,
        sent_at=dt.datetime(2027, 3, 1, tzinfo=dt.UTC),
        delivery_attempts=1,
    )
    await previewed.sessions.add(opening, dropped)
    await invite(
        aral,
        "aigerim.bekova@example.org",
        by=partner,
        status=InvitationStatus.ACCEPTED,
        volunteer=aigerim,
        responded_at=dt.datetime(2027, 3, 3, tzinfo=dt.UTC),
        locale="kk",
    )
    await invite(
        aral, "bounced@example.org", status=InvitationStatus.FAILED, last_error="550 mailbox unavailable"
    )
    draft_invitation = await invite(draft, "loner@example.net", status=InvitationStatus.DECLINED)
    await invite(b_draft, "someone@example.org")

    endpoint = await models.WebhookEndpoint.create(
        organisation=host, url="https://hooks.example.org/a", sealed_secret="s" * 32, description="CRM"
    )
    await models.WebhookEndpoint.create(
        organisation=host, url="https://hooks.example.org/b", sealed_secret="t" * 32
    )
    await models.WebhookEndpoint.create(
        organisation=stranger, url="https://hooks.example.org/c", sealed_secret="u" * 32
    )
    due = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)
    for number, (status, code, error) in enumerate(
        [
            (DeliveryStatus.PENDING, None, None),
            (DeliveryStatus.DELIVERED, 204, None),
            (DeliveryStatus.FAILED, 500, "server error"),
        ],
        start=1,
    ):
        await models.WebhookDelivery.create(
            endpoint=endpoint,
            event_id=f"evt_{number}",
            event_type="invitation.updated",
            payload={"n": number},
            status=status,
            attempts=number,
            next_attempt_at=due,
            last_status_code=code,
            last_error=error,
            delivered_at=due if status is DeliveryStatus.DELIVERED else None,
        )

    keys: dict[str, str | None] = {
        ANONYMOUS: None,
        READ_ONLY: await make_key(host, ApiKeyRole.READ_ONLY),
        HOST: await make_key(host),
        PARTNER: await make_key(partner),
        STRANGER: await make_key(stranger),
        ADMIN: admin_key,
    }
    ids = {
        "un": gid(un),
        "unv": gid(unv),
        "host": gid(host),
        "partner": gid(partner),
        "stranger": gid(stranger),
        "aral": gid(aral),
        "draft": gid(draft),
        "closed": gid(closed),
        "b-draft": gid(b_draft),
        "completed": gid(completed),
        "cancelled": gid(cancelled),
        "aigerim": gid(aigerim),
        "timur": gid(timur),
        "anna": gid(anna),
        "loner": gid(loner),
        "opening": encode_id("Session", opening.id),
        "dropped": encode_id("Session", dropped.id),
        "draft-session": encode_id("Session", draft_session.id),
        "p-aigerim": gid(p_aigerim),
        "previewed": encode_id("Invitation", previewed.id),
        "draft-invitation": encode_id("Invitation", draft_invitation.id),
        "endpoint": encode_id("WebhookEndpoint", endpoint.id),
        "missing-exchange": encode_id("ExperienceExchange", 999_999),
    }
    return World(keys, ids, token)


# ---------------------------------------------------------------- selections

LOCALIZED = "{ locale text }"
PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
ORGANISATION_FIELDS = f"""
    id slug kind country website name names {LOCALIZED}
    ru: name(locale: "ru") kk: name(locale: "kk")
    parent {{ id slug name parent {{ slug }} }}
"""
VOLUNTEER_FIELDS = """
    id fullName country languages skills email publicProfile
    organisation { id slug name }
"""
PARTICIPATION_FIELDS = """
    id role status hours joinedAt
    volunteer { id fullName email organisation { slug } }
    exchange { id slug status }
"""
SESSION_FIELDS = f"""
    id startsAt endsAt format venue onlineUrl language capacity cancelledAt
    title en: title(locale: "en") ru: title(locale: "ru") titles {LOCALIZED}
    exchange {{ id slug }}
    speakers {{ {VOLUNTEER_FIELDS} }}
"""
INVITATION_FIELDS = f"""
    id email fullName country locale createdAt sentAt respondedAt expiresAt deliveryAttempts
    message status lastError
    exchange {{ id slug }}
    sessions {{ id title cancelledAt }}
    invitedBy {{ id slug name }}
    volunteer {{ {VOLUNTEER_FIELDS} }}
"""
EXCHANGE_FIELDS = f"""
    id slug theme status country city startsOn endsOn timeZone capacity languages
    title en: title(locale: "en") ru: title(locale: "ru") kk: title(locale: "kk") titles {LOCALIZED}
    description enDescription: description(locale: "en") descriptions {LOCALIZED}
    host {{ {ORGANISATION_FIELDS} }}
    partners {{ {ORGANISATION_FIELDS} }}
    seatsLeft participantCountsByCountry {{ country count }}
    sessions {{ {SESSION_FIELDS} }}
    participants(first: 10) {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {PARTICIPATION_FIELDS} }} }} }}
    invitations(first: 10) {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {INVITATION_FIELDS} }} }} }}
"""


# ---------------------------------------------------------------- happy path: the plan answers

HAPPY: list[Case] = [
    Case(
        "organisations, every field",
        f"""{{ organisations {{ totalCount {PAGE_INFO} edges {{ cursor node {{
            __typename {ORGANISATION_FIELDS}
            exchanges {{ totalCount {PAGE_INFO} edges {{ cursor node {{ id slug status title }} }} }}
        }} }} }} }}""",
        actors=EVERYONE,
    ),
    Case(
        "organisations filtered and paged by variables",
        """query Orgs($kind: OrganisationKind, $first: Int = 2, $after: String, $inner: Int = 1) {
          byKind: organisations(kind: $kind, first: $first) { totalCount edges { node { slug kind } } }
          page: organisations(first: $first, after: $after) {
            totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
            edges { cursor node { slug exchanges(first: $inner) { totalCount edges { cursor node { slug } } } } }
          }
          kz: organisations(country: "KZ") { edges { node { slug country } } }
          tail: organisations(last: 2) { pageInfo { hasPreviousPage hasNextPage } edges { node { slug } } }
        }""",
        {"kind": "INTERNATIONAL", "after": encode_cursor(1)},
        actors=(ANONYMOUS, HOST),
        contending=True,
    ),
    Case(
        "organisations with the variables' defaults",
        """query Orgs($first: Int = 3, $locale: LanguageCode = "ru") {
          organisations(first: $first) { edges { node { slug name(locale: $locale) } } }
        }""",
    ),
    Case(
        "organisation by slug, missing slug, aliases",
        f"""{{
          a: organisation(slug: "host-a") {{ {ORGANISATION_FIELDS}
            exchanges(first: 2) {{ totalCount edges {{ node {{ slug status }} }} }}
            later: exchanges(first: 2, after: "{encode_cursor(0)}") {{ {PAGE_INFO} edges {{ node {{ slug }} }} }}
            back: exchanges(last: 1, before: "{encode_cursor(2)}") {{ {PAGE_INFO} edges {{ node {{ slug }} }} }}
          }}
          p: organisation(slug: "partner-p") {{ slug parent {{ slug parent {{ slug parent {{ slug }} }} }} }}
          missing: organisation(slug: "nope") {{ id }}
        }}""",
        actors=(ANONYMOUS, HOST, PARTNER, ADMIN),
        contending=True,
    ),
    Case(
        "exchanges, every field of every reachable type",
        f"{{ exchanges(first: 10) {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {EXCHANGE_FIELDS} }} }} }} }}",
        actors=EVERYONE,
    ),
    Case(
        "exchanges filtered",
        """{
          open: exchanges(filter: {status: OPEN}) { totalCount edges { node { slug status } } }
          drafts: exchanges(filter: {status: DRAFT}) { totalCount edges { node { slug } } }
          health: exchanges(filter: {theme: HEALTH, country: "UZ"}) { edges { node { slug theme country } } }
          german: exchanges(filter: {language: "de"}) { edges { node { slug languages } } }
          window: exchanges(filter: {startsAfter: "2027-04-03", startsBefore: "2027-07-01"}) {
            edges { node { slug startsOn } } }
          search: exchanges(filter: {search: "АРАЛЬСКОЕ"}) { edges { node { slug ru: title(locale: "ru") } } }
          none: exchanges(filter: {search: "no such thing"}) { totalCount pageInfo { startCursor endCursor }
            edges { node { slug } } }
        }""",
        actors=(ANONYMOUS, HOST, STRANGER, ADMIN),
        contending=True,
    ),
    Case(
        "exchanges filter from a variable, paging both ways",
        """query Page($filter: ExchangeFilter, $first: Int, $after: String, $last: Int, $before: String) {
          exchanges(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
            totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
            edges { cursor node { slug startsOn } }
          }
        }""",
        {"filter": {"theme": "ECOLOGY"}, "first": 2, "after": encode_cursor(0)},
        actors=(ANONYMOUS, ADMIN),
    ),
    Case(
        "exchanges, last and before",
        """query Page($last: Int, $before: String) {
          exchanges(last: $last, before: $before) {
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { slug } }
          }
        }""",
        {"last": 2, "before": encode_cursor(3)},
        actors=(ANONYMOUS, ADMIN),
    ),
    Case(
        "exchange by slug through a variable, drafts by visibility",
        f"""query One($slug: String!, $draft: String! = "a-draft") {{
          exchange(slug: $slug) {{ {EXCHANGE_FIELDS} }}
          draft: exchange(slug: $draft) {{ slug status sessions {{ title speakers {{ fullName email }} }} }}
          other: exchange(slug: "b-draft") {{ slug }}
          missing: exchange(slug: "nowhere") {{ slug }}
        }}""",
        {"slug": "aral-open"},
        actors=EVERYONE,
        contending=True,
    ),
    Case(
        "seats left: limited, full, unlimited",
        """{ exchanges { edges { node { slug capacity seatsLeft participants { totalCount
             edges { node { status } } } } } } }""",
        actors=(ANONYMOUS, ADMIN),
    ),
    Case(
        "volunteers, every field, filters, a nested page size from a variable",
        f"""query Volunteers($inner: Int = 1, $after: String) {{
          volunteers {{ totalCount {PAGE_INFO} edges {{ cursor node {{
            {VOLUNTEER_FIELDS}
            participations {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {PARTICIPATION_FIELDS} }} }} }}
            firstOnly: participations(first: $inner) {{ totalCount {PAGE_INFO} edges {{ cursor node {{ id }} }} }}
            rest: participations(first: $inner, after: $after) {{ totalCount edges {{ node {{ id role }} }} }}
          }} }} }}
          kz: volunteers(country: "KZ") {{ totalCount edges {{ node {{ fullName country }} }} }}
          english: volunteers(language: "en") {{ edges {{ node {{ fullName languages }} }} }}
          aid: volunteers(skill: "FIRST AID") {{ edges {{ node {{ fullName skills }} }} }}
          paged: volunteers(first: 2, after: "{encode_cursor(0)}") {{ {PAGE_INFO} edges {{ node {{ fullName }} }} }}
        }}""",
        {"inner": 1, "after": encode_cursor(0)},
        actors=(HOST, PARTNER, STRANGER, ADMIN),
        contending=True,
    ),
    Case(
        "node: every type through inline fragments",
        f"""query Nodes($org: ID!, $exchange: ID!, $session: ID!, $participation: ID!, $volunteer: ID!,
                    $invitation: ID!, $draft: ID!, $draftSession: ID!, $missing: ID!) {{
          org: node(id: $org) {{ __typename id ... on Organisation {{ {ORGANISATION_FIELDS} }} }}
          exchange: node(id: $exchange) {{ __typename id
            ... on ExperienceExchange {{ {EXCHANGE_FIELDS} }}
            ... on Volunteer {{ fullName }} }}
          session: node(id: $session) {{ __typename ... on Session {{ {SESSION_FIELDS} }} }}
          participation: node(id: $participation) {{ __typename ... on Participation {{ {PARTICIPATION_FIELDS} }} }}
          volunteer: node(id: $volunteer) {{ __typename id
            ... on Volunteer {{ {VOLUNTEER_FIELDS}
              participations {{ totalCount edges {{ node {{ id exchange {{ slug }} }} }} }} }}
            ... on ExperienceExchange {{ slug }} }}
          invitation: node(id: $invitation) {{ __typename ... on Invitation {{ {INVITATION_FIELDS} }} }}
          draft: node(id: $draft) {{ id ... on ExperienceExchange {{ slug status }} }}
          draftSession: node(id: $draftSession) {{ id ... on Session {{ title }} }}
          missing: node(id: $missing) {{ id }}
        }}""",
        lambda w: {
            "org": w.ids["partner"],
            "exchange": w.ids["aral"],
            "session": w.ids["opening"],
            "participation": w.ids["p-aigerim"],
            "volunteer": w.ids["timur"],
            "invitation": w.ids["previewed"],
            "draft": w.ids["draft"],
            "draftSession": w.ids["draft-session"],
            "missing": w.ids["missing-exchange"],
        },
        actors=EVERYONE,
        contending=True,
    ),
    Case(
        "node: the Node interface's own field and __typename only",
        """query N($a: ID!, $b: ID!) { a: node(id: $a) { id __typename } b: node(id: $b) { __typename id } }""",
        lambda w: {"a": w.ids["anna"], "b": w.ids["dropped"]},
    ),
    Case(
        "invitation preview by token, unknown token",
        """query Preview($token: String!) {
          invitation(token: $token) {
            __typename fullName locale expiresAt message status
            exchange { id slug title titles { locale text } host { name } }
            sessions { id title startsAt cancelledAt }
            invitedBy { id slug name }
          }
          unknown: invitation(token: "not-a-token") { fullName }
        }""",
        lambda w: {"token": w.token},
        actors=(ANONYMOUS, ADMIN),
    ),
    Case(
        "webhook endpoints and deliveries",
        """query Hooks($endpoint: ID!) {
          webhookEndpoints { __typename id url description createdAt }
          webhookDeliveries(endpointId: $endpoint) {
            totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
            edges { cursor node { __typename id eventId eventType status attempts lastStatusCode lastError
              createdAt deliveredAt nextAttemptAt } }
          }
          paged: webhookDeliveries(endpointId: $endpoint, first: 1, after: "CURSOR_0") {
            pageInfo { hasNextPage hasPreviousPage } edges { node { eventId } } }
        }""".replace("CURSOR_0", encode_cursor(0)),
        lambda w: {"endpoint": w.ids["endpoint"]},
        actors=(HOST,),
        contending=True,
    ),
    Case(
        "webhook endpoints of a named organisation (admin)",
        """query Hooks($org: ID) { webhookEndpoints(organisationId: $org) { id url description } }""",
        lambda w: {"org": w.ids["host"]},
        actors=(ADMIN,),
    ),
    Case(
        "named fragments, spread twice, nested, merged fields",
        """
        fragment Host on Organisation { id slug }
        fragment HostNames on Organisation { name names { locale } }
        fragment A on ExperienceExchange { slug host { ...Host } sessions { id } }
        fragment B on ExperienceExchange { title host { ...HostNames ...Host } sessions { title speakers { id } } }
        fragment C on ExperienceExchange { ...A partners { ...Host } }
        query Fragments {
          exchanges {
            edges {
              node { ...A ...B ...C ...A slug host { parent { ...Host } } }
              again: node { ...C }
            }
          }
        }""",
        actors=(ANONYMOUS, HOST),
    ),
    Case(
        "inline fragments with and without a type condition, on the object's own type",
        """{
          exchanges(first: 3) {
            edges {
              node {
                ... on ExperienceExchange { slug }
                ... { city title }
                ... on Node { id }
                ... on Node { ... on ExperienceExchange { status } }
              }
            }
          }
        }""",
    ),
    Case(
        "__typename at every level, aliased too",
        """{
          __typename
          kind: __typename
          exchanges(first: 2) {
            __typename
            pageInfo { __typename }
            edges { __typename node { __typename t: __typename host { __typename } titles { __typename locale }
              participants(first: 1) { __typename edges { __typename node { __typename volunteer { __typename } } } }
            } }
          }
        }""",
    ),
    Case(
        "aliases: one field with different arguments, a field twice under one key",
        """{
          first: exchanges(first: 1) { edges { node { slug } } }
          second: exchanges(first: 1, after: "CURSOR_0") { edges { node { slug } } }
          exchange(slug: "aral-open") {
            en: title(locale: "en") ru: title(locale: "ru") kk: title(locale: "kk") fr: title(locale: "fr")
            title title
            host { en: name(locale: "en") ru: name(locale: "ru") }
            few: participants(first: 1) { edges { node { id } } }
            many: participants(first: 3) { edges { node { id } } }
            last: participants(last: 1) { edges { node { id } } }
          }
        }""".replace("CURSOR_0", encode_cursor(0)),
        actors=(ANONYMOUS, ADMIN),
        contending=True,
    ),
    Case(
        "title without locale follows Accept-Language",
        """{ exchanges { edges { node { title description sessions { title } host { name } } } } }""",
        headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"},
    ),
    Case(
        "@skip and @include with literals",
        """{
          exchanges(first: 3) {
            totalCount @skip(if: true)
            pageInfo @include(if: false) { hasNextPage }
            edges {
              cursor @include(if: true)
              node {
                slug @skip(if: false)
                city @skip(if: true)
                ... on ExperienceExchange @include(if: false) { theme }
                ... @skip(if: false) { status }
                host @include(if: true) { name @skip(if: true) slug }
              }
            }
          }
        }""",
    ),
    Case(
        "field merging across fragments with different sub-selections and directives",
        """
        fragment WithHost on ExperienceExchange { host { slug } sessions @include(if: $sessions) { id } }
        fragment WithHostName on ExperienceExchange { host { name slug } sessions { title } }
        query Merge($sessions: Boolean!) {
          exchanges { edges { node { ...WithHost ...WithHostName slug } } }
        }""",
        {"sessions": False},
    ),
]

# One root field each: what the contending documents above read, on SQLite too.
NODE_SELECTIONS = {
    "partner": f"... on Organisation {{ {ORGANISATION_FIELDS} }}",
    "aral": f"... on ExperienceExchange {{ {EXCHANGE_FIELDS} }} ... on Volunteer {{ fullName }}",
    "opening": f"... on Session {{ {SESSION_FIELDS} }}",
    "p-aigerim": f"... on Participation {{ {PARTICIPATION_FIELDS} }}",
    "timur": f"""... on Volunteer {{ {VOLUNTEER_FIELDS}
        participations {{ totalCount edges {{ node {{ id exchange {{ slug }} }} }} }} }}
        ... on ExperienceExchange {{ slug }}""",
    # Hidden from the public (no public profile, takes part in a draft): null for most callers.
    "loner": f"... on Volunteer {{ {VOLUNTEER_FIELDS} participations {{ totalCount }} }}",
    "previewed": f"... on Invitation {{ {INVITATION_FIELDS} }}",
    "draft": "... on ExperienceExchange { slug status }",
    "draft-session": "... on Session { title }",
    "draft-invitation": "... on Invitation { email status exchange { slug } }",
    "missing-exchange": "... on ExperienceExchange { slug }",
}
HAPPY.extend(
    Case(
        f"node: {name}",
        f"query($id: ID!) {{ node(id: $id) {{ __typename id {selection} }} }}",
        lambda w, name=name: {"id": w.ids[name]},  # type: ignore[misc]
        actors=EVERYONE,
    )
    for name, selection in NODE_SELECTIONS.items()
)
HAPPY.extend(
    [
        Case(
            "exchange by slug, every field",
            f"""query($slug: String!) {{ exchange(slug: $slug) {{ {EXCHANGE_FIELDS} }} }}""",
            {"slug": "aral-open"},
            actors=EVERYONE,
        ),
        Case(
            "a draft by slug",
            """query($slug: String! = "a-draft") { exchange(slug: $slug) { slug status
                sessions { title speakers { fullName email } } } }""",
            actors=EVERYONE,
        ),
        Case(
            "volunteers, every field, one root field",
            f"""query($inner: Int = 1, $after: String) {{
              volunteers(first: 10) {{ totalCount {PAGE_INFO} edges {{ cursor node {{
                {VOLUNTEER_FIELDS}
                participations {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {PARTICIPATION_FIELDS} }} }} }}
                firstOnly: participations(first: $inner) {{ totalCount edges {{ cursor node {{ id }} }} }}
                rest: participations(first: $inner, after: $after) {{ totalCount edges {{ node {{ id role }} }} }}
              }} }} }}
            }}""",
            {"after": encode_cursor(0)},
            actors=(HOST, PARTNER, STRANGER, ADMIN),
        ),
        Case(
            "volunteers filtered by skill",
            """{ volunteers(skill: "FIRST AID") { edges { node { fullName skills email } } } }""",
            actors=(HOST, ADMIN),
        ),
        Case(
            "exchanges searched in another script",
            """{ exchanges(filter: {search: "АРАЛЬСКОЕ"}) { edges { node { slug ru: title(locale: "ru") } } } }""",
        ),
        Case(
            "webhook deliveries",
            """query Hooks($endpoint: ID!) {
              webhookDeliveries(endpointId: $endpoint) {
                totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
                edges { cursor node { __typename id eventId eventType status attempts lastStatusCode lastError
                  createdAt deliveredAt nextAttemptAt } }
              }
            }""",
            lambda w: {"endpoint": w.ids["endpoint"]},
            actors=(HOST,),
        ),
        Case(
            "webhook endpoints",
            """{ webhookEndpoints { __typename id url description createdAt } }""",
            actors=(HOST, STRANGER),
        ),
    ]
)

# @skip/@include from variables: every combination of two switches, one of them in a fragment.
SWITCHES = """
fragment Sessions on ExperienceExchange { sessions @include(if: $withSessions) { id title } }
query Switches($withSessions: Boolean!, $skipHost: Boolean = false, $first: Int = 2) {
  exchanges(first: $first) {
    totalCount @skip(if: $skipHost)
    edges { node { slug ...Sessions host @skip(if: $skipHost) { slug name }
      ... @include(if: $withSessions) { partners { slug } } } }
  }
}"""
HAPPY.extend(
    Case(
        f"@skip/@include from variables {with_sessions}/{skip_host}",
        SWITCHES,
        {"withSessions": with_sessions, **({} if skip_host is None else {"skipHost": skip_host})},
    )
    for with_sessions in (True, False)
    for skip_host in (True, False, None)
)


# ---------------------------------------------------------------- errors: the plan answers them too

ERRORS: list[Case] = [
    Case(
        "a bad cursor in a nested connection",
        """{ exchanges { edges { node { slug participants(after: "garbage") { totalCount } } } } }""",
        actors=(ANONYMOUS, ADMIN),
        errors_expected=True,
    ),
    Case(
        "a bad cursor from a variable in a nested connection",
        """query($after: String) { organisation(slug: "host-a") { slug
             exchanges(after: $after) { totalCount edges { node { slug } } } } }""",
        {"after": "b2Zmc2V0Oi0x"},  # "offset:-1"
        errors_expected=True,
    ),
    Case(
        "the volunteer list for callers who may not read it",
        """{ volunteers { totalCount edges { node { fullName } } } }""",
        actors=(ANONYMOUS, READ_ONLY),
        errors_expected=True,
    ),
    Case(
        "partial data: one of two nodes fails below the root",
        """query($id: ID!) {
          ok: node(id: $id) { id ... on ExperienceExchange { slug } }
          broken: node(id: $id) { id ... on ExperienceExchange { participants(after: "garbage") { totalCount } } }
        }""",
        lambda w: {"id": w.ids["aral"]},
        actors=(ANONYMOUS, ADMIN),
        errors_expected=True,
    ),
    Case(
        "an error below a nullable root field",
        """{ exchange(slug: "aral-open") { slug participants(after: "garbage") { totalCount } } }""",
        errors_expected=True,
    ),
    Case(
        "an error under a non-null field nulls its nullable parent",
        """{ exchange(slug: "aral-open") { slug participants(after: "garbage") { totalCount } }
             organisation(slug: "host-a") { slug } }""",
        errors_expected=True,
        contending=True,
    ),
    Case(
        "webhooks without an organisation key",
        """query($endpoint: ID!) { webhookEndpoints { id } webhookDeliveries(endpointId: $endpoint) { totalCount } }""",
        lambda w: {"endpoint": w.ids["endpoint"]},
        actors=(ANONYMOUS, READ_ONLY, STRANGER),
        errors_expected=True,
        contending=True,
    ),
    Case(
        "a malformed id argument",
        """{ webhookDeliveries(endpointId: "garbage") { totalCount } }""",
        actors=(HOST,),
        errors_expected=True,
    ),
    # Not a Node's id (BAD_USER_INPUT, #10 item 11; these were null and planned), alone and
    # beside a good node and a missing one (null).
    Case("node: not a global id", """{ node(id: "not a global id") { id } }""", errors_expected=True),
    Case(
        "node: an unknown type",
        f"""{{ node(id: "{encode_id("Spaceship", 1)}") {{ id }} }}""",
        errors_expected=True,
    ),
    Case(
        "node: ids that are not a Node's, with partial data",
        f"""query($exchange: ID!, $missing: ID!, $endpoint: ID!) {{
          exchange: node(id: $exchange) {{ id ... on ExperienceExchange {{ slug }} }}
          missing: node(id: $missing) {{ id }}
          garbage: node(id: "not a global id") {{ id }}
          unknownType: node(id: "{encode_id("Spaceship", 1)}") {{ id }}
          endpoint: node(id: $endpoint) {{ id }}
        }}""",
        lambda w: {
            "exchange": w.ids["aral"],
            "missing": w.ids["missing-exchange"],
            "endpoint": w.ids["endpoint"],
        },
        actors=(ANONYMOUS, ADMIN),
        errors_expected=True,
    ),
    Case(
        "an id of another type in webhookDeliveries",
        """query($exchange: ID!) { webhookDeliveries(endpointId: $exchange) { totalCount } }""",
        lambda w: {"exchange": w.ids["aral"]},
        actors=(HOST,),
        errors_expected=True,
    ),
]

# Never planned: introspection, mutations, requests refused before execution.
UNPLANNED: list[Case] = [
    Case("__schema", "{ __schema { queryType { name } mutationType { name } } }", expect=NOT_COMPILED),
    Case(
        "__type next to data",
        """{ __type(name: "Session") { name kind fields { name } } exchanges(first: 1) { totalCount } }""",
        expect=NOT_COMPILED,
    ),
    Case(
        "introspection below the root",
        """{ exchanges(first: 1) { edges { node { slug } } } __typename
             __schema { types { name } } }""",
        expect=NOT_COMPILED,
    ),
    Case(
        "a mutation",
        """mutation { createOrganisation(input: {slug: "x", names: [{locale: "en", text: "X"}], kind: NGO}) {
             organisation { id } userErrors { field message code } } }""",
        actors=(ANONYMOUS, READ_ONLY),
        expect=BYPASSED,
    ),
    Case(
        "a negative page size (refused before execution)",
        """{ exchanges(first: 2) { edges { node { slug participants(first: -1) { totalCount } } } } }""",
        expect=BYPASSED,
    ),
    Case(
        "a page size over the cap (refused before execution)",
        """{ exchanges { edges { node { slug participants(first: 1000) { totalCount } } } } }""",
        expect=BYPASSED,
    ),
]

# Several root fields, one failing while its siblings wait on the database.
PARTIAL_DATA = Case(
    "several root fields, one failing: partial data",
    """{
      exchanges(first: 2) { totalCount edges { node { slug title } } }
      volunteers { totalCount }
      organisation(slug: "host-a") { slug name }
    }""",
    errors_expected=True,
)
