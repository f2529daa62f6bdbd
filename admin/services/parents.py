"""Parent accounts and what a parent reads about their own child.

**Linking.** The school links a parent account to a student, and only for a family member
recorded on the student's form as a guardian (监护人) whose ID number the parent presents:
the registrar types the number from the parent's ID card, and it must equal the recorded
one. A new username gets a Parent account with a one-time password that must be changed at
the first sign-in; an existing Parent account gets one more child.

**Reading.** Everything here takes a student id the caller has already checked against the
parent's links (``child_or_none``); nothing returns another student's name or marks.
"""

from __future__ import annotations

import calendar as month_calendar
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain import attendance as rules
from ..domain.calendar import WorkingCalendar
from ..domain.idcard import normalize_id_number
from ..domain.messages import RuleError, Violation
from ..models import Attendance, Guardian, ParentLink, SchoolClass, Student, Term, UserScope
from ..security.scope import Scope, row_in_scope
from . import attendance as attendance_service

FIELD = "parent_link"
LINKING_ROLES = frozenset({"SchoolRegistrar", "Admin"})


@dataclass(frozen=True)
class LinkResult:
    user_id: int
    username: str
    created: bool
    initial_password: str | None  # shown once to the registrar when the account is new


def _initial_password() -> str:
    # Letters, digits and a symbol: passes the password policy; expires at first sign-in.
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"Xj-{core}{secrets.choice(string.digits)}"


