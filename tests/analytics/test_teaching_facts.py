"""Metrics over facts that are empty in the seeded registry (attendance, scores, evaluations,
graduation; status changes and dropouts), on a snapshot copy with the synthetic rows of
synthetic.py. Expected values are worked out by hand from those rows."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from analytics.catalog import load_catalog
from analytics.scope import AnalyticsScope
from analytics.suppression import SUPPRESSED as S

from . import synthetic
from .conftest import SQLITE_ONLY, rows_as_dicts

pytestmark = SQLITE_ONLY
CATALOG = load_catalog()


# The seed's school years are fixed (2024-2025 … 2026-2027) but `is_current` follows the ETL's
# as-of time, i.e. the wall clock: pin the year each metric defaults to on the seed's calendar.
PREVIOUS_YEAR_DEFAULT = {
    "dropout_rate",
    "graduation_outcomes",
    "progression_flows",
    "progression_rate_by_region",
}


@pytest.fixture(scope="module")
def run_facts(run_facts):
    def run(name, scope=None, params=None):
        params = dict(params or {})
        if name in CATALOG and "school_year" in CATALOG[name].params:
            default = "2025-2026" if name in PREVIOUS_YEAR_DEFAULT else "2026-2027"
            params.setdefault("school_year", default)
        return run_facts(name, scope, params)

    return run


@pytest.fixture(scope="module")
def ab(facts_conn):
    return synthetic.schools(facts_conn)


@pytest.fixture(scope="module")
def students_a(facts_conn, ab):
    """Active enrollments of school A in 2026-2027 (the attendance denominator)."""
    return len(synthetic.students(facts_conn, ab["A"], "2026-2027"))


def weekdays(first: date, last: date) -> int:
    return sum(
        1 for i in range((last - first).days + 1) if (first + timedelta(days=i)).weekday() < 5
    )


OCT_DAYS = weekdays(date(2026, 10, 1), date(2026, 10, 31))  # all inside the autumn term
NOV_DAYS = weekdays(date(2026, 11, 1), date(2026, 11, 30))


def test_every_teaching_metric_is_empty_on_the_real_warehouse(run):
    for name in (
        "attendance_rate_by_school_month",
        "chronic_absence",
        "score_distribution",
        "subject_means",
        "pass_excellent_rates",
        "graduation_outcomes",
        "evaluation_levels",
    ):
        assert run(name, AnalyticsScope(), {}).rows == []
    flows = run("progression_flows", AnalyticsScope(), {"basis": "destination"})
    assert flows.rows == []


def test_attendance_rate(run_facts, ab, students_a):
    a = ab["A"]
    rows = rows_as_dicts(
        run_facts("attendance_rate_by_school_month", AnalyticsScope("64"), {"level": "school"})
    )
    assert [(r["month"], r["region_code"]) for r in rows] == [
        ("2026-10", a.code),
        ("2026-11", a.code),
    ]
    oct_, nov = rows
    assert (OCT_DAYS, NOV_DAYS) == (22, 21)
    absence = 1.0 + 2.0 + 0.5 + 4 * 3.0
    assert oct_ == {
        "school_year": "2026-2027",
        "month": "2026-10",
        "region_code": a.code,
        "region_name": oct_["region_name"],
        "students": students_a,
        "school_days": OCT_DAYS,
        "absence_days": absence,
        "absent_students": 6,  # the late student (periods only) is not absent
        "periods_missed": 2,
        "attendance_rate": round(1 - absence / (students_a * OCT_DAYS), 4),
    }
    assert nov["absent_students"] == S and nov["absence_days"] == 1.0
    assert nov["attendance_rate"] == round(1 - 1 / (students_a * NOV_DAYS), 4)
    only_oct = run_facts(
        "attendance_rate_by_school_month",
        AnalyticsScope("64"),
        {"level": "school", "month": "2026-10"},
    )
    assert len(only_oct.rows) == 1
    # Province level pools the schools that recorded attendance in the month.
    national = rows_as_dicts(
        run_facts(
            "attendance_rate_by_school_month",
            AnalyticsScope(),
            {"level": "province", "month": "2026-10"},
        )
    )
    assert {r["region_code"] for r in national} == {"46", "64"}


def test_chronic_absence(run_facts, ab, students_a):
    rows = rows_as_dicts(run_facts("chronic_absence", AnalyticsScope(ab["A"].county), {}))
    assert [(r["month"], r["chronically_absent"]) for r in rows] == [("2026-10", 5), ("2026-11", 0)]
    assert rows[0]["chronic_absence_rate"] == round(5 / students_a, 4)
    assert rows[0]["absent_students"] == 6
    assert rows[1]["chronic_absence_rate"] == 0.0 and rows[1]["absent_students"] == S
    b_only = rows_as_dicts(run_facts("chronic_absence", AnalyticsScope(ab["B"].county), {}))
    assert [(r["month"], r["chronically_absent"], r["absent_students"]) for r in b_only] == [
        ("2026-10", 0, S)
    ]


def test_score_distribution(run_facts, ab):
    scope = AnalyticsScope(ab["A"].county)
    math = run_facts("score_distribution", scope, {"subject": "math"})
    assert [(r["band"], r["students"]) for r in rows_as_dicts(math)] == [
        ("0-9", S),
        ("50-59", S),
        ("60-69", 5),
        ("80-89", 6),
        ("90-100", 5),
    ]  # 100/100 falls in 90-100; the absent student is not counted
    chinese = run_facts("score_distribution", scope, {"subject": "chinese"})
    assert [r["band"] for r in rows_as_dicts(chinese)] == ["50-59", "60-69", "80-89", "90-100"]
    art = run_facts(
        "score_distribution", scope, {"subject": "art", "term": 1, "exam_kind": "final"}
    )
    assert [(r["band"], r["band_start"], r["students"]) for r in rows_as_dicts(art)] == [
        ("level A", None, 6),
        ("level B", None, S),
        ("level C", None, S),
        ("level D", None, S),
    ]
    assert run_facts("score_distribution", scope, {"term": 2}).rows == []
    assert run_facts("score_distribution", scope, {"stage": "primary"}).rows == []
    assert run_facts("score_distribution", scope, {"school_year": "2025-2026"}).rows == []


def test_subject_means(run_facts):
    rows = {
        (r["subject_code"], r["region_code"]): r
        for r in rows_as_dicts(run_facts("subject_means", AnalyticsScope(), {"level": "province"}))
    }
    assert set(rows) == {("math", "64"), ("chinese", "64"), ("math", "46")}  # art: levels only
    math = rows[("math", "64")]
    assert math["sat"] == 20 and math["absent"] == S
    assert math["mean_score"] == round(sum(synthetic.MATH_SCORES) / 20, 2) == 70.8
    assert math["mean_pct"] == 70.8 and math["full_mark"] == 100
    chinese = rows[("chinese", "64")]
    assert chinese["mean_score"] == round(sum(synthetic.CHINESE_SCORES) / 5, 2) == 94.6
    assert chinese["mean_pct"] == round(sum(100 * v / 120 for v in synthetic.CHINESE_SCORES) / 5, 2)
    assert rows[("math", "46")]["mean_score"] == 80.0 and rows[("math", "46")]["sat"] == 6


def test_pass_and_excellent_rates(run_facts, ab):
    rows = {
        r["subject_code"]: r
        for r in rows_as_dicts(
            run_facts("pass_excellent_rates", AnalyticsScope("64"), {"level": "school"})
        )
    }
    math, art, chinese = rows["math"], rows["art"], rows["chinese"]
    assert math["region_code"] == ab["A"].code
    assert (math["sat"], math["passed"], math["excellent"]) == (20, 16, 9)
    assert (math["pass_rate"], math["excellent_rate"]) == (0.8, 0.45)
    assert (art["sat"], art["passed"], art["excellent"]) == (12, 11, 6)  # A/B/C pass, A excellent
    assert (art["pass_rate"], art["excellent_rate"]) == (round(11 / 12, 4), 0.5)
    # Chinese (full mark 120): 108, 102, 72 pass (≥ 72), 108, 102, 120 … 4 pass, 3 excellent.
    assert chinese["sat"] == 5
    assert chinese["passed"] == S and chinese["excellent"] == S
    assert chinese["pass_rate"] is None and chinese["excellent_rate"] is None


def test_graduation_outcomes_and_flows(run_facts, ab):
    a = ab["A"]
    (row,) = rows_as_dicts(run_facts("graduation_outcomes", AnalyticsScope(a.county), {}))
    assert (row["school_year"], row["stage"], row["outcome"], row["outcome_name_zh"]) == (
        "2025-2026",
        "junior",
        "1",
        "毕业",
    )
    assert (row["students"], row["diplomas_issued"], row["diplomas_revoked"]) == (10, 9, S)
    flows = rows_as_dicts(
        run_facts("progression_flows", AnalyticsScope(a.county), {"basis": "destination"})
    )
    assert [(f["source"], f["target"], f["target_name_zh"], f["students"]) for f in flows] == [
        ("junior", "15", "普通高中", 6),
        ("junior", "13", "职业高中(含中专、技校)", S),
        ("junior", "20", "就业", S),
        ("junior", "unknown", "未登记", S),
    ]
    rates = {
        r["stage"]: r
        for r in rows_as_dicts(
            run_facts("progression_rate_by_region", AnalyticsScope(a.county), {})
        )
    }
    junior = rates["junior"]
    assert (junior["graduates"], junior["further_study"], junior["further_study_rate"]) == (
        10,
        8,
        0.8,
    )
    # The enrollment basis still comes from next year's enrollments in the same row.
    assert junior["completing"] is not None and junior["progression_rate"] is not None
    assert rates["primary"]["graduates"] is None


def test_evaluation_levels(run_facts, ab):
    rows = rows_as_dicts(run_facts("evaluation_levels", AnalyticsScope(ab["A"].county), {}))
    assert [(r["evaluation_level"], r["students"], r["share"]) for r in rows] == [
        ("A", 5, None),  # the other shares would give the hidden counts back
        ("B", S, None),
        ("C", S, None),
    ]


def test_transfers_by_region_pair(run_facts, ab):
    a, b, c = ab["A"], ab["B"], ab["C"]
    rows = rows_as_dicts(
        run_facts("transfers_by_region_pair", AnalyticsScope(a.county), {"level": "county"})
    )
    got = {
        (r["direction"], r["from_region_code"], r["to_region_code"]): (
            r["requests"],
            r["effective"],
            r["pending"],
            r["not_effective"],
        )
        for r in rows
    }
    assert got == {
        ("out", a.county, b.county): (6, 6, 0, 0),
        ("out", a.county, c.county): (S, 0, 0, S),
        ("in", b.county, a.county): (5, 0, 5, 0),
    }
    national = rows_as_dicts(
        run_facts("transfers_by_region_pair", AnalyticsScope(), {"level": "province"})
    )
    assert {r["direction"] for r in national} == {"within"}
    assert {(r["from_region_code"], r["to_region_code"]) for r in national} == {
        ("64", "46"),
        ("64", "11"),
        ("46", "64"),
    }
    school = rows_as_dicts(
        run_facts("transfers_by_region_pair", AnalyticsScope(b.county, b.code), {})
    )
    assert {(r["direction"], r["from_region_code"], r["to_region_code"]) for r in school} == {
        ("out", b.code, a.code),
        ("in", a.code, b.code),
    }


def test_approval_lead_times(run_facts, ab):
    rows = {
        r["change_type"]: r
        for r in rows_as_dicts(
            run_facts("approval_lead_times", AnalyticsScope(ab["A"].county), {"level": "county"})
        )
    }
    t = rows["35"]
    assert (t["requests"], t["closed"], t["open"], t["effective"], t["rejected"]) == (7, 7, 0, 6, S)
    assert t["lead_time_days_mean"] == round((6 * 10 + 5) / 7, 1) == 9.3
    assert (t["lead_time_days_p50"], t["lead_time_days_p90"]) == (10.0, 10.0)
    assert t["lead_time_workdays_mean"] == round((6 * 8 + 3) / 7, 1)
    assert rows["52"]["requests"] == S and rows["52"]["lead_time_days_mean"] is None
    only = run_facts("approval_lead_times", AnalyticsScope(ab["A"].county), {"change_type": "35"})
    assert len(only.rows) == 1
    # B's five requests belong to B's county (the sending school).
    b_rows = rows_as_dicts(run_facts("approval_lead_times", AnalyticsScope(ab["B"].county), {}))
    assert [(r["change_type"], r["requests"], r["open"]) for r in b_rows] == [("35", 5, 5)]


def test_overdue_steps(run_facts, ab):
    def steps(county):
        return {
            r["unit_kind"]: r
            for r in rows_as_dicts(
                run_facts("overdue_steps", AnalyticsScope(county), {"level": "county"})
            )
        }

    b = steps(ab["B"].county)
    assert (
        b["county_bureau"]["steps"],
        b["county_bureau"]["open_steps"],
        b["county_bureau"]["overdue_open"],
    ) == (
        5,
        5,
        5,
    )
    assert b["county_bureau"]["decided"] == 0 and b["county_bureau"]["wait_days_mean"] is None
    assert (
        b["school_registrar"]["decided"],
        b["school_registrar"]["wait_days_mean"],
        b["school_registrar"]["overdue_open"],
    ) == (
        5,
        1.0,
        0,
    )
    a = steps(ab["A"].county)
    assert (a["school_registrar"]["steps"], a["school_registrar"]["decided"]) == (7, 7)
    assert a["school_registrar"]["wait_days_mean"] == round((6 * 2.0 + 5.0) / 7, 1)
    assert a["school_registrar"]["wait_days_p90"] == 3.2  # continuous: 2 + 0.4 × (5 − 2)
    assert (
        a["county_bureau"]["steps"],
        a["county_bureau"]["wait_days_mean"],
        a["county_bureau"]["decided_late"],
    ) == (
        6,
        8.0,
        0,
    )


def test_status_changes_by_month_rollup_and_school_paths(run_facts, ab):
    a = ab["A"]
    region = rows_as_dicts(run_facts("status_changes_by_month", AnalyticsScope(a.county), {}))
    assert [(r["month"], r["change_type"], r["state"], r["requests"]) for r in region] == [
        ("2026-10", "35", "effective", 6),
        ("2026-10", "35", "rejected", S),
        ("2026-11", "52", "submitted", S),
    ]
    school = rows_as_dicts(
        run_facts("status_changes_by_month", AnalyticsScope(a.county, a.code), {})
    )  # the school also sees the five transfers it receives
    assert [(r["month"], r["change_type"], r["state"], r["requests"]) for r in school] == [
        ("2026-10", "35", "effective", 6),
        ("2026-10", "35", "rejected", S),
        ("2026-10", "35", "submitted", 5),
        ("2026-11", "52", "submitted", S),
    ]


def test_dropout_rate_and_key_figures(run_facts, facts_conn, ab):
    a = ab["A"]
    enrolled = facts_conn.execute(
        "SELECT COUNT(DISTINCT student_key) FROM fact_enrollment f "
        "JOIN dim_school_year y USING (school_year_key) "
        "WHERE y.code = '2025-2026' AND f.county_code = ? AND f.stage = 'junior'",
        [a.county],
    ).fetchone()[0]
    (row,) = rows_as_dicts(
        run_facts("dropout_rate", AnalyticsScope(a.county), {"level": "county", "stage": "junior"})
    )
    assert (row["school_year"], row["enrolled"], row["dropouts"], row["withdrawals"]) == (
        "2025-2026",
        enrolled,
        6,
        0,
    )
    assert row["dropout_rate"] == round(6 / enrolled, 4)
    (kf,) = rows_as_dicts(run_facts("key_figures", AnalyticsScope(a.county), {}))
    assert kf["dropouts_prev"] == 6 and kf["dropouts"] == 0


def test_data_quality_counts_the_open_problem_record(run, run_facts, ab):
    a = ab["A"]
    scope = AnalyticsScope(a.county)
    (before,) = rows_as_dicts(run("data_quality", scope, {"level": "county"}))
    (after,) = rows_as_dicts(run_facts("data_quality", scope, {"level": "county"}))
    assert before["open_problem_requests"] == 0 and after["open_problem_requests"] == S
    assert after["problem_records"] == before["problem_records"] + 1
