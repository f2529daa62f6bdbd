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
-- sources: fact_score, dim_term, dim_date, dim_school_year, dim_school, dim_region, dim_code
-- notes: Thresholds 60 % / 85 % of the full mark are the common 及格 / 优秀 lines; provinces differ
--   (some use 80 % or 90 % for 优秀). Reads fact_score (empty until the teaching-records issue);
--   see subject_means for the rollup that would serve both.
WITH subjects AS (
    SELECT code, max_by(name_zh, valid_from) AS name_zh, max_by(name_en, valid_from) AS name_en
    FROM dim_code WHERE code_set = 'subject' GROUP BY code
),
marks AS (
    SELECT y.code AS school_year, t.number AS term, f.exam_kind, f.grade_code, f.subject_code,
           s.school_code, s.school_name, r.county_code, r.county_name, r.province_code,
           r.province_name, r.prefecture_name,
           CASE WHEN f.score IS NOT NULL AND f.full_mark > 0 THEN f.score / f.full_mark END AS pct,
           CASE WHEN f.score IS NULL OR NOT f.full_mark > 0 THEN f.level END AS level
    FROM fact_score f
    JOIN dim_school s ON s.school_key = f.school_key
    JOIN dim_region r ON r.county_code = f.county_code
    LEFT JOIN dim_term t ON t.term_key = f.term_key
    LEFT JOIN dim_date d ON d.date = f.exam_date
    JOIN dim_school_year y ON y.school_year_key = coalesce(t.school_year_key, d.school_year_key)
    WHERE NOT f.absent
      AND f.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
      AND ($term IS NULL OR t.number = $term)
      AND ($exam_kind IS NULL OR f.exam_kind = $exam_kind)
      AND ($stage IS NULL OR left(f.grade_code, 1) = CASE $stage WHEN 'primary' THEN '1'
                                                                 WHEN 'junior' THEN '2'
                                                                 ELSE '3' END)
      AND ($grade IS NULL OR f.grade_code = $grade)
      AND ($subject IS NULL OR f.subject_code = $subject)
),
cells AS (
    SELECT m.school_year, m.term, m.exam_kind, m.grade_code, m.subject_code,
           sj.name_zh AS subject_name_zh, sj.name_en AS subject_name_en,
           CASE $level WHEN 'province' THEN m.province_code
                       WHEN 'prefecture' THEN left(m.county_code, 4)
                       WHEN 'county' THEN m.county_code
                       ELSE m.school_code END AS region_code,
           CASE $level WHEN 'province' THEN m.province_name
                       WHEN 'prefecture' THEN coalesce(m.prefecture_name, m.province_name)
                       WHEN 'county' THEN m.county_name
                       ELSE m.school_name END AS region_name,
           COUNT(CASE WHEN m.pct IS NOT NULL OR m.level IS NOT NULL THEN 1 END) AS sat,
           COUNT(CASE WHEN m.pct >= 0.6 OR m.level IN ('A', 'B', 'C') THEN 1 END) AS passed,
           COUNT(CASE WHEN m.pct >= 0.85 OR m.level = 'A' THEN 1 END) AS excellent
    FROM marks m
    LEFT JOIN subjects sj ON sj.code = m.subject_code
    GROUP BY ALL
)
SELECT school_year, term, exam_kind, grade_code, subject_code, subject_name_zh, subject_name_en,
       region_code, region_name, sat, passed, excellent,
       round(passed / NULLIF(sat, 0), 4) AS pass_rate,
       round(excellent / NULLIF(sat, 0), 4) AS excellent_rate
FROM cells
WHERE sat > 0
ORDER BY school_year, term, exam_kind, grade_code, subject_code, region_code
