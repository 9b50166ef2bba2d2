from __future__ import annotations

from typing import Any

import strawberry

from schema.api.relay import encode_id
from schema.api.scalars import LanguageCode
from schema.engine import columns
from schema.engine.declarations import GlobalId, declare


@strawberry.interface
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global identifier.")


def model_identity(model: type, type_name: str) -> tuple[Any, Any]:
    """``is_type_of`` and the ``id`` field of a type whose roots are instances of ``model``
    (roots are Tortoise models, not wrappers): ``is_type_of, id = model_identity(...)``.
    Also tells schema.engine.columns which model the type's objects are."""
    columns.register(type_name, model)

    def is_type_of(cls: type, obj: Any, _info: Any) -> bool:
        return isinstance(obj, model)

    def id(root: Any) -> str:
        return encode_id(type_name, root.id)

    return classmethod(is_type_of), strawberry.field(
        resolver=id,
        graphql_type=strawberry.ID,
        description="Opaque global identifier.",
        metadata=declare(GlobalId(type_name, encode_id)),
    )


@strawberry.type(description="A text in one language; localized fields expose every translation.")
class LocalizedText:
    locale: LanguageCode
    text: str


def translations(texts: dict[str, str] | None) -> list[LocalizedText]:
    return [LocalizedText(locale=LanguageCode(locale), text=text) for locale, text in (texts or {}).items()]
