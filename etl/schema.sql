-- XueJi warehouse schema (DuckDB), built by `xueji etl` into wh-<snapshot>.duckdb.
--
-- This file is the single source of truth for the warehouse: etl/schema.py parses it, creates
-- the tables from it, copies every comment into the DuckDB catalog (COMMENT ON TABLE/COLUMN,
-- visible in duckdb_tables()/duckdb_columns()) and derives the pre-publish checks from the tags
-- in square brackets at the start of a column comment:
--
--   [pk]              primary key (several [pk] columns form a composite key): unique, not NULL
--   [fk table.col]    every non-NULL value exists in table.col ("no orphan keys")
--   [code set]        every non-NULL value is a code of that code set in dim_code
--   [hmac]            a pseudonymous key: the first 128 bits of
--                     HMAC-SHA256(XUEJI_PSEUDONYM_KEY, "<kind>:" || source id), typed UUID
--                     (16 bytes). The same key gives the same value in every snapshot; without
--                     the key it cannot be linked back to the registry.
--
-- Privacy rules (ARCHITECTURE "warehouse contract"): no name, ID number, 学籍号, address, phone,
-- e-mail, photo or free text is copied; birth dates are coarsened to year and month; regions
-- to county; staff identities (usernames, user ids) are dropped. Every column of every table
-- is scanned before a snapshot is published (etl/checks.py).
--
-- Conventions: *_key columns join dimensions; county_code is always a dim_region.county_code
-- (the county of the school for facts), province_code its first two digits (the Parquet
-- partition). Dates are DATE: local calendar days (XUEJI_TIMEZONE, default Asia/Shanghai) of the
-- registry's UTC timestamps, no time of day; durations are in days.
-- Dimensions describe the registry as of the snapshot (slowly changing dimensions of type 1):
-- compare snapshots for history.
--
-- Facts marked "future" have no source table in the registry yet: they are created empty and
-- filled as soon as the source table named in their comment exists (see etl/README.md).

-- Calendar: one row per day from 1 January of the earliest year to 31 December of the latest
-- year that any date column of the snapshot uses.
CREATE TABLE dim_date (
    date             DATE NOT NULL,     -- [pk] the calendar day
    year             SMALLINT NOT NULL, -- calendar year
    quarter          TINYINT NOT NULL,  -- calendar quarter 1-4
    month            TINYINT NOT NULL,  -- calendar month 1-12
    day              TINYINT NOT NULL,  -- day of the month 1-31
    iso_week         TINYINT NOT NULL,  -- ISO 8601 week number 1-53
    iso_dow          TINYINT NOT NULL,  -- ISO day of week: 1 Monday … 7 Sunday
    is_weekend       BOOLEAN NOT NULL,  -- Saturday or Sunday (public holidays and make-up working days are not modelled)
    school_year_key  INTEGER,           -- [fk dim_school_year.school_year_key] the school year whose start..end contains the day; NULL in none
    term_key         INTEGER            -- [fk dim_term.term_key] the term whose start..end contains the day; NULL in holidays
);

-- GB/T 2260 hierarchy, one row per county-level unit (县, 区, 县级市). A prefecture-level unit
-- with no counties under it (e.g. 儋州市 460400), or one that a school is registered at,
-- stands for itself and has level 2.
CREATE TABLE dim_region (
    county_code      VARCHAR NOT NULL,  -- [pk] 6-digit GB/T 2260 code of the county-level unit
    county_name      VARCHAR NOT NULL,  -- its name (public register)
    prefecture_code  VARCHAR,           -- 6-digit code of the prefecture-level parent; the unit itself at level 2; NULL under a province directly
    prefecture_name  VARCHAR,           -- name of that prefecture
    province_code    VARCHAR NOT NULL,  -- 2-digit province code (first two digits of county_code; the scope prefix of a provincial user)
    province_name    VARCHAR NOT NULL,  -- name of the province-level unit
    level            TINYINT NOT NULL,  -- 3 county level; 2 a prefecture-level unit standing as its own county
    valid_from       DATE,              -- first day the code is in force (GB/T 2260 revisions)
    valid_to         DATE               -- last day the code is in force; NULL = in force
);

-- Schools. The 10-digit 学校标识码 identifies an institution, not a person, and is kept.
CREATE TABLE dim_school (
    school_key       INTEGER NOT NULL,  -- [pk] the registry's school id (stable while the registry lives)
    school_code      VARCHAR NOT NULL,  -- 10-digit 学校标识码
    school_name      VARCHAR NOT NULL,  -- school name (public register); the street address is not copied
    kind             VARCHAR NOT NULL,  -- [code school_kind] primary / junior / senior / nine_year / complete / twelve_year / special
    primary_years    TINYINT NOT NULL,  -- 小学学制: 6 (六三制) or 5 (五四制); fixes the last grade of primary and junior
    county_code      VARCHAR NOT NULL,  -- [fk dim_region.county_code] county the school is registered in
    province_code    VARCHAR NOT NULL,  -- 2-digit province of county_code
    urban_rural      VARCHAR NOT NULL,  -- [code urban_rural] NBS 城乡分类代码 (111 主城区 … 220 村庄)
    is_urban         BOOLEAN NOT NULL,  -- urban_rural starts with 1 (城镇)
    is_active        BOOLEAN NOT NULL   -- the school is open
);

