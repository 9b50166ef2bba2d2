"""inviteVolunteers racing cancelSession for the same session, under real concurrency.

PostgreSQL only: on SQLite Tortoise runs every statement through one connection, so two
transactions never interleave and there is no race to observe.

Both calls lock the exchange row (SELECT ... FOR UPDATE): cancelSession in sessions._locked,
inviteVolunteers in invite.lock_exchange, after which it re-checks that none of the named
sessions was cancelled. The invariant, per round (a fresh session, a fresh address, the two
mutations run concurrently):

* cancelSession succeeds;
* inviteVolunteers either refuses with one INVALID userError on sessionIds ("This session is
  cancelled." from its first check, or "A session was cancelled meanwhile." from the re-check
  under the lock) and creates no invitation, or it succeeds and its invitation, which names the
  session, was committed before the cancellation looked for the session's invitees: the
  cancellation's recipients query (session_mail.invitations_to_tell) saw it, and it was
  created before the session's cancelled_at.

So no invitation names a session that was already cancelled when the invitation was made,
unseen by the cancellation's mail to that session's invitees.

To make the interleaving likely rather than lucky (see Hooks), cancelSession is held for 10 ms
after its recipients query, while it holds the lock and before it commits, and in every other
round inviteVolunteers is held for 10 ms between its first check and taking the lock: an
invite that passed its first check while the cancellation is under way must wait for the lock
and then see the cancellation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

import pytest

from exchange import sessions as sessions_service
from exchange.invitations import invite as invite_service
from exchange.invitations import session_mail
from exchange.models import Exchange, Invitation, MailKind, Session, SessionFormat
from exchange.settings import Settings
from schema.api.relay import encode_id
from tests import databases
from tests.conftest import GraphQLClient
from tests.invitations.conftest import World, invite, invitee
from tests.services import need_postgres

pytestmark = pytest.mark.postgres

ROUNDS = 30
HOLD_SECONDS = 0.01
CANCEL = (
    """mutation($id: ID!) { cancelSession(id: $id) { session { id } userErrors { field message code } } }"""
)
REFUSALS = {
    (("sessionIds", "0"), "This session is cancelled."),
    (("sessionIds",), "A session was cancelled meanwhile."),
}


@pytest.fixture
def database_url() -> str:
    """Overrides the SQLite/PostgreSQL parametrization: PostgreSQL only (see the docstring)."""
    need_postgres()
    return databases.postgres_url()


class Hooks:
    """The interleaving hooks, and what each cancellation's recipients query could see.

    cancelSession is held for HOLD_SECONDS after its recipients query, while it holds the lock
    and before it commits. In rounds with hold_invite set, inviteVolunteers is held as long
    between its first check and taking the lock, so that it tends to start while the
    cancellation is under way (left alone it usually runs ahead of it). seen maps a session
    to the ids of the invitations naming it, read in the cancellation's own transaction just
    before its recipients query."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: dict[int, set[int]] = {}
        self.hold_invite = False
        recipients = session_mail.invitations_to_tell
        notify = sessions_service.notify_session_change
        lock = invite_service.lock_exchange

        async def probed_recipients(session: Session) -> list[Invitation]:
            rows = await Invitation.filter(sessions__id=session.id).values("id")
            self.seen[session.id] = {row["id"] for row in rows}
            return await recipients(session)

        async def held_notify(session: Session, kind: MailKind, settings: Settings | None = None) -> int:
            count = await notify(session, kind, settings)
            await asyncio.sleep(HOLD_SECONDS)
            return count

        async def held_lock(exchange_id: int) -> Exchange:
            if self.hold_invite:
                await asyncio.sleep(HOLD_SECONDS)
            return await lock(exchange_id)

        monkeypatch.setattr(session_mail, "invitations_to_tell", probed_recipients)
        monkeypatch.setattr(sessions_service, "notify_session_change", held_notify)
        monkeypatch.setattr(invite_service, "lock_exchange", held_lock)


async def new_session(world: World, round_: int) -> Session:
    return await Session.create(
        exchange=world.exchange,
        titles={"en": f"Workshop {round_}"},
        starts_at=dt.datetime(2027, 5, 11, 4, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 5, 11, 6, 0, tzinfo=dt.UTC),
        format=SessionFormat.IN_PERSON,
        venue="Aralsk",
    )


async def race_rounds(gql: GraphQLClient, world: World, hooks: Hooks) -> tuple[Counter[str], list[str]]:
    """Runs the rounds; returns how each invite ended and every broken invariant."""
    outcomes: Counter[str] = Counter()
    broken: list[str] = []
    for round_ in range(ROUNDS):
        hooks.hold_invite = round_ % 2 == 1
        session = await new_session(world, round_)
        email = f"racer{round_}@example.com"
        invited, cancelled = await asyncio.gather(
            invite(gql, world, invitee(email), sessionIds=[encode_id("Session", session.id)]),
            gql(CANCEL, {"id": encode_id("Session", session.id)}, key=world.host_key),
        )
        assert "errors" not in cancelled, cancelled
        assert cancelled["data"]["cancelSession"]["userErrors"] == [], cancelled
        session = await Session.get(id=session.id)
        assert session.cancelled_at is not None
        invitations = await Invitation.filter(email_normalised=email).prefetch_related("sessions")
        if invited["userErrors"]:
            errors = [(tuple(e["field"]), e["message"]) for e in invited["userErrors"]]
            assert len(errors) == 1 and errors[0] in REFUSALS, invited
            assert {e["code"] for e in invited["userErrors"]} == {"INVALID"}
            assert invitations == [], f"round {round_}: refused, yet an invitation exists"
            outcomes[errors[0][1]] += 1
            continue
        outcomes["invited"] += 1
        assert len(invitations) == 1
        invitation = invitations[0]
        assert [s.id for s in invitation.sessions] == [session.id]
        if invitation.id not in hooks.seen.get(session.id, set()):
            broken.append(
                f"round {round_}: invitation {invitation.id} committed after the cancellation's mail"
            )
        if not invitation.created_at < session.cancelled_at:
            broken.append(
                f"round {round_}: invitation made at {invitation.created_at}, "
                f"after its session was cancelled at {session.cancelled_at}"
            )
    return outcomes, broken


async def test_an_invite_never_names_a_session_cancelled_before_it(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = Hooks(monkeypatch)
    outcomes, broken = await race_rounds(gql, world, hooks)
    assert broken == []
    assert sum(outcomes.values()) == ROUNDS
    # The rounds did race both ways: some invites passed their first check and were stopped
    # by the re-check under the lock, some were committed before the cancellation locked.
    assert outcomes["A session was cancelled meanwhile."] > 0, outcomes
    assert outcomes["invited"] > 0, outcomes


async def _unlocked(exchange_id: int) -> Exchange:
    return await Exchange.get(id=exchange_id)


async def test_self_check_without_the_lock_the_invariant_breaks(
    gql: GraphQLClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check of the test above, not of the code: with inviteVolunteers' exchange lock
    replaced by a plain read (the re-check stays), the same rounds do break the invariant,
    so the test above would catch the lock's removal."""
    monkeypatch.setattr(invite_service, "lock_exchange", _unlocked)
    hooks = Hooks(monkeypatch)
    _, broken = await race_rounds(gql, world, hooks)
    assert any("committed after the cancellation's mail" in problem for problem in broken), broken