def link_parent(
    session: Session,
    scope: Scope,
    student: Student,
    *,
    username: str,
    guardian_id_number: str,
    email: str = "",
    actor: str,
) -> LinkResult:
    """Link (and if needed create) the parent account ``username`` to ``student``. Refused,
    with nothing written, unless the ID number is that of a guardian on the student's form,
    the student is in the caller's school, and an existing account is a Parent account."""
    from flask import current_app

    from .accounts import AccountError, create_account

    problems: list[Violation] = []
    if scope.role not in LINKING_ROLES or not row_in_scope(session, scope, Student, student.id):
        raise RuleError([Violation("parent_link.not_your_student", FIELD, {})])
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        problems.append(Violation("parent_link.username", "parent_username", {}))
    number = normalize_id_number(guardian_id_number or "")
    guardians = session.scalars(
        select(Guardian).where(Guardian.student_id == student.id, Guardian.is_guardian.is_(True))
    ).all()
    if not number or not any(
        g.id_number and normalize_id_number(g.id_number) == number for g in guardians
    ):
        problems.append(Violation("parent_link.not_a_guardian", "guardian_id_number", {}))
    email = email.strip()
    if email and ("@" not in email or len(email) > 120):
        problems.append(Violation("parent_link.email", "email", {"value": email}))
    sm = current_app.appbuilder.sm  # type: ignore[attr-defined]
    user = sm.find_user(username=username) if username else None
    if user is not None and {r.name for r in user.roles} != {"Parent"}:
        problems.append(Violation("parent_link.not_parent_account", "parent_username", {}))
    if user is not None and session.scalar(
        select(ParentLink.id).where(
            ParentLink.user_id == user.id, ParentLink.student_id == student.id
        )
    ):
        problems.append(Violation("parent_link.already", "parent_username", {}))
    if problems:
        raise RuleError(problems)
    password = None
    created = user is None
    if created:
        password = _initial_password()
        try:
            create_account(
                username=username,
                password=password,
                role="Parent",
                email=email or None,
                first_name=username,
                last_name="Parent",
            )
        except AccountError as exc:
            raise RuleError(
                [Violation("parent_link.account", "parent_username", {"reason": str(exc)})]
            ) from exc
        user = sm.find_user(username=username)
        # Expired at once: the parent sets their own password at the first sign-in.
        row = session.get(UserScope, user.id)
        if row is not None:
            row.password_changed_at = datetime(2000, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    elif email:
        user.email = email
    session.add(ParentLink(user_id=user.id, student_id=student.id))
    session.flush()
    return LinkResult(user.id, username, created, password)


def unlink_parent(session: Session, scope: Scope, link: ParentLink) -> None:
    if scope.role not in LINKING_ROLES or not row_in_scope(
        session, scope, Student, link.student_id
    ):
        raise RuleError([Violation("parent_link.not_your_student", FIELD, {})])
    session.delete(link)
    session.flush()


def links_of(session: Session, student_id: int) -> Sequence[tuple[ParentLink, str]]:
    from flask_appbuilder.security.sqla.models import User

    return session.execute(
        select(ParentLink, User.username)
        .join(User, User.id == ParentLink.user_id)
        .where(ParentLink.student_id == student_id)
        .order_by(ParentLink.id)
    ).all()  # type: ignore[return-value]


# --- what a parent reads ----------------------------------------------------------------------


def children(session: Session, scope: Scope) -> list[Student]:
    if scope.kind != "children" or not scope.student_ids:
        return []
    return list(
        session.scalars(
            select(Student).where(Student.id.in_(scope.student_ids)).order_by(Student.id)
        )
    )


def child_or_none(session: Session, scope: Scope, student_id: int) -> Student | None:
    """The child, if linked to this parent account; None otherwise (callers answer 404, so
    another student's existence is never confirmed)."""
    if scope.kind != "children" or student_id not in scope.student_ids:
        return None
    return session.get(Student, student_id)


def current_class(session: Session, student: Student) -> SchoolClass | None:
    return session.get(SchoolClass, student.current_class_id) if student.current_class_id else None


def current_term(session: Session, klass: SchoolClass | None, today: date) -> Term | None:
    if klass is None:
        return None
    terms = session.scalars(
        select(Term).where(Term.school_year_id == klass.school_year_id).order_by(Term.number)
    ).all()
    for term in terms:
        if term.start_date <= today <= term.end_date:
            return term
    past = [t for t in terms if t.start_date <= today]
    return past[-1] if past else (terms[0] if terms else None)


@dataclass(frozen=True)
class CalendarDay:
    day: date
    school_day: bool
    marks: tuple[str, ...]  # kind codes, "3:truant" for a lesson


@dataclass(frozen=True)
class AttendanceMonth:
    year: int
    month: int
    weeks: list[list[CalendarDay | None]]  # Monday-first rows; None outside the month
    summary: rules.AttendanceSummary | None  # the term so far
    term: Term | None


def attendance_month(
    session: Session,
    student: Student,
    year: int,
    month: int,
    *,
    today: date,
    calendar: WorkingCalendar,
) -> AttendanceMonth:
    """The child's month: which days were school days and what was marked, plus the rate of
    the term so far. Only the child's own rows are read."""
    klass = current_class(session, student)
    first = date(year, month, 1)
    last = date(year, month, month_calendar.monthrange(year, month)[1])
    days = (
        set(attendance_service.school_days(session, klass, first, last, calendar))
        if klass is not None
        else set()
    )
    marks: dict[date, list[str]] = {}
    for day, kind, period in session.execute(
        select(Attendance.date, Attendance.kind, Attendance.period).where(
            Attendance.student_id == student.id,
            Attendance.date >= first,
            Attendance.date <= last,
        )
    ):
        marks.setdefault(day, []).append(kind if period is None else f"{period}:{kind}")
    weeks: list[list[CalendarDay | None]] = []
    for week in month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append(
            [
                CalendarDay(d, d in days and d <= today, tuple(sorted(marks.get(d, []))))
                if d.month == month
                else None
                for d in week
            ]
        )
    term = current_term(session, klass, min(today, last))
    summary = None
    if klass is not None and term is not None:
        end = min(today, term.end_date)
        term_days = attendance_service.school_days(session, klass, term.start_date, end, calendar)
        records = [
            rules.AttendanceRecord(day, attendance_service.KIND_MARK[kind], period)
            for day, kind, period in session.execute(
                select(Attendance.date, Attendance.kind, Attendance.period).where(
                    Attendance.student_id == student.id,
                    Attendance.date >= term.start_date,
                    Attendance.date <= end,
                )
            )
            if kind in attendance_service.KIND_MARK
        ]
        summary = rules.summarize(
            records, term_days, periods_per_day=attendance_service.DEFAULT_PERIODS_PER_DAY
        )
    return AttendanceMonth(year, month, weeks, summary, term)
