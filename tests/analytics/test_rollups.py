"""The rollups that serve the dashboards' fact-reading metrics (issue #6) give exactly the rows
of the metrics' former raw-fact SQL, kept below as it was before the rollups:

- dropout_rate and key_figures read agg_enrollment_end instead of fact_enrollment;
- class_size_distribution reads agg_class_size_band instead of dim_class × fact_enrollment;
- data_quality reads agg_data_quality instead of dim_student, fact_student_number and
  fact_status_change.

Both versions run with the same bindings on the ETL-built snapshot and on a copy with awkward
cases added (the seed has none): transfers within a year inside a county, a prefecture, a
province and across provinces; a second enrollment at the same school; a student ending two
stages in one year; dropouts and withdrawals at several schools; empty classes; data-quality
problems, alone and combined. The rollups of the copy are rebuilt with the ETL's own SQL.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from itertools import product
from pathlib import Path
from typing import Any

import duckdb
import pytest

from analytics.catalog import load_catalog, placeholders
from analytics.engine import default_level
from analytics.scope import AnalyticsScope
from etl.transform import TABLE_SQL

from . import synthetic
from .conftest import SQLITE_ONLY

pytestmark = SQLITE_ONLY

ROLLUPS = ("agg_enrollment_end", "agg_class_size_band", "agg_data_quality")
METRICS = ("dropout_rate", "key_figures", "class_size_distribution", "data_quality")

# The metrics' SQL before the rollups (headers dropped), verbatim.
OLD_SQL: dict[str, str] = {
    "dropout_rate": """
WITH sel AS (
    SELECT school_year_key, code FROM dim_school_year
    WHERE code = $school_year
       OR ($school_year IS NULL AND seq = (SELECT MAX(seq) FROM dim_school_year WHERE is_current) - 1)
),
enr AS (
    SELECT sel.code AS school_year,
           CASE $level WHEN 'province' THEN r.province_code
                       WHEN 'prefecture' THEN left(r.county_code, 4)
                       WHEN 'county' THEN r.county_code
                       ELSE s.school_code END AS region_code,
           CASE $level WHEN 'province' THEN r.province_name
                       WHEN 'prefecture' THEN coalesce(r.prefecture_name, r.province_name)
                       WHEN 'county' THEN r.county_name
                       ELSE s.school_name END AS region_name,
           f.stage AS stage,
           COUNT(DISTINCT f.student_key) AS enrolled,
           COUNT(DISTINCT CASE WHEN f.end_reason = '28' THEN f.student_key END) AS dropouts,
           COUNT(DISTINCT CASE WHEN f.end_reason = '24' THEN f.student_key END) AS withdrawals
    FROM fact_enrollment f
    JOIN sel ON sel.school_year_key = f.school_year_key
    JOIN dim_school s ON s.school_key = f.school_key
    JOIN dim_region r ON r.county_code = f.county_code
    WHERE f.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND ($stage IS NULL OR f.stage = $stage)
    GROUP BY ALL
),
prog AS (
    SELECT sel.code AS school_year,
           CASE $level WHEN 'province' THEN r.province_code
                       WHEN 'prefecture' THEN left(r.county_code, 4)
                       WHEN 'county' THEN r.county_code
                       ELSE s.school_code END AS region_code,
           p.from_stage AS stage,
           SUM(p.students) AS followed,
           SUM(CASE WHEN p.flow = 'left' THEN p.students ELSE 0 END) AS left_uncompleted
    FROM agg_progression p
    JOIN sel ON sel.school_year_key = p.school_year_key
    JOIN dim_school s ON s.school_key = p.school_key
    JOIN dim_region r ON r.county_code = p.county_code
    WHERE NOT p.completed_stage
      AND p.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND ($stage IS NULL OR p.from_stage = $stage)
    GROUP BY ALL
)
SELECT e.school_year, e.region_code, e.region_name, e.stage,
       e.enrolled, e.dropouts, e.withdrawals,
       round((e.dropouts + e.withdrawals) / NULLIF(e.enrolled, 0), 4) AS dropout_rate,
       CAST(p.followed AS BIGINT) AS followed,
       CAST(p.left_uncompleted AS BIGINT) AS left_uncompleted,
       round(p.left_uncompleted / NULLIF(p.followed, 0), 4) AS attrition_rate
