"""The demo data set: Kazakh and international organisations, four exchanges around the
Caspian, the Aral Sea and Astana (plus a draft), their sessions, volunteers and speakers.

Deterministic (the same records every time) and written straight to the models in one
transaction, keeping the derived columns the services maintain (``search_text``,
``skills_folded``) exactly as they would. Texts are in Kazakh, Russian and English; the
first language of each map is the record's default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from exchange import access
from exchange.models import (
    ApiKeyRole,
    Exchange,
    ExchangeStatus,
    Organisation,
    OrganisationKind,
    Participation,
    ParticipationRole,
    ParticipationStatus,
    Session,
    SessionFormat,
    Theme,
    Volunteer,
)
from exchange.validation import search_text
from exchange.volunteers import skills_folded

# The organisation whose key `exchange serve --demo` prints: it hosts most demo exchanges.
DEMO_ORGANISATION = "volunteers-of-kazakhstan"


@dataclass(frozen=True)
class DemoResult:
    admin_key: str
    organisation_key: str
    organisation_slug: str
    organisations: int
    exchanges: int
    sessions: int
    volunteers: int
    participations: int

    @property
    def summary(self) -> str:
        return (
            f"{self.organisations} organisations, {self.exchanges} exchanges, {self.sessions} sessions, "
            f"{self.volunteers} volunteers, {self.participations} participations"
        )


ORGANISATIONS: list[dict[str, Any]] = [
    {
        "slug": "volunteers-of-kazakhstan",
        "names": {
            "kk": "Қазақстан волонтерлері",
            "ru": "Волонтеры Казахстана",
            "en": "Volunteers of Kazakhstan",
        },
        "kind": OrganisationKind.NGO,
        "country": "KZ",
        "website": "https://volunteers-kz.example",
        "contact_email": "info@volunteers-kz.example",
    },
    {
        "slug": "atyrau-eco-volunteers",
        "names": {
            "kk": "Атырау эко-волонтерлері",
            "ru": "Эко-волонтеры Атырау",
            "en": "Atyrau Eco Volunteers",
        },
        "kind": OrganisationKind.COMMUNITY,
        "country": "KZ",
        "parent": "volunteers-of-kazakhstan",
        "contact_email": "atyrau@volunteers-kz.example",
    },
    {
        "slug": "mangystau-eco-volunteers",
        "names": {
            "kk": "Маңғыстау эко-волонтерлері (Ақтау)",
            "ru": "Эко-волонтеры Мангистау (Актау)",
            "en": "Mangystau Eco Volunteers (Aktau)",
        },
        "kind": OrganisationKind.COMMUNITY,
        "country": "KZ",
        "parent": "volunteers-of-kazakhstan",
        "contact_email": "aktau@volunteers-kz.example",
    },
    {
        "slug": "aral-eco-volunteers",
        "names": {
            "kk": "Арал эко-волонтерлері (Қызылорда)",
            "ru": "Эко-волонтеры Арала (Кызылорда)",
            "en": "Aral Eco Volunteers (Kyzylorda)",
        },
        "kind": OrganisationKind.COMMUNITY,
        "country": "KZ",
        "parent": "volunteers-of-kazakhstan",
        "contact_email": "aral@volunteers-kz.example",
    },
    {
        "slug": "ministry-of-ecology-kz",
        "names": {
            "kk": "Қазақстан Республикасы Экология және табиғи ресурстар министрлігі",
            "ru": "Министерство экологии и природных ресурсов Республики Казахстан",
            "en": "Ministry of Ecology and Natural Resources of the Republic of Kazakhstan",
        },
        "kind": OrganisationKind.GOVERNMENT,
        "country": "KZ",
        "contact_email": "volunteering@ecology-kz.example",
    },
    {
        "slug": "un-volunteers",
        "names": {
            "en": "United Nations Volunteers (UNV)",
            "ru": "Программа добровольцев ООН",
            "kk": "БҰҰ еріктілері бағдарламасы",
        },
        "kind": OrganisationKind.INTERNATIONAL,
        "country": None,
        "website": "https://www.unv.org",
        "contact_email": "central-asia@unv.example",
    },
    {
        "slug": "sco",
        "names": {
            "en": "Shanghai Cooperation Organisation",
            "ru": "Шанхайская организация сотрудничества",
            "kk": "Шанхай ынтымақтастық ұйымы",
        },
        "kind": OrganisationKind.INTERNATIONAL,
        "country": None,
        "website": "https://eng.sectsco.org",
        "contact_email": "youth@sco.example",
    },
    {
        "slug": "cica",
        "names": {
            "en": "Conference on Interaction and Confidence-Building Measures in Asia",
            "ru": "Совещание по взаимодействию и мерам доверия в Азии",
            "kk": "Азиядағы өзара іс-қимыл және сенім шаралары жөніндегі кеңес",
        },
        "kind": OrganisationKind.INTERNATIONAL,
        "country": None,
        "website": "https://www.s-cica.org",
        "contact_email": "secretariat@cica.example",
    },
    {
        "slug": "cis",
        "names": {
            "ru": "Содружество Независимых Государств",
            "en": "Commonwealth of Independent States",
            "kk": "Тәуелсіз Мемлекеттер Достастығы",
        },
        "kind": OrganisationKind.INTERNATIONAL,
        "country": None,
        "website": "https://e-cis.info",
        "contact_email": "volunteers@cis.example",
    },
    {
        "slug": "kaznu-volunteer-centre",
        "names": {
            "kk": "Әл-Фараби атындағы ҚазҰУ волонтерлік орталығы",
            "ru": "Волонтерский центр КазНУ имени аль-Фараби",
            "en": "Al-Farabi Kazakh National University Volunteer Centre",
        },
        "kind": OrganisationKind.EDUCATION,
        "country": "KZ",
        "contact_email": "volunteers@kaznu.example",
    },
    {
        "slug": "aral-region-volunteers-nukus",
        "names": {
            "ru": "Волонтеры Приаралья (Нукус)",
            "en": "Aral Region Volunteers (Nukus)",
            "kk": "Арал өңірі еріктілері (Нөкіс)",
        },
        "kind": OrganisationKind.NGO,
        "country": "UZ",
        "contact_email": "nukus@aral-volunteers.example",
    },
]

# (full name, email, country, languages, skills, sending organisation slug or None)
VOLUNTEERS: list[tuple[str, str, str, list[str], list[str], str | None]] = [
    (
        "Айгерім Сәрсенбаева",
        "aigerim.sarsenbayeva@mail.example",
        "KZ",
        ["kk", "ru", "en"],
        ["Event coordination", "Экологиялық мониторинг"],
        "volunteers-of-kazakhstan",
    ),
    (
        "Данияр Жұмабеков",
        "daniyar.zhumabekov@mail.example",
        "KZ",
        ["kk", "ru"],
        ["First aid", "Logistics"],
        "mangystau-eco-volunteers",
    ),
    (
        "Ерлан Қасымов",
        "erlan.kassymov@mail.example",
        "KZ",
        ["kk", "ru"],
        ["Seal monitoring", "Boat handling"],
        "atyrau-eco-volunteers",
    ),
    (
        "Мадина Өтегенова",
        "madina.utegenova@mail.example",
        "KZ",
        ["kk", "ru", "en"],
        ["Saxaul planting", "Photography"],
        "aral-eco-volunteers",
    ),
    (
        "Батырхан Ахметов",
        "batyrkhan.akhmetov@mail.example",
        "KZ",
        ["kk", "ru", "en"],
        ["Public speaking", "Environmental policy"],
        "kaznu-volunteer-centre",
    ),
    (
        "Dilnoza Karimova",
        "dilnoza.karimova@mail.example",
        "UZ",
        ["uz", "ru", "en"],
        ["Saxaul planting", "Translation (uz, ru, en)"],
        "aral-region-volunteers-nukus",
    ),
    (
        "Baxtiyor Yusupov",
        "baxtiyor.yusupov@mail.example",
        "UZ",
        ["uz", "ru"],
        ["Water management", "Drip irrigation"],
        "aral-region-volunteers-nukus",
    ),
    (
        "Айжан Токтогулова",
        "aizhan.toktogulova@mail.example",
        "KG",
        ["ky", "ru", "en"],
        ["Mountain rescue", "Training facilitation"],
        None,
    ),
    (
        "Анна Кузнецова",
        "anna.kuznetsova@mail.example",
        "RU",
        ["ru", "en"],
        ["Экологическое просвещение", "Social media"],
        None,
    ),
    (
        "Фаррух Раҳимов",
        "farrukh.rahimov@mail.example",
        "TJ",
        ["tg", "ru", "en"],
        ["Glacier monitoring", "GIS mapping"],
        None,
    ),
    (
        "Leyla Məmmədova",
        "leyla.mammadova@mail.example",
        "AZ",
        ["az", "ru", "en"],
        ["Coastal clean-up", "Project management"],
        None,
    ),
    (
        "Jonas Becker",
        "jonas.becker@mail.example",
        "DE",
        ["de", "en", "ru"],
        ["Hydrology", "Public speaking"],
        "un-volunteers",
    ),
]


def _at(zone: str, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time at the venue, stored in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


async def load() -> DemoResult:
    """Write the demo data set into an empty, migrated database; returns fresh API keys."""
    async with in_transaction():
        orgs: dict[str, Organisation] = {}
        for spec in ORGANISATIONS:
            values = dict(spec)
            parent = values.pop("parent", None)
            orgs[str(values["slug"])] = await Organisation.create(
                **values, parent=orgs[str(parent)] if parent else None
            )

        volunteers: dict[str, Volunteer] = {}
        for full_name, email, country, languages, skills, sending in VOLUNTEERS:
            volunteers[email.split("@")[0]] = await Volunteer.create(
                full_name=full_name,
                email=email.lower(),
                country=country,
                languages=languages,
                skills=skills,
                skills_folded=skills_folded(skills),
                organisation=orgs[sending] if sending else None,
            )
        v = volunteers

        exchanges = [
            await _exchange(
                slug="cis-volunteer-forum-2026",
                titles={
                    "ru": "Первый форум волонтеров СНГ",
                    "kk": "ТМД еріктілерінің бірінші форумы",
                    "en": "First Forum of CIS Volunteers",
                },
                descriptions={
                    "ru": "Волонтерские организации стран Содружества впервые собрались вместе, чтобы "
                    "обменяться опытом работы на крупных мероприятиях, в чрезвычайных ситуациях и в "
                    "экологических проектах.",
                    "kk": "Достастық елдерінің волонтерлік ұйымдары ірі іс-шараларда, төтенше жағдайларда "
                    "және экологиялық жобаларда жинаған тәжірибесімен алғаш рет бір алаңда бөлісті.",
                    "en": "Volunteer organisations of the Commonwealth met for the first time to share "
                    "what they have learnt at major events, in emergencies and in environmental projects.",
                },
                theme=Theme.SOCIAL,
                status=ExchangeStatus.COMPLETED,
                host=orgs["volunteers-of-kazakhstan"],
                partners=[orgs["cis"], orgs["un-volunteers"]],
                country="KZ",
                city="Almaty",
                starts_on=date(2026, 10, 8),
                ends_on=date(2026, 10, 10),
                time_zone="Asia/Almaty",
                capacity=300,
                languages=["ru", "kk", "en"],
            ),
            await _exchange(
                slug="eco-summit-astana-2027",
                titles={
                    "kk": "Өңірлік экологиялық саммиттегі волонтерлер сессиясы",
                    "ru": "Волонтерская сессия Регионального экологического саммита",
                    "en": "Volunteer Session at the Regional Ecological Summit",
                },
                descriptions={
                    "kk": "Астанадағы Өңірлік экологиялық саммит аясында Орталық Азия волонтерлері "
                    "климатқа бейімделу, су үнемдеу және экологиялық ағарту жобаларын ұсынады.",
                    "ru": "В рамках Регионального экологического саммита в Астане волонтеры Центральной "
                    "Азии представят проекты по адаптации к изменению климата, сбережению воды и "
                    "экологическому просвещению.",
                    "en": "At the Regional Ecological Summit in Astana, volunteers from Central Asia "
                    "present their projects on climate adaptation, saving water and environmental "
                    "education.",
                },
                theme=Theme.ECOLOGY,
                status=ExchangeStatus.OPEN,
                host=orgs["volunteers-of-kazakhstan"],
                partners=[orgs["ministry-of-ecology-kz"], orgs["un-volunteers"], orgs["cica"], orgs["sco"]],
                country="KZ",
                city="Astana",
                starts_on=date(2027, 4, 22),
                ends_on=date(2027, 4, 24),
                time_zone="Asia/Almaty",
                capacity=120,
                languages=["kk", "ru", "en"],
            ),
            await _exchange(
                slug="caspian-action-week-2027",
                titles={
                    "kk": "Каспий теңізін қорғау апталығы",
                    "ru": "Неделя действий за Каспий",
                    "en": "Caspian Sea Action Week",
                },
                descriptions={
                    "kk": "Ақтау мен Атырау жағалауында бір апта: жағажайларды тазалау, каспий итбалығын "
                    "бақылау және жергілікті мектептерде экологиялық сабақтар.",
                    "ru": "Неделя на побережье Актау и Атырау: уборка пляжей, наблюдение за каспийским "
                    "тюленем и экологические уроки в местных школах.",
                    "en": "A week on the coast of Aktau and Atyrau: beach clean-ups, Caspian seal "
                    "monitoring and environmental lessons in local schools.",
                },
                theme=Theme.ECOLOGY,
                status=ExchangeStatus.OPEN,
                host=orgs["mangystau-eco-volunteers"],
                partners=[orgs["atyrau-eco-volunteers"], orgs["ministry-of-ecology-kz"]],
                country="KZ",
                city="Aktau",
                starts_on=date(2027, 6, 5),
                ends_on=date(2027, 6, 11),
                time_zone="Asia/Aqtau",
                capacity=60,
                languages=["kk", "ru"],
            ),
            await _exchange(
                slug="aral-restoration-week-2027",
                titles={
                    "en": "International Aral Sea Restoration Volunteer Week",
                    "kk": "Аралды қалпына келтіру халықаралық волонтерлер апталығы",
                    "ru": "Международная волонтерская неделя восстановления Арала",
                },
                descriptions={
                    "en": "Volunteers from Kazakhstan, Uzbekistan and beyond plant saxaul on the dried "
                    "seabed near Aralsk, visit the Kokaral dam and share ways to save water in farming.",
                    "kk": "Қазақстан, Өзбекстан және басқа елдердің волонтерлері Арал қаласы маңындағы "
                    "құрғаған теңіз түбіне сексеуіл отырғызады, Көкарал бөгетіне барады және егіншілікте "
                    "су үнемдеу тәжірибесімен бөліседі.",
                    "ru": "Волонтеры из Казахстана, Узбекистана и других стран высаживают саксаул на "
                    "осушенном дне моря возле Аральска, посещают Кокаральскую плотину и делятся опытом "
                    "экономии воды в сельском хозяйстве.",
                },
                theme=Theme.ECOLOGY,
                status=ExchangeStatus.OPEN,
                host=orgs["aral-eco-volunteers"],
                partners=[
                    orgs["un-volunteers"],
                    orgs["aral-region-volunteers-nukus"],
                    orgs["ministry-of-ecology-kz"],
                ],
                country="KZ",
                city="Aralsk",
                starts_on=date(2027, 5, 10),
                ends_on=date(2027, 5, 16),
                time_zone="Asia/Qyzylorda",
                capacity=40,
                languages=["en", "kk", "ru"],
            ),
            await _exchange(
                slug="balkhash-youth-eco-camp-2027",
                titles={
                    "kk": "Балқаш жастар эко-лагері",
                    "ru": "Молодежный эко-лагерь на Балхаше",
                    "en": "Balkhash Youth Eco Camp",
                },
                descriptions={
                    "kk": "Жоспар әлі талқылануда: студенттерге арналған көл жағалауын зерттеу лагері.",
                    "ru": "План еще обсуждается: исследовательский лагерь для студентов на берегу озера.",
                    "en": "Still being planned: a field camp for students on the lake shore.",
                },
                theme=Theme.EDUCATION,
                status=ExchangeStatus.DRAFT,
                host=orgs["volunteers-of-kazakhstan"],
                partners=[orgs["kaznu-volunteer-centre"]],
                country="KZ",
                city="Balkhash",
                starts_on=date(2027, 7, 12),
                ends_on=date(2027, 7, 18),
                time_zone="Asia/Almaty",
                capacity=25,
                languages=["kk", "ru"],
            ),
        ]
        forum, summit, caspian, aral, _camp = exchanges

        sessions = [
            # First Forum of CIS Volunteers, Almaty
            await _session(
                forum,
                (2026, 10, 8, 10),
                (2026, 10, 8, 12),
                {
                    "ru": "Открытие форума: волонтерство в странах СНГ",
                    "kk": "Форумның ашылуы: ТМД елдеріндегі волонтерлік",
                    "en": "Opening: volunteering across the CIS",
                },
                SessionFormat.IN_PERSON,
                venue="Almaty, Palace of the Republic",
                language="ru",
                speakers=[v["aigerim.sarsenbayeva"], v["jonas.becker"]],
            ),
            await _session(
                forum,
                (2026, 10, 9, 14),
                (2026, 10, 9, 17, 30),
                {
                    "ru": "Волонтеры в чрезвычайных ситуациях",
                    "kk": "Төтенше жағдайлардағы волонтерлер",
                    "en": "Volunteers in emergencies",
                },
                SessionFormat.HYBRID,
                venue="Almaty, Palace of the Republic",
                online_url="https://meet.example/cis-forum-emergencies",
                language="ru",
                speakers=[v["aizhan.toktogulova"]],
            ),
            # Regional Ecological Summit, Astana
            await _session(
                summit,
                (2027, 4, 22, 9, 30),
                (2027, 4, 22, 11),
                {
                    "kk": "Волонтерлер және климатқа бейімделу",
                    "ru": "Волонтеры и адаптация к изменению климата",
                    "en": "Volunteers and climate adaptation",
                },
                SessionFormat.IN_PERSON,
                venue="Astana, EXPO Congress Centre, Hall B",
                language="kk",
                capacity=80,
                speakers=[v["batyrkhan.akhmetov"], v["farrukh.rahimov"]],
            ),
            await _session(
                summit,
                (2027, 4, 23, 15),
                (2027, 4, 23, 16, 30),
                {
                    "en": "Water for the steppe: volunteer projects from Central Asia",
                    "kk": "Далаға су: Орталық Азиядағы волонтерлік жобалар",
                    "ru": "Вода для степи: волонтерские проекты Центральной Азии",
                },
                SessionFormat.HYBRID,
                venue="Astana, EXPO Congress Centre, Hall C",
                online_url="https://meet.example/eco-summit-water",
                language="en",
                speakers=[v["jonas.becker"], v["baxtiyor.yusupov"]],
            ),
            # Caspian Sea Action Week, Aktau
            await _session(
                caspian,
                (2027, 6, 5, 8),
                (2027, 6, 5, 13),
                {
                    "kk": "Ақтау жағажайларын тазалау",
                    "ru": "Уборка пляжей Актау",
                    "en": "Aktau beach clean-up",
                },
                SessionFormat.IN_PERSON,
                venue="Aktau, 4th microdistrict embankment",
                language="kk",
                capacity=60,
                speakers=[v["daniyar.zhumabekov"]],
            ),
            await _session(
                caspian,
                (2027, 6, 8, 7),
                (2027, 6, 8, 12),
                {
                    "ru": "Наблюдение за каспийским тюленем",
                    "kk": "Каспий итбалығын бақылау",
                    "en": "Caspian seal monitoring",
                },
                SessionFormat.IN_PERSON,
                venue="Kenderli bay, field station",
                language="ru",
                capacity=15,
                speakers=[v["erlan.kassymov"], v["leyla.mammadova"]],
            ),
            # Aral Sea Restoration Week, Aralsk
            await _session(
                aral,
                (2027, 5, 11, 9),
                (2027, 5, 11, 17),
                {
                    "en": "Planting saxaul on the dry seabed",
                    "kk": "Құрғаған теңіз түбіне сексеуіл отырғызу",
                    "ru": "Посадка саксаула на осушенном дне моря",
                },
                SessionFormat.IN_PERSON,
                venue="Aralkum, 40 km south of Aralsk",
                language="en",
                capacity=40,
                speakers=[v["madina.utegenova"], v["dilnoza.karimova"]],
            ),
            await _session(
                aral,
                (2027, 5, 13, 10),
                (2027, 5, 13, 15),
                {
                    "kk": "Көкарал бөгеті: Кіші Аралдың қайта оралуы",
                    "ru": "Кокаральская плотина: возвращение Малого Арала",
                    "en": "The Kokaral dam: how the Small Aral came back",
                },
                SessionFormat.IN_PERSON,
                venue="Kokaral dam",
                language="kk",
            ),
            await _session(
                aral,
                (2027, 5, 15, 18),
                (2027, 5, 15, 19, 30),
                {
                    "ru": "Экономия воды в хозяйствах Приаралья",
                    "kk": "Арал өңірі шаруашылықтарында су үнемдеу",
                    "en": "Saving water on farms around the Aral",
                },
                SessionFormat.ONLINE,
                online_url="https://meet.example/aral-water",
                language="ru",
                speakers=[v["baxtiyor.yusupov"]],
            ),
        ]

        participations = [
            (
                forum,
                "aigerim.sarsenbayeva",
                ParticipationRole.COORDINATOR,
                ParticipationStatus.ATTENDED,
                24.0,
            ),
            (forum, "jonas.becker", ParticipationRole.SPEAKER, ParticipationStatus.ATTENDED, 6.0),
            (forum, "aizhan.toktogulova", ParticipationRole.SPEAKER, ParticipationStatus.ATTENDED, 8.5),
            (forum, "anna.kuznetsova", ParticipationRole.PARTICIPANT, ParticipationStatus.ATTENDED, 18.0),
            (forum, "leyla.mammadova", ParticipationRole.PARTICIPANT, ParticipationStatus.WITHDRAWN, None),
            (summit, "batyrkhan.akhmetov", ParticipationRole.SPEAKER, ParticipationStatus.CONFIRMED, None),
            (summit, "farrukh.rahimov", ParticipationRole.SPEAKER, ParticipationStatus.CONFIRMED, None),
            (summit, "jonas.becker", ParticipationRole.SPEAKER, ParticipationStatus.CONFIRMED, None),
            (
                summit,
                "aigerim.sarsenbayeva",
                ParticipationRole.COORDINATOR,
                ParticipationStatus.CONFIRMED,
                None,
            ),
            (summit, "anna.kuznetsova", ParticipationRole.PARTICIPANT, ParticipationStatus.CONFIRMED, None),
            (
                caspian,
                "daniyar.zhumabekov",
                ParticipationRole.COORDINATOR,
                ParticipationStatus.CONFIRMED,
                None,
            ),
            (caspian, "erlan.kassymov", ParticipationRole.MENTOR, ParticipationStatus.CONFIRMED, None),
            (caspian, "leyla.mammadova", ParticipationRole.SPEAKER, ParticipationStatus.CONFIRMED, None),
            (aral, "madina.utegenova", ParticipationRole.COORDINATOR, ParticipationStatus.CONFIRMED, None),
            (aral, "dilnoza.karimova", ParticipationRole.MENTOR, ParticipationStatus.CONFIRMED, None),
            (aral, "baxtiyor.yusupov", ParticipationRole.SPEAKER, ParticipationStatus.CONFIRMED, None),
            (aral, "jonas.becker", ParticipationRole.PARTICIPANT, ParticipationStatus.CONFIRMED, None),
            (aral, "farrukh.rahimov", ParticipationRole.PARTICIPANT, ParticipationStatus.CONFIRMED, None),
        ]
        for exchange, who, role, status, hours in participations:
            await Participation.create(
                volunteer=v[who], exchange=exchange, role=role, status=status, hours=hours
            )

        admin = await access.issue_key(ApiKeyRole.ADMIN, None, "demo admin")
        organisation = await access.issue_key(
            ApiKeyRole.ORGANISATION, orgs[DEMO_ORGANISATION], "demo organisation key"
        )
    return DemoResult(
        admin_key=admin.secret,
        organisation_key=organisation.secret,
        organisation_slug=DEMO_ORGANISATION,
        organisations=len(orgs),
        exchanges=len(exchanges),
        sessions=len(sessions),
        volunteers=len(volunteers),
        participations=len(participations),
    )


async def _exchange(
    *,
    titles: dict[str, str],
    descriptions: dict[str, str],
    partners: list[Organisation],
    **fields: Any,
) -> Exchange:
    exchange = await Exchange.create(
        titles=titles,
        descriptions=descriptions,
        search_text=search_text(titles, descriptions),
        **fields,
    )
    await exchange.partners.add(*partners)
    return exchange


async def _session(
    exchange: Exchange,
    starts: tuple[int, ...],
    ends: tuple[int, ...],
    titles: dict[str, str],
    format: SessionFormat,
    *,
    venue: str | None = None,
    online_url: str | None = None,
    language: str | None = None,
    capacity: int | None = None,
    speakers: list[Volunteer] | None = None,
) -> Session:
    # Written as wall-clock times at the venue, like an organiser would enter them.
    zone = exchange.time_zone
    session = await Session.create(
        exchange=exchange,
        titles=titles,
        starts_at=_at(zone, *starts),
        ends_at=_at(zone, *ends),
        format=format,
        venue=venue,
        online_url=online_url,
        language=language,
        capacity=capacity,
    )
    if speakers:
        await session.speakers.add(*speakers)
    return session
