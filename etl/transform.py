"""Transform: staged extracts (schema `stg` of the in-memory staging database) → the star schema
of etl/schema.sql in the attached snapshot file (catalog `wh`).

Each warehouse table is one SELECT in `TABLE_SQL`, inserted BY NAME into the table created from
schema.sql. People only ever enter `wh` through an HMAC key (`stg.*_map` tables); the staged
source rows stay in memory and are dropped with the staging database.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

import duckdb

from . import _duck, schema
from .pseudonymize import hmac_sql

# Code sets the ETL introduces for derived columns (added only when the registry has no code
# set of that name): (code_set, name_zh, name_en, [(code, name_zh, name_en), …]).
ETL_CODE_SETS: tuple[tuple[str, str, str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "ethnicity_group",
        "民族分组",
        "Ethnic group (Han / minority)",
        (("han", "汉族", "Han"), ("minority", "少数民族", "Ethnic minority")),
    ),
    (
        "id_doc_type_class",
        "身份证件类别",
        "Identity document class",
        (
            ("resident_id", "居民身份证", "Resident identity card"),
            ("other", "其他证件", "Another identity document"),
            ("none", "无证件号码", "No document number"),
        ),
    ),
    (
        "number_kind",
        "学籍号类别",
        "Student number kind",
        (
            ("G", "正式学籍号(身份证号)", "Official number from the citizen ID"),
            ("J", "正式学籍号(无身份证号)", "Official number without a citizen ID"),
            ("L", "临时学籍号", "Temporary number"),
        ),
    ),
    (
        "request_state",
        "异动申请状态",
        "Status change request state",
        (
            ("draft", "草稿", "Draft"),
            ("submitted", "已提交", "Submitted"),
            ("effective", "已生效", "Effective"),
            ("rejected", "已驳回", "Rejected"),
            ("cancelled", "已撤销", "Cancelled"),
            ("purged", "已清理", "Purged"),
        ),
    ),
    (
        "step_state",
        "审批环节状态",
        "Approval step state",
        (
            ("waiting", "等待", "Waiting"),
            ("pending", "待审核", "Pending"),
            ("approved", "已通过", "Approved"),
            ("rejected", "已驳回", "Rejected"),
            ("cancelled", "已撤销", "Cancelled"),
            ("escalated", "已强制干预", "Escalated"),
        ),
    ),
    (
        "change_scope",
        "异动范围",
        "Status change scope",
        (
            ("single_school", "校内", "Within the school"),
            ("same_county", "县内", "Within the county"),
            ("cross_county", "跨县", "Across counties"),
            ("cross_province", "跨省", "Across provinces"),
        ),
    ),
    (
        "unit_kind",
        "审批单位类别",
        "Approving unit kind",
        # The registry's approving units (admin.domain.workflow.UNIT_KINDS; a test keeps the
        # two equal): other codes made the codes check refuse every snapshot with a request.
        (
            ("school_registrar", "学校学籍管理员", "School registrar"),
            ("school_leader", "学校学籍主管领导", "School leader in charge of student records"),
            ("county_bureau", "县级教育行政部门", "County education bureau"),
            ("province_bureau", "省级教育行政部门", "Provincial education department"),
        ),
    ),
    (
        "flow",
        "学生流向",
        "Progression flow",
        (
            ("promoted", "升级", "Promoted to the next grade"),
            ("repeated", "留级", "Repeated the grade"),
            ("skipped", "跳级", "Skipped a grade"),
            ("progressed", "升学", "Moved up to the next stage"),
            ("left", "离开", "Not enrolled the next year"),
            ("other", "其他", "Other"),
        ),
    ),
)

# Helpers used by the SELECTs; temporary macros of the staging connection (never in `wh`).
MACROS = (
    "CREATE OR REPLACE TEMP MACRO xj_stage(g) AS CASE left(g, 1) WHEN '1' THEN 'primary' "
    "WHEN '2' THEN 'junior' WHEN '3' THEN 'senior' END",
    "CREATE OR REPLACE TEMP MACRO xj_stage_ord(s) AS CASE s WHEN 'primary' THEN 1 "
    "WHEN 'junior' THEN 2 WHEN 'senior' THEN 3 END",
    # Position of a grade in the 12 years of schooling, given the school's 小学学制.
    "CREATE OR REPLACE TEMP MACRO xj_grade_ord(g, py) AS CASE left(g, 1) "
    "WHEN '1' THEN TRY_CAST(right(g, 1) AS INTEGER) "
    "WHEN '2' THEN py + TRY_CAST(right(g, 1) AS INTEGER) "
    "WHEN '3' THEN 9 + TRY_CAST(right(g, 1) AS INTEGER) END",
    "CREATE OR REPLACE TEMP MACRO xj_last_grade(s, py) AS CASE s WHEN 'primary' THEN '1' || py "
    "WHEN 'junior' THEN '2' || (9 - py) WHEN 'senior' THEN '33' END",
    # Monday-Friday days in (a, b]: 5 per full week plus the weekdays of the remainder.
    "CREATE OR REPLACE TEMP MACRO xj_workdays(a, b) AS CASE WHEN a IS NULL OR b IS NULL "
    "OR b < a THEN NULL ELSE CAST(5 * (date_diff('day', a, b) // 7) + len(list_filter("
    "range(1, (date_diff('day', a, b) % 7) + 1), lambda i: ((isodow(a) - 1 + i) % 7) < 5)) "
    "AS INTEGER) END",
    # Registry timestamps are naive UTC (models.utcnow); days are local calendar days.
    "CREATE OR REPLACE TEMP MACRO xj_day(ts) AS CAST(timezone(getvariable('xueji_tz'), "
    "timezone('UTC', CAST(ts AS TIMESTAMP))) AS DATE)",
    "CREATE OR REPLACE TEMP MACRO xj_as_of_date() AS xj_day(getvariable('xueji_as_of'))",
)

# Pseudonym maps: source id → HMAC key. Built once; facts join them.
MAPS: dict[str, tuple[str, str, str]] = {
    # map table: (source table, key kind, key column)
    "student_map": ("student", "student", "student_key"),
    "class_map": ("school_class", "class", "class_key"),
    "request_map": ("status_change_request", "status_change", "request_key"),
}

TABLE_SQL: dict[str, str] = {
    "dim_region": """
