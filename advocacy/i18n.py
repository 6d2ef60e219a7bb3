"""Locale selection, the supported locales and localized country names from CLDR."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

import pycountry
from babel import Locale
from flask import Flask, Response, current_app, has_request_context, request
from flask_babel import get_locale, get_translations, refresh
from jinja2 import pass_context
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

SUPPORTED_LOCALES = ("en", "uk", "ru", "de", "fr", "pl")
DEFAULT_LOCALE = "en"
LOCALE_COOKIE = "lang"


def _own_name(code: str) -> str:
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


# Each language names itself in the switcher, as CLDR spells it ("Deutsch", "Українська").
LANGUAGE_NAMES = {code: _own_name(code) for code in SUPPORTED_LOCALES}


def normalize_locale(value: str | None) -> str | None:
    if not value:
        return None
    code = value.strip().replace("-", "_").split("_", 1)[0].lower()
    return code if code in SUPPORTED_LOCALES else None


def select_locale() -> str:
    """An explicit choice (?lang= or the remembered cookie) wins, then Accept-Language, then English."""
    if not has_request_context():
        return DEFAULT_LOCALE
    current = request._get_current_object()  # type: ignore[attr-defined]  # one proxy look-up, not five
    environ = current.environ
    # the query string and cookies are parsed only when there are some
    explicit = (environ.get("QUERY_STRING") and normalize_locale(current.args.get("lang"))) or (
        environ.get("HTTP_COOKIE") and normalize_locale(current.cookies.get(LOCALE_COOKIE)))
    if explicit:
        return explicit
    return locale_for_accept_language(environ.get("HTTP_ACCEPT_LANGUAGE", ""))


def locale_for_accept_language(header: str) -> str:
    """The supported locale an Accept-Language header asks for first, or English."""
    chosen = _accepted.get(header)
    if chosen is None:
        # browsers send a handful of distinct headers: parse each once (bounded, so odd ones cannot fill memory)
        # in the browser's order of preference; a regional tag (pl-PL) chooses its language even when a
        # language the reader likes less (en;q=0.5) is offered exactly
        chosen = next((code for code in (normalize_locale(value) for value, _q in
                                         parse_accept_header(header, LanguageAccept)) if code), DEFAULT_LOCALE)
        if len(_accepted) >= 2048:
            _accepted.clear()
        _accepted[header] = chosen
    return chosen


_accepted: dict[str, str] = {}


@lru_cache(maxsize=16)
def _babel_locale(code: str) -> Locale:
    return Locale.parse(code)


def select_babel_locale() -> Locale:
    """``select_locale`` as the parsed Locale Flask-Babel wants: parsed once per language, not per request."""
    return _babel_locale(select_locale())


def current_locale() -> str:
    locale = get_locale()
    return str(locale.language) if locale else DEFAULT_LOCALE


@lru_cache(maxsize=1)
def _iso_codes() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


@lru_cache(maxsize=len(SUPPORTED_LOCALES))
def countries(locale: str) -> tuple[tuple[str, str], ...]:
    """ISO 3166 countries as (code, localized name), sorted by name in that locale."""
    names = Locale.parse(locale).territories
    english = Locale.parse("en").territories
    # CLDR writes the Ukrainian apostrophe as ʼ (U+02BC): the site uses one apostrophe, ’, so search finds it
    pairs = [(code, (names.get(code) or english.get(code) or code).replace("ʼ", "’")) for code in _iso_codes()]
    return tuple(sorted(pairs, key=lambda pair: collation_key(pair[1], locale)))


# Letters such as і, ї, є, ё (Cyrillic) or ą, ł, ś (Polish) sit outside alphabetical order in Unicode, and
# these alphabets give them a place of their own: sort by the alphabet. In the other languages an accented
# letter sorts with its base letter (Österreich with O, Émirats with E).
_ALPHABETS = {
    "uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "pl": "aąbcćdeęfghijklłmnńoópqrsśtuvwxyzźż",
}


def _without_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))


def collation_key(text: str, locale: str) -> tuple[int, ...]:
    alphabet = _ALPHABETS.get(locale, "")
    # apostrophes (Вʼєтнам) and hyphens do not take part in alphabetical order
    folded = "".join(ch for ch in text.casefold() if ch not in "'ʼ’-")
    if not alphabet:
        return tuple(ord(ch) for ch in _without_accents(folded))
    return tuple(0x10000 + alphabet.index(ch) if ch in alphabet
                 else 0x10000 + alphabet.index(_without_accents(ch)) if _without_accents(ch) in alphabet
                 else ord(ch) for ch in folded)


def is_country(code: str | None) -> bool:
    return bool(code) and code in _iso_codes()


@lru_cache(maxsize=len(SUPPORTED_LOCALES))
def _country_names(locale: str) -> dict[str, str]:
    return dict(countries(locale))


def country_name(code: str, locale: str | None = None) -> str:
    return _country_names(locale or current_locale()).get(code, code)


def localized(values: dict[str, str] | None, locale: str | None = None) -> str:
    """Pick the text for the locale from a per-locale mapping, falling back to English, then anything."""
    if not values:
        return ""
    locale = locale or current_locale()
    return values.get(locale) or values.get(DEFAULT_LOCALE) or next(iter(values.values()))


def text_locales(values: dict[str, str] | None) -> tuple[str, ...]:
    """The supported locales a text is written in, in the switcher's order: a page made of that text is
    available in these languages (and only these are offered by the switcher)."""
    return tuple(code for code in SUPPORTED_LOCALES if values and (values.get(code) or "").strip())


_TRANSLATIONS = "_advocacy_translations"


def init_app(app: Flask) -> None:
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    # Flask-Babel caches the locale on the app context, which a request may share with an outer one
    # (a CLI command, a test): choose it afresh for every request.
    app.before_request(refresh)

    @app.after_request
    def _remember_explicit_choice(response: Response) -> Response:
        """A ?lang= link (from an email, or shared) is an explicit choice: keep it for the next pages."""
        chosen = normalize_locale(request.args.get("lang"))
        if (chosen and chosen != request.cookies.get(LOCALE_COOKIE) and response.status_code < 400
                and not request.path.startswith("/api/")):
            remember_locale(response, chosen)
        return response

    # Flask-Babel's template gettext looks the request's translations up again for every string (three
    # context lookups each, dozens of strings a page): look them up once per render instead. Imported macros
    # have no render context of their own and look them up as before.
    @app.context_processor
    def _render_translations() -> dict[str, Any]:
        return {_TRANSLATIONS: get_translations()}

    def _of(context: Any) -> Any:
        return context.get(_TRANSLATIONS) or get_translations()

    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=pass_context(lambda context, s: _of(context).ugettext(s)),
        ngettext=pass_context(lambda context, s, p, n: _of(context).ungettext(s, p, n)),
        pgettext=pass_context(lambda context, c, s: _of(context).upgettext(c, s)),
        npgettext=pass_context(lambda context, c, s, p, n: _of(context).unpgettext(c, s, p, n)),
        newstyle=True,
    )

    app.jinja_env.globals.update(
        SUPPORTED_LOCALES=SUPPORTED_LOCALES,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        current_locale=current_locale,
        country_name=country_name,
        localized=localized,
    )


def remember_locale(response: Response, locale: str) -> None:
    # Secure like the session cookie: whenever the base URL is https, even if a proxy speaks http to us
    response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
