"""总览 Overview: key figures with the change on the previous school year, the enrollment
trend, students per region one level down, and the split by stage."""

from __future__ import annotations

from typing import Any

import dash
from dash import Output, html

from analytics.engine import MetricResult

from .. import figures as F
from ..charts import (
    ChartSpec,
    ChartView,
    Page,
    by,
    context_line,
    current_year,
    level_of,
    own_level,
    page_outputs,
    register_chart,
    stage_label,
    total_by,
)
from ..components import icon, kpi_tile
from ..data import (
    NoSnapshotYet,
    Selection,
    fetch,
    guarded,
    records,
    selection_from,
    selection_from_store,
)
from ..i18n import locale, t
from ..pagekit import page_layout, register

STAGES = ("primary", "junior", "senior")


def _trend(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    years = list(dict.fromkeys(r["school_year"] for r in rows))
    grouped = by(rows, "stage")
    order = [s for s in ("all", *STAGES) if s in grouped]
    series = []
    for stage in order:
        values = {r["school_year"]: r["students"] for r in grouped[stage]}
        name = t("total") if stage == "all" else stage_label(stage)
        series.append((name, [values.get(y) for y in years], F.STAGE_COLORS.get(stage)))
    fig = F.line(years, series, y_title=t("unit_students"), x_title=t("f_school_year"))
    return ChartView(fig)


def _by_region(sel: Selection, result: MetricResult) -> ChartView:
    rows = [r for r in records(result) if r.get("stage") != "all"]
    names: dict[str, str] = {}
    for r in rows:
        names.setdefault(r["region_code"], str(r.get("region_name") or r["region_code"]))
    totals, _ = total_by(rows, "region_code", "students")
    codes = sorted(names, key=lambda c: -totals.get(c, 0))
    grouped = by(rows, "stage")
    series = []
    for stage in STAGES:
        if stage not in grouped:
            continue
        values = {r["region_code"]: r["students"] for r in grouped[stage]}
        series.append((stage_label(stage), [values.get(c) for c in codes], F.STAGE_COLORS[stage]))
    fig = F.bar(
        [names[c] for c in codes],
        series,
        y_title=t("unit_students"),
        horizontal=True,
        stacked=True,
        texts=len(codes) <= 12,
    )
    level = rows[0].get("region_code", "") if rows else ""
    title = {
        "province": ("各省在校生数", "Students by province"),
        "prefecture": ("各地市在校生数", "Students by prefecture"),
        "county": ("各区县在校生数", "Students by county"),
        "school": ("各学校在校生数", "Students by school"),
    }[level_of(level) if level_of(level) != "national" else "province"]
    return ChartView(fig, title[1] if locale() == "en" else title[0])


def _by_stage(sel: Selection, result: MetricResult) -> ChartView:
    rows = [r for r in records(result) if r.get("stage") in STAGES]
    sums, _ = total_by(rows, "stage", "students")
    stages = [s for s in STAGES if s in sums]
    total = sum(sums.values())
    center = f"{total:,.0f}<br><span style='font-size:11px'>{t('unit_students')}</span>"
    fig = F.donut(
        [stage_label(s) for s in stages],
        [sums[s] for s in stages],
        [F.STAGE_COLORS[s] for s in stages],
        center=center,
    )
    return ChartView(fig, "各学段在校生构成" if locale() == "zh" else "Students by stage")


def _own_level_params(sel: Selection) -> dict[str, Any]:
    level = own_level(sel)
    return {"level": level or "province"}


TREND = register_chart(
    ChartSpec("overview_trend", "enrollment_trend", _trend, span=2, height=320, all_years=True)
)
BY_REGION = register_chart(
    ChartSpec("overview_by_region", "enrollment_by_region", _by_region, height=380)
)
BY_STAGE = register_chart(
    ChartSpec("overview_by_stage", "enrollment_by_region", _by_stage, _own_level_params, height=380)
)

PAGE = Page(
    id="overview",
    path="/",
    nav_key="nav_overview",
    title_key="overview_title",
    lead_key="overview_lead",
    icon="speedometer2",
    order=0,
    charts=[TREND, BY_REGION, BY_STAGE],
)


# --- key figures ----------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value  # "<5"
    return f"{value:,.{digits}f}"


def _delta(change: Any, prev: Any, prev_year: str | None) -> Any:
    if prev is None or prev_year is None:
        return html.Span(t("yoy_na"))
    if not isinstance(change, int | float):
        return html.Span(f"{t('yoy')} —")
    cls = "up" if change > 0.0005 else "down" if change < -0.0005 else "flat"
    arrow = "▲" if cls == "up" else "▼" if cls == "down" else "■"
    return html.Span(
        [
            html.Span(f"{arrow} {change * 100:+.1f}%", className=cls),
            f" {t('yoy')}（{prev_year}：{_fmt(prev)}）"
            if locale() == "zh"
            else f" {t('yoy')} ({prev_year}: {_fmt(prev)})",
        ]
    )


def _in_progress(prev_year: Any, prev: Any) -> Any:
    if locale() == "zh":
        return html.Span(f"本学年尚未结束（{prev_year}：{_fmt(prev)}）")
    return html.Span(f"school year still running ({prev_year}: {_fmt(prev)})")


def _ratio_change(now: Any, prev: Any) -> float | None:
    if isinstance(now, int | float) and isinstance(prev, int | float) and prev:
        return (now - prev) / prev
    return None


KPI_LABELS = {
    "students": ("在校生", "Students enrolled"),
    "schools": ("学校", "Schools"),
    "classes": ("班级", "Classes"),
    "new_entrants": ("起始年级新生", "New entrants (grades 1, 7, 10)"),
    "graduates": ("毕业生", "Graduates"),
    "dropouts": ("辍学与退学", "Dropouts and withdrawals"),
    "migrant_children": ("随迁子女", "Migrant children"),
    "left_behind": ("留守儿童", "Left-behind children"),
    "classes_56_plus": ("大班额班级（≥56人）", "Oversized classes (56+)"),
    "l_numbers_pending": ("待确认临时学籍号", "Temporary student numbers pending"),
}


def _label(key: str) -> str:
    zh, en = KPI_LABELS[key]
    return en if locale() == "en" else zh


def key_figures(sel: Selection) -> Any:
    """The KPI tiles (and the context line above them)."""
    try:
        result = fetch("key_figures", sel)
    except NoSnapshotYet:
        return None
    rows = records(result)
    if not rows:
        return html.Div(t("no_data"), className="xj-panel")
    r = rows[0]
    prev_year = r.get("previous_school_year")
    # Graduations happen at the end of a school year: none yet in the running one.
    in_progress = r.get("school_year") == current_year(selection_from(scope=sel.scope))
    unit = t("students_unit") if locale() == "zh" else ""
    ge = "个" if locale() == "zh" else ""
    mean = r.get("mean_class_size")
    class_delta = (
        html.Span(f"平均班额 {_fmt(mean, 1)} 人")
        if locale() == "zh"
        else html.Span(f"Mean class size {_fmt(mean, 1)}")
    )
    tiles = [
        kpi_tile(
            _label("students"),
            _fmt(r.get("students")),
            unit,
            _delta(r.get("students_yoy"), r.get("students_prev"), prev_year),
        ),
        kpi_tile(_label("schools"), _fmt(r.get("schools")), "所" if locale() == "zh" else ""),
        kpi_tile(_label("classes"), _fmt(r.get("classes")), ge, class_delta),
        kpi_tile(
            _label("new_entrants"),
            _fmt(r.get("new_entrants")),
            unit,
            _delta(r.get("new_entrants_yoy"), r.get("new_entrants_prev"), prev_year),
            "accent-green",
        ),
        kpi_tile(
            _label("graduates"),
            _fmt(r.get("graduates")),
            unit,
            _in_progress(prev_year, r.get("graduates_prev"))
            if in_progress and not r.get("graduates")
            else _delta(r.get("graduates_yoy"), r.get("graduates_prev"), prev_year),
            "accent-green",
        ),
        kpi_tile(
            _label("dropouts"),
            _fmt(r.get("dropouts")),
            unit,
            _delta(
                _ratio_change(r.get("dropouts"), r.get("dropouts_prev")),
                r.get("dropouts_prev"),
                prev_year,
            ),
            "accent-red",
        ),
        kpi_tile(
            _label("migrant_children"), _fmt(r.get("migrant_children")), unit, None, "accent-gold"
        ),
        kpi_tile(_label("left_behind"), _fmt(r.get("left_behind")), unit, None, "accent-gold"),
        kpi_tile(_label("classes_56_plus"), _fmt(r.get("classes_56_plus")), ge, None, "accent-red"),
        kpi_tile(
            _label("l_numbers_pending"), _fmt(r.get("l_numbers_pending")), unit, None, "accent-red"
        ),
    ]
    note = (
        "关键指标为全部学段合计；“同比”与上一学年比较。"
        if locale() == "zh"
        else "Key figures cover all stages; changes compare with the previous school year."
    )
    return html.Div(
        [
            html.Div(
                [icon("calendar3"), " ", context_line(sel, stage=False), " · ", note],
                className="xj-card-sub mb-2",
            ),
            html.Div(tiles, className="xj-kpis"),
        ]
    )


@guarded
def update(filters: Any) -> list[Any]:
    """Main callback: the key figures, then every chart."""
    sel = selection_from_store(filters)
    return [key_figures(sel), *page_outputs(PAGE, sel)]


layout = page_layout(PAGE, top=lambda: html.Div(id="overview-kpis", className="mb-3"))


def register_page(app: dash.Dash) -> None:
    register(app, __name__, PAGE, layout, update, [Output("overview-kpis", "children")])
