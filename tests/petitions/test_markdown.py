"""Organisers write petitions in Markdown; readers get safe HTML: no scripts, no raw HTML, only web and mail
links."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from markupsafe import Markup

from advocacy.petitions.markdown import render, sanitize
from advocacy.petitions.models import PetitionStatus


def test_paragraphs_separated_by_blank_lines_stay_paragraphs():
    assert render("First paragraph.\n\nSecond paragraph.") == "<p>First paragraph.</p>\n<p>Second paragraph.</p>"
    assert isinstance(render("x"), Markup)
    assert render("") == ""
    assert render(None) == ""


def test_emphasis_lists_quotes_and_headings_under_the_page_headings():
    html = render("# Demands\n\n**Free** them *all*:\n\n1. now\n2. safely\n\n> Quote\n\n### Detail")
    assert "<h3>Demands</h3>" in html
    assert "<strong>Free</strong> them <em>all</em>" in html
    assert "<ol>\n<li>now</li>\n<li>safely</li>\n</ol>" in html
    assert "<blockquote>\n<p>Quote</p>\n</blockquote>" in html
    assert "<h4>Detail</h4>" in html
    assert "<h1" not in html


def test_web_and_mail_links_are_kept_and_marked_nofollow():
    html = render("[Report](https://example.org/report) or [write](mailto:info@example.org)")
    assert '<a href="https://example.org/report" rel="nofollow noopener noreferrer">Report</a>' in html
    assert '<a href="mailto:info@example.org" rel="nofollow noopener noreferrer">write</a>' in html


@pytest.mark.parametrize("text", [
    "<script>alert('x')</script>",
    "Hello <b onmouseover=\"alert('x')\">there</b>",
    '<a href="https://example.org" onclick="alert(1)">raw</a>',
    "<img src=x onerror=alert(1)>",
    "<style>body{display:none}</style>",
    "<iframe src='https://evil.example'></iframe>",
])
def test_raw_html_never_becomes_markup(text):
    html = render(text)
    assert "<script" not in html
    assert "<style" not in html
    assert "<iframe" not in html
    assert "<img" not in html
    assert "<b " not in html
    assert "<a " not in html


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html;base64,PHNjcmlwdD4=",
                                 "vbscript:msgbox(1)"])
def test_links_to_other_schemes_are_dropped(url):
    assert "href" not in render(f"[click]({url})")
    assert "href" not in render(f"<{url}>")


def test_images_are_not_shown():
    assert "<img" not in render("![tracking pixel](https://evil.example/pixel.png)")


def test_the_sanitiser_alone_strips_scripts_event_attributes_and_bad_urls():
    """What the renderer would never produce is still removed by nh3, in case it ever did."""
    html = sanitize('<p onclick="x()">a<script>alert(1)</script><a href="javascript:x()">b</a>'
                    '<a href="data:text/html,x">c</a><img src="https://x/y.png">d</p>')
    assert html == '<p>a<a rel="nofollow noopener noreferrer">b</a><a rel="nofollow noopener noreferrer">c</a>d</p>'


def test_the_petition_page_shows_the_body_as_markdown(client: FlaskClient, make_petition: Any):
    make_petition(slug="formatted", body={"en": "We **demand**:\n\n- release\n\n<script>alert(1)</script>\n\n"
                                                "[Sources](https://example.org)"})
    page = client.get("/p/formatted").get_data(as_text=True)
    assert "We <strong>demand</strong>:" in page
    assert "<li>release</li>" in page
    assert '<a href="https://example.org" rel="nofollow noopener noreferrer">Sources</a>' in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as the text it is


def test_the_demo_text_looks_as_it_did(client: FlaskClient, make_petition: Any):
    make_petition(slug="plain", status=PetitionStatus.OPEN)
    page = client.get("/p/plain").get_data(as_text=True)
    assert "<p>First paragraph.</p>\n<p>Second paragraph.</p>" in page
