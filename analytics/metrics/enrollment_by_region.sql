-- metric: enrollment_by_region
-- title_zh: 各地区在校生数 | title_en: Students enrolled by region
-- description_zh: 指定学年各地区（由 level 选择省、地市、区县或学校）各学段的在校生数（当年有效学籍），
--   另有 stage = 'all' 的合计行。
-- description_en: Active enrollments in the school year per region (province, prefecture, county
--   or school, chosen by level) and stage, plus one row per region with stage = 'all' (all stages).
-- grain: one row per school year × region (level chosen by :level) × stage, plus stage 'all' per region
-- params: school_year, stage, region, school, level
-- dimensions: school_year, region_code, region_name, stage
-- measures: students
-- unit: students
-- suppress: students
-- sources: agg_enrollment, dim_school_year, dim_school, dim_region
-- notes: region_code is a 2-digit province, 4-digit prefecture or 6-digit county prefix (usable as
--   the region parameter), or the 10-digit 学校标识码 at level school. Default school year: current.
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
           a.stage AS stage,
           CAST(SUM(a.students) AS BIGINT) AS students
    FROM agg_enrollment a
    JOIN dim_school_year y ON y.school_year_key = a.school_year_key
    JOIN dim_school s ON s.school_key = a.school_key
    JOIN dim_region r ON r.county_code = a.county_code
    WHERE a.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
      AND ($stage IS NULL OR a.stage = $stage)
    GROUP BY ALL
)
SELECT school_year, region_code, region_name, stage, students
FROM (
    SELECT school_year, region_code, region_name, stage, students FROM cells
    UNION ALL
    SELECT school_year, region_code, region_name, 'all' AS stage,
           CAST(SUM(students) AS BIGINT) AS students
    FROM cells
    GROUP BY school_year, region_code, region_name
) t
ORDER BY school_year, region_code,
         CASE stage WHEN 'primary' THEN 1 WHEN 'junior' THEN 2 WHEN 'senior' THEN 3 ELSE 4 END
