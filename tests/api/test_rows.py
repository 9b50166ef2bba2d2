"""Row mode (schema/engine/rows.py): declared subtrees answered from rows give graphql-core's
exact answer (key order included) on both databases, for every kind of caller; and the
documents of the benchmark are answered in row mode, not through resolvers."""

from __future__ import annotations

import collections
from typing import Any

import pytest
from tortoise.exceptions import DBConnectionError

from bench.runner import operations as bench_operations
from exchange import sessions
from schema.engine import plan
from tests.api import plan_fixtures
from tests.api.plan_corpus import ANONYMOUS, EVERYONE, Case, World
from tests.api.plan_differ import Differ, check, report
from tests.databases import on_postgres

# The corpus's fixtures and its differ, bound by name so that pytest finds them here
# (see plan_fixtures).
settings = plan_fixtures.settings
world = plan_fixtures.world
differ = plan_fixtures.differ

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }"

ROW_CASES = [
    Case(
        "the exchanges page of the benchmark, every caller",
        bench_operations()["ExchangesPage"],
        {"first": 20, "locale": "ru"},
        actors=EVERYONE,
    ),
    Case(
        "the large result of the benchmark", bench_operations()["LargeResult"], {"first": 50}, actors=EVERYONE
    ),
    Case(
        "locale fallbacks: argument, Accept-Language, default language, slug and empty title",
        """query($l: LanguageCode) { exchanges { edges { node { slug title(locale: $l) t2: title
            description(locale: $l) host { name(locale: $l) n2: name }
            sessions { title(locale: $l) t2: title startsAt endsAt format venue onlineUrl language capacity cancelledAt } } } } }""",
        {"l": "kk"},
        actors=EVERYONE,
        headers={"Accept-Language": "de, ru;q=0.5"},
    ),
    Case(
        "locale absent everywhere",
        """{ exchanges { edges { node { title description host { name } partners { name } } } } }""",
        actors=EVERYONE,
    ),
    Case(
        "nulls and empty lists: organisations without parent, volunteers without organisation",
        """{ exchanges(first: 50) { totalCount edges { cursor node { __typename id theme status country city startsOn endsOn
            timeZone capacity languages sdgs waitlist
            host { __typename id slug kind country website parent { id slug parent { slug } } }
            partners { id slug parent { name } }
            sessions { id speakers { __typename id fullName country languages skills publicProfile organisation { id name } } }
            participants { totalCount } } } } }""",
        actors=EVERYONE,
    ),
    Case(
        "participants per role, with cursors and pageInfo, paged forwards and backwards",
        f"""query($a: String) {{ exchanges(first: 10) {{ edges {{ node {{ slug
            all: participants(first: 20) {{ totalCount edges {{ cursor node {{ id role status hours joinedAt recordedAt
                volunteer {{ id fullName organisation {{ slug }} }} recordedBy {{ slug }} exchange {{ slug host {{ slug }} }} }} }} {PAGE_INFO} }}
            one: participants(first: 1) {{ totalCount edges {{ cursor node {{ id }} }} {PAGE_INFO} }}
            after: participants(first: 2, after: $a) {{ edges {{ cursor node {{ id }} }} {PAGE_INFO} }}
            last: participants(last: 2) {{ totalCount edges {{ cursor node {{ role }} }} {PAGE_INFO} }}
            before: participants(last: 1, before: $a) {{ edges {{ node {{ role }} }} {PAGE_INFO} }}
            none: participants(first: 0) {{ totalCount edges {{ cursor }} {PAGE_INFO} __typename }}
        }} }} }} }}""",
        {"a": "b2Zmc2V0OjA"},
        actors=EVERYONE,
    ),
    Case(
        "participant pages served from rows alone: whole first pages, windows cut from more rows",
        f"""query($a: String) {{ exchanges(first: 10) {{ edges {{ node {{ slug
            one: participants(first: 1) {{ totalCount edges {{ cursor node {{ id role }} }} {PAGE_INFO} }}
            three: participants(first: 3) {{ edges {{ cursor node {{ volunteer {{ fullName }} }} }} {PAGE_INFO} }}
            after: participants(first: 2, after: $a) {{ edges {{ cursor node {{ id }} }} {PAGE_INFO} }}
            last: participants(last: 2) {{ totalCount edges {{ cursor node {{ role }} }} {PAGE_INFO} }}
            before: participants(last: 1, before: $a) {{ edges {{ node {{ role }} }} {PAGE_INFO} }}
            none: participants(first: 0) {{ totalCount edges {{ cursor }} {PAGE_INFO} }}
        }} }} }} }}""",
        {"a": "b2Zmc2V0OjA"},
        actors=EVERYONE,
    ),
    Case(
        "the root page: after a cursor, from the end, beyond the end",
        f"""query($a: String) {{ one: exchanges(first: 2, after: $a) {{ totalCount edges {{ cursor node {{ slug }} }} {PAGE_INFO} }}
            two: exchanges(last: 2) {{ totalCount edges {{ cursor node {{ slug }} }} {PAGE_INFO} }}
            three: exchanges(first: 3, after: "b2Zmc2V0Ojk5") {{ totalCount edges {{ node {{ slug }} }} {PAGE_INFO} }} }}""",
        {"a": "b2Zmc2V0OjE"},
        actors=EVERYONE,
    ),
    Case(
        "fragments, aliases and @include over declared fields",
        """query($with: Boolean!) { exchanges { edges { node { ...E s: sessions { ...S } } } } }
           fragment E on ExperienceExchange { id host @include(if: $with) { ...O } partners { ...O } }
           fragment O on Organisation { id n: name(locale: "en") }
           fragment S on Session { id exchange { slug title host { id } } }""",
        {"with": True},
        actors=EVERYONE,
    ),
]

