-- metric: data_quality
-- title_zh: 学籍数据质量 | title_en: Registry data quality
-- description_zh: 截至快照日，各地区或学校（由 level 选择）在籍学生（在校、休学）中：缺身份证件号码、性别未知、
--   户口所在地代码不完整的人数；仍为临时学籍号（L，未通过全国查重确认）的人数及其中超过 90 天的人数；
--   有办理中“问题学籍处理”申请的人数；以及至少有一项问题的“问题学籍”人数和比例。
-- description_en: As of the snapshot, per region or school (chosen by level), among the students
--   on a school's books (在校 or 休学): missing ID number, sex unknown, incomplete 户口所在地
--   code; still on a temporary (L) student number not confirmed by the national duplicate check,
--   and those older than 90 days; with an open 问题学籍处理 request; and problem records (any
--   of these) with their share.
-- grain: one row per region (level chosen by :level)
-- params: region, school, level
-- dimensions: region_code, region_name
-- measures: students, missing_id_number, sex_unknown, hukou_incomplete, l_numbers, l_numbers_over_90_days, open_problem_requests, problem_records, problem_rate
-- unit: students; problem_rate a fraction 0-1 of students
-- suppress: students, missing_id_number, sex_unknown, hukou_incomplete, l_numbers, l_numbers_over_90_days, open_problem_requests, problem_records
-- withhold: problem_rate <- students, problem_records
-- sources: agg_data_quality, dim_school, dim_region
-- notes: Students belong to the school of their current (or last) enrollment. The 90 days count
--   from the issue day of the current L number to the snapshot's as-of day. The per-student flags
--   ("any problem" included) are counted per school by the ETL into agg_data_quality.
WITH cells AS (
    SELECT CASE $level WHEN 'province' THEN r.province_code
                       WHEN 'prefecture' THEN left(r.county_code, 4)
                       WHEN 'county' THEN r.county_code
                       ELSE s.school_code END AS region_code,
           CASE $level WHEN 'province' THEN r.province_name
                       WHEN 'prefecture' THEN coalesce(r.prefecture_name, r.province_name)
                       WHEN 'county' THEN r.county_name
                       ELSE s.school_name END AS region_name,
           CAST(SUM(a.students) AS BIGINT) AS students,
           CAST(SUM(a.missing_id_number) AS BIGINT) AS missing_id_number,
           CAST(SUM(a.sex_unknown) AS BIGINT) AS sex_unknown,
           CAST(SUM(a.hukou_incomplete) AS BIGINT) AS hukou_incomplete,
           CAST(SUM(a.l_numbers) AS BIGINT) AS l_numbers,
           CAST(SUM(a.l_numbers_over_90_days) AS BIGINT) AS l_numbers_over_90_days,
           CAST(SUM(a.open_problem_requests) AS BIGINT) AS open_problem_requests,
           CAST(SUM(a.problem_records) AS BIGINT) AS problem_records
    FROM agg_data_quality a
    JOIN dim_school s ON s.school_key = a.school_key
    JOIN dim_region r ON r.county_code = a.county_code
    WHERE a.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
    GROUP BY ALL
)
SELECT region_code, region_name, students, missing_id_number, sex_unknown, hukou_incomplete,
       l_numbers, l_numbers_over_90_days, open_problem_requests, problem_records,
       round(problem_records / NULLIF(students, 0), 4) AS problem_rate
FROM cells
ORDER BY region_code
