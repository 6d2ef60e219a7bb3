"""The reference list of national parliaments: complete, well-formed, and found in the installed package."""

from __future__ import annotations

import json
from importlib.resources import files

import babel
import pycountry
import pytest

from advocacy.petitions import parliaments
from advocacy.petitions.parliaments import SOURCE, Parliament, all_parliaments, parliament_for

# fmt: off
EU_MEMBERS = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
]
# fmt: on
OTHERS = ["GB", "CH", "NO", "UA", "MD", "GE", "CA", "US"]
REQUIRED = EU_MEMBERS + OTHERS

# Scripts the local names must be written in, by language (a Latin-only name for these would be a transliteration).
SCRIPT_RANGES = {
    "bg": ("\u0400", "\u04ff"),  # Cyrillic
    "uk": ("\u0400", "\u04ff"),
    "el": ("\u0370", "\u03ff"),  # Greek
    "ka": ("\u10a0", "\u10ff"),  # Georgian
}


def test_every_required_country_is_present():
    assert len(EU_MEMBERS) == 27
    countries = {parliament.country for parliament in all_parliaments()}
    assert set(REQUIRED) <= countries, sorted(set(REQUIRED) - countries)


def test_sorted_by_country_without_duplicates():
    found = all_parliaments()
    codes = [parliament.country for parliament in found]
    assert codes == sorted(codes)
    assert len(codes) == len(set(codes))
    assert len({parliament.slug for parliament in found}) == len(found)
    assert len({parliament.website for parliament in found}) == len(found)


@pytest.mark.parametrize("parliament", all_parliaments(), ids=lambda parliament: parliament.country)
def test_entry_is_well_formed(parliament: Parliament):
    assert isinstance(parliament, Parliament)
    assert parliament.country == parliament.country.upper()
    assert pycountry.countries.get(alpha_2=parliament.country) is not None
    assert parliament.slug == f"parliament-{parliament.country.lower()}"
    assert parliament.website.startswith("https://")
    assert " " not in parliament.website

    assert parliament.name.get("en", "").strip()
    assert parliament.languages, "at least one official language"
    assert len(parliament.languages) == len(set(parliament.languages))
    for language in parliament.languages:
        assert len(language) == 2
        assert language == language.lower()
        assert babel.Locale.parse(language).language == language
        assert parliament.name.get(language, "").strip(), f"no name in {language}"
    assert set(parliament.name) <= {"en", *parliament.languages}, "names only in English and official languages"
    for language, name in parliament.name.items():
        assert name == name.strip()
        if language in SCRIPT_RANGES:
            low, high = SCRIPT_RANGES[language]
            assert any(low <= char <= high for char in name), f"{language} name is not in its script: {name}"


def test_lookup_is_case_insensitive():
    germany = parliament_for("de")
    assert germany is not None
    assert germany is parliament_for("DE")
    assert germany.name["de"] == "Deutscher Bundestag"
    assert germany.languages == ("de",)
    assert parliament_for("ZZ") is None


def test_all_parliaments_is_cached():
    assert all_parliaments() is all_parliaments()


def test_source_is_named():
    assert isinstance(SOURCE, str)
    assert "data.ipu.org" in SOURCE
    assert "europarl.europa.eu" in SOURCE


def test_data_file_is_found_through_importlib_resources():
    resource = files("advocacy.petitions") / "data" / "parliaments.json"
    assert resource.is_file()
    document = json.loads(resource.read_text(encoding="utf-8"))
    assert {"source", "retrieved", "licence", "parliaments"} <= set(document)
    assert document["retrieved"] == "2026-11-28"
    assert document["source"] == SOURCE
    assert len(document["parliaments"]) == len(all_parliaments())
    assert all(entry.get("note", "").strip() for entry in document["parliaments"])
    assert parliaments.data_path().read_text(encoding="utf-8") == resource.read_text(encoding="utf-8")