# Locale slots shared by fields that give the same argument (schema.engine.row_compiler): one
# variable in several fields and levels, another variable, literals, and none, side by side.
SHARED_LOCALES = Case(
    "locale arguments shared and distinct across fields and levels",
    """query($l: LanguageCode, $m: LanguageCode) { exchanges(first: 5) { edges { node {
        title(locale: $l) ru: title(locale: "ru") plain: title
        host { name(locale: $m) same: name(locale: $l) plain: name }
        partners { name(locale: "ru") }
        sessions { title(locale: $l) m: title(locale: $m) speakers { fullName } } } } } }""",
    {"l": "kk", "m": "en"},
    actors=EVERYONE,
    headers={"Accept-Language": "ru"},
)

# A declared field below an undeclared one: the resolver runs, then rows below it.
MIXED = Case(
    "row subtrees below resolved fields",
    """{ exchanges { edges { node { seatsLeft sessions { id speakers { fullName } } host { name exchanges { totalCount } } } } } }""",
    actors=EVERYONE,
)


async def test_row_mode_matches_graphql_core(differ: Differ, world: World) -> None:
    before = plan.STATS["rows"]
    problems = await check(differ, world, [*ROW_CASES, SHARED_LOCALES, MIXED])
    assert not problems, report(problems)
    assert plan.STATS["rows"] - before >= len(ROW_CASES) * 2


async def test_each_request_answers_with_its_own_variables(differ: Differ, world: World) -> None:
    """A row field keeps its argument values for the last set of variables it saw
    (schema.engine.arguments.Arguments): the same document sent with other values, then with
    the first ones again, is answered with each request's own."""
    query = """query($first: Int, $l: LanguageCode) { exchanges(first: $first) { totalCount
        edges { node { title(locale: $l) participants(first: $first) { totalCount edges { node { role } } } } } } }"""
    sets = [
        {"first": 2, "l": "kk"},
        {"first": 3, "l": "ru"},
        {"first": 2, "l": "kk"},
        {"first": 1, "l": "en"},
    ]
    cases = [Case(f"variables {values}", query, values) for values in sets]
    before = plan.STATS["rows"]
    problems = await check(differ, world, cases)
    assert not problems, report(problems)
    assert plan.STATS["rows"] - before == len(sets)


async def test_benchmark_documents_run_in_row_mode(differ: Differ, world: World) -> None:
    """The whole exchanges page is one row subtree: the resolvers of its fields never run."""
    for name in ("ExchangesPage", "LargeResult"):
        before = collections.Counter(plan.STATS)
        compiled = await differ.answer(
            bench_operations()[name], {"first": 5}, world.keys[ANONYMOUS], {}, True
        )
        assert compiled.status == 200 and "errors" not in compiled.body, compiled.text
        assert plan.STATS["rows"] - before["rows"] == 1, name
        assert plan.STATS["planned"] - before["planned"] == 1, name


FAILING_ROWS = [
    # (the fetches that meet a database gone away: the loader's and the row mode's, document)
    (
        ("sessions_by_exchange", "session_rows"),
        "{ exchanges(first: 3) { edges { node { slug sessions { id } } } } }",
    ),
    (
        ("speakers_by_session", "speaker_rows"),
        "{ exchanges { totalCount edges { node { slug sessions { id speakers { fullName } } } } } }",
    ),
    # Below a nullable root field: the null stops there (partial data).
    (
        ("sessions_by_exchange", "session_rows"),
        "query($slug: String!) { exchange(slug: $slug) { slug sessions { title speakers { id } } } }",
    ),
]


