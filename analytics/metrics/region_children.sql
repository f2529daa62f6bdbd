-- metric: region_children
-- title_zh: 下级地区与学校（筛选项） | title_en: Child regions and schools (filter options)
-- description_zh: 调用者范围（可用 region/school 收窄）内的下一级单位及名称，供下拉筛选：全国 → 省，省 → 地市，
--   地市 → 区县，区县 → 学校；学校用户只看到本校。只列出有学校登记的地区，并给出学校数。
-- description_en: The units one level below the caller's (narrowed) scope, with names, for the
--   filter dropdowns: national → provinces, province → prefectures, prefecture → counties,
--   county → schools; a school-level scope sees its own school. Only regions with registered
--   schools are listed, with their number of schools.
-- grain: one row per child unit (province, prefecture, county or school) of the scope
-- params: region, school
-- dimensions: kind, code, name, parent_code, is_active
-- measures: schools
-- unit: schools
-- sources: dim_school, dim_region
-- notes: code is usable as the region parameter (2/4/6 digits) or, for kind school, as the school
--   parameter (10-digit 学校标识码). is_active is false for a region only when all its schools
--   are closed. No person counts: nothing is suppressed.
WITH sch AS (
    SELECT s.school_code, s.school_name, s.is_active, r.county_code, r.county_name,
           r.province_code, r.province_name, coalesce(r.prefecture_name, r.province_name)
               AS prefecture_name
    FROM dim_school s
    JOIN dim_region r ON r.county_code = s.county_code
    WHERE s.county_code LIKE $region_prefix || '%'
      AND ($school_code IS NULL OR s.school_code = $school_code)
),
units AS (
    SELECT 1 AS ord, 'province' AS kind, province_code AS code, province_name AS name,
           CAST(NULL AS VARCHAR) AS parent_code, bool_or(is_active) AS is_active,
           COUNT(*) AS schools
    FROM sch
    WHERE $school_code IS NULL AND length($region_prefix) = 0
    GROUP BY province_code, province_name
    UNION ALL
    SELECT 2 AS ord, 'prefecture' AS kind, left(county_code, 4) AS code, prefecture_name AS name,
           province_code AS parent_code, bool_or(is_active) AS is_active, COUNT(*) AS schools
    FROM sch
    WHERE $school_code IS NULL AND length($region_prefix) = 2
    GROUP BY left(county_code, 4), prefecture_name, province_code
    UNION ALL
    SELECT 3 AS ord, 'county' AS kind, county_code AS code, county_name AS name,
           left(county_code, 4) AS parent_code, bool_or(is_active) AS is_active,
           COUNT(*) AS schools
    FROM sch
    WHERE $school_code IS NULL AND length($region_prefix) = 4
    GROUP BY county_code, county_name
    UNION ALL
    SELECT 4 AS ord, 'school' AS kind, school_code AS code, school_name AS name,
           county_code AS parent_code, is_active, 1 AS schools
    FROM sch
    WHERE $school_code IS NOT NULL OR length($region_prefix) = 6
)
SELECT kind, code, name, parent_code, is_active, CAST(schools AS BIGINT) AS schools
FROM units
ORDER BY ord, code