-- School years (学年), e.g. 2025-2026.
CREATE TABLE dim_school_year (
    school_year_key  INTEGER NOT NULL,  -- [pk] the registry's school-year id
    code             VARCHAR NOT NULL,  -- "2025-2026"
    start_year       SMALLINT NOT NULL, -- calendar year the school year starts in (its "grade year")
    start_date       DATE NOT NULL,     -- first day
    end_date         DATE NOT NULL,     -- last day
    seq              SMALLINT NOT NULL, -- 1 for the earliest school year in the snapshot, then 2, 3, … (next-year joins)
    is_current       BOOLEAN NOT NULL   -- the school year containing the snapshot's as-of date (else the latest started one)
);

-- Terms (学期): 1 autumn, 2 spring.
CREATE TABLE dim_term (
    term_key         INTEGER NOT NULL,  -- [pk] the registry's term id
    school_year_key  INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] its school year
    number           TINYINT NOT NULL,  -- 1 autumn term, 2 spring term
    start_date       DATE NOT NULL,     -- first day
    end_date         DATE NOT NULL      -- last day
);

-- Classes (班级) per school year. The class name ("三年级(2)班") is not copied: grade and number say it.
CREATE TABLE dim_class (
    class_key        UUID NOT NULL,     -- [pk] [hmac] HMAC of "class:" || class id
    school_key       INTEGER NOT NULL,  -- [fk dim_school.school_key] school
    school_year_key  INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] school year
    county_code      VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code    VARCHAR NOT NULL,  -- 2-digit province
    grade_code       VARCHAR NOT NULL,  -- [code grade] 11-16 primary, 21-24 junior, 31-33 senior
    stage            VARCHAR NOT NULL,  -- [code stage] primary / junior / senior (first digit of grade_code)
    class_number     SMALLINT NOT NULL  -- class number within the grade (the "2" of 三年级(2)班)
);

-- Code tables of the registry (GB/T, JY/T and XueJi code sets, with validity), plus code sets
-- the ETL itself introduces for derived columns (origin = 'etl').
CREATE TABLE dim_code (
    code_set         VARCHAR NOT NULL,  -- [pk] code set name (sex, ethnicity, grade, status_change_type, …)
    code             VARCHAR NOT NULL,  -- [pk] the code
    valid_from       DATE NOT NULL,     -- [pk] first day in force (a code may be re-issued with new validity)
    valid_to         DATE,              -- last day in force; NULL = in force
    name_zh          VARCHAR NOT NULL,  -- Chinese label
    name_en          VARCHAR NOT NULL,  -- English label
    parent_code      VARCHAR,           -- parent code within the set (hierarchical sets: grade → stage, urban_rural, reasons)
    std_code         VARCHAR,           -- the national-standard code where the registry's code differs
    sort_order       INTEGER NOT NULL,  -- display order
    origin           VARCHAR NOT NULL   -- 'registry' (copied from code_item) or 'etl' (derived columns)
);

-- Code sets (names of the sets in dim_code).
CREATE TABLE dim_code_set (
    code_set         VARCHAR NOT NULL,  -- [pk] code set name
    name_zh          VARCHAR NOT NULL,  -- Chinese name
    name_en          VARCHAR NOT NULL,  -- English name
    standard         VARCHAR,           -- the standard it follows (GB/T 2261.1-2003, JY/T 1001-2012, XueJi, …)
    origin           VARCHAR NOT NULL   -- 'registry' or 'etl'
);

