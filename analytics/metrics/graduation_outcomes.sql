-- metric: graduation_outcomes
-- title_zh: 毕业结论与毕业证书 | title_en: Graduation outcomes and diplomas
-- description_zh: 指定学年各地区（由 level 选择）各学段按毕业结论（毕业、结业、肄业）的人数，及已发（未撤销）和已撤销的毕业证书数。
-- description_en: Per region (level chosen by level), stage and outcome (毕业 graduated, 结业
--   completed without diploma, 肄业 left before completion) in the school year of graduation:
--   students, diplomas issued (not revoked) and revoked.
-- grain: one row per school year × region (level chosen by :level) × stage × outcome
-- params: school_year, stage, region, school, level
-- dimensions: school_year, region_code, region_name, stage, outcome, outcome_name_zh, outcome_name_en
-- measures: students, diplomas_issued, diplomas_revoked
-- unit: students
-- suppress: students, diplomas_issued, diplomas_revoked
-- sources: fact_graduation, dim_school_year, dim_school, dim_region, dim_code
-- notes: Default school year: the one before the current (graduations happen at the end of a
--   school year). Reads fact_graduation (empty until the teaching-records issue); a rollup
--   agg_graduation (year, county, school, stage, outcome, destination, students, diplomas) would
--   serve it and the destination basis of progression_flows / progression_rate_by_region.
WITH outcomes AS (
    SELECT code, max_by(name_zh, valid_from) AS name_zh, max_by(name_en, valid_from) AS name_en
    FROM dim_code WHERE code_set = 'graduation_outcome' GROUP BY code
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
           g.stage AS stage,
           g.outcome AS outcome,
           o.name_zh AS outcome_name_zh,
           o.name_en AS outcome_name_en,
           COUNT(DISTINCT g.student_key) AS students,
           COUNT(DISTINCT CASE WHEN g.diploma_issued THEN g.student_key END) AS diplomas_issued,
           COUNT(DISTINCT CASE WHEN g.diploma_revoked THEN g.student_key END) AS diplomas_revoked
    FROM fact_graduation g
    JOIN dim_school_year y ON y.school_year_key = g.school_year_key
    JOIN dim_school s ON s.school_key = g.school_key
    JOIN dim_region r ON r.county_code = g.county_code
    LEFT JOIN outcomes o ON o.code = g.outcome
    WHERE g.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND (y.code = $school_year
           OR ($school_year IS NULL
               AND y.seq = (SELECT MAX(seq) FROM dim_school_year WHERE is_current) - 1))
      AND ($stage IS NULL OR g.stage = $stage)
    GROUP BY ALL
)
SELECT * FROM cells
ORDER BY school_year, region_code,
         CASE stage WHEN 'primary' THEN 1 WHEN 'junior' THEN 2 ELSE 3 END, outcome
