"""Demo teaching records for a seeded registry: timetables, attendance, exams and scores,
comprehensive quality evaluations — so the demo screens and the dashboards have data.

What is built, deterministic under ``seed`` for a given registry and ``today``:

- timetables (课程表) of every class of the current school year for the term that is running
  (or, in a holiday, the next one): Monday–Friday, 7 periods in primary and 8 in secondary,
  the stage's subjects in realistic weekly hours (语文/数学 daily, 外语 from grade 3), each class
  in its own room (教学楼A-203), PE on the 操场 and music/art/IT in the school's few special
  rooms while one is free. No teachers except existing accounts assigned to a class
  (TeachingAssignment): a class teacher (班主任) also teaches the class's 语文;
- attendance (考勤) on the school days up to today: only the exceptions are rows — sick and
  personal leave by the day (about 1–2 % of student-days), late and early leave, the odd
  lesson of 旷课, and per school a handful of chronic absentees (streaks of 旷课 that raise the
  alerts; now and then a 4-week dropout case);
- exams (考试) each grade may hold under the 2021 rules (admin/domain/ranking.check_exam_type
  decides: none in grades 1–2, 期末 in primary, 期中 + 期末 in junior, 月考 too in senior,
  mocks in graduating grades) with papers, classes and scores (student ability, school, class
  and subject effects; ~1 % 缺考);
- 综合素质评价 for every finished term: final grades in the five dimensions (A ≈ 35 %,
  B ≈ 45 %, C ≈ 17 %, D ≈ 3 %), a class-teacher comment and a few 写实 records.

Rows go through the bulk sinks of the nation seed (no ORM per row) in one transaction with one
audit entry; they refuse a registry that already holds teaching records.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import NormalDist
from typing import Any

from sqlalchemy import Engine, text

from ..domain.calendar import WorkingCalendar
from ..domain.consistency import grade_by_code, stage_length
from ..domain.evaluation import DEFAULT_PUBLICITY
from ..domain.ranking import ExamType, ScoreCode, check_exam_type
from .bulk import PostgresCopySink, Row, RowSink, SqliteSink

SEEDED_BY = "seed"
SHARED_ROOMS = ("操场",)  # PE: several classes at once (admin/domain/timetable shared_rooms)
PERIODS_PER_DAY = {"primary": 7, "junior": 8, "senior": 8}

# Weekly hours per grade (sum = 5 × periods per day). 义务教育课程方案（2022年版） and
# 普通高中课程方案 orders of magnitude; the senior 2nd/3rd year takes its 选科 track.
_PRIMARY_LOW = {"chinese": 10, "math": 6, "moral": 2, "science": 2, "pe": 5, "music": 3}
_PRIMARY_LOW |= {"art": 3, "labor": 2, "practice": 2}
_PRIMARY = {"chinese": 8, "math": 6, "foreign": 3, "moral": 2, "science": 2, "it": 1, "pe": 4}
_PRIMARY |= {"music": 2, "art": 2, "labor": 2, "practice": 3}
_JUNIOR_1 = {"chinese": 7, "math": 7, "foreign": 6, "moral": 2, "history": 3, "geograph": 2}
_JUNIOR_1 |= {"biology": 3, "pe": 4, "music": 1, "art": 1, "it": 1, "labor": 1, "practice": 2}
_JUNIOR_2 = {"chinese": 6, "math": 7, "foreign": 6, "physics": 3, "moral": 2, "history": 2}
_JUNIOR_2 |= {"geograph": 2, "biology": 2, "pe": 4, "music": 1, "art": 1, "it": 1, "labor": 1}
_JUNIOR_2 |= {"practice": 2}
_JUNIOR_3 = {"chinese": 7, "math": 7, "foreign": 6, "physics": 4, "chem": 4, "moral": 3}
_JUNIOR_3 |= {"history": 3, "pe": 3, "music": 1, "art": 1, "labor": 1}
_SENIOR_1 = {"chinese": 5, "math": 6, "foreign": 5, "physics": 4, "chem": 3, "biology": 3}
_SENIOR_1 |= {"politics": 2, "history": 2, "geograph": 2, "it": 2, "tech": 1, "pe": 2}
_SENIOR_1 |= {"music": 1, "art": 1, "labor": 1}
_SENIOR_TRACK_BASE = {"chinese": 7, "math": 7, "foreign": 6, "pe": 2, "it": 1, "tech": 1}
_SENIOR_TRACK_BASE |= {"music": 1, "art": 1, "labor": 1}
_TRACK_HOURS = (5, 4, 4)  # 首选科目, two 再选科目
# 3+1+2 combinations (首选 physics or history, then two of four) with rough popularity.
SENIOR_TRACKS: tuple[tuple[tuple[str, str, str], int], ...] = (
    (("physics", "chem", "biology"), 30),
    (("physics", "chem", "geograph"), 15),
    (("physics", "biology", "geograph"), 10),
    (("physics", "chem", "politics"), 6),
    (("history", "politics", "geograph"), 20),
    (("history", "geograph", "biology"), 10),
    (("history", "politics", "biology"), 9),
)

MORNING = ("chinese", "math", "foreign", "physics", "chem")
AFTERNOON = ("pe", "music", "art", "labor", "practice", "it", "tech")
SPECIAL_ROOMS = {"music": "音乐教室", "art": "美术教室", "it": "计算机教室", "tech": "通用技术教室"}

# Papers per grade (full marks 100; 150 for 语数外 in senior high).
EXAM_SUBJECTS: dict[str, tuple[str, ...]] = {
    "primary": ("chinese", "math", "foreign"),
    "21": ("chinese", "math", "foreign", "moral", "history", "geograph", "biology"),
    "22": ("chinese", "math", "foreign", "physics", "moral", "history", "geograph", "biology"),
    "23": ("chinese", "math", "foreign", "physics", "chem", "moral", "history"),
    "31": (
        "chinese", "math", "foreign", "physics", "chem", "biology", "politics", "history",
        "geograph",
    ),
}  # fmt: skip
SUBJECT_ORDER = (
    "chinese", "math", "foreign", "physics", "chem", "biology", "moral", "politics", "history",
    "geograph",
)  # fmt: skip
SUBJECT_EASE = {"chinese": 0.01, "math": -0.03, "foreign": 0.0, "physics": -0.05}
SUBJECT_EASE |= {"chem": -0.02, "biology": 0.01, "moral": 0.04, "politics": 0.02}
SUBJECT_EASE |= {"history": 0.02, "geograph": 0.01}
STAGE_MEAN = {"primary": 0.84, "junior": 0.71, "senior": 0.64}
STAGE_SPREAD = {"primary": 0.09, "junior": 0.14, "senior": 0.14}
EXAM_KIND_TYPE = {
    "midterm": ExamType.MIDTERM,
    "final": ExamType.FINAL,
    "monthly": ExamType.MONTHLY,
    "mock": ExamType.MOCK,
}
# (kind, month, day, label) per term number; the graduating grades sit mocks in term 2 and
# leave for 中考/高考 instead of a final. check_exam_type drops what a grade may not hold.
EXAM_CALENDAR: dict[int, tuple[tuple[str, int, int, str], ...]] = {
    1: (
        ("monthly", 10, 12, "第一次月考"),
        ("midterm", 11, 10, "期中考试"),
        ("monthly", 12, 8, "第二次月考"),
        ("final", 1, 13, "期末考试"),
    ),
    2: (
        ("monthly", 3, 23, "第一次月考"),
        ("midterm", 4, 22, "期中考试"),
        ("monthly", 5, 25, "第二次月考"),
        ("final", 6, 30, "期末考试"),
    ),
}
GRADUATING_TERM_2 = (
    ("monthly", 3, 23, "第一次月考"),
    ("mock", 4, 15, "第一次模拟考试"),
    ("mock", 5, 13, "第二次模拟考试"),
)
TERM_NAMES = {1: "第一学期", 2: "第二学期"}

DIMENSIONS = ("moral", "academic", "health", "arts", "practice")
_NORMAL = NormalDist()
# Latent cut points for A ≈ 35 %, B ≈ 45 %, C ≈ 17 %, D ≈ 3 % (the latent is ~N(0, 1)).
GRADE_CUTS: tuple[tuple[float, str], ...] = (
    (_NORMAL.inv_cdf(0.65), "A"),
    (_NORMAL.inv_cdf(0.20), "B"),
    (_NORMAL.inv_cdf(0.03), "C"),
)

COMMENT_OPENINGS = (
    "该生尊敬师长，团结同学，",
    "该生性格开朗，乐于助人，",
    "该生遵守纪律，文明有礼，",
    "该生热爱集体，积极参加班级活动，",
    "该生为人诚恳，做事踏实，",
)
COMMENT_STUDY = {
    "A": "学习刻苦认真，成绩优异。",
    "B": "学习较为认真，成绩稳中有进。",
    "C": "学习上还需更加主动，上课要专心听讲。",
    "D": "学习基础较为薄弱，需加强课后巩固。",
}
COMMENT_CLOSINGS = (
    "希望继续努力，全面发展。",
    "希望今后多参加体育锻炼。",
    "望多读书、勤思考，争取更大进步。",
    "希望保持良好习惯，再接再厉。",
)
ACTIVITIES = (
    ("moral", "升旗仪式护旗手"),
    ("moral", "校园文明监督岗"),
    ("moral", "主题班会发言"),
    ("arts", "校园艺术节合唱"),
    ("arts", "班级文化墙设计"),
    ("health", "校运动会"),
    ("health", "心理健康主题活动"),
    ("academic", "读书分享会"),
    ("academic", "科技节展示"),
)
ROLES = ("参与者", "参与者", "参与者", "组织者", "志愿者", "主持人", "队员")
AWARDS = (
    ("academic", "作文比赛三等奖"),
    ("academic", "数学竞赛二等奖"),
    ("academic", "英语演讲比赛三等奖"),
    ("academic", "科技创新大赛优秀奖"),
    ("arts", "书法比赛一等奖"),
    ("arts", "绘画比赛二等奖"),
    ("health", "田径运动会100米第二名"),
    ("moral", "三好学生"),
    ("moral", "优秀学生干部"),
)
AWARD_LEVEL_CODES = ("school", "county", "city", "province", "national")  # code set award_level
AWARD_LEVEL_WEIGHTS = (60, 25, 10, 4, 1)
AWARD_ISSUERS = {
    "school": "学校",
    "county": "县（区）教育局",
    "city": "市教育局",
    "province": "省教育厅",
    "national": "全国竞赛组委会",
}
PRACTICES = (
    "社区志愿服务",
    "敬老院慰问",
    "垃圾分类宣传",
    "博物馆志愿讲解",
    "农业劳动体验",
    "职业体验日",
    "交通安全宣传",
    "图书馆整理图书",
)
SICK_NOTES = ("发烧", "感冒", "肠胃不适", "就医复查", None, None)
PERSONAL_NOTES = ("家中有事", "参加亲属婚礼", "外出办理证件", None, None)

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "teaching_assignment": ("id", "user_id", "class_id", "subject_code", "term_id"),
    "timetable_slot": (
        "id", "term_id", "class_id", "school_id", "weekday", "period", "subject_code",
        "teacher_id", "room", "combined", "updated_by", "updated_at",
    ),
    "attendance": (
        "id", "student_id", "class_id", "school_id", "date", "kind", "period", "periods",
        "days", "note", "recorded_by", "recorded_at",
    ),
    "exam": (
        "id", "school_id", "term_id", "grade_code", "name", "kind", "exam_date", "state",
        "published_at", "published_by", "created_by", "created_at", "version",
    ),
    "exam_subject": (
        "id", "exam_id", "subject_code", "full_mark", "pass_line", "excellent_line",
        "sort_order",
    ),
    "exam_class": ("id", "exam_id", "class_id"),
    "score": (
        "id", "exam_id", "student_id", "class_id", "subject_code", "score", "code",
        "full_mark", "level", "absent", "entered_by", "entered_at",
    ),
    "term_evaluation": (
        "id", "student_id", "term_id", "school_id", "class_id", "state", "publicity_start",
        "publicity_end", "publicity_rounds", "finalized_on", "comment", "updated_by",
        "updated_at", "version",
    ),
    "evaluation": (
        "id", "term_evaluation_id", "student_id", "school_id", "school_year_id", "term_id",
        "dimension", "level",
    ),
    "evaluation_record": (
        "id", "student_id", "term_id", "school_id", "dimension", "kind", "title",
        "happened_on", "hours", "role", "award_level", "issuer", "description",
        "recorded_by", "recorded_at", "verified_by",
    ),
}  # fmt: skip
WRITE_ORDER = tuple(TABLE_COLUMNS)  # FK-safe
# A registry holding any of these already has teaching records: seeding again would mix.
GUARDED_TABLES = ("timetable_slot", "attendance", "exam", "term_evaluation", "evaluation_record")
FLUSH_ROWS = 50_000
SQLITE_CACHE_KIB = -131_072  # negative: KiB (128 MiB at most, used as needed)


@dataclass
class TeachingOptions:
    seed: int = 2026
    years: int = 2  # school years back from the current one (the current one included)
    today: date = field(default_factory=date.today)
    # The school calendar (holidays, 调休); None = Monday–Friday. Attendance is also left
    # blank on the fixed-date public holidays (国庆, 元旦, 劳动节) when it has no holidays.
    calendar: WorkingCalendar | None = None

    def validate(self) -> list[str]:
        return [] if 1 <= self.years <= 12 else [f"--years must be 1..12, got {self.years}"]


@dataclass
class TeachingReport:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    school_years: list[str] = field(default_factory=list)
    students: int = 0


class TeachingSeedRefused(Exception):
    """The registry cannot take demo teaching records; the message says why."""


# ----------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class _Term:
    id: int
    number: int
    start: date
    end: date


@dataclass
class _Year:
    id: int
    code: str
    start: date
    end: date
    terms: list[_Term]


@dataclass(frozen=True)
class _School:
    id: int
    kind: str
    primary_years: int


@dataclass(frozen=True)
class _Class:
    id: int
    school_id: int
    year_id: int
    grade: str
    number: int
    name: str


@dataclass(frozen=True)
class _Assignment:
    user_id: int
    username: str
    class_id: int
    subject: str | None


@dataclass
class _Registry:
    years: list[_Year]
    current: _Year
    schools: dict[int, _School]
    classes: dict[tuple[int, int], list[_Class]]  # (school, year) → classes
    members: dict[int, list[int]]  # class → student ids
    assignments: list[_Assignment]
    max_ids: dict[str, int]


def _d(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def load_registry(connection: Any, options: TeachingOptions) -> _Registry:
    """What the generator reads: school years and terms, schools, classes, their students
    (one enrollment per student and year; this year only students 在校), class teachers."""
    today = options.today
    years: dict[int, _Year] = {}
    for yid, code, start, end in connection.execute(
        text("SELECT id, code, start_date, end_date FROM school_year ORDER BY start_date")
    ):
        if _d(start) <= today:
            years[yid] = _Year(yid, code, _d(start), _d(end), [])
    for tid, yid, number, start, end in connection.execute(
        text("SELECT id, school_year_id, number, start_date, end_date FROM term ORDER BY id")
    ):
        if yid in years:
            years[yid].terms.append(_Term(tid, number, _d(start), _d(end)))
    if not years:
        raise TeachingSeedRefused(f"no school year has started by {today}: run `xueji seed`")
    chosen = sorted(years.values(), key=lambda y: y.start)[-options.years :]
    for year in chosen:
        year.terms.sort(key=lambda t: t.start)
    current = chosen[-1]
    ids = {y.id for y in chosen}
    schools = {
        sid: _School(sid, kind, primary_years or 6)
        for sid, kind, primary_years in connection.execute(
            text("SELECT id, kind, primary_years FROM school WHERE is_active ORDER BY id")
        )
    }
    classes: dict[tuple[int, int], list[_Class]] = defaultdict(list)
    for cid, school_id, yid, grade, number, name in connection.execute(
        text(
            "SELECT id, school_id, school_year_id, grade_code, number, name FROM school_class "
            "ORDER BY school_id, school_year_id, grade_code, number, id"
        )
    ):
        if yid in ids and school_id in schools and grade_by_code(grade):
            classes[(school_id, yid)].append(
                _Class(cid, school_id, yid, grade, number, name or f"{grade}-{number}")
            )
    # One enrollment per student and year (the latest); this year only students 在校.
    latest: dict[tuple[int, int], tuple[int, int]] = {}
    for eid, student_id, yid, class_id, ended_on, status in connection.execute(
        text(
            "SELECT e.id, e.student_id, e.school_year_id, e.class_id, e.ended_on, "
            "s.current_status FROM enrollment e JOIN student s ON s.id = e.student_id "
            "WHERE e.is_active AND e.class_id IS NOT NULL"
        )
    ):
        if yid not in ids:
            continue
        if yid == current.id and (ended_on is not None or status != "01"):
            continue
        key = (student_id, yid)
        if key not in latest or latest[key][0] < eid:
            latest[key] = (eid, class_id)
    members: dict[int, list[int]] = defaultdict(list)
    for (student_id, _), (_, class_id) in latest.items():
        members[class_id].append(student_id)
    for students in members.values():
        students.sort()
    assignments = [
        _Assignment(uid, username, cid, subject)
        for uid, username, cid, subject in connection.execute(
            text(
                "SELECT t.user_id, u.username, t.class_id, t.subject_code FROM teaching_assignment t "
                "JOIN ab_user u ON u.id = t.user_id ORDER BY t.id"
            )
        )
    ]
    max_ids = {
        table: int(connection.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar())
        for table in TABLE_COLUMNS
    }
    return _Registry(chosen, current, schools, dict(classes), dict(members), assignments, max_ids)


# ----------------------------------------------------------------------------- generation


def _stage(grade: str) -> str:
    return {"1": "primary", "2": "junior", "3": "senior"}[grade[0]]


def _day(day: date) -> str:
    """Dates and times are written as ISO text: both sinks take it, and SQLite stores exactly
    this (SQLAlchemy's SQLite dialect reads it back as date/datetime)."""
    return day.isoformat()


def _at(day: date, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()} {hour:02d}:{minute:02d}:00"


def _weekday_on_or_after(day: date) -> date:
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day


def _fixed_holidays(years: Sequence[_Year]) -> frozenset[date]:
    days: set[date] = set()
    for y in years:
        days |= {date(y.start.year, 10, d) for d in range(1, 8)}
        days |= {date(y.start.year + 1, 1, 1)} | {date(y.start.year + 1, 5, d) for d in range(1, 6)}
    return frozenset(days)


class TeachingGenerator:
    def __init__(self, registry: _Registry, options: TeachingOptions) -> None:
        self.r = registry
        self.o = options
        self.today = options.today
        self.calendar = options.calendar or WorkingCalendar()
        # Quiet days: no marks on the fixed public holidays unless a calendar names holidays.
        self.quiet = frozenset() if self.calendar.holidays else _fixed_holidays(registry.years)
        self.ids = {t: registry.max_ids.get(t, 0) for t in TABLE_COLUMNS}
        self.report = TeachingReport(school_years=[y.code for y in registry.years])
        self._traits: dict[int, list[float]] = {}
        by_class: dict[int, list[_Assignment]] = defaultdict(list)
        for a in registry.assignments:
            by_class[a.class_id].append(a)
        self.assignments = dict(by_class)

    def _id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def _traits_of(self, student_id: int) -> list[float]:
        """A student's lasting traits: [ability, one aptitude per subject, one per dimension]."""
        traits = self._traits.get(student_id)
        if traits is None:
            rng = random.Random(self.o.seed * 1_000_003 + student_id)
            ability = rng.gauss(0, 1)
            traits = [ability] + [rng.gauss(0, 1) for _ in SUBJECT_ORDER + DIMENSIONS]
            self._traits[student_id] = traits
        return traits

    def school_days(self, year: _Year, until: date) -> list[date]:
        days = []
        for term in year.terms:
            day = term.start
            while day <= min(term.end, until):
                if self.calendar.is_working_day(day):
                    days.append(day)
                day += timedelta(days=1)
        return days

    def rows(self, progress: Callable[[int], None] | None = None) -> Iterator[tuple[str, Row]]:
        for school in self.r.schools.values():
            students = 0
            for year in self.r.years:
                classes = [
                    c
                    for c in self.r.classes.get((school.id, year.id), [])
                    if self.r.members.get(c.id)
                ]
                if not classes:
                    continue
                rng = random.Random(f"{self.o.seed}:{school.id}:{year.id}")
                if year is self.r.current:
                    yield from self.timetables(rng, school, year, classes)
                absent_on = yield from self.attendance(rng, school, year, classes)
                yield from self.exams(rng, school, year, classes, absent_on)
                yield from self.evaluations(rng, school, year, classes)
                if year is self.r.current:
                    students = sum(len(self.r.members[c.id]) for c in classes)
            self.report.students += students
            if progress and students:
                progress(students)

    # ------------------------------------------------------------------------- timetables
    def _timetabled_terms(self, year: _Year) -> list[_Term]:
        started = [t for t in year.terms if t.start <= self.today]
        upcoming = [t for t in year.terms if t.start > self.today]
        if started and started[-1].end < self.today and upcoming:
            return [upcoming[0]]  # in the holiday: next term's timetable is out
        return started[-1:] or upcoming[:1]

    @staticmethod
    def weekly_hours(grade: str, track: tuple[str, str, str] | None) -> dict[str, int]:
        stage = _stage(grade)
        if stage == "primary":
            return _PRIMARY_LOW if grade in ("11", "12") else _PRIMARY
        if stage == "junior":
            return {"21": _JUNIOR_1, "22": _JUNIOR_2}.get(grade, _JUNIOR_3)
        if grade == "31" or track is None:
            return _SENIOR_1
        return _SENIOR_TRACK_BASE | dict(zip(track, _TRACK_HOURS, strict=True))

    def track(self, klass: _Class) -> tuple[str, str, str] | None:
        """The 选科 combination of a senior 2nd/3rd-year class (classes are formed by it)."""
        if klass.grade not in ("32", "33"):
            return None
        rng = random.Random(f"{self.o.seed}:track:{klass.id}")
        tracks = [t for t, _ in SENIOR_TRACKS]
        return rng.choices(tracks, [w for _, w in SENIOR_TRACKS])[0]

    @staticmethod
    def _rooms(school_classes: Sequence[_Class]) -> dict[int, str]:
        """Each class's own room: one block letter per stage and three grades, floor = grade
        within the block, room number = class number (教学楼A-203)."""
        blocks = sorted({(c.grade[0], (int(c.grade[1]) - 1) // 3) for c in school_classes})
        letter = {b: "ABCDEFGH"[i] for i, b in enumerate(blocks)}
        rooms = {}
        for c in school_classes:
            year = int(c.grade[1])
            floor = (year - 1) % 3 + 1
            rooms[c.id] = f"教学楼{letter[(c.grade[0], (year - 1) // 3)]}-{floor}{c.number:02d}"
        return rooms

    def plan_week(
        self, rng: random.Random, hours: dict[str, int], periods: int, offset: int
    ) -> dict[tuple[int, int], str]:
        """(weekday, period) → subject: each subject spread over the days, main subjects in
        the morning, PE and the arts in the afternoon; every slot filled."""
        grid: dict[tuple[int, int], str] = {}
        morning = list(range(1, periods + 1))
        afternoon = list(range(5, periods + 1)) + list(range(4, 0, -1))
        middle = sorted(range(1, periods + 1), key=lambda p: (abs(p - 4.5), p))
        order = sorted(
            hours,
            key=lambda s: (-hours[s], SUBJECT_ORDER.index(s) if s in SUBJECT_ORDER else 99, s),
        )
        for n, subject in enumerate(order):
            prefer = (
                morning if subject in MORNING else afternoon if subject in AFTERNOON else middle
            )
            per_day = [0] * 5
            for _ in range(hours[subject]):
                days = sorted(
                    (d for d in range(5) if any((d + 1, p) not in grid for p in prefer)),
                    key=lambda d: (per_day[d], (d - offset - n) % 5),
                )
                day = days[0]
                free = [p for p in prefer if (day + 1, p) not in grid]
                # A little variety between classes: sometimes the second-best free period.
                period = free[1] if len(free) > 2 and rng.random() < 0.2 else free[0]
                grid[(day + 1, period)] = subject
                per_day[day] += 1
        return grid

    def timetables(
        self, rng: random.Random, school: _School, year: _Year, classes: Sequence[_Class]
    ) -> Iterator[tuple[str, Row]]:
        rooms = self._rooms(classes)
        special_capacity = max(1, len(classes) // 15)
        for term in self._timetabled_terms(year):
            stamp = _at(term.start - timedelta(days=3), 9)
            special_used: dict[tuple[int, int, str], int] = defaultdict(int)
            teacher_busy: set[tuple[int, int, int]] = set()
            for i, klass in enumerate(classes):
                stage = _stage(klass.grade)
                periods = PERIODS_PER_DAY[stage]
                grid = self.plan_week(
                    rng, self.weekly_hours(klass.grade, self.track(klass)), periods, i
                )
                teachers = self._class_teachers(klass, grid)
                for (weekday, period), subject in sorted(grid.items()):
                    room = rooms[klass.id]
                    if subject == "pe":
                        room = SHARED_ROOMS[0]
                    elif subject in SPECIAL_ROOMS:
                        used = special_used[(weekday, period, subject)]
                        if used < special_capacity:
                            special_used[(weekday, period, subject)] = used + 1
                            room = f"{SPECIAL_ROOMS[subject]}{used + 1}"
                    teacher = teachers.get(subject)
                    if teacher is not None:
                        if (teacher, weekday, period) in teacher_busy:
                            teacher = None  # the account already teaches elsewhere then
                        else:
                            teacher_busy.add((teacher, weekday, period))
                    row = (
                        self._id("timetable_slot"),
                        term.id,
                        klass.id,
                        school.id,
                        weekday,
                        period,
                        subject,
                        teacher,
                        room,
                        None,
                        SEEDED_BY,
                        stamp,
                    )
                    yield "timetable_slot", row
                yield from self._subject_assignments(klass, term, teachers)

    def _class_teachers(self, klass: _Class, grid: dict[tuple[int, int], str]) -> dict[str, int]:
        """subject → user id for the accounts assigned to the class; a 班主任 (no subject)
        teaches 语文."""
        out: dict[str, int] = {}
        for a in self.assignments.get(klass.id, []):
            subject = a.subject or "chinese"
            if subject in grid.values() and subject not in out:
                out[subject] = a.user_id
        return out

    def _subject_assignments(
        self, klass: _Class, term: _Term, teachers: dict[str, int]
    ) -> Iterator[tuple[str, Row]]:
        existing = {(a.user_id, a.subject) for a in self.assignments.get(klass.id, [])}
        for subject, user_id in sorted(teachers.items()):
            if (user_id, subject) not in existing:
                yield (
                    "teaching_assignment",
                    (
                        self._id("teaching_assignment"),
                        user_id,
                        klass.id,
                        subject,
                        term.id,
                    ),
                )

    def _recorder(self, klass: _Class, subject: str | None = None) -> str:
        """Who recorded a class's marks: its 班主任 (attendance, 语文 scores) or the subject
        teacher where an account is assigned; otherwise the seed."""
        for a in self.assignments.get(klass.id, []):
            if a.subject == subject or (a.subject is None and subject in (None, "chinese")):
                return a.username
        return SEEDED_BY

    # ------------------------------------------------------------------------- attendance
    def attendance(
        self, rng: random.Random, school: _School, year: _Year, classes: Sequence[_Class]
    ) -> Generator[tuple[str, Row], None, dict[int, set[date]]]:
        """Exceptions only; returns student id → the days absent (for the exams)."""
        days = [d for d in self.school_days(year, self.today) if d not in self.quiet]
        absent_on: dict[int, set[date]] = defaultdict(set)
        if not days:
            return absent_on
        n = len(days)
        everyone = [(k, s) for k in classes for s in self.r.members[k.id]]
        chronic_count = min(len(everyone), max(2, round(len(everyone) * 0.004)))
        chronic: dict[int, str] = {s: "chronic" for _, s in rng.sample(everyone, chronic_count)}
        if year is self.r.current and n >= 30 and rng.random() < 0.3:
            chronic[rng.choice(everyone)[1]] = "dropout"
        for klass, student in everyone:
            stage = _stage(klass.grade)
            periods = PERIODS_PER_DAY[stage]
            recorder = self._recorder(klass)
            marks: dict[int, tuple[str, int | None]] = {}  # day index → (kind, period)
            frailty = min(4.0, rng.lognormvariate(0, 0.6))
            profile = chronic.get(student)
            if profile == "dropout":
                # Stopped coming: 旷课 every school day of the last five weeks or so.
                for i in range(max(0, n - rng.randint(22, 28)), n):
                    marks[i] = ("truant", None)
            elif profile == "chronic":
                for _ in range(rng.randint(1, 3)):  # streaks of 旷课 (alerts at 3 in a row)
                    start = rng.randrange(n)
                    for i in range(start, min(n, start + rng.randint(3, 6))):
                        marks[i] = ("truant", None)
                frailty *= 6
            self._events(rng, marks, n, 0.0055 * frailty, "sick", spell=True)
            self._events(rng, marks, n, 0.0025 * frailty, "personal")
            truancy = {"primary": 0.0002, "junior": 0.0008, "senior": 0.0015}[stage]
            self._events(rng, marks, n, truancy, "truant")
            self._events(rng, marks, n, 0.006 * min(frailty, 2), "late")
            self._events(rng, marks, n, 0.0015, "left_early")
            lesson = {"primary": 0.0003, "junior": 0.0015, "senior": 0.003}[stage]
            self._events(rng, marks, n, lesson, "truant_lesson", periods=periods)
            for i in sorted(marks):
                kind, period = marks[i]
                day = days[i]
                if kind in ("sick", "personal", "truant") and period is None:
                    absent_on[student].add(day)
                yield (
                    "attendance",
                    self._attendance_row(rng, student, klass, school, day, kind, period, recorder),
                )
        return absent_on

    @staticmethod
    def _events(
        rng: random.Random,
        marks: dict[int, tuple[str, int | None]],
        n: int,
        rate: float,
        kind: str,
        *,
        spell: bool = False,
        periods: int = 0,
    ) -> None:
        """Events at a daily ``rate``, drawn by geometric gaps (cost ~ events, not days);
        sick spells last 1–3 days. A day already marked keeps its mark."""
        if rate <= 0:
            return
        log_q = math.log(1 - min(rate, 0.5))
        i = -1
        while True:
            i += 1 + int(math.log(1 - rng.random()) / log_q)
            if i >= n:
                return
            length = rng.choices((1, 2, 3), (5, 3, 2))[0] if spell else 1
            for j in range(i, min(n, i + length)):
                if j in marks:
                    continue
                if kind == "truant_lesson":
                    marks[j] = ("truant", rng.randint(1, periods))
                elif kind == "late":
                    marks[j] = ("late", None)
                else:
                    marks[j] = (kind, None)
            i += length - 1

    def _attendance_row(
        self,
        rng: random.Random,
        student: int,
        klass: _Class,
        school: _School,
        day: date,
        kind: str,
        period: int | None,
        recorder: str,
    ) -> Row:
        whole_day_absence = period is None and kind in ("sick", "personal", "truant")
        note = None
        if kind == "sick":
            note = rng.choice(SICK_NOTES)
        elif kind == "personal":
            note = rng.choice(PERSONAL_NOTES)
        hour = 8 if period is None else 8 + period
        return (
            self._id("attendance"),
            student,
            klass.id,
            school.id,
            _day(day),
            kind,
            period,
            1 if period is not None else None,
            1.0 if whole_day_absence else None,
            note,
            recorder,
            _at(day, min(hour, 17), 20),
        )

    # ------------------------------------------------------------------------- exams
    def _exam_date(self, rng: random.Random, term: _Term, month: int, day: int) -> date | None:
        year = term.start.year if month >= term.start.month else term.start.year + 1
        try:
            nominal = date(year, month, day) + timedelta(days=rng.randint(-2, 2))
        except ValueError:
            return None
        on = _weekday_on_or_after(nominal)
        for _ in range(10):  # the first school day on or after the nominal date
            if self.calendar.is_working_day(on) and on not in self.quiet:
                break
            on += timedelta(days=1)
        if not term.start <= on <= term.end:
            return None
        return on

    def exams(
        self,
        rng: random.Random,
        school: _School,
        year: _Year,
        classes: Sequence[_Class],
        absent_on: dict[int, set[date]],
    ) -> Iterator[tuple[str, Row]]:
        by_grade: dict[str, list[_Class]] = defaultdict(list)
        for c in classes:
            by_grade[c.grade].append(c)
        school_effect = rng.gauss(0, 0.05)
        class_effect = {c.id: rng.gauss(0, 0.025) for c in classes}
        for term in year.terms:
            for grade, grade_classes in sorted(by_grade.items()):
                info = grade_by_code(grade)
                assert info is not None
                graduating = info.year == stage_length(info.stage, school.primary_years)
                plan = EXAM_CALENDAR[term.number]
                if term.number == 2 and graduating and info.stage != "primary":
                    plan = GRADUATING_TERM_2
                for kind, month, day, label in plan:
                    if check_exam_type(
                        grade, EXAM_KIND_TYPE[kind], primary_years=school.primary_years
                    ):
                        continue  # the 2021 rules forbid it for this grade
                    on = self._exam_date(rng, term, month, day)
                    if on is None or on >= self.today:
                        continue
                    name = f"{year.code}学年{TERM_NAMES.get(term.number, '')}{info.name_zh}{label}"
                    yield from self._exam(
                        rng, school, term, grade, kind, name, on, grade_classes,
                        school_effect, class_effect, absent_on,
                    )  # fmt: skip

    def _exam(
        self,
        rng: random.Random,
        school: _School,
        term: _Term,
        grade: str,
        kind: str,
        name: str,
        on: date,
        grade_classes: Sequence[_Class],
        school_effect: float,
        class_effect: dict[int, float],
        absent_on: dict[int, set[date]],
    ) -> Iterator[tuple[str, Row]]:
        stage = _stage(grade)
        papers_by_class = {c.id: self._papers(c) for c in grade_classes}
        papers = sorted({s for p in papers_by_class.values() for s in p}, key=SUBJECT_ORDER.index)
        exam_id = self._id("exam")
        published_on = on + timedelta(days=4)
        state = "published" if published_on <= self.today else "draft"
        yield "exam", (
            exam_id, school.id, term.id, grade, name[:60], kind, _day(on), state,
            _at(published_on, 16) if state == "published" else None,
            SEEDED_BY if state == "published" else None, SEEDED_BY,
            _at(on - timedelta(days=14), 10), 1,
        )  # fmt: skip
        full = {s: 150 if stage == "senior" and s in MORNING[:3] else 100 for s in papers}
        for order, subject in enumerate(papers, start=1):
            f = full[subject]
            yield "exam_subject", (
                self._id("exam_subject"), exam_id, subject, f, round(f * 0.6, 2),
                round(f * 0.85, 2), order,
            )  # fmt: skip
        exam_effect = rng.gauss(0, 0.02)
        entered = _at(on + timedelta(days=2), 17)
        mean, spread = STAGE_MEAN[stage], STAGE_SPREAD[stage]
        absent_code = ScoreCode.ABSENT.en
        gauss, uniform = rng.gauss, rng.random
        for klass in grade_classes:
            yield "exam_class", (self._id("exam_class"), exam_id, klass.id)
            base = mean + school_effect + class_effect[klass.id] + exam_effect
            # Per paper: (subject, full marks, offset, aptitude slot, who entered it).
            sheet = [
                (
                    s,
                    full[s],
                    base + SUBJECT_EASE.get(s, 0.0),
                    1 + SUBJECT_ORDER.index(s),
                    self._recorder(klass, s),
                )
                for s in papers_by_class[klass.id]
            ]
            for student in self.r.members[klass.id]:
                traits = self._traits_of(student)
                general = 0.8 * traits[0]
                missed = on in absent_on.get(student, ()) or uniform() < 0.006
                for subject, f, offset, slot, recorder in sheet:
                    if missed or uniform() < 0.002:
                        value, code, absent = None, absent_code, True
                    else:
                        aptitude = general + 0.6 * traits[slot]
                        share = offset + spread * aptitude + gauss(0, 0.05)
                        if share > 0.97:  # few full marks: the top is crowded, not flat
                            share = 0.97 + 0.03 * uniform()
                        value, code, absent = round(f * max(0.05, share)), None, False
                    yield "score", (
                        self._id("score"), exam_id, student, klass.id, subject, value, code, f,
                        None, absent, recorder, entered,
                    )  # fmt: skip

    def _papers(self, klass: _Class) -> tuple[str, ...]:
        if klass.grade.startswith("1"):
            return EXAM_SUBJECTS["primary"]
        if klass.grade in ("32", "33"):
            track = self.track(klass)
            assert track is not None
            return ("chinese", "math", "foreign", *track)
        if klass.grade == "24":
            return EXAM_SUBJECTS["23"]
        return EXAM_SUBJECTS[klass.grade]

    # ------------------------------------------------------------------------- evaluations
    def evaluations(
        self, rng: random.Random, school: _School, year: _Year, classes: Sequence[_Class]
    ) -> Iterator[tuple[str, Row]]:
        for term in year.terms:
            if term.end >= self.today:
                continue  # only finished terms have a final evaluation
            start = _weekday_on_or_after(term.end - timedelta(days=12))
            while not self.calendar.is_working_day(start):
                start += timedelta(days=1)
            end = DEFAULT_PUBLICITY.end_date(start, self.calendar.is_working_day)
            finalized = end + timedelta(days=1)
            while not self.calendar.is_working_day(finalized):
                finalized += timedelta(days=1)
            stamp = _at(finalized, 17)
            dates = (_day(start), _day(end), _day(finalized))
            term_days = [
                d
                for d in self.school_days(year, term.end)
                if d >= term.start and d not in self.quiet
            ]
            for klass in classes:
                recorder = self._recorder(klass)
                for student in self.r.members[klass.id]:
                    levels = self._levels(rng, student)
                    te_id = self._id("term_evaluation")
                    comment = (
                        rng.choice(COMMENT_OPENINGS)
                        + COMMENT_STUDY[levels["academic"]]
                        + rng.choice(COMMENT_CLOSINGS)
                    )
                    yield "term_evaluation", (
                        te_id, student, term.id, school.id, klass.id, "final", dates[0],
                        dates[1], 1, dates[2], comment, recorder, stamp, 1,
                    )  # fmt: skip
                    for dimension in DIMENSIONS:
                        yield "evaluation", (
                            self._id("evaluation"), te_id, student, school.id, year.id, term.id,
                            dimension, levels[dimension],
                        )  # fmt: skip
                    yield from self._records(rng, student, term, school, term_days, recorder)

    def _levels(self, rng: random.Random, student: int) -> dict[str, str]:
        traits = self._traits_of(student)
        ability = traits[0]
        out = {}
        for k, dimension in enumerate(DIMENSIONS):
            if dimension == "academic":
                latent = 0.8 * ability + 0.6 * rng.gauss(0, 1)
            else:
                trait = traits[1 + len(SUBJECT_ORDER) + k]
                latent = 0.5 * ability + 0.6 * trait + 0.62 * rng.gauss(0, 1)
            out[dimension] = next((g for cut, g in GRADE_CUTS if latent > cut), "D")
        return out

    def _records(
        self,
        rng: random.Random,
        student: int,
        term: _Term,
        school: _School,
        term_days: Sequence[date],
        recorder: str,
    ) -> Iterator[tuple[str, Row]]:
        if not term_days:
            return
        for _ in range(rng.choices((0, 1, 2, 3), (15, 40, 30, 15))[0]):
            on = rng.choice(term_days)
            stamp = _at(on + timedelta(days=1), 16)
            x = rng.random()
            hours: float | None = None
            role = award = issuer = None
            if x < 0.45:
                dimension, title = rng.choice(ACTIVITIES)
                kind, role = "activity", rng.choice(ROLES)
                hours = float(rng.randint(1, 8))
            elif x < 0.7:
                dimension, title = rng.choice(AWARDS)
                kind = "award"
                award = rng.choices(AWARD_LEVEL_CODES, AWARD_LEVEL_WEIGHTS)[0]
                issuer = AWARD_ISSUERS[award]
            else:
                dimension, title, kind = "practice", rng.choice(PRACTICES), "practice"
                hours = rng.randint(4, 24) / 2
            yield "evaluation_record", (
                self._id("evaluation_record"), student, term.id, school.id, dimension, kind,
                title, _day(on), hours, role, award, issuer, None, recorder, stamp,
                recorder if rng.random() < 0.9 else None,
            )  # fmt: skip


# ----------------------------------------------------------------------------- writing


class _PlainSqliteSink(SqliteSink):
    """SqliteSink for rows that hold only str, int, float, bool and None: the generator writes
    dates as ISO text already, so the per-value conversion (most of the time) is skipped."""

    def write(self, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
        if rows:
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            self.connection.executemany(sql, rows)


def _sink_for(engine: Engine, driver: Any) -> RowSink:
    if engine.dialect.name == "postgresql":
        return PostgresCopySink(driver)
    if engine.dialect.name == "sqlite":
        driver.isolation_level = None  # we issue BEGIN/COMMIT ourselves
        return _PlainSqliteSink(driver)
    raise TeachingSeedRefused(
        f"seeding is supported on SQLite and PostgreSQL, not {engine.dialect.name}"
    )


def write_teaching(
    generator: TeachingGenerator,
    sink: RowSink,
    progress: Callable[[int], None] | None = None,
) -> TeachingReport:
    """Drain the generator into the sink in chunks; one transaction and one audit entry."""
    buffers: dict[str, list[Row]] = {t: [] for t in TABLE_COLUMNS}
    report = generator.report
    buffered = 0

    def flush() -> None:
        for table in WRITE_ORDER:
            if buffers[table]:
                sink.write(table, TABLE_COLUMNS[table], buffers[table])
                report.counts[table] += len(buffers[table])
                buffers[table] = []

    try:
        for table, row in generator.rows(progress):
            buffers[table].append(row)
            buffered += 1
            if buffered >= FLUSH_ROWS:
                flush()
                buffered = 0
        flush()
        connection = getattr(sink, "connection", None)
        if connection is not None:
            from ..audit import record_batch

            o = generator.o
            record_batch(
                connection,
                "seed",
                "score",
                sum(report.counts.values()),
                f"xueji seed-teaching --seed {o.seed} --years {o.years} --today {o.today}",
                details={"counts": dict(report.counts)},
            )
        sink.commit()
    except BaseException:
        sink.rollback()
        raise
    return report


def seed_teaching(
    engine: Engine,
    options: TeachingOptions,
    progress: Callable[[int], None] | None = None,
) -> TeachingReport:
    """Add demo teaching records to a seeded registry that has none yet."""
    problems = options.validate()
    if problems:
        raise TeachingSeedRefused("; ".join(problems))
    with engine.connect() as conn:
        for table in GUARDED_TABLES:
            n = conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            if n:
                raise TeachingSeedRefused(
                    f"the registry already holds {n} {table} rows; demo teaching records are "
                    "added once, to a registry without any"
                )
        registry = load_registry(conn, options)
    generator = TeachingGenerator(registry, options)
    raw = engine.raw_connection()
    driver: Any = raw.driver_connection
    saved_isolation = getattr(driver, "isolation_level", None)
    sqlite = engine.dialect.name == "sqlite"
    saved_cache: int = driver.execute("PRAGMA cache_size").fetchone()[0] if sqlite else 0
    try:
        if sqlite:
            # The indexes of score and attendance take random inserts: a larger page cache
            # for this run cuts the write time by about a third.
            driver.execute(f"PRAGMA cache_size = {SQLITE_CACHE_KIB}")
        sink = _sink_for(engine, driver)
        return write_teaching(generator, sink, progress)
    finally:
        if sqlite:
            # Back to the pool: autocommit would make every later session's rollback a no-op.
            driver.isolation_level = saved_isolation
            driver.execute(f"PRAGMA cache_size = {int(saved_cache)}")
        raw.close()