-- Students, coarse attributes only, as of the snapshot. Never: name, former name, pinyin,
-- ID number, 学籍号, birth date, birthplace, addresses, phone, e-mail, photo, specialty, health,
-- political status, orphan / martyr status, guardians.
CREATE TABLE dim_student (
    student_key            UUID NOT NULL,     -- [pk] [hmac] HMAC of "student:" || student id
    sex                    VARCHAR NOT NULL,  -- [code sex] 1 male, 2 female
    birth_year             SMALLINT NOT NULL, -- year of birth
    birth_month            TINYINT NOT NULL,  -- month of birth 1-12 (the day is dropped)
    ethnicity              VARCHAR NOT NULL,  -- [code ethnicity] GB 3304 民族
    ethnicity_group        VARCHAR NOT NULL,  -- [code ethnicity_group] han (01) / minority (any other)
    hukou_type             VARCHAR NOT NULL,  -- [code hukou_type] 户口性质
    hukou_county_code      VARCHAR NOT NULL,  -- first 6 digits of the 户口所在地 code (county; anywhere in China, not necessarily in dim_region's validity)
    hukou_province_code    VARCHAR NOT NULL,  -- first 2 digits of the 户口所在地 code
    migrant_child          BOOLEAN NOT NULL,  -- 随迁子女
    left_behind            VARCHAR NOT NULL,  -- [code left_behind] 0 no, 1 one parent away, 2 both parents away
    disability             VARCHAR NOT NULL,  -- [code disability] 残疾类型 (0 none)
    inclusive_education    VARCHAR NOT NULL,  -- [code inclusive_education] 随班就读 (0 no)
    only_child             BOOLEAN NOT NULL,  -- 独生子女
    preschool              BOOLEAN NOT NULL,  -- attended pre-school education
    needs_aid              BOOLEAN NOT NULL,  -- 需要申请资助
    boarding_subsidy       BOOLEAN NOT NULL,  -- 享受一补 (boarding living subsidy)
    id_doc_type_class      VARCHAR NOT NULL,  -- [code id_doc_type_class] resident_id (居民身份证) / other (another document) / none (type Z or no number)
    number_kind            VARCHAR NOT NULL,  -- [code number_kind] kind of the current 学籍号: G (official, from the citizen ID), J (official, without a usable citizen ID), L (temporary, not yet confirmed by the national duplicate check)
    current_status         VARCHAR NOT NULL,  -- [code student_status] 学生当前状态 (01 在校, 02 休学, 05 毕业, …)
    current_school_key     INTEGER,           -- [fk dim_school.school_key] school of the current (or last) enrollment
    current_county_code    VARCHAR,           -- [fk dim_region.county_code] county of that school
    current_province_code  VARCHAR,           -- 2-digit province of that school
    current_grade_code     VARCHAR,           -- [code grade] grade of the current (or last) enrollment
    current_stage          VARCHAR            -- [code stage] stage of that grade
);

-- Enrollment snapshots: one row per enrollment, i.e. per student, school and school year (a
-- transfer within a year gives an ended row and a new one).
CREATE TABLE fact_enrollment (
    student_key       UUID NOT NULL,     -- [fk dim_student.student_key] [hmac] the student
    school_year_key   INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] school year
    school_key        INTEGER NOT NULL,  -- [fk dim_school.school_key] school
    class_key         UUID NOT NULL,     -- [fk dim_class.class_key] [hmac] class
    county_code       VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code     VARCHAR NOT NULL,  -- 2-digit province (Parquet partition)
    grade_code        VARCHAR NOT NULL,  -- [code grade] grade in that year
    stage             VARCHAR NOT NULL,  -- [code stage] stage of the grade
    is_active         BOOLEAN NOT NULL,  -- the enrollment counts for the year (false: ended by a transfer or another change within the year)
    entry_date        DATE NOT NULL,     -- [fk dim_date.date] date the student entered this stage (入学年月 as a day)
    age_sep1          TINYINT NOT NULL,  -- age in whole years on 1 September of the school year (over-age / under-age metrics)
    admission_method  VARCHAR NOT NULL,  -- [code admission_method] 入学方式
    study_mode        VARCHAR NOT NULL,  -- [code study_mode] 就读方式: 1 day student, 2 boarder
    student_source    VARCHAR NOT NULL,  -- [code student_source] 学生来源
    ended_on          DATE,              -- [fk dim_date.date] day the enrollment ended (end of year, transfer, …); NULL = running
    end_reason        VARCHAR            -- [code status_change_type] change that ended it (21 毕业, 27 转出, …); NULL = plain end of year or running
);

-- Status changes (学籍异动), one row per request, with their lead time. Remarks and the
-- people who filed or handled them are not copied.
CREATE TABLE fact_status_change (
    request_key         UUID NOT NULL,     -- [pk] [hmac] HMAC of "status_change:" || request id
    student_key         UUID NOT NULL,     -- [fk dim_student.student_key] [hmac] the student
    change_type         VARCHAR NOT NULL,  -- [code status_change_type] 学籍异动类别
    reason_code         VARCHAR,           -- [code status_change_reason] 异动原因
    state               VARCHAR NOT NULL,  -- [code request_state] draft / submitted / effective / rejected / cancelled / purged
    scope               VARCHAR,           -- [code change_scope] single_school / same_county / cross_county / cross_province
    from_school_key     INTEGER,           -- [fk dim_school.school_key] sending school
    to_school_key       INTEGER,           -- [fk dim_school.school_key] receiving school
    from_county_code    VARCHAR,           -- [fk dim_region.county_code] county of the sending school
    to_county_code      VARCHAR,           -- [fk dim_region.county_code] county of the receiving school
    county_code         VARCHAR,           -- [fk dim_region.county_code] county the request belongs to: sending school, else receiving school, else the student's current school
    province_code       VARCHAR,           -- 2-digit province of county_code
    to_grade_code       VARCHAR,           -- [code grade] target grade (留级, 跳级, transfers)
    created_date        DATE NOT NULL,     -- [fk dim_date.date] day the request was created
    submitted_date      DATE,              -- [fk dim_date.date] day it was submitted; NULL for drafts
    closed_date         DATE,              -- [fk dim_date.date] day it became effective, rejected, cancelled or purged; NULL while open
    effective_date      DATE,              -- [fk dim_date.date] day the change takes effect
    end_date            DATE,              -- [fk dim_date.date] end of a time-limited change (e.g. 休学 until)
    is_open             BOOLEAN NOT NULL,  -- state is draft or submitted
    steps               SMALLINT NOT NULL, -- number of approval steps
    current_step_seq    SMALLINT,          -- step the request waits at; NULL when none
    lead_time_days      DOUBLE,            -- submitted → closed, in days (fractional, from the timestamps); NULL while open
    lead_time_workdays  INTEGER            -- Monday-Friday days after the submission day up to the closing day (no public-holiday calendar)
);