@pytest.mark.parametrize(("fetches", "query"), FAILING_ROWS)
async def test_a_row_fetch_that_fails_answers_as_the_resolvers_do(
    differ: Differ, world: World, monkeypatch: pytest.MonkeyPatch, fetches: tuple[str, ...], query: str
) -> None:
    """The database going away under a row subtree: the field whose subtree failed runs
    through its resolver for the same objects, in the same execution (row mode off from
    there): the error sits at each object or list position whose resolver failed (here each
    exchange's sessions or each session's speakers), the null goes up by the schema's
    non-null rules, and the answer is graphql-core's, byte for byte."""
    variables = None
    if "$slug" in query:  # the first exchange of the page, asked before the database goes away
        page = await differ.answer(
            "{ exchanges(first: 1) { edges { node { slug } } } }", None, world.keys[ANONYMOUS], {}, True
        )
        variables = {"slug": page.body["data"]["exchanges"]["edges"][0]["node"]["slug"]}

    async def away(*_args: Any, **_kwargs: Any) -> Any:
        raise DBConnectionError("injected: connection refused")

    for name in fetches:
        monkeypatch.setattr(sessions, name, away)
    before = collections.Counter(plan.STATS)
    compiled = await differ.answer(query, variables, world.keys[ANONYMOUS], {}, True)
    assert plan.STATS["planned"] - before["planned"] == 1
    assert plan.STATS["rows"] - before["rows"] == 1  # the first row subtree only
    canonical = await differ.answer(query, variables, world.keys[ANONYMOUS], {}, False)
    assert compiled.text == canonical.text
    errors = compiled.body["errors"]
    assert {error["extensions"]["code"] for error in errors} == {"SERVICE_UNAVAILABLE"}
    assert all(len(error["path"]) > 1 for error in errors), errors  # not at the subtree's root
    if variables:
        assert compiled.body["data"] == {"exchange": None}


async def test_a_root_page_whose_fetch_fails_is_answered_by_its_resolver(
    differ: Differ, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A root field served from rows alone (schema.engine.execution.root_from_rows) whose
    statement fails: the same execution runs the levels with row mode off, so the field's
    resolver answers (here successfully, through the loaders), byte for byte as graphql-core."""
    from exchange import exchanges

    async def away(*_args: Any, **_kwargs: Any) -> Any:
        raise DBConnectionError("injected: connection refused")

    monkeypatch.setattr(exchanges, "page_exchange_rows", away)
    query = "query($l: LanguageCode) { exchanges(first: 3) { totalCount edges { node { slug title(locale: $l) sessions { id } } } } }"
    for actor in EVERYONE:
        before = collections.Counter(plan.STATS)
        compiled = await differ.answer(query, {"l": "ru"}, world.keys[actor], {}, True)
        assert plan.STATS["rows"] - before["rows"] == 1, actor  # tried once, then the resolvers
        canonical = await differ.answer(query, {"l": "ru"}, world.keys[actor], {}, False)
        assert compiled.text == canonical.text, actor
        assert "errors" not in compiled.body and compiled.body["data"]["exchanges"]["edges"], compiled.text


async def test_json_the_driver_decoded_itself_is_answered_by_the_resolvers(
    differ: Differ, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The generated builders decode a JSON column's text (what both drivers hand over); a
    driver that decoded it already (a type codec) makes the decoder raise, and the field's
    resolvers answer, byte for byte as graphql-core (schema.engine.row_builders)."""
    import orjson

    session_rows = sessions.session_rows

    async def decoded(*args: Any, **kwargs: Any) -> Any:
        rows = await session_rows(*args, **kwargs)
        return [
            tuple(
                orjson.loads(value) if isinstance(value, str) and value.startswith("{") else value
                for value in row
            )
            for row in rows
        ]

    monkeypatch.setattr(sessions, "session_rows", decoded)
    query = "query($l: LanguageCode) { exchanges(first: 3) { edges { node { slug sessions { id title(locale: $l) } } } } }"
    before = collections.Counter(plan.STATS)
    compiled = await differ.answer(query, {"l": "kk"}, world.keys[ANONYMOUS], {}, True)
    assert plan.STATS["rows"] - before["rows"] == 1
    canonical = await differ.answer(query, {"l": "kk"}, world.keys[ANONYMOUS], {}, False)
    assert compiled.text == canonical.text
    sessions_seen = [s for e in compiled.body["data"]["exchanges"]["edges"] for s in e["node"]["sessions"]]
    assert "errors" not in compiled.body and sessions_seen and all(s["title"] for s in sessions_seen)


async def test_a_root_row_run_lends_its_connection_only_while_it_runs(
    differ: Differ, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The root field served alone is awaited on the request's own task (no context of its
    own): the connection it lends itself (exchange.pinned, on PostgreSQL) is lent while its
    statements run and given back, unseen by the task, once the run is over."""
    from exchange import exchanges, pinned
    from schema.engine.execution import Execution

    during: list[bool] = []
    after: list[object] = []
    page_rows = exchanges.page_exchange_rows

    async def watched_page(*args: Any, **kwargs: Any) -> Any:
        during.append(pinned._pinned.get() is not None)
        return await page_rows(*args, **kwargs)

    root_from_rows = Execution.root_from_rows

    async def watched_root(self: Execution, data: dict[str, Any]) -> bool:
        served = await root_from_rows(self, data)
        after.append((served, pinned._pinned.get(), dict(pinned._lent_out)))
        return served

    monkeypatch.setattr(exchanges, "page_exchange_rows", watched_page)
    monkeypatch.setattr(Execution, "root_from_rows", watched_root)
    answer = await differ.answer(
        bench_operations()["ExchangesPage"], {"first": 3}, world.keys[ANONYMOUS], {}, True
    )
    assert answer.status == 200 and "errors" not in answer.body, answer.text
    assert during == [on_postgres()]  # SQLite has its one connection: nothing is lent there
    assert after == [(True, None, {})]
