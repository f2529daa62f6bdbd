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
-- sources: agg_evaluation, dim_school_year, dim_school, dim_region
-- notes: term filters the term evaluations (yearly evaluations have no term and are kept only
--   without a term filter). A student counts once per region, dimension and level (in the year,
--   or in the term): agg_evaluation's year rows (term NULL) hold every evaluation of the year,
--   its term rows those of one term, and a cell counts where distinct_level is at most the level
--   of the unit each result row covers (the finer of :level and the region or school filter).
WITH lv AS (
    -- Level of the unit a result row covers: 1 province, 2 prefecture, 3 county, 4 school.
    SELECT greatest(CASE $level WHEN 'province' THEN 1 WHEN 'prefecture' THEN 2
                                WHEN 'county' THEN 3 ELSE 4 END,
                    CASE WHEN $school_code IS NOT NULL THEN 4
                         ELSE CASE length($region_prefix) WHEN 0 THEN 0 WHEN 2 THEN 1
                                                          WHEN 4 THEN 2 ELSE 3 END END) AS unit
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
           a.dimension AS dimension,
           coalesce(a.level, '') AS evaluation_level,
           CAST(SUM(CASE WHEN a.distinct_level <= lv.unit THEN a.students ELSE 0 END) AS BIGINT)
               AS students
    FROM agg_evaluation a
    JOIN dim_school_year y ON y.school_year_key = a.school_year_key
    JOIN dim_school s ON s.school_key = a.school_key
    JOIN dim_region r ON r.county_code = a.county_code
    CROSS JOIN lv
    WHERE a.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
      AND (a.term = $term OR ($term IS NULL AND a.term IS NULL))
    GROUP BY ALL
)
SELECT school_year, region_code, region_name, dimension, evaluation_level, students,
       round(students / SUM(students) OVER (PARTITION BY school_year, region_code, dimension), 4)
           AS share
FROM cells
ORDER BY school_year, region_code, dimension, evaluation_level
