-- metric: progression_rate_by_region
-- title_zh: 各地区升学率 | title_en: Progression rates by region
-- description_zh: 指定学年各地区（由 level 选择）各学段毕业年级学生的升学情况：按次年学籍，升入下一学段（本系统内）
--   的人数与升学率（小学、初中）；按毕业去向，登记升学（去向 10-16）的毕业生数与比例。
-- description_en: Per region (level chosen by level) and stage, for the students completing the
--   stage in the school year: from next year's enrollments, those enrolled in the next stage in
--   the registry and the progression rate (primary and junior); from graduation records, the
--   graduates whose recorded destination is further study (10-16) and its rate.
-- grain: one row per school year × region (level chosen by :level) × stage
-- params: school_year, stage, region, school, level
-- dimensions: school_year, region_code, region_name, stage
-- measures: completing, progressed, progression_rate, graduates, further_study, further_study_rate
-- unit: students; rates are fractions 0-1
-- suppress: completing, progressed, graduates, further_study
-- withhold: progression_rate <- completing, progressed; further_study_rate <- graduates, further_study
-- sources: agg_progression, fact_graduation, dim_school_year, dim_school, dim_region
-- notes: school_year is the graduation year; default: the one before the current. The registry
--   holds general schools only, so progression to vocational schools shows as not progressed in
--   the enrollment measures (use the destination measures once graduation records exist;
--   fact_graduation is empty until the teaching-records issue; the rollup agg_graduation proposed in
--   graduation_outcomes would serve it). Senior high has no next stage in
--   the registry: its enrollment measures are NULL.
WITH sel AS (
    SELECT school_year_key, code FROM dim_school_year
    WHERE code = $school_year
       OR ($school_year IS NULL AND seq = (SELECT MAX(seq) FROM dim_school_year WHERE is_current) - 1)
),
prog AS (
    SELECT sel.code AS school_year,
           CASE $level WHEN 'province' THEN r.province_code
                       WHEN 'prefecture' THEN left(r.county_code, 4)
                       WHEN 'county' THEN r.county_code
                       ELSE s.school_code END AS region_code,
           CASE $level WHEN 'province' THEN r.province_name
                       WHEN 'prefecture' THEN coalesce(r.prefecture_name, r.province_name)
                       WHEN 'county' THEN r.county_name
                       ELSE s.school_name END AS region_name,
           p.from_stage AS stage,
           SUM(p.students) AS completing,
           SUM(CASE WHEN p.flow = 'progressed' THEN p.students ELSE 0 END) AS progressed
    FROM agg_progression p
    JOIN sel ON sel.school_year_key = p.school_year_key
    JOIN dim_school s ON s.school_key = p.school_key
    JOIN dim_region r ON r.county_code = p.county_code
    WHERE p.completed_stage
      AND p.from_stage IN ('primary', 'junior')
      AND p.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND ($stage IS NULL OR p.from_stage = $stage)
    GROUP BY ALL
),
grad AS (
    SELECT sel.code AS school_year,
           CASE $level WHEN 'province' THEN r.province_code
                       WHEN 'prefecture' THEN left(r.county_code, 4)
                       WHEN 'county' THEN r.county_code
                       ELSE s.school_code END AS region_code,
           CASE $level WHEN 'province' THEN r.province_name
                       WHEN 'prefecture' THEN coalesce(r.prefecture_name, r.province_name)
                       WHEN 'county' THEN r.county_name
                       ELSE s.school_name END AS region_name,
           g.stage AS stage,
           COUNT(DISTINCT g.student_key) AS graduates,
           COUNT(DISTINCT CASE WHEN g.destination IN ('10', '11', '12', '13', '14', '15', '16')
                               THEN g.student_key END) AS further_study
    FROM fact_graduation g
    JOIN sel ON sel.school_year_key = g.school_year_key
    JOIN dim_school s ON s.school_key = g.school_key
    JOIN dim_region r ON r.county_code = g.county_code
    WHERE g.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND ($stage IS NULL OR g.stage = $stage)
    GROUP BY ALL
),
cells AS (
    SELECT coalesce(p.school_year, g.school_year) AS school_year,
           coalesce(p.region_code, g.region_code) AS region_code,
           coalesce(p.region_name, g.region_name) AS region_name,
           coalesce(p.stage, g.stage) AS stage,
           CAST(p.completing AS BIGINT) AS completing,
           CAST(p.progressed AS BIGINT) AS progressed,
           round(p.progressed / NULLIF(p.completing, 0), 4) AS progression_rate,
           CAST(g.graduates AS BIGINT) AS graduates,
           CAST(g.further_study AS BIGINT) AS further_study,
           round(g.further_study / NULLIF(g.graduates, 0), 4) AS further_study_rate
    FROM prog p
    FULL OUTER JOIN grad g ON g.school_year = p.school_year AND g.region_code = p.region_code
                          AND g.stage = p.stage
)
SELECT * FROM cells
ORDER BY school_year, region_code, CASE stage WHEN 'primary' THEN 1 WHEN 'junior' THEN 2 ELSE 3 END
