"""The petition page as a reader sees it."""

from __future__ import annotations

import re

from sqlalchemy import update

from advocacy import cache
from advocacy.accounts.roles import SYSTEM
from advocacy.extensions import db
from advocacy.petitions import services
from advocacy.petitions.models import Petition
from advocacy.tallies import services as tallies
from tests.conftest import published_campaign_and_target
from tests.signatures.test_views import TOKEN_RE


def open_petition_outside_any_context(app) -> str:
    """No app context stays open around the requests: each request gets its own, as in production."""
    with app.app_context():
        campaign, target = published_campaign_and_target()
        petition = services.create_petition("shared", campaign_id=campaign.id, actor=SYSTEM,
                                            title={"en": "Shared", "uk": "Спільна"}, target_ids=[target.id])
        services.publish_petition(petition.id, actor=SYSTEM)
        db.session.commit()
        db.session.remove()
    return "shared"


def test_shared_page_gives_each_reader_a_token_of_their_own(app):
    slug = open_petition_outside_any_context(app)
    app.config["PAGE_CACHE_SECONDS"] = 60
    try:
        first, second = app.test_client(), app.test_client()
        page_one = first.get(f"/p/{slug}").get_data(as_text=True)
        page_two = second.get(f"/p/{slug}").get_data(as_text=True)
        token_one, token_two = TOKEN_RE.search(page_one), TOKEN_RE.search(page_two)
        assert token_one
        assert token_two
        assert token_one.group(1) != token_two.group(1)
        assert "placeholder" not in page_one
        # apart from the token the page is the same, and the token works for its reader
        assert TOKEN_RE.sub("", page_one) == TOKEN_RE.sub("", page_two)
        response = first.post(f"/p/{slug}", data={
            "full_name": "Olena K", "email": "olena@example.org", "country": "UA", "csrf_token": token_one.group(1)})
        assert response.status_code == 303
        # each language has its own copy
        assert '<html lang="uk">' in first.get(f"/p/{slug}?lang=uk").get_data(as_text=True)
    finally:
        app.config["PAGE_CACHE_SECONDS"] = 0
        cache.clear_all()


def test_page_shows_targets_text_and_tally_table(client, make_petition):
    petition = make_petition()
    html = client.get(f"/p/{petition.slug}").get_data(as_text=True)
    assert "German Bundestag" in html
    assert "<p>First paragraph.</p>" in html
    assert "<p>Second paragraph.</p>" in html
    assert re.search(r'<progress max="100" value="0"', html)
    assert "Nobody has signed yet" in html


def add_counts(petition_id: int, counts: dict[str, int]) -> None:
    for country, n in counts.items():
        tallies.add(petition_id, country, n)
    db.session.commit()


def country_rows(html: str) -> list[tuple[str, str]]:
    """(country code, what the signatures cell says) for each row of the country table, in order."""
    return [(code, re.sub(r"\s+", " ", cell).strip()) for code, cell in
            re.findall(r'<tr data-country="(\w\w)"[^>]*>.*?<td class="num[^"]*">(.*?)</td>', html, re.S)]


def test_small_countries_show_fewer_than_the_threshold_and_no_goal_bar(client, make_petition):
    petition = make_petition(country_goals={"UA": 50, "LI": 20})
    add_counts(petition.id, {"UA": 12, "LI": 3, "AT": 7})
    html = client.get(f"/p/{petition.slug}").get_data(as_text=True)
    assert country_rows(html) == [("UA", "12"), ("AT", "fewer than 10"), ("LI", "fewer than 10")]
    assert '<strong>22</strong>' in html  # the total stays exact
    # Ukraine's bar shows its count; Liechtenstein has a goal but no bar, which would give its count away
    assert re.search(r'<progress max="50" value="12" aria-label="Progress towards the goal for Ukraine"', html)
    assert "goal for Liechtenstein" not in html
    assert not re.search(r'<progress max="20"', html)
    assert "countries with fewer than 10 signatures are shown without their exact number" in html
    assert ">3<" not in html
    assert ">7<" not in html


def test_one_more_signature_in_a_small_country_leaves_its_row_as_it_was(client, make_petition):
    petition = make_petition()
    add_counts(petition.id, {"UA": 12, "LI": 3, "MT": 2})
    before = country_rows(client.get(f"/p/{petition.slug}").get_data(as_text=True))
    add_counts(petition.id, {"LI": 1})
    after = country_rows(client.get(f"/p/{petition.slug}").get_data(as_text=True))
    assert after == before == [("UA", "12"), ("LI", "fewer than 10"), ("MT", "fewer than 10")]


def test_the_threshold_is_formatted_for_the_language(app, client, make_petition):
    petition = make_petition()
    add_counts(petition.id, {"UA": 1500, "PL": 20})
    app.config["MIN_PUBLIC_COUNT"] = 1000
    try:
        en = client.get(f"/p/{petition.slug}?lang=en").get_data(as_text=True)
        uk = client.get(f"/p/{petition.slug}?lang=uk").get_data(as_text=True)
    finally:
        app.config["MIN_PUBLIC_COUNT"] = 10
    assert country_rows(en) == [("UA", "1,500"), ("PL", "fewer than 1,000")]
    assert dict(country_rows(uk))["PL"].endswith(" 1 000")  # CLDR groups Ukrainian digits with a space