FROM enr e
LEFT JOIN prog p ON p.school_year = e.school_year AND p.region_code = e.region_code
                AND p.stage = e.stage
ORDER BY e.school_year, e.region_code,
         CASE e.stage WHEN 'primary' THEN 1 WHEN 'junior' THEN 2 ELSE 3 END
""",
    "key_figures": """
WITH years AS (
    SELECT school_year_key, code, seq FROM dim_school_year
),
sel AS (
    SELECT y.school_year_key, y.code, y.seq, p.school_year_key AS prev_key, p.code AS prev_code
    FROM dim_school_year y
    LEFT JOIN years p ON p.seq = y.seq - 1
    WHERE y.code = $school_year OR ($school_year IS NULL AND y.is_current)
),
enr AS (
    SELECT a.school_year_key,
           SUM(a.students) AS students,
           COUNT(DISTINCT a.school_key) AS schools,
           SUM(CASE WHEN a.grade_code IN ('11', '21', '31') THEN a.students ELSE 0 END) AS new_entrants,
           SUM(CASE WHEN a.migrant_child THEN a.students ELSE 0 END) AS migrant_children,
           SUM(CASE WHEN a.left_behind <> '0' THEN a.students ELSE 0 END) AS left_behind
    FROM agg_enrollment a
    JOIN dim_school s ON s.school_key = a.school_key
    WHERE a.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
    GROUP BY a.school_year_key
),
cls AS (
    SELECT a.school_year_key, SUM(a.classes) AS classes, SUM(a.students) AS students,
           SUM(a.classes_56_plus) AS classes_56_plus
    FROM agg_class_size a
    JOIN dim_school s ON s.school_key = a.school_key
    WHERE a.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
    GROUP BY a.school_year_key
),
ends AS (
    SELECT f.school_year_key,
           COUNT(DISTINCT CASE WHEN f.end_reason = '21' THEN f.student_key END) AS graduates,
           COUNT(DISTINCT CASE WHEN f.end_reason IN ('24', '28') THEN f.student_key END) AS dropouts
    FROM fact_enrollment f
    JOIN dim_school s ON s.school_key = f.school_key
    WHERE f.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
    GROUP BY f.school_year_key
),
lnum AS (
    SELECT SUM(a.students) AS l_numbers_pending
    FROM agg_student_number a
    JOIN dim_school s ON s.school_key = a.school_key
    WHERE a.number_kind = 'L'
      AND a.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
)
SELECT sel.code AS school_year,
       sel.prev_code AS previous_school_year,
       CAST(coalesce(e.students, 0) AS BIGINT) AS students,
       CAST(CASE WHEN sel.prev_key IS NOT NULL THEN coalesce(ep.students, 0) END AS BIGINT) AS students_prev,
       round((coalesce(e.students, 0) - ep.students) / NULLIF(ep.students, 0), 4) AS students_yoy,
       CAST(coalesce(e.schools, 0) AS BIGINT) AS schools,
       CAST(coalesce(c.classes, 0) AS BIGINT) AS classes,
       round(c.students / NULLIF(c.classes, 0), 1) AS mean_class_size,
       CAST(coalesce(c.classes_56_plus, 0) AS BIGINT) AS classes_56_plus,
       CAST(coalesce(e.new_entrants, 0) AS BIGINT) AS new_entrants,
       CAST(CASE WHEN sel.prev_key IS NOT NULL THEN coalesce(ep.new_entrants, 0) END AS BIGINT) AS new_entrants_prev,
       round((coalesce(e.new_entrants, 0) - ep.new_entrants) / NULLIF(ep.new_entrants, 0), 4) AS new_entrants_yoy,
       CAST(coalesce(g.graduates, 0) AS BIGINT) AS graduates,
       CAST(CASE WHEN sel.prev_key IS NOT NULL THEN coalesce(gp.graduates, 0) END AS BIGINT) AS graduates_prev,
       round((coalesce(g.graduates, 0) - gp.graduates) / NULLIF(gp.graduates, 0), 4) AS graduates_yoy,
       CAST(coalesce(g.dropouts, 0) AS BIGINT) AS dropouts,
       CAST(CASE WHEN sel.prev_key IS NOT NULL THEN coalesce(gp.dropouts, 0) END AS BIGINT) AS dropouts_prev,
       CAST(coalesce(e.migrant_children, 0) AS BIGINT) AS migrant_children,
       CAST(coalesce(e.left_behind, 0) AS BIGINT) AS left_behind,
       CAST(coalesce((SELECT l_numbers_pending FROM lnum), 0) AS BIGINT) AS l_numbers_pending
