"""The share picture (1200 by 630 PNG) and the badge's text widths, drawn with the DejaVu fonts the packets ship
(Latin and Cyrillic)."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from advocacy.packets.pdf import FONTS

WIDTH, HEIGHT = 1200, 630
MARGIN = 72
BACKGROUND = "#0b5cad"
INK = "#ffffff"
SOFT = "#d8e6f5"
BAR_BACK = "#3d7dbf"
BAR = "#f9a825"
TITLE_SIZES = (64, 56, 48, 42, 36)
TITLE_LINES = 4


@lru_cache(maxsize=16)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size)


def text_width(text: str, size: int, bold: bool = False) -> float:
    return float(font(size, bold).getlength(text))


def wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines no wider than ``width``; a word longer than a line is cut where it must be."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if face.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while face.getlength(word) > width:
            cut = len(word)
            while cut > 1 and face.getlength(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _title_lines(title: str, width: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest size at which the title fits in TITLE_LINES lines; at the smallest it is cut with …"""
    for size in TITLE_SIZES:
        face = font(size, bold=True)
        lines = wrap(title, face, width)
        if len(lines) <= TITLE_LINES:
            return face, lines
    lines = lines[:TITLE_LINES]
    last = lines[-1]
    while last and face.getlength(last + "…") > width:
        last = last[:-1]
    lines[-1] = last.rstrip() + "…"
    return face, lines


def share_png(title: str, count_text: str, site: str, fraction: float | None) -> bytes:
    """The picture networks show beside a shared link: the site, the title, the number of signatures and,
    with a goal, how far towards it."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    width = WIDTH - 2 * MARGIN
    site_face = font(30)
    site_line = wrap(site, site_face, width)[:1]
    draw.text((MARGIN, MARGIN - 10), site_line[0] if site_line else "", font=site_face, fill=SOFT)
    face, lines = _title_lines(title, width)
    y = MARGIN + 60
    step = int(face.size * 1.22)
    for line in lines:
        draw.text((MARGIN, y), line, font=face, fill=INK)
        y += step
    bottom = HEIGHT - MARGIN
    if fraction is not None:
        bar_top = bottom - 22
        draw.rounded_rectangle((MARGIN, bar_top, WIDTH - MARGIN, bottom), radius=11, fill=BAR_BACK)
        if fraction > 0:
            right = MARGIN + max(22, int(width * fraction))
            draw.rounded_rectangle((MARGIN, bar_top, right, bottom), radius=11, fill=BAR)
        bottom = bar_top - 24
    count_face = font(44, bold=True)
    count_line = wrap(count_text, count_face, width)[:1]
    draw.text((MARGIN, bottom), count_line[0] if count_line else "", font=count_face, fill=INK, anchor="ls")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
