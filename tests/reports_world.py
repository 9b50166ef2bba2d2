"""A small world for outcomes and experience reports (tests/api, tests/invitations, tests/perf):
a host, a partner and an unrelated organisation with keys; an exchange that is completed (it
ended months ago, status CLOSED: completed by time, exchange.schedule), one that has started
and not ended, and one in the future; participants holding a place through accepted
invitation links (their tokens), and one whose invitation is still unanswered."""

from __future__ import annotations

import datetime as dt
import html.parser
from dataclasses import dataclass, field
from typing import Any

from exchange.invitations import tokens
from exchange.models import (
    ApiKeyRole,
    Exchange,
    ExchangeStatus,
    Invitation,
    InvitationStatus,
    Organisation,
    Participation,
    ParticipationStatus,
    Session,
    SessionFormat,
    Theme,
    Volunteer,
)
from exchange.settings import Settings
from schema.api.relay import encode_id
from tests.api.exchange_fixtures import make_exchange, make_volunteer
from tests.conftest import GraphQLClient, make_key, make_organisation

SUBMIT = """
mutation($input: SubmitExperienceReportInput!) {
  submitExperienceReport(input: $input) {
    report { id status title author { kind organisation { slug } volunteer { fullName } } }
    userErrors { field message code }
  }
}
"""
MODERATE = """
mutation($id: ID!, $decision: ExperienceReportDecision!, $note: String) {
  moderateExperienceReport(id: $id, decision: $decision, note: $note) {
    report { id status publishedAt moderationNote }
    userErrors { field message code }
  }
}
"""
RECORD = """
mutation($exchangeId: ID!, $outcomes: [OutcomeInput!]!) {
  recordOutcomes(exchangeId: $exchangeId, outcomes: $outcomes) {
    exchange { slug outcomes { metric value unit label } }
    outcomes { metric value unit label labels { locale text } }
    userErrors { field message code }
  }
}
"""
REPORTS = """
query($filter: ExperienceReportFilter, $first: Int, $after: String) {
  experienceReports(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id status title exchange { slug } } }
  }
}
"""


@dataclass
class Participant:
    volunteer: Volunteer
    invitation: Invitation
    token: str


@dataclass
class ReportsWorld:
    host: Organisation
    partner: Organisation
    other: Organisation
    host_key: str
    partner_key: str
    other_key: str
    read_only_key: str
    admin_key: str
    completed: Exchange
    running: Exchange
    future: Exchange
    settings: Settings
    participants: list[Participant] = field(default_factory=list)
    unanswered: Participant | None = None

    def gid(self, exchange: Exchange) -> str:
        return encode_id("ExperienceExchange", exchange.id)


async def make_participant(
    world: ReportsWorld,
    exchange: Exchange,
    name: str,
    *,
    status: InvitationStatus = InvitationStatus.ACCEPTED,
    participation: ParticipationStatus | None = ParticipationStatus.ATTENDED,
    public_profile: bool = False,
    organisation: Organisation | None = None,
) -> Participant:
    volunteer = await make_volunteer(name, public_profile=public_profile, organisation=organisation)
    nonce = tokens.new_nonce()
    token = tokens.token_for(nonce, world.settings.signing_key)
    invitation = await Invitation.create(
        exchange=exchange,
        invited_by=world.host,
        email=volunteer.email,
        email_normalised=volunteer.email.lower(),
        full_name=name,
        country=volunteer.country,
        locale="kk",
        status=status,
        token_nonce=nonce,
        token_hash=tokens.token_hash(token),
        expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        volunteer=volunteer if status is InvitationStatus.ACCEPTED else None,
        responded_at=dt.datetime(2025, 8, 1, tzinfo=dt.UTC) if status is InvitationStatus.ACCEPTED else None,
    )
    if participation is not None and status is InvitationStatus.ACCEPTED:
        await Participation.create(volunteer=volunteer, exchange=exchange, status=participation, hours=6.0)
    return Participant(volunteer, invitation, token)


