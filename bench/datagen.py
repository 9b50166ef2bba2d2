"""The benchmark's data set: deterministic (seeded), realistic in shape, bulk-loaded with
COPY (``asyncpg.copy_records_to_table``) into a freshly migrated PostgreSQL database.

Every exchange is OPEN so an anonymous caller sees all of them. Localized texts come in
kk/ru/en with varying default languages, so the locale fallback is exercised.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg
import orjson

from exchange import db
from exchange.settings import Settings
from exchange.validation import search_text
from exchange.volunteers import skills_folded


@dataclass(frozen=True)
class Spec:
    organisations: int
    volunteers: int
    exchanges: int
    sessions: int  # on average sessions / exchanges per exchange
    participations: int  # likewise
    seed: int = 20270511
    # Parents, hosts, partners and volunteers' organisations drawn from separate id ranges,
    # so that no DataLoader cache hit depends on the page size (query-count tests).
    disjoint_organisations: bool = False

    def organisation_pool(self, role: str) -> list[int]:
        everyone = range(1, self.organisations + 1)
        if not self.disjoint_organisations:
            return list(everyone)
        remainder = {"host": 1, "partner": 2, "volunteer": 3, "parent": 0}[role]
        return [pk for pk in everyone if pk % 4 == remainder]

    @property
    def sessions_per_exchange(self) -> int:
        return self.sessions // self.exchanges

    @property
    def participations_per_exchange(self) -> int:
        return self.participations // self.exchanges


FULL = Spec(organisations=300, volunteers=20_000, exchanges=2_000, sessions=20_000, participations=100_000)
SMOKE = Spec(organisations=10, volunteers=60, exchanges=20, sessions=100, participations=300)


def scaled(spec: Spec, factor: int) -> Spec:
    """``factor`` times every table (same shapes per exchange: sessions, participants and
    partners per exchange stay as they are, the tables grow around them)."""
    if factor == 1:
        return spec
    return replace(
        spec,
        organisations=spec.organisations * factor,
        volunteers=spec.volunteers * factor,
        exchanges=spec.exchanges * factor,
        sessions=spec.sessions * factor,
        participations=spec.participations * factor,
    )


def database_name(base: str, factor: int) -> str:
    return base if factor == 1 else f"{base}_x{factor}"


EPOCH = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)

_KK = ["Жастар", "Ерікті", "Қоғам", "Дала", "Таулар", "Өзен", "Білім", "Денсаулық", "Мәдениет", "Көмек"]
_RU = [
    "Молодёжь",
    "Волонтёры",
    "Общество",
    "Степь",
    "Горы",
    "Река",
    "Знание",
    "Здоровье",
    "Культура",
    "Помощь",
]
_EN = [
    "Youth",
    "Volunteers",
    "Society",
    "Steppe",
    "Mountains",
    "River",
    "Knowledge",
    "Health",
    "Culture",
    "Aid",
]
_KINDS = ["INTERNATIONAL", "GOVERNMENT", "NGO", "EDUCATION", "BUSINESS", "COMMUNITY"]
_COUNTRIES = ["KZ", "UZ", "KG", "TJ", "TM", "RU", "DE", "FR", "TR", "CN", "IN", "US"]
_ZONES = [
    "Asia/Almaty",
    "Asia/Qyzylorda",
    "Asia/Tashkent",
    "Asia/Bishkek",
    "Europe/Berlin",
    "Europe/Istanbul",
]
_CITIES = ["Almaty", "Astana", "Shymkent", "Tashkent", "Bishkek", "Dushanbe", "Berlin", "Istanbul", None]
_THEMES = ["ECOLOGY", "EDUCATION", "HEALTH", "EMERGENCY_RESPONSE", "CULTURE", "SOCIAL", "SPORT", "OTHER"]
_FORMATS = ["IN_PERSON", "ONLINE", "HYBRID"]
_ROLES = ["PARTICIPANT"] * 7 + ["MENTOR", "SPEAKER", "COORDINATOR"]
_STATUSES = ["CONFIRMED"] * 8 + ["WITHDRAWN", "ATTENDED"]
_FIRST = [
    "Aigerim",
    "Dauren",
    "Yerlan",
    "Madina",
    "Timur",
    "Olga",
    "Dilnoza",
    "Anna",
    "Jonas",
    "Leyla",
    "Arman",
    "Айгерим",
    "Данияр",
    "Ольга",
    "Тимур",
    "Жанар",
    "Rustam",
    "Farida",
    "Nurlan",
    "Sofia",
]
_LAST = [
    "Nurlanova",
    "Abenov",
    "Ivanova",
    "Karimov",
    "Schmidt",
    "Yilmaz",
    "Сейткали",
    "Петрова",
    "Tursunov",
    "Omarova",
    "Bekov",
    "Muller",
    "Akhmetova",
    "Sadykov",
    "Ли",
]
_SKILLS = [
    "First aid",
    "Teaching",
    "Translation",
    "Logistics",
    "Cooking",
    "Photography",
    "Медицина",
    "Спорт",
    "Coding",
    "Ecology",
    "Psychology",
    "Музыка",
]
_LANGS = ["kk", "ru", "en", "uz", "de", "tr"]


def _localized(rng: random.Random, words: int, number: int, suffix: str) -> dict[str, str]:
    """kk/ru/en texts with a varying first (default) language and varying coverage."""
    picks = [rng.randrange(len(_EN)) for _ in range(words)]
    texts = {
        "kk": " ".join(_KK[i] for i in picks) + f" {suffix} {number}",
        "ru": " ".join(_RU[i] for i in picks) + f" {suffix} {number}",
        "en": " ".join(_EN[i] for i in picks) + f" {suffix} {number}",
    }
    shape = number % 5
    if shape == 0:
        order = ["kk", "ru", "en"]
    elif shape == 1:
        order = ["ru", "en"]
    elif shape == 2:
        order = ["kk"]  # no English: an "en" request falls back to Kazakh
    elif shape == 3:
        order = ["en", "ru", "kk"]
    else:
        order = ["ru"]
    return {code: texts[code] for code in order}


def _j(value: object) -> str:
    return orjson.dumps(value).decode()


def _paired_counts(rng: random.Random, n: int, mean: int, spread: int) -> list[int]:
    """n counts around ``mean`` whose sum is exactly n * mean."""
    counts = []
    for _ in range(n // 2):
        d = rng.randint(-spread, spread)
        counts += [mean + d, mean - d]
    if n % 2:
        counts.append(mean)
    return counts


@dataclass
class DataSet:
    organisations: list[tuple[Any, ...]]
    volunteers: list[tuple[Any, ...]]
    exchanges: list[tuple[Any, ...]]
    partners: list[tuple[int, int]]
    sessions: list[tuple[Any, ...]]
    speakers: list[tuple[int, int]]
    participations: list[tuple[Any, ...]]


ORG_COLUMNS = [
    "id",
    "slug",
    "names",
    "kind",
    "country",
    "website",
    "contact_email",
    "created_at",
    "parent_id",
]
VOLUNTEER_COLUMNS = [
    "id",
    "full_name",
    "email",
    "country",
    "languages",
    "skills",
    "skills_folded",
    "created_at",
    "organisation_id",
    "public_profile",
]
EXCHANGE_COLUMNS = [
    "id",
    "slug",
    "titles",
    "descriptions",
    "search_text",
    "theme",
    "status",
    "country",
    "city",
    "starts_on",
    "ends_on",
    "time_zone",
    "capacity",
    "languages",
    "created_at",
    "updated_at",
    "host_id",
]
SESSION_COLUMNS = [
    "id",
    "titles",
    "starts_at",
    "ends_at",
    "format",
    "venue",
    "online_url",
    "language",
    "capacity",
    "sequence",
    "cancelled_at",
    "created_at",
    "exchange_id",
]
PARTICIPATION_COLUMNS = ["id", "role", "status", "hours", "joined_at", "exchange_id", "volunteer_id"]


def generate(spec: Spec) -> DataSet:
    rng = random.Random(spec.seed)
    orgs = []
    for oid in range(1, spec.organisations + 1):
        names = _localized(rng, 2, oid, "org")
        kind = _KINDS[oid % len(_KINDS)]
        country = None if kind == "INTERNATIONAL" else rng.choice(_COUNTRIES)
        parents = [p for p in spec.organisation_pool("parent") if p < oid]
        if spec.disjoint_organisations:
            parent = rng.choice(parents) if parents and oid % 4 else None
        else:
            parent = rng.choice(parents) if oid > 10 and oid % 10 == 0 and parents else None
        created = EPOCH + dt.timedelta(minutes=oid)
        orgs.append(
            (
                oid,
                f"org-{oid}",
                _j(names),
                kind,
                country,
                f"https://org{oid}.example.org",
                f"office@org{oid}.example.org",
                created,
                parent,
            )
        )

    volunteers = []
    for vid in range(1, spec.volunteers + 1):
        skills = rng.sample(_SKILLS, rng.randint(0, 3))
        languages = rng.sample(_LANGS, rng.randint(1, 3))
        org = rng.choice(spec.organisation_pool("volunteer")) if vid % 4 else None
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        volunteers.append(
            (
                vid,
                name,
                f"volunteer{vid}@bench.example.org",
                rng.choice(_COUNTRIES),
                _j(languages),
                _j(skills),
                skills_folded(skills),
                EPOCH + dt.timedelta(seconds=vid * 7),
                org,
                # Three in four chose a public profile: anonymous pages list them and leave the
                # others out (exchange.access), as the baselines do too.
                vid % 4 != 2,
            )
        )

    exchanges, partners = [], []
    for eid in range(1, spec.exchanges + 1):
        titles = _localized(rng, 3, eid, "exchange")
        descriptions = _localized(rng, 8, eid + 1, "—")
        host = rng.choice(spec.organisation_pool("host"))
        starts = dt.date(2027, 1, 1) + dt.timedelta(days=rng.randrange(365))
        ends = starts + dt.timedelta(days=rng.randint(1, 14))
        capacity = rng.choice([None, 20, 50, 100, 200])
        languages = rng.sample(["kk", "ru", "en"], rng.randint(1, 3))
        created = EPOCH + dt.timedelta(minutes=eid)
        exchanges.append(
            (
                eid,
                f"exchange-{eid}",
                _j(titles),
                _j(descriptions),
                search_text(titles, descriptions),
                rng.choice(_THEMES),
                "OPEN",
                rng.choice(_COUNTRIES),
                rng.choice(_CITIES),
                starts,
                ends,
                rng.choice(_ZONES),
                capacity,
                _j(languages),
                created,
                created,
                host,
            )
        )
        partner_pool = spec.organisation_pool("partner")
        others = [o for o in rng.sample(partner_pool, min(4, len(partner_pool))) if o != host]
        for org in others[: rng.randint(0, 3)]:
            partners.append((eid, org))

    sessions, speakers = [], []
    participations = []
    session_counts = _paired_counts(
        rng, spec.exchanges, spec.sessions_per_exchange, max(1, spec.sessions_per_exchange // 2)
    )
    participation_counts = _paired_counts(
        rng,
        spec.exchanges,
        spec.participations_per_exchange,
        max(1, spec.participations_per_exchange * 4 // 5),
    )
    sid = pid = 0
    for index, exchange in enumerate(exchanges):
        eid, starts = exchange[0], exchange[9]
        assert isinstance(eid, int) and isinstance(starts, dt.date)
        members = rng.sample(range(1, spec.volunteers + 1), min(participation_counts[index], spec.volunteers))
        for vid in members:
            pid += 1
            joined = EPOCH + dt.timedelta(hours=pid % 5000, seconds=pid)
            hours = round(rng.uniform(1, 40), 1) if pid % 3 == 0 else None
            participations.append((pid, rng.choice(_ROLES), rng.choice(_STATUSES), hours, joined, eid, vid))
        for _ in range(session_counts[index]):
            sid += 1
            day = dt.datetime.combine(starts, dt.time(0, 0), tzinfo=dt.UTC)
            start = day + dt.timedelta(
                days=rng.randint(0, 3), hours=rng.randint(3, 12), minutes=rng.choice([0, 30])
            )
            fmt = rng.choice(_FORMATS)
            sessions.append(
                (
                    sid,
                    _j(_localized(rng, 2, sid, "session")),
                    start,
                    start + dt.timedelta(hours=2),
                    fmt,
                    None if fmt == "ONLINE" else f"Hall {sid % 7}",
                    None if fmt == "IN_PERSON" else f"https://meet.example.org/s{sid}",
                    rng.choice([None, "kk", "ru", "en"]),
                    rng.choice([None, 30, 80]),
                    0,
                    None,
                    EPOCH + dt.timedelta(seconds=sid),
                    eid,
                )
            )
            pool = members if len(members) >= 3 else range(1, spec.volunteers + 1)
            for vid in rng.sample(list(pool), rng.randint(0, 3)):
                speakers.append((sid, vid))
    return DataSet(orgs, volunteers, exchanges, partners, sessions, speakers, participations)


def with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


async def recreate_database(admin_url: str, name: str) -> str:
    """Drop and create ``name``, migrate it with exchange.db.migrate; returns its URL."""
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = with_database(admin_url, name)
    await db.init_db(Settings(database_url=url), global_fallback=False)
    try:
        await db.migrate()
    finally:
        await db.close_db()
    return url


async def load(url: str, data: DataSet) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    counts: dict[str, int] = {}
    try:
        async with conn.transaction():
            for table, columns, rows in (
                ("organisation", ORG_COLUMNS, data.organisations),
                ("volunteer", VOLUNTEER_COLUMNS, data.volunteers),
                ("exchange", EXCHANGE_COLUMNS, data.exchanges),
                ("exchange_partner", ["exchange_id", "organisation_id"], data.partners),
                ("session", SESSION_COLUMNS, data.sessions),
                ("session_speaker", ["session_id", "volunteer_id"], data.speakers),
                ("participation", PARTICIPATION_COLUMNS, data.participations),
            ):
                await conn.copy_records_to_table(table, records=rows, columns=columns)
                counts[table] = len(rows)
            for table in ("organisation", "volunteer", "exchange", "session", "participation"):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return counts


def _marker(spec: Spec) -> str:
    """What a generated database is labelled with (its comment): the spec that made it."""
    return "bench data set " + orjson.dumps(asdict(spec), option=orjson.OPT_SORT_KEYS).decode()


async def build(admin_url: str, name: str, spec: Spec) -> tuple[str, dict[str, int]]:
    url = await recreate_database(admin_url, name)
    counts = await load(url, generate(spec))
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'COMMENT ON DATABASE "{name}" IS {_quote(_marker(spec))}')
    finally:
        await conn.close()
    return url, counts


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def existing(admin_url: str, name: str, spec: Spec) -> bool:
    """Whether ``name`` holds the data set ``spec`` generates (its comment says so)."""
    conn = await asyncpg.connect(admin_url)
    try:
        comment = await conn.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", name
        )
    finally:
        await conn.close()
    return comment == _marker(spec)


async def build_or_reuse(admin_url: str, name: str, spec: Spec) -> tuple[str, dict[str, int], bool]:
    """The database ``name`` with ``spec``'s data: kept when a former run generated it (then
    brought to the current schema by the pending migrations), else generated anew.
    Returns its URL, the rows loaded (empty when reused) and whether it was reused."""
    if await existing(admin_url, name, spec):
        url = with_database(admin_url, name)
        await db.init_db(Settings(database_url=url), global_fallback=False)
        try:
            await db.migrate()
        finally:
            await db.close_db()
        return url, {}, True
    url, counts = await build(admin_url, name, spec)
    return url, counts, False


async def drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def gid(type_name: str, pk: int) -> str:
    """A global id as the API spells it (schema.api.relay.encode_id)."""
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")
