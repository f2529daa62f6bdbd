"""Synthetic nation: realistic, deterministic registry data for demos, tests and benchmarks.

Shape of what is built (all under --seed S, so the same arguments give the same rows):
- a run of school years ending with the current one, two terms each;
- for each county of the chosen provinces that gets students: primary, junior and senior
  schools (nine-year schools in rural counties, some on the 5-4 system), each with cohorts
  that enter every year and leave after the last grade, in classes of 35–55 that move up
  a grade each year (one enrollment per student per year);
- students with Faker zh_CN names, valid ID numbers consistent with birthplace, birth date
  and sex, ages that fit their grades, the province's ethnic mix, hukou type, migrant and
  left-behind status in urban/rural proportions, and two family members each.

Rows are generated county by county and written in chunks, so memory stays flat in the
number of students. Every counter that keeps ID numbers unique is keyed by a region that
only one county's generation ever touches, so it is dropped when that county is done.
"""

from __future__ import annotations

import bisect
import itertools
import math
import queue
import random
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from faker import Faker
from faker.providers.person.zh_CN import Provider as PersonProvider
from faker.providers.phone_number.zh_CN import Provider as PhoneProvider
from sqlalchemy import Engine, text

from ..domain.consistency import PRIMARY_ENTRY_AGE, SENIOR_ENTRY_AGE
from ..domain.idcard import check_char
from .bulk import PostgresCopySink, Row, RowSink, SqliteSink

DEFAULT_PROVINCES = ("11", "64", "46")  # 北京市, 宁夏回族自治区, 海南省
MIN_STUDENTS = 50
MAX_STUDENTS = 20_000_000
MAX_YEARS = 12

# Ethnic mix per province (GB 3304 code → share); the rest of the mass goes to Han (01).
# Shares follow the 7th census orders of magnitude; they only need to look plausible.
ETHNIC_MIX: dict[str, dict[str, float]] = {
    "11": {"11": 0.018, "03": 0.012, "02": 0.004, "10": 0.002, "15": 0.002, "08": 0.002},
    "64": {"03": 0.36, "11": 0.003, "02": 0.002, "26": 0.001},
    "46": {"19": 0.15, "06": 0.008, "08": 0.005, "03": 0.002},
    "default": {"03": 0.01, "11": 0.008, "08": 0.005, "06": 0.004},
}
# Where migrant children's hukou comes from (large sending provinces).
MIGRANT_SOURCE_PROVINCES = ("41", "51", "34", "43", "13", "37", "62", "36", "42", "45")
POSTAL_PREFIX = {"11": "10", "12": "30", "31": "20", "46": "57", "64": "75", "63": "81"}

