"""综合素质评价 on the database (DOMAIN.md §5): 写实记录 (activities, awards, social practice,
with an optional evidence file), the class teacher's A–D grades per dimension and comment,
the class's 公示 (publicity) with objections, finalizing, the per-student report and its PDF.

The state machine is admin/domain/evaluation.py: a ``TermEvaluation`` row is converted to
the domain record, the domain transition runs, and the result is written back (state,
publicity dates and rounds, objections, and one ``Evaluation`` row per graded dimension —
what the warehouse reads). Database dimension codes (code set evaluation_dimension: moral,
academic, health, arts, practice) map onto the domain's ``Dimension`` values.

Who may do what: the class teacher (a TeachingAssignment without subject) or the school's
registrar grades, publicizes and finalizes; any teacher of the class or the registrar keeps
写实记录; a parent of the student or the class teacher objects inside the publicity window;
the registrar or the school leader upholds or dismisses. Every refusal is a RuleError and
nothing is written. The caller commits."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from ..audit import set_audit_reason
from ..domain import evaluation as rules
from ..domain.calendar import WorkingCalendar
from ..domain.files import PROOF, FileLimits
from ..domain.messages import RuleError, Violation
from ..models import (
    CodeItem,
    Enrollment,
    Evaluation,
    EvaluationObjection,
    EvaluationRecord,
    School,
    SchoolClass,
    Student,
    TeachingAssignment,
    Term,
    TermEvaluation,
)
from ..security.scope import Scope, criterion_for, school_in_scope
from ..uploads.service import store_student_file
from ..uploads.storage import FileStore
from ..uploads.validation import validate_upload
from .attendance import class_students
from .status_changes import settings_from_config

FIELD = "evaluation"
# Database code (code set evaluation_dimension) → the domain dimension, in report order.
DIMENSIONS: Mapping[str, rules.Dimension] = {
    "moral": rules.Dimension.MORAL,
    "academic": rules.Dimension.ACADEMIC,
    "health": rules.Dimension.HEALTH,
    "arts": rules.Dimension.ARTS,
    "practice": rules.Dimension.PRACTICE,
}
CODE_OF: Mapping[str, str] = {d.value: code for code, d in DIMENSIONS.items()}
KINDS = ("activity", "award", "practice")
HOURS_KINDS = frozenset({"activity", "practice"})
TITLE_MAX, ROLE_MAX, ISSUER_MAX, DESCRIPTION_MAX = 120, 40, 120, 1000
COMMENT_MAX, REASON_MAX = 1000, 500
EVIDENCE_NOTE = "综合素质评价写实材料 / evaluation record evidence"
STATE_LABELS = rules._STATE_LABELS  # (zh, en) per state; the domain's own wording
EDITABLE = frozenset({rules.EvalState.DRAFT, rules.EvalState.REVISED})

_AB_USER = table("ab_user", column("id"), column("username"))


# --- settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationSettings:
    rule: rules.PublicityRule
    calendar: WorkingCalendar


def settings_from(config: Mapping[str, Any]) -> EvaluationSettings:
    """XUEJI_EVALUATION_PUBLICITY_DAYS (working days, default 5) on the XUEJI_HOLIDAYS
    calendar that attendance and status changes use."""
    days = int(config.get("XUEJI_EVALUATION_PUBLICITY_DAYS") or 5)
    calendar = settings_from_config(config).workflow.calendar
    return EvaluationSettings(rules.PublicityRule(length=days), calendar)


# --- who may do what -------------------------------------------------------------------------


def _user_id(session: Session, username: str) -> int | None:
    return session.scalar(select(_AB_USER.c.id).where(_AB_USER.c.username == username))


def is_class_teacher(session: Session, username: str, class_id: int) -> bool:
    """班主任: a teaching assignment of the class without a subject."""
    user_id = _user_id(session, username)
    return user_id is not None and bool(
        session.scalar(
            select(TeachingAssignment.id).where(
                TeachingAssignment.user_id == user_id,
                TeachingAssignment.class_id == class_id,
                TeachingAssignment.subject_code.is_(None),
            )
        )
    )


def _registrar(session: Session, scope: Scope, school_id: int) -> bool:
    return scope.role in ("SchoolRegistrar", "Admin") and school_in_scope(session, scope, school_id)


def may_view(session: Session, scope: Scope, klass: SchoolClass) -> bool:
    query = select(SchoolClass.id).where(
        SchoolClass.id == klass.id, criterion_for(SchoolClass, scope)
    )
    return scope.personal and session.execute(query).first() is not None


def may_grade(session: Session, scope: Scope, klass: SchoolClass, username: str) -> bool:
    """Grades, comments, publicity and finalizing: the class teacher or the registrar."""
    if _registrar(session, scope, klass.school_id):
        return True
    return (
        scope.role == "Teacher"
        and klass.id in scope.class_ids
        and is_class_teacher(session, username, klass.id)
    )


def may_record(session: Session, scope: Scope, klass: SchoolClass) -> bool:
    """写实记录: any teacher of the class, or the registrar."""
    if _registrar(session, scope, klass.school_id):
        return True
    return scope.role == "Teacher" and klass.id in scope.class_ids


def may_decide(session: Session, scope: Scope, school_id: int) -> bool:
    """Objections are decided by the school's registrar or leader."""
    return scope.role in ("SchoolRegistrar", "SchoolLeader", "Admin") and school_in_scope(
        session, scope, school_id
    )