WITH r AS (SELECT * FROM stg.region),
parents AS (SELECT DISTINCT parent_code AS code FROM r WHERE level = 3 AND parent_code IS NOT NULL),
units AS (
    SELECT * FROM r WHERE level = 3
    UNION ALL
    SELECT * FROM r WHERE level = 2
      AND (code NOT IN (SELECT code FROM parents)
           OR code IN (SELECT region_code FROM stg.school))
),
provinces AS (
    SELECT province_code, arg_max(name, coalesce(valid_to, DATE '9999-12-31')) AS name
    FROM r WHERE level = 1 GROUP BY province_code
)
SELECT u.code AS county_code, u.name AS county_name,
       CASE WHEN u.level = 2 THEN u.code WHEN p.level = 2 THEN p.code END AS prefecture_code,
       CASE WHEN u.level = 2 THEN u.name WHEN p.level = 2 THEN p.name END AS prefecture_name,
       u.province_code AS province_code, coalesce(pr.name, '') AS province_name,
       u.level AS level, u.valid_from AS valid_from, u.valid_to AS valid_to
FROM units u
LEFT JOIN r p ON p.code = u.parent_code
LEFT JOIN provinces pr ON pr.province_code = u.province_code
""",
    "dim_school": """
SELECT s.id AS school_key, s.code AS school_code, s.name AS school_name, s.kind AS kind,
       s.primary_years AS primary_years, s.region_code AS county_code,
       left(s.region_code, 2) AS province_code, s.urban_rural AS urban_rural,
       left(s.urban_rural, 1) = '1' AS is_urban, s.is_active AS is_active
FROM stg.school s
""",
    "dim_school_year": """
WITH cur AS (
    SELECT id FROM stg.school_year WHERE start_date <= xj_as_of_date()
    ORDER BY (xj_as_of_date() <= end_date) DESC, start_date DESC LIMIT 1
)
SELECT y.id AS school_year_key, y.code AS code, year(y.start_date) AS start_year,
       y.start_date AS start_date, y.end_date AS end_date,
       row_number() OVER (ORDER BY y.start_date, y.id) AS seq,
       coalesce(y.id = (SELECT id FROM cur), false) AS is_current
FROM stg.school_year y
""",
    "dim_term": """
SELECT t.id AS term_key, t.school_year_id AS school_year_key, t.number AS number,
       t.start_date AS start_date, t.end_date AS end_date
FROM stg.term t
""",
    "dim_class": """
SELECT m.class_key AS class_key, c.school_id AS school_key, c.school_year_id AS school_year_key,
       s.region_code AS county_code, left(s.region_code, 2) AS province_code,
       c.grade_code AS grade_code, xj_stage(c.grade_code) AS stage, c.number AS class_number
FROM stg.school_class c
LEFT JOIN stg.class_map m ON m.id = c.id
LEFT JOIN stg.school s ON s.id = c.school_id
""",
    "dim_code_set": """
SELECT code_set, name_zh, name_en, standard, 'registry' AS origin FROM stg.code_set
UNION ALL
SELECT code_set, name_zh, name_en, 'XueJi warehouse' AS standard, 'etl' AS origin
FROM stg.etl_code_set WHERE code_set NOT IN (SELECT code_set FROM stg.code_set)
""",
    "dim_code": """
SELECT code_set, code, valid_from, valid_to, name_zh, name_en, parent_code, std_code,
       sort_order, 'registry' AS origin
FROM stg.code_item
UNION ALL
SELECT code_set, code, DATE '1900-01-01' AS valid_from, NULL AS valid_to, name_zh, name_en,
       NULL AS parent_code, NULL AS std_code, sort_order, 'etl' AS origin
FROM stg.etl_code WHERE code_set NOT IN (SELECT code_set FROM stg.code_set)
""",
    "dim_student": """
SELECT m.student_key AS student_key, s.sex AS sex,
       year(s.birth_date) AS birth_year, month(s.birth_date) AS birth_month,
       s.ethnicity AS ethnicity,
       CASE WHEN s.ethnicity = '01' THEN 'han' ELSE 'minority' END AS ethnicity_group,
       s.hukou_type AS hukou_type, left(s.hukou_region_code, 6) AS hukou_county_code,
       left(s.hukou_region_code, 2) AS hukou_province_code,
       s.migrant_child AS migrant_child, s.left_behind AS left_behind,
       s.disability AS disability, s.inclusive_education AS inclusive_education,
       s.only_child AS only_child, s.preschool AS preschool, s.needs_aid AS needs_aid,
       s.boarding_subsidy AS boarding_subsidy,
       CASE WHEN s.id_doc_type = '1' AND s.has_id_number THEN 'resident_id'
            WHEN s.id_doc_type = 'Z' OR NOT s.has_id_number THEN 'none'
            ELSE 'other' END AS id_doc_type_class,
       s.student_number_kind AS number_kind, s.current_status AS current_status,
       s.current_school_id AS current_school_key, sc.region_code AS current_county_code,
       left(sc.region_code, 2) AS current_province_code,
       s.current_grade_code AS current_grade_code, xj_stage(s.current_grade_code) AS current_stage
FROM stg.student s
LEFT JOIN stg.student_map m ON m.id = s.id
LEFT JOIN stg.school sc ON sc.id = s.current_school_id
""",
    "fact_enrollment": """
SELECT sm.student_key AS student_key, e.school_year_id AS school_year_key,
       e.school_id AS school_key, cm.class_key AS class_key,
       sc.region_code AS county_code, left(sc.region_code, 2) AS province_code,
       e.grade_code AS grade_code, xj_stage(e.grade_code) AS stage, e.is_active AS is_active,
       e.entry_date AS entry_date,
       date_sub('year', st.birth_date, make_date(year(sy.start_date), 9, 1)) AS age_sep1,
       e.admission_method AS admission_method, e.study_mode AS study_mode,
       e.student_source AS student_source, e.ended_on AS ended_on, e.end_reason AS end_reason
FROM stg.enrollment e
LEFT JOIN stg.student_map sm ON sm.id = e.student_id
LEFT JOIN stg.student st ON st.id = e.student_id
LEFT JOIN stg.class_map cm ON cm.id = e.class_id
LEFT JOIN stg.school sc ON sc.id = e.school_id
LEFT JOIN stg.school_year sy ON sy.id = e.school_year_id
""",
    "fact_student_number": """
SELECT sm.student_key AS student_key, h.kind AS kind,
       xj_day(h.issued_at) AS issued_date, xj_day(h.superseded_at) AS superseded_date,
       h.superseded_at IS NULL AS is_current,
       date_diff('day', xj_day(h.issued_at), xj_day(h.superseded_at))
           AS days_to_supersede,
       sc.region_code AS county_code, left(sc.region_code, 2) AS province_code
FROM stg.student_number_history h
LEFT JOIN stg.student_map sm ON sm.id = h.student_id
LEFT JOIN stg.student st ON st.id = h.student_id
LEFT JOIN stg.school sc ON sc.id = st.current_school_id
""",
    # The rows extracted this run (all of them in full mode, the reopened requests'
    # steps in incremental mode); stg.carry_fact_status_change_step holds the rest.
    "fact_status_change_step": """
SELECT {step_key} AS step_key, rm.request_key AS request_key, st.seq AS seq,
       st.unit_kind AS unit_kind, st.school_id AS school_key, st.region_code AS region_code,
       coalesce(sc.region_code,
                CASE WHEN st.region_code IN (SELECT county_code FROM wh.dim_region)
                     THEN st.region_code END,
                rc.county_code) AS county_code,
       coalesce(left(coalesce(sc.region_code,
                              CASE WHEN st.region_code IN (SELECT county_code FROM wh.dim_region)
                                   THEN st.region_code END,
                              rc.county_code), 2),
                left(st.region_code, 2)) AS province_code,
       st.state AS state, st.decision AS decision, st.due_date AS due_date,
       xj_day(st.acted_at) AS acted_date,
       epoch(st.acted_at - coalesce(
           lag(st.acted_at) OVER (PARTITION BY st.request_id ORDER BY st.seq),
           r.submitted_at)) / 86400.0 AS wait_days,
       CASE WHEN st.due_date IS NULL THEN NULL
            WHEN st.acted_at IS NOT NULL THEN xj_day(st.acted_at) > st.due_date
            ELSE xj_as_of_date() > st.due_date END AS overdue
FROM stg.status_change_step st
LEFT JOIN stg.request_map rm ON rm.id = st.request_id
LEFT JOIN stg.status_change_request r ON r.id = st.request_id
LEFT JOIN stg.school sc ON sc.id = st.school_id
LEFT JOIN stg.request_county rc ON rc.id = st.request_id
""",
    "fact_status_change": """
SELECT rm.request_key AS request_key, sm.student_key AS student_key,
       r.change_type AS change_type, r.reason_code AS reason_code, r.state AS state,
       r.scope AS scope, r.from_school_id AS from_school_key, r.to_school_id AS to_school_key,
       fs.region_code AS from_county_code, ts.region_code AS to_county_code,
       rc.county_code AS county_code, left(rc.county_code, 2) AS province_code,
       r.to_grade_code AS to_grade_code,
       xj_day(r.created_at) AS created_date, xj_day(r.submitted_at) AS submitted_date,
       xj_day(r.closed_at) AS closed_date, r.effective_date AS effective_date,
       r.end_date AS end_date, r.state IN ('draft', 'submitted') AS is_open,
       coalesce(n.steps, 0) AS steps, r.current_step_seq AS current_step_seq,
       epoch(r.closed_at - r.submitted_at) / 86400.0 AS lead_time_days,
       xj_workdays(xj_day(r.submitted_at), xj_day(r.closed_at)) AS lead_time_workdays
FROM stg.status_change_request r
LEFT JOIN stg.request_map rm ON rm.id = r.id
LEFT JOIN stg.student_map sm ON sm.id = r.student_id
LEFT JOIN stg.school fs ON fs.id = r.from_school_id
LEFT JOIN stg.school ts ON ts.id = r.to_school_id
LEFT JOIN stg.request_county rc ON rc.id = r.id
LEFT JOIN (SELECT request_key, COUNT(*) AS steps FROM wh.fact_status_change_step GROUP BY 1) n
       ON n.request_key = rm.request_key
""",
    "fact_progression": """
WITH years AS (SELECT id, row_number() OVER (ORDER BY start_date, id) AS seq FROM stg.school_year),
nxt AS (SELECT a.id, b.id AS next_id FROM years a JOIN years b ON b.seq = a.seq + 1),
act AS (
    SELECT e.student_id, e.school_year_id, e.school_id, e.grade_code, s.region_code,
           s.primary_years, xj_stage(e.grade_code) AS stage,
           xj_grade_ord(e.grade_code, s.primary_years) AS ord
    FROM stg.enrollment e JOIN stg.school s ON s.id = e.school_id
    WHERE e.is_active
)
SELECT sm.student_key AS student_key, c.school_year_id AS school_year_key,
       n.next_id AS next_school_year_key, c.school_id AS from_school_key,
       c.region_code AS county_code, left(c.region_code, 2) AS province_code,
       c.grade_code AS from_grade_code, c.stage AS from_stage,
       coalesce(c.grade_code = xj_last_grade(c.stage, c.primary_years), false) AS completed_stage,
       CASE WHEN t.student_id IS NULL THEN 'left'
            WHEN t.stage = c.stage AND t.ord = c.ord + 1 THEN 'promoted'
            WHEN t.stage = c.stage AND t.ord = c.ord THEN 'repeated'
            WHEN t.stage = c.stage AND t.ord > c.ord + 1 THEN 'skipped'
            WHEN xj_stage_ord(t.stage) = xj_stage_ord(c.stage) + 1 THEN 'progressed'
            ELSE 'other' END AS flow,
       t.school_id AS to_school_key, t.region_code AS to_county_code,
       t.grade_code AS to_grade_code, t.stage AS to_stage,
       CASE WHEN t.student_id IS NOT NULL THEN t.school_id <> c.school_id END AS moved_school,
       CASE WHEN t.student_id IS NOT NULL THEN t.region_code <> c.region_code END AS moved_county
FROM act c
JOIN nxt n ON n.id = c.school_year_id
LEFT JOIN act t ON t.student_id = c.student_id AND t.school_year_id = n.next_id
LEFT JOIN stg.student_map sm ON sm.id = c.student_id
""",
    "fact_attendance": """
SELECT sm.student_key AS student_key, cm.class_key AS class_key, a.school_id AS school_key,
       sc.region_code AS county_code, left(sc.region_code, 2) AS province_code,
       a.date AS date, a.kind AS kind, a.periods AS periods, a.days AS days
FROM stg.attendance a
LEFT JOIN stg.student_map sm ON sm.id = a.student_id
LEFT JOIN stg.class_map cm ON cm.id = a.class_id
LEFT JOIN stg.school sc ON sc.id = a.school_id
""",
    "fact_score": """
SELECT sm.student_key AS student_key, x.exam_id AS exam_key, ex.school_id AS school_key,
       sc.region_code AS county_code, left(sc.region_code, 2) AS province_code,
       ex.term_id AS term_key, ex.grade_code AS grade_code, ex.kind AS exam_kind,
       ex.exam_date AS exam_date, x.subject_code AS subject_code, x.score AS score,
       x.full_mark AS full_mark, x.level AS level, coalesce(x.absent, false) AS absent
FROM stg.score x
LEFT JOIN stg.exam ex ON ex.id = x.exam_id
LEFT JOIN stg.student_map sm ON sm.id = x.student_id
LEFT JOIN stg.school sc ON sc.id = ex.school_id
""",
    "fact_evaluation": """
SELECT sm.student_key AS student_key, v.school_id AS school_key,
       sc.region_code AS county_code, left(sc.region_code, 2) AS province_code,
       v.school_year_id AS school_year_key, v.term_id AS term_key,
       v.dimension AS dimension, v.level AS level
FROM stg.evaluation v
LEFT JOIN stg.student_map sm ON sm.id = v.student_id
LEFT JOIN stg.school sc ON sc.id = v.school_id
""",
    "fact_graduation": """
SELECT sm.student_key AS student_key, g.school_id AS school_key,
       sc.region_code AS county_code, left(sc.region_code, 2) AS province_code,
       g.school_year_id AS school_year_key, g.stage AS stage, g.outcome AS outcome,
       g.destination AS destination, g.graduated_on AS graduation_date,
       coalesce(d.live > 0, false) AS diploma_issued,
       coalesce(d.live = 0 AND d.revoked > 0, false) AS diploma_revoked
FROM stg.graduation g
-- a revoked certificate may be replaced by a corrected one: issued wins over revoked
LEFT JOIN (SELECT graduation_id, count(*) FILTER (WHERE revoked_at IS NULL) AS live,
                  count(*) FILTER (WHERE revoked_at IS NOT NULL) AS revoked
           FROM stg.diploma GROUP BY graduation_id) d ON d.graduation_id = g.id
LEFT JOIN stg.student_map sm ON sm.id = g.student_id
LEFT JOIN stg.school sc ON sc.id = g.school_id
WHERE g.state = 'approved'  -- pending (senior high, awaiting the bureau) and rejected are not
""",
    "agg_enrollment": """
SELECT f.school_year_key, f.county_code, f.province_code, f.school_key, f.stage, f.grade_code,
       d.sex, d.ethnicity_group, d.hukou_type, d.migrant_child, d.left_behind,
       COUNT(*) AS students
FROM wh.fact_enrollment f JOIN wh.dim_student d ON d.student_key = f.student_key
WHERE f.is_active
GROUP BY ALL
""",
    "agg_class_size": """
WITH sizes AS (
    SELECT c.class_key, c.school_year_key, c.county_code, c.province_code, c.school_key,
           c.stage, c.grade_code, COUNT(f.student_key) AS n
    FROM wh.dim_class c
    LEFT JOIN wh.fact_enrollment f ON f.class_key = c.class_key AND f.is_active
    GROUP BY ALL
)
SELECT school_year_key, county_code, province_code, school_key, stage, grade_code,
       COUNT(*) AS classes, SUM(n) AS students, MAX(n) AS max_class_size,
       COUNT(*) FILTER (WHERE n > CASE stage WHEN 'primary' THEN 45 ELSE 50 END)
           AS classes_over_standard,
       COUNT(*) FILTER (WHERE n >= 56) AS classes_56_plus,
       COUNT(*) FILTER (WHERE n >= 66) AS classes_66_plus
FROM sizes
GROUP BY school_year_key, county_code, province_code, school_key, stage, grade_code
""",
    "agg_status_change": """
SELECT CAST(date_trunc('month', coalesce(r.submitted_date, r.created_date)) AS DATE) AS month,
       r.county_code, r.province_code, r.change_type, r.state,
       COUNT(*) AS requests, COUNT(r.closed_date) AS closed,
       AVG(r.lead_time_days) AS lead_time_days_avg,
       MEDIAN(r.lead_time_days) AS lead_time_days_p50,
       QUANTILE_CONT(r.lead_time_days, 0.9) AS lead_time_days_p90,
       COALESCE(SUM(o.overdue_steps), 0) AS overdue_steps
FROM wh.fact_status_change r
LEFT JOIN (
    SELECT request_key, COUNT(*) FILTER (WHERE overdue) AS overdue_steps
    FROM wh.fact_status_change_step GROUP BY request_key
) o ON o.request_key = r.request_key
WHERE r.county_code IS NOT NULL
GROUP BY ALL
""",
    "agg_student_number": """
SELECT d.current_county_code AS county_code, d.current_province_code AS province_code,
       d.current_school_key AS school_key, d.number_kind AS number_kind,
       COUNT(*) AS students, MIN(n.issued_date) AS oldest_issued_date,
       COUNT(*) FILTER (WHERE n.issued_date < xj_as_of_date() - INTERVAL 90 DAY)
           AS issued_over_90_days
FROM wh.dim_student d
LEFT JOIN (
    SELECT student_key, kind, MIN(issued_date) AS issued_date
    FROM wh.fact_student_number WHERE is_current GROUP BY student_key, kind
) n ON n.student_key = d.student_key AND n.kind = d.number_kind
WHERE d.current_school_key IS NOT NULL
GROUP BY ALL
""",
    "agg_progression": """
SELECT school_year_key, county_code, province_code, from_school_key AS school_key, from_stage,
       from_grade_code, completed_stage, flow, to_stage, moved_county, COUNT(*) AS students
FROM wh.fact_progression
GROUP BY ALL
""",
    # Most students have one enrollment a year: it is the first everywhere (level 0). For the
    # others, seq orders the student's enrollments of the year (unique, so "first in a unit"
    # nests: the first in a province is also the first in its prefecture, county and school).
    "agg_enrollment_end": """
WITH multi AS (
    SELECT student_key, school_year_key FROM wh.fact_enrollment
    GROUP BY student_key, school_year_key HAVING COUNT(*) > 1
),
e AS (
    SELECT f.school_year_key, f.county_code, f.province_code, f.school_key, f.stage,
           f.end_reason, f.student_key,
           CASE WHEN f.end_reason = '21' THEN 'graduated'
                WHEN f.end_reason IN ('24', '28') THEN 'left' END AS exit_group,
           row_number() OVER (PARTITION BY f.student_key, f.school_year_key
                              ORDER BY f.school_key, f.stage, f.end_reason NULLS FIRST,
                                       f.entry_date, f.ended_on NULLS LAST, f.class_key) AS seq
    FROM wh.fact_enrollment f
    JOIN multi m ON m.student_key = f.student_key AND m.school_year_key = f.school_year_key
),
firsts AS (
    SELECT school_year_key, county_code, province_code, school_key, stage, end_reason,
           CASE WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key, stage) THEN 0
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key, stage,
                                                       left(county_code, 2)) THEN 1
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key, stage,
                                                       left(county_code, 4)) THEN 2
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key, stage,
                                                       county_code) THEN 3
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key, stage,
                                                       school_key) THEN 4
                ELSE 5 END AS distinct_level,
           CASE WHEN end_reason IS NULL THEN NULL
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key, stage,
                                                       end_reason) THEN 0
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key, stage,
                                                       end_reason, left(county_code, 2)) THEN 1
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key, stage,
                                                       end_reason, left(county_code, 4)) THEN 2
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key, stage,
                                                       end_reason, county_code) THEN 3
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key, stage,
                                                       end_reason, school_key) THEN 4
                ELSE 5 END AS reason_distinct_level,
           CASE WHEN exit_group IS NULL THEN NULL
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key,
                                                       exit_group) THEN 0
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key,
                                                       exit_group, left(county_code, 2)) THEN 1
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key,
                                                       exit_group, left(county_code, 4)) THEN 2
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key,
                                                       exit_group, county_code) THEN 3
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key,
                                                       exit_group, school_key) THEN 4
                ELSE 5 END AS exit_distinct_level
    FROM e
),
single AS (
    SELECT f.school_year_key, f.county_code, f.province_code, f.school_key, f.stage,
           f.end_reason, 0 AS distinct_level,
           CASE WHEN f.end_reason IS NOT NULL THEN 0 END AS reason_distinct_level,
           CASE WHEN f.end_reason IN ('21', '24', '28') THEN 0 END AS exit_distinct_level
    FROM wh.fact_enrollment f
    WHERE NOT EXISTS (SELECT 1 FROM multi m WHERE m.student_key = f.student_key
                                              AND m.school_year_key = f.school_year_key)
)
SELECT school_year_key, county_code, province_code, school_key, stage, end_reason,
       distinct_level, reason_distinct_level, exit_distinct_level, COUNT(*) AS students
FROM (SELECT * FROM firsts UNION ALL SELECT * FROM single) x
GROUP BY ALL
""",
    "agg_class_size_band": """
WITH sizes AS (
    SELECT c.class_key, c.school_year_key, c.county_code, c.province_code, c.school_key,
           c.stage, COUNT(f.student_key) AS n
    FROM wh.dim_class c
    LEFT JOIN wh.fact_enrollment f ON f.class_key = c.class_key AND f.is_active
    GROUP BY ALL
)
SELECT school_year_key, county_code, province_code, school_key, stage,
       CASE WHEN n = 0 THEN 0 WHEN n <= 25 THEN 1 WHEN n <= 35 THEN 26 WHEN n <= 45 THEN 36
            WHEN n <= 55 THEN 46 WHEN n <= 65 THEN 56 ELSE 66 END AS band_start,
       COUNT(*) AS classes, SUM(n) AS students
FROM sizes
GROUP BY ALL
""",
    # The as-of day is the UTC day of the as-of time, as meta_manifest.as_of gives it.
    "agg_data_quality": """
WITH l_numbers AS (
    SELECT student_key, MIN(issued_date) AS issued_date
    FROM wh.fact_student_number
    WHERE is_current AND kind = 'L'
    GROUP BY student_key
),
problems AS (
    SELECT DISTINCT student_key FROM wh.fact_status_change
    WHERE change_type = '52' AND is_open
),
flags AS (
    SELECT d.current_county_code AS county_code, d.current_province_code AS province_code,
           d.current_school_key AS school_key,
           d.id_doc_type_class = 'none' AS missing_id_number,
           d.sex NOT IN ('1', '2') AS sex_unknown,
           (length(d.hukou_county_code) <> 6 OR d.hukou_county_code LIKE '%0000')
               AS hukou_incomplete,
           d.number_kind = 'L' AS l_number,
           coalesce(d.number_kind = 'L'
                    AND l.issued_date < CAST(getvariable('xueji_as_of') AS DATE)
                                        - INTERVAL 90 DAY, false) AS l_old,
           pr.student_key IS NOT NULL AS open_problem
    FROM wh.dim_student d
    LEFT JOIN l_numbers l ON l.student_key = d.student_key
    LEFT JOIN problems pr ON pr.student_key = d.student_key
    WHERE d.current_status IN ('01', '02') AND d.current_school_key IS NOT NULL
)
SELECT county_code, province_code, school_key, COUNT(*) AS students,
       COUNT(*) FILTER (WHERE missing_id_number) AS missing_id_number,
       COUNT(*) FILTER (WHERE sex_unknown) AS sex_unknown,
       COUNT(*) FILTER (WHERE hukou_incomplete) AS hukou_incomplete,
       COUNT(*) FILTER (WHERE l_number) AS l_numbers,
       COUNT(*) FILTER (WHERE l_old) AS l_numbers_over_90_days,
       COUNT(*) FILTER (WHERE open_problem) AS open_problem_requests,
       COUNT(*) FILTER (WHERE missing_id_number OR sex_unknown OR hukou_incomplete OR l_old
                              OR open_problem) AS problem_records
FROM flags
GROUP BY county_code, province_code, school_key
""",
    "agg_enrollment_ethnicity": """
SELECT f.school_year_key, f.county_code, f.province_code, f.school_key, f.stage, d.ethnicity,
       COUNT(*) AS students
FROM wh.fact_enrollment f JOIN wh.dim_student d ON d.student_key = f.student_key
WHERE f.is_active
GROUP BY ALL
""",
    # One unit per student, school and (year or term) view, dimension and level: several rows
    # of a student at one school (both terms, in the year view) count once. Most students have
    # one school per view, so the window functions run only for the others (transfers); seq
    # orders the schools (unique per partition, so "first in a unit" nests as in
    # agg_enrollment_end). A NULL level and an empty one are one level for the metric.
    "agg_evaluation": """
WITH v AS (
    SELECT v.student_key, v.school_year_key, t.number AS term, v.county_code, v.province_code,
           v.school_key, v.dimension, coalesce(v.level, '') AS level_key
    FROM wh.fact_evaluation v
    LEFT JOIN wh.dim_term t ON t.term_key = v.term_key
),
units AS (
    SELECT student_key, school_year_key, CAST(NULL AS TINYINT) AS term, county_code,
           province_code, school_key, dimension, level_key, COUNT(*) AS records
    FROM v GROUP BY ALL
    UNION ALL
    SELECT student_key, school_year_key, term, county_code, province_code, school_key,
           dimension, level_key, COUNT(*) AS records
    FROM v WHERE term IS NOT NULL GROUP BY ALL
),
multi AS (
    SELECT student_key, school_year_key, term, dimension, level_key FROM units
    GROUP BY ALL HAVING COUNT(*) > 1
),
ranked AS (
    SELECT u.*, row_number() OVER (PARTITION BY u.student_key, u.school_year_key, u.term,
                                                u.dimension, u.level_key
                                   ORDER BY u.school_key) AS seq
    FROM units u
    JOIN multi m ON m.student_key = u.student_key AND m.school_year_key = u.school_year_key
                AND m.term IS NOT DISTINCT FROM u.term AND m.dimension = u.dimension
                AND m.level_key = u.level_key
),
firsts AS (
    SELECT school_year_key, term, county_code, province_code, school_key, dimension,
           level_key, records,
           CASE WHEN seq = 1 THEN 0
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key, term,
                                                       dimension, level_key,
                                                       left(county_code, 2)) THEN 1
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key, term,
                                                       dimension, level_key,
                                                       left(county_code, 4)) THEN 2
                WHEN seq = MIN(seq) OVER (PARTITION BY student_key, school_year_key, term,
                                                       dimension, level_key, county_code) THEN 3
                ELSE 4 END AS distinct_level
    FROM ranked
),
single AS (
    SELECT u.school_year_key, u.term, u.county_code, u.province_code, u.school_key,
           u.dimension, u.level_key, u.records, 0 AS distinct_level
    FROM units u
    WHERE NOT EXISTS (SELECT 1 FROM multi m
                      WHERE m.student_key = u.student_key
                        AND m.school_year_key = u.school_year_key
                        AND m.term IS NOT DISTINCT FROM u.term
                        AND m.dimension = u.dimension AND m.level_key = u.level_key)
)
SELECT school_year_key, term, county_code, province_code, school_key, dimension,
       nullif(level_key, '') AS level, distinct_level, COUNT(*) AS students,
       SUM(records) AS records
FROM (SELECT * FROM firsts UNION ALL SELECT * FROM single) x
GROUP BY ALL
""",
    # Built after dim_date (BUILD_ORDER): the school year of a day and the school days of a
    # month are dim_date's, as in the metrics. A student's days are added up per school and
    # month before the 10 % rule is applied (several half days can make a chronic absence).
    "agg_attendance": """
WITH school_days AS (
    SELECT school_year_key, CAST(date_trunc('month', date) AS DATE) AS month,
           COUNT(*) AS school_days
    FROM wh.dim_date
    WHERE school_year_key IS NOT NULL AND term_key IS NOT NULL AND NOT is_weekend
    GROUP BY ALL
),
per_student AS (
    SELECT d.school_year_key, CAST(date_trunc('month', f.date) AS DATE) AS month,
           f.county_code, f.province_code, f.school_key, f.student_key,
           COUNT(*) AS records,
           SUM(coalesce(f.days, 0)) AS days,
           SUM(coalesce(f.periods, 0)) AS periods,
           COUNT(*) FILTER (WHERE f.days > 0) > 0 AS has_absence_day
    FROM wh.fact_attendance f
    JOIN wh.dim_date d ON d.date = f.date
    WHERE d.school_year_key IS NOT NULL
    GROUP BY ALL
)
SELECT p.school_year_key, p.month, p.county_code, p.province_code, p.school_key,
       sd.school_days,
       SUM(p.records) AS records,
       SUM(p.days) AS absence_days,
       SUM(p.periods) AS periods_missed,
       COUNT(*) FILTER (WHERE p.has_absence_day) AS absent_students,
       COUNT(*) FILTER (WHERE p.days > 0) AS net_absent_students,
       COUNT(*) FILTER (WHERE p.days > 0 AND p.days >= 0.1 * sd.school_days)
           AS chronically_absent
FROM per_student p
LEFT JOIN school_days sd ON sd.school_year_key = p.school_year_key AND sd.month = p.month
GROUP BY p.school_year_key, p.month, p.county_code, p.province_code, p.school_key,
         sd.school_days
""",
    # Built after dim_date: the school year of an exam without a term is that of its date.
    # pct and lvl are pass_excellent_rates' reading of a mark (a percentage of a full mark
    # above 0, else the level); sums are kept so that means are sums ÷ counts.
    "agg_score": """
WITH marks AS (
    SELECT f.*, coalesce(t.school_year_key, d.school_year_key) AS year_key, t.number AS term,
           CASE WHEN NOT f.absent AND f.score IS NOT NULL AND f.full_mark > 0
                THEN f.score / f.full_mark END AS pct,
           CASE WHEN NOT f.absent AND (f.score IS NULL OR NOT f.full_mark > 0)
                THEN f.level END AS lvl
    FROM wh.fact_score f
    LEFT JOIN wh.dim_term t ON t.term_key = f.term_key
    LEFT JOIN wh.dim_date d ON d.date = f.exam_date
)
SELECT year_key AS school_year_key, term, exam_kind, grade_code, subject_code, county_code,
       province_code, school_key,
       COUNT(*) AS records,
       COUNT(*) FILTER (WHERE absent) AS absent,
       COUNT(*) FILTER (WHERE NOT absent AND score IS NOT NULL) AS scored,
       coalesce(SUM(score) FILTER (WHERE NOT absent), 0) AS score_sum,
       COUNT(*) FILTER (WHERE NOT absent AND score IS NOT NULL AND full_mark > 0) AS pct_scored,
       coalesce(SUM(100.0 * score / full_mark) FILTER (WHERE NOT absent AND full_mark > 0), 0)
           AS pct_sum,
       COUNT(*) FILTER (WHERE pct IS NOT NULL OR lvl IS NOT NULL) AS graded,
       COUNT(*) FILTER (WHERE pct >= 0.6 OR lvl IN ('A', 'B', 'C')) AS passed,
       COUNT(*) FILTER (WHERE pct >= 0.85 OR lvl = 'A') AS excellent,
       MAX(full_mark) AS full_mark
FROM marks
WHERE year_key IS NOT NULL
GROUP BY year_key, term, exam_kind, grade_code, subject_code, county_code, province_code,
         school_key
""",
    "agg_score_band": """
WITH marks AS (
    SELECT f.*, coalesce(t.school_year_key, d.school_year_key) AS year_key, t.number AS term,
           CASE WHEN f.score IS NOT NULL AND f.full_mark > 0
                THEN greatest(least(CAST(floor(10.0 * f.score / f.full_mark) AS INTEGER) * 10,
                                    90), 0)
           END AS band_start
    FROM wh.fact_score f
    LEFT JOIN wh.dim_term t ON t.term_key = f.term_key
    LEFT JOIN wh.dim_date d ON d.date = f.exam_date
    WHERE NOT f.absent
)
SELECT year_key AS school_year_key, term, exam_kind, grade_code, subject_code, county_code,
       province_code, school_key, band_start,
       CASE WHEN band_start IS NULL THEN level END AS level, COUNT(*) AS students
FROM marks
WHERE year_key IS NOT NULL AND (band_start IS NOT NULL OR level IS NOT NULL)
GROUP BY ALL
""",
}

# dim_date is derived from every [fk dim_date.date] column once the rest is built.
DIM_DATE_SQL = """
WITH bounds AS (
    SELECT make_date(year(MIN(d)), 1, 1) AS lo, make_date(year(MAX(d)), 12, 31) AS hi
    FROM ({dates}) all_dates(d)
),
days AS (
    SELECT CAST(g AS DATE) AS d
    FROM bounds, range(CAST(bounds.lo AS TIMESTAMP), CAST(bounds.hi AS TIMESTAMP) + INTERVAL 1 DAY,
                       INTERVAL 1 DAY) t(g)
)
SELECT d AS date, year(d) AS year, quarter(d) AS quarter, month(d) AS month, day(d) AS day,
       weekofyear(d) AS iso_week, isodow(d) AS iso_dow, isodow(d) >= 6 AS is_weekend,
       (SELECT MIN(y.id) FROM stg.school_year y WHERE d BETWEEN y.start_date AND y.end_date)
           AS school_year_key,
       (SELECT MIN(t.id) FROM stg.term t WHERE d BETWEEN t.start_date AND t.end_date) AS term_key
FROM days
"""

# Which staged source tables a warehouse table needs (a fact is skipped when one is absent).
# Source tables that only one fact reads, once: in a full build they are not staged but fed
# straight into that fact's INSERT (the source's Arrow stream on PostgreSQL), so the biggest
# tables are never copied twice and PostgreSQL sends while DuckDB transforms.
FED: dict[str, str] = {
    "student_number_history": "fact_student_number",
    "attendance": "fact_attendance",
    "score": "fact_score",
    "evaluation": "fact_evaluation",  # final grades only (extract.SourceTable.filter)
}

REQUIRES: dict[str, tuple[str, ...]] = {
    "fact_status_change_step": ("status_change_step", "status_change_request"),
    "fact_status_change": ("status_change_request",),
    "fact_student_number": ("student_number_history",),
    "fact_attendance": ("attendance",),
    "fact_score": ("score", "exam"),
    "fact_evaluation": ("evaluation",),
    "fact_graduation": ("graduation", "diploma"),
}

# Build order: dimensions, facts (steps before requests: requests count their steps),
# rollups, then the calendar that covers every date used.
BUILD_ORDER: tuple[str, ...] = (
    "dim_region",
    "dim_school",
    "dim_school_year",
    "dim_term",
    "dim_class",
    "dim_code_set",
    "dim_code",
    "dim_student",
    "fact_enrollment",
    "fact_student_number",
    "fact_status_change_step",
    "fact_status_change",
    "fact_progression",
    "fact_attendance",
    "fact_score",
    "fact_evaluation",
    "fact_graduation",
    "agg_enrollment",
    "agg_class_size",
    "agg_status_change",
    "agg_student_number",
    "agg_progression",
    "agg_enrollment_end",
    "agg_class_size_band",
    "agg_data_quality",
    "agg_enrollment_ethnicity",
    "agg_evaluation",
    "dim_date",
    # Rollups that use the calendar (the school year of a date, school days) come after it.
    "agg_attendance",
    "agg_score",
    "agg_score_band",
)
META_TABLES = ("meta_manifest", "meta_table", "meta_check", "meta_watermark")

# Incremental facts: warehouse table → (source table, column of the warehouse table whose
# groups are replaced as a whole, or None for pure appends).
INCREMENTAL_FACTS: dict[str, tuple[str, str | None]] = {
    "fact_status_change_step": ("status_change_step", "request_key"),
    "fact_attendance": ("attendance", None),
    "fact_score": ("score", None),
}


@dataclass
class BuildResult:
    rows: dict[str, int] = field(default_factory=dict)
    build: dict[str, str] = field(default_factory=dict)  # full / incremental / derived / skipped
    notes: dict[str, str] = field(default_factory=dict)


DEFAULT_TIMEZONE = "Asia/Shanghai"


def install_helpers(
    con: duckdb.DuckDBPyConnection, as_of_iso: str, timezone: str | None = None
) -> None:
    """as_of_iso: naive UTC. timezone: of the calendar days (XUEJI_TIMEZONE, Asia/Shanghai)."""
    tz = timezone or os.environ.get("XUEJI_TIMEZONE") or DEFAULT_TIMEZONE
    con.execute("SET VARIABLE xueji_as_of = CAST(? AS TIMESTAMP)", [as_of_iso])
    con.execute("SET VARIABLE xueji_tz = ?", [tz])
    for macro in MACROS:
        con.execute(macro)
    con.execute(
        "CREATE OR REPLACE TABLE stg.etl_code_set (code_set VARCHAR, name_zh VARCHAR, "
        "name_en VARCHAR)"
    )
    con.execute(
        "CREATE OR REPLACE TABLE stg.etl_code (code_set VARCHAR, code VARCHAR, name_zh VARCHAR, "
        "name_en VARCHAR, sort_order INTEGER)"
    )
    for code_set, zh, en, codes in ETL_CODE_SETS:
        con.execute("INSERT INTO stg.etl_code_set VALUES (?, ?, ?)", [code_set, zh, en])
        con.executemany(
            "INSERT INTO stg.etl_code VALUES (?, ?, ?, ?, ?)",
            [[code_set, c, czh, cen, i] for i, (c, czh, cen) in enumerate(codes, start=1)],
        )


def build_maps(con: duckdb.DuckDBPyConnection, staged: set[str]) -> None:
    """HMAC keys per source id, and each request's home county."""
    for map_table, (source, kind, key_col) in MAPS.items():
        if source in staged:
            con.execute(
                f"CREATE OR REPLACE TABLE stg.{map_table} AS SELECT id, "
                f"{hmac_sql(kind, 'id')} AS {key_col} FROM stg.{source}"
            )
        else:
            con.execute(f"CREATE OR REPLACE TABLE stg.{map_table} (id INTEGER, {key_col} VARCHAR)")
    if "status_change_request" in staged:
        con.execute(
            """
CREATE OR REPLACE TABLE stg.request_county AS
SELECT r.id, coalesce(fs.region_code, ts.region_code, cs.region_code) AS county_code
FROM stg.status_change_request r
LEFT JOIN stg.school fs ON fs.id = r.from_school_id
LEFT JOIN stg.school ts ON ts.id = r.to_school_id
LEFT JOIN stg.student st ON st.id = r.student_id
LEFT JOIN stg.school cs ON cs.id = st.current_school_id
"""
        )
    else:
        con.execute("CREATE OR REPLACE TABLE stg.request_county (id INTEGER, county_code VARCHAR)")


def create_tables(con: duckdb.DuckDBPyConnection, catalog: str = "wh") -> None:
    con.execute("BEGIN TRANSACTION")
    for table in schema.tables().values():
        con.execute(table.ddl(catalog))
        for statement in table.comment_statements(catalog):
            con.execute(statement)
    con.execute("COMMIT")


def _table_sql(name: str) -> str:
    sql = TABLE_SQL[name]
    if name == "fact_status_change_step":
        sql = sql.replace("{step_key}", hmac_sql("status_change_step", "st.id"))
    return sql


def dim_date_sql() -> str:
    parts = [
        "SELECT start_date FROM stg.school_year",
        "SELECT end_date FROM stg.school_year",
        "SELECT xj_as_of_date()",
    ]
    for table in schema.tables().values():
        if table.name == "dim_date":
            continue
        for column in table.columns:
            if column.fk == ("dim_date", "date"):
                parts.append(f'SELECT "{column.name}" FROM wh.{table.name}')
    return DIM_DATE_SQL.replace("{dates}", " UNION ALL ".join(parts))


# Rollups built a slice of students at a time: their GROUP BYs hold a group per student, which
# under the memory cap spill to disk in one pass over a province's facts (agg_evaluation at 1M
# students: 4.9 s in 8 slices, 6-8 s in one). Every figure is a count or sum per student, so
# the slices' rows add up. {rollup: (the fact it reads, its additive columns)}
SLICED: dict[str, tuple[str, tuple[str, ...]]] = {
    "agg_evaluation": ("fact_evaluation", ("students", "records")),
}
ROWS_PER_SLICE = 1_000_000


def slices_for(rows: int) -> int:
    return max(1, -(-rows // ROWS_PER_SLICE))


def insert_sliced(
    con: duckdb.DuckDBPyConnection, name: str, slices: int, catalog: str = "wh"
) -> None:
    """Insert rollup `name` (SLICED) into catalog.name from `slices` disjoint sets of students
    (by a hash of student_key), then add their rows up."""
    fact, measures = SLICED[name]
    sql = _table_sql(name).replace("wh.", f"{catalog}.")
    if slices <= 1:
        con.execute(f"INSERT INTO {catalog}.{name} BY NAME {sql}")
        return
    source = f"FROM {catalog}.{fact} "
    if sql.count(source) != 1:
        raise ValueError(f"{name}: its SQL must read {catalog}.{fact} once")
    keys = ", ".join(f'"{c}"' for c in schema.tables()[name].column_names if c not in measures)
    sums = ", ".join(f'SUM("{m}") AS "{m}"' for m in measures)
    con.execute(f"CREATE OR REPLACE TEMP TABLE xj_slices AS FROM {catalog}.{name} LIMIT 0")
    try:
        for i in range(slices):
            part = sql.replace(
                source,
                f"FROM (SELECT * FROM {catalog}.{fact} WHERE hash(student_key) % {slices} = {i}) ",
            )
            con.execute(f"INSERT INTO xj_slices BY NAME {part}")
        con.execute(
            f"INSERT INTO {catalog}.{name} BY NAME SELECT {keys}, {sums} FROM xj_slices "
            f"GROUP BY {keys}"
        )
    finally:
        con.execute("DROP TABLE IF EXISTS xj_slices")


def build(
    con: duckdb.DuckDBPyConnection,
    staged: set[str],
    incremental: dict[str, str],
    on_table: Callable[[str, int, str], None],
    feeds: dict[str, Callable[[], AbstractContextManager[str]]] | None = None,
) -> BuildResult:
    """Fill every table of `wh` (created by create_tables) from the staging schema.
    `incremental` names the facts that have a carried-over part (stg.carry_<table>); `feeds`
    the source tables (FED) that were not staged: opening one gives the relation to read
    instead of stg.<table>."""
    feeds = feeds or {}
    result = BuildResult()
    for name in BUILD_ORDER:
        needs = REQUIRES.get(name, ())
        missing = [s for s in needs if s not in staged]
        if missing:
            result.build[name] = "skipped"
            result.notes[name] = "source table " + ", ".join(missing) + " absent"
            result.rows[name] = 0
            on_table(name, 0, "skipped")
            continue
        if name == "dim_date":
            con.execute(f"INSERT INTO wh.dim_date BY NAME {dim_date_sql()}")
        else:
            if name in incremental:
                con.execute(f"INSERT INTO wh.{name} BY NAME SELECT * FROM stg.carry_{name}")
            fed = [t for t in needs if t in feeds]
            if fed:
                (table,) = fed  # FED: one fed table per fact
                with feeds[table]() as relation:
                    sql = _table_sql(name).replace(f"stg.{table} ", f"{relation} ")
                    if relation not in sql:
                        raise ValueError(f"{name}: its SQL does not read stg.{table}")
                    insert_fed(con, f"wh.{name}", sql)
            elif name in SLICED:
                fact = SLICED[name][0]
                slices = slices_for(_duck.count(con, f"SELECT COUNT(*) FROM wh.{fact}"))
                insert_sliced(con, name, slices)
            else:
                con.execute(f"INSERT INTO wh.{name} BY NAME {_table_sql(name)}")
        rows = _duck.count(con, f"SELECT COUNT(*) FROM wh.{name}")
        kind = (
            "incremental"
            if name in incremental
            else ("derived" if name.startswith("agg_") or name in DERIVED else "full")
        )
        result.rows[name] = rows
        result.build[name] = kind
        on_table(name, rows, kind)
    return result


@contextmanager
def joins_as_written(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """For a query whose first table is a fed stream. A stream has no known size (DuckDB
    guesses ~1 row), so left to itself DuckDB makes it the hashed side of every join
    (gigabytes, out of memory at any limit: scores at 1M students). As written, the stream
    is probed and the other tables of each join are hashed."""
    con.execute("SET disabled_optimizers = 'join_order,build_side_probe_side'")
    try:
        yield
    finally:
        con.execute("RESET disabled_optimizers")


def insert_fed(con: duckdb.DuckDBPyConnection, target: str, sql: str) -> None:
    """INSERT … SELECT whose first table is a fed stream (joins_as_written)."""
    with joins_as_written(con):
        con.execute(f"INSERT INTO {target} BY NAME {sql}")


DERIVED = {"dim_date", "fact_progression"}
