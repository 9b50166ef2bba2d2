"""The data the differential tests read: tests/api/plan_corpus.py's world (organisations with
parents, exchanges in every status, drafts, partners, sessions with speakers and a cancelled
one, public and hidden volunteers, invitations, webhooks, keys for the six roles), plus what
it lacks, made through the domain services: a completed exchange of organisation A with
participations of every status, outcomes (standard and custom), experience reports by the
host, the partner and participants (published, submitted, rejected), and certificates (valid
and revoked). ``Catalogue`` lists the real ids, slugs, cursors and tokens the generator
draws arguments from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from exchange import access, outcomes, reports
from exchange.certificates import service as certificates
from exchange.invitations import tokens
from exchange.models import (
    Certificate,
    Exchange,
    ExchangeStatus,
    ExperienceReport,
    Invitation,
    InvitationStatus,
    Organisation,
    OutcomeMetric,
    Participation,
    ParticipationRole,
    ParticipationStatus,
    Session,
    SessionFormat,
    Theme,
    Volunteer,
    WebhookEndpoint,
)
from exchange.settings import Settings
from exchange.validation import LocalizedText
from schema.api.paging import encode_cursor
from schema.api.relay import encode_id
from tests.api import plan_corpus
from tests.api.exchange_fixtures import invite, make_exchange, take_part

# The six roles of issue #14, by the names plan_corpus gives their keys: organisation A hosts
# most exchanges (its read-only key reads what anyone may), organisation B hosts others, the
# partner co-organises some of A's.
ANONYMOUS = plan_corpus.ANONYMOUS
READ_ONLY = plan_corpus.READ_ONLY
ORGANISATION_A = plan_corpus.HOST
ORGANISATION_B = plan_corpus.STRANGER
PARTNER = plan_corpus.PARTNER
ADMIN = plan_corpus.ADMIN
ROLES = (ANONYMOUS, READ_ONLY, ORGANISATION_A, ORGANISATION_B, PARTNER, ADMIN)

# Node types and the model each global id is made from.
NODE_MODELS: dict[str, type] = {
    "ExperienceExchange": Exchange,
    "Organisation": Organisation,
    "Volunteer": Volunteer,
    "Participation": Participation,
    "Session": Session,
    "Invitation": Invitation,
    "ExperienceReport": ExperienceReport,
}


@dataclass
class Catalogue:
    """Argument values that name real things (and a few that name nothing)."""

    ids: dict[str, list[str]]  # by node type
    exchange_slugs: list[str]
    organisation_slugs: list[str]
    tokens: list[str]
    endpoint_ids: list[str]
    cursors: list[str] = field(default_factory=lambda: [encode_cursor(n) for n in range(8)])

    @property
    def all_ids(self) -> list[str]:
        return [gid for ids in self.ids.values() for gid in ids]


@dataclass
class EngineWorld:
    corpus: plan_corpus.World  # keys by role, plan_corpus's ids (its cases' variables need them)
    catalogue: Catalogue

    @property
    def keys(self) -> dict[str, str | None]:
        return self.corpus.keys


def _texts(**by_locale: str) -> list[LocalizedText]:
    return [LocalizedText(locale, text) for locale, text in by_locale.items()]


async def _completed_exchange(settings: Settings) -> list[str]:
    """Organisation A's finished exchange with its partner, and everything written after it;
    returns the invitation tokens of the participants who wrote reports."""
    host = await Organisation.get(slug="host-a")
    partner = await Organisation.get(slug="partner-p")
    stranger = await Organisation.get(slug="stranger-b")
    as_host = access.Actor(access.Role.ORGANISATION, host.id)
    as_partner = access.Actor(access.Role.ORGANISATION, partner.id)
    done = await make_exchange(
        "aral-2025",
        host,
        partners=[partner],
        status=ExchangeStatus.COMPLETED,
        titles={"kk": "Арал 2025", "ru": "Арал 2025: итоги", "en": "Aral 2025"},
        descriptions={"kk": "Сексеуіл", "en": "Saxaul on the sea bed"},
        starts_on=dt.date(2025, 9, 1),
        ends_on=dt.date(2025, 9, 5),
        time_zone="Asia/Qyzylorda",
        theme=Theme.ECOLOGY,
        sdgs=[13, 15],
        capacity=10,
    )
    await Session.create(
        exchange=done,
        titles={"kk": "Отырғызу", "en": "Planting"},
        starts_at=dt.datetime(2025, 9, 2, 3, tzinfo=dt.UTC),
        ends_at=dt.datetime(2025, 9, 2, 9, tzinfo=dt.UTC),
        format=SessionFormat.IN_PERSON,
        venue="Kokaral",
    )
    people = {v.full_name: v for v in await Volunteer.all()}
    aigerim, dana = people["Aigerim Bekova"], people["Dana Nurlanova"]
    places = []
    for volunteer, status, role in (
        (aigerim, ParticipationStatus.ATTENDED, ParticipationRole.COORDINATOR),
        (dana, ParticipationStatus.ATTENDED, ParticipationRole.PARTICIPANT),
        (people["Timur Rashidov"], ParticipationStatus.NO_SHOW, ParticipationRole.SPEAKER),
        (people["Anna Schmidt"], ParticipationStatus.WITHDRAWN, ParticipationRole.MENTOR),
        (people["Loner"], ParticipationStatus.CONFIRMED, ParticipationRole.PARTICIPANT),
    ):
        place = await take_part(volunteer, done, status, role)
        if status is ParticipationStatus.ATTENDED:
            place.hours = 20.0 if volunteer is aigerim else 7.5
            await place.save()
        places.append(place)

    # Certificates: Aigerim's stays valid; Dana's is revoked by a change of hours (and reissued).
    for place in places[:2]:
        await certificates.issue(as_host, place.id, settings)
    places[1].hours = 8.0
    await places[1].save()

    await outcomes.record_outcomes(
        as_host,
        done.id,
        [
            outcomes.Outcome(OutcomeMetric.TREES_PLANTED, 1200),
            outcomes.Outcome(OutcomeMetric.PEOPLE_REACHED, 340),
            outcomes.Outcome(
                OutcomeMetric.CUSTOM, 3, unit="boats", labels=_texts(ru="Лодки", en="Boats repaired")
            ),
        ],
    )

    await reports.submit_report(
        as_host,
        done.id,
        reports.NewReport(
            _texts(ru="Итоги недели", en="The week in review"),
            _texts(ru="Мы посадили **саксаул**.", en="We planted **saxaul**."),
            what_worked=_texts(en="Early starts"),
            photos=["https://photos.example.org/1.jpg"],
        ),
    )
    await reports.submit_report(
        as_partner, done.id, reports.NewReport(_texts(en="From the university"), _texts(en="Students came."))
    )
    rejected = await reports.submit_report(
        as_partner, done.id, reports.NewReport(_texts(kk="Қате"), _texts(kk="Қайталау"))
    )
    await reports.moderate_report(as_host, rejected.id, reports.Decision.REJECT, note="A duplicate")

    # Participants write through their invitation links: Aigerim's (public profile) is
    # published, Dana's (hidden; sent by organisation B) published too, Loner's left waiting.
    written = []
    for volunteer, by, publish in (
        (aigerim, host, True),
        (dana, stranger, True),
        (people["Loner"], host, False),
    ):
        nonce = tokens.new_nonce()
        token = tokens.token_for(nonce, settings.signing_key)
        await invite(
            done,
            volunteer.email,
            by=by,
            full_name=volunteer.full_name,
            token_nonce=nonce,
            token_hash=tokens.token_hash(token),
            status=InvitationStatus.ACCEPTED,
            volunteer=volunteer,
            responded_at=dt.datetime(2025, 8, 1, tzinfo=dt.UTC),
        )
        report = await reports.submit_participant_report(
            token,
            reports.NewReport(
                _texts(en=f"{volunteer.full_name} at the sea"),
                _texts(en="It was *windy*.", ru="Было ветрено."),
                what_to_change=_texts(en="More water"),
            ),
        )
        if publish:
            await reports.moderate_report(as_host, report.id, reports.Decision.PUBLISH)
        written.append(token)
    assert await Certificate.filter(participation_id=places[1].id).count() == 2
    return written


async def build(settings: Settings, admin_key: str) -> EngineWorld:
    corpus = await plan_corpus.seed(settings.signing_key, admin_key)
    report_tokens = await _completed_exchange(settings)
    ids: dict[str, list[str]] = {}
    for type_name, model in NODE_MODELS.items():
        pks = await model.all().order_by("id").values_list("id", flat=True)  # type: ignore[attr-defined]
        ids[type_name] = [encode_id(type_name, pk) for pk in pks]
    catalogue = Catalogue(
        ids=ids,
        exchange_slugs=[exchange.slug for exchange in await Exchange.all().order_by("id")],
        organisation_slugs=[organisation.slug for organisation in await Organisation.all().order_by("id")],
        tokens=[corpus.token, *report_tokens],
        endpoint_ids=[
            encode_id("WebhookEndpoint", endpoint.id)
            for endpoint in await WebhookEndpoint.all().order_by("id")
        ],
    )
    return EngineWorld(corpus, catalogue)
