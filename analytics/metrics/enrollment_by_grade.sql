-- metric: enrollment_by_grade
-- title_zh: 各年级在校生数 | title_en: Students enrolled by grade
-- description_zh: 指定学年各地区（由 level 选择层级）各年级的在校生数（当年有效学籍）。
-- description_en: Active enrollments in the school year per region (level chosen by level) and grade.
-- grain: one row per school year × region (level chosen by :level) × grade
-- params: school_year, stage, grade, region, school, level
-- dimensions: school_year, region_code, region_name, stage, grade_code, grade_name_zh, grade_name_en
-- measures: students
-- unit: students
-- suppress: students
-- sources: agg_enrollment, dim_school_year, dim_school, dim_region, dim_code
-- notes: Default school year: current. Grade names from the registry's grade code set.
WITH grades AS (
    SELECT code, max_by(name_zh, valid_from) AS name_zh, max_by(name_en, valid_from) AS name_en,
           max_by(sort_order, valid_from) AS sort_order
    FROM dim_code WHERE code_set = 'grade' GROUP BY code
)
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
       a.grade_code AS grade_code,
       g.name_zh AS grade_name_zh,
       g.name_en AS grade_name_en,
       CAST(SUM(a.students) AS BIGINT) AS students
FROM agg_enrollment a
JOIN dim_school_year y ON y.school_year_key = a.school_year_key
JOIN dim_school s ON s.school_key = a.school_key
JOIN dim_region r ON r.county_code = a.county_code
LEFT JOIN grades g ON g.code = a.grade_code
WHERE a.county_code LIKE $region_prefix || '%'
  AND ($school_code IS NULL OR s.school_code = $school_code)
  AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
  AND ($stage IS NULL OR a.stage = $stage)
  AND ($grade IS NULL OR a.grade_code = $grade)
GROUP BY ALL
ORDER BY school_year, region_code, grade_code
