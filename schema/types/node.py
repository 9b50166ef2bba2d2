from __future__ import annotations

import strawberry

from schema.scalars import LanguageCode


@strawberry.interface
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global identifier.")


@strawberry.type(description="A text in one language; localized fields expose every translation.")
class LocalizedText:
    locale: LanguageCode
    text: str


def translations(texts: dict[str, str] | None) -> list[LocalizedText]:
    return [LocalizedText(locale=LanguageCode(locale), text=text) for locale, text in (texts or {}).items()]
