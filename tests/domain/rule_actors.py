"""The callers and partner sets the rules that decide without partners where they can
(exchange.access) are checked against: one of each kind of actor, for an exchange hosted by
HOST with PARTNER among its partners, and OTHER a stranger or a partner by the set."""

from __future__ import annotations

from exchange.access import Actor, Role

HOST, PARTNER, OTHER = 1, 2, 3
ACTORS = [
    Actor(Role.ANONYMOUS),
    Actor(Role.READ_ONLY),
    Actor(Role.READ_ONLY, OTHER),
    Actor(Role.ADMIN),
    Actor(Role.ORGANISATION, HOST),
    Actor(Role.ORGANISATION, PARTNER),
    Actor(Role.ORGANISATION, OTHER),
    Actor(Role.ORGANISATION, None),
]
PARTNER_SETS = [frozenset(), frozenset({PARTNER}), frozenset({PARTNER, OTHER})]