-- Approval steps of status changes, one row per step, with waiting times. The acting user
-- and the comment are not copied. Incremental: a step whose request has no step changed since
-- the last snapshot is carried over from it.
CREATE TABLE fact_status_change_step (
    step_key          UUID NOT NULL,     -- [pk] [hmac] HMAC of "status_change_step:" || step id
    request_key       UUID NOT NULL,     -- [fk fact_status_change.request_key] [hmac] its request
    seq               SMALLINT NOT NULL, -- position in the approval chain, from 1
    unit_kind         VARCHAR NOT NULL,  -- [code unit_kind] school / school_leader / county / province
    school_key        INTEGER,           -- [fk dim_school.school_key] handling school (school steps)
    region_code       VARCHAR,           -- 6-digit GB/T 2260 code of the handling bureau (county, prefecture or province)
    county_code       VARCHAR,           -- [fk dim_region.county_code] county for scoping: the handling school's county, the bureau's code when it is a county, else the request's county
    province_code     VARCHAR,           -- 2-digit province of county_code (of region_code when there is no county)
    state             VARCHAR NOT NULL,  -- [code step_state] waiting / pending / escalated / approved / rejected / cancelled
    decision          VARCHAR,           -- decision word recorded by the workflow (no free text)
    due_date          DATE,              -- [fk dim_date.date] deadline (10 working days in DOMAIN §4.5)
    acted_date        DATE,              -- [fk dim_date.date] day the step was decided; NULL while waiting
    wait_days         DOUBLE,            -- from the previous step's decision (or the submission for step 1) to this decision, in days
    overdue           BOOLEAN            -- decided after the due date, or undecided and past it on the as-of date; NULL without due date
);

-- 学籍号 history without the numbers: one row per number a student was issued (L first, then G
-- or J). Feeds the data-quality metric "L numbers not yet confirmed".
CREATE TABLE fact_student_number (
    student_key        UUID NOT NULL,     -- [fk dim_student.student_key] [hmac] the student
    kind               VARCHAR NOT NULL,  -- [code number_kind] G / J / L
    issued_date        DATE NOT NULL,     -- [fk dim_date.date] day it was issued
    superseded_date    DATE,              -- [fk dim_date.date] day a later number replaced it; NULL = still current
    is_current         BOOLEAN NOT NULL,  -- the student's current number is of this row
    days_to_supersede  INTEGER,           -- issued → superseded in days (for L: how long the national check took)
    county_code        VARCHAR,           -- [fk dim_region.county_code] county of the student's current school
    province_code      VARCHAR            -- 2-digit province
);

-- Progression flows: for every active enrollment in a school year that has a next school year
-- in the snapshot, where the student is in that next year.
CREATE TABLE fact_progression (
    student_key            UUID NOT NULL,     -- [fk dim_student.student_key] [hmac] the student
    school_year_key        INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] the year the flow starts from
    next_school_year_key   INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] the following school year
    from_school_key        INTEGER NOT NULL,  -- [fk dim_school.school_key] school in the first year
    county_code            VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of that school
    province_code          VARCHAR NOT NULL,  -- 2-digit province
    from_grade_code        VARCHAR NOT NULL,  -- [code grade] grade in the first year
    from_stage             VARCHAR NOT NULL,  -- [code stage] stage in the first year
    completed_stage        BOOLEAN NOT NULL,  -- the first-year grade is the last grade of its stage at that school (16/15, 23/24, 33)
    flow                   VARCHAR NOT NULL,  -- [code flow] promoted / repeated / skipped / progressed / left / other
    to_school_key          INTEGER,           -- [fk dim_school.school_key] school in the next year; NULL when left
    to_county_code         VARCHAR,           -- [fk dim_region.county_code] its county
    to_grade_code          VARCHAR,           -- [code grade] grade in the next year
    to_stage               VARCHAR,           -- [code stage] stage in the next year
    moved_school           BOOLEAN,           -- next-year school differs; NULL when left
    moved_county           BOOLEAN            -- next-year county differs; NULL when left
);

-- Attendance (source table `attendance`): one row per student, day (or lesson) and mark.
CREATE TABLE fact_attendance (
    student_key       UUID NOT NULL,     -- [fk dim_student.student_key] [hmac] the student
    class_key         UUID,              -- [fk dim_class.class_key] [hmac] class at the time
    school_key        INTEGER NOT NULL,  -- [fk dim_school.school_key] school
    county_code       VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code     VARCHAR NOT NULL,  -- 2-digit province (Parquet partition)
    date              DATE NOT NULL,     -- [fk dim_date.date] the school day
    kind              VARCHAR NOT NULL,  -- [code attendance_kind] late 迟到 / left_early 早退 / truant 旷课 / sick 病假 / personal 事假
    periods           SMALLINT,          -- lessons (节) concerned, for per-lesson kinds
    days              DOUBLE             -- days concerned, for per-day kinds
);