def may_object(session: Session, scope: Scope, row: TermEvaluation, username: str) -> bool:
    """A parent of the student, or the student's class teacher."""
    if scope.role == "Parent":
        return row.student_id in scope.student_ids
    return (
        scope.role == "Teacher"
        and row.class_id in scope.class_ids
        and is_class_teacher(session, username, row.class_id)
    )


_WHO = {
    "grade": (
        "评定等级",
        "grade this class",
        "仅限本班班主任或本校学籍管理员",
        "only the class teacher or the school's registrar",
    ),
    "record": (
        "增删写实记录",
        "keep this student's records",
        "仅限本班任课教师或本校学籍管理员",
        "only a teacher of the class or the school's registrar",
    ),
    "decide": (
        "处理异议",
        "decide objections",
        "仅限本校学籍管理员或校领导",
        "only the school's registrar or leader",
    ),
    "object": (
        "提出异议",
        "raise an objection",
        "仅限学生家长或班主任",
        "only a parent of the student or the class teacher",
    ),
}


def _refused(what: str) -> RuleError:
    action_zh, action_en, who_zh, who_en = _WHO[what]
    params = {"action_zh": action_zh, "action_en": action_en, "who_zh": who_zh, "who_en": who_en}
    return RuleError([Violation("evaluation.not_allowed", FIELD, params)])


# --- rows ↔ domain ---------------------------------------------------------------------------


def to_domain(row: TermEvaluation | None) -> rules.TermEvaluation:
    if row is None:
        return rules.TermEvaluation()
    grades = {
        DIMENSIONS[g.dimension].value: rules.EvalGrade(g.level)
        for g in row.grades
        if g.dimension in DIMENSIONS
    }
    objections = tuple(
        rules.Objection(o.raised_on, o.reason, o.outcome, o.resolved_on) for o in row.objections
    )
    return rules.TermEvaluation(
        grades=grades,
        state=rules.EvalState(row.state),
        publicity_start=row.publicity_start,
        publicity_end=row.publicity_end,
        publicity_rounds=row.publicity_rounds or 0,
        objections=objections,
        finalized_on=row.finalized_on,
    )


