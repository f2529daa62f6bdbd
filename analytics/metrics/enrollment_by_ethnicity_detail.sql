-- metric: enrollment_by_ethnicity_detail
-- title_zh: 分民族在校生数（明细） | title_en: Students enrolled by ethnicity (detail)
-- description_zh: 指定学年各地区（由 level 选择层级）按 GB 3304 民族代码的在校生数及其占比。
-- description_en: Active enrollments in the school year per region (level chosen by level) and
--   GB 3304 ethnicity, with each ethnicity's share of the region's students.
-- grain: one row per school year × region (level chosen by :level) × ethnicity
-- params: school_year, stage, region, school, level
-- dimensions: school_year, region_code, region_name, ethnicity, ethnicity_name_zh, ethnicity_name_en
-- measures: students, share
-- unit: students; share is a fraction 0-1 of the region's students
-- suppress: students
-- withhold: share <- students within school_year, region_code
-- sources: agg_enrollment_ethnicity, dim_school_year, dim_school, dim_region, dim_code
-- notes: Reads agg_enrollment_ethnicity (agg_enrollment only keeps ethnicity_group, han /
--   minority). Most minority cells are small and suppressed below the county level.
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
           a.ethnicity AS ethnicity,
           CAST(SUM(a.students) AS BIGINT) AS students
    FROM agg_enrollment_ethnicity a
    JOIN dim_school_year y ON y.school_year_key = a.school_year_key
    JOIN dim_school s ON s.school_key = a.school_key
    JOIN dim_region r ON r.county_code = a.county_code
    WHERE a.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
      AND ($stage IS NULL OR a.stage = $stage)
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
