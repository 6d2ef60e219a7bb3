"""Share links, page metadata, the share picture, the embeddable counter and badge (issue 11)."""

from __future__ import annotations

import io
import re
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask, render_template_string
from flask.testing import FlaskClient
from flask_babel import refresh
from PIL import Image

from advocacy.extensions import db
from advocacy.signatures.models import Signature, SignatureState
from advocacy.tallies import services as tallies
from tests.conftest import BASE_URL
from tests.share.helpers import no_cookie, parse_xml


class Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {key: value or "" for key, value in attrs}))


def tags(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def render_include(app: Flask, name: str, petition: Any, lang: str = "en") -> str:
    # a request whose Host is not the base URL's: links must come from the base URL all the same
    with app.test_request_context(f"/p/{petition.slug}?lang={lang}", base_url="http://localhost"):
        refresh()  # the locale of this request, not one an outer app context remembers
        return render_template_string('{% include "share/' + name + '" %}', petition=petition)


def sign(petition_id: int, n: int, country: str = "UA") -> None:
    for i in range(n):
        db.session.add(Signature(petition_id=petition_id, full_name=f"Signer {i}", email=f"s{i}@example.org",
                                 email_index=f"idx-{petition_id}-{country}-{i}", country=country, locale="en",
                                 state=SignatureState.CONFIRMED))
    tallies.add(petition_id, country, n)
    db.session.commit()


def test_share_links_carry_the_petition_address_and_title_in_the_readers_language(app: Flask,
                                                                                  make_petition: Any) -> None:
    petition = make_petition(slug="free-them", title={"en": "Free them & all", "uk": "Звільніть усіх"})
    html = render_include(app, "_links.html", petition, lang="uk")
    url = f"{BASE_URL}/p/free-them"
    links = {attrs["class"].removeprefix("share-"): attrs for tag, attrs in tags(html)
             if tag == "a" and attrs.get("class", "").startswith("share-")}
    assert set(links) == {"email", "telegram", "whatsapp", "facebook", "x", "bluesky"}
    for attrs in links.values():
        assert attrs["rel"] == "noopener noreferrer"
    assert "localhost" not in html
    title = "Звільніть усіх"

    def query(name: str) -> dict[str, list[str]]:
        href = links[name]["href"]
        assert not re.search(r"\s", href), href  # URL-encoded
        return parse_qs(urlsplit(href).query)

    assert links["telegram"]["href"].startswith("https://t.me/share/url?")
    assert query("telegram") == {"url": [url], "text": [title]}
    assert links["whatsapp"]["href"].startswith("https://wa.me/?")
    assert query("whatsapp") == {"text": [f"{title} {url}"]}
    assert links["facebook"]["href"].startswith("https://www.facebook.com/sharer/sharer.php?")
    assert query("facebook") == {"u": [url]}
    assert links["x"]["href"].startswith("https://x.com/intent/post?")
    assert query("x") == {"text": [title], "url": [url]}
    assert links["bluesky"]["href"].startswith("https://bsky.app/intent/compose?")
    assert query("bluesky") == {"text": [f"{title} {url}"]}
    mail = links["email"]["href"]
    assert mail.startswith("mailto:?")
    assert "+" not in mail  # spaces as %20 in mailto: links
    assert query("email")["subject"] == [title]
    assert url in query("email")["body"][0]
    # the link to copy, without JavaScript: a labelled read-only field
    field = next(attrs for tag, attrs in tags(html) if tag == "input")
    assert field["value"] == url
    assert "readonly" in field
    assert field["id"] == "share-url"
    assert re.search(r'<label for="share-url">', html)
    # nothing loaded from elsewhere: no script, image or frame
    assert not [tag for tag, _ in tags(html) if tag in ("script", "img", "iframe")]

    english = render_include(app, "_links.html", petition, lang="en")
    assert "Free+them" not in english
    assert "Free%20them%20%26%20all" in english


def test_page_metadata(app: Flask, make_petition: Any) -> None:
    petition = make_petition(slug="meta", title={"en": "Free them", "uk": "Звільніть їх"},
                             summary={"en": "Release every captive.", "uk": "Звільніть кожного."})
    html = render_include(app, "_meta.html", petition, lang="uk")
    found = tags(html)
    meta = {attrs.get("property") or attrs.get("name"): attrs["content"] for tag, attrs in found if tag == "meta"}
    canonical = [attrs["href"] for tag, attrs in found if tag == "link" and attrs.get("rel") == "canonical"]
    assert canonical == [f"{BASE_URL}/p/meta"]
    assert meta["og:url"] == f"{BASE_URL}/p/meta"
    assert meta["og:title"] == "Звільніть їх"
    assert meta["og:description"] == "Звільніть кожного."
    assert meta["og:type"] == "website"
    assert meta["og:locale"] == "uk_UA"
    assert meta["og:locale:alternate"] == "en_US"
    assert meta["og:image"] == f"{BASE_URL}/p/meta/share.png?lang=uk"
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
    assert "Звільніть їх" in meta["og:image:alt"]
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["twitter:image"] == meta["og:image"]



def test_share_picture(client: FlaskClient, make_petition: Any) -> None:
    petition = make_petition(slug="picture", title={"en": "Free them", "uk": "Звільніть усіх політв'язнів " * 6})
    sign(petition.id, 3)
    response = client.get("/p/picture/share.png?lang=uk")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    picture = Image.open(io.BytesIO(response.data))
    assert picture.format == "PNG"
    assert picture.size == (1200, 630)
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    etag = response.headers["ETag"]
    no_cookie(response)
    again = client.get("/p/picture/share.png?lang=uk", headers={"If-None-Match": etag})
    assert again.status_code == 304
    # another language or another count is another picture
    assert client.get("/p/picture/share.png?lang=en").headers["ETag"] != etag
    sign(petition.id, 1, "DE")
    assert client.get("/p/picture/share.png?lang=uk").headers["ETag"] != etag
    assert client.get("/p/nothing-here/share.png").status_code == 404


def test_cyrillic_titles_are_drawn_with_glyphs() -> None:
    from advocacy.share import image

    face = image.font(48, bold=True)
    # DejaVu has the letters: each is drawn (not the one empty box every missing glyph gets)
    boxes = {face.getbbox(letter) for letter in "ЖЇЄҐЩЁ"}
    assert len(boxes) > 1
    lines = image.wrap("Звільніть усіх політв'язнів " * 6, face, 1056)
    assert len(lines) > 1
    assert all(face.getlength(line) <= 1056 for line in lines)


def test_embed_is_the_only_frameable_page_and_sets_no_cookie(client: FlaskClient, make_petition: Any) -> None:
    petition = make_petition(slug="embed-me", title={"en": "Free them", "uk": "Звільніть їх"}, goal=10)
    sign(petition.id, 4)
    response = client.get("/p/embed-me/embed?lang=uk")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert [part.strip() for part in csp.split(";") if "frame-ancestors" in part] == ["frame-ancestors *"]
    assert "X-Frame-Options" not in response.headers
    no_cookie(response)
    page = response.get_data(as_text=True)
    assert "Звільніть їх" in page
    assert '<html lang="uk">' in page
    assert re.search(r'<progress max="10" value="4"', page)
    sign_link = [attrs for tag, attrs in tags(page) if tag == "a"]
    assert sign_link == [{"href": f"{BASE_URL}/p/embed-me", "target": "_blank", "rel": "noopener"}]
    assert "<script" not in page
    # the petition page itself stays unframeable
    show = client.get("/p/embed-me?lang=uk")
    assert "frame-ancestors 'none'" in show.headers["Content-Security-Policy"]
    assert show.headers["X-Frame-Options"] == "DENY"
    # a missing petition's error page is not frameable either
    missing = client.get("/p/nothing-here/embed")
    assert missing.status_code == 404
    assert "frame-ancestors 'none'" in missing.headers["Content-Security-Policy"]


def test_badge_is_an_svg_with_the_count(client: FlaskClient, make_petition: Any) -> None:
    petition = make_petition(slug="badge")
    sign(petition.id, 1234)
    response = client.get("/p/badge/badge.svg?lang=uk")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    no_cookie(response)
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    svg = parse_xml(response.data)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [node.text for node in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "1\u00a0234" in texts  # Ukrainian groups digits with a no-break space
    english = parse_xml(client.get("/p/badge/badge.svg?lang=en").data)
    assert "1,234" in [node.text for node in english.iter("{http://www.w3.org/2000/svg}text")]
    assert "signatures" in [node.text for node in english.iter("{http://www.w3.org/2000/svg}text")]


def test_code_for_other_websites(app: Flask, make_petition: Any) -> None:
    petition = make_petition(slug="code", title={"en": 'Free "them" & all', "uk": "Звільніть"})
    html = render_include(app, "_links.html", petition, lang="en")
    # what a reader copies from the fields, once the browser has read the page
    codes = dict(re.findall(r'<textarea id="([\w-]+)"[^>]*>([^<]*)</textarea>', html))
    embed = unescape(codes["share-embed-code"])
    badge = unescape(codes["share-badge-code"])
    assert embed.startswith(f'<iframe src="{BASE_URL}/p/code/embed?lang=en" ')
    assert 'title="Free &#34;them&#34; &amp; all"' in embed
    assert badge == (f'<a href="{BASE_URL}/p/code"><img src="{BASE_URL}/p/code/badge.svg?lang=en" '
                     'alt="Free &#34;them&#34; &amp; all"></a>')
    # the counter it frames may be framed; the code itself is text, nothing on our page loads it
    assert "<iframe" not in html
