"""考勤 on the database: the class-day grid (everyone present unless marked), saving a day's
marks (a correction of an earlier day needs a reason and is audited), the school days of a
class, and the class report — each student's attendance rate and the alerts of
admin/domain/attendance.py (chronic absence, consecutive unexcused days, the 4-week dropout
warning).  Whole-day marks here; the warehouse reads the same rows (fact_attendance).
The caller commits."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import set_audit_reason
from ..domain import attendance as rules
from ..domain.calendar import WorkingCalendar
from ..domain.messages import RuleError, Violation
from ..models import Attendance, Enrollment, SchoolClass, Student, Term
from ..security.scope import Scope, row_in_scope, school_in_scope

FIELD = "attendance"
KIND_MARK: Mapping[str, rules.Mark] = {
    "late": rules.Mark.LATE,
    "left_early": rules.Mark.LEFT_EARLY,
    "truant": rules.Mark.TRUANT,
    "sick": rules.Mark.SICK,
    "personal": rules.Mark.PERSONAL,
}
ABSENCE_KINDS = frozenset(k for k, m in KIND_MARK.items() if m in rules.ABSENCE_MARKS)
RECORDING_ROLES = frozenset({"Teacher", "SchoolRegistrar", "Admin"})
DEFAULT_PERIODS_PER_DAY = 8  # XUEJI_TIMETABLE_PERIODS


def class_students(session: Session, klass: SchoolClass) -> list[Student]:
    """The class's students this school year (active enrollments), by name."""
    return list(
        session.scalars(
            select(Student)
            .join(Enrollment, Enrollment.student_id == Student.id)
            .where(
                Enrollment.class_id == klass.id,
                Enrollment.is_active.is_(True),
                Enrollment.ended_on.is_(None),
            )
            .order_by(Student.name, Student.id)
        )
    )


def school_days(
    session: Session, klass: SchoolClass, start: date, end: date, calendar: WorkingCalendar
) -> list[date]:
    """The class's school days between start and end: inside a term of its school year, a
    working day of the calendar (weekends and the configured holidays off, 调休 days on)."""
    terms = session.scalars(select(Term).where(Term.school_year_id == klass.school_year_id)).all()
    days = []
    day = start
    while day <= end:
        if calendar.is_working_day(day) and any(t.start_date <= day <= t.end_date for t in terms):
            days.append(day)
        day += timedelta(days=1)
    return days


def may_record(session: Session, scope: Scope, klass: SchoolClass) -> bool:
    """Class teachers record their own classes; the registrar any class of the school."""
    if scope.role not in RECORDING_ROLES:
        return False
    if scope.kind == "classes":
        return klass.id in scope.class_ids
    return school_in_scope(session, scope, klass.school_id)


def _slot(period: int | None) -> Any:
    return Attendance.period.is_(None) if period is None else Attendance.period == period


def day_marks(
    session: Session, klass: SchoolClass, day: date, period: int | None = None
) -> dict[int, str]:
    """student id → the mark recorded for the day (``period`` None) or for one lesson
    (absent from the map: present)."""
    rows = session.execute(
        select(Attendance.student_id, Attendance.kind).where(
            Attendance.class_id == klass.id, Attendance.date == day, _slot(period)
        )
    )
    return dict(rows.all())  # type: ignore[arg-type]


def lesson_marks(session: Session, klass: SchoolClass, day: date) -> dict[int, list[str]]:
    """student id → "第3节旷课"-style summaries of the day's per-lesson marks (for the grid)."""
    out: dict[int, list[tuple[int, str]]] = {}
    for student_id, period, kind in session.execute(
        select(Attendance.student_id, Attendance.period, Attendance.kind).where(
            Attendance.class_id == klass.id,
            Attendance.date == day,
            Attendance.period.is_not(None),
        )
    ):
        out.setdefault(student_id, []).append((period, kind))
    return {sid: [f"{p}:{k}" for p, k in sorted(v)] for sid, v in out.items()}


@dataclass(frozen=True)
class DayResult:
    marked: int
    changed: int
    alerts: list[tuple[int, rules.AttendanceAlert]] = field(default_factory=list)


