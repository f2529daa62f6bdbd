"""考勤 Attendance: monthly attendance rate per school (or region) and chronic absence."""

from __future__ import annotations

import dash

from analytics.engine import MetricResult

from .. import figures as F
from ..charts import ChartSpec, ChartView, Page, by, register_chart
from ..data import Selection, records
from ..i18n import locale, t
from ..pagekit import make_update, page_layout, register


def _month_label(value: object) -> str:
    text = str(value or "")
    return text[:7]


def _places(rows: list[dict[str, object]]) -> dict[str, str]:
    names: dict[str, str] = {}
    for r in rows:
        code = str(r.get("region_code"))
        names.setdefault(code, str(r.get("region_name") or code))
    return names


def _attendance(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    months = sorted({_month_label(r["month"]) for r in rows})
    names = _places(rows)
    cells = {
        (str(r["region_code"]), _month_label(r["month"])): r.get("attendance_rate") for r in rows
    }
    codes = sorted(names)
    fig = F.heatmap(
        months,
        [names[c] for c in codes],
        [[cells.get((c, m)) for m in months] for c in codes],
        x_title="月份" if locale() == "zh" else "Month",
        y_title="学校 / 地区" if locale() == "zh" else "School / region",
        colorbar_title=t("unit_percent"),
        percent=True,
        height=max(320, 60 + 28 * len(codes)),
    )
    return ChartView(fig)


def _chronic(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    names = _places(rows)
    months = sorted({_month_label(r["month"]) for r in rows})
    grouped = by(rows, "region_code")
    series = []
    for code in sorted(grouped)[:10]:
        values = {_month_label(r["month"]): r.get("chronic_absence_rate") for r in grouped[code]}
        series.append((names[str(code)], [values.get(m) for m in months], None))
    fig = F.line(
        months,
        series,
        y_title=("长期缺勤学生比例（%）" if locale() == "zh" else "Chronically absent (%)"),
        x_title="月份" if locale() == "zh" else "Month",
        percent=True,
    )
    return ChartView(fig)


ATTENDANCE = register_chart(
    ChartSpec(
        "attendance_rate",
        "attendance_rate_by_school_month",
        _attendance,
        span=2,
        height=380,
        future=True,
    )
)
CHRONIC = register_chart(
    ChartSpec("chronic_absence", "chronic_absence", _chronic, span=2, future=True)
)

PAGE = Page(
    id="attendance",
    path="/attendance",
    nav_key="nav_attendance",
    title_key="attendance_title",
    lead_key="attendance_lead",
    icon="calendar-check",
    order=2,
    charts=[ATTENDANCE, CHRONIC],
)

update = make_update(PAGE)
layout = page_layout(PAGE)


def register_page(app: dash.Dash) -> None:
    register(app, __name__, PAGE, layout, update)
