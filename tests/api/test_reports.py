"""Experience reports through HTTP on SQLite and PostgreSQL: written by the host (published at
once), a partner and a participant through their invitation link (submitted), moderated by
the host or an admin, seen per role, found by search, SDG, country, theme and organisation,
their Markdown rendered sanitized, and anonymised when the participant's data is erased."""

from __future__ import annotations

import json
from typing import Any

import pytest

from exchange.models import (
    Exchange,
    ExchangeStatus,
    ExperienceReport,
    Invitation,
    InvitationStatus,
    ReportStatus,
)
from schema.api.relay import encode_id
from tests.api.exchange_fixtures import make_exchange
from tests.api.plan_corpus import PLANNED
from tests.api.plan_differ import Differ
from tests.conftest import GraphQLClient, make_key
from tests.reports_world import (
    INJECTIONS,
    MODERATE,
    REPORTS,
    ReportsWorld,
    assert_safe,
    build_world,
    report_input,
    submit,
)


@pytest.fixture
async def world(app: Any, settings: Any, admin_key: str) -> ReportsWorld:
    return await build_world(settings, admin_key)


def rid(payload: dict[str, Any]) -> str:
    report_id: str = payload["report"]["id"]
    return report_id


async def listed(gql: GraphQLClient, key: str | None = None, **filter: Any) -> list[str]:
    result = await gql(REPORTS, {"filter": filter or None}, key=key)
    assert "errors" not in result, result
    return [edge["node"]["title"] for edge in result["data"]["experienceReports"]["edges"]]


async def three_reports(gql: GraphQLClient, world: ReportsWorld) -> dict[str, str]:
    """The host's (published), the partner's and a participant's (submitted): their ids."""
    exchange = world.gid(world.completed)
    host = await submit(gql, report_input("Host notes", exchangeId=exchange), world.host_key)
    partner = await submit(gql, report_input("Partner notes", exchangeId=exchange), world.partner_key)
    participant = await submit(
        gql, report_input("Participant notes", invitationToken=world.participants[0].token)
    )
    for payload in (host, partner, participant):
        assert payload["userErrors"] == [], payload
    return {"host": rid(host), "partner": rid(partner), "participant": rid(participant)}


async def test_workflow_submit_moderate_publish(gql: GraphQLClient, world: ReportsWorld) -> None:
    exchange = world.gid(world.completed)
    host = await submit(gql, report_input("Host notes", exchangeId=exchange), world.host_key)
    assert host["report"]["status"] == "PUBLISHED"
    assert host["report"]["author"] == {
        "kind": "HOST",
        "organisation": {"slug": "aral-eco-team"},
        "volunteer": None,
    }
    partner = await submit(gql, report_input("Partner notes", exchangeId=exchange), world.partner_key)
    assert partner["report"]["status"] == "SUBMITTED"
    assert partner["report"]["author"]["kind"] == "PARTNER"
    # A participant: no key, the link's token; the invitation's exchange when none is named.
    participant = await submit(
        gql, report_input("Participant notes", invitationToken=world.participants[0].token)
    )
    assert participant["report"]["status"] == "SUBMITTED"
    assert participant["report"]["author"]["kind"] == "PARTICIPANT"

    assert await listed(gql) == ["Host notes"]
    published = await gql(
        MODERATE, {"id": rid(participant), "decision": "PUBLISH", "note": "Thank you!"}, key=world.host_key
    )
    done = published["data"]["moderateExperienceReport"]
    assert (
        done["userErrors"] == [] and done["report"]["status"] == "PUBLISHED" and done["report"]["publishedAt"]
    )
    assert done["report"]["moderationNote"] == "Thank you!"
    assert await listed(gql) == ["Participant notes", "Host notes"]  # newest first

    rejected = await gql(
        MODERATE, {"id": rid(partner), "decision": "REJECT", "note": "Names a minor."}, key=world.admin_key
    )
    assert rejected["data"]["moderateExperienceReport"]["report"]["status"] == "REJECTED"
    again = await gql(MODERATE, {"id": rid(partner), "decision": "REJECT"}, key=world.host_key)
    assert again["data"]["moderateExperienceReport"]["userErrors"] == [
        {"field": ["decision"], "message": "The report is already rejected.", "code": "INVALID"}
    ]
    # The host may take a published report down again.
    down = await gql(MODERATE, {"id": rid(participant), "decision": "REJECT"}, key=world.host_key)
    assert down["data"]["moderateExperienceReport"]["report"]["publishedAt"] is None
    assert await listed(gql) == ["Host notes"]


