"""The bureau check (学籍号核验): temporary L numbers become official ones (DOMAIN §1.3).

* a valid resident ID that matches the form (sex, birth date) and no other student with the
  same ID → **G** (G + the ID number);
* no usable ID (none, or a document that is not a resident ID) and no other student with the
  same name, sex and birth date → **J** (school county + birth date + sequence + check);
* anything else stays **L** and is reported as 问题学籍 with its reason: an invalid ID, an ID that
  contradicts the form, a duplicate ID, or a likely duplicate without ID.

The history keeps the L number; after this the number never changes again (except J → G once
an ID exists), even when the ID is later corrected.  The CLI (`xueji numbers confirm`) and the
bureau screen call ``check_numbers``; ``dry_run`` reports without writing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ..domain.consistency import check_form_matches_id
from ..domain.idcard import validate_id_number
from ..domain.student_number import g_number
from ..models import School, Student
from ..security.scope import Scope, criterion_for
from .numbering import issue_j_number, replace_student_number
from .students import RESIDENT_ID_TYPES

REASON = "学籍号核验"


@dataclass(frozen=True)
class Finding:
    student_id: int
    old_number: str
    new_number: str | None  # None: stays L (a problem)
    problem: str | None = None  # invalid_id / id_mismatch / duplicate_id / possible_duplicate


@dataclass
class CheckReport:
    checked: int = 0
    issued: Counter[str] = field(default_factory=Counter)  # "G"/"J" → count
    problems: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)


def _duplicate_ids(session: Session, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    found: set[str] = set()
    chunk = sorted(ids)
    for start in range(0, len(chunk), 500):
        part = chunk[start : start + 500]
        found |= set(
            session.scalars(
                select(Student.id_number)
                .where(Student.id_number.in_(part))
                .group_by(Student.id_number)
                .having(func.count() > 1)
            )
        )
    return found


def _has_twin(session: Session, student: Student) -> bool:
    twin = aliased(Student)
    return (
        session.scalar(
            select(twin.id)
            .where(
                twin.id != student.id,
                twin.name == student.name,
                twin.sex == student.sex,
                twin.birth_date == student.birth_date,
            )
            .limit(1)
        )
        is not None
    )


def check_numbers(
    session: Session,
    scope: Scope,
    *,
    today: date,
    dry_run: bool = False,
    limit: int | None = None,
) -> CheckReport:
    """Check every L-numbered student in scope; write G/J numbers unless ``dry_run``.  The
    caller commits (all or nothing for the batch)."""
    query = (
        select(Student)
        .where(Student.student_number_kind == "L", criterion_for(Student, scope))
        .order_by(Student.id)
    )
    if limit:
        query = query.limit(limit)
    students = list(session.scalars(query))
    report = CheckReport(checked=len(students))
    duplicates = _duplicate_ids(session, {s.id_number for s in students if s.id_number})
    for student in students:
        old_number = student.student_number
        new_number, problem = _decide(session, student, duplicates, today, dry_run)
        report.findings.append(Finding(student.id, old_number, new_number, problem))
        if problem:
            report.problems[problem] += 1
            continue
        assert new_number is not None
        report.issued[new_number[0]] += 1
    return report


def _decide(
    session: Session, student: Student, duplicates: set[str], today: date, dry_run: bool
) -> tuple[str | None, str | None]:
    has_id = bool(student.id_number) and (student.id_doc_type or "1") in RESIDENT_ID_TYPES
    if has_id:
        parsed, violations = validate_id_number(student.id_number, today=today)
        if parsed is None or violations:
            return None, "invalid_id"
        if check_form_matches_id(student.sex, student.birth_date, parsed):
            return None, "id_mismatch"
        if parsed.number in duplicates:
            return None, "duplicate_id"
        number = g_number(parsed.number)
        if not dry_run:
            replace_student_number(session, student, number, "G", REASON)
        return number, None
    if _has_twin(session, student):
        return None, "possible_duplicate"
    if dry_run:
        return "J(new)", None
    school = session.get(School, student.current_school_id)
    region = school.region_code if school else student.student_number[1:7]
    number = issue_j_number(session, region, student.birth_date)
    replace_student_number(session, student, number, "J", REASON)
    return number, None


def report_lines(report: CheckReport) -> list[str]:
    """Plain lines for the CLI (numbers, not names)."""
    lines = [
        f"checked {report.checked} L-numbered students: "
        f"{report.issued.get('G', 0)} → G, {report.issued.get('J', 0)} → J, "
        f"{sum(report.problems.values())} stay L as problem records"
    ]
    for problem, count in sorted(report.problems.items()):
        lines.append(f"  {problem}: {count}")
    return lines


def summary(report: CheckReport) -> dict[str, Any]:
    return {
        "checked": report.checked,
        "issued": dict(report.issued),
        "problems": dict(report.problems),
    }
