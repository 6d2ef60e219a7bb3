"""The petition page as a reader sees it."""

from __future__ import annotations

import re

from advocacy import cache
from advocacy.extensions import db
from advocacy.petitions import services
from tests.signatures.test_views import TOKEN_RE


def open_petition_outside_any_context(app) -> str:
    """No app context stays open around the requests: each request gets its own, as in production."""
    with app.app_context():
        campaign = services.upsert_campaign("c", name={"en": "C"}, description={})
        target = services.upsert_target("t", name={"en": "T"}, country=None)
        services.upsert_petition("shared", campaign=campaign, title={"en": "Shared", "uk": "Спільна"}, summary={},
                                 body={}, targets=[target])
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
