-- metric: migrant_left_behind
-- title_zh: 随迁子女与留守儿童 | title_en: Migrant and left-behind children
-- description_zh: 指定学年各地区（由 level 选择层级）的在校生数、随迁子女数、留守儿童数（单亲、双亲外出）及其比例。
-- description_en: Per region (level chosen by level) in the school year: active enrollments,
--   migrant children (随迁子女), left-behind children (one or both parents away) and their rates.
-- grain: one row per school year × region (level chosen by :level)
-- params: school_year, stage, region, school, level
-- dimensions: school_year, region_code, region_name
-- measures: students, migrant_children, migrant_rate, left_behind, left_behind_one_parent, left_behind_both_parents, left_behind_rate
-- unit: students; *_rate are fractions 0-1 of students
-- suppress: students, migrant_children, left_behind, left_behind_one_parent, left_behind_both_parents
-- withhold: migrant_rate <- students, migrant_children; left_behind_rate <- students, left_behind
-- sources: agg_enrollment, dim_school_year, dim_school, dim_region
-- notes: Default school year: current; stage filters. left_behind = one parent away + both away.
SELECT y.code AS school_year,
       CASE $level WHEN 'province' THEN r.province_code
                   WHEN 'prefecture' THEN left(r.county_code, 4)
                   WHEN 'county' THEN r.county_code
                   ELSE s.school_code END AS region_code,
       CASE $level WHEN 'province' THEN r.province_name
                   WHEN 'prefecture' THEN coalesce(r.prefecture_name, r.province_name)
                   WHEN 'county' THEN r.county_name
                   ELSE s.school_name END AS region_name,
       CAST(SUM(a.students) AS BIGINT) AS students,
       CAST(SUM(CASE WHEN a.migrant_child THEN a.students ELSE 0 END) AS BIGINT) AS migrant_children,
       round(SUM(CASE WHEN a.migrant_child THEN a.students ELSE 0 END) / SUM(a.students), 4)
           AS migrant_rate,
       CAST(SUM(CASE WHEN a.left_behind <> '0' THEN a.students ELSE 0 END) AS BIGINT) AS left_behind,
       CAST(SUM(CASE WHEN a.left_behind = '1' THEN a.students ELSE 0 END) AS BIGINT)
           AS left_behind_one_parent,
       CAST(SUM(CASE WHEN a.left_behind = '2' THEN a.students ELSE 0 END) AS BIGINT)
           AS left_behind_both_parents,
       round(SUM(CASE WHEN a.left_behind <> '0' THEN a.students ELSE 0 END) / SUM(a.students), 4)
           AS left_behind_rate
FROM agg_enrollment a
JOIN dim_school_year y ON y.school_year_key = a.school_year_key
JOIN dim_school s ON s.school_key = a.school_key
JOIN dim_region r ON r.county_code = a.county_code
WHERE a.county_code LIKE $region_prefix || '%'
  AND ($school_code IS NULL OR s.school_code = $school_code)
  AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
  AND ($stage IS NULL OR a.stage = $stage)
GROUP BY ALL
ORDER BY school_year, region_code
