"""Locale negotiation and localized text. Localized fields are maps of language code to
text whose first key is the record's default language."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pycountry

# Languages the platform's own texts (emails, pages) are written in.
UI_LOCALES = ("kk", "ru", "en")
DEFAULT_UI_LOCALE = "en"


def is_language_code(code: str) -> bool:
    return len(code) == 2 and code.islower() and pycountry.languages.get(alpha_2=code) is not None


def is_country_code(code: str) -> bool:
    return len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None


def parse_accept_language(header: str | None) -> list[str]:
    """Language codes from an Accept-Language header, best first (``kk-KZ`` -> ``kk``)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary == "*" or quality <= 0 or not primary.isalpha():
            continue
        weighted.append((-quality, index, primary))
    seen: list[str] = []
    for _, _, code in sorted(weighted):
        if code not in seen:
            seen.append(code)
    return seen


def pick_text(texts: Mapping[str, str] | None, preferred: Sequence[str] = ()) -> str | None:
    """The text in the first preferred language it has, else the record's default (first)."""
    if not texts:
        return None
    for code in preferred:
        if code in texts:
            return texts[code]
    return next(iter(texts.values()))


def pick_ui_locale(preferred: Iterable[str], fallback: Sequence[str] = ()) -> str:
    """One of kk, ru, en for platform texts: first preferred, then the fallback list, else en."""
    for code in (*preferred, *fallback):
        if code in UI_LOCALES:
            return code
    return DEFAULT_UI_LOCALE


def fold(text: str) -> str:
    """Case-folded text for search: the same result on SQLite and PostgreSQL in every script."""
    # Russian readers mostly type е for ё ("учет" for "учёт"); both fold to е.
    return " ".join(text.casefold().replace("ё", "е").split())
