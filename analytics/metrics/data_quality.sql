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
-- sources: dim_student, fact_student_number, fact_status_change, meta_manifest, dim_school, dim_region
-- notes: Students belong to the school of their current (or last) enrollment. The 90 days count
--   from the issue day of the current L number to the snapshot's as-of day. Reads dim_student
--   and fact_student_number (student level, for "any problem"); agg_student_number alone gives
--   the L counts; a rollup agg_data_quality (county, school, the counts above) would serve it.
WITH as_of AS (
    SELECT CAST(MAX(as_of) AS DATE) AS d FROM meta_manifest
),
l_numbers AS (
    SELECT student_key, MIN(issued_date) AS issued_date
    FROM fact_student_number
    WHERE is_current AND kind = 'L'
    GROUP BY student_key
),
problems AS (
    SELECT DISTINCT student_key FROM fact_status_change
    WHERE change_type = '52' AND is_open
),
students AS (
    SELECT d.current_school_key AS school_key, d.current_county_code AS county_code,
           d.id_doc_type_class = 'none' AS missing_id_number,
           d.sex NOT IN ('1', '2') AS sex_unknown,
           (length(d.hukou_county_code) <> 6 OR d.hukou_county_code LIKE '%0000') AS hukou_incomplete,
           d.number_kind = 'L' AS l_number,
           coalesce(d.number_kind = 'L'
                    AND l.issued_date < (SELECT d FROM as_of) - INTERVAL 90 DAY, false) AS l_old,
           pr.student_key IS NOT NULL AS open_problem
    FROM dim_student d
    LEFT JOIN l_numbers l ON l.student_key = d.student_key
    LEFT JOIN problems pr ON pr.student_key = d.student_key
    WHERE d.current_status IN ('01', '02')
      AND d.current_school_key IS NOT NULL
      AND d.current_county_code LIKE $region_prefix || '%'
),
cells AS (
    SELECT CASE $level WHEN 'province' THEN r.province_code
                       WHEN 'prefecture' THEN left(r.county_code, 4)
                       WHEN 'county' THEN r.county_code
                       ELSE s.school_code END AS region_code,
           CASE $level WHEN 'province' THEN r.province_name
                       WHEN 'prefecture' THEN coalesce(r.prefecture_name, r.province_name)
                       WHEN 'county' THEN r.county_name
                       ELSE s.school_name END AS region_name,
           COUNT(*) AS students,
           COUNT(CASE WHEN t.missing_id_number THEN 1 END) AS missing_id_number,
           COUNT(CASE WHEN t.sex_unknown THEN 1 END) AS sex_unknown,
           COUNT(CASE WHEN t.hukou_incomplete THEN 1 END) AS hukou_incomplete,
           COUNT(CASE WHEN t.l_number THEN 1 END) AS l_numbers,
           COUNT(CASE WHEN t.l_old THEN 1 END) AS l_numbers_over_90_days,
           COUNT(CASE WHEN t.open_problem THEN 1 END) AS open_problem_requests,
           COUNT(CASE WHEN t.missing_id_number OR t.sex_unknown OR t.hukou_incomplete OR t.l_old
                           OR t.open_problem THEN 1 END) AS problem_records
    FROM students t
    JOIN dim_school s ON s.school_key = t.school_key
    JOIN dim_region r ON r.county_code = t.county_code
    WHERE $school_code IS NULL OR s.school_code = $school_code
    GROUP BY ALL
)
SELECT region_code, region_name, students, missing_id_number, sex_unknown, hukou_incomplete,
       l_numbers, l_numbers_over_90_days, open_problem_requests, problem_records,
       round(problem_records / NULLIF(students, 0), 4) AS problem_rate
FROM cells
ORDER BY region_code