async def build_world(settings: Settings, admin_key: str) -> ReportsWorld:
    host = await make_organisation("aral-eco-team", names={"en": "Aral Eco Team", "kk": "Арал эко тобы"})
    partner = await make_organisation("un-volunteers", kind="INTERNATIONAL", country=None)
    other = await make_organisation("elsewhere", country="UZ")
    completed = await make_exchange(
        "aral-week-2025",
        host,
        partners=[partner],
        status=ExchangeStatus.CLOSED,
        titles={"en": "Aral Sea Week", "ru": "Неделя Арала", "kk": "Арал апталығы"},
        starts_on=dt.date(2025, 9, 1),
        ends_on=dt.date(2025, 9, 5),
        time_zone="Asia/Qyzylorda",
        sdgs=[13, 15],
    )
    await Session.create(
        exchange=completed,
        titles={"en": "Planting day"},
        starts_at=dt.datetime(2025, 9, 2, 3, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2025, 9, 2, 11, 0, tzinfo=dt.UTC),
        format=SessionFormat.IN_PERSON,
        venue="Dried sea bed",
    )
    today = dt.datetime.now(dt.UTC).date()
    running = await make_exchange(
        "caspian-month",
        host,
        partners=[partner],
        starts_on=today - dt.timedelta(days=3),
        ends_on=today + dt.timedelta(days=20),
        time_zone="Asia/Aqtau",
        sdgs=[14],
    )
    future = await make_exchange(
        "summit-2030",
        host,
        starts_on=dt.date(2030, 4, 10),
        ends_on=dt.date(2030, 4, 12),
        theme=Theme.EDUCATION,
        time_zone="Asia/Almaty",
    )
    world = ReportsWorld(
        host=host,
        partner=partner,
        other=other,
        host_key=await make_key(host),
        partner_key=await make_key(partner),
        other_key=await make_key(other),
        read_only_key=await make_key(host, ApiKeyRole.READ_ONLY),
        admin_key=admin_key,
        completed=completed,
        running=running,
        future=future,
        settings=settings,
    )
    world.participants = [
        await make_participant(world, completed, "Айгерім Сейітова"),
        await make_participant(world, completed, "Diego Ruiz", public_profile=True, organisation=other),
    ]
    world.unanswered = await make_participant(world, completed, "Late Larry", status=InvitationStatus.SENT)
    return world


def report_input(
    title: str = "Saxaul on the sea bed", body: str = "We planted **saxaul**.", **extra: Any
) -> dict[str, Any]:
    return {
        "titles": [{"locale": "en", "text": title}],
        "bodies": [{"locale": "en", "text": body}],
        **extra,
    }


async def submit(gql: GraphQLClient, input: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    result = await gql(SUBMIT, {"input": input}, key=key)
    assert "errors" not in result, result
    payload: dict[str, Any] = result["data"]["submitExperienceReport"]
    return payload


# Markdown written to smuggle script or markup in (exchange.markdown must neutralise each).
INJECTIONS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    '<a href="javascript:alert(1)" onclick="alert(2)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '[click](https://ok.example "x\\" onmouseover=\\"alert(1)")',
    "![x](javascript:alert(1))",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>body{display:none}</style>",
    '<form action="https://evil.example"><input name=a></form>',
    "<object data=x></object><embed src=x>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "`<script>` **bold** <b onmouseover=alert(1)>b</b>",
    "<!-- <script>alert(1)</script> -->",
    "<<script>script>alert(1)<</script>/script>",
]
SAFE_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "s",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


class _Elements(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))

    def handle_comment(self, data: str) -> None:
        self.found.append(("!--", []))


def assert_safe(rendered: str) -> None:
    parser = _Elements()
    parser.feed(rendered)
    for tag, attrs in parser.found:
        assert tag in SAFE_TAGS, (tag, rendered)
        for name, value in attrs:
            assert not name.startswith("on") and name != "style", (name, rendered)
            if name == "href":
                assert (value or "").split(":", 1)[0].lower() in {"http", "https", "mailto"}, rendered
