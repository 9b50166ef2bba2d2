"""The demo data set: Kazakh and international organisations with their volunteers, the
permanent regional teams (Atyrau, Mangystau, Aral), six exchanges around the Caspian, the
Aral Sea, Almaty and Astana (two completed, three open, a draft) and what happened at the
completed ones: attendance and hours, outcomes, experience reports and certificates.

Everything is written through the domain services, as the API would write it (the same
validation, derived columns, access rules and outbox mails; no events are announced, see
_Unannounced), inside one transaction, so a failure leaves the database empty. Where a service judges time against
an exchange's start or end (attendance, outcomes, reports, certificates) it gets a fixed
moment shortly after that exchange, so the story is the same whenever it is seeded; the
invitation services read the clock themselves, so invitations, answers and consent carry
the time of seeding. Texts are in Kazakh, Russian and English, the first language of each
map being the record's default.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from exchange import access, events, outcomes, reports, roster
from exchange.access import Actor, Role
from exchange.attendance import Attendance, record_attendance
from exchange.certificates import service as certificates
from exchange.exchanges import ExchangeChanges, NewExchange, create_exchange, update_exchange
from exchange.invitations import tokens
from exchange.invitations.invite import Invitee, InviteRequest, invite_volunteers
from exchange.invitations.respond import Response, respond
from exchange.models import (
    ApiKeyRole,
    Certificate,
    CertificateStatus,
    Exchange,
    ExchangeStatus,
    ExperienceReport,
    Invitation,
    Organisation,
    OrganisationKind,
    OutcomeMetric,
    Participation,
    ParticipationRole,
    ParticipationStatus,
    Session,
    SessionFormat,
    Theme,
    Volunteer,
)
from exchange.organisations import NewOrganisation, create_organisation
from exchange.sessions import NewSession, add_session
from exchange.settings import Settings, get_settings
from exchange.validation import LocalizedText
from exchange.volunteers import NewVolunteer, register_volunteer

# The organisation whose key `exchange serve --demo` prints: it hosts most demo exchanges.
DEMO_ORGANISATION = "volunteers-of-kazakhstan"

ADMIN = Actor(Role.ADMIN, key_id="demo")


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
    invitations: int = 0
    reports: int = 0
    certificates: int = 0

    @property
    def summary(self) -> str:
        return (
            f"{self.organisations} organisations, {self.exchanges} exchanges, {self.sessions} sessions, "
            f"{self.volunteers} volunteers, {self.participations} participations, "
            f"{self.invitations} invitations, {self.reports} experience reports, "
            f"{self.certificates} certificates"
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

# (full name, email, country, languages, skills, sending organisation slug or None). A
# volunteer without a sending organisation is registered by the platform's admins. Who is
# public is the volunteer's own choice, made when accepting an invitation (PUBLIC below);
# everyone else keeps the default, a private profile.
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
        "Жанар Есенова",
        "zhanar.yessenova@mail.example",
        "KZ",
        ["kk", "ru"],
        ["Beach clean-up", "Алғашқы медициналық көмек"],
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
        "Гүлнар Досмағамбетова",
        "gulnar.dosmagambetova@mail.example",
        "KZ",
        ["kk", "ru"],
        ["Құстарды бақылау", "Data entry"],
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
        "Бауыржан Әбдіқадыров",
        "baurzhan.abdikadyrov@mail.example",
        "KZ",
        ["kk", "ru"],
        ["Off-road driving", "Көшет отырғызу"],
        "aral-eco-volunteers",
    ),
    (
        "Сәуле Жақсыбекова",
        "saule.zhaksybekova@mail.example",
        "KZ",
        ["kk", "ru"],
        ["Экологиялық ағарту", "Working with children"],
        "aral-eco-volunteers",
    ),
    (
        "Ақерке Ибраева",
        "akerke.ibrayeva@mail.example",
        "KZ",
        ["kk", "ru", "en"],
        ["Social media", "Волонтерлерді тіркеу"],
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
        "Gulnara Utepbergenova",
        "gulnara.utepbergenova@mail.example",
        "UZ",
        ["uz", "ru"],
        ["Seedling nursery", "Перевод (каракалпакский, русский)"],
        "aral-region-volunteers-nukus",
    ),
    (
        "Azamat Tleumuratov",
        "azamat.tleumuratov@mail.example",
        "UZ",
        ["uz", "ru", "kk"],
        ["Driving", "Water sampling"],
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

# The few who chose a public profile when they accepted; the others stay private.
PUBLIC = frozenset({"jonas.becker", "aizhan.toktogulova", "dilnoza.karimova", "leyla.mammadova"})

# The language each invitee reads their invitation in.
LOCALES = {
    "aizhan.toktogulova": "ru",
    "anna.kuznetsova": "ru",
    "farrukh.rahimov": "ru",
    "leyla.mammadova": "ru",
    "jonas.becker": "en",
    "batyrkhan.akhmetov": "kk",
    "dilnoza.karimova": "ru",
    "baxtiyor.yusupov": "ru",
    "gulnara.utepbergenova": "ru",
    "azamat.tleumuratov": "ru",
}


def _at(zone: str, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time at the venue, in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _texts(texts: dict[str, str] | None) -> list[LocalizedText] | None:
    return None if texts is None else [LocalizedText(locale, text) for locale, text in texts.items()]


@dataclass
class _Exchange:
    record: Exchange
    host: Actor
    sessions: list[Session]


class _Story:
    """The seed's steps, each through the service an API call would use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.orgs: dict[str, Organisation] = {}
        self.people: dict[str, Volunteer] = {}

    def actor(self, slug: str) -> Actor:
        return Actor(Role.ORGANISATION, self.orgs[slug].id, key_id="demo")

    async def organisations(self) -> None:
        for spec in ORGANISATIONS:
            parent = spec.get("parent")
            self.orgs[spec["slug"]] = await create_organisation(
                ADMIN,
                NewOrganisation(
                    slug=spec["slug"],
                    names=_texts(spec["names"]) or [],
                    kind=spec["kind"],
                    country=spec["country"],
                    website=spec.get("website"),
                    parent_id=self.orgs[parent].id if parent else None,
                    contact_email=spec["contact_email"],
                ),
            )

    async def volunteers(self) -> None:
        # Each sending organisation registers its own people (the regional teams theirs).
        for full_name, email, country, languages, skills, sending in VOLUNTEERS:
            self.people[email.split("@")[0]] = await register_volunteer(
                self.actor(sending) if sending else ADMIN,
                NewVolunteer(full_name, email, country, languages, skills),
            )

    async def exchange(
        self,
        host: str,
        *,
        titles: dict[str, str],
        descriptions: dict[str, str],
        partners: Sequence[str],
        **fields: Any,
    ) -> _Exchange:
        actor = self.actor(host)
        record = await create_exchange(
            actor,
            NewExchange(
                titles=_texts(titles) or [],
                descriptions=_texts(descriptions),
                partner_ids=[self.orgs[slug].id for slug in partners],
                **fields,
            ),
        )
        return _Exchange(record, actor, [])

    async def session(
        self,
        exchange: _Exchange,
        starts: tuple[int, ...],
        ends: tuple[int, ...],
        titles: dict[str, str],
        format: SessionFormat,
        *,
        speakers: Sequence[str] = (),
        **fields: Any,
    ) -> Session:
        # Wall-clock times at the venue, as an organiser enters them.
        zone = exchange.record.time_zone
        session = await add_session(
            exchange.host,
            NewSession(
                exchange_id=exchange.record.id,
                titles=_texts(titles) or [],
                starts_at=_at(zone, *starts),
                ends_at=_at(zone, *ends),
                format=format,
                speaker_ids=[self.people[who].id for who in speakers],
                **fields,
            ),
            self.settings,
        )
        exchange.sessions.append(session)
        return session

    async def roster(
        self, exchange: _Exchange, who: str, role: ParticipationRole, by: Actor | None = None
    ) -> None:
        await roster.add_participant(by or exchange.host, exchange.record.id, self.people[who].id, role)

    async def invite(self, exchange: _Exchange, *people: str) -> dict[str, Invitation]:
        result = await invite_volunteers(
            exchange.host,
            self.settings,
            InviteRequest(
                exchange_id=exchange.record.id,
                invitees=[
                    Invitee(
                        email=self.people[who].email,
                        full_name=self.people[who].full_name,
                        country=self.people[who].country,
                        locale=LOCALES[who],
                    )
                    for who in people
                ],
            ),
        )
        if result.problems:
            raise RuntimeError(f"the demo's invitees were refused: {result.problems}")
        return dict(zip(people, result.invitations, strict=True))

    def token(self, invitation: Invitation) -> str:
        """The link's token, as the invitation mail writes it."""
        token = tokens.token_of(invitation.token_nonce, invitation.token_hash, self.settings.verifying_keys)
        if token is None:
            raise RuntimeError(f"no key of the demo's settings makes invitation {invitation.id}'s link")
        return token

    async def answer(self, invitation: Invitation, response: Response, who: str) -> Invitation:
        # Accepting is consenting to the notice; the profile choice is the volunteer's.
        return await respond(
            self.token(invitation),
            response,
            public_profile=(who in PUBLIC) if response is Response.ACCEPT else None,
            settings=self.settings,
        )

    async def accept_all(self, invitations: dict[str, Invitation]) -> None:
        for who, invitation in invitations.items():
            await self.answer(invitation, Response.ACCEPT, who)

    async def participation(self, exchange: _Exchange, who: str) -> Participation:
        return await Participation.get(exchange_id=exchange.record.id, volunteer_id=self.people[who].id)

    async def role(self, exchange: _Exchange, who: str, role: ParticipationRole) -> None:
        participation = await self.participation(exchange, who)
        await roster.update_participation(
            exchange.host, participation.id, roster.ParticipationChanges(role=role)
        )

    async def status(self, exchange: _Exchange, *statuses: ExchangeStatus) -> None:
        for status in statuses:
            exchange.record = await update_exchange(
                exchange.host, exchange.record.id, ExchangeChanges(status=status), self.settings
            )

    async def attended(self, exchange: _Exchange, at: datetime, sessions: dict[str, Sequence[int]]) -> None:
        """Each volunteer ATTENDED the numbered sessions (1 = the first added), for as many
        hours as those sessions last."""
        for who, numbers in sessions.items():
            attended = [exchange.sessions[number - 1] for number in numbers]
            hours = sum((s.ends_at - s.starts_at for s in attended), timedelta()) / timedelta(hours=1)
            participation = await self.participation(exchange, who)
            await record_attendance(
                exchange.host,
                participation.id,
                Attendance(ParticipationStatus.ATTENDED, hours, [s.id for s in attended]),
                now=at,
            )

    async def no_show(self, exchange: _Exchange, at: datetime, who: str) -> None:
        participation = await self.participation(exchange, who)
        await record_attendance(
            exchange.host, participation.id, Attendance(ParticipationStatus.NO_SHOW), now=at
        )

    async def certify(self, exchange: _Exchange, at: datetime) -> None:
        """The host certifies every attended participation (those a setting certified
        automatically already are)."""
        attended = await Participation.filter(
            exchange_id=exchange.record.id, status=ParticipationStatus.ATTENDED
        ).order_by("id")
        current = await certificates.latest_by_participation([p.id for p in attended])
        for participation in attended:
            known = current.get(participation.id)
            if known is None or known.status is not CertificateStatus.VALID:
                await certificates.issue(exchange.host, participation.id, self.settings, now=at)

    async def report(
        self,
        exchange: _Exchange,
        author: Actor,
        at: datetime,
        *,
        titles: dict[str, str],
        bodies: dict[str, str],
        what_worked: dict[str, str] | None = None,
        what_to_change: dict[str, str] | None = None,
        photos: Sequence[str] = (),
        published_at: datetime | None = None,
    ) -> None:
        report = await reports.submit_report(
            author,
            exchange.record.id,
            reports.NewReport(
                _texts(titles) or [],
                _texts(bodies) or [],
                _texts(what_worked),
                _texts(what_to_change),
                photos,
            ),
            now=at,
        )
        if published_at is not None:
            await reports.moderate_report(
                exchange.host, report.id, reports.Decision.PUBLISH, now=published_at
            )


