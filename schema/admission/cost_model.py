"""The pricing model: what each field of an operation costs, before it runs (schema.admission.cost
walks the operation with these prices).

The model is GitHub's node limit with Shopify's points, so a client can compute it too:

- a scalar or enum field costs 0;
- an object field costs 1 plus its selection;
- a connection (a field returning ``…Connection`` with ``first``/``last``) costs 1 for the
  page query plus ``page × (the selection of one item)``, where the page is ``first``, else
  ``last``, else the page-size cap (what the server would return); its ``…Edge`` and
  ``PageInfo`` wrappers cost nothing themselves;
- a plain list of objects (``sessions``, ``partners``, ``speakers``) costs its size
  (``LIST_SIZES``, else ``DEFAULT_LIST_SIZE``) × (1 + its selection); where a setting caps a
  list (sessions per exchange, speakers per session) its size is that cap (``priced_lists``),
  so the cost bounds what the answer can hold;
- a mutation field costs ``MUTATION_COST`` on top, since it writes;
- fragments count at every place they are spread (each fragment's cost is computed once,
  however often it is spread, so nested spreads cost linear work); introspection fields cost
  nothing.

Example: ``{ organisations(first: 5) { edges { node { exchanges(first: 10)
{ edges { node { title sessions { title } } } } } } } }`` costs
1 + 5 × (1 + (1 + 10 × (1 + 20 × 1))) = 1 + 5 × 212 = 1061.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from exchange.settings import Settings

# Sizes of lists that are not paginated: (type name, field name) -> items. Sessions and
# speakers are capped by settings and priced at the caps (``priced_lists``; these are the
# default caps); partners and invitations are estimates.
LIST_SIZES: dict[tuple[str, str], int] = {
    ("ExperienceExchange", "sessions"): 20,
    ("ExperienceExchange", "partners"): 5,
    ("Session", "speakers"): 5,
    ("Invitation", "sessions"): 20,
    ("InvitationPreview", "sessions"): 20,
    ("InviteVolunteersPayload", "invitations"): 100,
    # exchange.outcomes.MAX_OUTCOMES
    ("ExperienceExchange", "outcomes"): 20,
    ("ExperienceReport", "outcomes"): 20,
    ("RecordOutcomesPayload", "outcomes"): 20,
}
DEFAULT_LIST_SIZE = 10
MUTATION_COST = 10
# Costs stop here: it is what a JSON number carries exactly to every client (JavaScript's
# MAX_SAFE_INTEGER), and orjson cannot write an integer above 2^64 at all.
COST_CEILING = 2**53 - 1

# Lists whose length a setting caps (exchange.sessions, and invitations name only sessions
# that were planned, so at most as many).
_CAPPED_BY_SESSIONS = (
    ("ExperienceExchange", "sessions"),
    ("Invitation", "sessions"),
    ("InvitationPreview", "sessions"),
)
_CAPPED_BY_SPEAKERS = (("Session", "speakers"),)


def priced_lists(settings: Settings) -> Mapping[tuple[str, str], int]:
    """``LIST_SIZES`` with the capped lists priced at their caps (with the default caps, the
    sizes above)."""
    return _priced_lists(settings.max_sessions_per_exchange, settings.max_speakers_per_session)


@lru_cache(maxsize=8)
def _priced_lists(sessions: int, speakers: int) -> Mapping[tuple[str, str], int]:
    sizes = dict(LIST_SIZES)
    sizes.update(dict.fromkeys(_CAPPED_BY_SESSIONS, sessions))
    sizes.update(dict.fromkeys(_CAPPED_BY_SPEAKERS, speakers))
    return sizes