FROM sel
LEFT JOIN enr e ON e.school_year_key = sel.school_year_key
LEFT JOIN enr ep ON ep.school_year_key = sel.prev_key
LEFT JOIN cls c ON c.school_year_key = sel.school_year_key
LEFT JOIN ends g ON g.school_year_key = sel.school_year_key
LEFT JOIN ends gp ON gp.school_year_key = sel.prev_key
""",
    "class_size_distribution": """
WITH sizes AS (
    SELECT c.class_key, y.code AS school_year, c.stage, COUNT(f.student_key) AS n
    FROM dim_class c
    JOIN dim_school_year y ON y.school_year_key = c.school_year_key
    JOIN dim_school s ON s.school_key = c.school_key
    LEFT JOIN fact_enrollment f ON f.class_key = c.class_key AND f.is_active
    WHERE c.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
      AND ($stage IS NULL OR c.stage = $stage)
    GROUP BY c.class_key, y.code, c.stage
),
banded AS (
    SELECT school_year, stage, n,
           CASE WHEN n = 0 THEN 0 WHEN n <= 25 THEN 1 WHEN n <= 35 THEN 26 WHEN n <= 45 THEN 36
                WHEN n <= 55 THEN 46 WHEN n <= 65 THEN 56 ELSE 66 END AS band_start
    FROM sizes
)
SELECT school_year, stage,
       CASE band_start WHEN 0 THEN '0' WHEN 1 THEN '1-25' WHEN 26 THEN '26-35'
                       WHEN 36 THEN '36-45' WHEN 46 THEN '46-55' WHEN 56 THEN '56-65'
                       ELSE '66+' END AS size_band,
       band_start,
       COUNT(*) AS classes,
       CAST(SUM(n) AS BIGINT) AS students
FROM banded
GROUP BY school_year, stage, band_start
ORDER BY school_year, CASE stage WHEN 'primary' THEN 1 WHEN 'junior' THEN 2 ELSE 3 END, band_start
""",
    "data_quality": """
