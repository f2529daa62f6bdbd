"""Server-side PDFs with Chinese text (certificates, report cards, score analyses): the CJK
font every document embeds and the paragraph styles that wrap Chinese text. reportlab embeds
the subset of glyphs used, so text extracted back from the file matches what was drawn."""

from __future__ import annotations

import os
import threading
from typing import Any

from ..domain.messages import RuleError, Violation

FONT_NAME = "XueJiCJK"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
_font_lock = threading.Lock()


def cjk_font(field: str = "pdf") -> str:
    """Register (once) and return the CJK font. A document without Chinese glyphs is useless,
    so there is no Latin fallback: a missing font is a refusal naming the package to install
    (``XUEJI_PDF_FONT`` points at another TTF/TTC)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    with _font_lock:
        if FONT_NAME in pdfmetrics.getRegisteredFontNames():
            return FONT_NAME
        candidates = (os.environ.get("XUEJI_PDF_FONT", ""), *FONT_CANDIDATES)
        for path in candidates:
            if path and os.path.exists(path):
                kwargs = {"subfontIndex": 0} if path.endswith(".ttc") else {}
                pdfmetrics.registerFont(TTFont(FONT_NAME, path, **kwargs))
                return FONT_NAME
    raise RuleError([Violation("pdf.no_font", field, {})])


def styles() -> dict[str, Any]:
    """Paragraph styles for platypus documents: title, heading, body, small — all in the CJK
    font with CJK line breaking."""
    from reportlab.lib.styles import ParagraphStyle

    font = cjk_font()
    base = ParagraphStyle("body", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    return {
        "title": ParagraphStyle(
            "title", parent=base, fontSize=18, leading=24, alignment=1, spaceAfter=8
        ),
        "heading": ParagraphStyle(
            "heading", parent=base, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4
        ),
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11),
    }