async def test_who_moderates(gql: GraphQLClient, world: ReportsWorld) -> None:
    ids = await three_reports(gql, world)
    for key, code in (
        (world.partner_key, "FORBIDDEN"),
        (world.read_only_key, "FORBIDDEN"),
        ("", "UNAUTHENTICATED"),
    ):
        result = await gql(MODERATE, {"id": ids["partner"], "decision": "PUBLISH"}, key=key)
        assert result["errors"][0]["extensions"]["code"] == code
    # An organisation that cannot see a submitted report is told it does not exist.
    hidden = await gql(MODERATE, {"id": ids["partner"], "decision": "PUBLISH"}, key=world.other_key)
    assert hidden["data"]["moderateExperienceReport"]["userErrors"][0]["code"] == "NOT_FOUND"
    assert (await ExperienceReport.get(author_kind="PARTNER")).status is ReportStatus.SUBMITTED
    note = await gql(
        MODERATE, {"id": ids["partner"], "decision": "PUBLISH", "note": "x" * 1001}, key=world.host_key
    )
    assert note["data"]["moderateExperienceReport"]["userErrors"][0]["field"] == ["note"]


async def test_visibility_per_role(gql: GraphQLClient, world: ReportsWorld) -> None:
    await three_reports(gql, world)
    everything = ["Participant notes", "Partner notes", "Host notes"]
    assert await listed(gql) == ["Host notes"]
    assert await listed(gql, world.read_only_key) == ["Host notes"]
    assert await listed(gql, world.other_key) == ["Host notes"]
    assert await listed(gql, world.host_key) == everything
    assert await listed(gql, world.partner_key) == everything
    assert await listed(gql, world.admin_key) == everything
    assert await listed(gql, world.host_key, status="SUBMITTED") == ["Participant notes", "Partner notes"]
    assert await listed(gql, None, status="SUBMITTED") == []
    # node(id:) follows the same rule: a hidden report reads like an unknown id.
    partner_report = encode_id("ExperienceReport", (await ExperienceReport.get(author_kind="PARTNER")).id)
    query = "query($id: ID!) { node(id: $id) { ... on ExperienceReport { title status } } }"
    assert (await gql(query, {"id": partner_report}))["data"]["node"] is None
    assert (await gql(query, {"id": partner_report}, key=world.other_key))["data"]["node"] is None
    assert (await gql(query, {"id": partner_report}, key=world.partner_key))["data"]["node"][
        "status"
    ] == "SUBMITTED"
    # A published report on a draft is seen only by those who see the draft.
    draft = await make_exchange(
        "draft-week", world.host, status=ExchangeStatus.DRAFT, starts_on=world.completed.starts_on
    )
    await submit(gql, report_input("Draft notes", exchangeId=world.gid(draft)), world.host_key)
    assert "Draft notes" not in await listed(gql)
    assert "Draft notes" in await listed(gql, world.host_key)


