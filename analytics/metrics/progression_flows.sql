-- metric: progression_flows
-- title_zh: 毕业与升学流向 | title_en: Graduation and progression flows
-- description_zh: 完成学段（毕业年级）学生的去向，用于桑基图：basis = enrollment（默认）按次年在本系统的学籍
--   （升入初中/高中、留级、离开本系统、其他）；basis = destination 按毕业时登记的毕业去向（普通高中、职业高中、就业、参军……）。
-- description_en: Where the students completing a stage go, for a Sankey diagram. basis =
--   enrollment (default): their enrollment in the registry the next school year (next stage,
--   repeated, not enrolled in the registry, other). basis = destination: the 毕业去向 recorded at
--   graduation (general senior high, vocational, employment, military, …).
-- grain: one row per school year × source stage × target
-- params: school_year, stage, basis, region, school
-- dimensions: school_year, basis, source, source_name_zh, source_name_en, target, target_name_zh, target_name_en
-- measures: students
-- unit: students
-- suppress: students
-- sources: agg_progression, fact_graduation, dim_school_year, dim_school, dim_code
-- notes: school_year is the year the flow starts from (the graduation year); default: the one
--   before the current. Enrollment basis: students in the last grade of their stage (16/15, 23/24,
--   33) plus any who moved up a stage; "left" also covers vocational schools, other provinces'
--   systems and work, which the registry does not hold. Destination basis reads fact_graduation
--   (empty until the teaching-records issue; the rollup agg_graduation proposed in
--   graduation_outcomes would serve it); target "unknown" = no destination recorded.
WITH sel AS (
    SELECT school_year_key, code FROM dim_school_year
    WHERE code = $school_year
       OR ($school_year IS NULL AND seq = (SELECT MAX(seq) FROM dim_school_year WHERE is_current) - 1)
),
names AS (
    SELECT code_set, code, max_by(name_zh, valid_from) AS name_zh,
           max_by(name_en, valid_from) AS name_en
    FROM dim_code WHERE code_set IN ('stage', 'flow', 'graduation_destination')
    GROUP BY code_set, code
),
flows AS (
    SELECT sel.code AS school_year, 'enrollment' AS basis, p.from_stage AS source,
           CASE WHEN p.flow = 'progressed' THEN coalesce(p.to_stage, 'other')
                WHEN p.flow IN ('left', 'repeated') THEN p.flow
                ELSE 'other' END AS target,
           SUM(p.students) AS students
    FROM agg_progression p
    JOIN sel ON sel.school_year_key = p.school_year_key
    JOIN dim_school s ON s.school_key = p.school_key
    WHERE coalesce($basis, 'enrollment') = 'enrollment'
      AND (p.completed_stage OR p.flow = 'progressed')
      AND p.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND ($stage IS NULL OR p.from_stage = $stage)
    GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT sel.code AS school_year, 'destination' AS basis, g.stage AS source,
           coalesce(g.destination, 'unknown') AS target,
           COUNT(DISTINCT g.student_key) AS students
    FROM fact_graduation g
    JOIN sel ON sel.school_year_key = g.school_year_key
    JOIN dim_school s ON s.school_key = g.school_key
    WHERE $basis = 'destination'
      AND g.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND ($stage IS NULL OR g.stage = $stage)
    GROUP BY 1, 2, 3, 4
)
SELECT f.school_year, f.basis, f.source,
       sn.name_zh AS source_name_zh, sn.name_en AS source_name_en,
       f.target,
       coalesce(st.name_zh, fl.name_zh, dn.name_zh,
                CASE WHEN f.target = 'unknown' THEN '未登记' END) AS target_name_zh,
       coalesce(st.name_en, fl.name_en, dn.name_en,
                CASE WHEN f.target = 'unknown' THEN 'Not recorded' END) AS target_name_en,
       CAST(f.students AS BIGINT) AS students
FROM flows f
LEFT JOIN names sn ON sn.code_set = 'stage' AND sn.code = f.source
LEFT JOIN names st ON f.basis = 'enrollment' AND st.code_set = 'stage' AND st.code = f.target
LEFT JOIN names fl ON f.basis = 'enrollment' AND fl.code_set = 'flow' AND fl.code = f.target
LEFT JOIN names dn ON f.basis = 'destination' AND dn.code_set = 'graduation_destination'
                  AND dn.code = f.target
ORDER BY f.school_year,
         CASE f.source WHEN 'primary' THEN 1 WHEN 'junior' THEN 2 ELSE 3 END,
         f.students DESC, f.target
