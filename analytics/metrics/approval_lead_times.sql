-- metric: approval_lead_times
-- title_zh: 学籍异动审批时长 | title_en: Status change approval lead times
-- description_zh: 指定学年提交的学籍异动申请，按地区（由 level 选择，申请所属区县）和异动类别统计：申请数、
--   已办结、办理中、已生效、已驳回，以及办结用时（提交至办结，天）的均值、中位数、90 百分位和平均工作日数。
-- description_en: Status change requests submitted in the school year, per region (level chosen
--   by level, the request's county) and change type: requests, closed, open, effective and
--   rejected ones, and the submitted → closed lead time in days (mean, median, 90th percentile)
--   and in working days (mean).
-- grain: one row per school year × region (level chosen by :level) × change type
-- params: school_year, change_type, region, school, level
-- dimensions: school_year, region_code, region_name, change_type, change_type_name_zh, change_type_name_en
-- measures: requests, closed, open, effective, rejected, lead_time_days_mean, lead_time_days_p50, lead_time_days_p90, lead_time_workdays_mean
-- unit: requests (one student each); days
-- suppress: requests, closed, open, effective, rejected
-- withhold: lead_time_days_mean <- closed; lead_time_days_p50 <- closed; lead_time_days_p90 <- closed; lead_time_workdays_mean <- closed
-- sources: fact_status_change, dim_school, dim_region, dim_date, dim_school_year, dim_code
-- notes: Region scope: the request's county (its sending school's, else receiving school's);
--   school scope: requests where the school sends or receives. Lead times of the closed
--   requests with a submission. Reads fact_status_change for exact percentiles:
--   agg_status_change keeps per-cell percentiles that cannot be combined across counties or
--   months (a t-digest or per-day histogram column would make it a rollup). The 90th percentile
--   is continuous here and approximate on Spark (percentile_approx).
WITH types AS (
    SELECT code, max_by(name_zh, valid_from) AS name_zh, max_by(name_en, valid_from) AS name_en
    FROM dim_code WHERE code_set = 'status_change_type' GROUP BY code
),
cells AS (
    SELECT y.code AS school_year,
           CASE $level WHEN 'province' THEN g.province_code
                       WHEN 'prefecture' THEN left(g.county_code, 4)
                       WHEN 'county' THEN g.county_code
                       ELSE coalesce(fs.school_code, ts.school_code) END AS region_code,
           CASE $level WHEN 'province' THEN g.province_name
                       WHEN 'prefecture' THEN coalesce(g.prefecture_name, g.province_name)
                       WHEN 'county' THEN g.county_name
                       ELSE coalesce(fs.school_name, ts.school_name) END AS region_name,
           r.change_type,
           tp.name_zh AS change_type_name_zh,
           tp.name_en AS change_type_name_en,
           COUNT(*) AS requests,
           COUNT(r.closed_date) AS closed,
           COUNT(CASE WHEN r.is_open THEN 1 END) AS open,
           COUNT(CASE WHEN r.state = 'effective' THEN 1 END) AS effective,
           COUNT(CASE WHEN r.state = 'rejected' THEN 1 END) AS rejected,
           round(AVG(r.lead_time_days), 1) AS lead_time_days_mean,
           round(MEDIAN(r.lead_time_days), 1) AS lead_time_days_p50,
           round(percentile_cont(0.9) WITHIN GROUP (ORDER BY r.lead_time_days), 1) AS lead_time_days_p90,
           round(AVG(r.lead_time_workdays), 1) AS lead_time_workdays_mean
    FROM fact_status_change r
    LEFT JOIN dim_school fs ON fs.school_key = r.from_school_key
    LEFT JOIN dim_school ts ON ts.school_key = r.to_school_key
    LEFT JOIN dim_region g ON g.county_code = r.county_code
    LEFT JOIN types tp ON tp.code = r.change_type
    JOIN dim_date d ON d.date = r.submitted_date
    JOIN dim_school_year y ON y.school_year_key = d.school_year_key
    WHERE (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
      AND ($change_type IS NULL OR r.change_type = $change_type)
      AND CASE WHEN $school_code IS NULL
               THEN coalesce(r.county_code, '') LIKE $region_prefix || '%'
               ELSE coalesce((fs.school_code = $school_code AND fs.county_code LIKE $region_prefix || '%')
                             OR (ts.school_code = $school_code AND ts.county_code LIKE $region_prefix || '%'),
                             false)
          END
    GROUP BY ALL
)
SELECT * FROM cells ORDER BY school_year, region_code, change_type
