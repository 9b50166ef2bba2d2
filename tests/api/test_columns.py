"""schema.engine.columns: loaders of a compiled query select only the columns it reads (as the
fields declare them, schema.engine.declarations), and a column it failed to foresee is an error
at the field that reads it, never a wrong answer."""

from __future__ import annotations

from typing import Any

from graphql import parse

from exchange import models
from exchange.settings import Settings
from schema.admission.limits import Limits
from schema.admission.prepared import prepare
from schema.api.types.exchange import ExperienceExchange
from schema.api.types.volunteer import Volunteer
from schema.build import default_schema
from schema.engine.columns import ALL, document_columns, field_attributes
from schema.engine.plan import STATS, compile_operation
from tests.api.exchange_fixtures import make_exchange, make_volunteer, take_part
from tests.conftest import GraphQLClient, make_organisation

# totalHours declares what it reads but is no row field: the participants and their volunteers
# are model instances from the loaders, which select the columns below.
PAGE = """
query Page {
  exchanges {
    edges { node { title participants { edges { node { role volunteer { fullName totalHours organisation { name } } } } } } }
  }
}
"""


def strawberry_field(cls: type, name: str) -> Any:
    return next(field for field in cls.__strawberry_definition__.fields if field.name == name)  # type: ignore[attr-defined]


def test_declared_reads() -> None:
    assert field_attributes(strawberry_field(ExperienceExchange, "slug")) == {"slug"}
    assert field_attributes(strawberry_field(ExperienceExchange, "title")) == {"titles", "slug"}
    assert field_attributes(strawberry_field(Volunteer, "email")) == {"organisation_id", "id", "email"}
    assert field_attributes(strawberry_field(ExperienceExchange, "host")) == {"host_id"}
    assert field_attributes(strawberry_field(ExperienceExchange, "participants")) == {"id"}
    # invitations declares nothing (it hands the exchange to a helper): every column.
    assert field_attributes(strawberry_field(ExperienceExchange, "invitations")) is ALL


async def test_columns_of_a_document(app: Any) -> None:
    operation = parse(PAGE).definitions[0]
    columns = document_columns(default_schema()._schema, operation, {})  # type: ignore[arg-type]
    assert columns[models.Volunteer] == {"id", "full_name", "organisation_id"}
    # recorded_by_id: a foreign key (attendance), and keys are always selected.
    assert columns[models.Participation] == {
        "id",
        "role",
        "status",
        "exchange_id",
        "volunteer_id",
        "recorded_by_id",
    }
    assert columns[models.Organisation] == {"id", "names", "slug", "parent_id"}
    # Participation.attendedSessions sorts the sessions it loads by start time: starts_at is
    # selected for them although the document asks only for their ids.
    attended = parse(
        "{ exchanges { edges { node { participants { edges { node { attendedSessions { id } } } } } } } }"
    ).definitions[0]
    sessions = document_columns(default_schema()._schema, attended, {})[models.Session]  # type: ignore[arg-type]
    assert "starts_at" in sessions and "title" not in sessions and "titles" not in sessions
    # Any field that may read anything: the whole row.
    whole = parse("{ exchanges { edges { node { slug invitations { totalCount } } } } }").definitions[0]
    assert models.Exchange not in document_columns(default_schema()._schema, whole, {})  # type: ignore[arg-type]


async def test_an_unforeseen_column_is_an_error_at_its_field_never_a_wrong_answer(
    app: Any, gql: GraphQLClient, settings: Settings
) -> None:
    host = await make_organisation("aral-fund", names={"en": "Aral Fund", "ru": "Фонд Арал"})
    exchange = await make_exchange("aral-week", host)
    for name in ("Aigerim", "Daniyar"):
        # Public profiles: the page is read anonymously and must list them.
        await take_part(await make_volunteer(name, organisation=host, public_profile=True), exchange)
    first = await gql(PAGE)
    assert "errors" not in first

    # The cached plan for PAGE, told that volunteers need no full name: a wrong prediction.
    prepared = prepare(default_schema()._schema, PAGE, Limits.from_settings(settings))  # type: ignore[attr-defined]
    operation = prepared.operation("Page")
    assert operation is not None
    plan = compile_operation(default_schema()._schema, operation, prepared.fragments, {}, prepared.plans)  # type: ignore[attr-defined]
    assert plan is not None
    foreseen = plan.columns[models.Volunteer]
    plan.columns[models.Volunteer] = frozenset({"id", "organisation_id"})
    try:
        before = STATS.copy()
        second = await gql(PAGE)
    finally:
        plan.columns[models.Volunteer] = foreseen  # the plan is cached for the whole process
    # Answered by the plan alone (graphql-core did not run it again on whole rows): the name it
    # could not read is a masked server error at the first volunteer's fullName, and the null
    # it leaves in that non-null field goes up to the nearest nullable position, as in
    # graphql-core's answer on such rows; the second volunteer's error lies under the nulled
    # position and is dropped, as graphql-core drops it.
    assert STATS["planned"] == before["planned"] + 1
    errors = second["errors"]
    assert [error["extensions"]["code"] for error in errors] == ["INTERNAL_SERVER_ERROR"]
    assert errors[0]["path"] == [
        "exchanges", "edges", 0, "node", "participants", "edges", 0, "node", "volunteer", "fullName"
    ]  # fmt: skip
    # Volunteer.fullName, Participation.volunteer, the edges and nodes above, participants and
    # Query.exchanges are all non-null: the null reaches the root.
    assert second["data"] is None
