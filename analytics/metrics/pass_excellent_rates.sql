-- metric: pass_excellent_rates
-- title_zh: 及格率与优秀率 | title_en: Pass and excellent rates
-- description_zh: 指定学年各地区或学校（由 level 选择）各考试类型、年级、学科的参考人数、及格人数（得分率 ≥ 60%，
--   等级制 A/B/C）、优秀人数（得分率 ≥ 85%，等级制 A）及及格率、优秀率。缺考不计。
-- description_en: Per region or school (chosen by level), exam kind, grade and subject in the
--   school year: students with a mark, passed (≥ 60 % of the full mark, or level A/B/C), excellent
--   (≥ 85 %, or level A), and the pass and excellent rates. Absent students are not counted.
-- grain: one row per school year × term × exam kind × grade × subject × region (level chosen by :level)
-- params: school_year, term, exam_kind, stage, grade, subject, region, school, level
-- dimensions: school_year, term, exam_kind, grade_code, subject_code, subject_name_zh, subject_name_en, region_code, region_name
-- measures: sat, passed, excellent, pass_rate, excellent_rate
-- unit: students; rates are fractions 0-1 of sat
-- suppress: sat, passed, excellent
-- withhold: pass_rate <- sat, passed; excellent_rate <- sat, excellent
-- sources: agg_score, dim_school_year, dim_school, dim_region, dim_code
-- notes: Thresholds 60 % / 85 % of the full mark are the common 及格 / 优秀 lines; provinces differ
--   (some use 80 % or 90 % for 优秀). A mark without a score, or with a full mark of 0 or less,
--   counts by its level; a score without a full mark is not counted. The school year is the exam
--   term's, else the exam date's. Counts come from agg_score (graded, passed, excellent).
WITH subjects AS (
    SELECT code, max_by(name_zh, valid_from) AS name_zh, max_by(name_en, valid_from) AS name_en
    FROM dim_code WHERE code_set = 'subject' GROUP BY code
),
cells AS (
    SELECT y.code AS school_year, a.term, a.exam_kind, a.grade_code, a.subject_code,
           sj.name_zh AS subject_name_zh, sj.name_en AS subject_name_en,
           CASE $level WHEN 'province' THEN r.province_code
                       WHEN 'prefecture' THEN left(r.county_code, 4)
                       WHEN 'county' THEN r.county_code
                       ELSE s.school_code END AS region_code,
           CASE $level WHEN 'province' THEN r.province_name
                       WHEN 'prefecture' THEN coalesce(r.prefecture_name, r.province_name)
                       WHEN 'county' THEN r.county_name
                       ELSE s.school_name END AS region_name,
           CAST(SUM(a.graded) AS BIGINT) AS sat,
           CAST(SUM(a.passed) AS BIGINT) AS passed,
           CAST(SUM(a.excellent) AS BIGINT) AS excellent
    FROM agg_score a
    JOIN dim_school s ON s.school_key = a.school_key
    JOIN dim_region r ON r.county_code = a.county_code
    JOIN dim_school_year y ON y.school_year_key = a.school_year_key
    LEFT JOIN subjects sj ON sj.code = a.subject_code
    WHERE a.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
      AND ($term IS NULL OR a.term = $term)
      AND ($exam_kind IS NULL OR a.exam_kind = $exam_kind)
      AND ($stage IS NULL OR left(a.grade_code, 1) = CASE $stage WHEN 'primary' THEN '1'
                                                                 WHEN 'junior' THEN '2'
                                                                 ELSE '3' END)
      AND ($grade IS NULL OR a.grade_code = $grade)
      AND ($subject IS NULL OR a.subject_code = $subject)
    GROUP BY ALL
)
SELECT school_year, term, exam_kind, grade_code, subject_code, subject_name_zh, subject_name_en,
       region_code, region_name, sat, passed, excellent,
       round(passed / NULLIF(sat, 0), 4) AS pass_rate,
       round(excellent / NULLIF(sat, 0), 4) AS excellent_rate
FROM cells
WHERE sat > 0
ORDER BY school_year, term, exam_kind, grade_code, subject_code, region_code
