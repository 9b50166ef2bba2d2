"""Models declare the column behind each foreign key (``host_id: int`` next to ``host``), so
code reads ``exchange.host_id`` typed instead of under ``type: ignore``. The declaration is
for the type checker only: Tortoise makes no field of it and sets the value from the row, on
both databases; and the type checker reports ignores that are no longer needed."""

from __future__ import annotations

import datetime as dt
import inspect
import re
import tomllib
from pathlib import Path
from typing import Any

from tortoise.models import Model

import exchange.models
from exchange.models import (
    ApiKey,
    Exchange,
    Organisation,
    OrganisationKind,
    Session,
    SessionFormat,
    Volunteer,
)
from tests.api.exchange_fixtures import make_exchange, make_volunteer
from tests.conftest import make_organisation

ROOT = Path(__file__).resolve().parents[2]


def models() -> list[type[Model]]:
    found = (getattr(exchange.models, name) for name in exchange.models.__all__)
    return [model for model in found if isinstance(model, type) and issubclass(model, Model)]


def test_every_foreign_key_declares_its_id_with_its_nullability() -> None:
    declared = {}
    expected = {}
    for model in models():
        annotations = inspect.get_annotations(model)
        for name in model._meta.fk_fields:
            key = f"{model.__name__}.{name}_id"
            declared[key] = annotations.get(f"{name}_id")
            expected[key] = "int | None" if model._meta.fields_map[name].null else "int"
    assert expected, "no foreign keys found"
    assert declared == expected


async def test_the_declarations_add_no_field_and_tortoise_sets_the_ids(app: Any) -> None:
    # Tortoise's own description of the models (what migrations are made from) has each id once,
    # as the column of its foreign key: the declaration made no field of its own.
    for model in models():
        described = model.describe()
        data_fields = [field["name"] for field in described["data_fields"]]
        assert len(data_fields) == len(set(data_fields)), model.__name__
        columns = {fk["name"]: fk["raw_field"] for fk in described["fk_fields"]}
        assert columns == {name: f"{name}_id" for name in model._meta.fk_fields}
        assert all(data_fields.count(column) == 1 for column in columns.values()), model.__name__

    parent = await make_organisation("parent", kind=OrganisationKind.INTERNATIONAL, country=None)
    host = await make_organisation("host", parent=parent)
    created = await make_exchange("week", host)
    await Session.create(
        exchange=created,
        titles={"en": "Opening"},
        starts_at=dt.datetime(2027, 5, 10, 4, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 5, 10, 6, tzinfo=dt.UTC),
        format=SessionFormat.IN_PERSON,
    )
    await make_volunteer("Aigerim", organisation=None)
    loaded = await Exchange.get(id=created.id)
    assert loaded.host_id == host.id and type(loaded.host_id) is int
    assert (await Organisation.get(id=host.id)).parent_id == parent.id
    assert (await Organisation.get(id=parent.id)).parent_id is None
    assert (await Session.get(exchange_id=created.id)).exchange_id == created.id
    assert (await Volunteer.get(full_name="Aigerim")).organisation_id is None
    assert await ApiKey.filter(organisation_id=host.id).count() == 0


def test_the_type_checker_reports_unneeded_ignores_everywhere() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["warn_unused_ignores"] is True
    assert not [override for override in config.get("overrides", []) if "disable_error_code" in override]


def test_every_type_ignore_names_its_error_code() -> None:
    bare = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("exchange", "schema")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"# type: ignore(?!\[)", line)
    ]
    assert not bare
