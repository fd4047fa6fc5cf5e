"""Venue codes as pictures: the QR in PNG and SVG (segno) and the A4 poster in PDF (reportlab).

The QR uses error correction level Q (25 % of the code may be damaged or covered) because
posters hang at entrances where they get scratched, taped over and photographed at an angle.
"""

from __future__ import annotations

import io
from datetime import datetime

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from services.registry.models import Venue, region_label
from shared.localtime import shanghai_minute

ERROR_LEVEL = "q"
QUIET_ZONE = 4  # ISO/IEC 18004 asks for four modules of white around the symbol
# The PNG is at least this wide: a phone camera reads it from a screen or a print at any DPI.
PNG_MIN_PX = 600
# 14 cm across: the rule of thumb "scan distance / 10" makes a 1 m scan need >= 10 cm, and
# 12 cm was the floor set by the lead; 14 leaves margin for a worn poster.
POSTER_QR_CM = 14.0
# reportlab's built-in Adobe CID font: Chinese renders in every PDF viewer without a font file.
CJK_FONT = "STSong-Light"


def make_qr(url: str) -> segno.QRCode:
    return segno.make_qr(url, error=ERROR_LEVEL, boost_error=False)


def qr_png(url: str) -> bytes:
    qr = make_qr(url)
    width, _ = qr.symbol_size(scale=1, border=QUIET_ZONE)
    scale = -(-PNG_MIN_PX // width)  # ceil: the smallest whole-pixel module that reaches 600 px
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=QUIET_ZONE)
    return out.getvalue()


def qr_svg(url: str) -> bytes:
    out = io.BytesIO()
    make_qr(url).save(out, kind="svg", scale=10, border=QUIET_ZONE, xmldecl=True, title="venue code")
    return out.getvalue()


def _font() -> str:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def _centred(canvas: Canvas, y: float, text: str, size: float, font: str) -> None:
    canvas.setFont(font, size)
    canvas.drawCentredString(A4[0] / 2, y, text)


def _fit(text: str, size: float, font: str, width: float) -> float:
    """The largest size up to ``size`` at which ``text`` fits in ``width``."""
    needed = pdfmetrics.stringWidth(text, font, size)
    return size if needed <= width else max(10.0, size * width / needed)


def draw_poster(canvas: Canvas, venue: Venue, url: str, printed: datetime) -> None:
    """One A4 page: name, region names and address, a 14 cm QR, instructions, version, print time.

    The print time is on the Shanghai clock (北京时间), whatever the server's zone.
    """
    font = _font()
    page_w, page_h = A4
    margin = 1.5 * cm
    canvas.setTitle(f"{venue.name} 场所码")
    _centred(canvas, page_h - 2.5 * cm, "场所码  Venue code", 20, font)
    _centred(canvas, page_h - 4.2 * cm, venue.name, _fit(venue.name, 30, font, page_w - 2 * margin), font)
    _centred(canvas, page_h - 5.3 * cm, region_label(venue.region_code), 16, font)
    if venue.address:
        _centred(
            canvas, page_h - 6.1 * cm, venue.address, _fit(venue.address, 13, font, page_w - 2 * margin), font
        )

    qr = make_qr(url)
    modules = list(qr.matrix_iter(scale=1, border=QUIET_ZONE))
    side = POSTER_QR_CM * cm
    module = side / len(modules)
    left, top = (page_w - side) / 2, page_h - 6.7 * cm
    canvas.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(modules):
        for col_index, dark in enumerate(row):
            if dark:
                x = left + col_index * module
                y = top - (row_index + 1) * module
                canvas.rect(x, y, module, module, stroke=0, fill=1)

    y = top - side - 1.2 * cm
    for line, size in (
        ("请先测量体温，再用手机扫码打卡，并出示扫码结果。", 15),
        ("請先測量體溫，再用手機掃碼打卡，並出示掃碼結果。", 15),
        ("Have your temperature checked, scan this code with your phone", 13),
        ("and show the result to the staff at the door.", 13),
    ):
        _centred(canvas, y, line, _fit(line, size, font, page_w - 2 * margin), font)
        y -= size * 1.6
    footer = (
        f"海报版本 Poster version {venue.poster_version}    区划代码 {venue.region_code}"
        f"    打印时间 Printed {shanghai_minute(printed)} 北京时间"
    )
    _centred(canvas, 1.5 * cm, footer, 10, font)


def poster_pdf(venue: Venue, url: str, printed: datetime) -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    draw_poster(canvas, venue, url, printed)
    canvas.showPage()
    canvas.save()
    return out.getvalue()
