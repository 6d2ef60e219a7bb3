"""Charts and the world map as SVG documents, drawn on the server (pygal for the charts, our own paths for
the map). Served as responses of their own (image/svg+xml) shown with <img>: the page's CSP stays strict and
pygal's inline style applies inside the image. No script, no external font or stylesheet."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pygal
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask_babel import gettext as _
from pygal.style import Style

from advocacy.dashboard.services import Point
from advocacy.i18n import country_name

FONT = "DejaVu Sans, Arial, sans-serif"
STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#222222", foreground_strong="#111111",
    foreground_subtle="#666666", colors=("#1d4ed8", "#15803d"), font_family=FONT,
    label_font_size=12, major_label_font_size=12, legend_font_size=13, title_font_size=15,
)


def _without_scripts(chart: Any) -> str:
    """Render, then drop what pygal adds for its browser script (its config <script>, comments with links)."""
    tree = chart.render_tree()
    for parent in tree.iter():
        for child in list(parent):
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag.endswith("script") or not isinstance(child.tag, str):
                parent.remove(child)
    from pygal.etree import etree

    text = etree.tostring(tree, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + text


def _line(title: str, labels: list[str], points: Sequence[Point], locale: str, label_every: int) -> str:
    chart = pygal.Bar(
        js=[], width=900, height=360, title=title, show_legend=True, legend_at_bottom=True,
        x_label_rotation=30, x_labels_major_every=label_every, show_minor_x_labels=False,
        show_y_guides=True, style=STYLE, disable_xml_declaration=True, truncate_label=-1,
        value_formatter=lambda value: format_decimal(value or 0, locale=locale), print_values=False,
        no_data_text=_("No signatures yet"),
    )
    chart.x_labels = labels
    chart.add(_("Signed"), [p.signed for p in points])
    chart.add(_("Confirmed"), [p.confirmed for p in points])
    return _without_scripts(chart)


def hour_label(moment: datetime | Any, locale: str) -> str:
    return format_datetime(moment, "d MMM HH:mm", tzinfo=None, locale=locale)


def day_label(day: Any, locale: str) -> str:
    return format_date(day, "medium", locale=locale)


def hourly_svg(points: Sequence[Point], locale: str) -> str:
    labels = [hour_label(p.start, locale) for p in points]
    return _line(_("Signatures per hour, last 72 hours (UTC)"), labels, points, locale, label_every=6)


def daily_svg(points: Sequence[Point], locale: str) -> str:
    labels = [day_label(p.start, locale) for p in points]
    return _line(_("Signatures per day (UTC)"), labels, points, locale,
                 label_every=max(1, len(points) // 12))


# --- the world map ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MapShape:
    width: int
    height: int
    paths: dict[str, str]


@cache
def world() -> MapShape:
    raw = json.loads(resources.files("advocacy.dashboard").joinpath("data/world-110m.json").read_text("utf-8"))
    return MapShape(int(raw["width"]), int(raw["height"]), dict(raw["countries"]))


# from light to dark; the first is "no signatures"
FILLS = ("#e5e7eb", "#dbeafe", "#93c5fd", "#3b82f6", "#1d4ed8", "#1e3a8a")
# countries whose count is not shown (below the public threshold): one colour whatever their count
HIDDEN = "#fde68a"


def buckets(largest: int) -> list[int]:
    """Lower bounds of the coloured buckets (after "none"): 1 and powers of ten up to the largest count."""
    bounds = [1]
    step = 10
    while step <= largest and len(bounds) < len(FILLS) - 1:
        bounds.append(step)
        step *= 10
    return bounds


@dataclass(frozen=True)
class MapValue:
    """A country on the map: ``count`` to show and colour by, or ``below`` (shown as "fewer than N")."""

    count: int | None = None
    below: int | None = None


def map_svg(values: dict[str, MapValue], locale: str, title: str) -> str:
    shape = world()
    largest = max((v.count for v in values.values() if v.count), default=0)
    bounds = buckets(largest)

    def fill(value: MapValue | None) -> str:
        if value is None:
            return FILLS[0]
        if value.count is None:  # hidden counts all look alike
            return HIDDEN
        level = sum(1 for bound in bounds if value.count >= bound)
        return FILLS[level] if value.count else FILLS[0]

    def describe(code: str, value: MapValue | None) -> str:
        name = country_name(code, locale)
        if value is None or (value.count == 0 and value.below is None):
            return _("%(country)s: no signatures", country=name)
        if value.count is None:
            return _("%(country)s: fewer than %(num)s", country=name,
                     num=format_decimal(value.below or 0, locale=locale))
        return _("%(country)s: %(num)s", country=name, num=format_decimal(value.count, locale=locale))

    legend_height = 30
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {shape.width} {shape.height + legend_height}" '
        f'role="img" aria-label={quoteattr(title)} font-family={quoteattr(FONT)} font-size="12">',
        f"<title>{escape(title)}</title>",
        '<g stroke="#ffffff" stroke-width="0.4">',
    ]
    for code, path in sorted(shape.paths.items()):
        value = values.get(code)
        out.append(f'<path d="{path}" fill="{fill(value)}"><title>{escape(describe(code, value))}</title></path>')
    out.append("</g>")
    # the legend: one swatch per bucket
    y = shape.height + 8
    entries = [(FILLS[0], _("none"))]
    if any(v.count is None for v in values.values()):
        below = next(v.below for v in values.values() if v.count is None)
        entries.append((HIDDEN, _("fewer than %(num)s", num=format_decimal(below or 0, locale=locale))))
    for index, bound in enumerate(bounds):
        entries.append((FILLS[index + 1], "≥ " + format_decimal(bound, locale=locale)))
    x = 10
    out.append('<g class="legend">')
    for colour, label in entries:
        out.append(f'<rect x="{x}" y="{y}" width="14" height="14" fill="{colour}" stroke="#9ca3af" '
                   'stroke-width="0.5"/>')
        out.append(f'<text x="{x + 20}" y="{y + 12}" fill="#222222">{escape(label)}</text>')
        x += 30 + 7 * len(label)
    out.append("</g></svg>")
    return "\n".join(out)