# ---------------------------------------------------------------- texts of the completed exchanges

FORUM_SDGS = [11, 13, 17]
FORUM_REPORT: dict[str, Any] = {
    "titles": {
        "kk": "ТМД волонтерлерінің бірінші форумы: бір-бірімізден не үйрендік",
        "ru": "Первый форум волонтеров СНГ: чему мы научились друг у друга",
        "en": "First Forum of CIS Volunteers: what we learned from each other",
    },
    "bodies": {
        "kk": "Алматыда үш күн бойы Достастық елдерінің волонтерлік ұйымдары баяндама оқығаннан "
        "гөрі тәжірибе алмасты: қырғыз құтқарушылары сел қаупіне еріктілерді қалай дайындайтынын, "
        "ресейлік экологиялық ағарту орталықтары мектептермен қалай жұмыс істейтінін, Арал түбінде "
        "сексеуілдің қалай тамыр алатынын көрсетті.\n\n"
        "**Форумда келісілгені:**\n\n"
        "- жеті ұлттық волонтерлік орталық ынтымақтастық туралы меморандумға қол қойды;\n"
        "- төтенше жағдайларда жұмыс істейтін волонтерлерді даярлаудың ортақ бағдарламасы көктемге "
        "дейін әзірленеді;\n"
        "- 2027 жылы Арал мен Каспийде бірлескен волонтерлік апталықтар өтеді.\n\n"
        "Форумды залда және онлайн 1 200-ден астам адам тыңдады.",
        "ru": "Три дня в Алматы мы слушали не доклады, а истории: как кыргызские спасатели готовят "
        "добровольцев к сходу селей, как российские центры экопросвещения работают со школами, как на "
        "высохшем дне Арала приживается саксаул. Главный вывод — опыт есть у всех, но по-настоящему "
        "обмениваться им мы начали только сейчас.\n\n"
        "**О чем договорились:**\n\n"
        "1. Семь национальных волонтерских центров подписали меморандумы о сотрудничестве.\n"
        "2. Общая программа подготовки волонтеров для чрезвычайных ситуаций будет готова к весне.\n"
        "3. В 2027 году — совместные волонтерские недели на Арале и Каспии.\n\n"
        "В зале и онлайн форум смотрели более 1 200 человек.",
        "en": "Over three days in Almaty, volunteer organisations from across the Commonwealth compared "
        "notes rather than speeches: how Kyrgyz rescuers prepare volunteers for mudflows, how Russian "
        "environmental education centres work with schools, how saxaul takes root on the dry bed of "
        "the Aral Sea.\n\n"
        "**Agreed at the forum:**\n\n"
        "- seven national volunteer centres signed memoranda of cooperation;\n"
        "- a shared training programme for volunteers in emergencies, due by spring;\n"
        "- joint volunteer weeks on the Aral and the Caspian in 2027.\n\n"
        "More than 1,200 people followed the forum in the hall and online.",
    },
    "what_worked": {
        "kk": "Сессиялардың көбі панельдік талқылау емес, шеберхана түрінде өтті: қатысушылар "
        "бір-бірінің әдістерін сол жерде сынап көрді.",
        "ru": "Вместо панельных дискуссий — мастерские: участники сразу пробовали методы друг друга.",
        "en": "Workshops instead of panels: participants tried each other's methods on the spot.",
    },
    "what_to_change": {
        "kk": "Онлайн қатысушылар сұрақ қоя алмай қалды; келесі жолы әр сессияға жеке чат модераторын "
        "бөлеміз.",
        "ru": "Онлайн-участникам почти не удавалось задать вопрос: в следующий раз у каждой сессии "
        "будет свой модератор чата.",
        "en": "Online participants could hardly ask a question; next time every session gets its own "
        "chat moderator.",
    },
}
FORUM_PARTNER_REPORT: dict[str, Any] = {
    "titles": {
        "ru": "Итоги форума для сети волонтерских центров СНГ",
        "en": "What the forum means for the CIS network of volunteer centres",
    },
    "bodies": {
        "ru": "Форум впервые собрал волонтерские центры стран Содружества за одним столом. Для нас "
        "важно, что у договоренностей появились сроки: рабочая группа по подготовке волонтеров для "
        "ЧС соберется в феврале, а следующий форум предложено провести в Ташкенте.\n\n"
        "Благодарим «Волонтеров Казахстана» за организацию и открытость: материалы всех сессий "
        "доступны участникам.",
        "en": "For the first time, the forum brought the volunteer centres of the Commonwealth to one "
        "table. The agreements came with dates: the working group on training volunteers for "
        "emergencies meets in February, and Tashkent has been proposed for the next forum.\n\n"
        "We thank Volunteers of Kazakhstan for the organisation and for sharing the materials of "
        "every session with the participants.",
    },
    "what_worked": {
        "ru": "Четкий регламент и синхронный перевод на три языка.",
        "en": "A tight programme and simultaneous interpretation into three languages.",
    },
}

