"""Issuing 学籍号: L at registration, then G or J after the bureau check. The J sequence is
allocated with one atomic upsert per number, so concurrent registrations never collide."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..domain.messages import RuleError, Violation
from ..domain.student_number import J_SEQUENCE_MAX, check_number_change, j_number, l_number
from ..models import Student, StudentNumberHistory
from ..models.students import utcnow

_NEXT_J_SEQUENCE = text(
    """
    INSERT INTO j_number_sequence (region_code, birth_date, last_sequence)
    VALUES (:region, :birth, 1)
    ON CONFLICT (region_code, birth_date)
    DO UPDATE SET last_sequence = j_number_sequence.last_sequence + 1
    RETURNING last_sequence
    """
)


def allocate_j_sequence(session: Session, region_code: str, birth_date: date) -> int:
    """Next J sequence for (school region, birth date). The row lock taken by the upsert is
    held until the caller's transaction ends, which serialises concurrent allocators."""
    sequence = session.execute(
        _NEXT_J_SEQUENCE, {"region": region_code, "birth": birth_date}
    ).scalar_one()
    if sequence > J_SEQUENCE_MAX:
        raise RuleError(
            [Violation("j_sequence.exhausted", "student_number", {"sequence": sequence})]
        )
    return int(sequence)


def new_l_number(session: Session, region_code: str, birth_date: date, attempts: int = 50) -> str:
    """A temporary L number not used before by anyone (history included)."""
    for _ in range(attempts):
        candidate = l_number(region_code, birth_date, secrets.randbelow(10_000))
        taken = session.scalar(
            select(StudentNumberHistory.id).where(StudentNumberHistory.number == candidate)
        )
        if taken is None:
            return candidate
    raise RuleError([Violation("j_sequence.exhausted", "student_number", {"sequence": attempts})])


def replace_student_number(
    session: Session,
    student: Student,
    new_number: str,
    new_kind: str,
    reason: str,
    at: datetime | None = None,
) -> None:
    """Move a student to a new 学籍号 kind (L→G, L→J, J→G), keeping the history."""
    problems = check_number_change(student.student_number_kind, new_kind)
    if problems:
        raise RuleError(problems)
    when = at or utcnow()
    for entry in session.scalars(
        select(StudentNumberHistory).where(
            StudentNumberHistory.student_id == student.id,
            StudentNumberHistory.superseded_at.is_(None),
        )
    ):
        entry.superseded_at = when
    session.add(
        StudentNumberHistory(
            student_id=student.id, number=new_number, kind=new_kind, issued_at=when, reason=reason
        )
    )
    student.student_number = new_number
    student.student_number_kind = new_kind


def issue_j_number(session: Session, region_code: str, birth_date: date) -> str:
    return j_number(region_code, birth_date, allocate_j_sequence(session, region_code, birth_date))
