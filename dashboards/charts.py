"""Charts and pages as data: a `ChartSpec` names its metric and how to draw it; a `Page`
lists its charts. One callback per page renders all of its charts for the global filters;
one pattern-matching callback exports any registered chart as CSV (the chart id in the
request is looked up here: an unknown one is a 400)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go
from dash import html

from analytics.engine import MetricResult

from .data import (
    NoSnapshotYet,
    Selection,
    fetch,
    metric,
    records,
    selection_from,
    snapshot_info,
)
from .figures import empty
from .i18n import locale, pick, t


@dataclass
class ChartView:
    figure: go.Figure
    title: str = ""
    note: Any = ""


Builder = Callable[[Selection, MetricResult], ChartView]


@dataclass
class ChartSpec:
    id: str
    metric: str
    build: Builder
    extra: Callable[[Selection], dict[str, Any]] | None = None
    span: int = 1
    height: int = 340
    future: bool = False  # the registry does not record this kind of data yet
    all_years: bool = False  # shows every school year (the year filter does not apply)
    title: Callable[[], str] | None = None  # default: the catalogue title of the metric

    def params(self, sel: Selection) -> dict[str, Any]:
        return self.extra(sel) if self.extra else {}

    def default_title(self) -> str:
        if self.title is not None:
            return self.title()
        m = metric(self.metric)
        return pick(m.title_zh, m.title_en)


CHARTS: dict[str, ChartSpec] = {}


def register_chart(spec: ChartSpec) -> ChartSpec:
    CHARTS[spec.id] = spec
    return spec


@dataclass
class Page:
    id: str
    path: str
    nav_key: str
    title_key: str
    lead_key: str
    icon: str
    order: int
    charts: list[ChartSpec] = field(default_factory=list)


# --- context of a chart: which year, place and stage it shows --------------------------------

STAGE_KEYS = {"primary": "stage_primary", "junior": "stage_junior", "senior": "stage_senior"}


def stage_label(stage: str | None) -> str:
    if stage in STAGE_KEYS:
        return t(STAGE_KEYS[stage])
    return t("all_stages")


def level_of(code: str) -> str:
    return {2: "province", 4: "prefecture", 6: "county", 10: "school"}.get(len(code), "national")


def place_name(sel: Selection) -> str:
    """The name of the selected place (school, county, prefecture, province or the scope)."""
    code = sel.school or sel.narrowed.school_code or sel.region or sel.scope.region_prefix
    if not code:
        return t("scope_national")
    try:
        result = fetch("enrollment_by_region", sel, level=level_of(code))
    except (NoSnapshotYet, Exception):  # a name is decoration: never fail a chart for it
        return code
    for row in records(result):
        if row.get("region_code") == code and row.get("region_name"):
            return str(row["region_name"])
    return code


def current_year(sel: Selection) -> str | None:
    if sel.school_year:
        return sel.school_year
    try:
        rows = records(fetch("key_figures", selection_from(scope=sel.scope)))
    except NoSnapshotYet:
        return None
    return str(rows[0]["school_year"]) if rows and rows[0].get("school_year") else None


def year_label(year: str | None) -> str:
    if not year:
        return ""
    return f"{year}学年" if locale() == "zh" else f"School year {year}"


def context_line(sel: Selection, *, year: bool = True, stage: bool = True) -> str:
    parts = []
    if year:
        parts.append(year_label(current_year(sel)))
    parts.append(place_name(sel))
    if stage:
        parts.append(stage_label(sel.stage))
    return " · ".join(p for p in parts if p)


def suppression_note(result: MetricResult) -> Any:
    if not result.suppressed_cells:
        return ""
    return html.Span(
        [
            html.I(className="bi bi-shield-lock"),
            f"{result.suppressed_cells} {t('suppressed_count')}。"
            if locale() == "zh"
            else f"{result.suppressed_cells} {t('suppressed_count')}. ",
            t("suppressed_note"),
        ]
    )


# --- rendering ------------------------------------------------------------------------------


def render(spec: ChartSpec, sel: Selection) -> tuple[Any, str, str, Any]:
    """(figure, title, subtitle, note) of one chart for the selection."""
    title = spec.default_title()
    try:
        result = fetch(spec.metric, sel, **spec.params(sel))
    except NoSnapshotYet:
        return (
            empty(t("no_snapshot_title"), t("no_snapshot_text"), height=spec.height),
            title,
            "",
            "",
        )
    # Metrics without a school year (data quality, open approval steps) describe the snapshot.
    dated = "school_year" in metric(spec.metric).params and not spec.all_years
    subtitle = context_line(sel, year=dated)
    if not result.rows:
        hint = t("future_data_hint") if spec.future else t("no_data_hint")
        return empty(t("no_data"), hint, height=spec.height), title, subtitle, ""
    view = spec.build(sel, result)
    if not has_values(view.figure):
        hint = t("future_data_hint") if spec.future else t("no_data_hint")
        return empty(t("no_data"), hint, height=spec.height), view.title or title, subtitle, ""
    view.figure.update_layout(height=spec.height)
    return view.figure, view.title or title, subtitle, view.note or suppression_note(result)


def has_values(fig: go.Figure) -> bool:
    """Does the figure plot at least one number (an empty state is better than bare axes)?"""
    if fig.layout.annotations and not fig.data:
        return True  # already an empty-state figure
    for trace in fig.data:
        for attr in ("y", "x", "values", "z"):
            values = getattr(trace, attr, None)
            if values is None:
                continue
            flat: list[Any] = []
            for v in values:
                flat.extend(v if isinstance(v, list | tuple) else [v])
            numeric = any(isinstance(v, int | float) and not isinstance(v, bool) for v in flat)
            if numeric and trace.type in ("bar", "scatter", "heatmap", "pie"):
                return True
        if trace.type == "sankey" and trace.link and trace.link.value:
            return True
    return False


def page_outputs(page: Page, sel: Selection) -> list[Any]:
    out: list[Any] = []
    for spec in page.charts:
        out.extend(render(spec, sel))
    return out


# --- CSV -------------------------------------------------------------------------------------


def csv_text(result: MetricResult, title: str, subtitle: str) -> str:
    """The metric result as CSV (UTF-8 with BOM so that Excel reads Chinese), a first line
    with what it is, the snapshot time and the suppression rule."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    info = snapshot_info()
    as_of = info.as_of_local if info else ""
    writer.writerow([f"{title} — {subtitle}", f"{t('as_of')} {as_of} ({t('beijing_time')})"])
    writer.writerow(list(result.columns))
    for row in result.rows:
        writer.writerow(["" if v is None else v for v in row])
    if result.suppressed_cells:
        writer.writerow([t("suppressed_note")])
    return "\ufeff" + buf.getvalue()