ARAL_2026_SDGS = [4, 6, 13, 15]
ARAL_REPORT: dict[str, Any] = {
    "titles": {
        "kk": "Арал түбіндегі күзгі апта: 4 800 сексеуіл көшеті",
        "ru": "Осенняя неделя на дне Арала: 4 800 саженцев саксаула",
        "en": "An autumn week on the Aral seabed: 4,800 saxaul seedlings",
    },
    "bodies": {
        "kk": "Қазан айының соңында Қазақстан, Өзбекстан, Ресей және Германиядан келген волонтерлер Ақеспе "
        "ауылы маңындағы құрғаған теңіз түбіне екі күнде 4 800 сексеуіл көшетін отырғызды. Көшеттерді "
        "Арал орман шаруашылығының көшетханасы берді, суаруға су тасығыш көліктерді жергілікті "
        "шаруалар ұсынды.\n\n"
        "Аптаның қалған күндерінде Арал қаласының ескі айлағын тазаладық (1,35 тонна қоқыс: ескі "
        "торлар, пластик, темір-терсек), қала мектептерінде Арал туралы сабақ өткіздік және Көкарал "
        "бөгетіне бардық.\n\n"
        "> Сексеуіл құмды ұстап тұрады: ол тамыр алған жерде жел тұзды шаңды азырақ көтереді.\n\n"
        "Көктемде көшеттердің қаншасы тамыр алғанын бірге тексереміз.",
        "ru": "В конце октября волонтеры из Казахстана, Узбекистана, России и Германии за два дня высадили "
        "4 800 саженцев саксаула на осушенном дне моря у села Акеспе. Саженцы дал питомник Аральского "
        "лесного хозяйства, водовозки для полива — местные фермеры.\n\n"
        "В остальные дни убрали старую гавань Аральска (1,35 тонны: старые сети, пластик, металлолом), "
        "провели уроки об Арале в школах города и съездили на Кокаральскую плотину.\n\n"
        "> Саксаул держит пески: там, где он прижился, ветер поднимает меньше соленой пыли.\n\n"
        "Весной вместе проверим, сколько саженцев прижилось.",
        "en": "At the end of October, volunteers from Kazakhstan, Uzbekistan, Russia and Germany planted 4,800 "
        "saxaul seedlings in two days on the dried seabed near the village of Akespe. The seedlings "
        "came from the nursery of the Aral forestry; local farmers lent water trucks.\n\n"
        "For the rest of the week we cleaned up the old harbour of Aralsk (1.35 tonnes of old nets, "
        "plastic and scrap metal), taught lessons about the Aral in the town's schools and visited the "
        "Kokaral dam.\n\n"
        "> Saxaul holds the sand: where it takes root, the wind lifts less salty dust.\n\n"
        "In spring we will check together how many seedlings have taken root.",
    },
    "what_worked": {
        "kk": "Нөкістік әріптестердің тәжірибесі: олар көшетті ылғал ұзақ сақталатын жүйекке "
        "отырғызуды үйретті.",
        "ru": "Опыт коллег из Нукуса: они показали, как сажать в борозды, где дольше держится влага.",
        "en": "Our colleagues from Nukus showed us how to plant in furrows that hold moisture longer.",
    },
    "what_to_change": {
        "kk": "Екінші күні көшеттер кешігіп жетті; келесі жолы оларды алаңға бір күн бұрын апарамыз.",
        "ru": "Во второй день саженцы привезли с опозданием — в следующий раз завезем их на участок "
        "накануне.",
        "en": "On the second day the seedlings arrived late; next time we will bring them to the plot "
        "the day before.",
    },
    "photos": [
        "https://photos.example/aral-autumn-2026/planting-near-akespe.jpg",
        "https://photos.example/aral-autumn-2026/old-harbour-clean-up.jpg",
    ],
}
ARAL_PARTICIPANT_REPORT: dict[str, dict[str, str]] = {
    "titles": {"ru": "Саксаул с двух берегов", "en": "Saxaul from both shores"},
    "bodies": {
        "ru": "Я третий год сажаю саксаул под Муйнаком, а на казахстанской стороне Арала оказалась "
        "впервые. Удивило, насколько похожи наши заботы: та же соленая пыль, те же споры о том, когда "
        "лучше сажать — осенью или ранней весной.\n\n"
        "Мы с коллегами из Нукуса показали, как в Каракалпакстане нарезают борозды, чтобы дольше "
        "держалась влага. Казахстанские волонтеры в ответ научили нас считать приживаемость на пробных "
        "площадках — этим методом теперь будем пользоваться и дома.",
        "en": "I have been planting saxaul near Moynaq for three years, but this was my first time on "
        "the Kazakh side of the Aral. Our worries turned out to be the same: the same salty dust, the "
        "same debate about planting in autumn or in early spring.\n\n"
        "With my colleagues from Nukus we showed how furrows are cut in Karakalpakstan so that moisture "
        "stays longer. In return, the Kazakh volunteers taught us to measure survival on sample plots, "
        "a method we will now use at home too.",
    },
    "what_worked": {
        "ru": "Смешанные бригады: в каждой были волонтеры из обеих стран.",
        "en": "Mixed teams, with volunteers from both countries in each.",
    },
    "what_to_change": {
        "ru": "Хотелось бы больше времени с местными лесниками.",
        "en": "More time with the local foresters would have helped.",
    },
}
ARAL_PARTNER_REPORT: dict[str, Any] = {
    "titles": {
        "en": "Volunteering across the border on the Aral: notes from UN Volunteers",
        "ru": "Трансграничное волонтерство на Арале: заметки Программы добровольцев ООН",
    },
    "bodies": {
        "en": "UN Volunteers supported the Uzbek team's travel and the safety briefing. Working across "
        "the border took preparation (letters of invitation, one insurance policy for everyone) but it "
        "paid off: mixed Kazakh and Uzbek teams planted faster and learned more than either would have "
        "alone.\n\n"
        "We recommend the format for the spring week in May 2027 and will share our preparation "
        "checklist with other hosts.",
        "ru": "Программа добровольцев ООН помогла узбекской команде с поездкой и провела инструктаж по "
        "безопасности. Работа через границу потребовала подготовки — приглашения, общая страховка, — но "
        "оправдала себя: смешанные казахстанско-узбекские бригады сажали быстрее и учились больше.\n\n"
        "Рекомендуем этот формат для весенней недели в мае 2027 года; свой чек-лист подготовки "
        "передадим другим организаторам.",
    },
}


