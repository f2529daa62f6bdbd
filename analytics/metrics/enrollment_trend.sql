-- metric: enrollment_trend
-- title_zh: 在校生数年度趋势 | title_en: Enrollment trend by school year
-- description_zh: 快照内各学年、各学段的在校生数（含 stage = 'all' 合计）及与上一学年相比的变化率。
--   跨快照趋势：analytics.warehouse.Warehouse.run_over_snapshots 对每个保留的快照运行同一指标。
-- description_en: Active enrollments per school year in the snapshot and stage (plus stage 'all'),
--   with the change on the previous school year. For a trend across ETL snapshots run any metric
--   through analytics.warehouse.Warehouse.run_over_snapshots.
-- grain: one row per school year × stage, plus stage 'all' per school year
-- params: stage, region, school
-- dimensions: school_year, stage
-- measures: students, students_prev, yoy_change
-- unit: students; yoy_change is a fraction (0.05 = +5 %)
-- suppress: students, students_prev
-- withhold: yoy_change <- students, students_prev
-- sources: agg_enrollment, dim_school_year, dim_school
WITH cells AS (
    SELECT a.school_year_key, a.stage, SUM(a.students) AS students
    FROM agg_enrollment a
    JOIN dim_school s ON s.school_key = a.school_key
    WHERE a.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND ($stage IS NULL OR a.stage = $stage)
    GROUP BY a.school_year_key, a.stage
),
stages AS (
    SELECT school_year_key, stage, students FROM cells
    UNION ALL
    SELECT school_year_key, 'all' AS stage, SUM(students) AS students
    FROM cells GROUP BY school_year_key
),
grid AS (
    SELECT y.school_year_key, y.code, y.seq, st.stage
    FROM dim_school_year y CROSS JOIN (SELECT DISTINCT stage FROM stages) st
),
series AS (
    SELECT g.code AS school_year, g.seq, g.stage,
           CAST(coalesce(c.students, 0) AS BIGINT) AS students,
           CAST(lag(coalesce(c.students, 0)) OVER (PARTITION BY g.stage ORDER BY g.seq) AS BIGINT)
               AS students_prev
    FROM grid g
    LEFT JOIN stages c ON c.school_year_key = g.school_year_key AND c.stage = g.stage
)
SELECT school_year, stage, students, students_prev,
       round((students - students_prev) / NULLIF(students_prev, 0), 4) AS yoy_change
FROM series
ORDER BY seq, CASE stage WHEN 'primary' THEN 1 WHEN 'junior' THEN 2 WHEN 'senior' THEN 3 ELSE 4 END
