-- metric: score_distribution
-- title_zh: 成绩分布 | title_en: Score distribution
-- description_zh: 指定学年范围内各考试类型、年级、学科按得分率（得分/满分）10 个百分点分段的学生数；
--   只评等级的试卷按等级（level A/B/C/D）计数。缺考不计。
-- description_en: Students per band of 10 percentage points of the full mark (0-9 … 90-100), by
--   exam kind, grade and subject, in the school year and scope; papers graded by level only are
--   counted per level ("level A" …). Absent students (缺考) are not counted.
-- grain: one row per school year × term × exam kind × grade × subject × band
-- params: school_year, term, exam_kind, stage, grade, subject, region, school
-- dimensions: school_year, term, exam_kind, grade_code, subject_code, subject_name_zh, subject_name_en, band, band_start
-- measures: students
-- unit: students
-- suppress: students
-- sources: agg_score_band, dim_school_year, dim_school, dim_code
-- notes: A score above the full mark falls in 90-100. band_start is NULL for level bands. The
--   school year is the exam term's, else the exam date's. Subject names come from a `subject`
--   code set once the exams issue defines it (NULL until then). Bands are counted per school by
--   the ETL (agg_score_band).
WITH subjects AS (
    SELECT code, max_by(name_zh, valid_from) AS name_zh, max_by(name_en, valid_from) AS name_en
    FROM dim_code WHERE code_set = 'subject' GROUP BY code
),
cells AS (
    SELECT y.code AS school_year, a.term, a.exam_kind, a.grade_code, a.subject_code,
           sj.name_zh AS subject_name_zh, sj.name_en AS subject_name_en,
           CASE WHEN a.band_start IS NULL THEN 'level ' || a.level
                WHEN a.band_start = 90 THEN '90-100'
                ELSE CAST(a.band_start AS VARCHAR) || '-' || CAST(a.band_start + 9 AS VARCHAR)
           END AS band,
           a.band_start,
           CAST(SUM(a.students) AS BIGINT) AS students
    FROM agg_score_band a
    JOIN dim_school s ON s.school_key = a.school_key
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
ORDER BY school_year, term, exam_kind, grade_code, subject_code, band_start, band