class _Unannounced:
    """The bus while seeding: it carries nothing. Nobody can be subscribed to a database
    that is being filled, and the seed's events would mix the real clock (the services that
    read it) with the demo's fixed one, which the hub reports as events out of order."""

    hub: Any = None

    async def publish(self, event: events.Event) -> None:
        return None

    async def publish_key_revoked(self, key_id: str) -> None:
        return None

    async def subscribe(self) -> AsyncIterator[events.Event]:
        return
        yield

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


async def load(settings: Settings | None = None) -> DemoResult:
    """Write the demo data set into an empty, migrated database; returns fresh API keys.
    ``settings`` signs the invitation links and certificate codes (the environment's by
    default, as the server reads them)."""
    story = _Story(settings or get_settings())
    # Read, not made: get_bus() would build (and leave open) a bus for a process that has none.
    previous = events._bus
    events.set_bus(_Unannounced())
    try:
        async with in_transaction():
            await story.organisations()
            await story.volunteers()
            await _forum(story)
            await _aral_autumn(story)
            await _summit(story)
            await _caspian(story)
            await _aral_spring(story)
            await _balkhash(story)
            admin = await access.issue_key(ApiKeyRole.ADMIN, None, "demo admin")
            organisation = await access.issue_key(
                ApiKeyRole.ORGANISATION, story.orgs[DEMO_ORGANISATION], "demo organisation key"
            )
            return DemoResult(
                admin_key=admin.secret,
                organisation_key=organisation.secret,
                organisation_slug=DEMO_ORGANISATION,
                organisations=len(story.orgs),
                exchanges=await Exchange.all().count(),
                sessions=await Session.all().count(),
                volunteers=len(story.people),
                participations=await Participation.all().count(),
                invitations=await Invitation.all().count(),
                reports=await ExperienceReport.all().count(),
                certificates=await Certificate.all().count(),
            )
    finally:
        events.set_bus(previous)