-- Exam scores (future: source tables `exam` and `score`): one row per student, exam and subject.
CREATE TABLE fact_score (
    student_key       UUID NOT NULL,     -- [fk dim_student.student_key] [hmac] the student
    exam_key          INTEGER NOT NULL,  -- the registry's exam id (an exam is not personal)
    school_key        INTEGER NOT NULL,  -- [fk dim_school.school_key] school
    county_code       VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code     VARCHAR NOT NULL,  -- 2-digit province (Parquet partition)
    term_key          INTEGER,           -- [fk dim_term.term_key] term of the exam
    grade_code        VARCHAR,           -- [code grade] grade sitting the exam
    exam_kind         VARCHAR,           -- [code exam_kind] 期中 / 期末 / 学业水平考试 / … (code set to be defined by the exams issue)
    exam_date         DATE,              -- [fk dim_date.date] day of the exam
    subject_code      VARCHAR NOT NULL,  -- [code subject] subject
    score             DOUBLE,            -- marks obtained; NULL when absent or graded by level only
    full_mark         DOUBLE,            -- full marks of the paper (100, 120, 150, …)
    level             VARCHAR,           -- grade level for level-graded papers (A/B/C/D)
    absent            BOOLEAN NOT NULL   -- 缺考
);

-- Comprehensive quality evaluation (future: source table `evaluation`): one row per student,
-- term and dimension, once final (finalized, or publicized with the period over: drafts and
-- grades under publicity or objection are not results yet). The written record (写实) and
-- teacher comments are not copied.
CREATE TABLE fact_evaluation (
    student_key       UUID NOT NULL,     -- [fk dim_student.student_key] [hmac] the student
    school_key        INTEGER NOT NULL,  -- [fk dim_school.school_key] school
    county_code       VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code     VARCHAR NOT NULL,  -- 2-digit province (Parquet partition)
    school_year_key   INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] school year
    term_key          INTEGER,           -- [fk dim_term.term_key] term; NULL for a yearly evaluation
    dimension         VARCHAR NOT NULL,  -- [code evaluation_dimension] moral 思想品德 / academic 学业水平 / health 身心健康 / arts 艺术素养 / practice 社会实践
    level             VARCHAR            -- [code evaluation_level] A 优秀 / B 良好 / C 合格 / D 待合格
);

-- Graduation (future: source table `graduation`): one row per student and completed stage.
-- Diploma numbers are not copied.
CREATE TABLE fact_graduation (
    student_key       UUID NOT NULL,     -- [fk dim_student.student_key] [hmac] the student
    school_key        INTEGER NOT NULL,  -- [fk dim_school.school_key] school graduated from
    county_code       VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code     VARCHAR NOT NULL,  -- 2-digit province (Parquet partition)
    school_year_key   INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] school year of graduation
    stage             VARCHAR NOT NULL,  -- [code stage] stage completed
    outcome           VARCHAR NOT NULL,  -- [code graduation_outcome] 毕业 / 结业 / 肄业
    destination       VARCHAR,           -- [code graduation_destination] 毕业去向
    graduation_date   DATE,              -- [fk dim_date.date] day of graduation
    diploma_issued    BOOLEAN NOT NULL,  -- a diploma was issued (and not revoked)
    diploma_revoked   BOOLEAN NOT NULL   -- its diploma was revoked and not replaced
);

-- Rollup: active enrollments by year, place, grade and the attributes the dashboards filter on.
CREATE TABLE agg_enrollment (
    school_year_key   INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] school year
    county_code       VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code     VARCHAR NOT NULL,  -- 2-digit province
    school_key        INTEGER NOT NULL,  -- [fk dim_school.school_key] school
    stage             VARCHAR NOT NULL,  -- [code stage] stage
    grade_code        VARCHAR NOT NULL,  -- [code grade] grade
    sex               VARCHAR NOT NULL,  -- [code sex] sex
    ethnicity_group   VARCHAR NOT NULL,  -- [code ethnicity_group] han / minority
    hukou_type        VARCHAR NOT NULL,  -- [code hukou_type] 户口性质
    migrant_child     BOOLEAN NOT NULL,  -- 随迁子女
    left_behind       VARCHAR NOT NULL,  -- [code left_behind] 留守儿童
    students          INTEGER NOT NULL   -- active enrollments (students) in the cell; small cells are suppressed by analytics, not here
);

-- Rollup: class sizes by year, school and grade (大班额 monitoring).
CREATE TABLE agg_class_size (
    school_year_key        INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] school year
    county_code            VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code          VARCHAR NOT NULL,  -- 2-digit province
    school_key             INTEGER NOT NULL,  -- [fk dim_school.school_key] school
    stage                  VARCHAR NOT NULL,  -- [code stage] stage
    grade_code             VARCHAR NOT NULL,  -- [code grade] grade
    classes                INTEGER NOT NULL,  -- classes (including classes with no active student)
    students               INTEGER NOT NULL,  -- active enrollments in those classes
    max_class_size         INTEGER NOT NULL,  -- largest class
    classes_over_standard  INTEGER NOT NULL,  -- classes above the standard size: 45 primary, 50 junior and senior
    classes_56_plus        INTEGER NOT NULL,  -- 大班额: 56 students or more
    classes_66_plus        INTEGER NOT NULL   -- 超大班额: 66 students or more
);