async def test_the_author_is_named_per_the_people_rule(gql: GraphQLClient, world: ReportsWorld) -> None:
    private, public = world.participants
    for person in (private, public):
        payload = await submit(
            gql, report_input(f"By {person.volunteer.full_name}", invitationToken=person.token)
        )
        await gql(MODERATE, {"id": rid(payload), "decision": "PUBLISH"}, key=world.host_key)
    query = "{ experienceReports { edges { node { title author { kind organisation { slug } volunteer { fullName } } } } } }"

    def authors(result: dict[str, Any]) -> dict[str, Any]:
        return {e["node"]["title"]: e["node"]["author"] for e in result["data"]["experienceReports"]["edges"]}

    anonymous = authors(await gql(query))
    # No public profile: the volunteer is not named; the sending organisation is (none here).
    assert anonymous["By Айгерім Сейітова"] == {
        "kind": "PARTICIPANT",
        "organisation": None,
        "volunteer": None,
    }
    assert anonymous["By Diego Ruiz"] == {
        "kind": "PARTICIPANT",
        "organisation": {"slug": "elsewhere"},
        "volunteer": {"fullName": "Diego Ruiz"},
    }
    # The exchange's host sees its participants.
    host = authors(await gql(query, key=world.host_key))
    assert host["By Айгерім Сейітова"]["volunteer"] == {"fullName": "Айгерім Сейітова"}


async def test_a_participant_writes_through_their_link_once(gql: GraphQLClient, world: ReportsWorld) -> None:
    token = world.participants[0].token
    first = await submit(gql, report_input(invitationToken=token))
    assert first["userErrors"] == []
    second = await submit(gql, report_input(invitationToken=token))
    assert second["userErrors"] == [
        {
            "field": ["invitationToken"],
            "message": "A report was already written through this invitation link.",
            "code": "CONFLICT",
        }
    ]
    unknown = await submit(gql, report_input(invitationToken="x" * 43))
    assert unknown["userErrors"][0]["code"] == "NOT_FOUND"
    assert world.unanswered is not None
    unanswered = await submit(gql, report_input(invitationToken=world.unanswered.token))
    assert unanswered["userErrors"][0]["code"] == "INVALID"
    assert "holds no place" in unanswered["userErrors"][0]["message"]
    other_exchange = await submit(
        gql, report_input(invitationToken=world.participants[1].token, exchangeId=world.gid(world.running))
    )
    assert other_exchange["userErrors"] == [
        {"field": ["exchangeId"], "message": "This invitation is to another exchange.", "code": "INVALID"}
    ]
    await Invitation.filter(id=world.participants[1].invitation.id).update(status=InvitationStatus.REVOKED)
    revoked = await submit(gql, report_input(invitationToken=world.participants[1].token))
    assert revoked["userErrors"][0]["code"] == "REVOKED"
    assert await ExperienceReport.all().count() == 1


async def test_only_a_completed_exchange_takes_reports(gql: GraphQLClient, world: ReportsWorld) -> None:
    running = await submit(gql, report_input(exchangeId=world.gid(world.running)), world.host_key)
    [error] = running["userErrors"]
    assert error["field"] == ["exchangeId"] and error["code"] == "INVALID"
    assert error["message"].startswith("Reports are written once the exchange is completed: it ends ")
    assert "(Asia/Aqtau)" in error["message"]
    # COMPLETED by status counts even before the end; CANCELLED never does.
    await Exchange.filter(id=world.running.id).update(status=ExchangeStatus.COMPLETED)
    assert (await submit(gql, report_input(exchangeId=world.gid(world.running)), world.host_key))[
        "userErrors"
    ] == []
    await Exchange.filter(id=world.completed.id).update(status=ExchangeStatus.CANCELLED)
    cancelled = await submit(gql, report_input(exchangeId=world.gid(world.completed)), world.host_key)
    assert cancelled["userErrors"][0]["message"] == "A cancelled exchange takes no reports."


