"""The petition page with its share links and metadata (the includes in petitions/show.html)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from tests.conftest import BASE_URL
from tests.share.test_share import tags


def test_petition_page_shares_itself_and_loads_nothing_from_elsewhere(client: FlaskClient,
                                                                      make_petition: Any) -> None:
    make_petition(slug="page", title={"en": "Free them", "uk": "Звільніть їх"})
    # asked for under another Host than the base URL's: every absolute link still names the base URL
    response = client.get("/p/page?lang=uk", base_url="http://localhost")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    head = html.split("</head>")[0]
    assert f'<link rel="canonical" href="{BASE_URL}/p/page">' in head
    assert f'<meta property="og:image" content="{BASE_URL}/p/page/share.png?lang=uk">' in head
    assert '<meta property="og:title" content="Звільніть їх">' in head
    assert '<meta name="twitter:card" content="summary_large_image">' in head
    assert 'class="share-telegram"' in html
    assert "localhost" not in html
    for tag, attrs in tags(html):
        # what the page itself loads comes from here: only links the reader clicks go elsewhere
        for name in ("src", "srcset"):
            assert name not in attrs or not urlsplit(attrs[name]).netloc, (tag, attrs)
        if tag == "link" and attrs.get("rel") not in ("canonical", "alternate"):
            assert not urlsplit(attrs["href"]).netloc, attrs
    assert "<iframe" not in html
