"""Graduation on the database: the eligibility list of a school's graduating cohort with
per-student reasons, batch filing (all or nothing), the bureau's approval for senior high,
and the effect on the student (status 毕业/结业/肄业, enrollment closed).  Rules:
admin/domain/graduation.py.  The caller commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..domain import graduation as rules
from ..domain import workflow as wf
from ..domain.consistency import grade_by_code, stage_length
from ..domain.messages import RuleError, Violation
from ..models import (
    Enrollment,
    Graduation,
    School,
    SchoolYear,
    StatusChangeRequest,
    Student,
)
from ..models.students import utcnow
from ..security.scope import Scope, criterion_for, school_in_scope

END_REASON = {rules.GRADUATED: "21", rules.COMPLETED: "22", rules.LEFT_EARLY: "43"}


@dataclass
class CandidateRow:
    student: Student
    stage: str
    eligible: bool
    reasons: list[Violation] = field(default_factory=list)
    filed: Graduation | None = None


def _year(session: Session, code: str) -> SchoolYear:
    year = session.scalars(select(SchoolYear).where(SchoolYear.code == code)).first()
    if year is None:
        raise RuleError([Violation("promotion.unknown_year", "school_year", {"value": code})])
    return year


def _stage_entry(enrollment: Enrollment | None) -> date | None:
    if enrollment is None or not enrollment.stage_entry_ym:
        return None
    ym = enrollment.stage_entry_ym
    return date(int(ym[:4]), int(ym[4:6]), 1)


def _in_flight(session: Session, student_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    StatusChangeRequest.student_id == student_id,
                    StatusChangeRequest.state.in_(tuple(wf.IN_FLIGHT)),
                )
            )
        )
    )


def candidates(
    session: Session,
    scope: Scope,
    school: School,
    year_code: str,
    *,
    on: date,
    outcome: str = rules.GRADUATED,
    final_grade_only: bool = True,
    missing: Mapping[int, Sequence[str]] | None = None,
) -> list[CandidateRow]:
    """The school's students of the year (by default those in a last grade), each with the
    reasons they cannot leave with ``outcome`` now."""
    if not school_in_scope(session, scope, school.id):
        raise RuleError([Violation("graduation.school_scope", "school", {})])
    year = _year(session, year_code)
    rows = session.execute(
        select(Student, Enrollment)
        .join(Enrollment, Enrollment.student_id == Student.id)
        .where(
            Enrollment.school_id == school.id,
            Enrollment.school_year_id == year.id,
            Enrollment.is_active.is_(True),
            Student.current_school_id == school.id,
            criterion_for(Student, scope),
        )
        .order_by(Enrollment.grade_code, Enrollment.class_id, Student.name)
    ).all()
    filed = {
        g.student_id: g
        for g in session.scalars(
            select(Graduation).where(
                Graduation.school_id == school.id, Graduation.school_year_id == year.id
            )
        )
    }
    out: list[CandidateRow] = []
    for student, enrollment in rows:
        grade = grade_by_code(enrollment.grade_code)
        if grade is None:
            continue
        last = grade.year == stage_length(grade.stage, school.primary_years)
        if final_grade_only and not last:
            continue
        fact = rules.Candidate(
            status=student.current_status,
            grade_code=enrollment.grade_code,
            primary_years=school.primary_years,
            has_in_flight_request=_in_flight(session, student.id),
            stage_entry=_stage_entry(enrollment),
            missing=(missing or {}).get(student.id, ()),
        )
        reasons = rules.check(fact, outcome, on)
        done = filed.get(student.id)
        if done is not None and done.state != "rejected":
            reasons = [Violation("graduation.already_filed", rules.FIELD, {"state": done.state})]
        out.append(CandidateRow(student, grade.stage, not reasons, reasons, done))
    return out


@dataclass(frozen=True)
class Decision:
    student_id: int
    outcome: str = rules.GRADUATED
    destination: str | None = None


def file_graduations(
    session: Session,
    scope: Scope,
    school: School,
    year_code: str,
    decisions: Sequence[Decision],
    *,
    on: date,
    username: str,
    destinations: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> list[Graduation]:
    """Graduate the chosen students: all eligible, or nothing is written and every student's
    reasons come back (the field names the student's 学籍号).  Compulsory stages take effect
    at once; senior high waits for the bureau."""
    year = _year(session, year_code)
    wanted = {d.student_id: d for d in decisions}
    by_outcome: dict[str, list[CandidateRow]] = {}
    for outcome in {d.outcome for d in decisions}:
        by_outcome[outcome] = candidates(
            session, scope, school, year_code, on=on, outcome=outcome, final_grade_only=False
        )
    problems: list[Violation] = []
    chosen: list[tuple[CandidateRow, Decision]] = []
    for decision in decisions:
        row = next(
            (r for r in by_outcome[decision.outcome] if r.student.id == decision.student_id), None
        )
        if row is None:
            problems.append(
                Violation("graduation.not_in_school", "student_number", {"id": decision.student_id})
            )
            continue
        if decision.destination and decision.destination not in destinations:
            problems.append(
                Violation("code.unknown", "graduation_destination", {"value": decision.destination})
            )
        for reason in row.reasons:
            problems.append(
                Violation(
                    reason.code,
                    reason.field,
                    {**reason.params, "student_number": row.student.student_number},
                )
            )
        chosen.append((row, decision))
    if problems or not wanted:
        raise RuleError(problems or [Violation("required", "student_number", {})])
    made: list[Graduation] = []
    for row, decision in chosen:
        if row.filed is not None:  # a rejected filing is filed again
            session.delete(row.filed)
            session.flush()
        grad = Graduation(
            student_id=row.student.id,
            school_id=school.id,
            school_year_id=year.id,
            stage=row.stage,
            grade_code=row.student.current_grade_code,
            outcome=decision.outcome,
            destination=decision.destination,
            graduated_on=on,
            state="pending",
            filed_by=username,
            filed_at=now or utcnow(),
        )
        session.add(grad)
        made.append(grad)
        if not rules.needs_approval(row.stage):
            _apply(session, grad, row.student, username, now)
    session.flush()
    return made


def decide(
    session: Session,
    scope: Scope,
    graduations: Sequence[Graduation],
    *,
    approve: bool,
    username: str,
    comment: str = "",
    now: datetime | None = None,
) -> int:
    """The bureau approves (or rejects, with a comment) pending senior-high graduations of
    schools in its scope; all or nothing."""
    if scope.role not in ("BureauOfficer", "Admin"):
        raise RuleError([Violation("graduation.bureau_only", rules.FIELD, {})])
    if not approve and not comment.strip():
        raise RuleError([Violation("workflow.comment_required", "approval_comment", {})])
    problems = [
        Violation("graduation.not_pending", rules.FIELD, {"state": g.state})
        for g in graduations
        if g.state != "pending" or not school_in_scope(session, scope, g.school_id)
    ]
    if problems:
        raise RuleError(problems)
    for grad in graduations:
        grad.state = "approved" if approve else "rejected"
        grad.decided_by = username
        grad.decided_at = now or utcnow()
        grad.comment = comment.strip() or None
        if approve:
            _apply(session, grad, grad.student, username, now)
    session.flush()
    return len(graduations)


def _apply(
    session: Session,
    grad: Graduation,
    student: Student,
    username: str,
    now: datetime | None = None,
) -> None:
    grad.state = "approved"
    grad.decided_by = grad.decided_by or username
    grad.decided_at = grad.decided_at or now or utcnow()
    student.current_status = rules.STATUS_AFTER[grad.outcome]
    enrollment = session.scalars(
        select(Enrollment).where(
            Enrollment.student_id == student.id,
            Enrollment.school_year_id == grad.school_year_id,
            Enrollment.is_active.is_(True),
        )
    ).first()
    if enrollment is not None:
        enrollment.ended_on = grad.graduated_on
        enrollment.end_reason = END_REASON[grad.outcome]


def pending(session: Session, scope: Scope) -> list[Graduation]:
    """Senior-high graduations awaiting this bureau's approval."""
    return list(
        session.scalars(
            select(Graduation)
            .join(School, School.id == Graduation.school_id)
            .where(Graduation.state == "pending", criterion_for(School, scope))
            .order_by(Graduation.school_id, Graduation.id)
        )
    )
