"""Demo 学籍异动 and graduations for a seeded registry, so the status-change and graduation
screens and the dashboards' "Status changes" and "Graduation & progression" pages have data.

Everything goes through the service layer the screens, the REST API and the CLI use
(status_changes.file_request / act, graduation.file_graduations / decide, diplomas.issue), each
step acted on by the unit that handles it (a scope of that school's registrar or leader, or of
that county or province bureau), at replayed business dates: ``today`` and ``now`` of every
call are the day the clerk would have acted, so lead times, due dates and overdue steps look
like a real autumn term. Deterministic under ``seed`` for a given registry and ``today``.

- **Status changes** (about ``rate`` of the students 在校 this school year, all filed in the
  current school year, because `xueji seed` writes every past year's enrollments as they
  stayed — a change in a past year would contradict the years after it): transfers inside a
  county, across counties and across provinces (filed by the receiving school), 休学 with
  复学 for about half of them some weeks later, 复学 of the seed's own suspended students,
  辍学 (义务教育) with 返校 for some of them, 退学 and 开除学籍 (高中), 调班, 留级, 跳级,
  出国(出境) and 其他离校 (返校 too), and 死亡. The rare kinds (跳级, 开除学籍, 死亡, 返校)
  are filed at least once even when the random draw missed them. Most are approved and
  applied; some are rejected at a step with a comment, a few cancelled by the applicant, and
  some still pending — a share of those with a step past its deadline (超期).
- **Graduations** of every finished school year's graduating grades (6th or 5th grade by the
  school's 学制, 9th, 12th) with 毕业去向, senior high approved by the county bureau, and
  electronic diplomas when a signing key ring is given. `xueji seed` already writes these
  students as 毕业 with their last enrollment ended; the graduation is replayed as of its
  day, when they were 在校, and the service applies the same effect again (a few senior
  students leave with 结业 instead).

One transaction, audited under the ``seed`` actor; refused when the registry already holds
status-change requests or graduations.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from ..domain import graduation as grad_rules
from ..domain import workflow as wf
from ..domain.calendar import WorkingCalendar
from ..domain.consistency import grade_by_code, stage_length
from ..domain.messages import RuleError
from ..models import CodeItem, School, SchoolYear, StatusChangeRequest, Student
from ..security.scope import Scope
from . import diplomas as diploma_service
from . import graduation as graduation_service
from . import status_changes as sc

SEEDED_BY = "seed"
GUARDED_TABLES = ("status_change_request", "graduation")

# Request kinds and their rough shares among the demo requests. Transfers by distance:
# inside the county, to another county of the province, to another province.
KINDS: tuple[tuple[str, int], ...] = (
    ("transfer_county", 20),
    ("transfer_province", 12),
    ("transfer_nation", 5),
    (wf.SUSPENSION, 14),
    (wf.DROPOUT, 6),
    (wf.WITHDRAWAL, 4),
    (wf.CLASS_CHANGE, 10),
    (wf.REPEAT, 3),
    (wf.SKIP, 1),
    (wf.ABROAD, 3),
    (wf.OTHER_LEAVE, 2),
    (wf.EXPULSION, 1),
    (wf.DEATH, 1),
)
# Rare in life and so in a random draw: the demo makes at least one of each effective
# (_Lifecycle.every_kind_once), so that every screen and dashboard breakdown has one to show.
EVERY_DEMO_HAS: tuple[str, ...] = (wf.SKIP, wf.EXPULSION, wf.DEATH, wf.RETURN)
# Requests whose effect is a status 返校 takes back (workflow: 辍学, 出国(出境), 其他离校).
LEAVERS = frozenset({wf.DROPOUT, wf.ABROAD, wf.OTHER_LEAVE})
# Share of the students who left (辍学, 出国(出境), 其他离校) that come back (返校) this term.
RETURN_SHARE = 0.3
REASONS: dict[str, tuple[str, ...]] = {
    wf.TRANSFER: ("T1", "T2", "T3", "T3", "T4", "T4", "T9"),
    wf.SUSPENSION: ("10", "19", "26", "27", "99"),
    wf.DROPOUT: ("27", "22", "99"),
    wf.WITHDRAWAL: ("21", "22", "34", "39"),
    wf.ABROAD: ("28", "30"),
    wf.OTHER_LEAVE: ("99",),
    wf.REPEAT: ("10", "99"),
    wf.SKIP: ("01",),
    wf.EXPULSION: ("23", "99"),
    wf.DEATH: ("41", "42", "72", "79", "81", "89"),
}
REJECT_COMMENTS = (
    "证明材料不全，请补充后重新申请。",
    "转入学校该年级学位已满。",
    "申请理由与所附材料不符。",
)
# Where each stage's graduates go (graduation_destination codes, rough shares).
DESTINATIONS: dict[str, tuple[tuple[str, int], ...]] = {
    "primary": (("16", 97), ("40", 1), ("99", 2)),
    "junior": (("15", 58), ("13", 35), ("20", 2), ("60", 2), ("40", 1), ("99", 2)),
    "senior": (
        ("11", 44), ("12", 40), ("20", 6), ("30", 2), ("40", 2), ("60", 4), ("99", 2),
    ),
}  # fmt: skip
COMPLETED_SHARE = 0.02  # senior students leaving with 结业 instead of 毕业


@dataclass
class LifecycleOptions:
    seed: int = 2026
    today: date = field(default_factory=date.today)
    rate: float = 0.03  # share of this year's students 在校 that get a request
    # Provincial workflow choices and the calendar (XUEJI_HOLIDAYS …); None = the defaults.
    settings: sc.Settings | None = None
    keyring: diploma_service.KeyRing | None = None  # diplomas are issued when given
    status_changes: bool = True  # False: graduations only

    def validate(self) -> list[str]:
        return [] if 0 < self.rate <= 0.2 else [f"rate must be in (0, 0.2], got {self.rate}"]


@dataclass
class LifecycleReport:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    graduated_years: list[str] = field(default_factory=list)
    school_year: str = ""
    refusals: list[tuple[str, str]] = field(default_factory=list)  # (type, why) skipped


class LifecycleSeedRefused(Exception):
    """The registry cannot take demo status changes and graduations; the message says why."""


@dataclass(frozen=True)
class _School:
    id: int
    code: str
    county: str
    primary_years: int


@dataclass(frozen=True)
class _Pupil:
    id: int
    school_id: int
    class_id: int
    grade: str
    status: str


def _at(day: date, rng: random.Random) -> datetime:
    """A moment in office hours (stored UTC: 01:00–09:00 is 09:00–17:00 in Beijing)."""
    return datetime.combine(day, time(rng.randint(1, 8), rng.randrange(60), rng.randrange(60)))


class _Lifecycle:
    def __init__(self, session: Session, options: LifecycleOptions) -> None:
        self.s = session
        self.o = options
        self.settings = options.settings or sc.Settings()
        self.calendar: WorkingCalendar = self.settings.workflow.calendar
        self.report = LifecycleReport()
        self.schools = {
            sid: _School(sid, code, county, primary_years or 6)
            for sid, code, county, primary_years in session.execute(
                text("SELECT id, code, region_code, primary_years FROM school ORDER BY id")
            )
        }
        self.by_code = {s.code: s for s in self.schools.values()}
        self.refusals: list[tuple[str, str]] = []  # (type, why): a demo should have none
        self.left: list[tuple[_Pupil, date]] = []  # who left (LEAVERS) this term, and when
        self.returned: set[int] = set()  # students with a 返校 filed
        self.effective_kinds: set[str] = set()  # request types with an effective request

    # ------------------------------------------------------------------------- scopes
    def registrar(self, school_id: int) -> Scope:
        return Scope(role="SchoolRegistrar", kind="school", school_id=school_id)

    def handler_scope(self, request: StatusChangeRequest) -> Scope:
        """The scope of the unit that handles the request's current step."""
        kind, code = request.handler_kind, request.handler_code or ""
        if kind in ("school_registrar", "school_leader"):
            role = "SchoolRegistrar" if kind == "school_registrar" else "SchoolLeader"
            return Scope(role=role, kind="school", school_id=self.by_code[code].id)
        return Scope(role="BureauOfficer", kind="region", region_prefix=code)

    # ------------------------------------------------------------------------- dates
    def working_days(self, first: date, last: date) -> list[date]:
        days, day = [], first
        while day <= last:
            if self.calendar.is_working_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def later(self, day: date, n: int) -> date:
        return self.calendar.add_working_days(day, n)

    def earlier(self, day: date, n: int) -> date:
        while n:
            day -= timedelta(days=1)
            if self.calendar.is_working_day(day):
                n -= 1
        return day

    # ------------------------------------------------------------------------- graduations
    def graduations(self, progress: Callable[[int], None] | None) -> None:
        today = self.o.today
        years = self.s.scalars(
            select(SchoolYear).where(SchoolYear.end_date < today).order_by(SchoolYear.start_date)
        ).all()
        codes = self.s.scalars(
            select(CodeItem.code).where(CodeItem.code_set == "graduation_destination")
        ).all()
        destinations = frozenset(codes)
        for year in years:
            # The graduating cohort as `xueji seed` left it: 毕业, last enrollment ended (21).
            rows = self.s.execute(
                text(
                    "SELECT e.school_id, e.student_id, e.grade_code, e.ended_on "
                    "FROM enrollment e JOIN student s ON s.id = e.student_id "
                    "WHERE e.school_year_id = :y AND e.is_active AND e.end_reason = '21' "
                    "AND s.current_status = '05' AND s.current_school_id = e.school_id "
                    "ORDER BY e.school_id, e.student_id"
                ),
                {"y": year.id},
            ).all()
            if not rows:
                continue
            self.report.graduated_years.append(year.code)
            by_school: dict[int, list[tuple[int, str, Any]]] = defaultdict(list)
            for school_id, student_id, grade, ended_on in rows:
                by_school[school_id].append((student_id, grade, ended_on))
            for school_id, pupils in by_school.items():
                self.graduate_school(year, school_id, pupils, destinations)
                if progress:
                    progress(len(pupils))

    def graduate_school(
        self,
        year: SchoolYear,
        school_id: int,
        pupils: Sequence[tuple[int, str, Any]],
        destinations: frozenset[str],
    ) -> None:
        rng = random.Random(f"{self.o.seed}:graduation:{school_id}:{year.id}")
        school = self.s.get(School, school_id)
        assert school is not None
        first_end = pupils[0][2]
        on = first_end if isinstance(first_end, date) else year.end_date
        if isinstance(on, datetime):
            on = on.date()
        on = min(on, year.end_date)
        registrar = self.registrar(school_id)
        decisions: list[graduation_service.Decision] = []
        senior: list[int] = []
        with self.s.no_autoflush:
            for student_id, grade_code, _ in pupils:
                grade = grade_by_code(grade_code)
                if grade is None or grade.year != stage_length(grade.stage, school.primary_years):
                    continue
                student = self.s.get(Student, student_id)
                assert student is not None
                # Replayed as of the graduation day: the student was 在校 then.
                student.current_status = grad_rules.ENROLLED
                outcome = grad_rules.GRADUATED
                if grade.stage == "senior" and rng.random() < COMPLETED_SHARE:
                    outcome = grad_rules.COMPLETED
                codes, weights = zip(*DESTINATIONS[grade.stage], strict=True)
                destination = rng.choices(codes, weights)[0]
                if destination not in destinations:
                    destination = None
                decisions.append(graduation_service.Decision(student_id, outcome, destination))
                if grade.stage == "senior":
                    senior.append(student_id)
            if not decisions:
                return
            filed_at = _at(self.earlier(on, 3), rng)
            made = graduation_service.file_graduations(
                self.s,
                registrar,
                school,
                year.code,
                decisions,
                on=on,
                username=SEEDED_BY,
                destinations=destinations,
                now=filed_at,
            )
        pending = [g for g in made if g.state == "pending"]
        if pending:
            bureau = Scope(role="BureauOfficer", kind="region", region_prefix=school.region_code)
            decided = self.later(filed_at.date(), rng.randint(1, 4))
            graduation_service.decide(
                self.s, bureau, pending, approve=True, username=SEEDED_BY, now=_at(decided, rng)
            )
        self.report.counts["graduation"] += len(made)
        for g in made:
            self.report.counts[f"graduation:{g.stage}"] += 1
            if g.outcome == grad_rules.COMPLETED:
                self.report.counts["graduation:completed"] += 1
        if self.o.keyring is not None:
            issuable = diploma_service.issuable(self.s, registrar, school, year.code)
            if issuable:
                issued_on = self.later(on, rng.randint(3, 8))
                diplomas = diploma_service.issue(
                    self.s,
                    registrar,
                    issuable,
                    keyring=self.o.keyring,
                    username=SEEDED_BY,
                    today=issued_on,
                    now=_at(issued_on, rng),
                )
                self.report.counts["diploma"] += len(diplomas)

    # ------------------------------------------------------------------------- status changes
    def status_changes(self, progress: Callable[[int], None] | None) -> None:
        today = self.o.today
        year = sc.current_school_year(self.s, today)
        if year is None:
            return
        self.report.school_year = year.code
        # Filed from the first weeks of the year up to yesterday, outside the summer freezes.
        last = min(today - timedelta(days=1), date(year.end_date.year, 6, 30))
        days = self.working_days(year.start_date + timedelta(days=7), last)
        if not days:
            return
        self.first_day = days[0]
        pupils = [
            _Pupil(sid, school_id, class_id, grade, status)
            for sid, school_id, class_id, grade, status in self.s.execute(
                text(
                    "SELECT s.id, e.school_id, e.class_id, e.grade_code, s.current_status "
                    "FROM enrollment e JOIN student s ON s.id = e.student_id "
                    "WHERE e.school_year_id = :y AND e.is_active AND e.ended_on IS NULL "
                    "AND e.class_id IS NOT NULL AND s.current_school_id = e.school_id "
                    "AND s.student_number_kind <> 'L' AND s.current_status IN ('01', '02') "
                    "ORDER BY s.id"
                ),
                {"y": year.id},
            )
        ]
        classes: dict[tuple[int, str], list[int]] = defaultdict(list)
        for cid, school_id, grade in self.s.execute(
            text(
                "SELECT id, school_id, grade_code FROM school_class WHERE school_year_id = :y "
                "ORDER BY id"
            ),
            {"y": year.id},
        ):
            classes[(school_id, grade)].append(cid)
        self.classes = dict(classes)
        self.schools_with: dict[str, list[int]] = defaultdict(list)  # grade → schools
        for school_id, grade in sorted(classes):
            self.schools_with[grade].append(school_id)
        rng = random.Random(f"{self.o.seed}:status-changes:{year.id}")
        enrolled = [p for p in pupils if p.status == wf.ENROLLED]
        n = max(1, round(len(enrolled) * self.o.rate))
        chosen = rng.sample(enrolled, min(n, len(enrolled)))
        chosen.sort(key=lambda p: p.id)
        kinds, weights = zip(*KINDS, strict=True)
        for pupil in chosen:
            first = rng.choices(kinds, weights)[0]
            # A kind that does not fit the student (no other class in the grade, no school
            # of the grade nearby …) gives way to the next one.
            rest = [k for k in kinds if k != first]
            rng.shuffle(rest)
            for kind in (first, *rest):
                if self.one_student(rng, pupil, kind, days):
                    break
            if progress:
                progress(1)
        drawn = set(chosen)
        self.every_kind_once(rng, [p for p in enrolled if p not in drawn], days)
        # The seed's own suspended students: most come back this term.
        for pupil in (p for p in pupils if p.status == wf.SUSPENDED):
            if rng.random() < 0.7:
                self.file_and_run(
                    rng, pupil, wf.RESUMPTION, rng.choice(days), target_class=pupil.class_id
                )

    def every_kind_once(self, rng: random.Random, spare: list[_Pupil], days: list[date]) -> None:
        """File each of EVERY_DEMO_HAS that has no effective request yet, approved early in the
        term, for a student not drawn (返校: for the first who left and has not come back)."""
        spare = sorted(spare, key=lambda p: p.id)
        rng.shuffle(spare)
        early = days[: max(1, len(days) // 2)]  # time enough for every step before today
        for kind in EVERY_DEMO_HAS:
            if kind in self.effective_kinds:
                continue
            if kind == wf.RETURN:
                for pupil, left_on in sorted(self.left, key=lambda x: (x[1], x[0].id)):
                    if pupil.id not in self.returned:
                        self.file_return(rng, pupil, left_on, days, certain=True)
                        break
                continue
            for pupil in list(spare):
                if self.fits(pupil, kind) and self.one_student(
                    rng, pupil, kind, early, outcome="approved"
                ):
                    spare.remove(pupil)
                    break

    def fits(self, pupil: _Pupil, kind: str) -> bool:
        """Whether a request of ``kind`` can be filed for the student at all (stage, grade)."""
        grade = grade_by_code(pupil.grade)
        if grade is None:
            return False
        if kind in (wf.EXPULSION, wf.WITHDRAWAL, wf.REPEAT):
            return grade.stage == "senior"
        if kind == wf.SKIP:
            return self.skip_class_options(pupil) != []
        return True

    def skip_class_options(self, pupil: _Pupil) -> list[int]:
        """Classes of the next grade up at the student's school, for 跳级: in senior high only
        (the workflow refuses it in compulsory education), up to the graduating grade (高二 →
        高三 to sit the 高考 a year early; the 高一 of the demo mostly still hold L numbers)."""
        grade = grade_by_code(pupil.grade)
        if grade is None or grade.stage != "senior":
            return []
        last = stage_length(grade.stage, self.schools[pupil.school_id].primary_years)
        if grade.year >= last:
            return []
        return list(self.classes.get((pupil.school_id, f"{pupil.grade[0]}{grade.year + 1}"), ()))

    def file_return(
        self,
        rng: random.Random,
        pupil: _Pupil,
        left_on: date,
        days: list[date],
        *,
        certain: bool = False,
    ) -> None:
        """返校 some weeks after the student left, into the class they left, when that day is
        still before today (always when ``certain``, as soon as possible)."""
        back = self.later(left_on, rng.randint(15, 45))
        if back >= days[-1]:
            if not certain:
                return
            back = self.later(left_on, 1)
            if back >= days[-1]:
                return
        request = self.file_and_run(
            rng,
            pupil,
            wf.RETURN,
            back,
            target_class=pupil.class_id,
            outcome="approved" if certain else None,
        )
        if request is not None:
            self.returned.add(pupil.id)

    def one_student(
        self,
        rng: random.Random,
        pupil: _Pupil,
        kind: str,
        days: list[date],
        *,
        outcome: str | None = None,
    ) -> bool:
        """File (and run) a request of ``kind`` for the student; False when it does not fit."""
        grade = grade_by_code(pupil.grade)
        if grade is None:
            return False
        school = self.schools[pupil.school_id]
        if kind.startswith("transfer"):
            target = self.transfer_target(rng, pupil, school, kind)
            if target is None:
                return False
            filed = self.file_and_run(rng, pupil, wf.TRANSFER, rng.choice(days), *target)
            return filed is not None
        if kind == wf.DROPOUT and grade.stage == "senior":
            kind = wf.WITHDRAWAL
        elif kind == wf.WITHDRAWAL and grade.stage != "senior":
            kind = wf.DROPOUT
        elif kind == wf.EXPULSION and grade.stage != "senior":
            return False  # 义务教育 does not expel
        target_class: int | None = None
        if kind == wf.CLASS_CHANGE:
            others = [c for c in self.classes.get((pupil.school_id, pupil.grade), ())]
            others = [c for c in others if c != pupil.class_id]
            if not others:
                return False
            target_class = rng.choice(others)
        elif kind == wf.REPEAT:
            # 留级 only in senior high, never from the first or the graduating grade.
            if grade.stage != "senior" or grade.year in (1, stage_length("senior", 6)):
                return False
            below = self.classes.get((pupil.school_id, f"{pupil.grade[0]}{grade.year - 1}"))
            if not below:
                return False
            target_class = rng.choice(below)
        elif kind == wf.SKIP:
            above = self.skip_class_options(pupil)
            if not above:
                return False
            target_class = rng.choice(above)
        if kind == wf.SUSPENSION:
            # Early enough in the term that about half come back before today.
            on = rng.choice(days[: max(1, len(days) * 2 // 3)])
            request = self.file_and_run(rng, pupil, kind, on, outcome="approved")
            if request is None or request.state != "effective":
                return request is not None
            back = self.later(request.closed_at.date(), rng.randint(10, 40))
            if back < days[-1] and rng.random() < 0.6:
                self.file_and_run(rng, pupil, wf.RESUMPTION, back, target_class=pupil.class_id)
            return True
        filed = self.file_and_run(
            rng, pupil, kind, rng.choice(days), target_class=target_class, outcome=outcome
        )
        if filed is not None and filed.state == "effective" and kind in LEAVERS:
            left_on = filed.closed_at.date()
            self.left.append((pupil, left_on))
            if rng.random() < RETURN_SHARE:
                self.file_return(rng, pupil, left_on, days)
        return filed is not None

    def transfer_target(
        self, rng: random.Random, pupil: _Pupil, school: _School, kind: str
    ) -> tuple[int, int] | None:
        """(receiving school, class) of the same grade: in the county, elsewhere in the
        province, or in another province."""
        county = school.county

        def fits(other: _School) -> bool:
            if other.id == school.id:
                return False
            if kind == "transfer_county":
                return other.county == county
            if kind == "transfer_province":
                return other.county[:2] == county[:2] and other.county != county
            return other.county[:2] != county[:2]

        order = ("transfer_county", "transfer_province", "transfer_nation")
        candidates: list[int] = []
        for distance in order[order.index(kind) :]:  # none that near: look further
            kind = distance
            candidates = [
                s for s in self.schools_with.get(pupil.grade, ()) if fits(self.schools[s])
            ]
            if candidates:
                break
        if not candidates:
            return None
        target = rng.choice(candidates)
        return target, rng.choice(self.classes[(target, pupil.grade)])

    def file_and_run(
        self,
        rng: random.Random,
        pupil: _Pupil,
        change_type: str,
        filed: date,
        to_school: int | None = None,
        target_class: int | None = None,
        *,
        outcome: str | None = None,
    ) -> StatusChangeRequest | None:
        """File one request on ``filed`` and act on its steps one after another, a few working
        days apart, until it is effective, rejected, cancelled or left pending (the next
        action would fall after today, or the demo leaves it waiting)."""
        today = self.o.today
        student = self.s.get(Student, pupil.id)
        assert student is not None
        if outcome is None:
            x = rng.random()
            outcome = (
                "approved"
                if x < 0.78
                else "rejected"
                if x < 0.87
                else "cancelled"
                if x < 0.88
                else "pending"
            )
        last_action = today
        if outcome == "pending" and rng.random() < 0.65:
            # 超期: filed long enough ago that the step it waits on is past its deadline.
            limit = self.earlier(today, self.settings.workflow.step_working_days + 3)
            filed = max(min(filed, limit), self.first_day)
            last_action = limit  # the step it stops at started before the deadline window
        reason = rng.choice(REASONS[change_type]) if change_type in REASONS else None
        application = sc.Application(
            change_type=change_type,
            effective_date=self.later(filed, rng.randint(0, 5)),
            reason_code=reason,
            to_class_id=target_class,
        )
        applicant = self.registrar(to_school if to_school is not None else pupil.school_id)
        try:
            request = sc.file_request(
                self.s,
                applicant,
                student,
                application,
                user_id=None,
                username=SEEDED_BY,
                today=filed,
                settings=self.settings,
                now=_at(filed, rng),
            )
        except RuleError as exc:
            self.report.counts["refused"] += 1
            self.refusals.append((change_type, str(exc)))
            return None
        self.report.by_type[change_type] += 1
        self.report.counts["request"] += 1
        steps = len(request.steps)
        stop_at = rng.randrange(1, steps) if outcome in ("rejected", "pending") else steps
        day = filed
        acted = 1  # filing submits the applicant's own step
        if outcome == "cancelled":
            self.act(request, applicant, "cancel", self.later(day, rng.randint(1, 3)), rng)
        while request.state == "submitted" and outcome != "cancelled":
            # Mostly prompt; now and then a unit lets a step run past its 10 working days.
            wait = rng.randint(1, 4) if rng.random() < 0.9 else rng.randint(6, 14)
            nxt = self.later(day, wait)
            if nxt >= last_action or (outcome == "pending" and acted >= stop_at):
                break
            if outcome == "rejected" and acted >= stop_at:
                self.act(request, self.handler_scope(request), "reject", nxt, rng)
                break
            if not self.act(request, self.handler_scope(request), "approve", nxt, rng):
                break
            day = nxt
            acted += 1
        self.report.counts[request.state] += 1
        if request.state == "effective":
            self.effective_kinds.add(change_type)
        if request.state == "submitted" and request.due_date and request.due_date < today:
            self.report.counts["overdue"] += 1
        return request

    def act(
        self, request: StatusChangeRequest, scope: Scope, action: str, day: date, rng: random.Random
    ) -> bool:
        comment = rng.choice(REJECT_COMMENTS) if action == "reject" else ""
        try:
            sc.act(
                self.s,
                scope,
                request,
                action,
                user_id=None,
                username=SEEDED_BY,
                today=day,
                comment=comment,
                settings=self.settings,
                now=_at(day, rng),
            )
        except RuleError:
            self.report.counts["refused_action"] += 1
            return False
        return True


def seed_lifecycle(
    engine: Engine,
    options: LifecycleOptions,
    progress: Callable[[int], None] | None = None,
) -> LifecycleReport:
    """Add demo status changes and graduations to a seeded registry that has none yet."""
    from ..audit.context import audit_actor

    problems = options.validate()
    if problems:
        raise LifecycleSeedRefused("; ".join(problems))
    with Session(engine) as session:
        for table in GUARDED_TABLES:
            n = session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            if n:
                raise LifecycleSeedRefused(
                    f"the registry already holds {n} {table} rows; demo status changes and "
                    "graduations are added once, to a registry without any"
                )
        if not session.execute(text("SELECT COUNT(*) FROM student")).scalar_one():
            raise LifecycleSeedRefused("the registry has no students: run `xueji seed` first")
        reason = f"xueji seed-lifecycle --seed {options.seed} --today {options.today}"
        with audit_actor(SEEDED_BY, reason=reason):
            try:
                lifecycle = _Lifecycle(session, options)
                # Past years first: graduations, then this year's business.
                lifecycle.graduations(progress)
                if options.status_changes:
                    lifecycle.status_changes(progress)
                session.commit()
                lifecycle.report.refusals = lifecycle.refusals
            except BaseException:
                session.rollback()
                raise
    return lifecycle.report
