"""The public calendar pages, in three languages, without JavaScript."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from advocacy.accounts.roles import SYSTEM
from advocacy.events import services
from advocacy.events.models import EventKind
from advocacy.extensions import db
from tests.events.conftest import AFTER_SPRING_CHANGE, BEFORE_SPRING_CHANGE, GENEVA
from tests.pages import assert_loads_nothing_from_elsewhere


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    # strict CSP: nothing inline, nothing loaded from elsewhere
    assert_loads_nothing_from_elsewhere(html, allowed_host="petitions.test")
    return html


def listed(html):
    return re.findall(r'data-uid="([^"]+)"', html)


@pytest.mark.parametrize(("lang", "title", "month_word"), [
    ("en", "Side-event 1", "March"),
    ("uk", "Сайд-івент 1", "березня"),
    ("ru", "Сайд-ивент 1", "марта"),
])
def test_list_renders_in_each_language(client, make_event, lang, title, month_word):
    event = make_event()
    html = page(client, f"/events/?lang={lang}")
    assert f'<html lang="{lang}">' in html
    assert title in html
    assert month_word in html  # dates formatted by Babel in the viewer's language
    assert listed(html) == [event.uid]


@pytest.mark.parametrize(("lang", "caption"), [("en", "March 2030"), ("uk", "березень 2030"), ("ru", "март 2030")])
def test_month_grid_renders_in_each_language(client, make_event, lang, caption):
    event = make_event()
    html = page(client, f"/events/calendar/2030/3?lang={lang}")
    assert caption in html
    cell = re.search(r'<span class="day-number">29</span>(.*?)</td>', html, re.S)
    assert cell
    assert event.display_title(lang) in cell.group(1)
    assert "13:00" in cell.group(1)
    assert 'href="/events/calendar/2030/4' in html
    assert 'href="/events/calendar/2030/2' in html


def test_month_grid_in_the_viewer_zone(client, make_event):
    late = make_event(start=datetime(2030, 3, 14, 22, 30, tzinfo=GENEVA),
                      end=datetime(2030, 3, 14, 23, 30, tzinfo=GENEVA))
    html = page(client, "/events/calendar/2030/3?tz=Asia/Tokyo")
    cell = re.search(r'<span class="day-number">15</span>(.*?)</td>', html, re.S)
    assert cell
    assert late.display_title("en") in cell.group(1)
    assert "06:30" in cell.group(1)


def test_filters_on_the_list(client, make_event):
    side = make_event(hrc_session=61)
    rally = make_event(kind=EventKind.RALLY, hrc_session=62, languages=("fr",), interpretation=())
    webinar = make_event(kind=EventKind.WEBINAR, venue=None, room=None, city=None, country=None, hrc_session=None,
                         online_url="https://meet.example/abc", campaign_slug=None, languages=("ru",),
                         interpretation=())
    assert listed(page(client, "/events/?session=61")) == [side.uid]
    assert listed(page(client, "/events/?session=hrc-62")) == [rally.uid]
    assert listed(page(client, "/events/?kind=rally")) == [rally.uid]
    assert listed(page(client, "/events/?language=fr")) == [rally.uid]
    assert set(listed(page(client, "/events/?language=ru"))) == {side.uid, webinar.uid}
    assert listed(page(client, "/events/?mode=online")) == [webinar.uid]
    assert set(listed(page(client, "/events/?mode=in_person"))) == {side.uid, rally.uid}
    assert set(listed(page(client, "/events/?campaign=people-first"))) == {side.uid, rally.uid}
    assert set(listed(page(client, "/events/?country=CH"))) == {side.uid, rally.uid}
    # nonsense is ignored, not an error
    assert len(listed(page(client, "/events/?kind=party&session=x&country=ZZ&mode=moon"))) == 3
    # the filter form offers what exists, and the grid filters too
    html = page(client, "/events/calendar/2030/3?kind=webinar")
    assert webinar.display_title("en") in html
    assert side.display_title("en") not in html


def test_upcoming_and_past(client, make_event):
    past = make_event(start=datetime(2020, 3, 10, 13, 0, tzinfo=GENEVA))
    future = make_event(start=AFTER_SPRING_CHANGE)
    assert listed(page(client, "/events/")) == [future.uid]
    assert listed(page(client, "/events/?when=past")) == [past.uid]


def test_event_page_shows_the_time_in_both_zones(client, make_event):
    event = make_event(start=AFTER_SPRING_CHANGE)
    html = page(client, f"/events/{event.id}?tz=America/New_York")
    local = re.search(r'id="event-local-time">(.*?)</dd>', html, re.S).group(1)
    viewer = re.search(r'id="event-viewer-time">(.*?)</dd>', html, re.S).group(1)
    assert "13:00" in local
    assert "14:30" in local
    assert "Central European Summer Time (Europe/Zurich)" in local
    # 11:00 UTC is 07:00 in New York (daylight time there too)
    assert "07:00" in viewer
    assert "America/New_York" in viewer
    assert '<option value="America/New_York" selected>' in html
    assert f'href="/events/{event.id}.ics?lang=en"' in html  # add to calendar
    assert 'href="webcal://petitions.test/events/feed.ics?lang=en"' in html
    assert 'href="webcal://petitions.test/events/sessions/61.ics?lang=en"' in html
    assert 'href="webcal://petitions.test/events/campaigns/people-first.ics?lang=en"' in html


def test_event_page_in_ukrainian_and_winter_time(client, make_event):
    event = make_event(start=BEFORE_SPRING_CHANGE)
    html = page(client, f"/events/{event.id}?lang=uk&tz=Asia/Tokyo")
    assert event.title["uk"] in html
    local = re.search(r'id="event-local-time">(.*?)</dd>', html, re.S).group(1)
    viewer = re.search(r'id="event-viewer-time">(.*?)</dd>', html, re.S).group(1)
    assert "29 березня 2030" in local
    assert "13:00" in local
    assert "21:00" in viewer  # 12:00 UTC is 21:00 in Tokyo


def test_chosen_zone_is_remembered_and_an_unknown_one_refused(client, make_event):
    event = make_event()
    page(client, f"/events/{event.id}?tz=Asia/Tokyo")
    html = page(client, f"/events/{event.id}")
    assert 'id="event-viewer-time"' in html  # remembered in a cookie
    html = page(client, f"/events/{event.id}?tz=Mars/Olympus")
    assert "We do not know that time zone" in html
    assert 'id="event-viewer-time"' not in html
    html = page(client, f"/events/{event.id}?tz=")
    assert 'id="event-viewer-time"' not in page(client, f"/events/{event.id}")


def test_cancelled_event_stays_visible(client, make_event):
    event = make_event(uid="off@test")
    services.cancel_event("off@test", actor=SYSTEM)
    db.session.commit()
    assert "This event has been cancelled." in page(client, f"/events/{event.id}")
    html = page(client, "/events/")
    assert listed(html) == ["off@test"]
    assert "badge-cancelled" in html


def test_unknown_event_is_404(client, ctx):
    page(client, "/events/12345", status=404)
    page(client, "/events/calendar/2030/13", status=404)


def test_petition_page_lists_its_upcoming_events(client, make_event, make_petition):
    petition = make_petition(slug="free-civilians")
    mine = make_event(petition_slugs=("free-civilians",))
    other = make_event()
    gone = make_event(start=datetime(2020, 3, 10, 13, 0, tzinfo=GENEVA), petition_slugs=("free-civilians",))
    html = page(client, f"/p/{petition.slug}")
    assert listed(html) == [mine.uid]
    assert other.uid not in html
    assert gone.uid not in html


def test_home_page_shows_the_next_events(client, make_event):
    later = make_event(start=AFTER_SPRING_CHANGE)
    sooner = make_event(start=BEFORE_SPRING_CHANGE)
    html = page(client, "/")
    assert listed(html) == [sooner.uid, later.uid]
    assert 'href="/events/"' in html


def test_a_draft_is_invisible_on_every_page_until_published(client, make_event, make_petition):
    petition = make_petition(slug="free-civilians")
    draft = make_event(uid="draft@test", draft=True, petition_slugs=("free-civilians",), hrc_session=70)
    urls = ["/events/", "/events/calendar/2030/3", "/events/?session=70", "/", f"/p/{petition.slug}"]
    for url in urls:
        html = page(client, url)
        assert draft.uid not in html, url
        assert draft.display_title("en") not in html, url
    page(client, f"/events/{draft.id}", status=404)
    assert "HRC 70" not in page(client, "/events/")  # not offered as a filter either

    services.publish_event("draft@test", actor=SYSTEM)
    db.session.commit()
    for url in urls:
        assert draft.display_title("en") in page(client, url), url
    assert draft.display_title("en") in page(client, f"/events/{draft.id}")
    assert "HRC 70" in page(client, "/events/")
