"""Languages: the choice is followed and remembered, the switcher offers the languages a page is written in,
and every catalog (uk, ru, de, fr, pl) is complete."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from advocacy.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES, collation_key, countries

ROOT = Path(__file__).resolve().parent.parent


def lang_of(html: str) -> str:
    return html.split('<html lang="', 1)[1].split('"', 1)[0]


def test_accept_language_then_explicit_choice_remembered(client, make_petition):
    petition = make_petition()
    page = client.get(f"/p/{petition.slug}", headers={"Accept-Language": "ru,en;q=0.5"}).get_data(as_text=True)
    assert lang_of(page) == "ru"
    assert "Освободите всех" in page

    switched = client.get(f"/language/uk?next=/p/{petition.slug}", headers={"Accept-Language": "ru"})
    assert switched.status_code == 303
    assert switched.headers["Location"] == f"/p/{petition.slug}"
    page = client.get(f"/p/{petition.slug}", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert lang_of(page) == "uk"
    assert "Звільніть усіх" in page


def test_unsupported_language_falls_back_to_english(client, make_petition):
    make_petition()
    assert lang_of(client.get("/", headers={"Accept-Language": "ja"}).get_data(as_text=True)) == "en"
    assert client.get("/language/xx").status_code == 404


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_language_switch_never_redirects_off_site(client, target):
    response = client.get("/language/uk", query_string={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def switcher(html: str) -> list[str]:
    """The languages the switcher offers, in its order, as (code) from its hreflang/lang attributes."""
    nav = html.split('<nav class="languages"', 1)[1].split("</nav>", 1)[0]
    return [item.split('lang="', 1)[1].split('"', 1)[0] for item in nav.split("<li>")[1:]]


def test_switcher_on_every_page(client, make_petition):
    petition = make_petition()
    for path in ["/", f"/p/{petition.slug}", "/p/nope"]:
        html = client.get(path).get_data(as_text=True)
        for code in ("en", "uk", "ru"):
            assert f'lang="{code}"' in html


def test_switcher_offers_the_languages_a_page_is_written_in(client, make_petition):
    """A petition written in en, uk and ru offers those three; a page of the site itself offers every
    language; a German reader on that petition still sees German marked as the current choice."""
    petition = make_petition()
    assert set(petition.title) == {"en", "uk", "ru"}
    assert switcher(client.get(f"/p/{petition.slug}").get_data(as_text=True)) == ["en", "uk", "ru"]
    assert switcher(client.get("/").get_data(as_text=True)) == list(SUPPORTED_LOCALES)
    german = client.get(f"/p/{petition.slug}", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert switcher(german) == ["en", "uk", "ru", "de"]
    assert f'<span aria-current="true" lang="de">{LANGUAGE_NAMES["de"]}</span>' in german
    assert lang_of(german) == "de"


def test_a_petition_written_in_polish_offers_polish(client, make_petition):
    petition = make_petition(title={"en": "Free them", "pl": "Uwolnijcie ich"}, summary={},
                             body={"en": "Text", "pl": "Tekst"})
    html = client.get(f"/p/{petition.slug}", headers={"Accept-Language": "pl"}).get_data(as_text=True)
    assert switcher(html) == ["en", "pl"]
    assert "Uwolnijcie ich" in html
    assert lang_of(html) == "pl"


def test_languages_name_themselves_from_cldr():
    assert LANGUAGE_NAMES == {"en": "English", "uk": "Українська", "ru": "Русский", "de": "Deutsch",
                              "fr": "Français", "pl": "Polski"}


def test_country_names_are_localized_and_sorted_by_alphabet():
    uk = countries("uk")
    names = [name for _, name in uk]
    assert dict(uk)["DE"] == "Німеччина"
    assert dict(uk)["VN"] == "В’єтнам"  # the site's one apostrophe, not CLDR's ʼ
    assert not [name for locale in ("uk", "ru", "de", "fr", "pl") for _, name in countries(locale) if "ʼ" in name]
    assert dict(countries("ru"))["UA"] == "Украина"
    # Ukrainian letters outside Unicode order (і, ї, є) still sort where the alphabet puts them
    assert names.index("Італія") < names.index("Японія")
    assert names == sorted(names, key=lambda n: collation_key(n, "uk"))
    assert len(uk) == 249


def test_german_french_and_polish_country_names_sort_by_their_alphabets():
    """Accented letters sort with their base letter in German and French; Polish gives ł, ś, ż places of
    their own after l, s and z."""
    de = [name for _, name in countries("de")]
    assert dict(countries("de"))["AT"] == "Österreich"
    assert de.index("Oman") < de.index("Österreich") < de.index("Pakistan")
    fr = [name for _, name in countries("fr")]
    assert fr.index("Égypte") < fr.index("Espagne") < fr.index("Finlande")
    pl = [name for _, name in countries("pl")]
    assert pl.index("Luksemburg") < pl.index("Łotwa") < pl.index("Macedonia Północna")


def test_regional_browser_languages_choose_the_language(client, make_petition):
    petition = make_petition()
    for header, expected in [("de-DE,de;q=0.9", "de"), ("fr-CH", "fr"), ("pl-PL,en;q=0.5", "pl")]:
        page = client.get(f"/p/{petition.slug}", headers={"Accept-Language": header}).get_data(as_text=True)
        assert lang_of(page) == expected


def test_select_offers_localized_countries(client, make_petition):
    petition = make_petition()
    html = client.get(f"/p/{petition.slug}?lang=ru").get_data(as_text=True)
    assert '<option value="UA">Украина</option>' in html


@pytest.mark.parametrize("locale", [code for code in SUPPORTED_LOCALES if code != "en"])
def test_catalog_is_complete_and_compiled(locale, tmp_path):
    """Every string in the source is in the catalog, translated, not fuzzy, and the .mo matches the .po."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
         "-o", str(pot), "--no-location", "."],  # "." as babel.cfg names paths from the top
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        template = read_po(fh)
    po_path = ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    missing = [m.id for m in template if m.id and m.id not in catalog]
    assert missing == []
    untranslated = [m.id for m in catalog if m.id and (
        not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []
    assert not catalog.fuzzy
    with (po_path.with_suffix(".mo")).open("rb") as fh:
        compiled = read_mo(fh)
    def as_tuple(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    stale = [m.id for m in catalog
             if m.id and (m.id not in compiled or as_tuple(compiled[m.id].string) != as_tuple(m.string))]
    assert stale == []


def test_extraction_finds_the_sources(tmp_path):
    """The completeness check above means something only if extraction finds the templates and the code."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
         "-o", str(pot), "--no-location", "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        ids = {m.id for m in read_po(fh) if m.id}
    assert "Sign this petition" in ids  # a template
    assert "Please enter your full name." in ids  # the code
    assert len(ids) > 150