def export_csv(chart_id: Any, sel: Selection) -> dict[str, Any]:
    """dcc.Download data for chart `chart_id` (KeyError when unknown)."""
    if not isinstance(chart_id, str) or chart_id not in CHARTS:
        raise KeyError(chart_id)
    spec = CHARTS[chart_id]
    result = fetch(spec.metric, sel, **spec.params(sel))
    title = spec.default_title()
    subtitle = context_line(sel, year="school_year" in metric(spec.metric).params)
    year = current_year(sel) or "all"
    place = sel.school or sel.region or sel.scope.region_prefix or "national"
    filename = f"{spec.metric}_{year}_{place}.csv"
    return {
        "content": csv_text(result, title, subtitle),
        "filename": filename,
        "type": "text/csv",
        "base64": False,
    }


# --- helpers for builders ---------------------------------------------------------------------


def by(rows: Sequence[dict[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row.get(key), []).append(row)
    return grouped


def name_of(row: dict[str, Any], stem: str) -> str:
    """`<stem>_name_zh` / `<stem>_name_en` of a row in the current language, else the code."""
    return pick(row.get(f"{stem}_name_zh"), row.get(f"{stem}_name_en")) or str(row.get(stem, ""))


def own_level(sel: Selection) -> str | None:
    """The level of the selection itself (one row per category), None when national."""
    scope = sel.narrowed
    if scope.school_code:
        return "school"
    return {2: "province", 4: "prefecture", 6: "county"}.get(len(scope.region_prefix))


def total_by(
    rows: Sequence[dict[str, Any]], key: str, measure: str
) -> tuple[dict[Any, float], int]:
    """Sum `measure` per `key` over rows, skipping suppressed ("<5") cells; also how many
    cells were skipped (the sum is then a lower bound, and the card says so)."""
    sums: dict[Any, float] = {}
    skipped = 0
    for row in rows:
        value = row.get(measure)
        if isinstance(value, bool) or not isinstance(value, int | float):
            if value is not None:
                skipped += 1
            sums.setdefault(row.get(key), 0.0)
            continue
        sums[row.get(key)] = sums.get(row.get(key), 0.0) + float(value)
    return sums, skipped


def previous_year(year: str | None) -> str | None:
    """ "2026-2027" → "2025-2026"."""
    if not year or len(year) != 9:
        return None
    start = int(year[:4])
    return f"{start - 1}-{start}"


def from_previous_year(sel: Selection) -> dict[str, Any]:
    """For flows into the selected year: the metrics' school_year is the year they start from."""
    prev = previous_year(current_year(sel))
    return {"school_year": prev} if prev else {}
