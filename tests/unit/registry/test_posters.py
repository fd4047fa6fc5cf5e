"""The QR pictures and the A4 poster, checked without a server."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime

import zxingcpp
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas

from services.registry.models import Category, Venue
from services.registry.posters import draw_poster, poster_pdf, qr_png, qr_svg

# 16:30 UTC is half past midnight of the next day in Shanghai: the poster prints the latter.
PRINTED = datetime(2026, 11, 25, 16, 30, tzinfo=UTC)
URL = (
    "http://testserver/c/AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHHIIIIJJJJKKKKLLLLMMMMNNNNOOOOPPPPQQQQRRRRSSSSTTTTUUUU"
)
VENUE = Venue(
    uuid.uuid4(),
    "440305",
    "深圳市南山區某某大型綜合超級市場",
    "南山大道1001号",
    Category.SUPERMARKET,
    uuid.uuid4(),
    "ABCDE12345",
    3,
    datetime.now(UTC),
)


class RecordingCanvas(Canvas):
    """Remembers every filled rectangle and every line of text drawn on the page."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), pagesize=A4)
        self.rects: list[tuple[float, float, float, float]] = []
        self.texts: list[str] = []

    def rect(self, x, y, width, height, stroke=1, fill=0):  # type: ignore[override]
        self.rects.append((x, y, width, height))
        super().rect(x, y, width, height, stroke=stroke, fill=fill)

    def drawCentredString(self, x, y, text, *args, **kwargs):  # type: ignore[override]
        self.texts.append(text)
        super().drawCentredString(x, y, text, *args, **kwargs)


def test_png_is_at_least_600_px_at_level_q_and_decodes():
    image = Image.open(io.BytesIO(qr_png(URL)))
    assert min(image.size) >= 600
    (found,) = zxingcpp.read_barcodes(image)
    assert found.text == URL
    assert found.ec_level == "Q"


def test_svg_is_an_svg():
    assert b"<svg" in qr_svg(URL)


def test_poster_draws_name_region_names_address_instructions_version_and_time():
    canvas = RecordingCanvas()
    draw_poster(canvas, VENUE, URL, PRINTED)
    text = "\n".join(canvas.texts)
    assert VENUE.name in text
    assert "广东省 深圳市 南山区" in canvas.texts
    assert "南山大道1001号" in canvas.texts
    assert "440305" in text
    assert re.search(r"[\u4e00-\u9fff]+.*掃碼", text)  # Chinese instructions
    assert "scan this code" in text  # English instructions
    assert "3" in text.split("Poster version")[1]
    assert "打印时间 Printed 2026-11-26 00:30 北京时间" in text


def test_poster_qr_is_at_least_12_cm_and_scans():
    canvas = RecordingCanvas()
    draw_poster(canvas, VENUE, URL, PRINTED)
    left = min(x for x, _, _, _ in canvas.rects)
    right = max(x + w for x, _, w, _ in canvas.rects)
    bottom = min(y for _, y, _, _ in canvas.rects)
    top = max(y + h for _, y, _, h in canvas.rects)
    assert right - left >= 12 * cm * 0.8  # dark modules span the symbol less its quiet zone
    assert top - bottom >= 12 * cm * 0.8
    # Paint the recorded modules and read them back.
    scale = 4
    margin = 40
    width = int((right - left) * scale) + 2 * margin
    image = Image.new("L", (width, width), 255)
    draw = ImageDraw.Draw(image)
    for x, y, w, h in canvas.rects:
        x0 = margin + (x - left) * scale
        y0 = margin + (top - (y + h)) * scale
        draw.rectangle([x0, y0, x0 + w * scale, y0 + h * scale], fill=0)
    (found,) = zxingcpp.read_barcodes(image)
    assert found.text == URL


def test_pdf_is_one_a4_page_with_the_cjk_font():
    pdf = poster_pdf(VENUE, URL, PRINTED)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
    assert b"STSong-Light" in pdf
    assert re.search(rb"/MediaBox\s*\[\s*0 0 595\.2\d* 841\.8\d*\s*\]", pdf)
