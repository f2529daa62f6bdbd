-- metric: attendance_rate_by_school_month
-- title_zh: 各校各月出勤率 | title_en: Attendance rate by school and month
-- description_zh: 指定学年每月各学校（或由 level 选择的地区）的出勤率 = 1 − 缺勤天数 /（在校生数 × 上课日数）；
--   上课日为学期内的周一至周五（未建模节假日）。按天记录的考勤（病假、事假、旷课天数等）计为缺勤天数；
--   只按节记录的（迟到、早退、旷课节数）单列为缺课节数，不计入缺勤天数。
-- description_en: Per month of the school year and school (or region, chosen by level): attendance
--   rate = 1 − absence days / (students × school days). School days are Monday-Friday days
--   inside a term (public holidays are not modelled). Attendance rows carrying days (leave,
--   absence by the day) are absence days; rows with lesson periods only (late, early leave,
--   truancy by the lesson) are reported as periods_missed and do not lower the rate.
-- grain: one row per school year × month × school (or region, level chosen by :level)
-- params: school_year, month, region, school, level
-- dimensions: school_year, month, region_code, region_name
-- measures: students, school_days, absence_days, absent_students, periods_missed, attendance_rate
-- unit: students; days; periods (lessons); attendance_rate a fraction 0-1
-- suppress: students, absent_students
-- withhold: attendance_rate <- students
-- sources: agg_attendance, agg_enrollment, dim_school_year, dim_school, dim_region
-- notes: Only school-months with at least one attendance row appear (an unrecorded month and a
--   month without any absence look alike). students = active enrollments of the school year.
--   absent_students are distinct per school and month (from agg_attendance), summed over the
--   schools of a region. Default school year: current; level default follows the scope (use
--   level=school).
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
absences AS (
    SELECT a.school_key, a.month, MAX(a.school_days) AS school_days,
           SUM(a.absence_days) AS absence_days,
           SUM(a.absent_students) AS absent_students,
           SUM(a.periods_missed) AS periods_missed
    FROM agg_attendance a
    JOIN sel ON sel.school_year_key = a.school_year_key
    WHERE a.county_code LIKE $region_prefix || '%'
      AND ($month IS NULL OR a.month = $month)
    GROUP BY a.school_key, a.month
),
cells AS (
    SELECT sel.code AS school_year,
           strftime(ab.month, '%Y-%m') AS month,
           CASE $level WHEN 'province' THEN r.province_code
                       WHEN 'prefecture' THEN left(r.county_code, 4)
                       WHEN 'county' THEN r.county_code
                       ELSE s.school_code END AS region_code,
           CASE $level WHEN 'province' THEN r.province_name
                       WHEN 'prefecture' THEN coalesce(r.prefecture_name, r.province_name)
                       WHEN 'county' THEN r.county_name
                       ELSE s.school_name END AS region_name,
           CAST(SUM(coalesce(e.students, 0)) AS BIGINT) AS students,
           MAX(ab.school_days) AS school_days,
           round(SUM(ab.absence_days), 1) AS absence_days,
           CAST(SUM(ab.absent_students) AS BIGINT) AS absent_students,
           CAST(SUM(ab.periods_missed) AS BIGINT) AS periods_missed,
           round(1 - SUM(ab.absence_days)
                     / NULLIF(SUM(coalesce(e.students, 0)) * MAX(ab.school_days), 0), 4)
               AS attendance_rate
    FROM absences ab
    CROSS JOIN sel
    JOIN dim_school s ON s.school_key = ab.school_key
    JOIN dim_region r ON r.county_code = s.county_code
    LEFT JOIN enrolled e ON e.school_key = ab.school_key
    WHERE $school_code IS NULL OR s.school_code = $school_code
    GROUP BY ALL
)
SELECT * FROM cells ORDER BY school_year, month, region_code
