"""Annual promotion (升级): every student 在校 in a non-graduating grade of one school year moves
up one grade into the next school year, in the class with the same number one grade up.

Set-based: a handful of INSERT … SELECT / UPDATE statements, whatever the number of students,
in the caller's transaction; audited as one batch entry (Core DML skips the ORM audit
listener).  Idempotent and resumable: a student who already has an enrollment in the target
year is left alone, so a second run (or a run after an interruption) changes nothing more.

Who is not promoted: graduating grades (六年级 or 五年级 by the school's 学制, 初三 or 初四, 高三 —
they graduate instead), and students not 在校 (休学 keeps the grade and rejoins a class on
复学; 转出, 退学 … have left).  Repeaters were moved down by their 留级 request during the year
and move up from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    cast,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from ..domain.consistency import GRADES
from ..domain.messages import RuleError, Violation
from ..models import Enrollment, School, SchoolClass, SchoolYear, Student
from ..models.students import utcnow
from ..security.scope import Scope, criterion_for

ENROLLED = "01"
REASON = "升级"

_NEXT_GRADE = {
    g.code: next((n.code for n in GRADES if n.stage == g.stage and n.year == g.year + 1), None)
    for g in GRADES
}
_GRADE_NAMES = {g.code: g.name_zh for g in GRADES}


# Grades that move up, and the final grades that graduate, by the school's primary years.
PROMOTABLE = {
    6: ("11", "12", "13", "14", "15", "21", "22", "31", "32"),
    5: ("11", "12", "13", "14", "21", "22", "23", "31", "32"),
}
FINAL = {6: ("16", "23", "33"), 5: ("15", "24", "33")}


def _by_system(grade: Any, primary_years: Any, table: dict[int, tuple[str, ...]]) -> Any:
    return or_(*(and_(primary_years == years, grade.in_(codes)) for years, codes in table.items()))


def _promotable(grade: Any, primary_years: Any) -> Any:
    """SQL: the grade moves up in a school of this 学制 (5 or 6 primary years; junior has the
    rest of nine)."""
    return _by_system(grade, primary_years, PROMOTABLE)


def _graduating(grade: Any, primary_years: Any) -> Any:
    return _by_system(grade, primary_years, FINAL)


@dataclass
class SchoolPreview:
    school_id: int
    code: str
    name: str
    promote: int = 0
    graduating: int = 0
    held: int = 0  # not 在校 (休学 …)
    done: int = 0  # already in the target year


@dataclass
class PromotionReport:
    from_year: str
    to_year: str
    schools: list[SchoolPreview] = field(default_factory=list)
    classes_created: int = 0
    promoted: int = 0

    @property
    def totals(self) -> dict[str, int]:
        return {
            "promote": sum(s.promote for s in self.schools),
            "graduating": sum(s.graduating for s in self.schools),
            "held": sum(s.held for s in self.schools),
            "done": sum(s.done for s in self.schools),
        }


def _years(session: Session, from_code: str, to_code: str) -> tuple[SchoolYear, SchoolYear]:
    years = {
        y.code: y
        for y in session.scalars(
            select(SchoolYear).where(SchoolYear.code.in_((from_code, to_code)))
        )
    }
    problems = [
        Violation("promotion.unknown_year", "school_year", {"value": code})
        for code in (from_code, to_code)
        if code not in years
    ]
    if not problems and years[to_code].start_date <= years[from_code].start_date:
        problems.append(
            Violation("promotion.year_order", "school_year", {"from": from_code, "to": to_code})
        )
    if problems:
        raise RuleError(problems)
    return years[from_code], years[to_code]


def _in_scope_schools(scope: Scope) -> Any:
    return select(School.id).where(criterion_for(School, scope))


def preview(session: Session, scope: Scope, from_code: str, to_code: str) -> PromotionReport:
    """Counts per school of who would move up, who graduates, who is held back, who is done."""
    source, target = _years(session, from_code, to_code)
    report = PromotionReport(source.code, target.code)
    moved = exists().where(
        Enrollment.student_id == Student.id, Enrollment.school_year_id == target.id
    )
    e = aliased(Enrollment)
    rows = session.execute(
        select(
            School.id,
            School.code,
            School.name,
            func.sum(
                (
                    (Student.current_status == ENROLLED)
                    & _promotable(e.grade_code, School.primary_years)
                    & not_(moved)
                ).cast(Integer)
            ),
            func.sum(_graduating(e.grade_code, School.primary_years).cast(Integer)),
            func.sum(
                (
                    (Student.current_status != ENROLLED)
                    & _promotable(e.grade_code, School.primary_years)
                ).cast(Integer)
            ),
            func.sum(moved.cast(Integer)),
        )
        .select_from(e)
        .join(Student, Student.id == e.student_id)
        .join(School, School.id == e.school_id)
        .where(
            e.school_year_id == source.id,
            e.is_active.is_(True),
            e.school_id.in_(_in_scope_schools(scope)),
        )
        .group_by(School.id, School.code, School.name)
        .order_by(School.code)
    ).all()
    for school_id, code, name, promote, graduating, held, done in rows:
        report.schools.append(
            SchoolPreview(
                school_id,
                code,
                name,
                int(promote or 0),
                int(graduating or 0),
                int(held or 0),
                int(done or 0),
            )
        )
    return report


def promote(
    session: Session,
    scope: Scope,
    from_code: str,
    to_code: str,
    *,
    username: str,
    school_ids: Sequence[int] | None = None,
) -> PromotionReport:
    """Move everyone eligible up one grade into ``to_code``; returns the counts.  The caller
    commits.  ``school_ids`` limits it to some schools (inside the scope)."""
    from ..audit import record_batch

    source, target = _years(session, from_code, to_code)
    schools = _in_scope_schools(scope)
    if school_ids is not None:
        schools = schools.where(School.id.in_(list(school_ids)))
    # (No preview here: the counts per school are the screen's and the CLI's --dry-run.)
    report = PromotionReport(source.code, target.code)

    # 1. The classes of the target year: same school and number, one grade up.
    old = aliased(SchoolClass)
    existing = {
        (s, g, n)
        for s, g, n in session.execute(
            select(SchoolClass.school_id, SchoolClass.grade_code, SchoolClass.number).where(
                SchoolClass.school_year_id == target.id, SchoolClass.school_id.in_(schools)
            )
        )
    }
    wanted = session.execute(
        select(old.school_id, old.grade_code, old.number, School.primary_years)
        .join(School, School.id == old.school_id)
        .where(
            old.school_year_id == source.id,
            old.school_id.in_(schools),
            _promotable(old.grade_code, School.primary_years),
            exists().where(
                Enrollment.class_id == old.id,
                Enrollment.is_active.is_(True),
            ),
        )
    ).all()
    new_classes = []
    for school_id, grade, number, _years_primary in wanted:
        nxt = _NEXT_GRADE.get(grade)
        if nxt is None or (school_id, nxt, number) in existing:
            continue
        existing.add((school_id, nxt, number))
        new_classes.append(
            {
                "school_id": school_id,
                "school_year_id": target.id,
                "grade_code": nxt,
                "number": number,
                "name": f"{_GRADE_NAMES[nxt]}({number})班",
            }
        )
    if new_classes:
        session.execute(insert(SchoolClass), new_classes)
    report.classes_created = len(new_classes)

    # 2.–4. Three set-based statements over the same eligibility join (the source year's
    # active enrollments of students 在校 at that school, in a grade that moves up, with the
    # class one grade up in the target year).  They read only rows that existed before this
    # run, so the planner's statistics hold; each skips what is done already, so a re-run or
    # a resumed run changes nothing more.
    oc = aliased(SchoolClass)
    nc = aliased(SchoolClass)
    next_grade = cast(cast(oc.grade_code, Integer) + 1, String(2))
    now = utcnow()

    def eligible(e: Any) -> list[Any]:
        conditions = [
            e.school_year_id == source.id,
            e.is_active.is_(True),
            Student.id == e.student_id,
            Student.current_status == ENROLLED,
            Student.current_school_id == e.school_id,
            School.id == e.school_id,
            oc.id == e.class_id,
            _promotable(oc.grade_code, School.primary_years),
            nc.school_id == oc.school_id,
            nc.school_year_id == target.id,
            nc.number == oc.number,
            nc.grade_code == next_grade,
        ]
        if not scope.is_national or school_ids is not None:
            conditions.append(e.school_id.in_(schools))
        return conditions

    def not_moved(e: Any) -> Any:
        moved = aliased(Enrollment)
        return not_(
            exists().where(moved.student_id == e.student_id, moved.school_year_id == target.id)
        )

    # 2. The year left behind is closed (before the new rows exist: not_moved still holds).
    session.execute(
        update(Enrollment)
        .where(*eligible(Enrollment), Enrollment.ended_on.is_(None), not_moved(Enrollment))
        .values(ended_on=source.end_date)
        .execution_options(synchronize_session=False)
    )
    # 3. The target year's enrollments.
    e = aliased(Enrollment)
    chosen = select(
        e.student_id,
        e.school_id,
        literal(target.id),
        nc.id,
        nc.grade_code,
        e.seat_number,
        e.stage_entry_ym,
        e.entry_date,
        e.admission_method,
        e.study_mode,
        e.student_source,
        literal(True),
        literal(now),
        literal(username),
        literal(1),
    ).where(*eligible(e), not_moved(e))
    inserted = session.execute(
        insert(Enrollment.__table__).from_select(
            [
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
                "updated_at",
                "updated_by",
                "version",
            ],
            chosen,
        ),
        # psycopg's rowcount of an INSERT … SELECT only reaches us when asked for.
        execution_options={"preserve_rowcount": True},
    )
    report.promoted = int(inserted.rowcount)
    # 4. The student follows: the class one grade up (only while still in the old class).
    e = aliased(Enrollment)
    session.execute(
        update(Student)
        .where(*eligible(e), Student.current_class_id == e.class_id)
        .values(
            current_class_id=nc.id,
            current_grade_code=nc.grade_code,
            version=Student.version + 1,
            updated_at=now,
            updated_by=username,
        )
        .execution_options(synchronize_session=False)
    )
    record_batch(
        session,
        "promotion",
        "enrollment",
        report.promoted,
        REASON,
        username=username,
        details={
            "from": source.code,
            "to": target.code,
            "classes_created": report.classes_created,
            "schools": len(report.schools),
        },
    )
    return report
