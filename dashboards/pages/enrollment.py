"""在校生 Enrollment: students by grade, sex, ethnic group and hukou type, migrant and
left-behind children by region, and the class-size distribution."""

from __future__ import annotations

from typing import Any

import dash

from analytics.engine import MetricResult

from .. import figures as F
from ..charts import (
    ChartSpec,
    ChartView,
    Page,
    name_of,
    own_level,
    register_chart,
    total_by,
)
from ..data import Selection, records
from ..i18n import locale, t
from ..pagekit import make_update, page_layout, register

STAGES = ("primary", "junior", "senior")


def _own(sel: Selection) -> dict[str, Any]:
    return {"level": own_level(sel) or "province"}


def _skipped_note(skipped: int) -> str:
    if not skipped:
        return ""
    return (
        f"合计不含 {skipped} 个少于 5 人的单元格。"
        if locale() == "zh"
        else f"Totals leave out {skipped} cells of fewer than 5 students."
    )


def _by_grade(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    names: dict[str, str] = {}
    stages: dict[str, str] = {}
    for r in rows:
        names.setdefault(r["grade_code"], name_of(r, "grade"))
        stages.setdefault(r["grade_code"], r.get("stage") or "")
    totals, skipped = total_by(rows, "grade_code", "students")
    codes = sorted(names)
    series = []
    for stage in STAGES:
        values = [
            (totals.get(c) if stages[c] == stage else None) if totals.get(c) else None
            for c in codes
        ]
        if any(v for v in values):
            series.append((t(f"stage_{stage}"), values, F.STAGE_COLORS[stage]))
    if not series:  # only suppressed cells
        return ChartView(F.empty())
    fig = F.bar(
        [names[c] for c in codes],
        series,
        y_title=t("unit_students"),
        x_title="年级" if locale() == "zh" else "Grade",
    )
    fig.update_layout(barmode="stack")
    return ChartView(fig, note=_skipped_note(skipped))


def _by_sex(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    labels = {r["sex"]: name_of(r, "sex") for r in rows}
    sums, skipped = total_by(rows, "sex", "students")
    codes = sorted(sums)
    total = sum(sums.values())
    male = sums.get("1", 0)
    female = sums.get("2", 0)
    ratio = f"{male / female * 100:.1f}" if female else "—"
    center = (
        f"性别比<br><b>{ratio}</b><br><span style='font-size:11px'>（女=100）</span>"
        if locale() == "zh"
        else f"Sex ratio<br><b>{ratio}</b><br><span style='font-size:11px'>(female = 100)</span>"
    )
    fig = F.donut(
        [labels[c] for c in codes],
        [sums[c] for c in codes],
        [F.SEX_COLORS.get(c, F.GREY) for c in codes],
        center=center if total else "",
    )
    return ChartView(fig, note=_skipped_note(skipped))


def _by_group(stem: str) -> Any:
    def build(sel: Selection, result: MetricResult) -> ChartView:
        rows = records(result)
        labels = {r[stem]: name_of(r, stem) for r in rows}
        sums, skipped = total_by(rows, stem, "students")
        codes = sorted(sums)
        if stem == "ethnicity_group":
            fig = F.donut(
                [labels[c] for c in codes],
                [sums[c] for c in codes],
                [F.BLUE, F.GOLD, F.GREY][: len(codes)],
            )
        else:
            fig = F.bar(
                [labels[c] for c in codes],
                [(t("unit_students"), [sums[c] for c in codes], F.BLUE)],
                y_title=t("unit_students"),
                x_title="户口性质" if locale() == "zh" else "Hukou type",
            )
        return ChartView(fig, note=_skipped_note(skipped))

    return build


def _migrant(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    names = [str(r.get("region_name") or r["region_code"]) for r in rows]
    fig = F.bar(
        names,
        [
            (
                "随迁子女比例" if locale() == "zh" else "Migrant children",
                [r.get("migrant_rate") for r in rows],
                F.GOLD,
            ),
            (
                "留守儿童比例" if locale() == "zh" else "Left-behind children",
                [r.get("left_behind_rate") for r in rows],
                F.RED,
            ),
        ],
        y_title=t("unit_percent"),
        x_title="地区" if locale() == "zh" else "Region",
        percent=True,
    )
    return ChartView(fig)


BAND_COLORS = {
    0: F.GREY,
    1: "#b5cfee",
    26: "#7fa7d9",
    36: F.BLUE,
    46: "#1b4a86",
    56: "#e07b39",
    66: F.RED,
}
BANDS = (
    (0, "0"),
    (1, "1-25"),
    (26, "26-35"),
    (36, "36-45"),
    (46, "46-55"),
    (56, "56-65"),
    (66, "66+"),
)


def _class_sizes(sel: Selection, result: MetricResult) -> ChartView:
    rows = records(result)
    seen = {(r["band_start"], r["size_band"]) for r in rows}
    bands = sorted(seen | {b for b in BANDS if b[0] > 0})  # every band from 1-25 up
    sums, _ = total_by(rows, "band_start", "classes")
    labels = [(f"{label}人" if locale() == "zh" and label != "0" else label) for _, label in bands]
    fig = F.bar(
        labels,
        [
            (
                t("unit_classes"),
                [sums.get(start, 0) for start, _ in bands],
                None,
            )
        ],
        y_title=t("unit_classes"),
        x_title="班额（班级人数）" if locale() == "zh" else "Class size (students per class)",
    )
    fig.update_traces(marker={"color": [BAND_COLORS.get(start, F.BLUE) for start, _ in bands]})
    note = (
        "橙色、红色为大班额（56 人及以上）与超大班额（66 人及以上）。"
        if locale() == "zh"
        else "Orange and red: oversized (56+) and extra-large (66+) classes."
    )
    return ChartView(fig, note=note)


BY_GRADE = register_chart(
    ChartSpec("enrollment_by_grade", "enrollment_by_grade", _by_grade, _own, span=2, height=340)
)
BY_SEX = register_chart(ChartSpec("enrollment_by_sex", "enrollment_by_sex", _by_sex, _own))
BY_ETHNICITY = register_chart(
    ChartSpec(
        "enrollment_by_ethnicity", "enrollment_by_ethnicity", _by_group("ethnicity_group"), _own
    )
)
BY_HUKOU = register_chart(
    ChartSpec("enrollment_by_hukou", "enrollment_by_hukou", _by_group("hukou_type"), _own)
)
MIGRANT = register_chart(ChartSpec("migrant_left_behind", "migrant_left_behind", _migrant))
CLASS_SIZES = register_chart(
    ChartSpec("class_size_distribution", "class_size_distribution", _class_sizes, span=2)
)

PAGE = Page(
    id="enrollment",
    path="/enrollment",
    nav_key="nav_enrollment",
    title_key="enrollment_title",
    lead_key="enrollment_lead",
    icon="people",
    order=1,
    charts=[BY_GRADE, BY_SEX, BY_ETHNICITY, BY_HUKOU, MIGRANT, CLASS_SIZES],
)

update = make_update(PAGE)
layout = page_layout(PAGE)


def register_page(app: dash.Dash) -> None:
    register(app, __name__, PAGE, layout, update)
