"""The rollups that serve the dashboards' fact-reading metrics (issue #6) give exactly the rows
of the metrics' former raw-fact SQL, kept below as it was before the rollups:

- dropout_rate and key_figures read agg_enrollment_end instead of fact_enrollment;
- class_size_distribution reads agg_class_size_band instead of dim_class × fact_enrollment;
- data_quality reads agg_data_quality instead of dim_student, fact_student_number and
  fact_status_change;
- attendance_rate_by_school_month and chronic_absence read agg_attendance instead of
  fact_attendance (and dim_date);
- subject_means and pass_excellent_rates read agg_score, score_distribution agg_score_band,
  instead of fact_score;
- evaluation_levels reads agg_evaluation instead of fact_evaluation;
- enrollment_by_ethnicity_detail reads agg_enrollment_ethnicity instead of fact_enrollment ×
  dim_student.

Both versions run with the same bindings on the ETL-built snapshot and on a copy with awkward
cases added (the seed has none): transfers within a year inside a county, a prefecture, a
province and across provinces; a second enrollment at the same school; a student ending two
stages in one year; dropouts and withdrawals at several schools; empty classes; data-quality
problems, alone and combined. The rollups of the copy are rebuilt with the ETL's own SQL.

The teaching facts are empty in the seeded registry: their metrics run on a second snapshot,
built by the ETL from a copy of the registry with the demo teaching records of
`xueji seed-teaching`, and on a copy of it with awkward attendance, scores, evaluations and a
doubled active enrollment (see add_teaching_cases). Means are compared as the metrics return
them, rounded to 2 decimals: the rollup's sums ÷ counts and the raw AVG add the same values in
another order, so unrounded they may differ in the last bits (they do for some national
mean_pct cells of the demo records; never after rounding).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import product
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import create_engine

from admin.services.seed_teaching import TeachingOptions, seed_teaching
from analytics.catalog import load_catalog, placeholders
from analytics.engine import default_level
from analytics.scope import AnalyticsScope
from etl import pipeline, schema, transform
from etl.progress import NullProgress
from etl.transform import TABLE_SQL
from tests.conftest import SEED_TODAY

from . import synthetic
from .conftest import KEY, SQLITE_ONLY

pytestmark = SQLITE_ONLY

ROLLUPS = ("agg_enrollment_end", "agg_class_size_band", "agg_data_quality")
METRICS = ("dropout_rate", "key_figures", "class_size_distribution", "data_quality")
TEACHING_ROLLUPS = (
    "agg_enrollment_ethnicity",
    "agg_evaluation",
    "agg_attendance",
    "agg_score",
    "agg_score_band",
)
TEACHING_METRICS = (
    "attendance_rate_by_school_month",
    "chronic_absence",
    "subject_means",
    "pass_excellent_rates",
    "score_distribution",
    "evaluation_levels",
    "enrollment_by_ethnicity_detail",
)

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
    "attendance_rate_by_school_month": """
WITH sel AS (
    SELECT school_year_key, code FROM dim_school_year
    WHERE code = $school_year OR ($school_year IS NULL AND is_current)
),
school_days AS (
    SELECT CAST(date_trunc('month', d.date) AS DATE) AS month, COUNT(*) AS school_days
    FROM dim_date d
    JOIN sel ON sel.school_year_key = d.school_year_key
    WHERE d.term_key IS NOT NULL AND NOT d.is_weekend
    GROUP BY CAST(date_trunc('month', d.date) AS DATE)
),
enrolled AS (
    SELECT a.school_key, SUM(a.students) AS students
    FROM agg_enrollment a
    JOIN sel ON sel.school_year_key = a.school_year_key
    WHERE a.county_code LIKE $region_prefix || '%'
    GROUP BY a.school_key
),
absences AS (
    SELECT f.school_key, CAST(date_trunc('month', f.date) AS DATE) AS month,
           SUM(coalesce(f.days, 0)) AS absence_days,
           COUNT(DISTINCT CASE WHEN f.days > 0 THEN f.student_key END) AS absent_students,
           SUM(coalesce(f.periods, 0)) AS periods_missed
    FROM fact_attendance f
    JOIN dim_date d ON d.date = f.date
    JOIN sel ON sel.school_year_key = d.school_year_key
    WHERE f.county_code LIKE $region_prefix || '%'
      AND ($month IS NULL OR CAST(date_trunc('month', f.date) AS DATE) = $month)
    GROUP BY f.school_key, CAST(date_trunc('month', f.date) AS DATE)
),
cells AS (
    SELECT sel.code AS school_year,
           strftime(ab.month, '%Y-%m') AS month,
           CASE $level WHEN 'province' THEN r.province_code
                       WHEN 'prefecture' THEN left(r.county_code, 4)
                       WHEN 'county' THEN r.county_code
                       ELSE s.school_code END AS region_code,
           CASE $level WHEN 'province' THEN r.province_name
                       WHEN 'prefecture' THEN coalesce(r.prefecture_name, r.province_name)
                       WHEN 'county' THEN r.county_name
                       ELSE s.school_name END AS region_name,
           CAST(SUM(coalesce(e.students, 0)) AS BIGINT) AS students,
           MAX(sd.school_days) AS school_days,
           round(SUM(ab.absence_days), 1) AS absence_days,
           CAST(SUM(ab.absent_students) AS BIGINT) AS absent_students,
           CAST(SUM(ab.periods_missed) AS BIGINT) AS periods_missed,
           round(1 - SUM(ab.absence_days)
                     / NULLIF(SUM(coalesce(e.students, 0)) * MAX(sd.school_days), 0), 4)
               AS attendance_rate
    FROM absences ab
    CROSS JOIN sel
    JOIN dim_school s ON s.school_key = ab.school_key
    JOIN dim_region r ON r.county_code = s.county_code
    LEFT JOIN enrolled e ON e.school_key = ab.school_key
    LEFT JOIN school_days sd ON sd.month = ab.month
    WHERE $school_code IS NULL OR s.school_code = $school_code
    GROUP BY ALL
)
SELECT * FROM cells ORDER BY school_year, month, region_code
""",
    "chronic_absence": """
