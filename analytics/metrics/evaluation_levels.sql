-- metric: evaluation_levels
-- title_zh: 综合素质评价等级分布 | title_en: Comprehensive quality evaluation levels
-- description_zh: 指定学年各地区（由 level 选择）综合素质评价各维度的等级（A 优秀、B 良好、C 合格、D 待合格）人数及占比。
-- description_en: Per region (level chosen by level), evaluation dimension and level (A 优秀,
--   B 良好, C 合格, D 待合格) in the school year: students and their share of the dimension.
-- grain: one row per school year × region (level chosen by :level) × dimension × evaluation level
-- params: school_year, term, region, school, level
-- dimensions: school_year, region_code, region_name, dimension, evaluation_level
-- measures: students, share
-- unit: students; share a fraction 0-1 of the students evaluated on the dimension
-- suppress: students
-- withhold: share <- students within school_year, region_code, dimension
-- sources: fact_evaluation, dim_term, dim_school_year, dim_school, dim_region
-- notes: term filters the term evaluations (yearly evaluations have no term and are kept only
--   without a term filter). Reads fact_evaluation (empty until the teaching-records issue); a rollup
--   agg_evaluation (year, term, county, school, dimension, level, students) would serve it.
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
           v.dimension AS dimension,
           coalesce(v.level, '') AS evaluation_level,
           COUNT(DISTINCT v.student_key) AS students
    FROM fact_evaluation v
    JOIN dim_school_year y ON y.school_year_key = v.school_year_key
    JOIN dim_school s ON s.school_key = v.school_key
    JOIN dim_region r ON r.county_code = v.county_code
    LEFT JOIN dim_term t ON t.term_key = v.term_key
    WHERE v.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
      AND ($term IS NULL OR t.number = $term)
    GROUP BY ALL
)
SELECT school_year, region_code, region_name, dimension, evaluation_level, students,
       round(students / SUM(students) OVER (PARTITION BY school_year, region_code, dimension), 4)
           AS share
FROM cells
ORDER BY school_year, region_code, dimension, evaluation_level
