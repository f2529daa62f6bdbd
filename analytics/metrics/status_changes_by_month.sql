-- metric: status_changes_by_month
-- title_zh: 学籍异动月度统计 | title_en: Status changes by month
-- description_zh: 指定学年内各月提交（草稿按创建）的学籍异动申请数，按异动类别和申请状态。
-- description_en: Status change requests per month of submission (creation for drafts) in the
--   school year, by change type and request state.
-- grain: one row per month × change type × state
-- params: school_year, change_type, region, school
-- dimensions: month, change_type, change_type_name_zh, change_type_name_en, state
-- measures: requests
-- unit: requests (one student each)
-- suppress: requests
-- sources: agg_status_change, fact_status_change, dim_school, dim_school_year, dim_code
-- notes: Region scopes read the rollup agg_status_change (by the request's county). The rollup has
--   no school, so a school scope reads fact_status_change instead (requests the school sends or
--   receives). Default school year: current.
WITH sel AS (
    SELECT start_date, end_date FROM dim_school_year
    WHERE code = $school_year OR ($school_year IS NULL AND is_current)
),
types AS (
    SELECT code, max_by(name_zh, valid_from) AS name_zh, max_by(name_en, valid_from) AS name_en
    FROM dim_code WHERE code_set = 'status_change_type' GROUP BY code
),
monthly AS (
    SELECT a.month, a.change_type, a.state, SUM(a.requests) AS requests
    FROM agg_status_change a
    JOIN sel ON a.month BETWEEN sel.start_date AND sel.end_date
    WHERE $school_code IS NULL
      AND a.county_code LIKE $region_prefix || '%'
      AND ($change_type IS NULL OR a.change_type = $change_type)
    GROUP BY a.month, a.change_type, a.state
    UNION ALL
    SELECT CAST(date_trunc('month', coalesce(r.submitted_date, r.created_date)) AS DATE) AS month,
           r.change_type, r.state, COUNT(*) AS requests
    FROM fact_status_change r
    JOIN sel ON coalesce(r.submitted_date, r.created_date) BETWEEN sel.start_date AND sel.end_date
    LEFT JOIN dim_school fs ON fs.school_key = r.from_school_key
    LEFT JOIN dim_school ts ON ts.school_key = r.to_school_key
    WHERE $school_code IS NOT NULL
      AND coalesce((fs.school_code = $school_code AND fs.county_code LIKE $region_prefix || '%')
                   OR (ts.school_code = $school_code AND ts.county_code LIKE $region_prefix || '%'),
                   false)
      AND ($change_type IS NULL OR r.change_type = $change_type)
    GROUP BY 1, 2, 3
)
SELECT strftime(m.month, '%Y-%m') AS month, m.change_type,
       tp.name_zh AS change_type_name_zh, tp.name_en AS change_type_name_en, m.state,
       CAST(SUM(m.requests) AS BIGINT) AS requests
FROM monthly m
LEFT JOIN types tp ON tp.code = m.change_type
GROUP BY m.month, m.change_type, tp.name_zh, tp.name_en, m.state
ORDER BY m.month, m.change_type, m.state