WITH as_of AS (
    SELECT CAST(MAX(as_of) AS DATE) AS d FROM meta_manifest
),
l_numbers AS (
    SELECT student_key, MIN(issued_date) AS issued_date
    FROM fact_student_number
    WHERE is_current AND kind = 'L'
    GROUP BY student_key
),
problems AS (
    SELECT DISTINCT student_key FROM fact_status_change
    WHERE change_type = '52' AND is_open
),
students AS (
    SELECT d.current_school_key AS school_key, d.current_county_code AS county_code,
           d.id_doc_type_class = 'none' AS missing_id_number,
           d.sex NOT IN ('1', '2') AS sex_unknown,
           (length(d.hukou_county_code) <> 6 OR d.hukou_county_code LIKE '%0000') AS hukou_incomplete,
           d.number_kind = 'L' AS l_number,
           coalesce(d.number_kind = 'L'
                    AND l.issued_date < (SELECT d FROM as_of) - INTERVAL 90 DAY, false) AS l_old,
           pr.student_key IS NOT NULL AS open_problem
    FROM dim_student d
    LEFT JOIN l_numbers l ON l.student_key = d.student_key
    LEFT JOIN problems pr ON pr.student_key = d.student_key
    WHERE d.current_status IN ('01', '02')
      AND d.current_school_key IS NOT NULL
      AND d.current_county_code LIKE $region_prefix || '%'
),
cells AS (
    SELECT CASE $level WHEN 'province' THEN r.province_code
                       WHEN 'prefecture' THEN left(r.county_code, 4)
                       WHEN 'county' THEN r.county_code
                       ELSE s.school_code END AS region_code,
           CASE $level WHEN 'province' THEN r.province_name
                       WHEN 'prefecture' THEN coalesce(r.prefecture_name, r.province_name)
                       WHEN 'county' THEN r.county_name
                       ELSE s.school_name END AS region_name,
           COUNT(*) AS students,
           COUNT(CASE WHEN t.missing_id_number THEN 1 END) AS missing_id_number,
           COUNT(CASE WHEN t.sex_unknown THEN 1 END) AS sex_unknown,
           COUNT(CASE WHEN t.hukou_incomplete THEN 1 END) AS hukou_incomplete,
           COUNT(CASE WHEN t.l_number THEN 1 END) AS l_numbers,
           COUNT(CASE WHEN t.l_old THEN 1 END) AS l_numbers_over_90_days,
           COUNT(CASE WHEN t.open_problem THEN 1 END) AS open_problem_requests,
           COUNT(CASE WHEN t.missing_id_number OR t.sex_unknown OR t.hukou_incomplete OR t.l_old
                           OR t.open_problem THEN 1 END) AS problem_records
    FROM students t
    JOIN dim_school s ON s.school_key = t.school_key
    JOIN dim_region r ON r.county_code = t.county_code
    WHERE $school_code IS NULL OR s.school_code = $school_code
    GROUP BY ALL
)
SELECT region_code, region_name, students, missing_id_number, sex_unknown, hukou_incomplete,
       l_numbers, l_numbers_over_90_days, open_problem_requests, problem_records,
       round(problem_records / NULLIF(students, 0), 4) AS problem_rate
FROM cells
ORDER BY region_code
""",
}


def rebuild_rollups(conn: duckdb.DuckDBPyConnection) -> None:
    """The rollups again from the facts of `conn`, with the ETL's SQL (as a new snapshot would
    have them); the as-of time is the snapshot's."""
    as_of = conn.execute("SELECT MAX(as_of) FROM meta_manifest").fetchone()
    assert as_of is not None
    conn.execute("SET VARIABLE xueji_as_of = CAST(? AS TIMESTAMP)", [as_of[0]])
    for name in ROLLUPS:
        conn.execute(f"DELETE FROM {name}")
        conn.execute(f"INSERT INTO {name} BY NAME " + TABLE_SQL[name].replace("wh.", ""))


def _new_unit(
    conn: duckdb.DuckDBPyConnection, like: synthetic.School, county: str, n: int
) -> synthetic.School:
    """A new school (key 990000 + n) in `county`, created with its county when missing."""
    conn.execute(
        "INSERT INTO dim_region SELECT * REPLACE (? AS county_code, 'Rollup county ' || ? AS "
        "county_name, CASE WHEN left(?, 4) = left(county_code, 4) THEN prefecture_code END AS "
        "prefecture_code, CASE WHEN left(?, 4) = left(county_code, 4) THEN prefecture_name END "
        "AS prefecture_name) FROM dim_region WHERE county_code = ? "
        "AND NOT EXISTS (SELECT 1 FROM dim_region WHERE county_code = ?)",
        [county, county, county, county, like.county, county],
    )
    key, code = 990000 + n, f"99000000{n:02d}"
    conn.execute(
        "INSERT INTO dim_school SELECT * REPLACE (? AS school_key, ? AS school_code, "
        "'Rollup school ' || ? AS school_name, ? AS county_code) FROM dim_school "
        "WHERE school_key = ?",
        [key, code, n, county, like.key],
    )
    return synthetic.School(key, code, county, county[:2])