# ---------------------------------------------------------------- the exchanges, one by one


async def _forum(story: _Story) -> None:
    """The First Forum of CIS Volunteers, Almaty, 8-10 October 2026: completed."""
    forum = await story.exchange(
        "volunteers-of-kazakhstan",
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
        status=ExchangeStatus.OPEN,
        partners=["cis", "un-volunteers"],
        country="KZ",
        city="Almaty",
        starts_on=date(2026, 10, 8),
        ends_on=date(2026, 10, 10),
        time_zone="Asia/Almaty",
        capacity=300,
        languages=["ru", "kk", "en"],
        sdgs=FORUM_SDGS,
    )
    await story.roster(forum, "aigerim.sarsenbayeva", ParticipationRole.COORDINATOR)
    invited = await story.invite(
        forum,
        "jonas.becker",
        "aizhan.toktogulova",
        "dilnoza.karimova",
        "anna.kuznetsova",
        "farrukh.rahimov",
        "batyrkhan.akhmetov",
        "leyla.mammadova",
    )
    declined = invited.pop("leyla.mammadova")
    await story.accept_all(invited)
    await story.answer(declined, Response.DECLINE, "leyla.mammadova")
    for who in ("jonas.becker", "aizhan.toktogulova"):
        await story.role(forum, who, ParticipationRole.SPEAKER)

    venue = "Almaty, Palace of the Republic"
    await story.session(
        forum,
        (2026, 10, 8, 10),
        (2026, 10, 8, 12),
        {
            "ru": "Открытие форума: волонтерство в странах СНГ",
            "kk": "Форумның ашылуы: ТМД елдеріндегі волонтерлік",
            "en": "Opening: volunteering across the CIS",
        },
        SessionFormat.IN_PERSON,
        venue=venue,
        language="ru",
        speakers=["aigerim.sarsenbayeva", "jonas.becker"],
    )
    await story.session(
        forum,
        (2026, 10, 8, 14),
        (2026, 10, 8, 18),
        {
            "ru": "Волонтеры больших событий: от Универсиады до Игр кочевников",
            "kk": "Ірі іс-шаралардың волонтерлері: Универсиададан Көшпенділер ойындарына дейін",
            "en": "Volunteers at major events: from the Universiade to the World Nomad Games",
        },
        SessionFormat.IN_PERSON,
        venue=venue,
        language="ru",
        speakers=["aigerim.sarsenbayeva"],
    )
    await story.session(
        forum,
        (2026, 10, 9, 10),
        (2026, 10, 9, 13),
        {
            "ru": "Экологическое волонтерство: Арал, Каспий, Балхаш",
            "kk": "Экологиялық волонтерлік: Арал, Каспий, Балқаш",
            "en": "Environmental volunteering: the Aral, the Caspian, Balkhash",
        },
        SessionFormat.IN_PERSON,
        venue=venue,
        language="ru",
        speakers=["dilnoza.karimova"],
    )
    await story.session(
        forum,
        (2026, 10, 9, 14),
        (2026, 10, 9, 17, 30),
        {
            "ru": "Волонтеры в чрезвычайных ситуациях",
            "kk": "Төтенше жағдайлардағы волонтерлер",
            "en": "Volunteers in emergencies",
        },
        SessionFormat.HYBRID,
        venue=venue,
        online_url="https://meet.example/cis-forum-emergencies",
        language="ru",
        speakers=["aizhan.toktogulova"],
    )
    await story.session(
        forum,
        (2026, 10, 10, 10),
        (2026, 10, 10, 13),
        {
            "ru": "Закрытие: сеть волонтерских центров СНГ",
            "kk": "Форумның жабылуы: ТМД волонтерлік орталықтарының желісі",
            "en": "Closing: a network of CIS volunteer centres",
        },
        SessionFormat.IN_PERSON,
        venue=venue,
        language="ru",
        speakers=["aigerim.sarsenbayeva"],
    )

    await story.status(forum, ExchangeStatus.CLOSED)
    recorded = _at("Asia/Almaty", 2026, 10, 12, 11)
    await story.attended(
        forum,
        recorded,
        {
            "aigerim.sarsenbayeva": (1, 2, 3, 4, 5),
            "jonas.becker": (1, 3, 4, 5),
            "aizhan.toktogulova": (1, 2, 4, 5),
            "dilnoza.karimova": (1, 3, 5),
            "anna.kuznetsova": (1, 2, 3),
            "farrukh.rahimov": (1, 3, 4),
        },
    )
    await story.no_show(forum, recorded, "batyrkhan.akhmetov")
    await outcomes.record_outcomes(
        forum.host,
        forum.record.id,
        [
            outcomes.Outcome(OutcomeMetric.PEOPLE_REACHED, 1240),
            outcomes.Outcome(
                OutcomeMetric.CUSTOM,
                7,
                labels=_texts(
                    {
                        "ru": "Подписано меморандумов о сотрудничестве",
                        "kk": "Қол қойылған ынтымақтастық меморандумдары",
                        "en": "Memoranda of cooperation signed",
                    }
                ),
            ),
        ],
        now=_at("Asia/Almaty", 2026, 10, 13, 10),
    )
    await story.status(forum, ExchangeStatus.COMPLETED)
    await story.certify(forum, _at("Asia/Almaty", 2026, 10, 14, 10))
    await story.report(forum, forum.host, _at("Asia/Almaty", 2026, 10, 20, 16), **FORUM_REPORT)
    await story.report(
        forum,
        story.actor("cis"),
        _at("Asia/Almaty", 2026, 10, 27, 12),
        published_at=_at("Asia/Almaty", 2026, 10, 28, 9),
        **FORUM_PARTNER_REPORT,
    )


