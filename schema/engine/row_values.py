"""How row mode reads a column (schema.engine.rows): the raw value the driver gives, turned
into what the model field reads and the GraphQL type serialises, and JSON columns decoded as
their model field decodes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from graphql import GraphQLEnumType, GraphQLList, GraphQLOutputType, GraphQLScalarType
from tortoise import timezone
from tortoise.fields import data as tortoise_data
from tortoise.models import Model

from schema.engine.row_shapes import RowNull, unwrap


def field_of(model: type[Model], attribute: str) -> Any:
    return model._meta.fields_map[attribute]


def json_decoder(
    model: type[Model], attribute: str
) -> tuple[Callable[[str], Any] | None, Callable[[Any], Any]]:
    """The decoders of a JSON column's raw value, as the model field decodes it: of a str
    (the driver's text, what both drivers hand over; None when the field has no plain
    decoder), and of anything (the field's ``to_python_value``). Generated builders call the
    first where there is one (schema.engine.row_builders)."""
    model_field = field_of(model, attribute)
    decode: Callable[[str], Any] | None = getattr(model_field, "decoder", None)
    return decode, model_field.to_python_value


_IDENTITY_FIELDS = (tortoise_data.CharField, tortoise_data.TextField)
_INT_FIELDS = (tortoise_data.IntField, tortoise_data.SmallIntField)


def column_converter(model: type[Model], attribute: str, type_: GraphQLOutputType) -> tuple[str, Any] | None:
    """raw column value -> serialised GraphQL value, the way the model field reads it and the
    field's type serialises it (None for a type row mode does not serialise)."""
    model_field = field_of(model, attribute)
    named, non_null = unwrap(type_)
    item_non_null = False
    is_list = isinstance(named, GraphQLList)
    if is_list:
        named, item_non_null = unwrap(named.of_type)  # type: ignore[union-attr]
    if not isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return None
    serialize = named.coerce_output_value
    to_python: Callable[[Any], Any] = model_field.to_python_value
    # A text column served as a String (or a scalar serialised by ``str``, e.g. CountryCode),
    # an integer column as an Int: the value as the driver gives it.
    text = isinstance(model_field, _IDENTITY_FIELDS) and not isinstance(
        model_field, tortoise_data.CharEnumFieldInstance
    )
    direct = not is_list and (
        (text and (named.name == "String" or serialize is str))
        or (named.name == "Int" and isinstance(model_field, _INT_FIELDS))
    )
    is_datetime = not is_list and type(model_field) is tortoise_data.DatetimeField

    def item(value: Any) -> Any:
        if value is None:
            if item_non_null:
                raise RowNull
            return None
        serialized = serialize(value)
        if serialized is None:
            raise RowNull
        return serialized

    def convert(raw: Any) -> Any:
        if raw is None:
            if non_null:
                raise RowNull
            return None
        if direct:
            return raw
        if is_datetime and raw.__class__ is dt.datetime and raw.tzinfo is dt.UTC and UTC_ZONE[0]:
            return raw.isoformat()  # what to_python_value then DateTime's serialize give
        value = to_python(raw)
        if value is None:
            if non_null:
                raise RowNull
            return None
        if is_list:
            return [item(element) for element in value]
        return item(value)

    # How the generated builder reads the value (see finish): the raw value itself where the
    # conversion is the identity and a null needs no check, a lookup for enums, the date-time
    # fast path inline, else a call.
    model_null = bool(getattr(model_field, "null", True))
    if direct and (not non_null or not model_null):
        return ("raw", None)
    if (
        isinstance(named, GraphQLEnumType)
        and not is_list
        and isinstance(model_field, tortoise_data.CharEnumFieldInstance)
    ):
        table = {member.value: serialize(member) for member in model_field.enum_type}
        if not any(value is None for value in table.values()):
            if not non_null:
                table[None] = None
            return ("map", table)
    if is_datetime and not model_null:
        return ("datetime", convert)
    return ("call", convert)


# Whether Tortoise reads date-times into UTC (use_tz and a UTC default zone): then an aware
# UTC value from the driver serialises as its own isoformat. Refreshed per request.
UTC_ZONE = [False]


def refresh_time_settings() -> None:
    zone = timezone.get_default_timezone()
    UTC_ZONE[0] = timezone.get_use_tz() and (zone is dt.UTC or getattr(zone, "key", None) == "UTC")
