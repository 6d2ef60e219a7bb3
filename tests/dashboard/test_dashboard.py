"""Issue 9: the dashboard's rollup and snapshot, its console pages and SVGs, and the public map."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from advocacy.accounts.roles import SYSTEM
from advocacy.dashboard import services
from advocacy.dashboard.models import HourlyCount
from advocacy.extensions import db
from advocacy.petitions import services as petitions
from advocacy.signatures.models import Signature, SignatureState
from advocacy.signatures.services import email_index
from advocacy.tallies import services as tallies

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
H = timedelta(hours=1)
NAMESPACES = re.compile(r"http://www\.w3\.org/[\w/.]+")


def sign(petition: Any, created_at: datetime, *, state: SignatureState = SignatureState.CONFIRMED,
         confirmed_at: datetime | None = None, country: str = "UA", suspect: bool = False) -> Signature:
    address = f"signer-{db.session.query(Signature).count()}@example.org"
    signature = Signature(
        petition_id=petition.id, state=state, full_name="Someone", email=address,
        email_index=email_index(petition.id, address), country=country, locale="en", suspect=suspect,
        created_at=created_at,
        confirmed_at=(confirmed_at or created_at + timedelta(minutes=5)) if state != SignatureState.PENDING else None,
    )
    db.session.add(signature)
    db.session.flush()
    return signature


def hours(petition_id: int) -> dict[datetime, tuple[int, int]]:
    rows = db.session.execute(select(HourlyCount).where(HourlyCount.petition_id == petition_id)).scalars()
    return {row.hour: (row.signed, row.confirmed) for row in rows}


def test_the_rollup_counts_signed_and_confirmed_per_hour_and_takes_the_snapshot(make_petition: Any) -> None:
    petition = make_petition()
    base = NOW.replace(minute=0)
    sign(petition, base - 3 * H + timedelta(minutes=10))
    sign(petition, base - 3 * H + timedelta(minutes=58), confirmed_at=base - 2 * H + timedelta(minutes=1))
    sign(petition, base - 2 * H + timedelta(minutes=30), state=SignatureState.PENDING)
    sign(petition, base - 2 * H, state=SignatureState.WITHDRAWN)
    sign(petition, base - 2 * H, state=SignatureState.INVALIDATED)
    sign(petition, base - H, suspect=True)
    sign(petition, base - H, state=SignatureState.PENDING, suspect=True)
    sign(petition, base - H, state=SignatureState.WITHDRAWN, suspect=True)  # withdrawn: not "suspect"
    db.session.commit()

    written = services.refresh(NOW)
    db.session.commit()

    assert written == 3
    assert hours(petition.id) == {
        base - 3 * H: (2, 1),
        base - 2 * H: (3, 3),  # the late confirmation, the withdrawn and the invalidated one
        base - H: (3, 2),
    }
    totals = services.totals(petition.id)
    assert (totals.confirmed, totals.pending, totals.withdrawn, totals.invalidated, totals.suspect) == (2, 1, 2, 1, 2)
    assert totals.signed == 8
    assert totals.confirmation_rate == pytest.approx(2 / 8)
    assert totals.taken_at == NOW


def test_an_incremental_run_recounts_recent_hours_only(make_petition: Any) -> None:
    petition = make_petition()
    base = NOW.replace(minute=0)
    sign(petition, base - 30 * H)
    sign(petition, base)
    db.session.commit()
    services.refresh(NOW)
    db.session.commit()
    assert hours(petition.id) == {base - 30 * H: (1, 1), base: (1, 1)}

    later = NOW + timedelta(minutes=5)
    sign(petition, base + timedelta(minutes=33))
    sign(petition, base - H + timedelta(minutes=40))  # committed late, still within the margin
    pending = sign(petition, base - 40 * H, state=SignatureState.PENDING)
    db.session.commit()
    services.refresh(later)
    db.session.commit()
    # the hours before the margin are not recounted; the snapshot counts every state anew
    assert hours(petition.id) == {base - 30 * H: (1, 1), base - H: (1, 1), base: (2, 2)}
    assert services.totals(petition.id).pending == 1

    pending.state = SignatureState.CONFIRMED
    pending.confirmed_at = later + timedelta(minutes=1)
    db.session.commit()
    services.refresh(later + timedelta(minutes=5))
    db.session.commit()
    assert hours(petition.id)[base] == (2, 3)
    assert services.totals(petition.id).confirmed == 5


def test_hours_and_days_are_filled_with_zeros(make_petition: Any) -> None:
    petition = make_petition()
    base = NOW.replace(minute=0)
    sign(petition, base - 50 * H)
    sign(petition, base - 50 * H)
    sign(petition, base - 3 * 24 * H)
    db.session.commit()
    services.refresh(NOW)
    db.session.commit()

    points = services.hourly(petition.id, NOW)
    assert len(points) == 72
    assert points[-1].start == base
    assert points[0].start == base - 71 * H
    assert [(p.signed, p.confirmed) for p in points if p.signed] == [(2, 2)]
    days = services.daily(petition.id, NOW)
    assert [(p.start.isoformat(), p.signed) for p in days] == [
        ("2026-11-17", 1), ("2026-11-18", 2), ("2026-11-19", 0), ("2026-11-20", 0)]


@pytest.fixture
def busy(make_petition: Any) -> Any:
    petition = make_petition()
    # ten past the hour: each signature is confirmed five minutes later, within the same hour
    now = datetime.now(UTC).replace(minute=10, second=0, microsecond=0)
    for _ in range(12):
        sign(petition, now - 2 * H, country="UA")
    for _ in range(3):
        sign(petition, now - 5 * H, country="LT")
    sign(petition, now - 5 * H, state=SignatureState.PENDING, country="DE")
    db.session.commit()
    tallies.reconcile(petition.id, expected=True)
    services.refresh()
    db.session.commit()
    return petition


PAGES = ("/dashboard", "/dashboard/hourly.svg", "/dashboard/daily.svg", "/dashboard/map.svg")


def test_only_the_campaigns_organisers_see_the_dashboard(app: Flask, busy: Any, login_as: Any) -> None:
    other = petitions.create_campaign("other-campaign", name={"en": "Other"}, languages=["en"], actor=SYSTEM)
    db.session.commit()
    base = f"/console/petitions/{busy.id}"

    anonymous = app.test_client()
    for page in PAGES:
        answer = anonymous.get(base + page)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("/login")

    outsider = app.test_client()
    login_as(outsider, organiser_of=[other.id])
    for page in PAGES:
        assert outsider.get(base + page).status_code == 403

    organiser = app.test_client()
    login_as(organiser, organiser_of=[busy.campaign_id])
    for page in PAGES:
        assert organiser.get(base + page).status_code == 200
    admin = app.test_client()
    login_as(admin, admin=True)
    assert admin.get(base + "/dashboard").status_code == 200


def test_the_page_gives_totals_exact_countries_and_the_figures_behind_the_charts(
        busy: Any, client: FlaskClient, login_as: Any) -> None:
    login_as(client, organiser_of=[busy.campaign_id])
    page = client.get(f"/console/petitions/{busy.id}/dashboard").get_data(as_text=True)
    assert 'id="confirmation-rate">93.8%' in page  # 15 of 16
    countries = page[page.index('id="dashboard-countries"'):]
    assert re.search(r'data-country="UA">\s*<th scope="row">Ukraine</th>\s*<td class="num">12</td>\s*'
                     r'<td class="num">50</td>', countries)
    assert re.search(r'data-country="LT">\s*<th scope="row">Lithuania</th>\s*<td class="num">3</td>', countries)
    # every chart is an image with a text alternative, and its figures are in a table
    for name in ("hourly.svg", "daily.svg", "map.svg"):
        assert re.search(rf'<img [^>]*src="/console/petitions/{busy.id}/dashboard/{name}"[^>]* alt="[^"]+"', page)
    hourly = page[page.index('id="hourly-table"'):]
    assert re.search(r'<td class="num">12</td><td class="num">12</td>', hourly)
    daily = page[page.index('id="daily-table"'):]
    assert "<td class=\"num\">16</td>" in daily or "<td class=\"num\">12</td>" in daily


def test_the_svgs_have_no_script_and_no_external_reference(busy: Any, client: FlaskClient, login_as: Any) -> None:
    login_as(client, organiser_of=[busy.campaign_id])
    for name in ("hourly.svg", "daily.svg", "map.svg"):
        answer = client.get(f"/console/petitions/{busy.id}/dashboard/{name}")
        assert answer.mimetype == "image/svg+xml"
        svg = answer.get_data(as_text=True)
        assert svg.lstrip().startswith("<?xml")
        assert "<svg" in svg
        assert "<script" not in svg.lower()
        assert "javascript" not in svg.lower()
        assert "http" not in NAMESPACES.sub("", svg)
        assert "@import" not in svg
        assert "url(" not in svg.replace("url(#", "")
    exact = client.get(f"/console/petitions/{busy.id}/dashboard/map.svg").get_data(as_text=True)
    assert "<title>Lithuania: 3</title>" in exact


def test_the_charts_and_map_speak_ukrainian(busy: Any, client: FlaskClient, login_as: Any) -> None:
    login_as(client, organiser_of=[busy.campaign_id])
    hourly = client.get(f"/console/petitions/{busy.id}/dashboard/hourly.svg?lang=uk").get_data(as_text=True)
    month = datetime.now(UTC).strftime("%m")
    ukrainian = {"11": "лист.", "12": "груд.", "01": "січ."}.get(month)
    if ukrainian:
        assert ukrainian in hourly
    svg = client.get(f"/console/petitions/{busy.id}/dashboard/map.svg?lang=uk").get_data(as_text=True)
    assert "<title>Україна: 12</title>" in svg


def test_the_public_map_hides_small_counts(app: Flask, busy: Any, client: FlaskClient,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "MIN_PUBLIC_COUNT", 10)
    page = client.get(f"/p/{busy.slug}").get_data(as_text=True)
    assert re.search(rf'<img src="/p/{busy.slug}/map.svg"[^>]* alt="[^"]+"', page)
    answer = client.get(f"/p/{busy.slug}/map.svg")
    assert answer.status_code == 200
    assert answer.mimetype == "image/svg+xml"
    svg = answer.get_data(as_text=True)
    assert "<title>Ukraine: 12</title>" in svg
    assert "<title>Lithuania: fewer than 10</title>" in svg
    assert "Lithuania: 3" not in svg
    assert "<script" not in svg
    assert "http" not in NAMESPACES.sub("", svg)
    assert client.get("/p/no-such-petition/map.svg").status_code == 404