async def _aral_autumn(story: _Story) -> None:
    """The autumn saxaul planting week at Aralsk, 19-25 October 2026: completed."""
    aral = await story.exchange(
        "aral-eco-volunteers",
        slug="aral-autumn-planting-2026",
        titles={
            "kk": "Арал: күзгі сексеуіл отырғызу апталығы",
            "ru": "Аральская осенняя неделя посадки саксаула",
            "en": "Aral Sea Autumn Saxaul Planting Week",
        },
        descriptions={
            "kk": "Арал қаласы маңындағы құрғаған теңіз түбіне күзгі сексеуіл отырғызу: Қазақстан мен "
            "Өзбекстанның волонтерлері бірге жұмыс істеп, ескі айлақты тазалайды, мектептерде сабақ "
            "береді және Көкарал бөгетіне барады.",
            "ru": "Осенняя посадка саксаула на осушенном дне моря под Аральском: волонтеры Казахстана "
            "и Узбекистана работают вместе, убирают старую гавань, ведут уроки в школах и едут на "
            "Кокаральскую плотину.",
            "en": "Autumn saxaul planting on the dried seabed near Aralsk: volunteers from Kazakhstan and "
            "Uzbekistan work side by side, clean up the old harbour, teach in schools and visit the "
            "Kokaral dam.",
        },
        theme=Theme.ECOLOGY,
        status=ExchangeStatus.OPEN,
        partners=["aral-region-volunteers-nukus", "un-volunteers", "ministry-of-ecology-kz"],
        country="KZ",
        city="Aralsk",
        starts_on=date(2026, 10, 19),
        ends_on=date(2026, 10, 25),
        time_zone="Asia/Qyzylorda",
        capacity=30,
        languages=["kk", "ru", "en"],
        sdgs=ARAL_2026_SDGS,
    )
    # The Aral team, on the roster without invitations.
    await story.roster(aral, "madina.utegenova", ParticipationRole.COORDINATOR)
    for who in ("baurzhan.abdikadyrov", "saule.zhaksybekova", "akerke.ibrayeva"):
        await story.roster(aral, who, ParticipationRole.PARTICIPANT)
    invited = await story.invite(
        aral,
        "dilnoza.karimova",
        "baxtiyor.yusupov",
        "gulnara.utepbergenova",
        "azamat.tleumuratov",
        "jonas.becker",
        "anna.kuznetsova",
    )
    await story.accept_all(invited)
    await story.role(aral, "dilnoza.karimova", ParticipationRole.MENTOR)
    await story.role(aral, "baxtiyor.yusupov", ParticipationRole.SPEAKER)

    plot = "Aralkum, seabed plot near Akespe"
    await story.session(
        aral,
        (2026, 10, 19, 18),
        (2026, 10, 19, 19, 30),
        {
            "kk": "Нұсқаулық: құрғаған теңіз түбінде қауіпсіздік",
            "ru": "Инструктаж: безопасность на осушенном дне моря",
            "en": "Briefing: staying safe on the dry seabed",
        },
        SessionFormat.IN_PERSON,
        venue="Aralsk, local history museum",
        language="kk",
        speakers=["madina.utegenova"],
    )
    await story.session(
        aral,
        (2026, 10, 20, 8),
        (2026, 10, 20, 16),
        {
            "kk": "Ақеспе маңында сексеуіл отырғызу",
            "ru": "Посадка саксаула у Акеспе",
            "en": "Planting saxaul near Akespe",
        },
        SessionFormat.IN_PERSON,
        venue=plot,
        language="ru",
        speakers=["madina.utegenova", "dilnoza.karimova"],
    )
    await story.session(
        aral,
        (2026, 10, 21, 8),
        (2026, 10, 21, 15),
        {
            "kk": "Отырғызудың екінші күні: жүйек және суару",
            "ru": "Второй день посадки: борозды и полив",
            "en": "Planting, day two: furrows and watering",
        },
        SessionFormat.IN_PERSON,
        venue=plot,
        language="ru",
        speakers=["dilnoza.karimova"],
    )
    await story.session(
        aral,
        (2026, 10, 22, 9),
        (2026, 10, 22, 14),
        {
            "kk": "Арал қаласының ескі айлағын тазалау",
            "ru": "Уборка старой гавани Аральска",
            "en": "Clean-up of the old harbour of Aralsk",
        },
        SessionFormat.IN_PERSON,
        venue="Aralsk, old harbour",
        language="kk",
    )
    await story.session(
        aral,
        (2026, 10, 23, 10),
        (2026, 10, 23, 13),
        {
            "kk": "Мектептерде Арал туралы сабақ",
            "ru": "Уроки об Арале в школах",
            "en": "Lessons about the Aral in schools",
        },
        SessionFormat.IN_PERSON,
        venue="Aralsk, town schools",
        language="kk",
        speakers=["saule.zhaksybekova"],
    )
    await story.session(
        aral,
        (2026, 10, 24, 10),
        (2026, 10, 24, 15),
        {
            "kk": "Көкарал бөгеті және егіншілікте су үнемдеу",
            "ru": "Кокаральская плотина и экономия воды в хозяйствах",
            "en": "The Kokaral dam and saving water on farms",
        },
        SessionFormat.IN_PERSON,
        venue="Kokaral dam",
        language="ru",
        speakers=["baxtiyor.yusupov"],
    )

    await story.status(aral, ExchangeStatus.CLOSED)
    await story.attended(
        aral,
        _at("Asia/Qyzylorda", 2026, 10, 27, 10),
        {
            "madina.utegenova": (1, 2, 3, 4, 5, 6),
            "baurzhan.abdikadyrov": (1, 2, 3, 4),
            "saule.zhaksybekova": (1, 2, 3, 5),
            "akerke.ibrayeva": (2, 4, 5),
            "dilnoza.karimova": (1, 2, 3, 4, 5, 6),
            "baxtiyor.yusupov": (1, 2, 6),
            "gulnara.utepbergenova": (1, 2, 3, 4),
            "azamat.tleumuratov": (1, 2, 3, 4, 6),
            "jonas.becker": (1, 2, 3, 6),
            "anna.kuznetsova": (2, 3, 5),
        },
    )
    await outcomes.record_outcomes(
        aral.host,
        aral.record.id,
        [
            outcomes.Outcome(OutcomeMetric.TREES_PLANTED, 4800),
            outcomes.Outcome(OutcomeMetric.AREA_RESTORED_HA, 12),
            outcomes.Outcome(OutcomeMetric.WASTE_COLLECTED_KG, 1350),
            outcomes.Outcome(OutcomeMetric.PEOPLE_REACHED, 380),
            outcomes.Outcome(
                OutcomeMetric.CUSTOM,
                35,
                unit="kg",
                labels=_texts(
                    {
                        "kk": "Жиналған сексеуіл тұқымы",
                        "ru": "Собрано семян саксаула",
                        "en": "Saxaul seed collected",
                    }
                ),
            ),
        ],
        now=_at("Asia/Qyzylorda", 2026, 10, 28, 10),
    )
    await story.status(aral, ExchangeStatus.COMPLETED)
    await story.certify(aral, _at("Asia/Qyzylorda", 2026, 10, 30, 10))
    await story.report(aral, aral.host, _at("Asia/Qyzylorda", 2026, 11, 3, 17), **ARAL_REPORT)
    # A participant's report, through her invitation link; the host published it.
    participant = await reports.submit_participant_report(
        story.token(invited["dilnoza.karimova"]),
        reports.NewReport(
            _texts(ARAL_PARTICIPANT_REPORT["titles"]) or [],
            _texts(ARAL_PARTICIPANT_REPORT["bodies"]) or [],
            _texts(ARAL_PARTICIPANT_REPORT["what_worked"]),
            _texts(ARAL_PARTICIPANT_REPORT["what_to_change"]),
        ),
        now=_at("Asia/Qyzylorda", 2026, 11, 5, 20),
    )
    await reports.moderate_report(
        aral.host, participant.id, reports.Decision.PUBLISH, now=_at("Asia/Qyzylorda", 2026, 11, 6, 9)
    )
    # A partner's report still waiting for the host's decision.
    await story.report(
        aral, story.actor("un-volunteers"), _at("Asia/Qyzylorda", 2026, 11, 16, 12), **ARAL_PARTNER_REPORT
    )


