"""学籍异动 Status changes: requests by month and type, transfer flows between regions,
dropout and attrition rates, approval lead times and overdue approval steps."""

from __future__ import annotations

from typing import Any

import dash

from analytics.engine import MetricResult

from .. import figures as F
from ..charts import (
    ChartSpec,
    ChartView,
    Page,
    by,
    from_previous_year,
    name_of,
    register_chart,
    stage_label,
    total_by,
)
from ..data import Selection, records
from ..i18n import locale, t
from ..pagekit import make_update, page_layout, register

STAGES = ("primary", "junior", "senior")


def _zh(zh: str, en: str) -> str:
    return en if locale() == "en" else zh


def _by_month(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    months = sorted({str(r["month"])[:7] for r in rows})
    labels = {r["change_type"]: name_of(r, "change_type") for r in rows}
    series = []
    for code in sorted(labels):
        sums, _ = total_by(
            [dict(r, m=str(r["month"])[:7]) for r in rows if r["change_type"] == code],
            "m",
            "requests",
        )
        series.append((labels[code], [sums.get(m) or None for m in months], None))
    fig = F.bar(
        months,
        series,
        y_title=_zh("申请数（件）", "Requests"),
        x_title=_zh("提交月份", "Month submitted"),
        stacked=True,
        texts=False,
    )
    return ChartView(fig)


def _transfers(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    outside = _zh("系统外", "Outside the registry")

    def label(row: dict[str, Any], side: str) -> str:
        return str(row.get(f"{side}_region_name") or row.get(f"{side}_region_code") or outside)

    froms = sorted({label(r, "from") for r in rows})
    tos = sorted({label(r, "to") for r in rows})
    cells: dict[tuple[str, str], Any] = {}
    for r in rows:
        key = (label(r, "from"), label(r, "to"))
        value = r.get("requests")
        if isinstance(value, int | float) and isinstance(cells.get(key), int | float):
            cells[key] = cells[key] + value
        elif key not in cells:
            cells[key] = value
    fig = F.heatmap(
        tos,
        froms,
        [[cells.get((f, to)) for to in tos] for f in froms],
        x_title=_zh("转入地", "Receiving region"),
        y_title=_zh("转出地", "Sending region"),
        colorbar_title=_zh("申请数", "Requests"),
        height=max(320, 80 + 30 * len(froms)),
    )
    return ChartView(fig)


def _dropout(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    names: dict[str, str] = {}
    for r in rows:
        names.setdefault(str(r["region_code"]), str(r.get("region_name") or r["region_code"]))
    codes = sorted(names)
    grouped = by(rows, "stage")
    series = []
    for stage in STAGES:
        if stage not in grouped:
            continue
        values = {str(r["region_code"]): r.get("attrition_rate") for r in grouped[stage]}
        series.append((stage_label(stage), [values.get(c) for c in codes], F.STAGE_COLORS[stage]))
    fig = F.bar(
        [names[c] for c in codes],
        series,
        y_title=_zh("流失率（%）", "Attrition rate (%)"),
        x_title=_zh("地区", "Region"),
        percent=True,
    )
    dropouts, _ = total_by(rows, "stage", "dropouts")
    withdrawals, _ = total_by(rows, "stage", "withdrawals")
    n = int(sum(dropouts.values()) + sum(withdrawals.values()))
    note = _zh(
        f"流失率：未完成学段、次年在本系统无学籍的学生比例（上限估计）。学年内登记辍学与退学 {n} 人。",
        f"Attrition: students below the last grade not enrolled anywhere in the registry the next "
        f"year (an upper bound). Recorded dropouts and withdrawals in the year: {n}.",
    )
    year = str(rows[0].get("school_year") or "") if rows else ""
    title = _zh(f"辍学率与流失率（{year}学年）", f"Dropout and attrition ({year})")
    return ChartView(fig, title, note=note)


def _lead_times(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    labels = {r["change_type"]: name_of(r, "change_type") for r in rows}
    codes = sorted(labels)

    def pooled(measure: str) -> list[Any]:
        best: dict[str, Any] = {}
        for r in rows:
            value = r.get(measure)
            if isinstance(value, int | float):
                best[r["change_type"]] = max(best.get(r["change_type"], 0), value)
        return [best.get(c) for c in codes]

    fig = F.bar(
        [labels[c] for c in codes],
        [
            (_zh("中位数", "Median"), pooled("lead_time_days_p50"), F.BLUE),
            (_zh("90 百分位", "90th percentile"), pooled("lead_time_days_p90"), F.GOLD),
        ],
        y_title=_zh("办结用时（天）", "Lead time (days)"),
        x_title=_zh("异动类别", "Change type"),
    )
    return ChartView(fig)


def _overdue(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    labels = {r["unit_kind"]: name_of(r, "unit_kind") for r in rows}
    codes = sorted(labels)
    measures = [
        ("overdue_open", _zh("待办已超期", "Open, overdue"), F.RED),
        ("open_steps", _zh("待办", "Open"), F.GOLD),
        ("decided_late", _zh("超期办理", "Decided late"), "#e07b39"),
        ("decided", _zh("已办理", "Decided"), F.BLUE),
    ]
    series = []
    for key, name, color in measures:
        sums, _ = total_by(rows, "unit_kind", key)
        series.append((name, [sums.get(c) for c in codes], color))
    fig = F.bar(
        [labels[c] for c in codes],
        series,
        y_title=t("unit_steps"),
        x_title=_zh("办理单位", "Handling unit"),
    )
    return ChartView(fig)


BY_MONTH = register_chart(
    ChartSpec("status_changes_by_month", "status_changes_by_month", _by_month, span=2)
)
TRANSFERS = register_chart(
    ChartSpec("transfers_by_region_pair", "transfers_by_region_pair", _transfers, height=380)
)
DROPOUT = register_chart(
    ChartSpec("dropout_rate", "dropout_rate", _dropout, from_previous_year, height=380)
)
LEAD_TIMES = register_chart(ChartSpec("approval_lead_times", "approval_lead_times", _lead_times))
OVERDUE = register_chart(ChartSpec("overdue_steps", "overdue_steps", _overdue))

PAGE = Page(
    id="status",
    path="/status-changes",
    nav_key="nav_status",
    title_key="status_title",
    lead_key="status_lead",
    icon="arrow-left-right",
    order=4,
    charts=[BY_MONTH, TRANSFERS, DROPOUT, LEAD_TIMES, OVERDUE],
)

update = make_update(PAGE)
layout = page_layout(PAGE)


def register_page(app: dash.Dash) -> None:
    register(app, __name__, PAGE, layout, update)