def record_day(
    session: Session,
    scope: Scope,
    klass: SchoolClass,
    day: date,
    marks: Mapping[int, str | None],
    *,
    username: str,
    today: date,
    calendar: WorkingCalendar,
    reason: str = "",
    period: int | None = None,
    periods_per_day: int = DEFAULT_PERIODS_PER_DAY,
    policy: rules.AbsencePolicy = rules.DEFAULT_ABSENCE_POLICY,
) -> DayResult:
    """Save the class's marks for one day (``period`` None) or one lesson: ``marks`` maps
    each student to a kind code, or None for present. All or nothing; a change to an earlier
    day's marks needs a reason. A whole-day absence and lesson marks on the same day
    contradict each other and are refused. Returns the alerts the save made true for the
    marked students (this term, up to the day), for the caller to notify."""
    problems: list[Violation] = []
    if not may_record(session, scope, klass):
        raise RuleError([Violation("attendance.not_your_class", FIELD, {})])
    if day > today:
        problems.append(Violation("attendance.future_day", "date", {"day": day.isoformat()}))
    if day not in school_days(session, klass, day, day, calendar):
        problems.append(Violation("attendance.not_school_day", "date", {"day": day.isoformat()}))
    if period is not None and not 1 <= period <= periods_per_day:
        problems.append(
            Violation(
                "attendance.period_range",
                "period",
                {"day": day.isoformat(), "period": period, "periods": periods_per_day},
            )
        )
    members = {s.id for s in class_students(session, klass)}
    for student_id, kind in marks.items():
        if student_id not in members:
            problems.append(Violation("attendance.not_in_class", FIELD, {"id": student_id}))
        elif kind is not None and kind not in KIND_MARK:
            problems.append(Violation("code.unknown", FIELD, {"value": kind}))
    before = day_marks(session, klass, day, period)
    wanted = {sid: kind for sid, kind in marks.items() if kind}
    if not problems:
        problems += _contradictions(session, klass, day, period, wanted, periods_per_day)
    changed = {
        sid
        for sid in set(before) | set(wanted)
        if before.get(sid) != wanted.get(sid) and sid in marks
    }
    corrects = bool(changed & set(before)) and day < today
    if corrects and not reason.strip():
        problems.append(Violation("attendance.reason_required", "attendance_reason", {}))
    if problems:
        raise RuleError(problems)
    if reason.strip():
        set_audit_reason(session, reason.strip())
    if changed:
        for row in session.scalars(
            select(Attendance).where(
                Attendance.class_id == klass.id,
                Attendance.date == day,
                _slot(period),
                Attendance.student_id.in_(changed),
            )
        ):
            session.delete(row)  # through the ORM: the audit log records each removal
        session.flush()
        for sid in sorted(changed):
            kind = wanted.get(sid)
            if kind:
                absence = kind in ABSENCE_KINDS
                session.add(
                    Attendance(
                        student_id=sid,
                        class_id=klass.id,
                        school_id=klass.school_id,
                        date=day,
                        kind=kind,
                        period=period,
                        days=1.0 if absence and period is None else None,
                        periods=1 if absence and period is not None else None,
                        recorded_by=username,
                    )
                )
        session.flush()
    alerts: list[tuple[int, rules.AttendanceAlert]] = []
    flagged = {sid for sid, kind in wanted.items() if kind in ABSENCE_KINDS}
    start = _term_start(session, klass, day)
    if flagged and start is not None:
        report = class_report(
            session, klass, start, day, calendar=calendar, policy=policy, only=flagged
        )
        alerts = [(r.student.id, a) for r in report.students for a in r.alerts]
    return DayResult(marked=len(wanted), changed=len(changed), alerts=alerts)