def _write_back(
    session: Session, row: TermEvaluation, ev: rules.TermEvaluation, term: Term, username: str
) -> None:
    """Store a domain evaluation on its row: state and dates, one Evaluation row per graded
    dimension, objections (new ones appended; outcomes of existing ones by position)."""
    row.state = ev.state.value
    row.publicity_start, row.publicity_end = ev.publicity_start, ev.publicity_end
    row.publicity_rounds = ev.publicity_rounds
    row.finalized_on = ev.finalized_on
    row.updated_by = username
    wanted = {CODE_OF[d]: g.value for d, g in ev.grades.items()}
    for grade in list(row.grades):
        if grade.dimension not in wanted:
            row.grades.remove(grade)  # delete-orphan: audited as a removal
        elif grade.level != wanted[grade.dimension]:
            grade.level = wanted[grade.dimension]
    have = {g.dimension for g in row.grades}
    for code in DIMENSIONS:
        if code in wanted and code not in have:
            row.grades.append(
                Evaluation(
                    student_id=row.student_id,
                    school_id=row.school_id,
                    school_year_id=term.school_year_id,
                    term_id=term.id,
                    dimension=code,
                    level=wanted[code],
                )
            )
    for stored, objection in zip(row.objections, ev.objections, strict=False):
        if stored.outcome != objection.outcome:
            stored.outcome = objection.outcome
            stored.resolved_on = objection.resolved_on
            stored.resolved_by = username
    for objection in ev.objections[len(row.objections) :]:
        row.objections.append(
            EvaluationObjection(
                raised_on=objection.raised_on, reason=objection.reason, raised_by=username
            )
        )
    session.flush()


def term_evaluation(session: Session, student_id: int, term_id: int) -> TermEvaluation | None:
    return session.scalar(
        select(TermEvaluation).where(
            TermEvaluation.student_id == student_id, TermEvaluation.term_id == term_id
        )
    )


def class_of(session: Session, student_id: int, term: Term) -> SchoolClass | None:
    """The student's class in the term's school year (the active enrollment first)."""
    return session.scalar(
        select(SchoolClass)
        .join(Enrollment, Enrollment.class_id == SchoolClass.id)
        .where(
            Enrollment.student_id == student_id, Enrollment.school_year_id == term.school_year_id
        )
        .order_by(Enrollment.is_active.desc(), Enrollment.id.desc())
    )


def terms_of(session: Session, klass: SchoolClass) -> list[Term]:
    return list(
        session.scalars(
            select(Term).where(Term.school_year_id == klass.school_year_id).order_by(Term.number)
        )
    )


def term_on(session: Session, klass: SchoolClass, day: date) -> Term | None:
    """The class's term containing ``day``, else its latest term that has started."""
    terms = terms_of(session, klass)
    current = [t for t in terms if t.start_date <= day <= t.end_date]
    started = [t for t in terms if t.start_date <= day]
    return (current or started or terms or [None])[-1]


def _check_term(klass: SchoolClass, term: Term) -> None:
    if term.school_year_id != klass.school_year_id:
        raise RuleError([Violation("evaluation.term_of_other_year", "evaluation_term", {})])


def _for_student(student: Student, violation: Violation) -> Violation:
    """A per-student refusal of a class-wide action, naming the student."""
    params = {
        "name": student.name,
        "number": student.student_number,
        "detail_zh": violation.message("zh_CN"),
        "detail_en": violation.message("en"),
    }
    return Violation("evaluation.for_student", violation.field, params)


def _too_long(text: str, limit: int, field_name: str) -> list[Violation]:
    return (
        [Violation("evaluation.too_long", field_name, {"max": limit})] if len(text) > limit else []
    )


# --- 写实记录 ----------------------------------------------------------------------------------


def _code_names(session: Session, code_set: str) -> dict[str, tuple[str, str]]:
    rows = session.execute(
        select(CodeItem.code, CodeItem.name_zh, CodeItem.name_en).where(
            CodeItem.code_set == code_set, CodeItem.valid_to.is_(None)
        )
    )
    return {code: (zh, en) for code, zh, en in rows}


@dataclass(frozen=True)
class Evidence:
    filename: str | None
    data: bytes


def _records_locked(session: Session, student_id: int, term: Term) -> list[Violation]:
    row = term_evaluation(session, student_id, term.id)
    state = rules.EvalState(row.state) if row is not None else rules.EvalState.DRAFT
    if state in EDITABLE:
        return []
    zh, en = STATE_LABELS[state]
    return [Violation("evaluation.records_locked", FIELD, {"state_zh": zh, "state_en": en})]