async def _summit(story: _Story) -> None:
    """The volunteer session of the Regional Ecological Summit, Astana, April 2027: open. Its
    speakers are on the host's roster (no invitations: the host's live board starts empty)."""
    summit = await story.exchange(
        "volunteers-of-kazakhstan",
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
        partners=["ministry-of-ecology-kz", "un-volunteers", "cica", "sco"],
        country="KZ",
        city="Astana",
        starts_on=date(2027, 4, 22),
        ends_on=date(2027, 4, 24),
        time_zone="Asia/Almaty",
        capacity=120,
        languages=["kk", "ru", "en"],
        sdgs=[4, 6, 13, 17],
    )
    # Names the host may give: its own volunteer and the participants of its forum.
    await story.roster(summit, "aigerim.sarsenbayeva", ParticipationRole.COORDINATOR)
    for who in ("batyrkhan.akhmetov", "farrukh.rahimov", "jonas.becker"):
        await story.roster(summit, who, ParticipationRole.SPEAKER)
    await story.roster(summit, "anna.kuznetsova", ParticipationRole.PARTICIPANT)
    await story.session(
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
        speakers=["batyrkhan.akhmetov", "farrukh.rahimov"],
    )
    await story.session(
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
        speakers=["jonas.becker"],
    )


async def _caspian(story: _Story) -> None:
    """The Caspian Sea Action Week, Aktau and Atyrau, June 2027: open."""
    caspian = await story.exchange(
        "mangystau-eco-volunteers",
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
        partners=["atyrau-eco-volunteers", "ministry-of-ecology-kz"],
        country="KZ",
        city="Aktau",
        starts_on=date(2027, 6, 5),
        ends_on=date(2027, 6, 11),
        time_zone="Asia/Aqtau",
        capacity=60,
        languages=["kk", "ru"],
        sdgs=[4, 12, 14],
    )
    # The Mangystau team by its own host; the Atyrau team, a partner's people the host may
    # not name, by the platform's admins.
    await story.roster(caspian, "daniyar.zhumabekov", ParticipationRole.COORDINATOR)
    await story.roster(caspian, "zhanar.yessenova", ParticipationRole.PARTICIPANT)
    await story.roster(caspian, "erlan.kassymov", ParticipationRole.MENTOR, by=ADMIN)
    await story.roster(caspian, "gulnar.dosmagambetova", ParticipationRole.PARTICIPANT, by=ADMIN)
    await story.accept_all(await story.invite(caspian, "leyla.mammadova"))
    await story.role(caspian, "leyla.mammadova", ParticipationRole.SPEAKER)
    await story.session(
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
        speakers=["daniyar.zhumabekov"],
    )
    await story.session(
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
        speakers=["erlan.kassymov", "leyla.mammadova"],
    )


