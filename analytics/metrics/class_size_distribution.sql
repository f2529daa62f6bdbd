-- metric: class_size_distribution
-- title_zh: 班额分布 | title_en: Class size distribution
-- description_zh: 指定学年各学段按班额区间（0、1-25、26-35、36-45、46-55、56-65、66 人及以上）统计的班级数和学生数。
-- description_en: Classes and their students per class-size band (0, 1-25, 26-35, 36-45, 46-55,
--   56-65, 66+) and stage in the school year, within the scope.
-- grain: one row per school year × stage × class-size band
-- params: school_year, stage, region, school
-- dimensions: school_year, stage, size_band, band_start
-- measures: classes, students
-- unit: classes; students
-- suppress: students
-- sources: agg_class_size_band, dim_school_year, dim_school
-- notes: Classes with no active student are band 0. band_start orders the bands. Default school
--   year: current.
SELECT y.code AS school_year, a.stage,
       CASE a.band_start WHEN 0 THEN '0' WHEN 1 THEN '1-25' WHEN 26 THEN '26-35'
                         WHEN 36 THEN '36-45' WHEN 46 THEN '46-55' WHEN 56 THEN '56-65'
                         ELSE '66+' END AS size_band,
       a.band_start,
       CAST(SUM(a.classes) AS BIGINT) AS classes,
       CAST(SUM(a.students) AS BIGINT) AS students
FROM agg_class_size_band a
JOIN dim_school_year y ON y.school_year_key = a.school_year_key
JOIN dim_school s ON s.school_key = a.school_key
WHERE a.county_code LIKE $region_prefix || '%'
  AND ($school_code IS NULL OR s.school_code = $school_code)
  AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
  AND ($stage IS NULL OR a.stage = $stage)
GROUP BY y.code, a.stage, a.band_start
ORDER BY school_year, CASE a.stage WHEN 'primary' THEN 1 WHEN 'junior' THEN 2 ELSE 3 END,
         a.band_start