def add_record(
    session: Session,
    scope: Scope,
    student: Student,
    term: Term,
    *,
    dimension: str,
    kind: str,
    title: str,
    happened_on: date | None,
    today: date,
    username: str,
    hours: str | Decimal | None = None,
    role: str = "",
    award_level: str = "",
    issuer: str = "",
    description: str = "",
    evidence: Evidence | None = None,
    store: FileStore | None = None,
    limits: FileLimits | None = None,
) -> EvaluationRecord:
    """Add one 写实记录: inside the term and not in the future; hours (activity, practice;
    required for practice) per the domain's validate_hours; an award needs its level (code set
    award_level) and issuer. The evidence file goes through the student-file checks."""
    klass = class_of(session, student.id, term)
    if klass is None or not may_record(session, scope, klass):
        raise _refused("record")
    title, role, issuer = title.strip(), role.strip(), issuer.strip()
    description, award_level = description.strip(), award_level.strip()
    problems = _records_locked(session, student.id, term)
    if dimension not in DIMENSIONS:
        problems.append(Violation("code.unknown", FIELD, {"value": dimension}))
    if kind not in KINDS:
        problems.append(Violation("code.unknown", "record_kind", {"value": kind}))
    if not title:
        problems.append(Violation("required", "record_title"))
    problems += _too_long(title, TITLE_MAX, "record_title")
    problems += _too_long(role, ROLE_MAX, "record_role")
    problems += _too_long(issuer, ISSUER_MAX, "issuer")
    problems += _too_long(description, DESCRIPTION_MAX, "record_description")
    if happened_on is None:
        problems.append(Violation("required", "record_date"))
    elif not term.start_date <= happened_on <= term.end_date:
        params = {
            "day": happened_on.isoformat(),
            "start": term.start_date.isoformat(),
            "end": term.end_date.isoformat(),
        }
        problems.append(Violation("evaluation.outside_term", "record_date", params))
    elif happened_on > today:
        problems.append(Violation("date.future", "record_date"))
    amount: Decimal | None = None
    if kind in HOURS_KINDS:
        amount, hour_problems = rules.validate_hours(hours, "hours")
        problems += hour_problems
        if amount is None and not hour_problems and kind == "practice":
            problems.append(Violation("required", "hours"))
    if kind == "award":
        if not award_level:
            problems.append(Violation("required", "award_level"))
        elif award_level not in _code_names(session, "award_level"):
            problems.append(Violation("code.unknown", "award_level", {"value": award_level}))
        if not issuer:
            problems.append(Violation("required", "issuer"))
    if evidence is not None and evidence.data:
        try:
            validate_upload(PROOF, evidence.data, limits=limits)
        except RuleError as exc:
            problems += exc.violations
    if problems:
        raise RuleError(problems)
    record = EvaluationRecord(
        student_id=student.id,
        term_id=term.id,
        school_id=klass.school_id,
        dimension=dimension,
        kind=kind,
        title=title,
        happened_on=happened_on,
        hours=amount,
        role=role or None,
        award_level=award_level if kind == "award" else None,
        issuer=issuer or None,
        description=description or None,
        recorded_by=username,
    )
    if evidence is not None and evidence.data:
        stored = store_student_file(
            session,
            student,
            PROOF,
            evidence.filename,
            evidence.data,
            username,
            description=EVIDENCE_NOTE,
            store=store,
            limits=limits,
        )
        record.evidence_file_id = stored.id
    session.add(record)
    session.flush()
    return record


def delete_record(
    session: Session, scope: Scope, record: EvaluationRecord, *, username: str
) -> None:
    """Remove a record (its evidence file stays among the student's files)."""
    term = session.get(Term, record.term_id)
    klass = class_of(session, record.student_id, term) if term is not None else None
    if term is None or klass is None or not may_record(session, scope, klass):
        raise _refused("record")
    problems = _records_locked(session, record.student_id, term)
    if problems:
        raise RuleError(problems)
    set_audit_reason(session, "删除写实记录 / record removed")
    session.delete(record)
    session.flush()


def records(session: Session, student_id: int, term_id: int) -> list[EvaluationRecord]:
    return list(
        session.scalars(
            select(EvaluationRecord)
            .where(EvaluationRecord.student_id == student_id, EvaluationRecord.term_id == term_id)
            .order_by(EvaluationRecord.happened_on, EvaluationRecord.id)
        )
    )