async def test_who_writes_with_a_key(gql: GraphQLClient, world: ReportsWorld) -> None:
    exchange = world.gid(world.completed)
    for key, code in (
        (world.other_key, "FORBIDDEN"),
        (world.admin_key, "FORBIDDEN"),
        (world.read_only_key, "FORBIDDEN"),
    ):
        result = await gql(
            "mutation($input: SubmitExperienceReportInput!) { submitExperienceReport(input: $input) { report { id } } }",
            {"input": report_input(exchangeId=exchange)},
            key=key,
        )
        assert result["errors"][0]["extensions"]["code"] == code
    missing = await submit(gql, report_input(), world.host_key)
    assert missing["userErrors"][0]["field"] == ["exchangeId"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"titles": []}, ["titles"]),
        ({"bodies": [{"locale": "en", "text": "x" * 20_001}]}, ["bodies", "0", "text"]),
        ({"whatWorked": [{"locale": "en", "text": "x" * 5_001}]}, ["whatWorked", "0", "text"]),
        ({"photos": ["http://example.org/a.jpg"]}, ["photos", "0"]),
        ({"photos": ["https://example.org/a.jpg", "javascript:alert(1)"]}, ["photos", "1"]),
        ({"photos": ["https://user:pw@example.org/a.jpg"]}, ["photos", "0"]),
        ({"photos": ["https://example.org/" + "a" * 500]}, ["photos", "0"]),
        ({"photos": [f"https://example.org/{i}.jpg" for i in range(11)]}, ["photos"]),
    ],
)
async def test_input_is_checked(
    gql: GraphQLClient, world: ReportsWorld, extra: dict[str, Any], field: list[str]
) -> None:
    payload = await submit(
        gql, {**report_input(exchangeId=world.gid(world.completed)), **extra}, world.host_key
    )
    assert payload["report"] is None
    assert payload["userErrors"][0]["field"] == field
    assert not await ExperienceReport.exists()


async def test_lessons_photos_and_outcomes_are_read_back(gql: GraphQLClient, world: ReportsWorld) -> None:
    payload = await submit(
        gql,
        report_input(
            exchangeId=world.gid(world.completed),
            titles=[{"locale": "kk", "text": "Сексеуіл"}, {"locale": "en", "text": "Saxaul"}],
            bodies=[
                {"locale": "kk", "text": "Біз *сексеуіл* ектік."},
                {"locale": "en", "text": "We planted *saxaul*."},
            ],
            whatWorked=[{"locale": "en", "text": "- early starts\n- water trucks"}],
            whatToChange=[{"locale": "en", "text": "More shade."}],
            photos=["https://photos.example.org/aral/1.jpg", "https://photos.example.org/aral/1.jpg"],
        ),
        world.host_key,
    )
    await gql(
        "mutation($id: ID!) { recordOutcomes(exchangeId: $id, outcomes: [{metric: TREES_PLANTED, value: 500}]) { userErrors { code } } }",
        {"id": world.gid(world.completed)},
        key=world.host_key,
    )
    query = """query($id: ID!, $locale: LanguageCode) { node(id: $id) { ... on ExperienceReport {
      title(locale: $locale) body(locale: $locale) bodyHtml(locale: $locale) whatWorkedHtml whatToChange
      photos exchange { slug sdgs } outcomes { metric value } titles { locale } } } }"""
    kk = (await gql(query, {"id": rid(payload), "locale": "kk"}))["data"]["node"]
    assert kk["title"] == "Сексеуіл" and kk["body"] == "Біз *сексеуіл* ектік."
    assert kk["bodyHtml"] == "<p>Біз <em>сексеуіл</em> ектік.</p>\n"
    assert kk["whatWorkedHtml"] == "<ul>\n<li>early starts</li>\n<li>water trucks</li>\n</ul>\n"
    assert kk["whatToChange"] == "More shade."
    assert kk["photos"] == ["https://photos.example.org/aral/1.jpg"]  # repeats merged
    assert kk["exchange"] == {"slug": "aral-week-2025", "sdgs": [13, 15]}
    assert kk["outcomes"] == [{"metric": "TREES_PLANTED", "value": 500.0}]
    assert [t["locale"] for t in kk["titles"]] == ["kk", "en"]
    en = (await gql(query, {"id": rid(payload), "locale": "en"}))["data"]["node"]
    assert en["title"] == "Saxaul" and en["bodyHtml"] == "<p>We planted <em>saxaul</em>.</p>\n"


# ---------------------------------------------------------------- Markdown injection


