-- metric: chronic_absence
-- title_zh: 长期缺勤学生（按校按月） | title_en: Chronic absence by school and month
-- description_zh: 指定学年每月各学校（或由 level 选择的地区）缺勤天数达到当月上课日 10% 及以上的学生数
--   及其占在校生的比例（按天记录的缺勤，见 attendance_rate_by_school_month）。
-- description_en: Per month of the school year and school (or region, chosen by level): students
--   absent on 10 % or more of the month's school days (absence by the day, as in
--   attendance_rate_by_school_month), and their share of the school's students.
-- grain: one row per school year × month × school (or region, level chosen by :level)
-- params: school_year, month, region, school, level
-- dimensions: school_year, month, region_code, region_name
-- measures: students, school_days, absent_students, chronically_absent, chronic_absence_rate
-- unit: students; chronic_absence_rate a fraction 0-1 of students
-- suppress: students, absent_students, chronically_absent
-- withhold: chronic_absence_rate <- students, chronically_absent
-- sources: agg_attendance, agg_enrollment, dim_school_year, dim_school, dim_region
-- notes: Threshold 10 % of school days (Monday-Friday in a term) per month, applied by the ETL to
--   each student's days of the month at a school (agg_attendance); the 辍学 warning rules of
--   DOMAIN §4.3(e) (4 weeks in a row, 15/45 days) need day-level runs and are not this metric.
--   Only school-months with attendance rows appear. Students are distinct per school and month,
--   summed over the schools of a region.
WITH sel AS (
    SELECT school_year_key, code FROM dim_school_year
    WHERE code = $school_year OR ($school_year IS NULL AND is_current)
),
enrolled AS (
    SELECT a.school_key, SUM(a.students) AS students
    FROM agg_enrollment a
    JOIN sel ON sel.school_year_key = a.school_year_key
    WHERE a.county_code LIKE $region_prefix || '%'
    GROUP BY a.school_key
),
per_school AS (
    SELECT a.school_key, a.month, MAX(a.school_days) AS school_days,
           SUM(a.net_absent_students) AS absent_students,
           SUM(a.chronically_absent) AS chronically_absent
    FROM agg_attendance a
    JOIN sel ON sel.school_year_key = a.school_year_key
    WHERE a.county_code LIKE $region_prefix || '%'
      AND ($month IS NULL OR a.month = $month)
    GROUP BY a.school_key, a.month
),
cells AS (
    SELECT sel.code AS school_year,
           strftime(ps.month, '%Y-%m') AS month,
           CASE $level WHEN 'province' THEN r.province_code
                       WHEN 'prefecture' THEN left(r.county_code, 4)
                       WHEN 'county' THEN r.county_code
                       ELSE s.school_code END AS region_code,
           CASE $level WHEN 'province' THEN r.province_name
                       WHEN 'prefecture' THEN coalesce(r.prefecture_name, r.province_name)
                       WHEN 'county' THEN r.county_name
                       ELSE s.school_name END AS region_name,
           CAST(SUM(coalesce(e.students, 0)) AS BIGINT) AS students,
           MAX(ps.school_days) AS school_days,
           CAST(SUM(ps.absent_students) AS BIGINT) AS absent_students,
           CAST(SUM(ps.chronically_absent) AS BIGINT) AS chronically_absent,
           round(SUM(ps.chronically_absent) / NULLIF(SUM(coalesce(e.students, 0)), 0), 4)
               AS chronic_absence_rate
    FROM per_school ps
    CROSS JOIN sel
    JOIN dim_school s ON s.school_key = ps.school_key
    JOIN dim_region r ON r.county_code = s.county_code
    LEFT JOIN enrolled e ON e.school_key = ps.school_key
    WHERE $school_code IS NULL OR s.school_code = $school_code
    GROUP BY ALL
)
SELECT * FROM cells ORDER BY school_year, month, region_code
