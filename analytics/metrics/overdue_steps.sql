-- metric: overdue_steps
-- title_zh: 审批环节超期情况 | title_en: Overdue approval steps
-- description_zh: 截至快照日，各办理单位（由 level 选择地区；学校环节按学校）按单位类别统计的审批环节：环节数、待办、
--   待办已超期、已办理、超期办理，以及等待天数均值与 90 百分位（期限为 10 个工作日）。
-- description_en: Approval steps as of the snapshot, per handling unit's region (level chosen by
--   level; school steps by school at level school) and unit kind: steps, open steps (waiting or
--   pending), open and past their due date, decided, decided after the due date, and the mean
--   and 90th percentile of the waiting days (the deadline is 10 working days).
-- grain: one row per handling region (level chosen by :level) × unit kind
-- params: change_type, region, school, level
-- dimensions: region_code, region_name, unit_kind, unit_kind_name_zh, unit_kind_name_en
-- measures: steps, open_steps, overdue_open, decided, decided_late, wait_days_mean, wait_days_p90
-- unit: approval steps (one student's request each); days
-- suppress: steps, open_steps, overdue_open, decided, decided_late
-- withhold: wait_days_mean <- decided; wait_days_p90 <- decided
-- sources: fact_status_change_step, fact_status_change, dim_school, dim_region, dim_code
-- notes: Scoped by the step's county (the handling school's, the bureau's, else the request's); a
--   school-level scope sees its own school's steps only. At level school a bureau step shows the
--   bureau's region code. Reads fact_status_change_step: agg_status_change counts overdue steps by
--   the request's county and month only; a rollup by handling unit would serve it.
WITH kinds AS (
    SELECT code, max_by(name_zh, valid_from) AS name_zh, max_by(name_en, valid_from) AS name_en
    FROM dim_code WHERE code_set = 'unit_kind' GROUP BY code
),
cells AS (
    SELECT CASE $level WHEN 'province' THEN coalesce(g.province_code, st.province_code)
                       WHEN 'prefecture' THEN left(coalesce(g.county_code, st.region_code), 4)
                       WHEN 'county' THEN coalesce(g.county_code, st.region_code)
                       ELSE coalesce(s.school_code, st.region_code) END AS region_code,
           CASE $level WHEN 'province' THEN g.province_name
                       WHEN 'prefecture' THEN coalesce(g.prefecture_name, g.province_name)
                       WHEN 'county' THEN g.county_name
                       ELSE coalesce(s.school_name, g.county_name) END AS region_name,
           st.unit_kind,
           k.name_zh AS unit_kind_name_zh,
           k.name_en AS unit_kind_name_en,
           COUNT(*) AS steps,
           COUNT(CASE WHEN st.state IN ('waiting', 'pending') THEN 1 END) AS open_steps,
           COUNT(CASE WHEN st.state IN ('waiting', 'pending') AND st.overdue THEN 1 END)
               AS overdue_open,
           COUNT(st.acted_date) AS decided,
           COUNT(CASE WHEN st.acted_date IS NOT NULL AND st.overdue THEN 1 END) AS decided_late,
           round(AVG(st.wait_days), 1) AS wait_days_mean,
           round(percentile_cont(0.9) WITHIN GROUP (ORDER BY st.wait_days), 1) AS wait_days_p90
    FROM fact_status_change_step st
    JOIN fact_status_change r ON r.request_key = st.request_key
    LEFT JOIN dim_school s ON s.school_key = st.school_key
    LEFT JOIN dim_region g ON g.county_code = st.county_code
    LEFT JOIN kinds k ON k.code = st.unit_kind
    WHERE coalesce(st.county_code, st.region_code, '') LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
      AND ($change_type IS NULL OR r.change_type = $change_type)
    GROUP BY ALL
)
SELECT * FROM cells ORDER BY region_code, unit_kind
