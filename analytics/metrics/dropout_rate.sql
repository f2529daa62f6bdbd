-- metric: dropout_rate
-- title_zh: 辍学率与流失率 | title_en: Dropout and attrition rates
-- description_zh: 指定学年各地区（由 level 选择）各学段：学年内在籍学生数、辍学（28，义务教育）与退学（24，高中）人数及辍学率
--   （(辍学+退学)/在籍）；以及按次年学籍推算的流失：未完成本学段、次年在本系统中无在籍记录的学生数及流失率。
-- description_en: Per region (level chosen by level) and stage in the school year: students
--   enrolled at any time in the year, dropouts (28 辍学, compulsory education) and withdrawals
--   (24 退学, senior high), dropout_rate = (dropouts + withdrawals) / enrolled; and attrition
--   from the next year's enrollments: students below the last grade of their stage who are not
--   enrolled anywhere in the registry the next school year, and their rate.
-- grain: one row per school year × region (level chosen by :level) × stage
-- params: school_year, stage, region, school, level
-- dimensions: school_year, region_code, region_name, stage
-- measures: enrolled, dropouts, withdrawals, dropout_rate, followed, left_uncompleted, attrition_rate
-- unit: students; rates are fractions 0-1 (dropout_rate of enrolled, attrition_rate of followed)
-- suppress: enrolled, dropouts, withdrawals, followed, left_uncompleted
-- withhold: dropout_rate <- enrolled, dropouts, withdrawals; attrition_rate <- followed, left_uncompleted
-- sources: agg_enrollment_end, agg_progression, dim_school_year, dim_school, dim_region
-- notes: Default school year: the one before the current (a complete year with a next year for the
--   attrition part). Dropouts are enrollments ended by status change 28/24 (end_reason).
--   Attrition also counts students who moved to a province outside this registry, abroad or
--   died: it is an upper bound of 流失. followed = active enrollments of the year that have a next
--   school year in the snapshot, below the last grade of their stage. enrolled, dropouts and
--   withdrawals count distinct students per region from agg_enrollment_end: a cell counts where
--   its *_distinct_level is at most the level of the unit each row covers (the finer of :level
--   and the region or school filter), so a student who changed schools within the region counts
--   once.
WITH sel AS (
    SELECT school_year_key, code FROM dim_school_year
    WHERE code = $school_year
       OR ($school_year IS NULL AND seq = (SELECT MAX(seq) FROM dim_school_year WHERE is_current) - 1)
),
lv AS (
    -- Level of the unit a result row covers: 1 province, 2 prefecture, 3 county, 4 school.
    SELECT greatest(CASE $level WHEN 'province' THEN 1 WHEN 'prefecture' THEN 2
                                WHEN 'county' THEN 3 ELSE 4 END,
                    CASE WHEN $school_code IS NOT NULL THEN 4
                         ELSE CASE length($region_prefix) WHEN 0 THEN 0 WHEN 2 THEN 1
                                                          WHEN 4 THEN 2 ELSE 3 END END) AS unit
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
           a.stage AS stage,
           CAST(SUM(CASE WHEN a.distinct_level <= lv.unit THEN a.students ELSE 0 END)
                AS BIGINT) AS enrolled,
           CAST(SUM(CASE WHEN a.end_reason = '28' AND a.reason_distinct_level <= lv.unit
                         THEN a.students ELSE 0 END) AS BIGINT) AS dropouts,
           CAST(SUM(CASE WHEN a.end_reason = '24' AND a.reason_distinct_level <= lv.unit
                         THEN a.students ELSE 0 END) AS BIGINT) AS withdrawals
    FROM agg_enrollment_end a
    JOIN sel ON sel.school_year_key = a.school_year_key
    JOIN dim_school s ON s.school_key = a.school_key
    JOIN dim_region r ON r.county_code = a.county_code
    CROSS JOIN lv
    WHERE a.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND ($stage IS NULL OR a.stage = $stage)
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