def add_awkward_cases(conn: duckdb.DuckDBPyConnection) -> None:
    s = synthetic.schools(conn)
    a, b, c = s["A"], s["B"], s["C"]
    n1 = _new_unit(conn, a, a.county, 1)  # same county as A
    n2 = _new_unit(conn, a, a.county[:4] + "98", 2)  # same prefecture, another county
    n3 = _new_unit(conn, a, a.county[:2] + "9898", 3)  # same province, another prefecture

    def add(
        student: str, year: int, school: synthetic.School, reason: str | None, grade: str = ""
    ) -> None:
        """Another enrollment of the student in the year, copied from its (first) one at A."""
        conn.execute(
            "INSERT INTO fact_enrollment SELECT * REPLACE (? AS school_key, ? AS county_code, "
            "? AS province_code, coalesce(nullif(?, ''), grade_code) AS grade_code, "
            "CASE WHEN ? = '' THEN stage WHEN left(?, 1) = '3' THEN 'senior' "
            "WHEN left(?, 1) = '1' THEN 'primary' ELSE 'junior' END AS stage, "
            "? IS NULL AS is_active, ? AS end_reason) "
            "FROM fact_enrollment WHERE student_key = ? AND school_year_key = ? "
            "AND school_key = ? LIMIT 1",
            [
                school.key,
                school.county,
                school.province,
                grade,
                grade,
                grade,
                grade,
                reason,
                reason,
                student,
                year,
                a.key,
            ],
        )

    def end(student: str, year: int, reason: str) -> None:
        conn.execute(
            "UPDATE fact_enrollment SET end_reason = ?, is_active = false "
            "WHERE student_key = ? AND school_year_key = ? AND school_key = ?",
            [reason, student, year, a.key],
        )

    # (ending at A, [(school, ending, grade), …]) per student, in two school years.
    cases: list[tuple[str, list[tuple[synthetic.School, str | None, str]]]] = [
        ("27", [(n1, None, "")]),
        ("27", [(n2, "28", "")]),
        ("28", [(n3, "28", "")]),
        ("28", [(b, "24", "")]),
        ("21", [(a, None, "")]),
        ("21", [(n1, "21", "31")]),
        ("27", [(n1, "27", ""), (a, None, "")]),
        ("24", [(a, "24", "")]),
        ("24", [(n2, "24", ""), (n3, "28", "")]),
        ("28", [(c, "28", "")]),
        ("21", [(b, "21", "")]),
        ("28", [(n1, "24", "")]),
    ]
    for code in ("2025-2026", "2026-2027"):
        year = synthetic.year_key(conn, code)
        pool = synthetic.students(conn, a, code)
        for student, (at_a, more) in zip(pool[-len(cases) :], cases, strict=True):
            end(student, year, at_a)
            for school, reason, grade in more:
                add(student, year, school, reason, grade)

    # Empty classes: one at A, one at the new school of A's county.
    for n, school in enumerate((a, n1)):
        conn.execute(
            "INSERT INTO dim_class SELECT * REPLACE (? AS class_key, ? AS school_key, "
            "99 AS class_number) FROM dim_class WHERE school_key = ? LIMIT 1",
            [synthetic._key(f"rollup-empty-class:{n}"), school.key, a.key],
        )

    # Data quality: students of A with one problem or several.
    (as_of,) = conn.execute("SELECT CAST(MAX(as_of) AS DATE) FROM meta_manifest").fetchone()
    keys = [
        r[0]
        for r in conn.execute(
            "SELECT student_key FROM dim_student WHERE current_school_key = ? "
            "AND current_status = '01' ORDER BY student_key LIMIT 16",
            [a.key],
        ).fetchall()
    ]
    assert len(keys) == 16

    def student(i: int, **values: object) -> None:
        sets = ", ".join(f"{k} = ?" for k in values)
        conn.execute(
            f"UPDATE dim_student SET {sets} WHERE student_key = ?", [*values.values(), keys[i]]
        )

    def l_number(i: int, days_ago: int, current: bool = True) -> None:
        conn.execute(
            "INSERT INTO fact_student_number BY NAME SELECT ? AS student_key, 'L' AS kind, "
            "? AS issued_date, ? AS is_current, ? AS county_code, ? AS province_code",
            [keys[i], as_of - timedelta(days=days_ago), current, a.county, a.province],
        )

    def problem(i: int, n: int, ctype: str = "52", state: str = "submitted") -> None:
        conn.execute(
            "INSERT INTO fact_status_change BY NAME SELECT ? AS request_key, ? AS student_key, "
            "? AS change_type, ? AS state, ? AS created_date, ? AS is_open, 0 AS steps, "
            "? AS county_code, ? AS province_code",
            [
                synthetic._key(f"rollup-request:{n}"),
                keys[i],
                ctype,
                state,
                as_of,
                state in ("draft", "submitted"),
                a.county,
                a.province,
            ],
        )

    student(0, sex="9")
    student(1, hukou_county_code="640000")
    student(2, hukou_county_code="6401")
    student(3, id_doc_type_class="none")
    student(4, number_kind="L")
    l_number(4, 200)
    student(5, number_kind="L")
    l_number(5, 10)
    student(6, number_kind="L")  # no number history: not counted as older than 90 days
    l_number(7, 300)  # a G student with a current L row: not an L number
    problem(8, 1)
    problem(8, 2, state="draft")
    problem(9, 3, state="effective")
    problem(9, 4, ctype="35")
    student(10, current_status="03", sex="9")
    student(11, current_school_key=n1.key)
    student(12, current_school_key=n3.key, current_county_code=n3.county, sex="9")
    student(13, sex="9", number_kind="L", id_doc_type_class="none")
    l_number(13, 100)
    problem(13, 5)
    student(14, number_kind="L")
    l_number(14, 5)
    l_number(14, 95)
    l_number(15, 400, current=False)
    student(15, number_kind="L")


