"""Model instances from database rows, for the read paths that load many rows at once.

Tortoise builds each instance with ``Model._init_from_db(**row)``: the row is unpacked into
keyword arguments, four bookkeeping attributes go through ``Model.__setattr__`` (which checks
relation types on every call), then one ``object.__setattr__`` per column. For the ~1,100 rows
behind a page of exchanges that was a fifth of the server's CPU (bench/RESULTS.md). Here one
function per model, generated from the same field lists Tortoise uses (``db_native_fields``,
``db_default_fields``, ``db_complex_fields``), fills the instance's ``__dict__`` in one call
from the row as the driver returned it (asyncpg ``Record`` or ``sqlite3.Row``, read by column
name). The conversions are Tortoise's own: native columns as they come, default ones through
the field's type, complex ones (JSON, enums, date-times) through ``field.to_python_value``.
The instance is the one ``_init_from_db`` would build: same attributes, same values, saved
state, not partial — with one difference: a date-time that the driver returns in UTC
(asyncpg's ``datetime.timezone.utc``) keeps that tzinfo where Tortoise would swap in
``ZoneInfo("UTC")``: the same instant and offset, equal by ``==``, one object fewer (this
conversion alone was 7% of the server's CPU on a page of exchanges). A row that lacks a column (a partial select) takes Tortoise's own path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from tortoise import timezone
from tortoise.fields import data
from tortoise.models import Model

M = TypeVar("M", bound=Model)

# (model, column layout) -> (the field lists it was generated from, the builder); rebuilt when
# Tortoise is initialised again with other lists (another engine classifies fields differently).
_builders: dict[tuple[type[Model], tuple[str, ...] | None], tuple[tuple[Any, ...], Callable[[Any], Any]]] = {}


# Tortoise reads these from the environment on every date-time value; builders read them once
# per batch (``builder``) from here: (use_tz, default time zone, whether that zone is UTC).
_time: list[Any] = [True, dt.UTC, True]


def _converter(field: Any) -> Callable[[Any], Any]:
    """``field.to_python_value``, with the common case of three field types inlined; any
    other value goes to Tortoise's method, which also raises its errors."""
    slow: Callable[[Any], Any] = field.to_python_value
    method = type(field).to_python_value
    if method is data.DatetimeField.to_python_value:
        naive_or_other = slow

        def to_datetime(value: Any) -> Any:
            if value.__class__ is dt.datetime:
                tzinfo = value.tzinfo
                if tzinfo is not None:
                    use_tz, zone, zone_is_utc = _time
                    if use_tz:
                        if tzinfo is dt.UTC and zone_is_utc:
                            return value  # already UTC (asyncpg's timezone.utc; see the docstring)
                        if value.utcoffset() is not None:
                            return value.astimezone(zone)
            return naive_or_other(value)

        return to_datetime
    if method is data.JSONField.to_python_value and not (
        data._PydanticModelMetaclass is not None
        and isinstance(field.field_type, data._PydanticModelMetaclass)
    ):
        decode = field.decoder

        def to_json(value: Any) -> Any:
            if value.__class__ is str:
                try:
                    return decode(value)
                except Exception:  # Tortoise's method raises its FieldError
                    return slow(value)
            return slow(value)

        return to_json
    if method is data.CharEnumFieldInstance.to_python_value:
        member = field.enum_type._value2member_map_.get

        def to_enum(value: Any) -> Any:
            found = member(value)
            return found if found is not None else slow(value)

        return to_enum
    return slow


def _generate(model: type[Model], layout: tuple[str, ...] | None) -> Callable[[Any], Any]:
    """The builder for rows with these column names in this order (read by position), or for
    rows read by name (``layout`` None; KeyError when a column is missing). A layout without
    some of the model's columns builds partial instances (``_partial``, as Tortoise's own
    partial selects do): those attributes are absent, and reading one raises AttributeError."""
    meta = model._meta
    namespace: dict[str, Any] = {"_new": object.__new__, "cls": model}

    present = None if layout is None else set(layout)
    partial = present is not None and any(key not in present for key in meta.fields_db_projection_reverse)

    def read(key: str) -> str:
        return f"row[{key!r}]" if layout is None else f"row[{layout.index(key)}]"

    items = [
        f"'_partial': {partial!r}",
        "'_saved_in_db': True",
        f"'_custom_generated_pk': {meta.db_pk_column not in meta.generated_db_fields!r}",
        "'_await_when_save': {}",
    ]
    for key, model_field, _field in meta.db_native_fields:
        if present is None or key in present:
            items.append(f"{model_field!r}: {read(key)}")
    for index, (key, model_field, field) in enumerate(meta.db_default_fields):
        if present is None or key in present:
            namespace[f"_type{index}"] = field.field_type
            items.append(
                f"{model_field!r}: None if (v{index} := {read(key)}) is None else _type{index}(v{index})"
            )
    for index, (key, model_field, field) in enumerate(meta.db_complex_fields):
        if present is None or key in present:
            namespace[f"_convert{index}"] = _converter(field)
            items.append(f"{model_field!r}: _convert{index}({read(key)})")
    source = (
        "def build(row):\n"
        "    self = _new(cls)\n"
        "    self.__dict__.update({" + ", ".join(items) + "})\n"
        "    return self\n"
    )
    exec(compile(source, f"<rows for {model.__name__}>", "exec"), namespace)  # noqa: S102
    return namespace["build"]


def builder(model: type[M], rows: Sequence[Any]) -> Callable[[Any], M]:
    """The function building ``model`` instances from these rows (one statement's result:
    the same columns in the same order, read by position where the driver allows it)."""
    zone = timezone.get_default_timezone()
    _time[:] = [timezone.get_use_tz(), zone, zone is dt.UTC or getattr(zone, "key", None) == "UTC"]
    meta = model._meta
    first = rows[0] if rows else None
    layout = None if first is None or isinstance(first, dict) else tuple(first.keys())
    fields = (tuple(meta.db_native_fields), tuple(meta.db_default_fields), tuple(meta.db_complex_fields))
    key = (model, layout)
    cached = _builders.get(key)
    if cached is None or cached[0] != fields:
        generated = _generate(model, layout)
        if layout is None:
            by_name = generated

            def generated(row: Any) -> Any:
                try:
                    return by_name(row)
                except KeyError:
                    return model._init_from_db(**dict(row))

        if len(_builders) > 256:  # layouts come from code, not from callers; a bound all the same
            _builders.clear()
        cached = _builders[key] = (fields, generated)
    return cached[1]


def instances(model: type[M], rows: Sequence[Any]) -> list[M]:
    build = builder(model, rows)
    return [build(row) for row in rows]