async def test_markdown_injection_comes_back_sanitized(gql: GraphQLClient, world: ReportsWorld) -> None:
    body = "\n\n".join(INJECTIONS)
    payload = await submit(
        gql,
        report_input(
            exchangeId=world.gid(world.completed), body=body, whatWorked=[{"locale": "en", "text": body}]
        ),
        world.host_key,
    )
    query = "query($id: ID!) { node(id: $id) { ... on ExperienceReport { body bodyHtml whatWorkedHtml } } }"
    node = (await gql(query, {"id": rid(payload)}))["data"]["node"]
    assert node["body"] == body  # stored and returned as written
    for rendered in (node["bodyHtml"], node["whatWorkedHtml"]):
        assert_safe(rendered)
        assert "&lt;script&gt;" in rendered  # shown as text, not dropped silently
    assert '<a href="https://ok.example"' in node["bodyHtml"]


# ---------------------------------------------------------------- search


async def _searchable(gql: GraphQLClient, world: ReportsWorld) -> None:
    other_host_exchange = await make_exchange(
        "fergana-health",
        world.other,
        country="UZ",
        sdgs=[3],
        starts_on=world.completed.starts_on,
        status=ExchangeStatus.COMPLETED,
        theme="HEALTH",
    )
    other = await make_key(world.other)
    texts = [
        (world.host_key, world.completed, "Учёт птиц на Арале", "Считали птиц."),
        (world.host_key, world.completed, "ӘЙЕЛДЕР КЕҢЕСІ", "Ауылдағы кездесу."),
        (other, other_host_exchange, "Clinic days", "Vaccination drive in Fergana."),
    ]
    for key, exchange, title, body in texts:
        payload = await submit(
            gql, report_input(title, body, exchangeId=encode_id("ExperienceExchange", exchange.id)), key
        )
        assert payload["userErrors"] == [], payload


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"search": "учет"}, ["Учёт птиц на Арале"]),  # ё and е alike
        ({"search": "УЧЁТ ПТИЦ"}, ["Учёт птиц на Арале"]),
        ({"search": "әйелдер"}, ["ӘЙЕЛДЕР КЕҢЕСІ"]),  # Kazakh letters fold case
        ({"search": "кездесу"}, ["ӘЙЕЛДЕР КЕҢЕСІ"]),  # bodies too
        ({"search": "FERGANA"}, ["Clinic days"]),
        ({"search": "100%_"}, []),  # LIKE wildcards are text
        ({"sdgs": [3]}, ["Clinic days"]),
        ({"sdgs": [1]}, []),  # not found in [13, 15] by text
        ({"sdgs": [15, 3]}, ["Clinic days", "ӘЙЕЛДЕР КЕҢЕСІ", "Учёт птиц на Арале"]),
        ({"country": "UZ"}, ["Clinic days"]),
        ({"country": "KZ", "search": "птиц"}, ["Учёт птиц на Арале"]),
        ({"theme": "HEALTH"}, ["Clinic days"]),
        ({"theme": "ECOLOGY", "sdgs": [3]}, []),
    ],
)
async def test_search_and_filters(
    gql: GraphQLClient, world: ReportsWorld, filter: dict[str, Any], expected: list[str]
) -> None:
    await _searchable(gql, world)
    assert await listed(gql, **filter) == expected


