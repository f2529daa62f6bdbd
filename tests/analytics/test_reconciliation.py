"""Enrollment from the analytics layer equals an independent count over the operational
database (sqlite3 on the seeded registry), with small cells suppressed."""

from __future__ import annotations

import sqlite3

import pytest

from analytics.scope import AnalyticsScope
from analytics.suppression import SUPPRESSED

from .conftest import SQLITE_ONLY, rows_as_dicts

pytestmark = SQLITE_ONLY


@pytest.fixture(scope="module")
def source(warehouse):
    conn = sqlite3.connect(f"file:{warehouse['sqlite_path']}?mode=ro", uri=True)
    yield conn
    conn.close()


def expected(count: int) -> int | str:
    return SUPPRESSED if 0 < count < 5 else count


def test_enrollment_by_county_and_grade_matches_the_registry(run, source):
    years = [r[0] for r in source.execute("SELECT code FROM school_year ORDER BY start_date")]
    assert len(years) == 3
    for year in years:
        truth = {
            (county, grade): n
            for county, grade, n in source.execute(
                "SELECT s.region_code, e.grade_code, COUNT(*) FROM enrollment e "
                "JOIN school s ON s.id = e.school_id "
                "JOIN school_year y ON y.id = e.school_year_id "
                "WHERE e.is_active AND y.code = ? GROUP BY 1, 2",
                [year],
            )
        }
        result = run(
            "enrollment_by_grade", AnalyticsScope(), {"school_year": year, "level": "county"}
        )
        got = {(r["region_code"], r["grade_code"]): r["students"] for r in rows_as_dicts(result)}
        assert got == {k: expected(v) for k, v in truth.items()}
        assert all(r["school_year"] == year for r in rows_as_dicts(result))


def test_county_totals_and_school_level_match_the_registry(run, source):
    year = source.execute("SELECT code FROM school_year ORDER BY start_date DESC").fetchone()[0]
    by_county = dict(
        source.execute(
            "SELECT s.region_code, COUNT(*) FROM enrollment e JOIN school s ON s.id = e.school_id "
            "JOIN school_year y ON y.id = e.school_year_id WHERE e.is_active AND y.code = ? "
            "GROUP BY 1",
            [year],
        ).fetchall()
    )
    result = run("enrollment_by_region", AnalyticsScope(), {"school_year": year, "level": "county"})
    totals = {r["region_code"]: r["students"] for r in rows_as_dicts(result) if r["stage"] == "all"}
    assert totals == {k: expected(v) for k, v in by_county.items()}
    for county, n in by_county.items():
        schools = dict(
            source.execute(
                "SELECT s.code, COUNT(*) FROM enrollment e JOIN school s ON s.id = e.school_id "
                "JOIN school_year y ON y.id = e.school_year_id "
                "WHERE e.is_active AND y.code = ? AND s.region_code = ? GROUP BY 1",
                [year, county],
            ).fetchall()
        )
        # A county user drilling into schools (default level below a county) sees each school.
        scoped = run("enrollment_by_region", AnalyticsScope(county), {"school_year": year})
        got = {
            r["region_code"]: r["students"] for r in rows_as_dicts(scoped) if r["stage"] == "all"
        }
        assert got == {k: expected(v) for k, v in schools.items()}
        assert sum(v for v in schools.values()) == n


def test_key_figures_match_the_registry(run, source):
    year, prev = [
        r[0]
        for r in source.execute("SELECT code FROM school_year ORDER BY start_date DESC LIMIT 2")
    ]

    def active(code: str) -> int:
        return source.execute(
            "SELECT COUNT(*) FROM enrollment e JOIN school_year y ON y.id = e.school_year_id "
            "WHERE e.is_active AND y.code = ?",
            [code],
        ).fetchone()[0]

    graduates = source.execute(
        "SELECT COUNT(DISTINCT e.student_id) FROM enrollment e "
        "JOIN school_year y ON y.id = e.school_year_id WHERE e.end_reason = '21' AND y.code = ?",
        [prev],
    ).fetchone()[0]
    l_numbers = source.execute(
        "SELECT COUNT(*) FROM student WHERE student_number_kind = 'L' "
        "AND current_school_id IS NOT NULL"
    ).fetchone()[0]
    (row,) = rows_as_dicts(run("key_figures", AnalyticsScope(), {"school_year": year}))
    assert row["students"] == active(year) and row["students_prev"] == active(prev)
    assert row["students_yoy"] == round((active(year) - active(prev)) / active(prev), 4)
    assert row["graduates_prev"] == graduates
    assert row["l_numbers_pending"] == l_numbers
    assert row["previous_school_year"] == prev