EMPLOYERS = (
    "个体经营",
    "务农",
    "自由职业",
    "县人民医院",
    "区教育局",
    "市供电公司",
    "建筑工程有限公司",
    "商贸有限公司",
    "物流有限公司",
    "乡镇卫生院",
    "中国邮政",
    "农业银行支行",
    "食品加工厂",
    "汽车维修厂",
    "超市",
    "餐饮店",
    "无",
    "街道办事处",
    "科技有限公司",
    "中学",
)
POSITIONS = ("职员", "工人", "教师", "个体经营者", "农民", "医生", "公务员", "司机", "无", "经理")
SPECIALTIES = ("书法", "钢琴", "篮球", "绘画", "舞蹈", "围棋", "足球", "编程", "声乐", "田径")
STREET_WORDS = (
    "人民",
    "建设",
    "解放",
    "和平",
    "胜利",
    "文化",
    "光明",
    "新华",
    "团结",
    "幸福",
    "学院",
    "朝阳",
    "东风",
    "青年",
    "育才",
    "长安",
    "南湖",
    "北苑",
    "中山",
    "滨河",
    "花园",
    "府前",
)
CHINESE_DIGITS = "一二三四五六七八九"
GRADE_NAMES = {
    "primary": ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级"),
    "junior": ("初一", "初二", "初三", "初四"),
    "senior": ("高一", "高二", "高三"),
}
STAGE_DIGIT = {"primary": "1", "junior": "2", "senior": "3"}
# Relative size of one cohort (one year of intake) by stage: primary and junior are close,
# senior is about 55% (2024 bulletin: 普通高中 enrolment per grade vs 初中 per grade).
COHORT_WEIGHT = {"primary": 1.0, "junior": 0.98, "senior": 0.55}

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "school_year": ("id", "code", "start_date", "end_date"),
    "term": ("id", "school_year_id", "number", "start_date", "end_date"),
    "school": (
        "id",
        "code",
        "name",
        "kind",
        "primary_years",
        "region_code",
        "urban_rural",
        "address",
        "is_active",
    ),
    "school_class": ("id", "school_id", "school_year_id", "grade_code", "number", "name"),
    "student": (
        "id",
        "student_number",
        "student_number_kind",
        "name",
        "sex",
        "birth_date",
        "birthplace_code",
        "native_place_code",
        "ethnicity",
        "nationality",
        "id_doc_type",
        "id_number",
        "overseas_chinese",
        "political_status",
        "health",
        "photo_ref",
        "name_pinyin",
        "former_name",
        "id_valid_period",
        "hukou_region_code",
        "hukou_type",
        "specialty",
        "aux_number",
        "current_address",
        "mailing_address",
        "home_address",
        "phone",
        "postal_code",
        "email",
        "homepage",
        "only_child",
        "preschool",
        "left_behind",
        "migrant_child",
        "orphan",
        "martyr_child",
        "inclusive_education",
        "disability",
        "gov_purchased_place",
        "needs_aid",
        "boarding_subsidy",
        "distance_km",
        "transport",
        "needs_school_bus",
        "current_status",
        "current_school_id",
        "current_class_id",
        "current_grade_code",
        "contact_confirmed_at",
        "created_at",
        "updated_at",
        "updated_by",
        "version",
    ),
    "student_id_document": (
        "id",
        "student_id",
        "doc_type",
        "number",
        "valid_period",
        "effective_from",
        "effective_to",
        "reason",
    ),
    "student_number_history": (
        "id",
        "student_id",
        "number",
        "kind",
        "issued_at",
        "superseded_at",
        "reason",
    ),
    "guardian": (
        "id",
        "student_id",
        "seq",
        "name",
        "relationship_code",
        "relationship_note",
        "ethnicity",
        "employer",
        "address",
        "hukou_region_code",
        "phone",
        "is_guardian",
        "id_doc_type",
        "id_number",
        "position",
    ),
    "enrollment": (
        "id",
        "student_id",
        "school_id",
        "school_year_id",
        "class_id",
        "grade_code",
        "seat_number",
        "stage_entry_ym",
        "entry_date",
        "admission_method",
        "study_mode",
        "student_source",
        "is_active",
        "ended_on",
        "end_reason",
        "updated_at",
        "updated_by",
        "version",
    ),
    "j_number_sequence": ("region_code", "birth_date", "last_sequence"),
}
# FK-safe order in which buffered rows are written.
WRITE_ORDER = tuple(TABLE_COLUMNS)


@dataclass(frozen=True)
class RegionInfo:
    code: str
    name: str
    level: int
    parent_code: str | None


@dataclass
class SeedOptions:
    students: int = 30_000
    years: int = 3
    seed: int = 2026
    provinces: tuple[str, ...] = DEFAULT_PROVINCES
    today: date = field(default_factory=date.today)
    chunk_students: int = 5_000

    def validate(self) -> list[str]:
        problems = []
        if not MIN_STUDENTS <= self.students <= MAX_STUDENTS:
            problems.append(
                f"--students must be between {MIN_STUDENTS} and {MAX_STUDENTS:,}, "
                f"got {self.students}"
            )
        if not 1 <= self.years <= MAX_YEARS:
            problems.append(f"--years must be between 1 and {MAX_YEARS}, got {self.years}")
        if not self.provinces:
            problems.append("--provinces must name at least one province code")
        return problems


@dataclass
class SeedReport:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    counties: int = 0
    school_years: list[str] = field(default_factory=list)


def current_school_year_start(today: date) -> int:
    """The school year starts on 1 September."""
    return today.year if today.month >= 9 else today.year - 1


@dataclass
class _Cohort:
    school_index: int
    stage: str
    entry_year: int
    length: int
    class_sizes: list[int]


@dataclass
class _School:
    id: int
    code: str
    kind: str
    primary_years: int
    urban: bool
    stages: tuple[str, ...]


class _CountyCounters:
    """Per-county uniqueness counters for ID numbers, L and J numbers."""

    def __init__(self) -> None:
        self.id_seq: dict[tuple[str, date, int], int] = defaultdict(int)
        self.l_seq: dict[date, int] = defaultdict(int)
        self.j_seq: dict[date, int] = defaultdict(int)