WITH sel AS (
    SELECT school_year_key, code FROM dim_school_year
    WHERE code = $school_year OR ($school_year IS NULL AND is_current)
),
school_days AS (
    SELECT CAST(date_trunc('month', d.date) AS DATE) AS month, COUNT(*) AS school_days
    FROM dim_date d
    JOIN sel ON sel.school_year_key = d.school_year_key
    WHERE d.term_key IS NOT NULL AND NOT d.is_weekend
    GROUP BY CAST(date_trunc('month', d.date) AS DATE)
),
enrolled AS (
    SELECT a.school_key, SUM(a.students) AS students
    FROM agg_enrollment a
    JOIN sel ON sel.school_year_key = a.school_year_key
    WHERE a.county_code LIKE $region_prefix || '%'
    GROUP BY a.school_key
),
per_student AS (
    SELECT f.school_key, f.student_key, CAST(date_trunc('month', f.date) AS DATE) AS month,
           SUM(coalesce(f.days, 0)) AS days
    FROM fact_attendance f
    JOIN dim_date d ON d.date = f.date
    JOIN sel ON sel.school_year_key = d.school_year_key
    WHERE f.county_code LIKE $region_prefix || '%'
      AND ($month IS NULL OR CAST(date_trunc('month', f.date) AS DATE) = $month)
    GROUP BY f.school_key, f.student_key, CAST(date_trunc('month', f.date) AS DATE)
),
per_school AS (
    SELECT p.school_key, p.month, MAX(sd.school_days) AS school_days,
           COUNT(DISTINCT CASE WHEN p.days > 0 THEN p.student_key END) AS absent_students,
           COUNT(DISTINCT CASE WHEN p.days > 0 AND p.days >= 0.1 * sd.school_days
                               THEN p.student_key END) AS chronically_absent
    FROM per_student p
    LEFT JOIN school_days sd ON sd.month = p.month
    GROUP BY p.school_key, p.month
),
cells AS (
    SELECT sel.code AS school_year,
           strftime(ps.month, '%Y-%m') AS month,
           CASE $level WHEN 'province' THEN r.province_code
                       WHEN 'prefecture' THEN left(r.county_code, 4)
                       WHEN 'county' THEN r.county_code
                       ELSE s.school_code END AS region_code,
           CASE $level WHEN 'province' THEN r.province_name
                       WHEN 'prefecture' THEN coalesce(r.prefecture_name, r.province_name)
                       WHEN 'county' THEN r.county_name
                       ELSE s.school_name END AS region_name,
           CAST(SUM(coalesce(e.students, 0)) AS BIGINT) AS students,
           MAX(ps.school_days) AS school_days,
           CAST(SUM(ps.absent_students) AS BIGINT) AS absent_students,
           CAST(SUM(ps.chronically_absent) AS BIGINT) AS chronically_absent,
           round(SUM(ps.chronically_absent) / NULLIF(SUM(coalesce(e.students, 0)), 0), 4)
               AS chronic_absence_rate
    FROM per_school ps
    CROSS JOIN sel
    JOIN dim_school s ON s.school_key = ps.school_key
    JOIN dim_region r ON r.county_code = s.county_code
    LEFT JOIN enrolled e ON e.school_key = ps.school_key
    WHERE $school_code IS NULL OR s.school_code = $school_code
    GROUP BY ALL
)
SELECT * FROM cells ORDER BY school_year, month, region_code
""",
    "subject_means": """
WITH subjects AS (
    SELECT code, max_by(name_zh, valid_from) AS name_zh, max_by(name_en, valid_from) AS name_en
    FROM dim_code WHERE code_set = 'subject' GROUP BY code
),
cells AS (
    SELECT y.code AS school_year, t.number AS term, f.exam_kind, f.grade_code, f.subject_code,
           sj.name_zh AS subject_name_zh, sj.name_en AS subject_name_en,
           CASE $level WHEN 'province' THEN r.province_code
                       WHEN 'prefecture' THEN left(r.county_code, 4)
                       WHEN 'county' THEN r.county_code
                       ELSE s.school_code END AS region_code,
           CASE $level WHEN 'province' THEN r.province_name
                       WHEN 'prefecture' THEN coalesce(r.prefecture_name, r.province_name)
                       WHEN 'county' THEN r.county_name
                       ELSE s.school_name END AS region_name,
           COUNT(CASE WHEN NOT f.absent AND f.score IS NOT NULL THEN 1 END) AS sat,
           COUNT(CASE WHEN f.absent THEN 1 END) AS absent,
           round(AVG(CASE WHEN NOT f.absent THEN f.score END), 2) AS mean_score,
           round(AVG(CASE WHEN NOT f.absent AND f.full_mark > 0
                          THEN 100.0 * f.score / f.full_mark END), 2) AS mean_pct,
           MAX(f.full_mark) AS full_mark
    FROM fact_score f
    JOIN dim_school s ON s.school_key = f.school_key
    JOIN dim_region r ON r.county_code = f.county_code
    LEFT JOIN dim_term t ON t.term_key = f.term_key
    LEFT JOIN dim_date d ON d.date = f.exam_date
    JOIN dim_school_year y ON y.school_year_key = coalesce(t.school_year_key, d.school_year_key)
    LEFT JOIN subjects sj ON sj.code = f.subject_code
    WHERE f.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
      AND ($term IS NULL OR t.number = $term)
      AND ($exam_kind IS NULL OR f.exam_kind = $exam_kind)
      AND ($stage IS NULL OR left(f.grade_code, 1) = CASE $stage WHEN 'primary' THEN '1'
                                                                 WHEN 'junior' THEN '2'
                                                                 ELSE '3' END)
      AND ($grade IS NULL OR f.grade_code = $grade)
      AND ($subject IS NULL OR f.subject_code = $subject)
    GROUP BY ALL
)
SELECT * FROM cells
WHERE sat > 0 OR absent > 0
ORDER BY school_year, term, exam_kind, grade_code, subject_code, region_code
""",
    "pass_excellent_rates": """