async def _aral_spring(story: _Story) -> None:
    """The International Aral Sea Restoration Volunteer Week, Aralsk, May 2027: open, full,
    with a waiting list."""
    aral = await story.exchange(
        "aral-eco-volunteers",
        slug="aral-restoration-week-2027",
        titles={
            "en": "International Aral Sea Restoration Volunteer Week",
            "kk": "Аралды қалпына келтіру халықаралық волонтерлер апталығы",
            "ru": "Международная волонтерская неделя восстановления Арала",
        },
        descriptions={
            "en": "Volunteers from Kazakhstan, Uzbekistan and beyond plant saxaul on the dried "
            "seabed near Aralsk, visit the Kokaral dam and share ways to save water in farming. "
            "The field camp on the seabed has twelve places; once they are taken, accepting an "
            "invitation puts you on the waiting list.",
            "kk": "Қазақстан, Өзбекстан және басқа елдердің волонтерлері Арал қаласы маңындағы "
            "құрғаған теңіз түбіне сексеуіл отырғызады, Көкарал бөгетіне барады және егіншілікте "
            "су үнемдеу тәжірибесімен бөліседі. Теңіз түбіндегі дала лагерінде он екі орын бар; "
            "орын толса, шақыруды қабылдаған адам күту тізіміне енеді.",
            "ru": "Волонтеры из Казахстана, Узбекистана и других стран высаживают саксаул на "
            "осушенном дне моря возле Аральска, посещают Кокаральскую плотину и делятся опытом "
            "экономии воды в сельском хозяйстве. В полевом лагере на дне моря двенадцать мест; "
            "когда они заняты, принявший приглашение попадает в лист ожидания.",
        },
        theme=Theme.ECOLOGY,
        status=ExchangeStatus.OPEN,
        partners=["un-volunteers", "aral-region-volunteers-nukus", "ministry-of-ecology-kz"],
        country="KZ",
        city="Aralsk",
        starts_on=date(2027, 5, 10),
        ends_on=date(2027, 5, 16),
        time_zone="Asia/Qyzylorda",
        capacity=12,
        waitlist=True,
        languages=["en", "kk", "ru"],
        sdgs=[6, 13, 15, 17],
    )
    await story.roster(aral, "madina.utegenova", ParticipationRole.COORDINATOR)
    for who in ("baurzhan.abdikadyrov", "saule.zhaksybekova", "akerke.ibrayeva"):
        await story.roster(aral, who, ParticipationRole.PARTICIPANT)
    invited = await story.invite(
        aral,
        "dilnoza.karimova",
        "baxtiyor.yusupov",
        "gulnara.utepbergenova",
        "azamat.tleumuratov",
        "jonas.becker",
        "farrukh.rahimov",
        "aizhan.toktogulova",
        "batyrkhan.akhmetov",
        "anna.kuznetsova",
        "leyla.mammadova",
    )
    # Eight acceptances fill the twelfth place; the ninth joins the waiting list, and one
    # invitation is still unanswered.
    invited.pop("leyla.mammadova")
    await story.accept_all(invited)
    await story.role(aral, "dilnoza.karimova", ParticipationRole.MENTOR)
    await story.role(aral, "baxtiyor.yusupov", ParticipationRole.SPEAKER)
    await story.session(
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
        capacity=12,
        speakers=["madina.utegenova", "dilnoza.karimova"],
    )
    await story.session(
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
    )
    await story.session(
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
        speakers=["baxtiyor.yusupov"],
    )


async def _balkhash(story: _Story) -> None:
    """A draft: seen by its host and the platform's admins only."""
    await story.exchange(
        "volunteers-of-kazakhstan",
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
        partners=["kaznu-volunteer-centre"],
        country="KZ",
        city="Balkhash",
        starts_on=date(2027, 7, 12),
        ends_on=date(2027, 7, 18),
        time_zone="Asia/Almaty",
        capacity=25,
        languages=["kk", "ru"],
        sdgs=[4, 6, 15],
    )
