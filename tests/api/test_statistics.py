"""Impact statistics (exchange.statistics) through GraphQL on SQLite and PostgreSQL: every figure
equals a value computed by hand from the fixture below, per exchange, per organisation and
platform-wide, for each kind of caller: anonymous and read-only callers get published
exchanges only with small buckets merged, hosts and partners their own exchanges in full,
admins everything."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from exchange.models import (
    ApiKeyRole,
    ExchangeOutcome,
    ExchangeStatus,
    InvitationStatus,
    OutcomeMetric,
    ParticipationRole,
    ParticipationStatus,
    Theme,
)
from tests.api.exchange_fixtures import invite, make_exchange, make_volunteer, take_part
from tests.conftest import GraphQLClient, make_key, make_organisation

P, M, C, S = (
    ParticipationRole.PARTICIPANT,
    ParticipationRole.MENTOR,
    ParticipationRole.COORDINATOR,
    ParticipationRole.SPEAKER,
)
ATT, CONF, NO, WD = (
    ParticipationStatus.ATTENDED,
    ParticipationStatus.CONFIRMED,
    ParticipationStatus.NO_SHOW,
    ParticipationStatus.WITHDRAWN,
)

# (country, role, status, hours) per participation, one volunteer each.
PEOPLE: dict[str, list[tuple[str, ParticipationRole, ParticipationStatus, float | None]]] = {
    # Hosted by A, co-organised by P; published.
    "aral": [
        ("KZ", P, ATT, 6.0),
        ("KZ", P, ATT, 4.5),
        ("KZ", P, CONF, None),
        ("KZ", M, ATT, 8.0),
        ("UZ", P, ATT, 3.5),
        ("UZ", P, CONF, None),
        ("RU", C, ATT, 2.0),
        ("TJ", P, NO, None),  # a no-show still holds a place
        ("KZ", P, WD, None),  # withdrawn: not counted
    ],
    # Hosted by A alone; published.
    "forum": [("KZ", P, ATT, 10.0), ("KZ", P, ATT, 5.0), ("KG", S, CONF, None)],
    # A's draft, co-organised by P.
    "draft": [("KZ", P, CONF, None)] * 3,
    # Hosted by B; published.
    "b-camp": [("KZ", P, ATT, 7.0), ("KG", P, ATT, 1.0), ("KG", P, ATT, 1.0), ("KG", P, ATT, 1.0)],
    "b-old": [("UZ", P, ATT, 2.0)],
}
# Invitations: (status, expires) per exchange; a SENT one past its expiry reads as EXPIRED.
LATER, EARLIER = dt.datetime(2030, 1, 1, tzinfo=dt.UTC), dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
INVITATIONS = {
    "aral": [(InvitationStatus.ACCEPTED, LATER)] * 5
    + [(InvitationStatus.DECLINED, LATER), (InvitationStatus.SENT, EARLIER)]
    + [(InvitationStatus.SENT, LATER)] * 2,
    "forum": [(InvitationStatus.ACCEPTED, LATER)],
    "b-camp": [(InvitationStatus.DECLINED, LATER)] * 3,
}

# Outcomes: (metric, value, unit) per exchange; CUSTOM ones are added up per unit.
TREES, WASTE, REACHED, CUSTOM = (
    OutcomeMetric.TREES_PLANTED,
    OutcomeMetric.WASTE_COLLECTED_KG,
    OutcomeMetric.PEOPLE_REACHED,
    OutcomeMetric.CUSTOM,
)
OUTCOMES = {
    "aral": [(TREES, 1200.0, None), (WASTE, 350.5, None), (CUSTOM, 3.0, "seminars")],
    "forum": [(REACHED, 500.0, None), (CUSTOM, 2.0, "seminars")],
    "draft": [(TREES, 50.0, None)],
    "b-camp": [(TREES, 300.0, None)],
}
SDGS = {"aral": [13, 15], "forum": [4], "b-camp": [15]}

FIGURES = """
fragment Figures on ImpactStatistics {
  exchangeCount participantCount volunteerHours distinctCountries
  participantsByCountry { country count } participantsByRole { role count }
  invitationsByStatus { status count } exchangesByTheme { theme count } exchangesByCountry { country count }
  outcomeTotals { metric unit total exchangeCount label(locale: "kk") }
}"""
PLATFORM = "query($f: StatisticsFilter) { impactStatistics(filter: $f) { ...Figures } }" + FIGURES
EXCHANGE = "query($s: String!) { exchange(slug: $s) { statistics { ...Figures } } }" + FIGURES
ORGANISATION = (
    "query($s: String!, $f: StatisticsFilter) { organisation(slug: $s) { statistics(filter: $f) { ...Figures } } }"
    + FIGURES
)


@dataclass
class World:
    keys: dict[str, str | None]


@pytest.fixture
async def world(admin_key: str) -> World:
    host = await make_organisation("org-a")
    partner = await make_organisation("org-p")
    stranger = await make_organisation("org-b")
    exchanges = {
        "aral": await make_exchange(
            "aral", host, partners=[partner], status=ExchangeStatus.COMPLETED, starts_on=dt.date(2027, 5, 10)
        ),
        "forum": await make_exchange(
            "forum", host, theme=Theme.EDUCATION, country="UZ", starts_on=dt.date(2027, 6, 1)
        ),
        "draft": await make_exchange(
            "draft", host, partners=[partner], status=ExchangeStatus.DRAFT, starts_on=dt.date(2027, 7, 1)
        ),
        "b-camp": await make_exchange("b-camp", stranger, country="KG", starts_on=dt.date(2027, 8, 1)),
        "b-old": await make_exchange(
            "b-old", stranger, theme=Theme.HEALTH, status=ExchangeStatus.CLOSED, starts_on=dt.date(2026, 3, 1)
        ),
    }
    for slug, people in PEOPLE.items():
        for index, (country, role, status, hours) in enumerate(people):
            volunteer = await make_volunteer(f"{slug} {index}", country=country)
            participation = await take_part(volunteer, exchanges[slug], status=status, role=role)
            if hours is not None:
                participation.hours = hours
                await participation.save(update_fields=["hours"])
    for slug, outcomes in OUTCOMES.items():
        for position, (metric, value, unit) in enumerate(outcomes):
            await ExchangeOutcome.create(
                exchange=exchanges[slug],
                position=position,
                metric=metric,
                value=value,
                unit=unit,
                labels={"en": "Seminars held"} if metric is CUSTOM else {},
                recorded_at=dt.datetime(2027, 5, 12, tzinfo=dt.UTC),
            )
    for slug, goals in SDGS.items():
        exchanges[slug].sdgs = goals
        await exchanges[slug].save(update_fields=["sdgs"])
    for slug, invitations in INVITATIONS.items():
        for index, (status, expires) in enumerate(invitations):
            await invite(exchanges[slug], f"{slug}-{index}@example.org", status=status, expires_at=expires)
    return World(
        {
            "anonymous": None,
            "read_only": await make_key(host, ApiKeyRole.READ_ONLY),  # A's, yet public figures only
            "host": await make_key(host),
            "partner": await make_key(partner),
            "stranger": await make_key(stranger),
            "admin": admin_key,
        }
    )


def figures(
    exchanges: int,
    participants: int,
    hours: float,
    countries: int,
    by_country: list[tuple[str | None, int]],
    by_role: list[tuple[str | None, int]],
    by_status: list[tuple[str | None, int]],
    by_theme: list[tuple[str, int]],
    by_venue: list[tuple[str, int]],
    outcomes: list[tuple[str, str, float, int]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    """The expected answer, in the order the API promises (most first, merged entry last)."""
    return {
        "exchangeCount": exchanges,
        "participantCount": participants,
        "volunteerHours": hours,
        "distinctCountries": countries,
        "participantsByCountry": [{"country": k, "count": n} for k, n in by_country],
        "participantsByRole": [{"role": k, "count": n} for k, n in by_role],
        "invitationsByStatus": [{"status": k, "count": n} for k, n in by_status],
        "exchangesByTheme": [{"theme": k, "count": n} for k, n in by_theme],
        "exchangesByCountry": [{"country": k, "count": n} for k, n in by_venue],
        "outcomeTotals": [
            {
                "metric": metric,
                "unit": unit,
                "total": total,
                "exchangeCount": n,
                "label": KAZAKH_LABELS.get(metric),
            }
            for metric, unit, total, n in outcomes
        ],
    }


KAZAKH_LABELS = {
    "TREES_PLANTED": "Отырғызылған ағаштар",
    "WASTE_COLLECTED_KG": "Жиналған қоқыс",
    "PEOPLE_REACHED": "Қамтылған адамдар",
}


async def ask(gql: GraphQLClient, world: World, actor: str, query: str, **variables: Any) -> Any:
    result = await gql(query, variables, key=world.keys[actor])
    assert "errors" not in result, result["errors"]
    return result["data"]


# ---------------------------------------------------------------- per exchange

# Aral: 8 people hold a place (KZ 4, UZ 2, RU 1, TJ 1; the withdrawn one is not counted),
# 6 + 4.5 + 8 + 3.5 + 2 = 24 hours; invitations ACCEPTED 5, SENT 2, DECLINED 1, EXPIRED 1.
ARAL_EXACT = figures(
    1,
    8,
    24.0,
    4,
    [("KZ", 4), ("UZ", 2), ("RU", 1), ("TJ", 1)],
    [("PARTICIPANT", 6), ("COORDINATOR", 1), ("MENTOR", 1)],
    [("ACCEPTED", 5), ("SENT", 2), ("DECLINED", 1), ("EXPIRED", 1)],
    [("ECOLOGY", 1)],
    [("KZ", 1)],
    [
        ("TREES_PLANTED", "trees", 1200.0, 1),
        ("WASTE_COLLECTED_KG", "kg", 350.5, 1),
        ("CUSTOM", "seminars", 3.0, 1),
    ],
)
# The same under the small-count rule (exchanges are not people: exact). Roles: MENTOR and
# COORDINATOR (1 each) would make an "other" of 2, so PARTICIPANT, the smallest kept bucket,
# joins it: nothing is shown apart.
ARAL_MERGED = figures(
    1,
    8,
    24.0,
    4,
    [("KZ", 4), (None, 4)],
    [(None, 8)],
    [("ACCEPTED", 5), (None, 4)],
    [("ECOLOGY", 1)],
    [("KZ", 1)],
    [
        ("TREES_PLANTED", "trees", 1200.0, 1),
        ("WASTE_COLLECTED_KG", "kg", 350.5, 1),
        ("CUSTOM", "seminars", 3.0, 1),
    ],
)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", ARAL_MERGED),
        ("read_only", ARAL_MERGED),
        ("stranger", ARAL_MERGED),
        ("host", ARAL_EXACT),
        ("partner", ARAL_EXACT),
        ("admin", ARAL_EXACT),
    ],
)
async def test_an_exchange_s_statistics_are_exact_for_its_organisers_only(
    gql: GraphQLClient, world: World, actor: str, expected: dict[str, Any]
) -> None:
    data = await ask(gql, world, actor, EXCHANGE, s="aral")
    assert data["exchange"]["statistics"] == expected


async def test_a_page_of_exchanges_each_gets_its_own_figures(gql: GraphQLClient, world: World) -> None:
    data = await ask(
        gql,
        world,
        "host",
        "{ exchanges { edges { node { slug statistics { participantCount volunteerHours "
        "participantsByCountry { country count } } } } } }",
    )
    found = {edge["node"]["slug"]: edge["node"]["statistics"] for edge in data["exchanges"]["edges"]}
    assert found == {
        "b-old": {
            "participantCount": 1,
            "volunteerHours": 2.0,
            # One person in all: fewer than 3, nothing shown.
            "participantsByCountry": [],
        },
        "aral": {
            "participantCount": 8,
            "volunteerHours": 24.0,
            "participantsByCountry": [
                {"country": "KZ", "count": 4},
                {"country": "UZ", "count": 2},
                {"country": "RU", "count": 1},
                {"country": "TJ", "count": 1},
            ],
        },
        "forum": {
            "participantCount": 3,
            "volunteerHours": 15.0,
            "participantsByCountry": [{"country": "KZ", "count": 2}, {"country": "KG", "count": 1}],
        },
        "draft": {
            "participantCount": 3,
            "volunteerHours": 0.0,
            "participantsByCountry": [{"country": "KZ", "count": 3}],
        },
        # B's exchange, seen by A: KZ 1 alone would be "other", so KG 3 joins it.
        "b-camp": {
            "participantCount": 4,
            "volunteerHours": 10.0,
            "participantsByCountry": [{"country": None, "count": 4}],
        },
    }


# ---------------------------------------------------------------- platform-wide

# Published: aral, forum, b-camp, b-old. 16 people; 24 + 15 + 10 + 2 hours. Small buckets are
# merged per exchange first: countries aral KZ 4 (UZ 2, RU 1, TJ 1 merged: 4), forum (KZ 2,
# KG 1 merged: 3), b-camp KG 3 (KZ 1 merged: 1), b-old (UZ 1 merged: 1), so KZ 4, KG 3,
# other 4+3+1+1 = 9; roles aral PARTICIPANT 6 (MENTOR, COORDINATOR merged: 2), forum
# (PARTICIPANT 2, SPEAKER 1 merged: 3), b-camp PARTICIPANT 4, b-old (1 merged), so
# PARTICIPANT 6+4 = 10, other 2+3+1 = 6; invitations aral ACCEPTED 5 (SENT 2, DECLINED 1,
# EXPIRED 1 merged: 4), forum (ACCEPTED 1 merged), b-camp DECLINED 3: other 4+1 = 5.
PUBLIC = figures(
    4,
    16,
    51.0,
    5,
    [("KZ", 4), ("KG", 3), (None, 9)],
    [("PARTICIPANT", 10), (None, 6)],
    [("ACCEPTED", 5), ("DECLINED", 3), (None, 5)],
    [("ECOLOGY", 2), ("EDUCATION", 1), ("HEALTH", 1)],
    [("KZ", 2), ("KG", 1), ("UZ", 1)],
    [
        ("TREES_PLANTED", "trees", 1500.0, 2),
        ("WASTE_COLLECTED_KG", "kg", 350.5, 1),
        ("PEOPLE_REACHED", "people", 500.0, 1),
        ("CUSTOM", "seminars", 5.0, 2),
    ],
)
# Everything, exact: the draft adds 3 KZ participants.
EVERYTHING = figures(
    5,
    19,
    51.0,
    5,
    [("KZ", 10), ("KG", 4), ("UZ", 3), ("RU", 1), ("TJ", 1)],
    [("PARTICIPANT", 16), ("COORDINATOR", 1), ("MENTOR", 1), ("SPEAKER", 1)],
    [("ACCEPTED", 6), ("DECLINED", 4), ("SENT", 2), ("EXPIRED", 1)],
    [("ECOLOGY", 3), ("EDUCATION", 1), ("HEALTH", 1)],
    [("KZ", 3), ("KG", 1), ("UZ", 1)],
    [
        ("TREES_PLANTED", "trees", 1550.0, 3),
        ("WASTE_COLLECTED_KG", "kg", 350.5, 1),
        ("PEOPLE_REACHED", "people", 500.0, 1),
        ("CUSTOM", "seminars", 5.0, 2),
    ],
)
# A: aral, forum and the draft exact (KZ 4+2+3, UZ 2, RU, TJ, KG 1; PARTICIPANT 6+2+3,
# MENTOR, COORDINATOR, SPEAKER); B's two merged apart, so A's own figures never un-merge B's:
# countries b-camp KG 3 (KZ 1 merged), b-old (UZ 1 merged): an "other" of 2, so KG 3 joins
# it (5); roles b-camp PARTICIPANT 4, b-old (PARTICIPANT 1 merged): PARTICIPANT 4 joins the
# 1 (5); invitations b-camp DECLINED 3 kept (1 + 3 with aral's exact one).
AS_HOST = figures(
    5,
    19,
    51.0,
    5,
    [("KZ", 9), ("UZ", 2), ("KG", 1), ("RU", 1), ("TJ", 1), (None, 5)],
    [("PARTICIPANT", 11), ("COORDINATOR", 1), ("MENTOR", 1), ("SPEAKER", 1), (None, 5)],
    [("ACCEPTED", 6), ("DECLINED", 4), ("SENT", 2), ("EXPIRED", 1)],
    [("ECOLOGY", 3), ("EDUCATION", 1), ("HEALTH", 1)],
    [("KZ", 3), ("KG", 1), ("UZ", 1)],
    [
        ("TREES_PLANTED", "trees", 1550.0, 3),
        ("WASTE_COLLECTED_KG", "kg", 350.5, 1),
        ("PEOPLE_REACHED", "people", 500.0, 1),
        ("CUSTOM", "seminars", 5.0, 2),
    ],
)
# P: aral and the draft exact (KZ 4+3, UZ 2, RU, TJ; PARTICIPANT 6+3, MENTOR, COORDINATOR;
# aral's invitations); forum and B's merged per exchange, then together: countries forum
# (KZ 2, KG 1 merged: 3), b-camp KG 3 (KZ 1 merged: 1), b-old (UZ 1 merged: 1), so KG 3 and
# other 5; roles forum (PARTICIPANT 2, SPEAKER 1 merged: 3), b-camp PARTICIPANT 4, b-old (1
# merged), so PARTICIPANT 4 and other 4; invitations forum (ACCEPTED 1 merged), b-camp
# DECLINED 3: an "other" of 1, so DECLINED 3 joins it (4).
AS_PARTNER = figures(
    5,
    19,
    51.0,
    5,
    [("KZ", 7), ("KG", 3), ("UZ", 2), ("RU", 1), ("TJ", 1), (None, 5)],
    [("PARTICIPANT", 13), ("COORDINATOR", 1), ("MENTOR", 1), (None, 4)],
    [("ACCEPTED", 5), ("SENT", 2), ("DECLINED", 1), ("EXPIRED", 1), (None, 4)],
    [("ECOLOGY", 3), ("EDUCATION", 1), ("HEALTH", 1)],
    [("KZ", 3), ("KG", 1), ("UZ", 1)],
    [
        ("TREES_PLANTED", "trees", 1550.0, 3),
        ("WASTE_COLLECTED_KG", "kg", 350.5, 1),
        ("PEOPLE_REACHED", "people", 500.0, 1),
        ("CUSTOM", "seminars", 5.0, 2),
    ],
)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", PUBLIC),
        ("read_only", PUBLIC),
        ("host", AS_HOST),
        ("partner", AS_PARTNER),
        ("admin", EVERYTHING),
    ],
)
async def test_platform_statistics_by_caller(
    gql: GraphQLClient, world: World, actor: str, expected: dict[str, Any]
) -> None:
    data = await ask(gql, world, actor, PLATFORM)
    assert data["impactStatistics"] == expected


async def test_the_filter_narrows_the_exchanges_counted(gql: GraphQLClient, world: World) -> None:
    # 2027 and ECOLOGY: aral and b-camp (the draft is not public), merged per exchange first:
    # countries aral KZ 4 (UZ 2, RU 1, TJ 1 merged: 4), b-camp KG 3 (KZ 1 merged: 1), so KZ 4,
    # KG 3, other 5; roles aral PARTICIPANT 6 (MENTOR, COORDINATOR merged: 2), b-camp
    # PARTICIPANT 4: PARTICIPANT 10 joins the 2 (12); invitations aral ACCEPTED 5 (SENT 2,
    # DECLINED 1, EXPIRED 1 merged: 4), b-camp DECLINED 3.
    data = await ask(
        gql, world, "anonymous", PLATFORM, f={"from": "2027-01-01", "to": "2027-12-31", "theme": "ECOLOGY"}
    )
    assert data["impactStatistics"] == figures(
        2,
        12,
        34.0,
        5,
        [("KZ", 4), ("KG", 3), (None, 5)],
        [(None, 12)],
        [("ACCEPTED", 5), ("DECLINED", 3), (None, 4)],
        [("ECOLOGY", 2)],
        [("KG", 1), ("KZ", 1)],
        [
            ("TREES_PLANTED", "trees", 1500.0, 2),
            ("WASTE_COLLECTED_KG", "kg", 350.5, 1),
            ("CUSTOM", "seminars", 3.0, 1),
        ],
    )
    # Venue country and status; the bounds are inclusive.
    data = await ask(
        gql, world, "admin", PLATFORM, f={"country": "KZ", "from": "2026-03-01", "to": "2027-05-10"}
    )
    assert (data["impactStatistics"]["exchangeCount"], data["impactStatistics"]["volunteerHours"]) == (
        2,
        26.0,
    )
    data = await ask(gql, world, "admin", PLATFORM, f={"status": "DRAFT"})
    assert data["impactStatistics"]["participantCount"] == 3
    # A range that keeps nothing: zeros and empty lists, not nulls.
    data = await ask(gql, world, "anonymous", PLATFORM, f={"from": "2030-01-01"})
    assert data["impactStatistics"] == figures(0, 0, 0.0, 0, [], [], [], [], [])


async def test_the_sdg_filter(gql: GraphQLClient, world: World) -> None:
    # Goal 15 (life on land): aral and b-camp; goal 4 (education): forum; any of both: all three.
    for goals, expected in (
        ([15], ["aral", "b-camp"]),
        ([4], ["forum"]),
        ([4, 15], ["aral", "b-camp", "forum"]),
    ):
        data = await ask(gql, world, "anonymous", PLATFORM, f={"sdgs": goals})
        statistics = data["impactStatistics"]
        assert statistics["exchangeCount"] == len(expected), goals
        assert statistics["participantCount"] == sum(
            sum(1 for person in PEOPLE[slug] if person[2] is not WD) for slug in expected
        )
    data = await ask(gql, world, "anonymous", PLATFORM, f={"sdgs": [15]})
    assert data["impactStatistics"]["outcomeTotals"][0] == {
        "metric": "TREES_PLANTED",
        "unit": "trees",
        "total": 1500.0,
        "exchangeCount": 2,
        "label": "Отырғызылған ағаштар",
    }
    result = await gql(PLATFORM, {"f": {"sdgs": [15, 18]}})
    assert (
        result["errors"][0]["extensions"] | {"field": ["filter", "sdgs", "1"]}
        == result["errors"][0]["extensions"]
    )
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_range_that_ends_before_it_starts_is_bad_input(gql: GraphQLClient, world: World) -> None:
    result = await gql(PLATFORM, {"f": {"from": "2027-02-01", "to": "2027-01-01"}})
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == ["filter", "to"]
    assert "before it starts" in error["message"]
    result = await gql(ORGANISATION, {"s": "org-a", "f": {"from": "2027-02-01", "to": "2027-01-01"}})
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    result = await gql(PLATFORM, {"f": {"from": "1 May"}})
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_drafts_never_reach_anonymous_figures(gql: GraphQLClient, world: World) -> None:
    for actor in ("anonymous", "read_only", "stranger"):
        data = await ask(gql, world, actor, PLATFORM, f={"status": "DRAFT"})
        assert data["impactStatistics"] == figures(0, 0, 0.0, 0, [], [], [], [], []), actor
    draft = await ask(gql, world, "anonymous", EXCHANGE, s="draft")
    assert draft["exchange"] is None


async def test_an_invalid_key_is_refused_even_for_public_figures(gql: GraphQLClient, world: World) -> None:
    result = await gql(PLATFORM, {}, key="vx_made-up")
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# ---------------------------------------------------------------- per organisation


async def test_an_organisation_s_statistics(gql: GraphQLClient, world: World) -> None:
    # A hosts aral, forum and the draft. Anonymous: aral and forum, merged per exchange:
    # countries aral KZ 4 (4 merged), forum (KZ 2, KG 1 merged: 3), so KZ 4, other 7; roles
    # aral PARTICIPANT 6 (2 merged), forum (3 merged), so other 5; invitations aral ACCEPTED 5
    # (4 merged), forum (ACCEPTED 1 merged), so other 5.
    anonymous = await ask(gql, world, "anonymous", ORGANISATION, s="org-a")
    assert anonymous["organisation"]["statistics"] == figures(
        2,
        11,
        39.0,
        5,
        [("KZ", 4), (None, 7)],
        [("PARTICIPANT", 6), (None, 5)],
        [("ACCEPTED", 5), (None, 5)],
        [("ECOLOGY", 1), ("EDUCATION", 1)],
        [("KZ", 1), ("UZ", 1)],
        [
            ("TREES_PLANTED", "trees", 1200.0, 1),
            ("WASTE_COLLECTED_KG", "kg", 350.5, 1),
            ("PEOPLE_REACHED", "people", 500.0, 1),
            ("CUSTOM", "seminars", 5.0, 2),
        ],
    )
    # A itself: all three, exact.
    own = await ask(gql, world, "host", ORGANISATION, s="org-a")
    assert own["organisation"]["statistics"]["participantsByCountry"] == [
        {"country": "KZ", "count": 9},
        {"country": "UZ", "count": 2},
        {"country": "KG", "count": 1},
        {"country": "RU", "count": 1},
        {"country": "TJ", "count": 1},
    ]
    assert own["organisation"]["statistics"]["exchangeCount"] == 3
    # P co-organises aral and the draft: exact for P, aral alone and merged for B.
    partner = await ask(gql, world, "partner", ORGANISATION, s="org-p")
    assert partner["organisation"]["statistics"]["participantsByCountry"] == [
        {"country": "KZ", "count": 7},
        {"country": "UZ", "count": 2},
        {"country": "RU", "count": 1},
        {"country": "TJ", "count": 1},
    ]
    seen_by_b = await ask(gql, world, "stranger", ORGANISATION, s="org-p")
    assert seen_by_b["organisation"]["statistics"] == ARAL_MERGED
    # The filter applies within the organisation's exchanges.
    filtered = await ask(gql, world, "stranger", ORGANISATION, s="org-b", f={"from": "2027-01-01"})
    assert filtered["organisation"]["statistics"]["participantsByCountry"] == [
        {"country": "KG", "count": 3},
        {"country": "KZ", "count": 1},
    ]


# ---------------------------------------------------------------- no filter isolates a person


async def test_differencing_two_filters_reveals_no_one_s_country(gql: GraphQLClient) -> None:
    # Merged over the sum only, March gave DE 6, KZ 5 and 1–5 March DE 5, KZ 5: lone-one's only
    # participant was German. Merged per exchange first, lone-one's DE 1 is an "other" of 1
    # in March, which DE 5 (the smallest kept, before KZ by name) joins.
    host = await make_organisation("org-a")
    big = await make_exchange("big-one", host, starts_on=dt.date(2026, 3, 1))
    lone = await make_exchange("lone-one", host, starts_on=dt.date(2026, 3, 10))
    for index, country in enumerate(["KZ"] * 5 + ["DE"] * 5):
        await take_part(await make_volunteer(f"big {index}", country=country), big)
    loner = await make_volunteer("lone", country="DE")
    await take_part(loner, lone)
    query = "query($f: StatisticsFilter) { impactStatistics(filter: $f) { participantsByCountry { country count } } }"
    march, early_march = (
        {"from": "2026-03-01", "to": "2026-03-31"},
        {"from": "2026-03-01", "to": "2026-03-05"},
    )

    async def by_country(criteria: dict[str, str], key: str | None = None) -> list[tuple[str | None, int]]:
        result = await gql(query, {"f": criteria}, key=key)
        assert "errors" not in result, result["errors"]
        return [
            (row["country"], row["count"])
            for row in result["data"]["impactStatistics"]["participantsByCountry"]
        ]

    assert await by_country(early_march) == [("DE", 5), ("KZ", 5)]
    assert await by_country(march) == [("KZ", 5), (None, 6)]
    # The month reads the same whichever country the lone participant comes from: the
    # difference names none.
    loner.country = "KZ"
    await loner.save(update_fields=["country"])
    assert await by_country(march) == [("KZ", 5), (None, 6)]
    # The host's own figures stay exact.
    assert await by_country(march, await make_key(host)) == [("KZ", 6), ("DE", 5)]


async def test_an_exchange_s_breakdown_by_country_is_its_participant_counts(
    gql: GraphQLClient, world: World
) -> None:
    # One exchange merged per exchange then over the sum reads as participantCountsByCountry.
    query = (
        "query($s: String!) { exchange(slug: $s) { participantCountsByCountry { country count } "
        "statistics { participantsByCountry { country count } } } }"
    )
    for actor in ("anonymous", "stranger", "host"):
        for slug in ("aral", "forum", "b-camp", "b-old"):
            exchange = (await ask(gql, world, actor, query, s=slug))["exchange"]
            assert (
                exchange["statistics"]["participantsByCountry"] == exchange["participantCountsByCountry"]
            ), (
                actor,
                slug,
            )