def practice_hours(rows: Sequence[EvaluationRecord]) -> Decimal:
    """社会实践 hours of the term: every record under the practice dimension (no separate
    verification step yet, so unverified records count)."""
    activities = [
        rules.ActivityRecord(
            dimension=DIMENSIONS[r.dimension].value,
            hours=Decimal(r.hours),
            verified=bool(r.verified_by),
            category=r.kind,
            title=r.title,
        )
        for r in rows
        if r.hours is not None and r.dimension in DIMENSIONS
    ]
    return rules.practice_hours(activities, verified_only=False)


# --- grading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradingResult:
    changed: int


def class_evaluations(
    session: Session, klass: SchoolClass, term: Term
) -> dict[int, TermEvaluation]:
    """student id → the term evaluation row of the class's students."""
    rows = session.scalars(
        select(TermEvaluation).where(
            TermEvaluation.class_id == klass.id, TermEvaluation.term_id == term.id
        )
    )
    return {row.student_id: row for row in rows}


def set_grades(
    session: Session,
    scope: Scope,
    klass: SchoolClass,
    term: Term,
    grades: Mapping[int, Mapping[str, str | None]],
    *,
    username: str,
    comments: Mapping[int, str] | None = None,
) -> GradingResult:
    """Save grades (student → dimension code → 'A'..'D', blank removes) and comments. All or
    nothing: one bad grade, a student outside the class, or a change to an evaluation under
    publicity refuses the whole save. Unchanged students are left alone."""
    if not may_grade(session, scope, klass, username):
        raise _refused("grade")
    _check_term(klass, term)
    comments = comments or {}
    members = {s.id: s for s in class_students(session, klass)}
    existing = {**class_evaluations(session, klass, term)}
    for student_id in set(grades) | set(comments):
        if student_id in members and student_id not in existing:
            found = term_evaluation(session, student_id, term.id)  # e.g. graded in another class
            if found is not None:
                existing[student_id] = found
    problems: list[Violation] = []
    planned: list[tuple[int, rules.TermEvaluation, str | None]] = []
    for student_id in sorted(set(grades) | set(comments)):
        student = members.get(student_id)
        if student is None:
            problems.append(Violation("evaluation.not_in_class", FIELD, {"id": student_id}))
            continue
        row = existing.get(student_id)
        before = to_domain(row)
        wanted = {
            DIMENSIONS[code].value if code in DIMENSIONS else code: value
            for code, value in grades.get(student_id, {}).items()
        }
        comment = comments.get(student_id)
        comment = None if comment is None else comment.strip()
        problems += [
            _for_student(student, v)
            for v in _too_long(comment or "", COMMENT_MAX, "evaluation_comment")
        ]
        parsed, grade_problems = rules.check_grades(wanted)
        if grade_problems:
            problems += [_for_student(student, v) for v in grade_problems]
            continue
        new_grades = {d: g for d, g in {**before.grades, **parsed}.items() if g is not None}
        same_comment = comment is None or comment == ((row.comment or "") if row else "")
        if new_grades == dict(before.grades) and same_comment:
            continue  # nothing changed: a publicized row posted back as it is
        after, refused = rules.set_grades(before, wanted)
        if refused:
            problems += [_for_student(student, v) for v in refused]
            continue
        planned.append((student_id, after, comment))
    if problems:
        raise RuleError(problems)
    for student_id, after, comment in planned:
        row = existing.get(student_id)
        if row is None:
            row = TermEvaluation(
                student_id=student_id,
                term_id=term.id,
                school_id=klass.school_id,
                class_id=klass.id,
                state=rules.EvalState.DRAFT.value,
                publicity_rounds=0,
            )
            session.add(row)
        row.class_id = klass.id  # a student who changed class mid-term is graded here now
        if comment is not None:
            row.comment = comment or None
        _write_back(session, row, after, term, username)
    return GradingResult(changed=len(planned))


