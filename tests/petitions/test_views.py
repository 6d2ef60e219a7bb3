"""The petition page as a reader sees it."""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import func, select, update

from advocacy import cache
from advocacy.accounts.roles import SYSTEM
from advocacy.extensions import db
from advocacy.petitions import services
from advocacy.petitions.models import Petition
from advocacy.signatures.models import Signature
from advocacy.tallies import services as tallies
from tests.conftest import published_campaign_and_target, statements_of_this_thread
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


def test_the_shared_page_gives_no_session_and_its_token_signs(app):
    """Reading a petition page sets no cookie at all: the form's token is stateless (advocacy.stateless_csrf),
    the same in every anonymous reader's copy, and it signs without any session."""
    slug = open_petition_outside_any_context(app)
    app.config["PAGE_CACHE_SECONDS"] = 60
    try:
        first, second = app.test_client(), app.test_client()
        answer_one, answer_two = first.get(f"/p/{slug}"), second.get(f"/p/{slug}")
        assert "Set-Cookie" not in answer_one.headers
        assert "Set-Cookie" not in answer_two.headers
        page_one, page_two = answer_one.get_data(as_text=True), answer_two.get_data(as_text=True)
        assert page_one == page_two
        token = TOKEN_RE.search(page_one)
        assert token
        response = first.post(f"/p/{slug}", data={
            "full_name": "Olena K", "email": "olena@example.org", "country": "UA", "csrf_token": token.group(1)})
        assert response.status_code == 303
        assert "Set-Cookie" not in response.headers
        # each language has its own copy
        assert '<html lang="uk">' in first.get(f"/p/{slug}?lang=uk").get_data(as_text=True)
    finally:
        app.config["PAGE_CACHE_SECONDS"] = 0
        cache.clear_all()


def test_sign_posts_share_the_petition_read_until_it_closes(app):
    """With pages shared for a minute, a burst of sign POSTs reads the petition once; closing it by hand
    empties what is shared at once, so the very next POST is refused and nothing is stored."""
    slug = open_petition_outside_any_context(app)
    app.config["PAGE_CACHE_SECONDS"] = 60
    try:
        reader = app.test_client(use_cookies=False)
        token = TOKEN_RE.search(reader.get(f"/p/{slug}").get_data(as_text=True))
        assert token

        def post(address: str) -> Any:
            return reader.post(f"/p/{slug}", data={"full_name": "Olena K", "email": address, "country": "UA",
                                                   "consent_share_name": "y", "csrf_token": token.group(1)})

        with app.app_context():
            engine = db.engine
        with statements_of_this_thread(engine) as statements:
            assert [post(f"o{i}@example.org").status_code for i in range(3)] == [303] * 3
        assert len([s for s in statements if "FROM petitions" in s]) == 1
        with app.app_context():
            petition_id = db.session.scalar(select(Petition.id).where(Petition.slug == slug))
            services.close_petition(petition_id, actor=SYSTEM)
            db.session.commit()
        refused = post("late@example.org")
        assert refused.status_code == 400
        assert "This petition is closed" in refused.get_data(as_text=True)
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Signature)) == 3
    finally:
        app.config["PAGE_CACHE_SECONDS"] = 0
        cache.clear_all()


