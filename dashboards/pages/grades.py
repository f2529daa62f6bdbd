"""学业成绩 Grades: score distribution, subject means, pass and excellence rates."""

from __future__ import annotations

from typing import Any

import dash

from analytics.engine import MetricResult

from .. import figures as F
from ..charts import ChartSpec, ChartView, Page, name_of, register_chart, total_by
from ..data import Selection, records
from ..i18n import locale, t
from ..pagekit import make_update, page_layout, register


def _subject(row: dict[str, Any]) -> str:
    return name_of(row, "subject") if row.get("subject_name_zh") else str(row.get("subject_code"))


def _subject_labels(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Subject code → its name, looked up once per subject: a county's per-school rows number
    thousands, and each lookup asks Babel for the locale (a quarter of the page's time)."""
    labels: dict[str, str] = {}
    for r in rows:
        if r["subject_code"] not in labels:
            labels[r["subject_code"]] = _subject(r)
    return labels


def _distribution(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    bands = sorted(
        {
            (r.get("band_start") if r.get("band_start") is not None else 999, str(r["band"]))
            for r in rows
        }
    )
    sums, skipped = total_by(rows, "band", "students")
    fig = F.bar(
        [label for _, label in bands],
        [(t("unit_students"), [sums.get(label) for _, label in bands], F.BLUE)],
        y_title=t("unit_students"),
        x_title=("得分率区间（%）" if locale() == "zh" else "Share of full mark (%)"),
    )
    return ChartView(fig)


def _pooled_rate(rows: list[dict[str, Any]], num: str, den: str) -> dict[str, float | None]:
    nums, _ = total_by(rows, "subject_code", num)
    dens, _ = total_by(rows, "subject_code", den)
    return {k: (nums.get(k, 0) / v if v else None) for k, v in dens.items()}


def _means(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    labels = _subject_labels(rows)
    weighted: dict[str, float] = {}
    weights: dict[str, float] = {}
    for r in rows:
        pct, sat = r.get("mean_pct"), r.get("sat")
        if isinstance(pct, int | float) and isinstance(sat, int | float):
            weighted[r["subject_code"]] = weighted.get(r["subject_code"], 0) + pct * sat
            weights[r["subject_code"]] = weights.get(r["subject_code"], 0) + sat
    codes = sorted(labels)
    values = [weighted[c] / weights[c] if weights.get(c) else None for c in codes]
    fig = F.bar(
        [labels[c] for c in codes],
        [(("平均得分率" if locale() == "zh" else "Mean % of full mark"), values, F.BLUE)],
        y_title=("平均得分率（百分制）" if locale() == "zh" else "Mean score (% of full mark)"),
        x_title="学科" if locale() == "zh" else "Subject",
    )
    return ChartView(fig)


def _rates(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    labels = _subject_labels(rows)
    passed = _pooled_rate(rows, "passed", "sat")
    excellent = _pooled_rate(rows, "excellent", "sat")
    codes = sorted(labels)
    fig = F.bar(
        [labels[c] for c in codes],
        [
            ("及格率" if locale() == "zh" else "Pass rate", [passed.get(c) for c in codes], F.BLUE),
            (
                "优秀率" if locale() == "zh" else "Excellent rate",
                [excellent.get(c) for c in codes],
                F.GOLD,
            ),
        ],
        y_title=t("unit_percent"),
        x_title="学科" if locale() == "zh" else "Subject",
        percent=True,
    )
    return ChartView(fig)


DISTRIBUTION = register_chart(
    ChartSpec("score_distribution", "score_distribution", _distribution, span=2, future=True)
)
MEANS = register_chart(ChartSpec("subject_means", "subject_means", _means, future=True))
RATES = register_chart(
    ChartSpec("pass_excellent_rates", "pass_excellent_rates", _rates, future=True)
)

PAGE = Page(
    id="grades",
    path="/grades",
    nav_key="nav_grades",
    title_key="grades_title",
    lead_key="grades_lead",
    icon="journal-check",
    order=3,
    charts=[DISTRIBUTION, MEANS, RATES],
)

update = make_update(PAGE)
layout = page_layout(PAGE)


def register_page(app: dash.Dash) -> None:
    register(app, __name__, PAGE, layout, update)