def publicize(
    session: Session,
    scope: Scope,
    klass: SchoolClass,
    term: Term,
    start: date,
    *,
    today: date,
    username: str,
    settings: EvaluationSettings,
) -> int:
    """Start the publicity period of the class's draft and revised evaluations on ``start``.
    Every student of the class needs every dimension graded, else the refusal names them.
    Returns the number publicized."""
    if not may_grade(session, scope, klass, username):
        raise _refused("grade")
    _check_term(klass, term)
    if start < today:
        raise RuleError(
            [Violation("evaluation.start_in_past", "publicity_start", {"day": start.isoformat()})]
        )
    rows = class_evaluations(session, klass, term)
    ungraded: list[str] = []
    ready: list[tuple[TermEvaluation, rules.TermEvaluation]] = []
    for student in class_students(session, klass):
        row = rows.get(student.id)
        ev = to_domain(row)
        if ev.state not in EDITABLE:
            continue
        after, refused = rules.publicize(
            ev, start, rule=settings.rule, is_working_day=settings.calendar.is_working_day
        )
        if refused or row is None:
            ungraded.append(f"{student.name}（{student.student_number}）")
            continue
        ready.append((row, after))
    if ungraded:
        names = "、".join(ungraded)
        raise RuleError([Violation("evaluation.ungraded_students", FIELD, {"names": names})])
    if not ready:
        raise RuleError([Violation("evaluation.nothing_to_publicize", FIELD, {})])
    for row, after in ready:
        _write_back(session, row, after, term, username)
    return len(ready)


def _row_context(session: Session, row: TermEvaluation) -> tuple[Term, Student]:
    term = session.get(Term, row.term_id)
    student = session.get(Student, row.student_id)
    assert term is not None and student is not None  # foreign keys
    return term, student


def _transition(
    session: Session,
    row: TermEvaluation,
    result: rules.Transition,
    username: str,
    reason: str = "",
) -> TermEvaluation:
    after, refused = result
    if refused:
        raise RuleError(refused)
    term, _ = _row_context(session, row)
    if reason:
        set_audit_reason(session, reason)
    _write_back(session, row, after, term, username)
    return row


def raise_objection(
    session: Session,
    scope: Scope,
    row: TermEvaluation,
    reason: str,
    *,
    on: date,
    username: str,
) -> TermEvaluation:
    """异议 inside the publicity window, by a parent of the student or the class teacher."""
    if not may_object(session, scope, row, username):
        raise _refused("object")
    problems = _too_long(reason.strip(), REASON_MAX, "objection")
    if problems:
        raise RuleError(problems)
    return _transition(session, row, rules.object_to(to_domain(row), on, reason), username)


def decide_objection(
    session: Session,
    scope: Scope,
    row: TermEvaluation,
    *,
    uphold: bool,
    on: date,
    username: str,
) -> TermEvaluation:
    """Uphold (→ revised: grades may change, then publicize again) or dismiss (→ publicized
    once no objection is pending) the oldest pending objection."""
    if not may_decide(session, scope, row.school_id):
        raise _refused("decide")
    ev = to_domain(row)
    result = rules.uphold_objection(ev, on) if uphold else rules.dismiss_objection(ev, on)
    reason = "异议成立 / objection upheld" if uphold else "异议不成立 / objection dismissed"
    return _transition(session, row, result, username, reason)


def finalize(
    session: Session, scope: Scope, row: TermEvaluation, *, today: date, username: str
) -> TermEvaluation:
    """定稿 after the publicity period (class teacher, registrar or leader)."""
    klass = session.get(SchoolClass, row.class_id)
    allowed = klass is not None and (
        may_grade(session, scope, klass, username) or may_decide(session, scope, row.school_id)
    )
    if not allowed:
        raise _refused("grade")
    return _transition(session, row, rules.finalize(to_domain(row), today), username)


def finalize_class(
    session: Session,
    scope: Scope,
    klass: SchoolClass,
    term: Term,
    *,
    today: date,
    username: str,
) -> int:
    """Finalize every evaluation of the class whose publicity period is over."""
    if not (
        may_grade(session, scope, klass, username) or may_decide(session, scope, klass.school_id)
    ):
        raise _refused("grade")
    done = 0
    for row in class_evaluations(session, klass, term).values():
        after, refused = rules.finalize(to_domain(row), today)
        if not refused:
            term_row, _ = _row_context(session, row)
            _write_back(session, row, after, term_row, username)
            done += 1
    if not done:
        raise RuleError([Violation("evaluation.nothing_to_finalize", FIELD, {})])
    return done


