"""The petition page as a signer on a phone or a screen reader meets it: the form near the top, the country table
below it (the top ten, a plain link to all), errors in the GOV.UK pattern, texts in another language marked."""

from __future__ import annotations

import html as htmllib
import re

from advocacy.petitions.models import PetitionStatus
from tests.petitions.test_views import add_counts, country_rows
from tests.signatures.test_views import csrf_token

COUNTRIES = ["UA", "PL", "DE", "FR", "LT", "LV", "EE", "CZ", "SK", "RO", "MD", "GE"]


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_sign_form_comes_before_the_country_table_and_a_link_jumps_to_it(client, make_petition):
    petition = make_petition()
    add_counts(petition.id, {"UA": 12})
    html = page(client, f"/p/{petition.slug}")
    jump = html.index('href="#sign"')
    assert jump < html.index('class="petition-text"'), "the Sign link comes before the petition's text"
    assert html.index('<section class="sign" id="sign"') < html.index('id="by-country"')
    assert html.index('id="by-country"') > html.index('<form method="post"')


def test_a_closed_petition_has_no_sign_link(client, make_petition):
    petition = make_petition(status=PetitionStatus.CLOSED)
    html = page(client, f"/p/{petition.slug}")
    assert 'href="#sign"' not in html
    assert "This petition is closed" in html


def test_the_country_table_shows_the_top_ten_and_links_to_all(client, make_petition):
    petition = make_petition()
    add_counts(petition.id, {code: 100 - i for i, code in enumerate(COUNTRIES)})
    top = page(client, f"/p/{petition.slug}")
    assert [code for code, _ in country_rows(top)] == COUNTRIES[:10]
    assert f'href="/p/{petition.slug}?countries=all#by-country">Show all 12 countries</a>' in top

    every = page(client, f"/p/{petition.slug}?countries=all")
    assert [code for code, _ in country_rows(every)] == COUNTRIES
    assert f'href="/p/{petition.slug}#by-country">Show the top 10 countries</a>' in every


def test_few_countries_need_no_link(client, make_petition):
    petition = make_petition()
    add_counts(petition.id, {"UA": 12, "PL": 11})
    assert "countries=all" not in page(client, f"/p/{petition.slug}")


def test_progress_bars_carry_their_numbers_in_text(client, make_petition):
    petition = make_petition(goal=1000, country_goals={"UA": 50})
    add_counts(petition.id, {"UA": 12})
    html = re.sub(r"\s+", " ", page(client, f"/p/{petition.slug}"))
    assert re.search(r'id="signature-total"><strong>12</strong> of 1,000 \(1%\)</p>', html)
    assert '<span class="progress-text">12 of 50 (24%)</span>' in html


def test_errors_follow_the_gov_uk_pattern_and_keep_what_was_typed(client, make_petition):
    petition = make_petition()
    token = csrf_token(client, f"/p/{petition.slug}")
    response = client.post(f"/p/{petition.slug}", data={
        "csrf_token": token, "full_name": "", "email": "not an address", "country": "UA"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title
    assert title.group(1).strip() == f"Error: {htmllib.escape(petition.display_title('en'))}"
    # the summary comes first in the main content, before the h1, and links to each field
    summary = html.index('class="error-summary"')
    assert html.index('<main id="main"') < summary < html.index("<h1")
    assert "There is a problem" in html
    assert 'href="#full_name"' in html
    assert 'href="#email"' in html
    # each message sits by its field, announced as an error, the field pointing at it
    assert re.search(r'<p class="error" id="email-error"><span class="visually-hidden">Error:</span>', html)
    assert re.search(r'<input[^>]*aria-describedby="email-hint email-error"', html)
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="email"|<input[^>]*id="email"[^>]*aria-invalid="true"',
                     html)
    # what was typed is kept
    assert 'value="not an address"' in html
    assert re.search(r'<option selected value="UA">|<option value="UA" selected>', html)


def test_an_expired_form_is_listed_in_the_summary(client, make_petition):
    petition = make_petition()
    response = client.post(f"/p/{petition.slug}", data={
        "csrf_token": "stale", "full_name": "Olena", "email": "olena@example.org", "country": "UA"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This form had expired" in html
    assert 'value="olena@example.org"' in html


def test_text_shown_in_another_language_is_marked_with_its_language(client, make_petition):
    # the petition has its summary in English only, its body in English and Ukrainian
    petition = make_petition()
    english = page(client, f"/p/{petition.slug}?lang=en")
    main = english[english.index("<main"):english.index("</main>")]
    assert " lang=" not in main

    ukrainian = page(client, f"/p/{petition.slug}?lang=uk")
    assert '<p class="lead" lang="en">Release every captive.</p>' in ukrainian
    assert '<div class="petition-text">' in ukrainian  # there is a Ukrainian body
    assert re.search(r'<h1>\s*Звільніть усіх', ukrainian) or "<h1>Звільніть усіх" in ukrainian

    russian = page(client, f"/p/{petition.slug}?lang=ru")
    assert '<div class="petition-text" lang="en">' in russian
    assert 'lang="en">People First</a>' in russian  # the campaign has no Russian name
    assert '<span lang="en">German Bundestag</span>' in russian


def test_the_home_page_marks_texts_in_another_language(client, make_petition):
    make_petition()
    html = page(client, "/?lang=uk")
    assert '<p lang="en">Release every captive.</p>' in html