-- Rollup: status changes by month of submission (creation for drafts), county, type and state.
CREATE TABLE agg_status_change (
    month               DATE NOT NULL,     -- [fk dim_date.date] first day of the month
    county_code         VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the request
    province_code       VARCHAR NOT NULL,  -- 2-digit province
    change_type         VARCHAR NOT NULL,  -- [code status_change_type] 异动类别
    state               VARCHAR NOT NULL,  -- [code request_state] state
    requests            INTEGER NOT NULL,  -- requests
    closed              INTEGER NOT NULL,  -- of which closed
    lead_time_days_avg  DOUBLE,            -- mean submitted → closed days of the closed ones
    lead_time_days_p50  DOUBLE,            -- median of the same
    lead_time_days_p90  DOUBLE,            -- 90th percentile of the same
    overdue_steps       INTEGER NOT NULL   -- approval steps of these requests that are overdue
);

-- Rollup: data quality of 学籍号 per school: how many students still have an L number, and for how long.
CREATE TABLE agg_student_number (
    county_code             VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the current school
    province_code           VARCHAR NOT NULL,  -- 2-digit province
    school_key              INTEGER NOT NULL,  -- [fk dim_school.school_key] current school
    number_kind             VARCHAR NOT NULL,  -- [code number_kind] kind of the current number
    students                INTEGER NOT NULL,  -- students whose current number is of that kind
    oldest_issued_date      DATE,              -- [fk dim_date.date] issue day of the oldest current number of that kind
    issued_over_90_days     INTEGER NOT NULL   -- current numbers of that kind issued more than 90 days before the as-of date
);

-- Rollup: progression flows by year, school, grade and flow.
CREATE TABLE agg_progression (
    school_year_key   INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] year the flow starts from
    county_code       VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code     VARCHAR NOT NULL,  -- 2-digit province
    school_key        INTEGER NOT NULL,  -- [fk dim_school.school_key] school
    from_stage        VARCHAR NOT NULL,  -- [code stage] stage
    from_grade_code   VARCHAR NOT NULL,  -- [code grade] grade
    completed_stage   BOOLEAN NOT NULL,  -- last grade of the stage
    flow              VARCHAR NOT NULL,  -- [code flow] promoted / repeated / skipped / progressed / left / other
    to_stage          VARCHAR,           -- [code stage] stage the next year
    moved_county      BOOLEAN,           -- the next year is in another county
    students          INTEGER NOT NULL   -- students
);

-- Rollup: every enrollment of a school year (active or ended) by school, stage and the change
-- that ended it: students enrolled at any time in the year, graduates (21), dropouts (28) and
-- withdrawals (24) without reading fact_enrollment. A student with several enrollments in a year
-- (a transfer) must be counted once per region, not once per school: the *_distinct_level
-- columns say in which regions an enrollment is the student's representative one. Region levels:
-- 0 nation, 1 province (first 2 digits of county_code), 2 prefecture (first 4 digits), 3 county,
-- 4 school; 5 = none (a second enrollment at the same school). Distinct students of one region
-- unit of level L = the sum of `students` over its cells with the *_distinct_level column ≤ L.
CREATE TABLE agg_enrollment_end (
    school_year_key          INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] school year
    county_code              VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code            VARCHAR NOT NULL,  -- 2-digit province
    school_key               INTEGER NOT NULL,  -- [fk dim_school.school_key] school
    stage                    VARCHAR NOT NULL,  -- [code stage] stage of the enrollment's grade
    end_reason               VARCHAR,           -- [code status_change_type] change that ended the enrollments (21 毕业, 24 退学, 28 辍学, 27 转出, …); NULL = plain end of year or running
    distinct_level           TINYINT NOT NULL,  -- coarsest region level (0-5, see the table) in whose unit this is the student's first enrollment of the school year and stage (enrollments ordered by school_key): counts the students enrolled in the year
    reason_distinct_level    TINYINT,           -- the same among the student's enrollments of the year and stage with this end_reason (counts the dropouts, withdrawals, … of a stage); NULL when end_reason is NULL
    exit_distinct_level      TINYINT,           -- the same among the student's enrollments of the year, any stage, that ended by graduation (21), or by dropping out or withdrawing (24 or 28, one group); NULL for other end reasons
    students                 INTEGER NOT NULL   -- enrollments in the cell (one per student: a second one at the same school has distinct_level 5); small cells are suppressed by analytics, not here
);

-- Rollup: classes by year, school, stage and size band (班额分布), including empty classes.
CREATE TABLE agg_class_size_band (
    school_year_key   INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] school year
    county_code       VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code     VARCHAR NOT NULL,  -- 2-digit province
    school_key        INTEGER NOT NULL,  -- [fk dim_school.school_key] school
    stage             VARCHAR NOT NULL,  -- [code stage] stage of the classes' grade
    band_start        INTEGER NOT NULL,  -- smallest class size of the band: 0, 1 (1-25), 26 (26-35), 36 (36-45), 46 (46-55), 56 (56-65), 66 (66 or more) active students
    classes           INTEGER NOT NULL,  -- classes whose active enrollments fall in the band
    students          INTEGER NOT NULL   -- active enrollments in those classes
);

