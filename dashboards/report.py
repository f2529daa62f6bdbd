"""The printable leadership report 升学情况报告 (progression report) as PDF:
GET /dashboards/report.pdf?region=<prefix or school code>&school_year=<yyyy-yyyy>[&lang=en]

Guarded like every /dashboards/ URL (login, Dashboards permission) and scoped like every
callback: the region goes through the same checks (400 malformed, 403 outside the scope).
Drawn with reportlab, with the WenQuanYi Micro Hei font (Debian fonts-wqy-microhei) embedded
as a subset, so the Chinese text prints anywhere and can be copied out of the PDF.
"""

from __future__ import annotations

import io
import os
import threading
from typing import Any

from flask import Response, abort, request

from .charts import current_year, place_name, previous_year
from .data import (
    NoSnapshotYet,
    Selection,
    fetch,
    http_errors,
    records,
    selection_from,
    snapshot_info,
)
from .i18n import pick

FONT_NAME = "XueJiCJK"
FONT_PATHS = (
    os.environ.get("XUEJI_PDF_FONT", ""),
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
_font_lock = threading.Lock()
_font_ready = False

NAVY = "#0f2d52"
RED = "#c8102e"
MUTED = "#66758a"
STAGE_COLORS = {"primary": "#1f5fae", "junior": "#e07b39", "senior": "#2e8b57"}
TARGET_COLORS = {"left": "#8d99ab", "repeated": "#d9a521", "other": "#b9c3d1"}


def _register_font() -> str:
    """Register the CJK font once per process; its name (Helvetica when none is installed)."""
    global _font_ready
    with _font_lock:
        if _font_ready:
            return FONT_NAME
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        for path in FONT_PATHS:
            if path and os.path.exists(path):
                kwargs = {"subfontIndex": 0} if path.endswith(".ttc") else {}
                pdfmetrics.registerFont(TTFont(FONT_NAME, path, **kwargs))
                _font_ready = True
                return FONT_NAME
    return "Helvetica"


class Text:
    """The report's sentences in both languages."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, zh: str, en: str) -> str:
        return en if self.lang == "en" else zh


def _fmt(value: Any, pct: bool = False) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if pct:
        return f"{value * 100:.1f}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def _share(part: Any, whole: Any) -> str:
    if isinstance(part, int | float) and isinstance(whole, int | float) and whole:
        return f"{part / whole * 100:.1f}%"
    return "—"


def report_data(sel: Selection) -> dict[str, Any]:
    """Everything the report shows, from the analytics layer (scoped like the pages)."""
    year = current_year(sel)
    # Flows into the report's year start from the year before it (as on the progression page).
    flows_year = previous_year(year)
    since = {"school_year": flows_year} if flows_year else {}
    key = records(fetch("key_figures", sel, school_year=year))
    flows = records(fetch("progression_flows", sel, **since)) if since else []
    rates = records(fetch("progression_rate_by_region", sel, **since)) if since else []
    dropout = records(fetch("dropout_rate", sel, **since)) if since else []
    trend = records(fetch("enrollment_trend", sel))
    running = year == current_year(selection_from(scope=sel.scope))
    return {
        "running": running,
        "year": year,
        "flows_year": flows_year,
        "place": place_name(sel),
        "key": key[0] if key else {},
        "flows": flows,
        "rates": rates,
        "dropout": dropout,
        "trend": [r for r in trend if r.get("stage") == "all"],
    }


def build_pdf(sel: Selection, lang: str = "zh") -> bytes:
    """The report as PDF bytes."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_LEFT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = _register_font()
    T = Text(lang)

    def stage_name(stage: Any) -> str:
        names = {
            "primary": ("小学", "Primary"),
            "junior": ("初中", "Junior"),
            "senior": ("高中", "Senior"),
        }
        zh, en = names.get(str(stage), (str(stage), str(stage)))
        return T(zh, en)

    data = report_data(sel)
    info = snapshot_info()
    as_of = info.as_of_local if info else ""
    snapshot_id = info.snapshot_id if info else ""

    base = ParagraphStyle(
        "base", fontName=font, fontSize=10, leading=15, textColor=colors.HexColor("#1c2636")
    )
    title_style = ParagraphStyle(
        "title", parent=base, fontSize=22, leading=28, textColor=colors.HexColor(NAVY)
    )
    sub_style = ParagraphStyle(
        "sub", parent=base, fontSize=11, leading=16, textColor=colors.HexColor(MUTED)
    )
    h2 = ParagraphStyle(
        "h2",
        parent=base,
        fontSize=13.5,
        leading=20,
        spaceBefore=10,
        spaceAfter=4,
        textColor=colors.HexColor(NAVY),
    )
    small = ParagraphStyle(
        "small",
        parent=base,
        fontSize=8.5,
        leading=12,
        textColor=colors.HexColor(MUTED),
        alignment=TA_LEFT,
    )

    title = T("升学情况报告", "Progression report")
    year_text = T(f"{data['year']}学年", f"School year {data['year']}") if data["year"] else ""
    story: list[Any] = [
        Paragraph(title, title_style),
        Paragraph(f"{data['place']} · {year_text}", sub_style),
        Paragraph(
            T(
                f"数据截至 {as_of}（北京时间） · 快照 {snapshot_id} · 学籍统计分析系统生成",
                f"Data as of {as_of} (Beijing time) · snapshot {snapshot_id} · generated by XueJi Statistics",
            ),
            small,
        ),
        Spacer(1, 6 * mm),
    ]

    def table(
        rows: list[list[Any]], widths: list[float], header: bool = True, text_cols: int = 1
    ) -> Table:
        tbl = Table(rows, colWidths=widths, hAlign="LEFT", repeatRows=1 if header else 0)
        style = [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), 9.5),
            ("LEADING", (0, 0), (-1, -1), 13),
            ("ALIGN", (text_cols, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LINEBELOW", (0, -1), (-1, -1), 0.6, colors.HexColor("#c9d2df")),
            (
                "ROWBACKGROUNDS",
                (0, 1 if header else 0),
                (-1, -1),
                [colors.white, colors.HexColor("#f4f7fb")],
            ),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ]
        if header:
            style += [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(NAVY)),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ]
        tbl.setStyle(TableStyle(style))
        return tbl

    # 1. key figures
    k = data["key"]
    running = data["running"]
    prev = k.get("previous_school_year") or "—"
    story.append(Paragraph(T("一、基本情况", "1. Overview"), h2))
    key_rows = [
        [
            T("指标", "Indicator"),
            T("本学年", "This year"),
            T(f"上学年（{prev}）", f"Previous ({prev})"),
            T("同比", "Change"),
        ],
        [
            T("在校生（人）", "Students"),
            _fmt(k.get("students")),
            _fmt(k.get("students_prev")),
            _fmt(k.get("students_yoy"), True),
        ],
        [
            T("起始年级新生（人）", "New entrants"),
            _fmt(k.get("new_entrants")),
            _fmt(k.get("new_entrants_prev")),
            _fmt(k.get("new_entrants_yoy"), True),
        ],
        [
            T("毕业生（人）", "Graduates"),
            _fmt(k.get("graduates")),
            _fmt(k.get("graduates_prev")),
            T("本学年尚未结束", "year still running")
            if running and not k.get("graduates")
            else _fmt(k.get("graduates_yoy"), True),
        ],
        [
            T("辍学与退学（人）", "Dropouts and withdrawals"),
            _fmt(k.get("dropouts")),
            _fmt(k.get("dropouts_prev")),
            "—",
        ],
        [T("学校（所）", "Schools"), _fmt(k.get("schools")), "—", "—"],
        [
            T("班级（个） / 平均班额", "Classes / mean size"),
            f"{_fmt(k.get('classes'))} / {_fmt(k.get('mean_class_size'))}",
            "—",
            "—",
        ],
    ]
    story.append(table(key_rows, [62 * mm, 34 * mm, 40 * mm, 30 * mm]))

    # 2. flows
    flows = data["flows"]
    story.append(
        Paragraph(T("二、毕业年级学生去向", "2. Where the students completing a stage went"), h2)
    )
    if flows:
        story.append(
            Paragraph(
                T(
                    f"{data['flows_year']}学年各学段毕业年级学生在{data['year']}学年的学籍去向（本系统内）。",
                    f"Students in the final grade of each stage in {data['flows_year']} and their enrollment in {data['year']} (in this registry).",
                ),
                base,
            )
        )
        totals: dict[str, float] = {}
        for r in flows:
            if isinstance(r.get("students"), int | float):
                totals[r["source"]] = totals.get(r["source"], 0) + r["students"]
        flow_rows = [
            [
                T("学段", "Stage"),
                T("去向", "Destination"),
                T("人数", "Students"),
                T("占比", "Share"),
            ]
        ]
        for r in flows:
            src = pick(r.get("source_name_zh"), r.get("source_name_en"), lang)
            dst = pick(r.get("target_name_zh"), r.get("target_name_en"), lang)
            flow_rows.append(
                [
                    src,
                    dst,
                    _fmt(r.get("students")),
                    _share(r.get("students"), totals.get(r["source"])),
                ]
            )
        story.append(table(flow_rows, [40 * mm, 62 * mm, 32 * mm, 32 * mm], text_cols=2))
        # a stacked bar per stage
        stages = list(dict.fromkeys(r["source"] for r in flows))
        targets = list(dict.fromkeys(r["target"] for r in flows))
        drawing = Drawing(170 * mm, 18 * mm + 12 * mm * len(stages))
        chart = HorizontalBarChart()
        chart.x, chart.y = 30 * mm, 14 * mm
        chart.width, chart.height = 130 * mm, 12 * mm * len(stages)
        matrix = []
        for tgt in targets:
            row = []
            for st in stages:
                v = next(
                    (
                        r["students"]
                        for r in flows
                        if r["source"] == st
                        and r["target"] == tgt
                        and isinstance(r.get("students"), int | float)
                    ),
                    0,
                )
                row.append(v / totals[st] * 100 if totals.get(st) else 0)
            matrix.append(row)
        chart.data = matrix
        chart.categoryAxis.categoryNames = [
            pick(
                next(r.get("source_name_zh") for r in flows if r["source"] == st),
                next(r.get("source_name_en") for r in flows if r["source"] == st),
                lang,
            )
            for st in stages
        ]
        chart.categoryAxis.labels.fontName = font
        chart.valueAxis.labels.fontName = font
        chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
        chart.valueAxis.labelTextFormat = "%d%%"
        chart.categoryAxis.style = "stacked"
        for i, tgt in enumerate(targets):
            color = STAGE_COLORS.get(tgt) or TARGET_COLORS.get(tgt, "#9aa7b8")
            chart.bars[i].fillColor = colors.HexColor(color)
            chart.bars[i].strokeColor = colors.white
        drawing.add(chart)
        x = 30 * mm
        for tgt in targets:
            name = pick(
                next(r.get("target_name_zh") for r in flows if r["target"] == tgt),
                next(r.get("target_name_en") for r in flows if r["target"] == tgt),
                lang,
            )
            color = STAGE_COLORS.get(tgt) or TARGET_COLORS.get(tgt, "#9aa7b8")
            drawing.add(
                String(
                    x,
                    3 * mm,
                    "■ " + name,
                    fontName=font,
                    fontSize=8,
                    fillColor=colors.HexColor(color),
                )
            )
            x += 42 * mm
        story.append(Spacer(1, 2 * mm))
        story.append(drawing)
    else:
        story.append(
            Paragraph(
                T("所选范围内没有毕业年级学生的去向数据。", "No flows for this selection."), base
            )
        )

    # 3. progression rates by region
    rates = [r for r in data["rates"] if r.get("stage") in ("primary", "junior")]
    story.append(Paragraph(T("三、各地区升学率", "3. Progression rates by region"), h2))
    if rates:
        rate_rows = [
            [
                T("地区", "Region"),
                T("学段", "Stage"),
                T("毕业年级人数", "Completing"),
                T("升入下一学段", "Progressed"),
                T("升学率", "Rate"),
            ]
        ]
        for r in rates:
            rate_rows.append(
                [
                    str(r.get("region_name") or r.get("region_code")),
                    stage_name(r.get("stage")),
                    _fmt(r.get("completing")),
                    _fmt(r.get("progressed")),
                    _fmt(r.get("progression_rate"), True),
                ]
            )
        story.append(table(rate_rows, [52 * mm, 26 * mm, 32 * mm, 32 * mm, 24 * mm], text_cols=2))
    else:
        story.append(Paragraph(T("无数据。", "No data."), base))

    # 4. attrition
    dropout = data["dropout"]
    if dropout:
        d_rows = [
            [
                T("地区", "Region"),
                T("学段", "Stage"),
                T("在籍", "Enrolled"),
                T("辍学+退学", "Dropouts"),
                T("流失率", "Attrition"),
            ]
        ]
        for r in dropout:
            drops = [
                v for v in (r.get("dropouts"), r.get("withdrawals")) if isinstance(v, int | float)
            ]
            d_rows.append(
                [
                    str(r.get("region_name") or r.get("region_code")),
                    stage_name(r.get("stage")),
                    _fmt(r.get("enrolled")),
                    _fmt(sum(drops)) if drops else "<5",
                    _fmt(r.get("attrition_rate"), True),
                ]
            )
        story.append(
            KeepTogether(
                [
                    Paragraph(T("四、辍学与流失", "4. Dropout and attrition"), h2),
                    Paragraph(
                        T(
                            f"{data['flows_year']}学年在籍学生的辍学、退学人数，以及未完成学段、{data['year']}学年在本系统无学籍的流失率（上限估计）。",
                            f"Dropouts and withdrawals in {data['flows_year']}, and attrition: students below the last grade of their stage not enrolled anywhere in the registry in {data['year']} (an upper bound).",
                        ),
                        base,
                    ),
                    table(d_rows, [52 * mm, 26 * mm, 32 * mm, 32 * mm, 24 * mm], text_cols=2),
                ]
            )
        )

    story.append(Spacer(1, 6 * mm))
    story.append(
        Paragraph(
            T(
                "说明：数据来自学籍库的脱敏统计快照，不含任何个人身份信息。少于 5 人的单元格以“<5”显示，相应比例不予计算。"
                "升学率只统计本系统内升入下一学段的学生，升入职业学校或外省的学生计入“离开”。",
                "Notes: figures come from the pseudonymised statistics snapshot of the registry and contain no personal identifiers. "
                "Cells of fewer than 5 students are shown as “<5” and their rates are withheld. Progression counts only students enrolled "
                "in the next stage in this registry; vocational schools and other provinces count as “left”.",
            ),
            small,
        )
    )

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        width, height = A4
        canvas.setFillColor(colors.HexColor(RED))
        canvas.rect(0, height - 8 * mm, width, 8 * mm, stroke=0, fill=1)
        canvas.setFillColor(colors.white)
        canvas.setFont(font, 9)
        canvas.drawString(
            18 * mm, height - 5.5 * mm, T("学籍统计分析 · 内部资料", "XueJi Statistics · internal")
        )
        canvas.setFillColor(colors.HexColor(MUTED))
        canvas.setFont(font, 8)
        canvas.drawString(18 * mm, 10 * mm, f"{title} · {data['place']} · {year_text}")
        canvas.drawRightString(width - 18 * mm, 10 * mm, T(f"第 {doc.page} 页", f"Page {doc.page}"))
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{title} {data['place']} {data['year'] or ''}",
        author="XueJi",
        subject=title,
    )
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buf.getvalue()


def report_response() -> Response:
    """GET /dashboards/report.pdf: 400 malformed, 403 outside the scope, 404 no snapshot."""
    args = request.args
    lang = "en" if args.get("lang") == "en" else "zh"
    region = args.get("region") or None
    school = None
    if region and len(region) == 10:
        region, school = None, region
    with http_errors():
        sel = selection_from(args.get("school_year") or None, region, school, None)
        try:
            pdf = build_pdf(sel, lang)
        except NoSnapshotYet:
            abort(404)
    name = (
        f"progression-report-{sel.school or sel.region or 'all'}-{sel.school_year or 'current'}.pdf"
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )
