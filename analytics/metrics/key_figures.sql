-- metric: key_figures
-- title_zh: 概览关键指标 | title_en: Key figures
-- description_zh: 范围内指定学年的关键数字及与上一学年的比较：在校生、学校、班级、平均班额、大班额班级、
--   起始年级新生（一年级、初一、高一）、毕业生、辍学与退学、随迁子女、留守儿童、尚未确认的临时学籍号（L）。
-- description_en: Overview of the scope for the school year with the previous school year for
--   comparison: students, schools, classes, mean class size, 大班额 classes, students in the
--   first grade of a stage (grades 11, 21, 31), graduates, dropouts and withdrawals, migrant and
--   left-behind children, temporary (L) student numbers not yet confirmed.
-- grain: one row for the school year
-- params: school_year, region, school
-- dimensions: school_year, previous_school_year
-- measures: students, students_prev, students_yoy, schools, classes, mean_class_size, classes_56_plus, new_entrants, new_entrants_prev, new_entrants_yoy, graduates, graduates_prev, graduates_yoy, dropouts, dropouts_prev, migrant_children, left_behind, l_numbers_pending
-- unit: students (schools and classes: units); *_yoy fractions (0.05 = +5 %); mean_class_size students per class
-- suppress: students, students_prev, new_entrants, new_entrants_prev, graduates, graduates_prev, dropouts, dropouts_prev, migrant_children, left_behind, l_numbers_pending
-- withhold: students_yoy <- students, students_prev; new_entrants_yoy <- new_entrants, new_entrants_prev; graduates_yoy <- graduates, graduates_prev; mean_class_size <- students
-- sources: agg_enrollment, agg_class_size, agg_student_number, agg_enrollment_end, dim_school_year, dim_school
-- notes: graduates (enrollments ended by 21 毕业) and dropouts (ended by 28 辍学 or 24 退学, a
--   student counted once for both) are distinct students of the scope from agg_enrollment_end
--   (exit_distinct_level at most the level of the scope: 0 national … 4 school); agg_enrollment
--   counts active enrollments only. l_numbers_pending is the snapshot's current state (not per
--   year). A year without a previous one has NULL *_prev.
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
    -- Level of the scope (0 national, 1 province, 2 prefecture, 3 county, 4 school): a student
    -- counts in the cell where the exit is the first of the year within the scope's unit.
    SELECT a.school_year_key,
           CAST(SUM(CASE WHEN a.end_reason = '21' AND a.exit_distinct_level <= u.unit
                         THEN a.students ELSE 0 END) AS BIGINT) AS graduates,
           CAST(SUM(CASE WHEN a.end_reason IN ('24', '28') AND a.exit_distinct_level <= u.unit
                         THEN a.students ELSE 0 END) AS BIGINT) AS dropouts
    FROM agg_enrollment_end a
    JOIN dim_school s ON s.school_key = a.school_key
    CROSS JOIN (
        SELECT CASE WHEN $school_code IS NOT NULL THEN 4
                    ELSE CASE length($region_prefix) WHEN 0 THEN 0 WHEN 2 THEN 1
                                                     WHEN 4 THEN 2 ELSE 3 END END AS unit
    ) u
    WHERE a.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
    GROUP BY a.school_year_key
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
