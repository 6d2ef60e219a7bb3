"""The dashboard in the console (organisers of the petition's campaign and admins, exact figures) and the
public map of a petition (/p/<slug>/map.svg, the public tally's figures)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, render_template
from flask_babel import format_percent
from flask_babel import gettext as _

from advocacy.accounts.sessions import console_required
from advocacy.cache import TTLCache, private
from advocacy.console.views import petition_or_404
from advocacy.dashboard import charts, services
from advocacy.i18n import collation_key, country_name, current_locale
from advocacy.packets import delivery
from advocacy.packets import services as packets
from advocacy.petitions import services as petitions
from advocacy.petitions.models import Petition
from advocacy.petitions.services import PetitionNotFound
from advocacy.tallies import services as tallies

console_bp = Blueprint("dashboard_console", __name__, url_prefix="/console")
public_bp = Blueprint("dashboard", __name__)

SVG = "image/svg+xml; charset=utf-8"


console_bp.after_request(private)  # one person's pages: never stored


@dataclass(frozen=True)
class CountryRow:
    code: str
    name: str
    count: int
    goal: int | None

    @property
    def share(self) -> float | None:
        return self.count / self.goal if self.goal else None


def country_rows(petition: Petition, locale: str) -> list[CountryRow]:
    """Every country with signatures or a goal: exact counts against the goals, largest first."""
    exact = tallies.tally(petition.id).by_country
    goals = petition.country_goals or {}
    codes = set(exact) | set(goals)
    rows = [CountryRow(code, country_name(code, locale), exact.get(code, 0), goals.get(code)) for code in codes]
    rows.sort(key=lambda row: (-row.count, collation_key(row.name, locale), row.code))
    return rows


@console_bp.get("/petitions/<int:petition_id>/dashboard")
@console_required
def petition_dashboard(petition_id: int) -> str:
    petition = petition_or_404(petition_id)
    locale = current_locale()
    return render_template(
        "dashboard/petition.html", petition=petition, totals=services.totals(petition.id),
        tally=tallies.tally(petition.id), countries=country_rows(petition, locale),
        hours=services.hourly(petition.id), days=services.daily(petition.id),
        hour_label=lambda moment: charts.hour_label(moment, locale),
        day_label=lambda day: charts.day_label(day, locale),
        percent=lambda share: format_percent(share, "#,##0.0%"),
        deliveries=delivery.deliveries_of_petition(petition.id), responses=packets.responses(petition.id),
    )


def _svg(text: str, *, public_seconds: int = 0) -> Response:
    response = Response(text, mimetype="image/svg+xml")
    response.headers["Content-Type"] = SVG
    # shown with <img>: pygal's inline style applies inside the image and the page's CSP needs no exception
    if public_seconds:
        response.headers["Cache-Control"] = f"public, max-age={public_seconds}"
    return response


@console_bp.get("/petitions/<int:petition_id>/dashboard/hourly.svg")
@console_required
def hourly_svg(petition_id: int) -> Response:
    petition = petition_or_404(petition_id)
    return _svg(charts.hourly_svg(services.hourly(petition.id), current_locale()))


@console_bp.get("/petitions/<int:petition_id>/dashboard/daily.svg")
@console_required
def daily_svg(petition_id: int) -> Response:
    petition = petition_or_404(petition_id)
    return _svg(charts.daily_svg(services.daily(petition.id), current_locale()))


@console_bp.get("/petitions/<int:petition_id>/dashboard/map.svg")
@console_required
def map_svg(petition_id: int) -> Response:
    petition = petition_or_404(petition_id)
    values = {code: charts.MapValue(count=n) for code, n in tallies.tally(petition.id).by_country.items()}
    return _svg(charts.map_svg(values, current_locale(), _("Confirmed signatures by country")))


_public_maps: TTLCache[str] = TTLCache(maxsize=256)


def public_map(petition_id: int, locale: str) -> str:
    """The map anyone may see: counts below the public threshold are not shown, only "fewer than N"."""
    public = tallies.public_tally(petition_id, locale)
    values = {row.country: charts.MapValue(count=row.count, below=row.below) for row in public.rows}
    return charts.map_svg(values, locale, _("Confirmed signatures by country"))


@public_bp.get("/p/<slug>/map.svg")
def public_map_svg(slug: str) -> Response:
    try:
        petition = petitions.get_petition(slug)
    except PetitionNotFound:
        abort(404)
    locale = current_locale()
    seconds = float(current_app.config["PAGE_CACHE_SECONDS"])
    text = _public_maps.get_or_make((petition.id, locale), seconds, lambda: public_map(petition.id, locale))
    return _svg(text, public_seconds=int(seconds))
