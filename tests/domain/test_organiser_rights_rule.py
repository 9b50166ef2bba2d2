"""access.organiser_rights_without_partners answers as can_see_invitations and
sees_exact_counts whenever it answers at all, and leaves only an organisation other than the
host to the partners (exchanges.sees_invitations and sees_exact_counts load them only then)."""

from __future__ import annotations

from exchange.access import (
    Actor,
    Role,
    can_see_invitations,
    organiser_rights_without_partners,
    sees_exact_counts,
)
from tests.domain.rule_actors import ACTORS, HOST, OTHER, PARTNER, PARTNER_SETS


def test_the_answer_without_partners_is_each_rule_s_answer_for_any_partners() -> None:
    for rule in (can_see_invitations, sees_exact_counts):
        for actor in ACTORS:
            known = organiser_rights_without_partners(actor, HOST)
            answers = {rule(actor, HOST, partners) for partners in PARTNER_SETS}
            if known is None:
                assert answers == {False, True}, (rule, actor)  # the partners do decide here
            else:
                assert answers == {known}, (rule, actor)


def test_only_another_organisation_needs_the_partners() -> None:
    needing = [actor for actor in ACTORS if organiser_rights_without_partners(actor, HOST) is None]
    assert needing == [Actor(Role.ORGANISATION, PARTNER), Actor(Role.ORGANISATION, OTHER)]
