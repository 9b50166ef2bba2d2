"""CSV exports for people who open them in a spreadsheet (``exchange export ...``): an exchange's
participants, and impact statistics over a date range.

* UTF-8 with a byte order mark: without one, Excel reads a CSV in the machine's legacy code
  page and garbles Cyrillic and the Kazakh letters (ә ғ қ ң ө ұ ү һ і); with it, every script
  opens intact. CRLF line ends, as Excel writes them.
* Every cell goes through ``spreadsheets.csv_writer`` (a name such as ``=HYPERLINK(...)`` is
  written as text, never run as a formula).
* ``Style.semicolons``: ``;`` between cells and a decimal comma, for a spreadsheet set up for a
  language that writes 4,5 (Russian, Kazakh...): there, a comma-separated file opens as one
  column and 4.5 may be read as a date.
* Email addresses only in an admin's export, and only when asked for.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from exchange import access, statistics
from exchange.access import Actor
from exchange.errors import DomainError, ErrorCode
from exchange.i18n import pick_text
from exchange.models import Exchange, Participation
from exchange.spreadsheets import csv_writer
from exchange.statistics import Statistic, StatisticsFilter
from exchange.validation import is_slug

ENCODING = "utf-8-sig"  # UTF-8 with a byte order mark
OTHER = "other"  # the key of a bucket the small-count rule merged


@dataclass(frozen=True)
class Style:
    semicolons: bool = False

    @property
    def delimiter(self) -> str:
        return ";" if self.semicolons else ","

    def number(self, value: float | int) -> str | int:
        """Whole numbers as integers; others with the style's decimal mark."""
        if isinstance(value, int) or value.is_integer():
            return int(value)
        text = repr(float(value))
        return text.replace(".", ",") if self.semicolons else text


def csv_bytes(rows: Iterable[Sequence[object]], style: Style) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv_writer(buffer, delimiter=style.delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    return buffer.getvalue().encode(ENCODING)


# ---------------------------------------------------------------- participants


async def participants_csv(
    actor: Actor, slug: str, *, with_emails: bool = False, style: Style = Style()
) -> bytes:
    """Every participation of the exchange (withdrawn and no-shows included), by id: a
    platform admin's export, as it lists people the people rule hides from everyone else."""
    access.require_admin(actor)
    exchange = await Exchange.get_or_none(slug=slug) if is_slug(slug) else None
    if exchange is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"No exchange has the slug {slug!r}.", ["exchange"])
    participations = (
        await Participation.filter(exchange_id=exchange.id)
        .select_related("volunteer__organisation")
        .order_by("id")
    )
    header: list[object] = [
        "full_name",
        *(["email"] if with_emails else []),
        "country",
        "sending_organisation",
        "role",
        "status",
        "hours",
        "sessions_attended",
        "joined_at_utc",
        "attendance_recorded_at_utc",
    ]
    rows: list[list[object]] = [header]
    for participation in participations:
        volunteer = participation.volunteer
        organisation = volunteer.organisation
        rows.append(
            [
                volunteer.full_name,
                *([volunteer.email] if with_emails else []),
                volunteer.country,
                (pick_text(organisation.names) or organisation.slug) if organisation is not None else "",
                participation.role.value,
                participation.status.value,
                "" if participation.hours is None else style.number(participation.hours),
                len(participation.attended_session_ids),
                f"{participation.joined_at:%Y-%m-%d %H:%M}",
                "" if participation.recorded_at is None else f"{participation.recorded_at:%Y-%m-%d %H:%M}",
            ]
        )
    return csv_bytes(rows, style)


# ---------------------------------------------------------------- statistics

BREAKDOWN_NAMES = {
    Statistic.PARTICIPANTS_BY_COUNTRY: "participants_by_country",
    Statistic.PARTICIPANTS_BY_ROLE: "participants_by_role",
    Statistic.INVITATIONS_BY_STATUS: "invitations_by_status",
    Statistic.EXCHANGES_BY_THEME: "exchanges_by_theme",
    Statistic.EXCHANGES_BY_COUNTRY: "exchanges_by_country",
}


async def statistics_csv(actor: Actor, criteria: StatisticsFilter, style: Style = Style()) -> bytes:
    """Platform-wide statistics as the actor may see them (exchange.statistics), one figure a
    row: statistic, key (a country, role, status, theme or outcome metric; ``other`` for what
    the small-count rule merged; empty for a total), unit, value."""
    report = await statistics.report(actor, criteria)
    totals = report.totals
    rows: list[list[object]] = [
        ["statistic", "key", "unit", "value"],
        ["exchanges", "", "", totals.exchanges],
        ["participants", "", "", totals.participants],
        ["volunteer_hours", "", "hours", style.number(totals.volunteer_hours)],
        ["distinct_countries", "", "", totals.distinct_countries],
    ]
    for statistic, name in BREAKDOWN_NAMES.items():
        breakdown = report.breakdowns[statistic]
        rows.extend([name, key, "", count] for key, count in breakdown.buckets)
        if breakdown.other:
            rows.append([name, OTHER, "", breakdown.other])
    rows.extend(
        ["outcome_total", total.metric.value, total.unit or "", style.number(total.total)]
        for total in report.outcomes
    )
    return csv_bytes(rows, style)