async def test_filter_by_organisation_and_exchange_and_pages(gql: GraphQLClient, world: ReportsWorld) -> None:
    await _searchable(gql, world)
    by_partner = await listed(gql, organisationId=encode_id("Organisation", world.partner.id))
    assert by_partner == ["ӘЙЕЛДЕР КЕҢЕСІ", "Учёт птиц на Арале"]  # co-organised exchanges count
    by_other = await listed(gql, organisationId=encode_id("Organisation", world.other.id))
    assert by_other == ["Clinic days"]
    assert await listed(gql, exchangeId=world.gid(world.completed)) == by_partner
    first = await gql(REPORTS, {"first": 2})
    page = first["data"]["experienceReports"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    rest = await gql(REPORTS, {"first": 2, "after": page["pageInfo"]["endCursor"]})
    assert [e["node"]["title"] for e in rest["data"]["experienceReports"]["edges"]] == ["Учёт птиц на Арале"]
    bad = await gql(REPORTS, {"filter": {"sdgs": [18]}})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    wrong_id = await gql(REPORTS, {"filter": {"organisationId": world.gid(world.completed)}})
    assert wrong_id["errors"][0]["extensions"]["field"] == ["filter", "organisationId"]


# ---------------------------------------------------------------- erasure


async def test_erasure_anonymises_the_participants_report(gql: GraphQLClient, world: ReportsWorld) -> None:
    person = world.participants[0]
    payload = await submit(
        gql,
        report_input(
            "Айгерім Сейітова at the Aral",
            f"Write to {person.volunteer.email} or ask for айгерім сейітова.",
            invitationToken=person.token,
            photos=["https://photos.example.org/me.jpg"],
        ),
    )
    await gql(MODERATE, {"id": rid(payload), "decision": "PUBLISH"}, key=world.host_key)
    erased = await gql(
        "mutation($email: String!) { eraseVolunteer(email: $email) { userErrors { code } } }",
        {"email": person.volunteer.email},
        key=world.admin_key,
    )
    assert "errors" not in erased, erased
    report = await ExperienceReport.get()
    assert report.author_volunteer_id is None and report.author_invitation_id is None
    assert report.photos == []
    assert report.status is ReportStatus.PUBLISHED  # what it teaches stays
    assert report.titles == {"en": "[…] at the Aral"}
    assert report.bodies == {"en": "Write to […] or ask for […]."}
    assert "айгерім" not in report.search_text
    query = "{ experienceReports { edges { node { title author { kind volunteer { fullName } } } } } }"
    node = (await gql(query, key=world.admin_key))["data"]["experienceReports"]["edges"][0]["node"]
    assert node == {"title": "[…] at the Aral", "author": {"kind": "PARTICIPANT", "volunteer": None}}


async def test_export_lists_the_persons_reports(gql: GraphQLClient, world: ReportsWorld) -> None:
    person = world.participants[1]
    await submit(gql, report_input("Diego's week", invitationToken=person.token))
    result = await gql(
        "mutation($email: String!) { exportVolunteerData(email: $email) { data } }",
        {"email": person.volunteer.email},
        key=world.admin_key,
    )
    data = result["data"]["exportVolunteerData"]["data"]
    document = json.loads(data) if isinstance(data, str) else data
    [report] = document["experienceReports"]
    assert report["titles"] == {"en": "Diego's week"} and report["status"] == "SUBMITTED"


# ---------------------------------------------------------------- compiled execution

PLANNED_DOCUMENT = """{
  experienceReports(first: 10) { totalCount edges { cursor node {
    id status title titles { locale text } body bodyHtml bodies { locale } whatWorked whatWorkedHtml
    whatToChange whatToChangeHtml photos submittedAt publishedAt moderatedAt moderationNote
    exchange { slug sdgs outcomes { metric value unit label labels { locale text } recordedAt } }
    outcomes { metric label(locale: "kk") }
    author { kind organisation { slug name } volunteer { fullName } }
  } } }
  exchanges(filter: {sdgs: [13]}) { edges { node { slug sdgs outcomes { metric unit } } } }
}"""


async def test_the_compiled_plan_answers_as_graphql_core(
    gql: GraphQLClient, settings: Any, world: ReportsWorld
) -> None:
    await three_reports(gql, world)
    await gql(
        "mutation($id: ID!) { recordOutcomes(exchangeId: $id, outcomes: [{metric: PEOPLE_REACHED, value: 40}, "
        '{metric: CUSTOM, value: 3, label: [{locale: "ru", text: "Берег"}]}]) { userErrors { code } } }',
        {"id": world.gid(world.completed)},
        key=world.host_key,
    )
    differ = Differ(gql, settings)
    for key in (None, world.other_key, world.host_key, world.admin_key):
        compiled, canonical = await differ.both(PLANNED_DOCUMENT, None, key)
        assert "errors" not in canonical.body, canonical.body
        assert compiled.text == canonical.text
        assert compiled.stats[PLANNED] == 1, compiled.stats
