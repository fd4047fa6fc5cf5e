"""The printable paper health-code card: a PDF with the QR of the paper token and the masked name."""

from __future__ import annotations

import io
from datetime import datetime

import segno
from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from shared.i18n import Language
from shared.localtime import CLOCK_LABEL, shanghai_minute

# A reportlab built-in CID font: renders Chinese without shipping a font file.
CJK_FONT = "STSong-Light"
# ISO/IEC 18004 asks for a quiet zone of four modules around the symbol.
QUIET_MODULES = 4

TEXTS: dict[str, dict[Language, str]] = {
    "title": {"zh-Hant": "紙質碼", "zh-Hans": "纸质码", "en": "Paper health code"},
    "note": {
        "zh-Hant": "出示此卡由檢測員掃碼；重新打印後舊卡作廢。",
        "zh-Hans": "出示此卡由检测员扫码；重新打印后旧卡作废。",
        "en": "Show this card to the inspector. Printing a new card voids this one.",
    },
    "issued": {"zh-Hant": "打印時間", "zh-Hans": "打印时间", "en": "Printed"},
    "card": {"zh-Hant": "卡號", "zh-Hans": "卡号", "en": "Card"},
}


def _font() -> str:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def stamp_text(issued: datetime, serial: int, language: Language) -> str:
    """The print time on the Shanghai clock, named, and the card's serial (issue 16)."""
    when = f"{shanghai_minute(issued)} {CLOCK_LABEL[language]}"
    return f"{TEXTS['issued'][language]} {when} · {TEXTS['card'][language]} {serial}"


def paper_card_pdf(token: str, masked_name: str, serial: int, issued: datetime, language: Language) -> bytes:
    """An A6 card (postcard size, fits a wallet folded once) with a QR as large as the width allows."""
    font = _font()
    width, height = A6
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A6, pageCompression=1)
    pdf.setTitle(TEXTS["title"][language])
    pdf.setFont(font, 16)
    pdf.drawCentredString(width / 2, height - 14 * mm, TEXTS["title"][language])
    pdf.setFont(font, 20)
    pdf.drawCentredString(width / 2, height - 24 * mm, masked_name)

    qr = segno.make(token, error="m")
    rows = list(qr.matrix)
    modules = len(rows) + 2 * QUIET_MODULES
    size = width - 16 * mm
    cell = size / modules
    left = (width - size) / 2
    top = height - 30 * mm
    pdf.setFillColorRGB(0, 0, 0)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                pdf.rect(
                    left + (x + QUIET_MODULES) * cell,
                    top - (y + QUIET_MODULES + 1) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )
    pdf.setFont(font, 8)
    pdf.drawCentredString(width / 2, 16 * mm, TEXTS["note"][language])
    pdf.drawCentredString(width / 2, 10 * mm, stamp_text(issued, serial, language))
    pdf.showPage()
    pdf.save()
    return out.getvalue()