def effective_state(row: TermEvaluation | None, today: date) -> rules.EvalState:
    """What a reader sees today: a publicized evaluation whose period is over is final."""
    return rules.effective_state(to_domain(row), today)


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionLine:
    code: str
    name_zh: str
    name_en: str
    grade: str | None
    grade_zh: str
    grade_en: str


@dataclass(frozen=True)
class RecordLine:
    id: int
    dimension: str
    kind: str
    title: str
    happened_on: date
    hours: Decimal | None
    role: str
    award_level: str
    award_level_zh: str
    award_level_en: str
    issuer: str
    description: str
    evidence_file_id: int | None


@dataclass(frozen=True)
class ObjectionLine:
    raised_on: date
    raised_by: str
    reason: str
    outcome: str
    resolved_on: date | None
    resolved_by: str


@dataclass(frozen=True)
class StudentReport:
    student_id: int
    student_name: str
    student_number: str
    school_name: str
    class_id: int | None
    class_name: str
    term_id: int
    term_label_zh: str
    term_label_en: str
    term_start: date
    term_end: date
    dimensions: tuple[DimensionLine, ...]
    state: str
    state_zh: str
    state_en: str
    publicity_start: date | None
    publicity_end: date | None
    publicity_rounds: int
    finalized_on: date | None
    comment: str
    records: Mapping[str, tuple[RecordLine, ...]] = field(default_factory=dict)
    practice_hours: Decimal = Decimal(0)
    objections: tuple[ObjectionLine, ...] = ()
    term_evaluation_id: int | None = None


def student_report(session: Session, student_id: int, term_id: int, today: date) -> StudentReport:
    """One student's evaluation for one term, for screens, the parent portal and the PDF.
    The caller checks the student is in scope."""
    student = session.get(Student, student_id)
    term = session.get(Term, term_id)
    if student is None or term is None:
        raise RuleError([Violation("evaluation.no_evaluation", FIELD, {})])
    row = term_evaluation(session, student_id, term_id)
    klass = session.get(SchoolClass, row.class_id) if row else class_of(session, student_id, term)
    school = session.get(School, klass.school_id) if klass else None
    ev = to_domain(row)
    state = rules.effective_state(ev, today)
    dimensions = []
    for code, dimension in DIMENSIONS.items():
        grade = ev.grades.get(dimension.value)
        dimensions.append(
            DimensionLine(
                code,
                dimension.value,
                dimension.en,
                grade.value if grade else None,
                grade.zh if grade else "",
                grade.en if grade else "",
            )
        )
    levels = _code_names(session, "award_level")
    rows = records(session, student_id, term_id)
    grouped: dict[str, list[RecordLine]] = {code: [] for code in DIMENSIONS}
    for r in rows:
        level = levels.get(r.award_level or "", ("", ""))
        grouped.setdefault(r.dimension, []).append(
            RecordLine(
                r.id,
                r.dimension,
                r.kind,
                r.title,
                r.happened_on,
                Decimal(r.hours) if r.hours is not None else None,
                r.role or "",
                r.award_level or "",
                level[0],
                level[1],
                r.issuer or "",
                r.description or "",
                r.evidence_file_id,
            )
        )
    objections = tuple(
        ObjectionLine(
            o.raised_on, o.raised_by or "", o.reason, o.outcome, o.resolved_on, o.resolved_by or ""
        )
        for o in (row.objections if row else [])
    )
    year = term.school_year.code if term.school_year else ""
    state_zh, state_en = STATE_LABELS[state]
    return StudentReport(
        student_id=student.id,
        student_name=student.name,
        student_number=student.student_number,
        school_name=school.name if school else "",
        class_id=klass.id if klass else None,
        class_name=klass.name if klass else "",
        term_id=term.id,
        term_label_zh=f"{year}学年第{term.number}学期",
        term_label_en=f"{year}, term {term.number}",
        term_start=term.start_date,
        term_end=term.end_date,
        dimensions=tuple(dimensions),
        state=state.value,
        state_zh=state_zh,
        state_en=state_en,
        publicity_start=ev.publicity_start,
        publicity_end=ev.publicity_end,
        publicity_rounds=ev.publicity_rounds,
        finalized_on=ev.finalized_on,
        comment=(row.comment or "") if row else "",
        records={code: tuple(lines) for code, lines in grouped.items()},
        practice_hours=practice_hours(rows),
        objections=objections,
        term_evaluation_id=row.id if row else None,
    )


