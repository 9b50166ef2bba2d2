"""addSession and Session reads through HTTP: time zones, validation, speakers, visibility."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from exchange.models import ApiKeyRole, Exchange, ExchangeStatus, Session
from exchange.settings import Settings
from tests.api.exchange_fixtures import gid, make_exchange, make_volunteer
from tests.conftest import GraphQLClient, make_key, make_organisation

ADD = """
mutation($input: AddSessionInput!) {
  addSession(input: $input) {
    session { id title titles { locale text } startsAt endsAt format venue onlineUrl language capacity
              speakers { fullName } exchange { slug } }
    userErrors { field message code }
  }
}
"""


async def setup() -> tuple[Any, str]:
    host = await make_organisation("host")
    # 10-14 May 2027 in Almaty (UTC+5 all year).
    exchange = await make_exchange(
        "week", host, starts_on=dt.date(2027, 5, 10), ends_on=dt.date(2027, 5, 14), time_zone="Asia/Almaty"
    )
    return exchange, await make_key(host)


def session_input(exchange: Any, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "exchangeId": gid(exchange),
        "titles": [{"locale": "ru", "text": "Открытие"}, {"locale": "en", "text": "Opening"}],
        "startsAt": "2027-05-10T09:00:00+05:00",
        "endsAt": "2027-05-10T10:30:00+05:00",
        "format": "HYBRID",
        "venue": "Aralsk, House of Culture",
        "onlineUrl": "https://meet.example.org/aral",
        "language": "ru",
        "capacity": 80,
    }
    values.update(overrides)
    return values


async def test_host_adds_session_times_come_out_in_utc(gql: GraphQLClient) -> None:
    exchange, key = await setup()
    # The host sends her: a volunteer it may name as a speaker (test_visibility has the rule).
    speaker = await make_volunteer("Aigerim", organisation_id=exchange.host_id)
    result = await gql(
        ADD, {"input": session_input(exchange, speakerIds=[gid(speaker), gid(speaker)])}, key=key
    )
    payload = result["data"]["addSession"]
    assert payload["userErrors"] == []
    session = payload["session"]
    assert session["startsAt"] == "2027-05-10T04:00:00+00:00"
    assert session["endsAt"] == "2027-05-10T05:30:00+00:00"
    assert session["title"] == "Открытие"
    assert [t["locale"] for t in session["titles"]] == ["ru", "en"]
    assert (
        session["format"],
        session["venue"],
        session["onlineUrl"],
        session["language"],
        session["capacity"],
    ) == (
        "HYBRID",
        "Aralsk, House of Culture",
        "https://meet.example.org/aral",
        "ru",
        80,
    )
    assert session["speakers"] == [{"fullName": "Aigerim"}]
    assert session["exchange"] == {"slug": "week"}
    by_node = await gql(
        'query($id: ID!) { node(id: $id) { ... on Session { title(locale: "en") startsAt } } }',
        {"id": session["id"]},
    )
    assert by_node["data"]["node"] == {"title": "Opening", "startsAt": "2027-05-10T04:00:00+00:00"}


async def test_sessions_are_ordered_by_start(gql: GraphQLClient) -> None:
    exchange, key = await setup()
    for title, start in (("Second", "2027-05-11T09:00:00+05:00"), ("First", "2027-05-10T04:00:00Z")):
        end = (dt.datetime.fromisoformat(start) + dt.timedelta(hours=1)).isoformat()
        result = await gql(
            ADD,
            {
                "input": session_input(
                    exchange, titles=[{"locale": "en", "text": title}], startsAt=start, endsAt=end
                )
            },
            key=key,
        )
        assert result["data"]["addSession"]["userErrors"] == []
    listed = await gql('{ exchange(slug: "week") { sessions { title startsAt } } }', {})
    assert listed["data"]["exchange"]["sessions"] == [
        {"title": "First", "startsAt": "2027-05-10T04:00:00+00:00"},
        {"title": "Second", "startsAt": "2027-05-11T04:00:00+00:00"},
    ]


async def test_exchange_days_are_read_in_the_venue_time_zone(gql: GraphQLClient) -> None:
    exchange, key = await setup()
    # Midnight opening the first day in Almaty is inside; one minute before is outside,
    # though in UTC both are on 9 May.
    fits = await gql(
        ADD,
        {"input": session_input(exchange, startsAt="2027-05-09T19:00:00Z", endsAt="2027-05-09T20:00:00Z")},
        key=key,
    )
    assert fits["data"]["addSession"]["userErrors"] == []
    early = await gql(
        ADD,
        {"input": session_input(exchange, startsAt="2027-05-09T18:59:00Z", endsAt="2027-05-09T20:00:00Z")},
        key=key,
    )
    assert [(e["field"], e["code"]) for e in early["data"]["addSession"]["userErrors"]] == [
        (["startsAt"], "INVALID")
    ]
    # The last day ends at midnight after 14 May, Almaty time.
    until_midnight = await gql(
        ADD,
        {
            "input": session_input(
                exchange, startsAt="2027-05-14T22:00:00+05:00", endsAt="2027-05-15T00:00:00+05:00"
            )
        },
        key=key,
    )
    assert until_midnight["data"]["addSession"]["userErrors"] == []
    late = await gql(
        ADD,
        {
            "input": session_input(
                exchange, startsAt="2027-05-14T22:00:00+05:00", endsAt="2027-05-15T00:01:00+05:00"
            )
        },
        key=key,
    )
    assert [(e["field"], e["code"]) for e in late["data"]["addSession"]["userErrors"]] == [
        (["endsAt"], "INVALID")
    ]


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"endsAt": "2027-05-10T09:00:00+05:00"}, ["endsAt"], "INVALID"),
        ({"endsAt": "2027-05-10T08:00:00+05:00"}, ["endsAt"], "INVALID"),
        ({"titles": []}, ["titles"], "INVALID"),
        ({"titles": [{"locale": "en", "text": ""}]}, ["titles", "0", "text"], "INVALID"),
        ({"capacity": -1}, ["capacity"], "INVALID"),
        ({"onlineUrl": "javascript:alert(1)"}, ["onlineUrl"], "INVALID"),
        ({"venue": "v" * 301}, ["venue"], "INVALID"),
        ({"speakerIds": ["Vm9sdW50ZWVyOjk5OQ"]}, ["speakerIds", "0"], "NOT_FOUND"),
        ({"exchangeId": "RXhwZXJpZW5jZUV4Y2hhbmdlOjk5OQ"}, ["exchangeId"], "NOT_FOUND"),
        (
            {"startsAt": "2027-06-01T09:00:00+05:00", "endsAt": "2027-06-01T10:00:00+05:00"},
            ["startsAt"],
            "INVALID",
        ),
    ],
)
async def test_invalid_session_input(
    gql: GraphQLClient, overrides: dict[str, Any], field: list[str], code: str
) -> None:
    exchange, key = await setup()
    result = await gql(ADD, {"input": session_input(exchange, **overrides)}, key=key)
    payload = result["data"]["addSession"]
    assert payload["session"] is None
    assert (payload["userErrors"][0]["field"], payload["userErrors"][0]["code"]) == (field, code)
    assert await Session.all().count() == 0


@pytest.mark.parametrize("status", [ExchangeStatus.COMPLETED, ExchangeStatus.CANCELLED])
async def test_finished_exchanges_take_no_sessions(gql: GraphQLClient, status: ExchangeStatus) -> None:
    exchange, key = await setup()
    exchange.status = status
    await exchange.save()
    result = await gql(ADD, {"input": session_input(exchange)}, key=key)
    assert [(e["field"], e["code"]) for e in result["data"]["addSession"]["userErrors"]] == [
        (["exchangeId"], "INVALID")
    ]


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"startsAt": "2027-05-10T09:00:00"}, "no UTC offset"),
        ({"endsAt": "tomorrow"}, "'tomorrow'"),
        ({"language": "RU"}, "'RU'"),
    ],
)
async def test_malformed_scalars_are_bad_user_input(
    gql: GraphQLClient, overrides: dict[str, Any], needle: str
) -> None:
    exchange, key = await setup()
    result = await gql(ADD, {"input": session_input(exchange, **overrides)}, key=key)
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert needle in result["errors"][0]["message"]


async def test_only_the_host_adds_sessions(gql: GraphQLClient, admin_key: str) -> None:
    host = await make_organisation("host")
    partner = await make_organisation("partner")
    stranger = await make_organisation("stranger")
    public = await make_exchange("public", host, partners=[partner])
    draft = await make_exchange("draft", host, partners=[partner], status=ExchangeStatus.DRAFT)

    async def outcome(exchange: Any, key: str | None) -> str:
        result = await gql(ADD, {"input": session_input(exchange)}, key=key)
        if "errors" in result:
            return str(result["errors"][0]["extensions"]["code"])
        errors = result["data"]["addSession"]["userErrors"]
        return str(errors[0]["code"]) if errors else "OK"

    assert await outcome(public, None) == "UNAUTHENTICATED"
    assert await outcome(public, "vx_wrong") == "UNAUTHENTICATED"
    assert await outcome(public, await make_key(host, ApiKeyRole.READ_ONLY)) == "FORBIDDEN"
    assert await outcome(public, await make_key(partner)) == "FORBIDDEN"
    assert await outcome(draft, await make_key(partner)) == "FORBIDDEN"
    assert await outcome(public, await make_key(stranger)) == "FORBIDDEN"
    assert await outcome(draft, await make_key(stranger)) == "NOT_FOUND"
    assert await outcome(public, admin_key) == "OK"
    assert await outcome(draft, await make_key(host)) == "OK"


async def test_sessions_of_a_draft_are_hidden_by_node(gql: GraphQLClient) -> None:
    host = await make_organisation("host")
    draft = await make_exchange("draft", host, status=ExchangeStatus.DRAFT)
    session = await Session.create(
        exchange=draft,
        titles={"en": "Secret"},
        starts_at=dt.datetime(2027, 5, 10, 6, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 5, 10, 7, tzinfo=dt.UTC),
        format="ONLINE",
    )
    query = "query($id: ID!) { node(id: $id) { ... on Session { title exchange { slug } } } }"
    session_id = gid(session)
    assert (await gql(query, {"id": session_id}))["data"]["node"] is None
    assert (await gql(query, {"id": session_id}, key=await make_key(await make_organisation("other"))))[
        "data"
    ]["node"] is None
    assert (await gql(query, {"id": session_id}, key=await make_key(host)))["data"]["node"] == {
        "title": "Secret",
        "exchange": {"slug": "draft"},
    }


async def test_concurrent_date_change_and_new_session_never_leave_a_session_outside(
    gql: GraphQLClient,
) -> None:
    host = await make_organisation("host")
    key = await make_key(host)
    update = """mutation($id: ID!, $input: UpdateExchangeInput!) { updateExchange(id: $id, input: $input) {
      userErrors { code } } }"""
    for round_ in range(4):
        exchange = await make_exchange(
            f"week-{round_}",
            host,
            starts_on=dt.date(2027, 5, 10),
            ends_on=dt.date(2027, 5, 14),
            time_zone="Asia/Almaty",
        )
        late_session = session_input(
            exchange, startsAt="2027-05-14T09:00:00+05:00", endsAt="2027-05-14T10:00:00+05:00"
        )
        shorten = {"id": gid(exchange), "input": {"endsOn": "2027-05-13"}}
        # Both orders are fine; both succeeding is not.
        added, shortened = await asyncio.gather(
            gql(ADD, {"input": late_session}, key=key), gql(update, shorten, key=key)
        )
        session_ok = added["data"]["addSession"]["userErrors"] == []
        shorten_ok = shortened["data"]["updateExchange"]["userErrors"] == []
        assert session_ok != shorten_ok, (added, shortened)
        stored = await Exchange.get(id=exchange.id)
        sessions = await Session.filter(exchange_id=exchange.id)
        assert all(s.ends_at <= dt.datetime(2027, 5, 14, 19, tzinfo=dt.UTC) for s in sessions)
        if sessions:
            assert stored.ends_on == dt.date(2027, 5, 14)


async def _planned_sessions(exchange: Any, count: int, *, cancelled: int = 0) -> None:
    for index in range(count + cancelled):
        await Session.create(
            exchange=exchange,
            titles={"en": f"Session {index}"},
            starts_at=dt.datetime(2027, 5, 10, 4, tzinfo=dt.UTC),
            ends_at=dt.datetime(2027, 5, 10, 5, tzinfo=dt.UTC),
            format="ONLINE",
            cancelled_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC) if index >= count else None,
        )


async def test_an_exchange_takes_sessions_up_to_the_cap(gql: GraphQLClient, settings: Settings) -> None:
    # Sessions are a plain list priced at the cap: without it, 300 sessions answered a query
    # priced for 20.
    exchange, key = await setup()
    cap = settings.max_sessions_per_exchange
    await _planned_sessions(exchange, cap - 1, cancelled=3)  # cancelled ones leave the list
    last = await gql(ADD, {"input": session_input(exchange)}, key=key)
    assert last["data"]["addSession"]["userErrors"] == []

    refused = await gql(ADD, {"input": session_input(exchange)}, key=key)
    payload = refused["data"]["addSession"]
    assert payload["session"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["exchangeId"], "INVALID")]
    assert f"the most it may have ({cap})" in payload["userErrors"][0]["message"]
    assert await Session.filter(exchange_id=exchange.id, cancelled_at__isnull=True).count() == cap

    listed = await gql('query { exchange(slug: "week") { sessions { id } } }', key=key)
    assert len(listed["data"]["exchange"]["sessions"]) == cap


async def test_concurrent_sessions_never_pass_the_cap(gql: GraphQLClient, settings: Settings) -> None:
    exchange, key = await setup()
    await _planned_sessions(exchange, settings.max_sessions_per_exchange - 1)
    first, second = await asyncio.gather(
        gql(ADD, {"input": session_input(exchange)}, key=key),
        gql(ADD, {"input": session_input(exchange)}, key=key),
    )
    added = [r["data"]["addSession"]["userErrors"] == [] for r in (first, second)]
    assert sorted(added) == [False, True], (first, second)
    assert await Session.filter(exchange_id=exchange.id).count() == settings.max_sessions_per_exchange


async def test_a_session_names_speakers_up_to_the_cap(gql: GraphQLClient, settings: Settings) -> None:
    exchange, key = await setup()
    cap = settings.max_speakers_per_session
    speakers = [
        gid(await make_volunteer(f"Speaker {index}", organisation_id=exchange.host_id))
        for index in range(cap + 1)
    ]

    refused = await gql(ADD, {"input": session_input(exchange, speakerIds=speakers)}, key=key)
    payload = refused["data"]["addSession"]
    assert payload["session"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["speakerIds"], "INVALID")]
    assert f"at most {cap} speakers; {cap + 1} were named" in payload["userErrors"][0]["message"]
    assert await Session.all().count() == 0

    # The same volunteer named twice is one speaker.
    at_cap = [*speakers[:cap], speakers[0]]
    added = await gql(ADD, {"input": session_input(exchange, speakerIds=at_cap)}, key=key)
    assert added["data"]["addSession"]["userErrors"] == []
    assert len(added["data"]["addSession"]["session"]["speakers"]) == cap
