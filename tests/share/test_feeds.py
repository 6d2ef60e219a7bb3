"""Atom and RSS feeds of new petitions and of a campaign's news, and the news pages they link to (issue 11)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from advocacy.dbtypes import utcnow
from advocacy.extensions import db
from advocacy.petitions.models import PetitionStatus, PetitionTransition
from advocacy.signatures.models import Signature, SignatureState
from advocacy.updates.models import Update, UpdateKind, UpdateStatus
from tests.conftest import BASE_URL
from tests.share.helpers import no_cookie, parse_xml

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"



def atom(client: FlaskClient, path: str) -> ET.Element:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "application/atom+xml"
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    no_cookie(response)
    root = parse_xml(response.data)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None, required
    return root


def links(element: ET.Element, rel: str = "alternate") -> list[str]:
    return [link.get("href", "") for link in element.findall(f"{ATOM}link") if link.get("rel", "alternate") == rel]


def opened_days_ago(petition: Any, days: int) -> None:
    db.session.query(PetitionTransition).filter_by(petition_id=petition.id).update(
        {"at": utcnow() - timedelta(days=days)})
    db.session.commit()


def test_new_petitions_feed(client: FlaskClient, make_petition: Any) -> None:
    old = make_petition(slug="old", title={"en": "Old one", "uk": "Стара", "ru": "Старая"})
    new = make_petition(slug="new", title={"en": "New one", "uk": "Нова", "ru": "Новая"})
    make_petition(slug="draft", status=PetitionStatus.DRAFT)
    closed = make_petition(slug="closed", status=PetitionStatus.CLOSED, title={"en": "Closed one"},
                           body={"en": "Text."})
    opened_days_ago(old, 30)
    opened_days_ago(closed, 60)
    opened_days_ago(new, 1)

    root = atom(client, "/feeds/petitions.atom?lang=uk")
    assert root.get(XML_LANG) == "uk"
    assert links(root, "self") == [f"{BASE_URL}/feeds/petitions.atom?lang=uk"]
    entries = root.findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == ["Нова", "Стара", "Closed one"]
    assert [entry.get(XML_LANG) for entry in entries] == ["uk", "uk", "en"]  # no Ukrainian title: English
    assert links(entries[0]) == [f"{BASE_URL}/p/new?lang=uk"]
    assert links(entries[2]) == [f"{BASE_URL}/p/closed?lang=en"]
    for entry in entries:
        assert entry.findtext(f"{ATOM}id", "").startswith("tag:petitions.test,")
        assert all(href.startswith(BASE_URL + "/") for href in links(entry))
    # the id stays when the reader's language changes
    english = atom(client, "/feeds/petitions.atom?lang=en").findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in english] == [e.findtext(f"{ATOM}id") for e in entries]
    assert "draft" not in client.get("/feeds/petitions.atom").get_data(as_text=True)

    rss = client.get("/feeds/petitions.rss?lang=ru")
    assert rss.mimetype == "application/rss+xml"
    no_cookie(rss)
    channel = parse_xml(rss.data).find("channel")
    assert channel is not None
    assert channel.findtext("language") == "ru"
    items = channel.findall("item")
    assert [item.findtext("title") for item in items] == ["Новая", "Старая", "Closed one"]
    assert items[0].findtext("link") == f"{BASE_URL}/p/new?lang=ru"
    assert all(item.findtext("pubDate") for item in items)


def news(petition_id: int, *, subject: dict[str, str], body: dict[str, str], status: UpdateStatus = UpdateStatus.SENT,
         kind: UpdateKind = UpdateKind.MANUAL, days_ago: int = 1, milestone: str | None = None) -> int:
    update = Update(petition_id=petition_id, kind=kind, subject=subject, body=body, status=status,
                    milestone=milestone, approved_at=utcnow() - timedelta(days=days_ago),
                    started_at=utcnow() - timedelta(days=days_ago) if status in (UpdateStatus.SENDING,
                                                                                 UpdateStatus.SENT) else None)
    db.session.add(update)
    db.session.commit()
    return update.id


def test_campaign_news_feed_and_pages(client: FlaskClient, make_petition: Any) -> None:
    petition = make_petition(slug="news-petition")
    other_draft = make_petition(slug="hidden-petition", status=PetitionStatus.DRAFT)
    signer = Signature(petition_id=petition.id, full_name="Olena Signer", email="olena@example.org",
                       email_index="olena", country="UA", locale="uk", state=SignatureState.CONFIRMED,
                       opt_in_news=True)
    db.session.add(signer)
    db.session.commit()
    both = news(petition.id, subject={"en": "Handed in", "uk": "Передали"},
                body={"en": "We **handed** it in.", "uk": "Ми *передали* її."}, days_ago=1)
    english_only = news(petition.id, subject={"en": "Hearing set"}, body={"en": "A hearing <script>x</script>."},
                        status=UpdateStatus.SENDING, days_ago=2)
    draft = news(petition.id, subject={"en": "Not yet"}, body={"en": "Secret draft."}, status=UpdateStatus.DRAFT)
    approved = news(petition.id, subject={"en": "Approved, not sent"}, body={"en": "Soon."},
                    status=UpdateStatus.APPROVED)
    news(petition.id, subject={}, body={}, kind=UpdateKind.MILESTONE, milestone="goal:100")
    news(other_draft.id, subject={"en": "About a draft petition"}, body={"en": "Hidden."})

    root = atom(client, "/c/people-first/news.atom?lang=uk")
    assert root.get(XML_LANG) == "uk"
    assert links(root) == [f"{BASE_URL}/c/people-first/news?lang=uk"]
    entries = root.findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == ["Передали", "Hearing set"]
    assert [entry.get(XML_LANG) for entry in entries] == ["uk", "en"]
    assert links(entries[0]) == [f"{BASE_URL}/c/people-first/news/{both}?lang=uk"]
    assert links(entries[1]) == [f"{BASE_URL}/c/people-first/news/{english_only}?lang=en"]
    content = entries[0].findtext(f"{ATOM}content")
    assert content == "<p>Ми <em>передали</em> її.</p>"
    assert "<script>" not in (entries[1].findtext(f"{ATOM}content") or "")
    text = client.get("/c/people-first/news.atom?lang=uk").get_data(as_text=True)
    # nothing of any signer: no name, address or unsubscribe link
    for secret in ("Olena", "olena@example.org", "unsubscribe", "Secret draft", "Soon.", "Hidden."):
        assert secret not in text

    rss = parse_xml(client.get("/c/people-first/news.rss?lang=en").data).find("channel")
    assert rss is not None
    assert [item.findtext("title") for item in rss.findall("item")] == ["Handed in", "Hearing set"]

    page = client.get("/c/people-first/news?lang=uk")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'rel="alternate" type="application/atom+xml" href="/c/people-first/news.atom?lang=uk"' in html
    assert "Передали" in html
    assert "Hearing set" in html
    assert "Not yet" not in html
    one = client.get(f"/c/people-first/news/{english_only}?lang=uk")
    assert one.status_code == 200
    assert 'lang="en"' in one.get_data(as_text=True)
    assert "A hearing" in one.get_data(as_text=True)
    assert "<script>x" not in one.get_data(as_text=True)
    for hidden in (draft, approved):
        assert client.get(f"/c/people-first/news/{hidden}").status_code == 404
    assert client.get("/c/no-such-campaign/news").status_code == 404
    assert client.get("/c/no-such-campaign/news.atom").status_code == 404


def test_feeds_survive_characters_xml_cannot_carry(client: FlaskClient, make_petition: Any) -> None:
    petition = make_petition(slug="odd")
    news(petition.id, subject={"en": "Bell\x07 in the subject"}, body={"en": "Form\x0cfeed"})
    root = atom(client, "/c/people-first/news.atom?lang=en")
    assert root.find(f"{ATOM}entry/{ATOM}title") is not None
    assert root.findtext(f"{ATOM}entry/{ATOM}title") == "Bell in the subject"


def test_readers_find_the_feeds_and_the_news(client: FlaskClient, make_petition: Any) -> None:
    """The home page announces the feed of new petitions (to feed readers and as a link); a petition's page
    links to its campaign's news."""
    petition = make_petition()
    home = client.get("/?lang=uk").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml" href="/feeds/petitions.atom?lang=uk"' in home
    assert 'href="/feeds/petitions.atom?lang=uk">' in home
    page = client.get(f"/p/{petition.slug}").get_data(as_text=True)
    news = f"/c/{petition.campaign.slug}/news"
    assert f'href="{news}"' in page
    assert client.get(news).status_code == 200
