"""access.host_rights_without_others answers as each right held by an admin, the exchange's
host and some other organisations (can_see_invitations and sees_exact_counts: its partners;
can_see_verification_url: the volunteer's sending organisation) whenever it
answers at all, and leaves only an organisation other than the host to the others: the
callers load them only then. Those callers ask this one rule rather than a copy of it; host_rights_without_exchange
answers before it where the host cannot matter (a caller that must load the exchange first)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from exchange import access
from exchange.access import (
    Actor,
    Role,
    can_see_invitations,
    can_see_verification_url,
    host_rights_without_others,
    sees_exact_counts,
)
from exchange.certificates import service as certificates
from tests.domain.rule_actors import ACTORS, HOST, OTHER, PARTNER, PARTNER_SETS

# The volunteer's sending organisation: none, the host, a partner, a stranger.
SENDERS = [None, HOST, PARTNER, OTHER]


def test_the_answer_without_partners_is_each_rule_s_answer_for_any_partners() -> None:
    for rule in (can_see_invitations, sees_exact_counts):
        for actor in ACTORS:
            known = host_rights_without_others(actor, HOST)
            answers = {rule(actor, HOST, partners) for partners in PARTNER_SETS}
            if known is None:
                assert answers == {False, True}, (rule, actor)  # the partners do decide here
            else:
                assert answers == {known}, (rule, actor)


def test_the_answer_without_the_sender_is_the_verification_url_rule_s_for_any_sender() -> None:
    for actor in ACTORS:
        known = host_rights_without_others(actor, HOST)
        answers = {can_see_verification_url(actor, HOST, sender) for sender in SENDERS}
        if known is None:
            assert answers == {False, True}, actor  # the sending organisation does decide here
        else:
            assert answers == {known}, actor


def test_only_another_organisation_needs_the_others() -> None:
    needing = [actor for actor in ACTORS if host_rights_without_others(actor, HOST) is None]
    assert needing == [Actor(Role.ORGANISATION, PARTNER), Actor(Role.ORGANISATION, OTHER)]


def test_the_answer_without_the_exchange_is_the_answer_for_any_host() -> None:
    for actor in ACTORS:
        known = access.host_rights_without_exchange(actor)
        answers = {host_rights_without_others(actor, host) for host in (HOST, PARTNER, OTHER)}
        if known is None:
            assert actor.is_organisation and True in answers, actor  # the host does decide here
        else:
            assert answers == {known}, actor


def _answering(answer: bool | None) -> Callable[..., bool | None]:
    def rule(*_args: object) -> bool | None:
        return answer

    return rule


@pytest.mark.parametrize("answer", [True, False])
async def test_the_verification_url_asks_the_one_rule(monkeypatch: pytest.MonkeyPatch, answer: bool) -> None:
    # access's rules answering otherwise than the real ones change the certificate's answer: a
    # local copy of them would not.
    async def host() -> int | None:
        return HOST

    async def no_host() -> int | None:
        raise AssertionError("the rule answered: the exchange is not needed")

    async def no_sender() -> int | None:
        raise AssertionError("the rule answered: the sending organisation is not needed")

    stranger = Actor(Role.ORGANISATION, OTHER)  # the real rules need the sender for them
    monkeypatch.setattr(access, "host_rights_without_others", _answering(answer))
    assert await certificates.sees_verification_url(stranger, host, no_sender) is answer

    monkeypatch.setattr(access, "host_rights_without_exchange", _answering(answer))
    for actor in (Actor(Role.ADMIN), Actor(Role.ANONYMOUS), stranger):
        assert await certificates.sees_verification_url(actor, no_host, no_sender) is answer


async def test_the_verification_url_asks_access_where_the_sender_decides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # access's rule answering otherwise than the real one changes the certificate's answer: a
    # copy of the rule beside the certificates would not.
    async def host() -> int | None:
        return HOST

    async def sender() -> int | None:
        return OTHER

    stranger = Actor(Role.ORGANISATION, OTHER)  # their own volunteer: the real rule says yes
    assert await certificates.sees_verification_url(stranger, host, sender) is True
    monkeypatch.setattr(access, "can_see_verification_url", _answering(False))
    assert await certificates.sees_verification_url(stranger, host, sender) is False