-- Rollup: data quality of the student records per current school (the data_quality metric):
-- students on a school's books (current status 01 在校 or 02 休学) and how many have each problem.
CREATE TABLE agg_data_quality (
    county_code              VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the current school
    province_code            VARCHAR NOT NULL,  -- 2-digit province
    school_key               INTEGER NOT NULL,  -- [fk dim_school.school_key] school of the current (or last) enrollment
    students                 INTEGER NOT NULL,  -- students of the school whose current status is 01 or 02
    missing_id_number        INTEGER NOT NULL,  -- of them, without an identity document number (id_doc_type_class none)
    sex_unknown              INTEGER NOT NULL,  -- sex neither 1 nor 2
    hukou_incomplete         INTEGER NOT NULL,  -- 户口所在地 code not 6 digits or only a province (…0000)
    l_numbers                INTEGER NOT NULL,  -- current 学籍号 still temporary (L)
    l_numbers_over_90_days   INTEGER NOT NULL,  -- current L number issued more than 90 days before the as-of day (the UTC calendar day of meta_manifest.as_of)
    open_problem_requests    INTEGER NOT NULL,  -- with an open (draft or submitted) 问题学籍处理 request (status change type 52)
    problem_records          INTEGER NOT NULL   -- with at least one of: no ID number, sex unknown, 户口 incomplete, L number over 90 days, open 52 request
);

-- Rollup: active enrollments by year, school, stage and GB 3304 ethnicity (agg_enrollment only
-- keeps han / minority).
CREATE TABLE agg_enrollment_ethnicity (
    school_year_key   INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] school year
    county_code       VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code     VARCHAR NOT NULL,  -- 2-digit province
    school_key        INTEGER NOT NULL,  -- [fk dim_school.school_key] school
    stage             VARCHAR NOT NULL,  -- [code stage] stage
    ethnicity         VARCHAR NOT NULL,  -- [code ethnicity] GB 3304 民族 of the student
    students          INTEGER NOT NULL   -- active enrollments in the cell; small cells are suppressed by analytics, not here
);

-- Rollup: final comprehensive quality evaluations by year, school, dimension and level. A
-- student must be counted once per region, dimension and level, both for the whole year (term
-- NULL: every evaluation of the year, of either term or yearly) and for one term (term 1 or 2),
-- so every evaluation appears in the year rows and, when it has a term, in that term's rows;
-- distinct_level says in which regions a row is the student's representative one (region
-- levels as in agg_enrollment_end: 0 nation, 1 province, 2 prefecture, 3 county, 4 school).
-- Distinct students of one region unit of level L = the sum of `students` over its cells with
-- distinct_level ≤ L.
CREATE TABLE agg_evaluation (
    school_year_key   INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] school year of the evaluation
    term              TINYINT,           -- NULL: the whole school year (all its evaluations); 1 autumn / 2 spring: only that term's (dim_term.number)
    county_code       VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code     VARCHAR NOT NULL,  -- 2-digit province
    school_key        INTEGER NOT NULL,  -- [fk dim_school.school_key] school
    dimension         VARCHAR NOT NULL,  -- [code evaluation_dimension] evaluation dimension
    level             VARCHAR,           -- [code evaluation_level] A / B / C / D; NULL when the evaluation has none (or an empty one)
    distinct_level    TINYINT NOT NULL,  -- coarsest region level (0-4) in whose unit this school is the first (by school_key) where the student has this dimension and level in the year (or term)
    students          INTEGER NOT NULL,  -- students evaluated at the school with this dimension and level in the year (or term); small cells are suppressed by analytics, not here
    records           INTEGER NOT NULL   -- evaluation rows they have there (term NULL rows: every row of fact_evaluation once)
);

-- Rollup: attendance by school year, month and school (attendance_rate_by_school_month,
-- chronic_absence). Days outside every school year are left out, as the metrics do. Student
-- counts are distinct per school and month (a student absent at two schools counts at both).
CREATE TABLE agg_attendance (
    school_year_key      INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] school year of the attendance days (dim_date)
    month                DATE NOT NULL,     -- [fk dim_date.date] first day of the calendar month
    county_code          VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code        VARCHAR NOT NULL,  -- 2-digit province
    school_key           INTEGER NOT NULL,  -- [fk dim_school.school_key] school
    school_days          INTEGER,           -- Monday-Friday days of the month inside a term of the school year (dim_date); NULL when none
    records              INTEGER NOT NULL,  -- attendance rows
    absence_days         DOUBLE NOT NULL,   -- sum of days (per-day kinds; lesson-only rows add 0)
    periods_missed       INTEGER NOT NULL,  -- sum of periods (lessons)
    absent_students      INTEGER NOT NULL,  -- students with at least one row of days > 0
    net_absent_students  INTEGER NOT NULL,  -- students whose days of the month add up to more than 0 (chronic_absence's absent_students; differs from absent_students only when a row carries negative days, e.g. a correction)
    chronically_absent   INTEGER NOT NULL   -- students whose days of the month add up to more than 0 and to at least 10 % of school_days
);

