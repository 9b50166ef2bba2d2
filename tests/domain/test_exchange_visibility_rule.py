"""access.seen_without_partners answers as can_see_exchange whenever it answers at all, and
leaves only a draft asked about by another organisation to the partners."""

from __future__ import annotations

import itertools

from exchange.access import Actor, Role, can_see_exchange, seen_without_partners
from exchange.models import ExchangeStatus
from tests.domain.rule_actors import ACTORS, HOST, OTHER, PARTNER, PARTNER_SETS


def test_the_answer_without_partners_is_the_rule_s_answer_for_any_partners() -> None:
    for actor, status in itertools.product(ACTORS, ExchangeStatus):
        known = seen_without_partners(actor, status, HOST)
        answers = {can_see_exchange(actor, status, HOST, partners) for partners in PARTNER_SETS}
        if known is None:
            assert answers == {False, True}, (actor, status)  # the partners do decide here
        else:
            assert answers == {known}, (actor, status)


def test_only_a_draft_asked_about_by_another_organisation_needs_the_partners() -> None:
    needing = [
        (actor, status)
        for actor, status in itertools.product(ACTORS, ExchangeStatus)
        if seen_without_partners(actor, status, HOST) is None
    ]
    assert needing == [
        (Actor(Role.ORGANISATION, PARTNER), ExchangeStatus.DRAFT),
        (Actor(Role.ORGANISATION, OTHER), ExchangeStatus.DRAFT),
    ]
