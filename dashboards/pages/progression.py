"""毕业与升学 Graduation & progression: a Sankey of where the students completing a stage
go the next school year, progression rates by region, graduation outcomes, and the printable
leadership report (PDF)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
from dash import Output, html

from analytics.engine import MetricResult

from .. import figures as F
from ..charts import (
    ChartSpec,
    ChartView,
    Page,
    by,
    from_previous_year,
    name_of,
    page_outputs,
    register_chart,
    stage_label,
    total_by,
)
from ..components import icon
from ..data import Selection, guarded, records, selection_from_store
from ..i18n import locale, t
from ..pagekit import page_layout, register

STAGES = ("primary", "junior", "senior")
TARGET_COLORS = {
    "junior": F.STAGE_COLORS["junior"],
    "senior": F.STAGE_COLORS["senior"],
    "primary": F.STAGE_COLORS["primary"],
    "repeated": F.GOLD,
    "left": "#8d99ab",
    "other": "#b9c3d1",
}


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    return f"rgba({r},{g},{b},{alpha})"


def sankey_parts(
    rows: list[dict[str, Any]],
) -> tuple[list[str], list[str], list[tuple[int, int, float, str]]]:
    """Nodes (stage left, destination right) and links of the flows; suppressed cells are
    left out (the card says how many)."""
    labels: list[str] = []
    colors: list[str] = []
    index: dict[tuple[str, str], int] = {}

    def node(side: str, code: str, label: str, color: str) -> int:
        key = (side, code)
        if key not in index:
            index[key] = len(labels)
            labels.append(label)
            colors.append(color)
        return index[key]

    links: list[tuple[int, int, float, str]] = []
    for r in rows:
        value = r.get("students")
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            continue
        src_code = str(r["source"])
        src_color = F.STAGE_COLORS.get(src_code, F.BLUE)
        src_label = (
            f"{name_of(r, 'source')}毕业年级"
            if locale() == "zh"
            else f"{name_of(r, 'source')} (final grade)"
        )
        s = node("src", src_code, src_label, src_color)
        tgt_code = str(r["target"])
        d = node("dst", tgt_code, name_of(r, "target"), TARGET_COLORS.get(tgt_code, F.GREY))
        links.append((s, d, float(value), _rgba(src_color, 0.35)))
    # Node labels carry their totals, so that a printed or exported diagram reads on its own.
    out_totals: dict[int, float] = {}
    in_totals: dict[int, float] = {}
    for s, d, v, _ in links:
        out_totals[s] = out_totals.get(s, 0) + v
        in_totals[d] = in_totals.get(d, 0) + v
    for i in range(len(labels)):
        total = out_totals.get(i) or in_totals.get(i)
        if total:
            labels[i] = f"{labels[i]} · {total:,.0f}"
    return labels, colors, links


def _sankey(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    labels, colors, links = sankey_parts(rows)
    if not links:
        return ChartView(F.empty())
    fig = F.sankey(
        labels, colors, links, unit=t("students_unit") if locale() == "zh" else "students"
    )
    year = str(rows[0].get("school_year") or "") if rows else ""
    nxt = f"{int(year[:4]) + 1}-{int(year[:4]) + 2}" if len(year) == 9 else ""
    title = (
        f"{year}学年毕业年级学生在{nxt}学年的去向"
        if locale() == "zh"
        else f"Where the students completing a stage in {year} were in {nxt}"
    )
    return ChartView(fig, title)


def _rates(sel: Selection, result: MetricResult) -> ChartView:
    rows = [r for r in records(result) if r.get("stage") in ("primary", "junior")]
    names: dict[str, str] = {}
    for r in rows:
        names.setdefault(str(r["region_code"]), str(r.get("region_name") or r["region_code"]))
    codes = sorted(names)
    grouped = by(rows, "stage")
    series = []
    for stage in ("primary", "junior"):
        values = {str(r["region_code"]): r.get("progression_rate") for r in grouped.get(stage, [])}
        series.append((stage_label(stage), [values.get(c) for c in codes], F.STAGE_COLORS[stage]))
    fig = F.bar(
        [names[c] for c in codes],
        series,
        y_title=("升学率（%）" if locale() == "zh" else "Progression rate (%)"),
        x_title="地区" if locale() == "zh" else "Region",
        percent=True,
    )
    note = (
        "升学率：毕业年级学生中次学年在本系统升入下一学段的比例；升入职业学校或外省不计入。"
        if locale() == "zh"
        else "Progression rate: students of a final grade enrolled in the next stage in the registry the next year; vocational schools and other provinces are not counted."
    )
    year = str(rows[0].get("school_year") or "") if rows else ""
    title = (
        f"各地区升学率（{year}学年毕业年级）"
        if locale() == "zh"
        else f"Progression rates by region (final grades of {year})"
    )
    return ChartView(fig, title, note=note)


def _outcomes(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    labels = {r["outcome"]: name_of(r, "outcome") for r in rows}
    sums, _ = total_by(rows, "outcome", "students")
    codes = sorted(labels)
    fig = F.bar(
        [labels[c] for c in codes],
        [(t("unit_students"), [sums.get(c) for c in codes], F.GREEN)],
        y_title=t("unit_students"),
        x_title="毕业结论" if locale() == "zh" else "Outcome",
    )
    return ChartView(fig)


FLOWS = register_chart(
    ChartSpec(
        "progression_flows", "progression_flows", _sankey, from_previous_year, span=2, height=460
    )
)
RATES = register_chart(
    ChartSpec(
        "progression_rate_by_region", "progression_rate_by_region", _rates, from_previous_year
    )
)
OUTCOMES = register_chart(
    ChartSpec(
        "graduation_outcomes", "graduation_outcomes", _outcomes, from_previous_year, future=True
    )
)

PAGE = Page(
    id="progression",
    path="/progression",
    nav_key="nav_progression",
    title_key="progression_title",
    lead_key="progression_lead",
    icon="diagram-3",
    order=5,
    charts=[FLOWS, RATES, OUTCOMES],
)


def report_href(sel: Selection) -> str:
    query = {
        "region": sel.school or sel.region or sel.scope.region_prefix,
        "school_year": sel.school_year or "",
        "lang": locale(),
    }
    return "/dashboards/report.pdf?" + urlencode({k: v for k, v in query.items() if v})


def _report_card() -> html.Div:
    return html.Div(
        className="xj-report",
        children=[
            icon("file-earmark-pdf"),
            html.Div(
                [html.Strong(t("progression_report")), t("progression_report_hint")],
                className="xj-report-text",
            ),
            html.A(
                [icon("download"), " PDF"],
                id="progression-report-link",
                href="/dashboards/report.pdf",
                className="btn btn-xj btn-sm",
                target="_blank",
                rel="noopener",
            ),
        ],
    )


@guarded
def update(filters: Any) -> list[Any]:
    """Main callback: the report link for the selection, then every chart."""
    sel = selection_from_store(filters)
    return [report_href(sel), *page_outputs(PAGE, sel)]


layout = page_layout(PAGE, top=_report_card)


def register_page(app: dash.Dash) -> None:
    register(app, __name__, PAGE, layout, update, [Output("progression-report-link", "href")])
