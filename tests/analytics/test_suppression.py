"""Small cells: counts of 1-4 people become "<5" and whatever is computed from them (rates,
shares, means, year-on-year changes) is withheld."""

from __future__ import annotations

from analytics.catalog import load_catalog
from analytics.engine import MetricResult, to_dataframe
from analytics.scope import AnalyticsScope
from analytics.suppression import SUPPRESSED, is_small, suppress_rows

from .conftest import SQLITE_ONLY, rows_as_dicts


def test_suppress_rows_replaces_small_counts_and_withholds_what_depends_on_them():
    columns = ["region", "students", "passed", "rate", "mean"]
    rows = [
        ("a", 30, 3, 0.1, 71.5),
        ("b", 4, 4, 1.0, 80.0),
        ("c", 0, 0, None, None),
        ("d", 5, 5, 1.0, 9),
    ]
    out, changed = suppress_rows(
        columns,
        rows,
        ["students", "passed"],
        [("rate", ["students", "passed"]), ("mean", ["students"])],
    )
    assert out == [
        ("a", 30, SUPPRESSED, None, 71.5),
        ("b", SUPPRESSED, SUPPRESSED, None, None),
        ("c", 0, 0, None, None),  # zero identifies nobody and is shown
        ("d", 5, 5, 1.0, 9),
    ]
    assert changed == 2 + 4


def test_shares_of_a_group_with_a_small_cell_are_all_withheld():
    columns = ["region", "sex", "students", "share"]
    rows = [
        ("a", "1", 120, 0.9756),
        ("a", "2", 3, 0.0244),
        ("b", "1", 50, 0.5),
        ("b", "2", 50, 0.5),
    ]
    out, changed = suppress_rows(
        columns,
        rows,
        ["students"],
        [("share", ["students"])],
        [("share", ["students"], ["region"])],
    )
    # 120 / 0.9756 would give the region's total, hence the hidden 3, back.
    assert out == [
        ("a", "1", 120, None),
        ("a", "2", SUPPRESSED, None),
        ("b", "1", 50, 0.5),
        ("b", "2", 50, 0.5),
    ]
    assert changed == 3


def test_is_small():
    assert [is_small(v) for v in (0, 1, 4, 5, 4.0, True, "3", None)] == [
        False,
        True,
        True,
        False,
        True,
        False,
        False,
        False,
    ]


def test_every_person_count_and_dependent_measure_is_declared():
    for m in load_catalog().values():
        for target, deps in m.withhold:
            assert target in m.measures and set(deps) <= set(m.suppress)
        rates = [c for c in m.measures if c.endswith(("_rate", "share", "_yoy", "yoy_change"))]
        withheld = {t for t, _ in m.withhold}
        for rate in rates:
            if rate not in ("oversized_rate",):  # classes, not people
                assert rate in withheld, f"{m.name}.{rate} is not withheld with its counts"


def test_to_dataframe_keeps_markers_and_makes_values_plain():
    from datetime import date
    from decimal import Decimal

    result = MetricResult(
        "m", ["d", "n", "r"], [(date(2026, 9, 1), SUPPRESSED, Decimal("0.5"))], "s", "t", 1
    )
    assert to_dataframe(result) == [{"d": "2026-09-01", "n": "<5", "r": 0.5}]


@SQLITE_ONLY
def test_small_ethnic_groups_are_suppressed_at_school_level(run, snapshot_conn):
    result = run("enrollment_by_ethnicity_detail", AnalyticsScope(), {"level": "school"})
    truth = {
        (code, eth): n
        for code, eth, n in snapshot_conn.execute(
            "SELECT s.school_code, d.ethnicity, COUNT(*) FROM fact_enrollment f "
            "JOIN dim_student d USING (student_key) JOIN dim_school s USING (school_key) "
            "JOIN dim_school_year y USING (school_year_key) WHERE f.is_active AND y.is_current "
            "GROUP BY 1, 2"
        ).fetchall()
    }
    rows = rows_as_dicts(result)
    assert len(rows) == len(truth)
    small = 0
    for r in rows:
        n = truth[(r["region_code"], r["ethnicity"])]
        if 0 < n < 5:
            small += 1
            assert r["students"] == SUPPRESSED and r["share"] is None
        else:
            assert r["students"] == n
    assert small > 0, "the seed should have small minority cells at school level"
    # Every share of a school with a small cell is withheld, not only the small cell's.
    hidden_schools = {r["region_code"] for r in rows if r["students"] == SUPPRESSED}
    for r in rows:
        assert (r["share"] is None) == (r["region_code"] in hidden_schools)
    assert result.suppressed_cells == small + sum(r["share"] is None for r in rows)


@SQLITE_ONLY
def test_no_count_between_1_and_4_ever_leaves_the_engine(run_facts):
    for name, m in load_catalog().items():
        for scope in (AnalyticsScope(), AnalyticsScope("640105")):
            params = {"level": "school"} if "level" in m.params else {}
            for row in rows_as_dicts(run_facts(name, scope, params)):
                for col in m.suppress:
                    assert not is_small(row[col]), (name, col, row)
