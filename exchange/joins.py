"""The to-one relations a row can bring along in the statement that reads it (LEFT JOINs, see
exchange.sql.projected), by the relation's attribute name. Each is read by id without a
visibility rule: only relations whose target is visible wherever the row is (a visible
participation's volunteer and exchange, a session's exchange, any organisation)."""

from __future__ import annotations

from exchange.models import Exchange, Organisation, Volunteer
from exchange.sql import Join

ORGANISATION = {"parent": Join(Organisation, "parent_id")}
EXCHANGE = {"host": Join(Organisation, "host_id", ORGANISATION)}
VOLUNTEER = {"organisation": Join(Organisation, "organisation_id", ORGANISATION)}
SESSION = {"exchange": Join(Exchange, "exchange_id", EXCHANGE)}
PARTICIPATION = {
    "volunteer": Join(Volunteer, "volunteer_id", VOLUNTEER),
    "exchange": Join(Exchange, "exchange_id", EXCHANGE),
    "recorded_by": Join(Organisation, "recorded_by_id", ORGANISATION),
}