@pytest.fixture(scope="module")
def edge_conn(
    warehouse: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[duckdb.DuckDBPyConnection]:
    target: Path = tmp_path_factory.mktemp("rollups") / "awkward.duckdb"
    shutil.copyfile(warehouse["file"], target)
    with duckdb.connect(str(target)) as conn:
        add_awkward_cases(conn)
        rebuild_rollups(conn)
    conn = duckdb.connect(str(target), read_only=True)
    yield conn
    conn.close()


def _scopes(conn: duckdb.DuckDBPyConnection) -> list[AnalyticsScope]:
    """National, every province, prefecture and county with a school, one without, and a few
    schools (with and without their county: a Spark run does not look the county up)."""
    counties = [
        r[0] for r in conn.execute("SELECT DISTINCT county_code FROM dim_school").fetchall()
    ]
    prefixes = sorted({c[:2] for c in counties} | {c[:4] for c in counties} | set(counties))
    schools = conn.execute(
        "SELECT school_code, county_code FROM dim_school ORDER BY school_key DESC LIMIT 4"
    ).fetchall()
    return (
        [AnalyticsScope(), AnalyticsScope("990101")]
        + [AnalyticsScope(p) for p in prefixes]
        + [AnalyticsScope(county, code) for code, county in schools]
        + [AnalyticsScope("", schools[0][0])]
    )


def _cases(conn: duckdb.DuckDBPyConnection, metric: str) -> Iterator[dict[str, Any]]:
    m = load_catalog()[metric]
    # The default year and the two with awkward cases (the first has none).
    years = [None] + [
        r[0] for r in conn.execute("SELECT code FROM dim_school_year ORDER BY seq").fetchall()
    ][-2:]
    levels = ["province", "prefecture", "county", "school"] if "level" in m.params else [None]
    stages = [None, "junior", "senior"] if "stage" in m.params else [None]
    if "school_year" not in m.params:
        years = [None]
    for scope, level, year, stage in product(_scopes(conn), levels, years, stages):
        yield {
            "region_prefix": scope.region_prefix,
            "school_code": scope.school_code,
            "level": level or default_level(scope),
            "school_year": year,
            "stage": stage,
        }


def _run(conn: duckdb.DuckDBPyConnection, sql: str, bound: dict[str, Any]) -> tuple[list, list]:
    cur = conn.cursor()
    try:
        used = placeholders(sql)
        cur.execute(sql, {k: v for k, v in bound.items() if k in used})
        return [d[0] for d in cur.description or []], cur.fetchall()
    finally:
        cur.close()


def _compare(conn: duckdb.DuckDBPyConnection, metric: str) -> int:
    """Old and new SQL on every case; returns how many cases had rows."""
    new_sql = load_catalog()[metric].sql
    with_rows = 0
    for bound in _cases(conn, metric):
        old = _run(conn, OLD_SQL[metric], bound)
        new = _run(conn, new_sql, bound)
        assert new == old, (metric, bound)
        with_rows += bool(old[1])
    return with_rows


@pytest.mark.parametrize("metric", METRICS)
def test_rollup_gives_the_raw_fact_rows_on_the_built_snapshot(snapshot_conn, metric):
    assert _compare(snapshot_conn, metric) > 0


@pytest.mark.parametrize("metric", METRICS)
def test_rollup_gives_the_raw_fact_rows_with_awkward_cases(edge_conn, metric):
    assert _compare(edge_conn, metric) > 0


def test_awkward_cases_are_counted_once_per_region(edge_conn):
    """The cases do reach the figures: a naive sum over schools would differ."""
    a = synthetic.schools(edge_conn)["A"]
    naive = dict(
        edge_conn.execute(
            "SELECT f.school_year_key, COUNT(*) FROM fact_enrollment f "
            "WHERE f.county_code LIKE ? || '%' AND f.end_reason IN ('24', '28') GROUP BY 1",
            [a.province],
        ).fetchall()
    )
    distinct = dict(
        edge_conn.execute(
            "SELECT f.school_year_key, COUNT(DISTINCT f.student_key) FROM fact_enrollment f "
            "WHERE f.county_code LIKE ? || '%' AND f.end_reason IN ('24', '28') GROUP BY 1",
            [a.province],
        ).fetchall()
    )
    assert any(naive[y] != distinct[y] for y in distinct)
    cols, (row,) = _run(
        edge_conn,
        load_catalog()["key_figures"].sql,
        {"region_prefix": a.province, "school_code": None, "school_year": "2026-2027"},
    )
    got = dict(zip(cols, row, strict=True))
    year = synthetic.year_key(edge_conn, "2026-2027")
    assert got["dropouts"] == distinct[year] != naive[year]


def test_the_etl_checks_the_new_rollups(snapshot_conn):
    """Built by the pipeline, summed up against their facts, scanned for personal data."""
    rows = snapshot_conn.execute(
        "SELECT table_name, check_name, status FROM meta_check WHERE table_name IN (?, ?, ?)",
        list(ROLLUPS),
    ).fetchall()
    for table in ROLLUPS:
        mine = {(check, status) for t, check, status in rows if t == table}
        assert ("derived", "pass") in mine and ("privacy", "pass") in mine, table
        assert all(status in ("pass", "skip") for _check, status in mine), (table, mine)
        (n,) = snapshot_conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        assert n > 0, table