def test_page_renders_in_every_language_with_hidden_and_shown_countries(client, make_petition):
    petition = make_petition()
    add_counts(petition.id, {"UA": 10, "DE": 1})
    for lang, ukraine, germany in [("en", "Ukraine", "Germany"), ("uk", "Україна", "Німеччина"),
                                   ("ru", "Украина", "Германия")]:
        response = client.get(f"/p/{petition.slug}?lang={lang}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'<html lang="{lang}">' in html
        assert re.search(rf'data-country="UA">\s*<th scope="row">{ukraine}</th>\s*<td class="num">10</td>', html)
        assert re.search(rf'data-country="DE" class="suppressed">\s*<th scope="row">{germany}</th>', html)
        assert dict(country_rows(html))["DE"] != "1"


def test_shared_page_hides_small_counts_too(app, make_petition):
    """The copy shared by all readers of a language for a few seconds is the public one."""
    petition = make_petition()
    add_counts(petition.id, {"UA": 2})
    app.config["PAGE_CACHE_SECONDS"] = 60
    try:
        first = app.test_client().get(f"/p/{petition.slug}").get_data(as_text=True)
        add_counts(petition.id, {"UA": 20})
        cached = app.test_client().get(f"/p/{petition.slug}").get_data(as_text=True)
        assert country_rows(first) == country_rows(cached) == [("UA", "fewer than 10")]
        cache.clear_all()
        fresh = app.test_client().get(f"/p/{petition.slug}").get_data(as_text=True)
        assert country_rows(fresh) == [("UA", "22")]
    finally:
        app.config["PAGE_CACHE_SECONDS"] = 0
        cache.clear_all()


def test_a_signed_in_reader_never_gets_the_shared_copy(app):
    """The shared few-second copy is for anonymous readers: a page for someone with a login session (a header
    with their name, a flashed message) must never be served to anybody else, nor a stale one to them."""
    slug = open_petition_outside_any_context(app)
    app.config["PAGE_CACHE_SECONDS"] = 60
    try:
        anonymous, signed_in = app.test_client(), app.test_client()
        with signed_in.session_transaction() as session:
            session["user_id"] = 1  # what a login will put there
        assert "Shared" in anonymous.get(f"/p/{slug}").get_data(as_text=True)
        assert "Shared" in anonymous.get(f"/api/v1/petitions/{slug}").get_data(as_text=True)
        with app.app_context(), db.engine.begin() as conn:
            # a change committed by another process (this one forgets its shared pages on its own commits)
            conn.execute(update(Petition).where(Petition.slug == slug).values(goal=4321))
        # the anonymous copy is kept for its few seconds; the signed-in reader gets a fresh page and answer
        assert "4,321" not in anonymous.get(f"/p/{slug}").get_data(as_text=True)
        assert "4,321" in signed_in.get(f"/p/{slug}").get_data(as_text=True)
        answer = signed_in.get(f"/api/v1/petitions/{slug}")
        assert answer.get_json()["goal"] == 4321
        assert "no-store" in answer.headers["Cache-Control"]
        assert "public" in anonymous.get(f"/api/v1/petitions/{slug}").headers["Cache-Control"]
    finally:
        app.config["PAGE_CACHE_SECONDS"] = 0
        cache.clear_all()


def test_a_petition_that_opens_or_closes_shows_at_once_despite_the_shared_copies(app):
    """Public pages follow a transition committed in this process at once, not after the shared seconds."""
    slug = open_petition_outside_any_context(app)
    app.config["PAGE_CACHE_SECONDS"] = 60
    try:
        reader = app.test_client()
        assert slug in reader.get("/").get_data(as_text=True)
        assert reader.get(f"/p/{slug}").get_data(as_text=True).count('name="full_name"') == 1
        with app.app_context():
            services.close_petition(services.get_petition(slug).id, actor=SYSTEM)
            db.session.commit()
            db.session.remove()
        page = reader.get(f"/p/{slug}").get_data(as_text=True)
        assert 'name="full_name"' not in page  # the form is gone: it takes no signatures
        assert reader.get(f"/api/v1/petitions/{slug}").get_json()["status"] == "closed"
    finally:
        app.config["PAGE_CACHE_SECONDS"] = 0
        cache.clear_all()


def test_choosing_a_language_on_a_page_opened_with_lang_in_its_link_takes_effect(app, client, make_petition):
    """An emailed link carries ?lang=uk: the switcher to English must not land on ?lang=uk again."""
    petition = make_petition()
    page = client.get(f"/p/{petition.slug}?lang=uk&x=1").get_data(as_text=True)
    switch = re.search(r'href="(/language/en\?next=[^"]+)"', page)
    assert switch
    answer = client.get(switch.group(1).replace("&amp;", "&"))
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/p/{petition.slug}?x=1"
    assert '<html lang="en">' in client.get(answer.headers["Location"]).get_data(as_text=True)
