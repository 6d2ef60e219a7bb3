"""The reference list of national parliaments that petitions can be addressed to.

The data is `advocacy/petitions/data/parliaments.json`, shipped in the package (and the wheel) and read through
importlib.resources. One entry per country: the parliament where it is unicameral, its lower chamber where it is
bicameral (the JSON's `chamber_rule` and each entry's `note` say which). `SOURCE` names where the data comes from,
for pages that show it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

DATA_FILE = "parliaments.json"


@dataclass(frozen=True)
class Parliament:
    country: str  # ISO 3166-1 alpha-2, upper case: "DE"
    slug: str  # "parliament-de"
    name: dict[str, str]  # locale -> name; "en" always present
    languages: tuple[str, ...]  # ISO 639-1 codes of the official languages for the petition, main one first
    website: str  # the official https address of the parliament or chamber


def data_path() -> Any:
    """The installed data file, as an importlib.resources Traversable."""
    return files("advocacy.petitions") / "data" / DATA_FILE


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(data_path().read_text(encoding="utf-8"))
    return document


@cache
def all_parliaments() -> list[Parliament]:
    """Every parliament in the reference list, sorted by country code; read once, then cached (do not mutate)."""
    entries = [
        Parliament(
            country=entry["country"].upper(),
            slug=entry["slug"],
            name=dict(entry["name"]),
            languages=tuple(entry["languages"]),
            website=entry["website"],
        )
        for entry in _document()["parliaments"]
    ]
    return sorted(entries, key=lambda parliament: parliament.country)


@cache
def _by_country() -> dict[str, Parliament]:
    return {parliament.country: parliament for parliament in all_parliaments()}


def parliament_for(country: str) -> Parliament | None:
    """The parliament of a country by its ISO 3166-1 alpha-2 code, in any case; None when not in the list."""
    return _by_country().get(country.strip().upper())


SOURCE: str = _document()["source"]
