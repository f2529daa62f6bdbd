"""数据质量 Data quality: problem records by region (missing ID numbers, unconfirmed L
numbers, …) and the checks the snapshot passed before it was published."""

from __future__ import annotations

from typing import Any

import dash
from dash import Output, html

from analytics.engine import MetricResult

from .. import figures as F
from ..charts import ChartSpec, ChartView, Page, page_outputs, register_chart
from ..components import icon
from ..context import runtime
from ..data import Selection, guarded, records, selection_from_store, snapshot_info
from ..i18n import locale, t
from ..pagekit import page_layout, register


def _zh(zh: str, en: str) -> str:
    return en if locale() == "en" else zh


ISSUES = (
    ("missing_id_number", ("缺身份证件号码", "Missing ID number"), F.RED),
    ("l_numbers_over_90_days", ("临时学籍号超 90 天", "Temporary number > 90 days"), "#e07b39"),
    ("hukou_incomplete", ("户口所在地不完整", "Incomplete hukou code"), F.GOLD),
    ("sex_unknown", ("性别未知", "Sex unknown"), "#7b5ea7"),
    ("open_problem_requests", ("问题学籍处理中", "Open problem-record requests"), F.GREY),
)


def _issues(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    names = [str(r.get("region_name") or r["region_code"]) for r in rows]
    series = [(_zh(*label), [r.get(key) for r in rows], color) for key, label, color in ISSUES]
    fig = F.bar(
        names,
        series,
        y_title=_zh("学生数（人）", "Students"),
        horizontal=True,
        stacked=True,
        texts=False,
    )
    return ChartView(fig)


def _rates(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    names = [str(r.get("region_name") or r["region_code"]) for r in rows]
    fig = F.bar(
        names,
        [
            (
                _zh("问题学籍比例", "Problem records"),
                [r.get("problem_rate") for r in rows],
                F.RED,
            ),
            (
                _zh("临时学籍号比例", "Temporary (L) numbers"),
                [
                    (r["l_numbers"] / r["students"])
                    if isinstance(r.get("l_numbers"), int)
                    and isinstance(r.get("students"), int)
                    and r["students"]
                    else None
                    for r in rows
                ],
                F.GOLD,
            ),
        ],
        y_title=t("unit_percent"),
        x_title=_zh("地区", "Region"),
        percent=True,
    )
    note = _zh(
        "问题学籍：至少有一项问题（缺证件号、性别未知、户口代码不完整、临时学籍号超过 90 天未确认、问题学籍处理中）的在籍学生。",
        "Problem records: students on the books with at least one issue (missing ID number, sex unknown, incomplete hukou code, temporary number unconfirmed for over 90 days, open problem-record request).",
    )
    return ChartView(fig, note=note)


ISSUE_CHART = register_chart(
    ChartSpec(
        "data_quality_issues",
        "data_quality",
        _issues,
        span=2,
        title=lambda: _zh("各地区问题学籍（按问题类型）", "Problem records by region and issue"),
    )
)
RATE_CHART = register_chart(
    ChartSpec(
        "data_quality_rates",
        "data_quality",
        _rates,
        span=2,
        title=lambda: _zh(
            "问题学籍与临时学籍号比例", "Share of problem records and temporary numbers"
        ),
    )
)

PAGE = Page(
    id="quality",
    path="/data-quality",
    nav_key="nav_quality",
    title_key="quality_title",
    lead_key="quality_lead",
    icon="clipboard2-check",
    order=6,
    charts=[ISSUE_CHART, RATE_CHART],
)

CHECK_NAMES = {
    "reconcile": ("与学籍库核对行数", "Row counts reconciled with the registry"),
    "derived": ("汇总表与明细一致", "Rollups add up"),
    "primary_key": ("主键唯一", "Primary keys unique"),
    "orphans": ("无孤立外键", "No orphan keys"),
    "hmac": ("假名键格式", "Pseudonymous key format"),
    "codes": ("代码值有效", "Codes are valid"),
    "privacy": ("隐私扫描（无个人信息）", "Privacy scan (no personal data)"),
}


def checks_panel() -> Any:
    """The checks the current snapshot passed before publishing (from its manifest)."""
    info = snapshot_info()
    if info is None:
        return None
    try:
        manifest = runtime().store.manifest(info.name)
    except Exception:
        return None
    summary = manifest.get("checks_summary") or {}
    rows = []
    for check, counts in summary.items():
        label = CHECK_NAMES.get(check, (check, check))
        passed = int(counts.get("pass", 0))
        other = {k: v for k, v in counts.items() if k != "pass" and v}
        failed = int(counts.get("fail", 0))
        badge = (
            html.Span(_zh("未通过", "failed"), className="badge text-bg-danger")
            if failed
            else html.Span(_zh("通过", "passed"), className="badge text-bg-success")
        )
        rows.append(
            html.Tr(
                [
                    html.Td(_zh(*label)),
                    html.Td(f"{passed:,}", className="text-end"),
                    html.Td(", ".join(f"{k} {v}" for k, v in other.items()) or "—"),
                    html.Td(badge),
                ]
            )
        )
    mode = manifest.get("mode") or ""
    return html.Div(
        className="xj-panel",
        children=[
            html.H2(
                [icon("shield-check"), " ", _zh("快照发布前核验", "Checks before publishing")],
                className="xj-card-title mb-1",
            ),
            html.Div(
                _zh(
                    f"快照 {info.snapshot_id}（{mode}），数据截至 {info.as_of_local}（北京时间）。所有核验通过后快照才会发布。",
                    f"Snapshot {info.snapshot_id} ({mode}), data as of {info.as_of_local} (Beijing time). A snapshot is published only when every check passes.",
                ),
                className="xj-card-sub mb-2",
            ),
            html.Table(
                [
                    html.Thead(
                        html.Tr(
                            [
                                html.Th(_zh("核验", "Check")),
                                html.Th(_zh("通过项", "Passed"), className="text-end"),
                                html.Th(_zh("其他", "Other")),
                                html.Th(_zh("结果", "Result")),
                            ]
                        )
                    ),
                    html.Tbody(rows),
                ],
                className="table table-sm mb-0",
            ),
        ],
    )


@guarded
def update(filters: Any) -> list[Any]:
    """Main callback: the snapshot checks, then every chart."""
    sel = selection_from_store(filters)
    return [checks_panel(), *page_outputs(PAGE, sel)]


layout = page_layout(PAGE, top=lambda: html.Div(id="quality-checks"))


def register_page(app: dash.Dash) -> None:
    register(app, __name__, PAGE, layout, update, [Output("quality-checks", "children")])