WITH subjects AS (
    SELECT code, max_by(name_zh, valid_from) AS name_zh, max_by(name_en, valid_from) AS name_en
    FROM dim_code WHERE code_set = 'subject' GROUP BY code
),
marks AS (
    SELECT y.code AS school_year, t.number AS term, f.exam_kind, f.grade_code, f.subject_code,
           s.school_code, s.school_name, r.county_code, r.county_name, r.province_code,
           r.province_name, r.prefecture_name,
           CASE WHEN f.score IS NOT NULL AND f.full_mark > 0 THEN f.score / f.full_mark END AS pct,
           CASE WHEN f.score IS NULL OR NOT f.full_mark > 0 THEN f.level END AS level
    FROM fact_score f
    JOIN dim_school s ON s.school_key = f.school_key
    JOIN dim_region r ON r.county_code = f.county_code
    LEFT JOIN dim_term t ON t.term_key = f.term_key
    LEFT JOIN dim_date d ON d.date = f.exam_date
    JOIN dim_school_year y ON y.school_year_key = coalesce(t.school_year_key, d.school_year_key)
    WHERE NOT f.absent
      AND f.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
      AND ($term IS NULL OR t.number = $term)
      AND ($exam_kind IS NULL OR f.exam_kind = $exam_kind)
      AND ($stage IS NULL OR left(f.grade_code, 1) = CASE $stage WHEN 'primary' THEN '1'
                                                                 WHEN 'junior' THEN '2'
                                                                 ELSE '3' END)
      AND ($grade IS NULL OR f.grade_code = $grade)
      AND ($subject IS NULL OR f.subject_code = $subject)
),
cells AS (
    SELECT m.school_year, m.term, m.exam_kind, m.grade_code, m.subject_code,
           sj.name_zh AS subject_name_zh, sj.name_en AS subject_name_en,
           CASE $level WHEN 'province' THEN m.province_code
                       WHEN 'prefecture' THEN left(m.county_code, 4)
                       WHEN 'county' THEN m.county_code
                       ELSE m.school_code END AS region_code,
           CASE $level WHEN 'province' THEN m.province_name
                       WHEN 'prefecture' THEN coalesce(m.prefecture_name, m.province_name)
                       WHEN 'county' THEN m.county_name
                       ELSE m.school_name END AS region_name,
           COUNT(CASE WHEN m.pct IS NOT NULL OR m.level IS NOT NULL THEN 1 END) AS sat,
           COUNT(CASE WHEN m.pct >= 0.6 OR m.level IN ('A', 'B', 'C') THEN 1 END) AS passed,
           COUNT(CASE WHEN m.pct >= 0.85 OR m.level = 'A' THEN 1 END) AS excellent
    FROM marks m
    LEFT JOIN subjects sj ON sj.code = m.subject_code
    GROUP BY ALL
)
SELECT school_year, term, exam_kind, grade_code, subject_code, subject_name_zh, subject_name_en,
       region_code, region_name, sat, passed, excellent,
       round(passed / NULLIF(sat, 0), 4) AS pass_rate,
       round(excellent / NULLIF(sat, 0), 4) AS excellent_rate
FROM cells
WHERE sat > 0
ORDER BY school_year, term, exam_kind, grade_code, subject_code, region_code
""",
    "score_distribution": """
