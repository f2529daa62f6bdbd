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
-- sources: dim_class, fact_enrollment, dim_school_year, dim_school
-- notes: Reads dim_class × fact_enrollment (agg_class_size has no size bands); a rollup
--   agg_class_size_band (year, county, school, stage, band, classes, students) would serve it.
--   band_start orders the bands. Default school year: current.
WITH sizes AS (
    SELECT c.class_key, y.code AS school_year, c.stage, COUNT(f.student_key) AS n
    FROM dim_class c
    JOIN dim_school_year y ON y.school_year_key = c.school_year_key
    JOIN dim_school s ON s.school_key = c.school_key
    LEFT JOIN fact_enrollment f ON f.class_key = c.class_key AND f.is_active
    WHERE c.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
      AND ($stage IS NULL OR c.stage = $stage)
    GROUP BY c.class_key, y.code, c.stage
),
banded AS (
    SELECT school_year, stage, n,
           CASE WHEN n = 0 THEN 0 WHEN n <= 25 THEN 1 WHEN n <= 35 THEN 26 WHEN n <= 45 THEN 36
                WHEN n <= 55 THEN 46 WHEN n <= 65 THEN 56 ELSE 66 END AS band_start
    FROM sizes
)
SELECT school_year, stage,
       CASE band_start WHEN 0 THEN '0' WHEN 1 THEN '1-25' WHEN 26 THEN '26-35'
                       WHEN 36 THEN '36-45' WHEN 46 THEN '46-55' WHEN 56 THEN '56-65'
                       ELSE '66+' END AS size_band,
       band_start,
       COUNT(*) AS classes,
       CAST(SUM(n) AS BIGINT) AS students
FROM banded
GROUP BY school_year, stage, band_start
ORDER BY school_year, CASE stage WHEN 'primary' THEN 1 WHEN 'junior' THEN 2 ELSE 3 END, band_start
