-- metric: transfers_by_region_pair
-- title_zh: 转学流向（转出地—转入地） | title_en: Transfers by region pair
-- description_zh: 指定学年提交的转学申请（学籍异动 35 转学）按转出地、转入地（由 level 选择层级）统计：申请数、
--   已生效、办理中、未生效（驳回、撤销、清理）。direction 表示相对于调用者范围是转入、转出还是范围内。
-- description_en: Transfer requests (学籍异动 35 转学) submitted in the school year, by sending
--   and receiving region (level chosen by level): requests, effective, pending and not effective
--   (rejected, cancelled, purged). direction says whether the transfer comes into the caller's
--   scope ("in"), leaves it ("out") or stays inside it ("within").
-- grain: one row per school year × from region × to region (level chosen by :level) × direction
-- params: school_year, region, school, level
-- dimensions: school_year, direction, from_region_code, from_region_name, to_region_code, to_region_name
-- measures: requests, effective, pending, not_effective
-- unit: requests (one student each)
-- suppress: requests, effective, pending, not_effective
-- sources: fact_status_change, dim_school, dim_region, dim_date, dim_school_year
-- notes: A request is in scope when its sending or its receiving school is. Drafts are left out; the
--   school year is the one of the submission day. A region outside the registry (another
--   province's system) has NULL code and name. Reads fact_status_change: agg_status_change has
--   no receiving county; a rollup agg_transfer (month, from county, to county, state, requests)
--   would serve it.
WITH base AS (
    SELECT y.code AS school_year, r.state,
           fr.county_code AS from_county, fr.county_name AS from_county_name,
           fr.province_code AS from_province, fr.province_name AS from_province_name,
           coalesce(fr.prefecture_name, fr.province_name) AS from_prefecture_name,
           fs.school_code AS from_school_code, fs.school_name AS from_school_name,
           tr.county_code AS to_county, tr.county_name AS to_county_name,
           tr.province_code AS to_province, tr.province_name AS to_province_name,
           coalesce(tr.prefecture_name, tr.province_name) AS to_prefecture_name,
           ts.school_code AS to_school_code, ts.school_name AS to_school_name,
           coalesce(fr.county_code LIKE $region_prefix || '%'
                    AND ($school_code IS NULL OR fs.school_code = $school_code), false) AS from_in,
           coalesce(tr.county_code LIKE $region_prefix || '%'
                    AND ($school_code IS NULL OR ts.school_code = $school_code), false) AS to_in
    FROM fact_status_change r
    LEFT JOIN dim_school fs ON fs.school_key = r.from_school_key
    LEFT JOIN dim_school ts ON ts.school_key = r.to_school_key
    LEFT JOIN dim_region fr ON fr.county_code = r.from_county_code
    LEFT JOIN dim_region tr ON tr.county_code = r.to_county_code
    JOIN dim_date d ON d.date = r.submitted_date
    JOIN dim_school_year y ON y.school_year_key = d.school_year_key
    WHERE r.change_type = '35'
      AND r.state <> 'draft'
      AND (y.code = $school_year OR ($school_year IS NULL AND y.is_current))
),
cells AS (
    SELECT school_year,
           CASE WHEN from_in AND to_in THEN 'within' WHEN from_in THEN 'out' ELSE 'in' END
               AS direction,
           CASE $level WHEN 'province' THEN from_province
                       WHEN 'prefecture' THEN left(from_county, 4)
                       WHEN 'county' THEN from_county
                       ELSE from_school_code END AS from_region_code,
           CASE $level WHEN 'province' THEN from_province_name
                       WHEN 'prefecture' THEN from_prefecture_name
                       WHEN 'county' THEN from_county_name
                       ELSE from_school_name END AS from_region_name,
           CASE $level WHEN 'province' THEN to_province
                       WHEN 'prefecture' THEN left(to_county, 4)
                       WHEN 'county' THEN to_county
                       ELSE to_school_code END AS to_region_code,
           CASE $level WHEN 'province' THEN to_province_name
                       WHEN 'prefecture' THEN to_prefecture_name
                       WHEN 'county' THEN to_county_name
                       ELSE to_school_name END AS to_region_name,
           COUNT(*) AS requests,
           COUNT(CASE WHEN state = 'effective' THEN 1 END) AS effective,
           COUNT(CASE WHEN state = 'submitted' THEN 1 END) AS pending,
           COUNT(CASE WHEN state IN ('rejected', 'cancelled', 'purged') THEN 1 END) AS not_effective
    FROM base
    WHERE from_in OR to_in
    GROUP BY ALL
)
SELECT * FROM cells
ORDER BY school_year, direction, from_region_code, to_region_code