WITH subjects AS (
    SELECT code, max_by(name_zh, valid_from) AS name_zh, max_by(name_en, valid_from) AS name_en
    FROM dim_code WHERE code_set = 'subject' GROUP BY code
),
marks AS (
    SELECT y.code AS school_year, t.number AS term, f.exam_kind, f.grade_code, f.subject_code,
           CASE WHEN f.score IS NOT NULL AND f.full_mark > 0
                THEN greatest(least(CAST(floor(10.0 * f.score / f.full_mark) AS INTEGER) * 10, 90), 0)
           END AS band_start,
           f.level
    FROM fact_score f
    JOIN dim_school s ON s.school_key = f.school_key
    LEFT JOIN dim_term t ON t.term_key = f.term_key
    LEFT JOIN dim_date d ON d.date = f.exam_date
    JOIN dim_school_year y ON y.school_year_key = coalesce(t.school_year_key, d.school_year_key)
    WHERE NOT f.absent
      AND f.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
      AND ($term IS NULL OR t.number = $term)
      AND ($exam_kind IS NULL OR f.exam_kind = $exam_kind)
      AND ($stage IS NULL OR left(f.grade_code, 1) = CASE $stage WHEN 'primary' THEN '1'
                                                                 WHEN 'junior' THEN '2'
                                                                 ELSE '3' END)
      AND ($grade IS NULL OR f.grade_code = $grade)
      AND ($subject IS NULL OR f.subject_code = $subject)
),
cells AS (
    SELECT m.school_year, m.term, m.exam_kind, m.grade_code, m.subject_code,
           sj.name_zh AS subject_name_zh, sj.name_en AS subject_name_en,
           CASE WHEN m.band_start IS NULL THEN 'level ' || m.level
                WHEN m.band_start = 90 THEN '90-100'
                ELSE CAST(m.band_start AS VARCHAR) || '-' || CAST(m.band_start + 9 AS VARCHAR)
           END AS band,
           m.band_start,
           COUNT(*) AS students
    FROM marks m
    LEFT JOIN subjects sj ON sj.code = m.subject_code
    WHERE m.band_start IS NOT NULL OR m.level IS NOT NULL
    GROUP BY ALL
)
SELECT * FROM cells
ORDER BY school_year, term, exam_kind, grade_code, subject_code, band_start, band
""",
    "evaluation_levels": """
WITH cells AS (
    SELECT y.code AS school_year,
           CASE $level WHEN 'province' THEN r.province_code
                       WHEN 'prefecture' THEN left(r.county_code, 4)
                       WHEN 'county' THEN r.county_code
                       ELSE s.school_code END AS region_code,
           CASE $level WHEN 'province' THEN r.province_name
                       WHEN 'prefecture' THEN coalesce(r.prefecture_name, r.province_name)
                       WHEN 'county' THEN r.county_name
                       ELSE s.school_name END AS region_name,
           v.dimension AS dimension,
           coalesce(v.level, '') AS evaluation_level,
           COUNT(DISTINCT v.student_key) AS students
    FROM fact_evaluation v
    JOIN dim_school_year y ON y.school_year_key = v.school_year_key
    JOIN dim_school s ON s.school_key = v.school_key
    JOIN dim_region r ON r.county_code = v.county_code
    LEFT JOIN dim_term t ON t.term_key = v.term_key
    WHERE v.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
      AND ($term IS NULL OR t.number = $term)
    GROUP BY ALL
)
SELECT school_year, region_code, region_name, dimension, evaluation_level, students,
       round(students / SUM(students) OVER (PARTITION BY school_year, region_code, dimension), 4)
           AS share
FROM cells
ORDER BY school_year, region_code, dimension, evaluation_level
""",
    "enrollment_by_ethnicity_detail": """
WITH names AS (
    SELECT code, max_by(name_zh, valid_from) AS name_zh, max_by(name_en, valid_from) AS name_en
    FROM dim_code WHERE code_set = 'ethnicity' GROUP BY code
),
cells AS (
    SELECT y.code AS school_year,
           CASE $level WHEN 'province' THEN r.province_code
                       WHEN 'prefecture' THEN left(r.county_code, 4)
                       WHEN 'county' THEN r.county_code
                       ELSE s.school_code END AS region_code,
           CASE $level WHEN 'province' THEN r.province_name
                       WHEN 'prefecture' THEN coalesce(r.prefecture_name, r.province_name)
                       WHEN 'county' THEN r.county_name
                       ELSE s.school_name END AS region_name,
           d.ethnicity AS ethnicity,
           COUNT(*) AS students
    FROM fact_enrollment f
    JOIN dim_student d ON d.student_key = f.student_key
    JOIN dim_school_year y ON y.school_year_key = f.school_year_key
    JOIN dim_school s ON s.school_key = f.school_key
    JOIN dim_region r ON r.county_code = f.county_code
    WHERE f.is_active
      AND f.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
      AND ($stage IS NULL OR f.stage = $stage)
    GROUP BY ALL
)
SELECT c.school_year, c.region_code, c.region_name, c.ethnicity,
       n.name_zh AS ethnicity_name_zh, n.name_en AS ethnicity_name_en,
       c.students,
       round(c.students / SUM(c.students) OVER (PARTITION BY c.school_year, c.region_code), 4)
           AS share
FROM cells c
LEFT JOIN names n ON n.code = c.ethnicity
ORDER BY c.school_year, c.region_code, c.ethnicity
""",
}


def rebuild_rollups(conn: duckdb.DuckDBPyConnection) -> None:
    """The rollups again from the facts of `conn`, with the ETL's SQL (as a new snapshot would
    have them); the as-of time is the snapshot's."""
    as_of = conn.execute("SELECT MAX(as_of) FROM meta_manifest").fetchone()
    assert as_of is not None
    conn.execute("SET VARIABLE xueji_as_of = CAST(? AS TIMESTAMP)", [as_of[0]])
    for name in ROLLUPS + TEACHING_ROLLUPS:
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


# Values of the filters besides region, school, level and school year: each one alone (for the
# enrollment metrics: every stage, as before), then the teaching filters together. The months
# and subjects are those of the awkward cases and of the demo teaching records.
FILTER_VALUES: dict[str, list[Any]] = {
    "stage": ["junior", "senior"],
    "month": [date(2026, 12, 1), date(2026, 10, 1), date(2026, 8, 1)],
    "term": [1, 2],
    "exam_kind": ["final", "midterm"],
    "grade": ["21"],
    "subject": ["r_math", "math"],
}
TOGETHER = {"term": 1, "exam_kind": "final", "stage": "junior", "grade": "21", "subject": "r_math"}