# --- the PDF ---------------------------------------------------------------------------------

KIND_ZH = {"activity": "活动", "award": "获奖", "practice": "社会实践"}


def _hours(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def render_report_pdf(report: StudentReport) -> bytes:
    """综合素质评价报告: one A4 document per student and term, in Chinese."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from .pdf import cjk_font, styles

    font = cjk_font()
    st = styles()

    def p(text: str, style: str = "body") -> Paragraph:
        return Paragraph(escape(text), st[style])

    grid = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ]
    )
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"综合素质评价报告 {report.student_name} {report.term_label_zh}",
        author=report.school_name,
        creator="XueJi 学籍",
    )
    story: list[Any] = [
        p("综合素质评价报告", "title"),
        p(f"{report.school_name}　{report.class_name}　{report.term_label_zh}", "small"),
        Spacer(1, 4 * mm),
    ]
    info = [
        [p("姓名"), p(report.student_name), p("学籍号"), p(report.student_number)],
        [p("学校"), p(report.school_name), p("班级"), p(report.class_name)],
        [p("学期"), p(report.term_label_zh), p("状态"), p(report.state_zh)],
    ]
    if report.publicity_start and report.publicity_end:
        period = f"{report.publicity_start.isoformat()} 至 {report.publicity_end.isoformat()}"
        info.append([p("公示期"), p(period), p("定稿日期"), p(_date(report.finalized_on))])
    info_table = Table(info, colWidths=[22 * mm, 64 * mm, 22 * mm, 66 * mm])
    info_table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ]
        )
    )
    story += [info_table, p("一、各维度评价等级", "heading")]
    grades = [[p("评价维度"), p("等级"), p("说明")]]
    for line in report.dimensions:
        grades.append(
            [
                p(f"{line.name_zh}（{line.name_en}）"),
                p(line.grade or "—"),
                p(line.grade_zh or "未评定"),
            ]
        )
    grade_table = Table(grades, colWidths=[80 * mm, 24 * mm, 70 * mm])
    grade_table.setStyle(grid)
    story.append(grade_table)
    story.append(p("二、写实记录", "heading"))
    for line in report.dimensions:
        items = report.records.get(line.code, ())
        story.append(p(f"{line.name_zh}（{len(items)}项）", "body"))
        if not items:
            continue
        rows = [[p("日期"), p("类别"), p("名称"), p("角色/级别/颁奖单位"), p("时长")]]
        for r in items:
            detail = "；".join(x for x in (r.role, r.award_level_zh, r.issuer) if x)
            title = r.title + (f"：{r.description}" if r.description else "")
            rows.append(
                [
                    p(r.happened_on.isoformat(), "small"),
                    p(KIND_ZH.get(r.kind, r.kind), "small"),
                    p(title, "small"),
                    p(detail, "small"),
                    p(_hours(r.hours), "small"),
                ]
            )
        table_ = Table(rows, colWidths=[22 * mm, 18 * mm, 80 * mm, 40 * mm, 14 * mm])
        table_.setStyle(grid)
        story += [table_, Spacer(1, 2 * mm)]
    story.append(p(f"社会实践累计时长：{_hours(report.practice_hours)} 小时", "body"))
    story += [p("三、班主任评语", "heading"), p(report.comment or "（无）")]
    doc.build(story)
    return out.getvalue()


def _date(value: date | None) -> str:
    return value.isoformat() if value else "—"


def download_name(report: StudentReport) -> str:
    """ASCII file name (the Content-Disposition header): student number and term."""
    return f"evaluation-{report.student_number}-{report.term_id}.pdf"
