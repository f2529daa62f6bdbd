-- metric: class_sizes
-- title_zh: 班级规模与大班额 | title_en: Class sizes and oversized classes
-- description_zh: 指定学年各地区（由 level 选择层级）各学段的班级数、在校生数、平均班额、最大班额、
--   超标准班额（小学 >45，初高中 >50）、大班额（≥56）和超大班额（≥66）班级数。学籍系统尚无教师数据，
--   因此不计算生师比；students_per_class 只是按班计算的代用指标，不能替代生师比。
-- description_en: Per region (level chosen by level) and stage in the school year: classes,
--   students, mean and largest class size, classes above the standard size (45 primary, 50
--   junior/senior), 大班额 (56+) and 超大班额 (66+) classes. The registry holds no teacher counts
--   yet, so no student–teacher ratio (生师比) is computed: mean_class_size (students per class) is
--   a class-based proxy only and must not be presented as a student–teacher ratio.
-- grain: one row per school year × region (level chosen by :level) × stage
-- params: school_year, stage, region, school, level
-- dimensions: school_year, region_code, region_name, stage
-- measures: classes, students, mean_class_size, max_class_size, classes_over_standard, classes_56_plus, classes_66_plus, oversized_rate
-- unit: classes and students; mean_class_size in students per class; oversized_rate a fraction 0-1 of classes (56+)
-- suppress: students, max_class_size
-- withhold: mean_class_size <- students
-- sources: agg_class_size, dim_school_year, dim_school, dim_region
-- notes: Classes with no active student count as classes (size 0). Default school year: current.
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
           CAST(SUM(a.classes) AS BIGINT) AS classes,
           CAST(SUM(a.students) AS BIGINT) AS students,
           round(SUM(a.students) / NULLIF(SUM(a.classes), 0), 1) AS mean_class_size,
           MAX(a.max_class_size) AS max_class_size,
           CAST(SUM(a.classes_over_standard) AS BIGINT) AS classes_over_standard,
           CAST(SUM(a.classes_56_plus) AS BIGINT) AS classes_56_plus,
           CAST(SUM(a.classes_66_plus) AS BIGINT) AS classes_66_plus,
           round(SUM(a.classes_56_plus) / NULLIF(SUM(a.classes), 0), 4) AS oversized_rate
    FROM agg_class_size a
    JOIN dim_school_year y ON y.school_year_key = a.school_year_key
    JOIN dim_school s ON s.school_key = a.school_key
    JOIN dim_region r ON r.county_code = a.county_code
    WHERE a.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
      AND ($stage IS NULL OR a.stage = $stage)
    GROUP BY ALL
)
SELECT * FROM cells
ORDER BY school_year, region_code,
         CASE stage WHEN 'primary' THEN 1 WHEN 'junior' THEN 2 ELSE 3 END
