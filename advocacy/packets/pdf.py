"""summary.pdf: a cover letter in the target's language, the petition's text, the totals and a table by country.

Drawn by fpdf2 with DejaVu Sans embedded (shipped in ``fonts/``), so Latin and Cyrillic render anywhere.
The document's creation date is the packet's cut-off, so the same packet gives the same PDF.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from babel.dates import format_datetime
from babel.numbers import format_decimal
from flask_babel import force_locale
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from advocacy.i18n import country_name

FONTS = Path(__file__).parent / "fonts"
# fontTools, which fpdf2 uses to subset the font, reports every table it prunes at INFO
logging.getLogger("fontTools").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Summary:
    locale: str
    target_name: str
    petition_title: str
    petition_paragraphs: list[str]
    campaign_name: str
    cutoff: datetime
    total: int
    listed: int
    by_country: dict[str, int]  # counted signatures per country
    names_shared: bool          # the target's policy lets names be passed on
    packet_id: str


def render(summary: Summary) -> bytes:
    locale = summary.locale
    with force_locale(locale):
        pdf = FPDF(format="A4")
        pdf.set_creation_date(summary.cutoff)
        pdf.set_title(_("Signatures for %(target)s", target=summary.target_name))
        pdf.set_author(summary.campaign_name)
        pdf.set_lang(locale)
        pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        pdf.set_auto_page_break(auto=True, margin=18)
        pdf.add_page()
        when = format_datetime(summary.cutoff, "long", tzinfo=None, locale=locale)
        count = format_decimal(summary.total, locale=locale)

        def line(text: str, *, size: float = 11, bold: bool = False, space: float = 2) -> None:
            pdf.set_font("DejaVu", "B" if bold else "", size)
            pdf.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(space)

        line(summary.target_name, size=12, bold=True, space=6)
        line(_("Petition: %(title)s", title=summary.petition_title), size=14, bold=True, space=4)
        line(_("On behalf of %(campaign)s we hand you the signatures of this petition: %(count)s people "
               "confirmed their signature by email up to %(when)s.",
               campaign=summary.campaign_name, count=count, when=when))
        if summary.names_shared:
            line(_("signatures.csv lists the name and country of the %(listed)s signers who agreed that their "
                   "name and country be passed to the addressees of the petition; the others are counted only.",
                   listed=format_decimal(summary.listed, locale=locale)))
        else:
            line(_("As agreed with your institution, this packet holds counts only and no names."))
        line(_("manifest.json lists every file of this packet with its SHA-256 and is signed by the platform’s "
               "key (manifest.sig). Packet %(id)s.", id=summary.packet_id), size=9, space=6)

        line(_("The petition"), size=12, bold=True)
        for paragraph in summary.petition_paragraphs:
            line(paragraph, size=10)
        pdf.ln(4)

        line(_("Signatures by country"), size=12, bold=True)
        pdf.set_font("DejaVu", "", 10)
        with pdf.table(col_widths=(70, 30), text_align=("LEFT", "RIGHT"), first_row_as_headings=True) as table:
            header = table.row()
            header.cell(_("Country"))
            header.cell(_("Signatures"))
            rows = sorted(summary.by_country.items(), key=lambda item: (-item[1], item[0]))
            for code, number in rows:
                row = table.row()
                row.cell(country_name(code, locale))
                row.cell(format_decimal(number, locale=locale))
            total = table.row()
            total.cell(_("Total"))
            total.cell(count)
        return bytes(pdf.output())