class NationGenerator:
    def __init__(self, options: SeedOptions, regions: Sequence[RegionInfo]) -> None:
        self.o = options
        self.regions = {r.code: r for r in regions}
        self.rng = random.Random(options.seed)
        faker = Faker("zh_CN")
        faker.seed_instance(options.seed)
        self.street_pool = sorted(
            {f"{self.rng.choice(STREET_WORDS)}{faker.street_suffix()}" for _ in range(400)}
        )
        surnames = list(PersonProvider.last_names.items())
        self.surnames = [s for s, _ in surnames]
        self.surname_cum = list(itertools.accumulate(w for _, w in surnames))
        self.male_names = list(PersonProvider.first_names_male)
        self.female_names = list(PersonProvider.first_names_female)
        self.phone_prefixes = [str(p) for p in PhoneProvider.phonenumber_prefixes]
        last = current_school_year_start(options.today)
        self.year_starts = list(range(last - options.years + 1, last + 1))
        self.current_year = last
        self.ids: dict[str, itertools.count[int]] = {t: itertools.count(1) for t in TABLE_COLUMNS}
        self.school_year_ids: dict[int, int] = {}
        self.class_ids: dict[tuple[int, int, str, int], int] = {}
        self.report = SeedReport()
        self.now = datetime(options.today.year, options.today.month, options.today.day, 8, 0)

    # ---------------------------------------------------------------- helpers
    def _surname(self, rng: random.Random) -> str:
        x = rng.random() * self.surname_cum[-1]
        return self.surnames[bisect.bisect(self.surname_cum, x)]

    def _given_name(self, rng: random.Random, male: bool) -> str:
        pool = self.male_names if male else self.female_names
        if rng.random() < 0.7:  # most children born after 2005 have two-character names
            return rng.choice(pool)[0] + rng.choice(pool)[-1]
        return rng.choice(pool)

    def _phone(self, rng: random.Random) -> str:
        return f"{rng.choice(self.phone_prefixes)}{rng.randrange(10**8):08d}"

    def _address(self, rng: random.Random, county: str) -> str:
        region = self.regions.get(county)
        if region is None:
            return f"{rng.choice(self.street_pool)}{rng.randint(1, 300)}号"
        prefecture = self.regions.get(region.parent_code or "")
        province = self.regions.get(county[:2] + "0000")
        parts = [province.name if province else ""]
        if prefecture and prefecture.name not in ("市辖区", "县") and "直辖" not in prefecture.name:
            parts.append(prefecture.name)
        parts.append(region.name)
        return (
            "".join(parts)
            + f"{rng.choice(self.street_pool)}{rng.randint(1, 300)}号"
            + (
                f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}0{rng.randint(1, 4)}室"
                if rng.random() < 0.6
                else ""
            )
        )

    def _id_number(
        self, counters: _CountyCounters, region: str, birth: date, male: bool, migrant_range: bool
    ) -> str:
        # Sequence space: locals 001–500, migrants 501–999; odd = male (GB 11643).
        key = (region, birth, 1 if migrant_range else 0)
        k = counters.id_seq[key]
        counters.id_seq[key] = k + 1
        base = 500 if migrant_range else 0
        seq = base + 2 * k + (1 if male else 2)
        if seq > (999 if migrant_range else 500):
            raise OverflowError("ID sequence space exhausted")  # far beyond realistic sizes
        body = f"{region}{birth:%Y%m%d}{seq:03d}"
        return body + check_char(body)

    def _pick_ethnicity(self, rng: random.Random, province: str) -> str:
        mix = ETHNIC_MIX.get(province, ETHNIC_MIX["default"])
        x = rng.random()
        for code, share in mix.items():
            if x < share:
                return code
            x -= share
        return "01"

    # ---------------------------------------------------------------- structure
    def counties(self) -> list[RegionInfo]:
        return sorted(
            (r for r in self.regions.values() if r.level == 3 and r.code[:2] in self.o.provinces),
            key=lambda r: r.code,
        )

    def _migrant_pools(self, chosen: Sequence[RegionInfo]) -> dict[str, list[str]]:
        sources = sorted(
            r.code
            for r in self.regions.values()
            if r.level == 3
            and r.code[:2] in MIGRANT_SOURCE_PROVINCES
            and r.code[:2] not in self.o.provinces
        )
        if not sources:  # regions table without those provinces: use non-chosen counties
            sources = sorted(
                r.code
                for r in self.regions.values()
                if r.level == 3 and r.code[:2] not in self.o.provinces
            )
        pools: dict[str, list[str]] = {c.code: [] for c in chosen}
        for i, code in enumerate(sources):
            pools[chosen[i % len(chosen)].code].append(code)
        return pools

    def plan_counties(self) -> list[tuple[RegionInfo, int]]:
        """Pick counties and split the students among them (urban districts weigh more)."""
        counties = self.counties()
        if not counties:
            raise ValueError("no counties found for the chosen provinces: run `xueji init` first")
        rng = random.Random(f"{self.o.seed}:counties")
        weights = {
            c.code: rng.lognormvariate(0, 0.5) * (1.6 if c.name.endswith("区") else 1.0)
            for c in counties
        }
        # Small runs concentrate on fewer counties so that schools have real classes
        # (about 2,000 students per county at least), keeping every province represented.
        wanted = max(len(self.o.provinces), min(len(counties), self.o.students // 2000))
        by_weight = sorted(counties, key=lambda c: -weights[c.code])
        chosen: list[RegionInfo] = []
        for province in self.o.provinces:
            first = next((c for c in by_weight if c.code[:2] == province), None)
            if first is not None:
                chosen.append(first)
        for c in by_weight:
            if len(chosen) >= wanted:
                break
            if c not in chosen:
                chosen.append(c)
        chosen.sort(key=lambda c: c.code)
        total = sum(weights[c.code] for c in chosen)
        shares = [self.o.students * weights[c.code] / total for c in chosen]
        counts = [int(s) for s in shares]
        # Largest remainders so the counts add up to exactly --students.
        for i in sorted(range(len(chosen)), key=lambda i: counts[i] - shares[i])[
            : self.o.students - sum(counts)
        ]:
            counts[i] += 1
        return list(zip(chosen, counts, strict=True))

    def school_year_rows(self) -> Iterator[tuple[str, Row]]:
        for start in self.year_starts:
            sy_id = next(self.ids["school_year"])
            self.school_year_ids[start] = sy_id
            end = date(start + 1, 8, 31)
            yield "school_year", (sy_id, f"{start}-{start + 1}", date(start, 9, 1), end)
            yield (
                "term",
                (next(self.ids["term"]), sy_id, 1, date(start, 9, 1), date(start + 1, 1, 20)),
            )
            yield (
                "term",
                (next(self.ids["term"]), sy_id, 2, date(start + 1, 2, 20), date(start + 1, 7, 10)),
            )

    @staticmethod
    def _split_classes(rng: random.Random, size: int) -> list[int]:
        if size <= 55:
            return [size] if size > 0 else []
        k = max(1, math.ceil(size / 55))
        while size / k < 35 and k > 1:
            k -= 1
        base, extra = divmod(size, k)
        sizes = [base + (1 if i < extra else 0) for i in range(k)]
        # A little unevenness, kept inside 35..55.
        for i in range(0, k - 1, 2):
            d = rng.randint(0, 3)
            if sizes[i] + d <= 55 and sizes[i + 1] - d >= 35:
                sizes[i] += d
                sizes[i + 1] -= d
        return sizes

    def _plan_county_schools(
        self, rng: random.Random, county: RegionInfo, n: int
    ) -> tuple[list[_School], list[_Cohort], list[tuple[str, Row]]]:
        urban_county = county.name.endswith("区")
        y0, y1 = self.year_starts[0], self.year_starts[-1]
        # Students per cohort so that all cohorts in the window add up to n.
        stage_len = {"primary": 6, "junior": 3, "senior": 3}
        cohort_units = sum(
            COHORT_WEIGHT[s] * (stage_len[s] + len(self.year_starts) - 1) for s in stage_len
        )
        unit = n / cohort_units
        per_cohort = {s: unit * COHORT_WEIGHT[s] for s in stage_len}

        # Schools per stage: about 3/6/8 classes per grade, but never so many that a
        # school's yearly intake drops under one class of 35.
        def schools_for(cohort_size: float, classes_per_grade: int) -> int:
            return max(
                1, min(round(cohort_size / (classes_per_grade * 45)), int(cohort_size // 35))
            )

        n_primary = schools_for(per_cohort["primary"], 3)
        n_junior = schools_for(per_cohort["junior"], 6)
        n_senior = schools_for(per_cohort["senior"], 8)
        schools: list[_School] = []
        rows: list[tuple[str, Row]] = []
        province = county.code[:2]
        prefix = "21" + province  # synthetic 学校标识码: 2 1 + province + 6-digit serial

        def add(kind: str, name: str, primary_years: int, urban: bool) -> None:
            sid = next(self.ids["school"])
            code = f"{prefix}{sid:06d}"
            stages = {
                "primary": ("primary",),
                "junior": ("junior",),
                "senior": ("senior",),
                "nine_year": ("primary", "junior"),
                "complete": ("junior", "senior"),
            }[kind]
            schools.append(_School(sid, code, kind, primary_years, urban, stages))
            urban_rural = (
                ("111" if urban_county else "121") if urban else rng.choice(("210", "220"))
            )
            rows.append(
                (
                    "school",
                    (
                        sid,
                        code,
                        name,
                        kind,
                        primary_years,
                        county.code,
                        urban_rural,
                        self._address(rng, county.code),
                        True,
                    ),
                )
            )

        short = county.name
        # Rural counties: turn one primary + junior pair into a nine-year school (some 5-4).
        nine_year = 0 if urban_county else min(n_primary, n_junior, 1)
        for i in range(n_primary - nine_year):
            urban = urban_county or i < max(1, n_primary // 2)
            add(
                "primary",
                f"{short}第{_zh_number(i + 1)}小学" if i else f"{short}实验小学",
                6,
                urban,
            )
        for _ in range(nine_year):
            add(
                "nine_year",
                f"{short}{rng.choice(STREET_WORDS)}九年一贯制学校",
                5 if rng.random() < 0.3 else 6,
                False,
            )
        for i in range(n_junior - nine_year):
            add("junior", f"{short}第{_zh_number(i + 1)}初级中学", 6, True)
        for i in range(n_senior):
            if i == 0 and n_senior > 1:
                add("complete", f"{short}第一中学", 6, True)
            else:
                add("senior", f"{short}第{_zh_number(i + 1 + (n_senior > 1))}高级中学", 6, True)

        cohorts: list[_Cohort] = []
        for stage in ("primary", "junior", "senior"):
            hosts = [i for i, s in enumerate(schools) if stage in s.stages]
            for idx in hosts:
                school = schools[idx]
                length = _stage_length(stage, school.primary_years)
                share = 1.0 / len(hosts)
                for entry in range(y0 - length + 1, y1 + 1):
                    # Intake shrinks ~2% a year for primary (falling births), flat otherwise.
                    trend = 0.98 ** (entry - y0) if stage == "primary" else 1.0
                    size = round(per_cohort[stage] * share * trend * rng.uniform(0.9, 1.1))
                    if size:
                        cohorts.append(
                            _Cohort(idx, stage, entry, length, self._split_classes(rng, size))
                        )
        # Scale so the county totals exactly n students.
        total = sum(sum(c.class_sizes) for c in cohorts)
        if total and total != n:
            _rescale(cohorts, n)
        return schools, cohorts, rows

    # ---------------------------------------------------------------- people
    def _student(
        self,
        rng: random.Random,
        counters: _CountyCounters,
        county: RegionInfo,
        school: _School,
        cohort: _Cohort,
        class_no: int,
        seat: int,
        migrant_pool: Sequence[str],
    ) -> Iterator[tuple[str, Row]]:
        province = county.code[:2]
        sid = next(self.ids["student"])
        male = rng.random() < 0.53  # sex ratio at birth ≈ 113 for these cohorts
        sex = "1" if male else "2"
        entry_age = {
            "primary": PRIMARY_ENTRY_AGE,
            "junior": PRIMARY_ENTRY_AGE + school.primary_years,
            "senior": SENIOR_ENTRY_AGE,
        }[cohort.stage]
        # Age on 1 September of the entry year; a few start a year late.
        age = entry_age + (1 if rng.random() < 0.04 else 0)
        birth = date(cohort.entry_year - age - 1, 9, 1) + timedelta(days=rng.randrange(365))
        urban = school.urban
        migrant = bool(migrant_pool) and rng.random() < (0.15 if urban else 0.02)
        home = rng.choice(migrant_pool) if migrant else county.code
        ethnicity = self._pick_ethnicity(rng, home[:2])
        surname = self._surname(rng)
        name = surname + self._given_name(rng, male)
        no_id = rng.random() < 0.012
        id_number = None if no_id else self._id_number(counters, home, birth, male, migrant)
        id_doc_type = "Z" if no_id else "1"
        left_behind = "0"
        if not urban and not migrant:
            x = rng.random()
            left_behind = "2" if x < 0.06 else ("1" if x < 0.18 else "0")
        elif rng.random() < 0.01:
            left_behind = "1"
        compulsory = cohort.stage != "senior"
        rural_boarding = 0.4 if cohort.stage == "junior" else 0.1
        boarding = rng.random() < (
            0.7 if cohort.stage == "senior" else (rural_boarding if not urban else 0.02)
        )
        distance = round(rng.uniform(0.3, 3.0) if urban else rng.uniform(0.5, 15.0), 1)
        transport = "1" if distance < 1.0 else ("2" if distance < 3 else rng.choice("345"))
        needs_bus = compulsory and not urban and distance > 2
        current_address = self._address(rng, county.code)
        home_address = self._address(rng, home) if migrant else current_address
        birthplace = (
            home
            if rng.random() > 0.1
            else (
                f"{home}{rng.randint(1, 20):03d}{rng.randint(1, 30):03d}"  # 12-digit 统计用区划代码
            )
        )
        last_grade_year = cohort.entry_year + cohort.length - 1
        graduated = last_grade_year < self.current_year
        status = "05" if graduated else ("02" if rng.random() < 0.003 else "01")
        last_year = min(self.current_year, last_grade_year)
        current_grade = STAGE_DIGIT[cohort.stage] + str(last_year - cohort.entry_year + 1)
        current_class_id = self.class_ids[(school.id, last_year, current_grade, class_no)]
        political = "13"
        if cohort.stage == "senior" and rng.random() < 0.35:
            political = "03"
        guardian_phone = self._phone(rng)
        hukou_type = "1" if (not urban or migrant or rng.random() < 0.25) else "2"

        # 学籍号: every student gets an L number at entry; the bureau check later turns it
        # into G (ID present) or J (no usable ID). This year's intake is partly unchecked.
        entry_dt = datetime(cohort.entry_year, 9, 1, 9, 0)
        checked_dt = datetime(cohort.entry_year + 1, 3, 15, 10, 0)
        counters.l_seq[birth] += 1
        random4 = (counters.l_seq[birth] * 3181 + birth.toordinal()) % 10000
        l_value = f"L{county.code}{birth:%Y%m%d}{random4:04d}"
        pending = cohort.entry_year == self.current_year and (
            checked_dt > self.now or rng.random() < 0.6
        )
        if pending:
            number, kind = l_value, "L"
        elif no_id:
            counters.j_seq[birth] += 1
            body = f"{county.code}{birth:%Y%m%d}{counters.j_seq[birth]:03d}"
            number, kind = "J" + body + check_char(body), "J"
        else:
            number, kind = "G" + str(id_number), "G"
        yield (
            "student_number_history",
            (
                next(self.ids["student_number_history"]),
                sid,
                l_value,
                "L",
                entry_dt,
                None if kind == "L" else checked_dt,
                None,
            ),
        )
        if kind != "L":
            yield (
                "student_number_history",
                (
                    next(self.ids["student_number_history"]),
                    sid,
                    number,
                    kind,
                    checked_dt,
                    None,
                    "全国查重通过",
                ),
            )

        yield (
            "student",
            (
                sid,
                number,
                kind,
                name,
                sex,
                birth,
                birthplace,
                home,
                ethnicity,
                "CHN",
                id_doc_type,
                id_number,
                "00",
                political,
                rng.choices(("10", "20", "30", "40", "50"), (960, 30, 7, 2, 1))[0],
                None,
                None,
                None,
                (
                    f"{cohort.entry_year}.09.01-{cohort.entry_year + 5}.09.01"
                    if cohort.stage == "senior" and id_number
                    else None
                ),
                home,
                hukou_type,
                rng.choice(SPECIALTIES) if rng.random() < 0.15 else None,
                None,
                current_address,
                current_address,
                home_address,
                guardian_phone,
                f"{POSTAL_PREFIX.get(province, province)}{int(county.code[2:]) % 10000:04d}",
                f"{rng.randrange(10**7, 10**10)}@qq.com" if rng.random() < 0.1 else None,
                None,
                rng.random() < (0.45 if urban else 0.2),
                rng.random() < 0.95,
                left_behind,
                migrant,
                rng.random() < 0.001,
                rng.random() < 0.0005,
                "0",
                "0",
                rng.random() < 0.01,
                rng.random() < (0.03 if urban else 0.08),
                boarding and compulsory and not urban,
                distance,
                transport,
                needs_bus,
                status,
                school.id,
                current_class_id,
                current_grade,
                self.now - timedelta(days=rng.randrange(0, 500)),
                entry_dt,
                self.now,
                None,
                1,
            ),
        )
        yield (
            "student_id_document",
            (
                next(self.ids["student_id_document"]),
                sid,
                id_doc_type,
                id_number,
                None,
                entry_dt,
                None,
                None,
            ),
        )

        # Family members: father and mother, or a grandparent first for double left-behind.
        father_surname = surname
        father_birth = birth - timedelta(days=365 * rng.randint(24, 38) + rng.randrange(365))
        mother_birth = birth - timedelta(days=365 * rng.randint(22, 36) + rng.randrange(365))
        relations: list[tuple[str, str, date, bool, bool]] = [
            ("1", father_surname + self._given_name(rng, True), father_birth, True, True),
            ("2", self._surname(rng) + self._given_name(rng, False), mother_birth, False, True),
        ]
        if left_behind == "2":
            grandparent_birth = father_birth - timedelta(days=365 * rng.randint(22, 30))
            relations = [
                ("3", father_surname + self._given_name(rng, True), grandparent_birth, True, True),
                (relations[1][0], relations[1][1], relations[1][2], False, False),
            ]
        for seq, (rel, g_name, g_birth, g_male, is_guardian) in enumerate(relations, start=1):
            g_id = self._id_number(counters, home, g_birth, g_male, migrant)
            yield (
                "guardian",
                (
                    next(self.ids["guardian"]),
                    sid,
                    seq,
                    g_name,
                    rel,
                    None,
                    ethnicity,
                    rng.choice(EMPLOYERS),
                    home_address if migrant and not is_guardian else current_address,
                    home,
                    guardian_phone if seq == 1 else self._phone(rng),
                    is_guardian,
                    "1",
                    g_id,
                    rng.choice(POSITIONS),
                ),
            )

        admission = (
            ("11" if rng.random() < 0.95 else "12")
            if compulsory
            else rng.choices(("21", "22", "23", "99"), (92, 3, 3, 2))[0]
        )
        study_mode = "2" if boarding else "1"
        source = rng.choices(("1", "2", "9"), (98, 1, 1))[0]
        for year in self.year_starts:
            grade_year = year - cohort.entry_year + 1
            if not 1 <= grade_year <= cohort.length:
                continue
            grade = STAGE_DIGIT[cohort.stage] + str(grade_year)
            class_id = self.class_ids[(school.id, year, grade, class_no)]
            past = year < self.current_year
            yield (
                "enrollment",
                (
                    next(self.ids["enrollment"]),
                    sid,
                    school.id,
                    self.school_year_ids[year],
                    class_id,
                    grade,
                    f"{seat:02d}",
                    f"{cohort.entry_year}09",
                    date(cohort.entry_year, 9, 1),
                    admission,
                    study_mode,
                    source,
                    True,
                    date(year + 1, 7, 10) if past else None,
                    "21" if past and grade_year == cohort.length else None,
                    self.now,
                    None,
                    1,
                ),
            )

    # ---------------------------------------------------------------- driver
    def rows(self) -> Iterator[tuple[str, Row]]:
        yield from self.school_year_rows()
        self.report.school_years = [f"{y}-{y + 1}" for y in self.year_starts]
        plan = self.plan_counties()
        pools = self._migrant_pools([c for c, _ in plan])
        for county, n in plan:
            if n <= 0:
                continue
            self.report.counties += 1
            rng = random.Random(f"{self.o.seed}:{county.code}")
            counters = _CountyCounters()
            schools, cohorts, school_rows = self._plan_county_schools(rng, county, n)
            yield from school_rows
            for cohort in cohorts:
                school = schools[cohort.school_index]
                for class_no, size in enumerate(cohort.class_sizes, start=1):
                    yield from self._class_rows(school, cohort, class_no)
                    for seat in range(1, size + 1):
                        yield from self._student(
                            rng,
                            counters,
                            county,
                            school,
                            cohort,
                            class_no,
                            seat,
                            pools[county.code],
                        )
            for birth, last in sorted(counters.j_seq.items()):
                yield "j_number_sequence", (county.code, birth, last)

    def _class_rows(
        self, school: _School, cohort: _Cohort, class_no: int
    ) -> Iterator[tuple[str, Row]]:
        for year in self.year_starts:
            grade_year = year - cohort.entry_year + 1
            if not 1 <= grade_year <= cohort.length:
                continue
            grade = STAGE_DIGIT[cohort.stage] + str(grade_year)
            key = (school.id, year, grade, class_no)
            if key in self.class_ids:
                continue
            cid = next(self.ids["school_class"])
            self.class_ids[key] = cid
            name = f"{GRADE_NAMES[cohort.stage][grade_year - 1]}({class_no})班"
            yield (
                "school_class",
                (cid, school.id, self.school_year_ids[year], grade, class_no, name),
            )


def _zh_number(n: int) -> str:
    if n < 10:
        return CHINESE_DIGITS[n - 1]
    tens, ones = divmod(n, 10)
    return (
        ("" if tens == 1 else CHINESE_DIGITS[tens - 1])
        + "十"
        + (CHINESE_DIGITS[ones - 1] if ones else "")
    )


def _stage_length(stage: str, primary_years: int) -> int:
    if stage == "primary":
        return primary_years
    if stage == "junior":
        return 9 - primary_years
    return 3


def _rescale(cohorts: list[_Cohort], n: int) -> None:
    """Adjust class sizes so the cohorts hold exactly n students, staying within 1..55."""
    total = sum(sum(c.class_sizes) for c in cohorts)
    factor = n / total
    for c in cohorts:
        c.class_sizes = [max(1, min(55, round(s * factor))) for s in c.class_sizes]
    diff = n - sum(sum(c.class_sizes) for c in cohorts)
    slots = [(ci, k) for ci, c in enumerate(cohorts) for k in range(len(c.class_sizes))]
    i = 0
    guard = 0
    while diff and guard < 10 * len(slots) + abs(diff) * 2:
        ci, k = slots[i % len(slots)]
        size = cohorts[ci].class_sizes[k]
        if diff > 0 and size < 55:
            cohorts[ci].class_sizes[k] += 1
            diff -= 1
        elif diff < 0 and size > 1:
            cohorts[ci].class_sizes[k] -= 1
            diff += 1
        i += 1
        guard += 1
    if diff > 0:  # every class full: open extra classes in the largest cohort
        biggest = max(cohorts, key=lambda c: sum(c.class_sizes))
        while diff > 0:
            add = min(55, diff)
            biggest.class_sizes.append(add)
            diff -= add


def write_nation(
    generator: NationGenerator,
    sink: RowSink,
    progress: Callable[[int], None] | None = None,
    *,
    threaded: bool = False,
) -> SeedReport:
    """Drain the generator into the sink in chunks; one transaction for the whole run.

    With threaded=True (PostgreSQL) a writer thread sends one chunk while the next is being
    generated: psycopg releases the GIL while the server ingests COPY data, so generation
    and ingestion overlap instead of adding up. At most two chunks wait in the queue, so
    memory stays flat."""
    buffers: dict[str, list[Row]] = {t: [] for t in TABLE_COLUMNS}
    students_in_buffer = 0
    report = generator.report
    chunks: queue.Queue[dict[str, list[Row]] | None] = queue.Queue(maxsize=2)
    failures: list[BaseException] = []

    def write_chunk(chunk: dict[str, list[Row]]) -> None:
        for table in WRITE_ORDER:
            if chunk[table]:
                sink.write(table, TABLE_COLUMNS[table], chunk[table])

    def writer() -> None:
        while (chunk := chunks.get()) is not None:
            if failures:
                continue  # keep draining so the producer never blocks on a dead writer
            try:
                write_chunk(chunk)
            except BaseException as exc:  # re-raised in the producer
                failures.append(exc)

    thread = threading.Thread(target=writer, name="seed-writer", daemon=True) if threaded else None
    if thread is not None:
        thread.start()

    def flush() -> None:
        nonlocal buffers
        for table, rows in buffers.items():
            report.counts[table] += len(rows)
        if thread is not None:
            if failures:
                raise failures[0]
            chunks.put(buffers)
        else:
            write_chunk(buffers)
        buffers = {t: [] for t in TABLE_COLUMNS}

    try:
        try:
            for table, row in generator.rows():
                buffers[table].append(row)
                if table == "student":
                    students_in_buffer += 1
                    if students_in_buffer >= generator.o.chunk_students:
                        flush()
                        if progress:
                            progress(students_in_buffer)
                        students_in_buffer = 0
            flush()
        finally:
            if thread is not None:
                chunks.put(None)
                thread.join()
        if failures:
            raise failures[0]
        if progress and students_in_buffer:
            progress(students_in_buffer)
        # COPY bypasses the ORM audit listener: one batch entry records the seed itself.
        connection = getattr(sink, "connection", None)
        if connection is not None:
            from ..audit import record_batch

            o = generator.o
            record_batch(
                connection,
                "seed",
                "student",
                report.counts["student"],
                f"xueji seed --students {o.students} --years {o.years} --seed {o.seed}",
                details={"counts": dict(report.counts)},
            )
        sink.commit()
    except BaseException:
        sink.rollback()
        raise
    return report


class SeedRefused(Exception):
    """The database is not in a state the generator can write into; the message says why."""


def load_region_infos(connection: Any) -> list[RegionInfo]:
    rows = connection.execute(text("SELECT code, name, level, parent_code FROM region"))
    return [RegionInfo(code, name, level, parent) for code, name, level, parent in rows]


def seed_database(
    engine: Engine,
    options: SeedOptions,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Generate a synthetic nation into an initialised, empty registry."""
    problems = options.validate()
    if problems:
        raise SeedRefused("; ".join(problems))
    with engine.connect() as conn:
        regions = load_region_infos(conn)
        existing = conn.execute(text("SELECT COUNT(*) FROM school")).scalar_one()
    if not regions:
        raise SeedRefused("the region table is empty: run `xueji init` first")
    if existing:
        raise SeedRefused(
            f"the registry already holds {existing} schools; seed writes into an empty "
            "registry (use a new XUEJI_DATA_DIR or database)"
        )
    known = {r.code[:2] for r in regions if r.level == 1}
    unknown = [p for p in options.provinces if p not in known]
    if unknown:
        raise SeedRefused(f"--provinces: unknown province code(s) {', '.join(unknown)}")
    generator = NationGenerator(options, regions)
    raw = engine.raw_connection()
    driver = raw.driver_connection
    saved_isolation = getattr(driver, "isolation_level", None)
    try:
        sink: RowSink
        if engine.dialect.name == "postgresql":
            sink = PostgresCopySink(driver)
        elif engine.dialect.name == "sqlite":
            driver.isolation_level = None  # we issue BEGIN/COMMIT ourselves
            sink = SqliteSink(driver)
        else:
            raise SeedRefused(
                f"seeding is supported on SQLite and PostgreSQL, not {engine.dialect.name}"
            )
        return write_nation(generator, sink, progress, threaded=engine.dialect.name == "postgresql")
    finally:
        if engine.dialect.name == "sqlite":
            # The connection goes back to the pool: leaving it in autocommit would make
            # every later session's rollback a no-op.
            driver.isolation_level = saved_isolation
        raw.close()