def _contradictions(
    session: Session,
    klass: SchoolClass,
    day: date,
    period: int | None,
    wanted: Mapping[int, str],
    periods_per_day: int,
) -> list[Violation]:
    """The day's records as they would be after the save, checked by the domain rules: a
    whole-day absence beside lesson marks is a contradiction (attendance.conflict)."""
    if not wanted:
        return []
    rows = session.execute(
        select(Attendance.student_id, Attendance.kind, Attendance.period).where(
            Attendance.class_id == klass.id,
            Attendance.date == day,
            Attendance.student_id.in_(list(wanted)),
        )
    ).all()
    by_student: dict[int, list[rules.AttendanceRecord]] = {}
    for sid, kind, slot in rows:
        if slot != period and kind in KIND_MARK:
            by_student.setdefault(sid, []).append(
                rules.AttendanceRecord(day, KIND_MARK[kind], slot)
            )
    problems: list[Violation] = []
    for sid, kind in wanted.items():
        records = [*by_student.get(sid, []), rules.AttendanceRecord(day, KIND_MARK[kind], period)]
        for v in rules.check_records(records, {day}, periods_per_day=periods_per_day, field=FIELD):
            student = session.get(Student, sid)
            params = {**v.params, "student": student.name if student else sid}
            problems.append(Violation("attendance.student_conflict", FIELD, params))
    return problems


def _term_start(session: Session, klass: SchoolClass, day: date) -> date | None:
    term = session.scalars(
        select(Term).where(
            Term.school_year_id == klass.school_year_id,
            Term.start_date <= day,
            Term.end_date >= day,
        )
    ).first()
    return term.start_date if term is not None else None


@dataclass
class StudentReport:
    student: Student
    summary: rules.AttendanceSummary
    alerts: list[rules.AttendanceAlert] = field(default_factory=list)


@dataclass
class ClassReport:
    school_days: list[date]
    students: list[StudentReport]
    group: rules.GroupAttendance | None

    @property
    def flagged(self) -> list[StudentReport]:
        return [s for s in self.students if s.alerts]


def class_report(
    session: Session,
    klass: SchoolClass,
    start: date,
    end: date,
    *,
    calendar: WorkingCalendar,
    policy: rules.AbsencePolicy = rules.DEFAULT_ABSENCE_POLICY,
    only: Collection[int] | None = None,
    periods_per_day: int = DEFAULT_PERIODS_PER_DAY,
) -> ClassReport:
    """Each student's attendance rate over the school days from start to end, with every
    alert, and the class rate (student-days). ``only``: just these students."""
    days = school_days(session, klass, start, end, calendar)
    students = class_students(session, klass)
    if only is not None:
        students = [s for s in students if s.id in only]
    rows = session.execute(
        select(Attendance.student_id, Attendance.date, Attendance.kind, Attendance.period).where(
            Attendance.class_id == klass.id, Attendance.date >= start, Attendance.date <= end
        )
    ).all()
    by_student: dict[int, list[rules.AttendanceRecord]] = {}
    for student_id, day, kind, period in rows:
        if kind in KIND_MARK:
            by_student.setdefault(student_id, []).append(
                rules.AttendanceRecord(day, KIND_MARK[kind], period)
            )
    reports = []
    for student in students:
        records = by_student.get(student.id, [])
        summary = rules.summarize(
            records, days, periods_per_day=periods_per_day, weighting=policy.weighting
        )
        alerts = (
            rules.attendance_alerts(records, days, periods_per_day=periods_per_day, policy=policy)
            if days
            else []
        )
        reports.append(StudentReport(student, summary, alerts))
    group = rules.group_attendance(r.summary for r in reports) if reports else None
    return ClassReport(days, reports, group)


def percent(value: Fraction | None) -> str:
    if value is None:
        return "—"
    return f"{float(value) * 100:.1f}%"


def student_in_class(session: Session, scope: Scope, student_id: int) -> bool:
    return row_in_scope(session, scope, Student, student_id)


def classes_for(session: Session, scope: Scope, year_id: int) -> Sequence[SchoolClass]:
    """The classes this user may record attendance for, this school year."""
    from ..security.scope import criterion_for

    return session.scalars(
        select(SchoolClass)
        .where(SchoolClass.school_year_id == year_id, criterion_for(SchoolClass, scope))
        .order_by(SchoolClass.school_id, SchoolClass.grade_code, SchoolClass.number)
        .limit(500)
    ).all()