-- Rollup: exam scores by school year, term, exam kind, grade, subject and school (subject_means,
-- pass_excellent_rates). The school year is the exam term's, else the one containing the exam
-- date; scores with neither are left out, as the metrics do. Means are sums ÷ counts.
CREATE TABLE agg_score (
    school_year_key   INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] school year of the exam
    term              TINYINT,           -- 1 autumn / 2 spring term of the exam (dim_term.number); NULL without a term
    exam_kind         VARCHAR,           -- [code exam_kind] exam kind
    grade_code        VARCHAR,           -- [code grade] grade sitting the exam
    subject_code      VARCHAR NOT NULL,  -- [code subject] subject
    county_code       VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code     VARCHAR NOT NULL,  -- 2-digit province
    school_key        INTEGER NOT NULL,  -- [fk dim_school.school_key] school
    records           INTEGER NOT NULL,  -- score rows
    absent            INTEGER NOT NULL,  -- 缺考 rows
    scored            INTEGER NOT NULL,  -- not absent, with a score (subject_means' sat)
    score_sum         DOUBLE NOT NULL,   -- sum of those scores
    pct_scored        INTEGER NOT NULL,  -- of them, with a full mark above 0
    pct_sum           DOUBLE NOT NULL,   -- sum of their 100 × score / full_mark
    graded            INTEGER NOT NULL,  -- not absent, with a score of a full mark above 0 or else a level (pass_excellent_rates' sat)
    passed            INTEGER NOT NULL,  -- of them, ≥ 60 % of the full mark, or level A / B / C
    excellent         INTEGER NOT NULL,  -- of them, ≥ 85 % of the full mark, or level A
    full_mark         DOUBLE             -- largest full mark of the rows
);

-- Rollup: students per score band (score_distribution): 10-point bands of the percentage of the
-- full mark, or the level of papers without a usable score; absent students are not counted.
CREATE TABLE agg_score_band (
    school_year_key   INTEGER NOT NULL,  -- [fk dim_school_year.school_year_key] school year of the exam (as in agg_score)
    term              TINYINT,           -- 1 / 2 (dim_term.number); NULL without a term
    exam_kind         VARCHAR,           -- [code exam_kind] exam kind
    grade_code        VARCHAR,           -- [code grade] grade sitting the exam
    subject_code      VARCHAR NOT NULL,  -- [code subject] subject
    county_code       VARCHAR NOT NULL,  -- [fk dim_region.county_code] county of the school
    province_code     VARCHAR NOT NULL,  -- 2-digit province
    school_key        INTEGER NOT NULL,  -- [fk dim_school.school_key] school
    band_start        INTEGER,           -- 0, 10, … 90: floor(10 × score / full_mark) × 10, clamped to 0-90 (a score above the full mark is 90-100); NULL without a score or a full mark above 0
    level             VARCHAR,           -- the paper's level (A/B/C/D) when band_start is NULL; NULL otherwise
    students          INTEGER NOT NULL   -- score rows (students) in the band
);

-- The snapshot's manifest (one row); manifest.json beside the file holds the same document.
CREATE TABLE meta_manifest (
    snapshot_id       VARCHAR NOT NULL,  -- [pk] id of this snapshot (wh-<id>.duckdb), sortable by time
    source_kind       VARCHAR NOT NULL,  -- sqlite or postgresql
    source            VARCHAR NOT NULL,  -- the source without credentials (postgresql://user@host:port/db, sqlite:///path)
    as_of             TIMESTAMP NOT NULL, -- the source's time of the consistent read (UTC)
    built_at          TIMESTAMP NOT NULL, -- when this ETL started (UTC)
    mode              VARCHAR NOT NULL,  -- full or incremental
    previous_snapshot VARCHAR,           -- the snapshot that was current when this one was built
    last_full_snapshot VARCHAR,          -- the latest snapshot built in full mode (this one if full)
    code_version      VARCHAR NOT NULL,  -- xueji version + hash of the etl code
    schema_version    VARCHAR NOT NULL,  -- hash of etl/schema.sql
    key_fingerprint   VARCHAR NOT NULL,  -- HMAC of a fixed label under the pseudonym key (tells snapshots built with the same key; reveals nothing of it)
    manifest_json     VARCHAR NOT NULL   -- the full manifest: row counts, source counts, checks, skipped tables, timings
);

-- Row counts per table of the snapshot, with the source count they reconcile with.
CREATE TABLE meta_table (
    table_name        VARCHAR NOT NULL,  -- [pk] warehouse table
    rows              BIGINT NOT NULL,   -- rows in the snapshot
    source_table      VARCHAR,           -- operational table it reconciles with; NULL for derived tables
    source_rows       BIGINT,            -- rows counted in the source in the same transaction
    build             VARCHAR NOT NULL,  -- full / incremental / derived / skipped
    note              VARCHAR            -- why a table was skipped or rebuilt
);

-- Results of the pre-publish checks (all passed, or the snapshot would not exist).
CREATE TABLE meta_check (
    check_name        VARCHAR NOT NULL,  -- reconcile / primary_key / orphans / codes / privacy / derived
    table_name        VARCHAR,           -- table checked
    column_name       VARCHAR,           -- column checked
    status            VARCHAR NOT NULL,  -- pass / warn / fail / skip
    detail            VARCHAR            -- counts and reasons; never a checked value
);

-- High-water marks of the incremental facts (the next incremental run extracts above them).
CREATE TABLE meta_watermark (
    table_name        VARCHAR NOT NULL,  -- [pk] warehouse fact table
    source_table      VARCHAR NOT NULL,  -- operational table
    high_water_id     BIGINT             -- greatest source id loaded; NULL when the source table was empty
);
