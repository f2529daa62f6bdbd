-- metric: subject_means
-- title_zh: 学科平均分 | title_en: Subject means
-- description_zh: 指定学年各地区或学校（由 level 选择）各考试类型、年级、学科的参考人数、缺考人数、平均分和平均得分率
--   （得分/满分，百分制）。缺考不计入平均分；只评等级的试卷不计入。
-- description_en: Per region or school (chosen by level), exam kind, grade and subject in the
--   school year: students with a mark, absent students, mean score and mean percentage of the
--   full mark. Absent students (缺考) are left out of the means (flagged by the absent count);
--   papers graded by level only are not averaged.
-- grain: one row per school year × term × exam kind × grade × subject × region (level chosen by :level)
-- params: school_year, term, exam_kind, stage, grade, subject, region, school, level
-- dimensions: school_year, term, exam_kind, grade_code, subject_code, subject_name_zh, subject_name_en, region_code, region_name
-- measures: sat, absent, mean_score, mean_pct, full_mark
-- unit: students (sat, absent); marks (mean_score, full_mark); percent of the full mark (mean_pct, 0-100)
-- suppress: sat, absent
-- withhold: mean_score <- sat; mean_pct <- sat
-- sources: agg_score, dim_school_year, dim_school, dim_region, dim_code
-- notes: mean_score mixes papers of different full marks when they are pooled (full_mark shows the
--   largest); compare mean_pct across regions. The school year is the exam term's, else the exam
--   date's. Means are the sums of agg_score divided by their counts (the same value as averaging
--   the scores, up to floating-point rounding in the last bits before the result is rounded).
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
           CAST(SUM(a.scored) AS BIGINT) AS sat,
           CAST(SUM(a.absent) AS BIGINT) AS absent,
           round(SUM(a.score_sum) / NULLIF(SUM(a.scored), 0), 2) AS mean_score,
           round(SUM(a.pct_sum) / NULLIF(SUM(a.pct_scored), 0), 2) AS mean_pct,
           MAX(a.full_mark) AS full_mark
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
SELECT * FROM cells
WHERE sat > 0 OR absent > 0
ORDER BY school_year, term, exam_kind, grade_code, subject_code, region_code