def test_a_petition_page_sets_no_cookie_even_when_rendered_for_the_reader(client, make_petition):
    petition = make_petition()
    for path in (f"/p/{petition.slug}", f"/api/v1/petitions/{petition.slug}", f"/p/{petition.slug}?x=1"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert "Set-Cookie" not in answer.headers, path


def _sign_data(token: str, **overrides: str) -> dict[str, str]:
    return {"full_name": "Taras Shevchuk", "email": "taras@example.org", "country": "UA", "csrf_token": token,
            **overrides}


def _refused_with_the_form_kept(answer) -> None:
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "This form had expired. Please check your details and send it again." in html
    assert 'value="Taras Shevchuk"' in html
    assert 'value="taras@example.org"' in html
    # and a fresh token to send it again with
    fresh = TOKEN_RE.search(html)
    assert fresh


def test_a_forged_expired_or_foreign_token_is_refused_with_the_form_kept(app, make_petition):
    import time_machine

    from advocacy.stateless_csrf import FORM_TOKEN_MAX_AGE

    petition, other = make_petition(), make_petition()
    client = app.test_client()
    own = TOKEN_RE.search(client.get(f"/p/{petition.slug}").get_data(as_text=True)).group(1)
    foreign = TOKEN_RE.search(client.get(f"/p/{other.slug}").get_data(as_text=True)).group(1)
    payload, stamp, signature = own.split(".")
    forged = f"{payload}.{stamp}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"

    _refused_with_the_form_kept(client.post(f"/p/{petition.slug}", data=_sign_data(forged)))
    _refused_with_the_form_kept(client.post(f"/p/{petition.slug}", data=_sign_data(foreign)))
    _refused_with_the_form_kept(client.post(f"/p/{petition.slug}", data=_sign_data("")))
    with time_machine.travel(time.time() + FORM_TOKEN_MAX_AGE + 60):
        _refused_with_the_form_kept(client.post(f"/p/{petition.slug}", data=_sign_data(own)))
    assert db.session.query(Signature).count() == 0
    # within its lifetime the token signs
    with time_machine.travel(time.time() + FORM_TOKEN_MAX_AGE - 600):
        assert client.post(f"/p/{petition.slug}", data=_sign_data(own)).status_code == 303


def test_a_reader_with_a_session_uses_the_session_token(app, make_petition):
    """A session with more than a CSRF token in it (a login, a flashed message) is someone's own: their page
    carries the session's token, and a stateless one does not do for them."""
    petition = make_petition()
    anonymous, signed_in = app.test_client(), app.test_client()
    stateless = TOKEN_RE.search(anonymous.get(f"/p/{petition.slug}").get_data(as_text=True)).group(1)
    with signed_in.session_transaction() as session:
        session["user_id"] = 1
    own = TOKEN_RE.search(signed_in.get(f"/p/{petition.slug}").get_data(as_text=True)).group(1)
    assert own != stateless
    refused = signed_in.post(f"/p/{petition.slug}", data=_sign_data(stateless))
    assert refused.status_code == 400
    assert signed_in.post(f"/p/{petition.slug}", data=_sign_data(own)).status_code == 303


def test_too_many_signatures_show_the_form_again_with_what_was_typed(app, make_petition):
    """Over the sign limits the reader gets the petition page in their language with the form as they filled it
    and a message to wait and send it again (429), not a bare error page."""
    from advocacy.extensions import limiter

    petition = make_petition()
    client = app.test_client()
    token = TOKEN_RE.search(client.get(f"/p/{petition.slug}?lang=uk").get_data(as_text=True)).group(1)
    limiter.enabled = True
    limiter.reset()
    try:
        for _ in range(20):
            client.post(f"/p/{petition.slug}", data={"full_name": ""})
        answer = client.post(f"/p/{petition.slug}?lang=uk", data=_sign_data(token, full_name="Тарас Шевчук"))
        # reading the page is never limited, and costs the limiter nothing
        assert client.get(f"/p/{petition.slug}").status_code == 200
    finally:
        limiter.enabled = False
        limiter.reset()
    html = answer.get_data(as_text=True)
    assert answer.status_code == 429
    assert '<html lang="uk">' in html
    assert 'value="Тарас Шевчук"' in html
    assert 'value="taras@example.org"' in html
    assert '<option selected value="UA">' in html
    with app.test_request_context("/?lang=uk"):
        from flask_babel import force_locale, gettext

        with force_locale("uk"):
            message = gettext("Too many requests. Please wait a little and try again.")
    assert message != "Too many requests. Please wait a little and try again."  # translated
    assert message in html
    assert db.session.query(Signature).count() == 0


def test_get_requests_never_reach_the_limiter_storage(app, client, make_petition, monkeypatch):
    from advocacy.extensions import limiter

    petition = make_petition()
    hits: list[str] = []
    limiter.enabled = True
    limiter.reset()
    real_hit, real_test = limiter.limiter.hit, limiter.limiter.test
    monkeypatch.setattr(limiter.limiter, "hit", lambda *a, **k: hits.append("hit") or real_hit(*a, **k))
    monkeypatch.setattr(limiter.limiter, "test", lambda *a, **k: hits.append("test") or real_test(*a, **k))
    try:
        for path in (f"/p/{petition.slug}", f"/api/v1/petitions/{petition.slug}", "/",
                     f"/p/{petition.slug}/new-link"):
            assert client.get(path).status_code == 200, path
        assert hits == []
        client.post(f"/p/{petition.slug}", data={"full_name": ""})
        assert hits  # the POST is counted
    finally:
        limiter.enabled = False
        limiter.reset()


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


def test_anonymous_readers_get_the_shared_answer_from_in_front_of_flask(app):
    """A reader with no cookie and no query string gets the last shared answer in their language again without
    Flask (same status, headers and body); anyone else, or another language, or a foreign Host goes through."""
    from flask import request_started

    slug = open_petition_outside_any_context(app)
    app.config["PAGE_CACHE_SECONDS"] = 60
    reached: list[str] = []

    def note(sender: object, **extra: object) -> None:
        from flask import request

        reached.append(request.full_path)

    request_started.connect(note, app)
    try:
        reader = app.test_client(use_cookies=False)
        for path in (f"/p/{slug}", f"/api/v1/petitions/{slug}"):
            first, second = reader.get(path), reader.get(path)
            assert first.status_code == second.status_code == 200
            assert first.get_data() == second.get_data()
            assert sorted(first.headers.items()) == sorted(second.headers.items())
            assert "Set-Cookie" not in second.headers
            assert second.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert len(reached) == 2  # the second of each never reached Flask
        ukrainian = reader.get(f"/p/{slug}", headers={"Accept-Language": "uk,en;q=0.5"})
        assert '<html lang="uk">' in ukrainian.get_data(as_text=True)
        assert reader.get(f"/p/{slug}?x=1").status_code == 200
        assert reader.get(f"/p/{slug}", headers={"Cookie": "lang=ru"}).status_code == 200
        assert '<html lang="ru">' in reader.get(f"/p/{slug}", headers={"Cookie": "lang=ru"}).get_data(as_text=True)
        assert reader.get(f"/p/{slug}", headers={"Host": "evil.example"}).status_code == 400
        assert len(reached) == 7
        cache.clear_all()  # what a petition's change committed in this process does
        reader.get(f"/p/{slug}")
        assert len(reached) == 8
    finally:
        request_started.disconnect(note, app)
        app.config["PAGE_CACHE_SECONDS"] = 0
        cache.clear_all()