def _filters(params: tuple[str, ...]) -> list[dict[str, Any]]:
    none: dict[str, Any] = dict.fromkeys(FILTER_VALUES)
    out = [none] + [
        none | {p: v} for p, values in FILTER_VALUES.items() if p in params for v in values
    ]
    together = {p: v for p, v in TOGETHER.items() if p in params}
    if len(together) > 1:
        out.append(none | together)
    return out


def _cases(conn: duckdb.DuckDBPyConnection, metric: str) -> Iterator[dict[str, Any]]:
    m = load_catalog()[metric]
    # The default year and the two with awkward cases (the first has none).
    years = [None] + [
        r[0] for r in conn.execute("SELECT code FROM dim_school_year ORDER BY seq").fetchall()
    ][-2:]
    levels = ["province", "prefecture", "county", "school"] if "level" in m.params else [None]
    if "school_year" not in m.params:
        years = [None]
    scopes = _scopes(conn)
    # Every scope, level and year without a filter, and with each stage where stage is the only
    # filter (as before the teaching metrics); the teaching filters on fewer scopes (the nation,
    # each province, a school), levels and years, to keep the run short.
    few = [s for s in scopes if len(s.region_prefix) <= 2]
    few += [s for s in scopes if s.school_code is not None][:1]
    few_levels = [v for v in levels if v in ("county", "school", None)]
    stage_only = set(m.params) & set(FILTER_VALUES) <= {"stage"}
    for filters in _filters(m.params):
        if not any(v is not None for v in filters.values()) or stage_only:
            cases = product(scopes, levels, years)
        else:
            cases = product(few, few_levels, [y for y in years if y] or years)
        for scope, level, year in cases:
            yield {
                "region_prefix": scope.region_prefix,
                "school_code": scope.school_code,
                "level": level or default_level(scope),
                "school_year": year,
                **filters,
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


# --- teaching records, evaluations, ethnicity -------------------------------------------------


@pytest.fixture(scope="module")
def teaching_file(warehouse: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot built by the ETL from a copy of the seeded registry with the demo teaching
    records of `xueji seed-teaching` (attendance up to the seed's today, exams and scores, final
    evaluations of the finished terms of 2025-2026)."""
    folder = tmp_path_factory.mktemp("rollups-teaching")
    source = folder / "xueji.db"
    shutil.copyfile(warehouse["sqlite_path"], source)
    url = f"sqlite:///{source}"
    engine = create_engine(url)
    try:
        seed_teaching(engine, TeachingOptions(seed=5, today=SEED_TODAY))
    finally:
        engine.dispose()
    manifest = pipeline.run(
        url, folder / "wh", pseudonym_key=KEY, mode="full", progress=NullProgress()
    )
    return folder / "wh" / manifest.file


@pytest.fixture(scope="module")
def teaching_conn(teaching_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = duckdb.connect(str(teaching_file), read_only=True)
    yield conn
    conn.close()


# Attendance of school A's students (index into its 2026-2027 students) in months the demo
# records do not reach (they stop at the seed's today, 2026-11-28): December 2026 has 23 school
# days (10 % = 2.3 days), January 2027 14 (1-20 January, then holidays), February 2027 5
# (the spring term starts on the 20th: 10 % = 0.5 day), August 2026 none (2025-2026 between
# terms); 15 August 2024 is in no school year. (student, school, day, kind, periods, days)
ATTENDANCE_CASES: list[tuple[int, str, date, str, int | None, float | None]] = [
    (0, "A", date(2026, 12, 1), "sick", None, 1.0),
    (0, "A", date(2027, 1, 5), "sick", None, 2.0),  # absent in two months
    (1, "A", date(2026, 12, 2), "truancy", None, 1.0),
    (1, "N1", date(2026, 12, 14), "truancy", None, 1.0),  # two schools of a county, one month
    (1, "N3", date(2026, 12, 15), "sick", None, 3.0),  # and a third school in the province
    *[(2, "A", date(2026, 12, d), "personal", None, 0.5) for d in (7, 8, 9, 10, 11)],  # 2.5
    *[(3, "A", date(2026, 12, d), "sick", None, 0.5) for d in (14, 15, 16, 17)],  # 2.0
    (4, "A", date(2026, 12, 16), "late", 2, 0.0),  # lessons only, days 0
    (5, "A", date(2026, 12, 16), "truancy", 3, None),  # lessons only, days NULL
    (5, "A", date(2026, 12, 17), "truancy", 1, None),
    (6, "A", date(2026, 12, 3), "sick", None, 1.0),
    (6, "A", date(2026, 12, 4), "sick", None, -1.0),  # a correction: net 0 days
    (10, "A", date(2026, 12, 5), "sick", None, 1.0),  # a Saturday
    (11, "B", date(2026, 12, 1), "personal", None, 0.5),
    (12, "N2", date(2027, 1, 25), "sick", None, 3.0),  # holidays, still the school year
    (8, "A", date(2027, 2, 22), "sick", None, 0.5),  # exactly 10 % of February's school days
    (9, "A", date(2027, 2, 10), "sick", None, 0.5),  # before the term starts, same month
    (7, "A", date(2026, 8, 20), "sick", None, 1.0),  # a month without school days
    (7, "A", date(2024, 8, 15), "sick", None, 1.0),  # no school year: left out
]

# Exams of the awkward cases, on subjects of their own (r_…): (exam key, school, term (year,
# number) or None, exam date, grade, exam kind, subject, [(score, full mark, level, 缺考), …]).
EXAM_CASES: list[
    tuple[
        int,
        str,
        tuple[str, int] | None,
        date | None,
        str | None,
        str | None,
        str,
        list[tuple[float | None, float | None, str | None, bool]],
    ]
] = [
    (
        990001,
        "A",
        ("2026-2027", 1),
        date(2027, 1, 12),
        "21",
        "final",
        "r_math",
        [
            (60, 100, None, False),  # exactly 60 %
            (85, 100, None, False),  # exactly 85 %
            (59.5, 100, None, False),
            (84.99, 100, None, False),
            (100, 100, None, False),
            (110, 100, None, False),  # above the full mark: 90-100
            (-5, 100, None, False),  # below 0: 0-9
            (5, 0, "B", False),  # full mark 0: a score, no percentage; passes by its level
            (50, None, "A", False),  # no full mark: a score, no percentage, not graded
            (None, 100, "C", False),  # graded by level only
            (None, 100, None, False),  # nothing to count
            (None, 100, None, True),  # 缺考
            (99, 100, None, True),  # 缺考 with a score: left out of every figure
        ],
    ),
    (
        990002,
        "N1",
        ("2026-2027", 1),
        date(2027, 1, 12),
        "21",
        "final",
        "r_math",
        [(72, 120, None, False), (108, 120, None, False), (119, 120, None, False)],
    ),
    # No term: the school year of the exam date; without a date, or outside every school year,
    # the scores are left out.
    (
        990003,
        "A",
        None,
        date(2026, 12, 20),
        "21",
        "midterm",
        "r_math",
        [(70, 100, None, False), (80, 100, None, False)],
    ),
    (990004, "A", None, None, "21", "midterm", "r_math", [(90, 100, None, False)]),
    (990005, "A", None, date(2024, 8, 15), "21", "midterm", "r_math", [(90, 100, None, False)]),
    (
        990006,
        "B",
        ("2026-2027", 2),
        date(2027, 3, 10),
        "22",
        "monthly",
        "r_art",
        [(None, None, lv, False) for lv in ("A", "A", "B", "D", None)],
    ),
    # Mean 80.125, exactly representable: rounds to 80.13 both ways. No exam kind.
    (
        990007,
        "N2",
        ("2025-2026", 1),
        date(2025, 12, 20),
        "23",
        None,
        "r_physics",
        [(80, 100, None, False)] * 7 + [(81, 100, None, False)],
    ),
    (
        990008,
        "N3",
        ("2026-2027", 1),
        date(2027, 1, 12),
        None,
        "final",
        "r_math",
        [(72.35, 100, None, False), (88.15, 100, None, False), (91.7, 100, None, False)],
    ),
    (
        990009,
        "C",
        ("2026-2027", 1),
        date(2027, 1, 12),
        "21",
        "final",
        "r_chinese",
        [(None, 120, None, True), (None, 120, None, True)],  # only 缺考
    ),
]

# Evaluations in 2026-2027 (the demo records have none: no term of it is finished):
# (student, school, term number or None for a yearly evaluation, dimension, level).
EVALUATION_CASES: list[tuple[int, str, int | None, str, str | None]] = [
    (20, "A", 1, "moral", "A"),
    (20, "A", 2, "moral", "A"),  # both terms, one level: once in the year
    (21, "A", 1, "moral", "A"),
    (21, "A", 2, "moral", "B"),  # two levels: once in each
    (22, "A", 1, "moral", "B"),
    (22, "N1", 2, "moral", "B"),  # moved within the county
    (23, "A", 1, "arts", "A"),
    (23, "N2", 1, "arts", "A"),  # one term at two schools of a prefecture
    (24, "A", 2, "arts", "C"),
    (24, "N3", 2, "arts", "C"),
    (24, "B", 2, "arts", "C"),  # three schools, two provinces
    (25, "A", None, "health", "A"),
    (25, "A", 1, "health", "A"),  # a yearly and a term evaluation
    (26, "A", 1, "health", None),
    (26, "N1", 2, "health", ""),  # no level and an empty one: the same '' level
    (27, "N2", None, "practice", "D"),  # yearly only
]


def _teaching_schools(conn: duckdb.DuckDBPyConnection) -> dict[str, synthetic.School]:
    """A, B, C and the new schools N1-N3 of add_awkward_cases (keys 990001-990003)."""
    found = dict(synthetic.schools(conn))
    for n in (1, 2, 3):
        key, code, county, province = conn.execute(
            "SELECT school_key, school_code, county_code, province_code FROM dim_school "
            "WHERE school_key = ?",
            [990000 + n],
        ).fetchall()[0]
        found[f"N{n}"] = synthetic.School(key, code, county, province)
    return found


def add_teaching_cases(conn: duckdb.DuckDBPyConnection) -> None:
    """The awkward teaching facts above (after add_awkward_cases, which adds N1-N3)."""
    s = _teaching_schools(conn)
    pool = synthetic.students(conn, s["A"], "2026-2027")
    for i, school, day, kind, periods, days in ATTENDANCE_CASES:
        u = s[school]
        conn.execute(
            "INSERT INTO fact_attendance BY NAME SELECT ? AS student_key, ? AS school_key, "
            "? AS county_code, ? AS province_code, ? AS date, ? AS kind, ? AS periods, ? AS days",
            [pool[i], u.key, u.county, u.province, day, kind, periods, days],
        )
    terms = {
        (code, number): key
        for key, code, number in conn.execute(
            "SELECT t.term_key, y.code, t.number FROM dim_term t "
            "JOIN dim_school_year y ON y.school_year_key = t.school_year_key"
        ).fetchall()
    }
    for exam, school, term, day, grade, kind, subject, marks in EXAM_CASES:
        u = s[school]
        for i, (score, full, level, absent) in enumerate(marks):
            conn.execute(
                "INSERT INTO fact_score BY NAME SELECT ? AS student_key, ? AS exam_key, "
                "? AS school_key, ? AS county_code, ? AS province_code, ? AS term_key, "
                "? AS grade_code, ? AS exam_kind, ? AS exam_date, ? AS subject_code, "
                "? AS score, ? AS full_mark, ? AS level, ? AS absent",
                [
                    pool[i],
                    exam,
                    u.key,
                    u.county,
                    u.province,
                    terms[term] if term else None,
                    grade,
                    kind,
                    day,
                    subject,
                    score,
                    full,
                    level,
                    absent,
                ],
            )
    year = synthetic.year_key(conn, "2026-2027")
    # Two active enrollments of one student at A in a year: the raw SQL counts enrollments.
    conn.execute(
        "INSERT INTO fact_enrollment SELECT * FROM fact_enrollment WHERE student_key = ? "
        "AND school_year_key = ? AND school_key = ? AND is_active",
        [pool[30], year, s["A"].key],
    )
    for i, school, number, dimension, level in EVALUATION_CASES:
        u = s[school]
        conn.execute(
            "INSERT INTO fact_evaluation BY NAME SELECT ? AS student_key, ? AS school_key, "
            "? AS county_code, ? AS province_code, ? AS school_year_key, ? AS term_key, "
            "? AS dimension, ? AS level",
            [
                pool[i],
                u.key,
                u.county,
                u.province,
                year,
                terms[("2026-2027", number)] if number else None,
                dimension,
                level,
            ],
        )


@pytest.fixture(scope="module")
def teaching_edge_conn(
    teaching_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[duckdb.DuckDBPyConnection]:
    target: Path = tmp_path_factory.mktemp("rollups-teaching") / "awkward.duckdb"
    shutil.copyfile(teaching_file, target)
    with duckdb.connect(str(target)) as conn:
        add_awkward_cases(conn)
        add_teaching_cases(conn)
        rebuild_rollups(conn)
    conn = duckdb.connect(str(target), read_only=True)
    yield conn
    conn.close()


@pytest.mark.parametrize("metric", TEACHING_METRICS)
def test_teaching_rollup_gives_the_raw_fact_rows_on_the_built_snapshot(teaching_conn, metric):
    assert _compare(teaching_conn, metric) > 0


@pytest.mark.parametrize("metric", TEACHING_METRICS)
def test_teaching_rollup_gives_the_raw_fact_rows_with_awkward_cases(teaching_edge_conn, metric):
    assert _compare(teaching_edge_conn, metric) > 0


def _rows(conn: duckdb.DuckDBPyConnection, metric: str, **bound: Any) -> list[dict[str, Any]]:
    """The metric (new SQL) as dicts; unspecified parameters are NULL."""
    values: dict[str, Any] = {"region_prefix": "", "school_code": None, "level": "school"}
    values |= dict.fromkeys(FILTER_VALUES) | {"school_year": "2026-2027"} | bound
    cols, rows = _run(conn, load_catalog()[metric].sql, values)
    return [dict(zip(cols, row, strict=True)) for row in rows]


def test_awkward_attendance_reaches_the_figures(teaching_edge_conn):
    """Worked out by hand from ATTENDANCE_CASES (no demo record is in those months)."""
    s = _teaching_schools(teaching_edge_conn)
    a = s["A"]
    dec = date(2026, 12, 1)
    (rate,) = _rows(
        teaching_edge_conn, "attendance_rate_by_school_month", school_code=a.code, month=dec
    )
    # 1 + 1 + 5 × 0.5 + 4 × 0.5 + 0 (lessons only) + (1 - 1) + 1 (Saturday)
    assert rate["absence_days"] == 7.5 and rate["periods_missed"] == 6
    assert rate["absent_students"] == 6 and rate["school_days"] == 23  # 0, 1, 2, 3, 6, 10
    (chronic,) = _rows(teaching_edge_conn, "chronic_absence", school_code=a.code, month=dec)
    assert chronic["absent_students"] == 5  # the correction nets student 6 to 0 days
    assert chronic["chronically_absent"] == 1  # five half days (2.5 ≥ 2.3); 2.0 is not
    # A's county holds A and N1: student 1 counts at both schools, as the raw SQL sums them.
    (county,) = _rows(
        teaching_edge_conn, "chronic_absence", region_prefix=a.county, level="county", month=dec
    )
    assert county["absent_students"] == 5 + 1
    (province,) = _rows(
        teaching_edge_conn, "chronic_absence", region_prefix="64", level="province", month=dec
    )
    assert province["absent_students"] == 5 + 2 and province["chronically_absent"] == 1 + 1
    feb = _rows(teaching_edge_conn, "chronic_absence", school_code=a.code, month=date(2027, 2, 1))
    assert [(r["school_days"], r["chronically_absent"]) for r in feb] == [(5, 2)]
    aug = _rows(
        teaching_edge_conn,
        "attendance_rate_by_school_month",
        school_code=a.code,
        school_year="2025-2026",
        month=date(2026, 8, 1),
    )
    assert [(r["school_days"], r["attendance_rate"], r["absence_days"]) for r in aug] == [
        (None, None, 1.0)
    ]


def test_awkward_scores_reach_the_figures(teaching_edge_conn):
    """Worked out by hand from exam 990001 (school A, r_math)."""
    a = _teaching_schools(teaching_edge_conn)["A"]
    bound = {"school_code": a.code, "subject": "r_math", "term": 1}
    (means,) = _rows(teaching_edge_conn, "subject_means", **bound)
    # Scores of the 9 present rows with a score; percentages of the 7 with a full mark > 0.
    assert (means["sat"], means["absent"], means["full_mark"]) == (9, 2, 100)
    assert means["mean_score"] == round(549.49 / 9, 2)
    assert means["mean_pct"] == round(494.49 / 7, 2)
    (rates,) = _rows(teaching_edge_conn, "pass_excellent_rates", **bound)
    assert (rates["sat"], rates["passed"], rates["excellent"]) == (9, 7, 3)
    bands = {
        r["band"]: r["students"] for r in _rows(teaching_edge_conn, "score_distribution", **bound)
    }
    assert bands == {
        "0-9": 1,
        "50-59": 1,
        "60-69": 1,
        "80-89": 2,
        "90-100": 2,
        "level A": 1,
        "level B": 1,
        "level C": 1,
    }
    # Without a term: the exam dated 20 December 2026 (term NULL) is in its school year.
    no_term = _rows(teaching_edge_conn, "subject_means", school_code=a.code, subject="r_math")
    assert [(r["term"], r["exam_kind"], r["sat"]) for r in no_term] == [
        (1, "final", 9),
        (None, "midterm", 2),
    ]
    only_absent = _rows(teaching_edge_conn, "subject_means", subject="r_chinese", level="province")
    assert [(r["sat"], r["absent"], r["mean_score"]) for r in only_absent] == [(0, 2, None)]


def test_awkward_evaluations_are_counted_once_per_region(teaching_edge_conn):
    """Distinct students per region, dimension and level, in the year or in a term."""
    a = _teaching_schools(teaching_edge_conn)["A"]

    def counts(**bound: Any) -> dict[tuple[str, str], int]:
        return {
            (r["dimension"], r["evaluation_level"]): r["students"]
            for r in _rows(teaching_edge_conn, "evaluation_levels", **bound)
        }

    county = counts(region_prefix=a.county, level="county")
    assert county[("moral", "A")] == 2 and county[("moral", "B")] == 2  # 20, 21; 21, 22
    assert county[("health", "A")] == 1 and county[("health", "")] == 1
    assert counts(region_prefix=a.county, level="county", term=1)[("moral", "B")] == 1
    prefecture = counts(region_prefix=a.county[:4], level="prefecture", term=1)
    assert prefecture[("arts", "A")] == 1  # student 23 at A and N2 in one term
    assert counts(region_prefix="64", level="province")[("arts", "C")] == 1
    national = _rows(teaching_edge_conn, "evaluation_levels", level="province")
    assert sum(r["students"] for r in national if r["dimension"] == "arts") == 1 + 1 + 1
    n1 = _teaching_schools(teaching_edge_conn)["N1"]
    schools = {
        (r["region_code"], r["dimension"], r["evaluation_level"]): r["students"]
        for r in _rows(teaching_edge_conn, "evaluation_levels", region_prefix=a.county)
    }
    assert schools[(a.code, "moral", "B")] == 2 and schools[(n1.code, "moral", "B")] == 1


def test_agg_evaluation_built_in_slices_of_students_equals_one_pass(teaching_edge_conn, tmp_path):
    """The ETL builds agg_evaluation a slice of students at a time (transform.SLICED) and adds
    the slices up: the same rows as the one-pass SQL, transfers between schools included."""
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS w")
    transform.create_tables(con, "w")
    for table in ("fact_evaluation", "dim_term"):
        path = tmp_path / f"{table}.parquet"
        teaching_edge_conn.execute(f"COPY {table} TO '{path}' (FORMAT parquet)")
        con.execute(f"INSERT INTO w.{table} SELECT * FROM '{path}'")
    columns = ", ".join(schema.tables()["agg_evaluation"].column_names)
    one_pass = TABLE_SQL["agg_evaluation"].replace("wh.", "w.")
    expected = sorted(con.execute(f"SELECT {columns} FROM ({one_pass})").fetchall(), key=repr)
    assert len(expected) > 50 and any(row[7] > 0 for row in expected)  # distinct_level > 0
    for slices in (2, 3, 7):
        con.execute("DELETE FROM w.agg_evaluation")
        transform.insert_sliced(con, "agg_evaluation", slices, catalog="w")
        got = con.execute(f"SELECT {columns} FROM w.agg_evaluation").fetchall()
        assert sorted(got, key=repr) == expected, slices


def test_the_etl_checks_the_teaching_rollups(teaching_conn):
    """Built by the pipeline, summed up against their facts, scanned for personal data."""
    rows = teaching_conn.execute(
        "SELECT table_name, check_name, status FROM meta_check WHERE table_name IN "
        "(SELECT unnest(?))",
        [list(TEACHING_ROLLUPS)],
    ).fetchall()
    for table in TEACHING_ROLLUPS:
        mine = {(check, status) for t, check, status in rows if t == table}
        assert ("derived", "pass") in mine and ("privacy", "pass") in mine, table
        assert all(status in ("pass", "skip") for _check, status in mine), (table, mine)
        (n,) = teaching_conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        assert n > 0, table
