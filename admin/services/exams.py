"""考试与成绩 on the database: setting up an exam (papers, classes) under the 2021 exam rules,
the score grid of one class and paper, the Excel import of a whole exam, results (totals,
class and grade ranks, subject statistics), publication, and what a parent sees.

The arithmetic is admin/domain/ranking.py; this module only reads and writes rows. The same
functions serve the screens (admin/exams), the parent portal and the benchmark; the caller
commits. Every write goes through the ORM, so the audit log records it (a correction after
publication carries its reason).

Decisions (DOMAIN.md §6.2 leaves them local):

* **Publishing with missing scores** is allowed: ``publish`` returns how many cells of the
  covered students are still empty, and the screen says so. A school may publish a paper
  before a make-up exam; the blanks are left out of every statistic.
* **A blank cell** means "not entered": saving it removes a stored score (grid and import
  alike). A column left out of an import file leaves that paper untouched.
* **Grades 1–2** may not hold paper exams (``check_exam_type``), so ``create_exam`` refuses
  them; a score stored there anyway (data from elsewhere) also gets its band level.
"""

from __future__ import annotations

import gc
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    BigInteger,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from ..audit import set_audit_reason
from ..domain import ranking
from ..domain.catalogs.academics import SUBJECTS_BY_STAGE
from ..domain.consistency import grade_by_code, grade_exists
from ..domain.messages import EN, ZH_CN, RuleError, Violation, field_label, resolve_locale
from ..domain.text import to_halfwidth
from ..models import (
    CodeItem,
    Enrollment,
    Exam,
    ExamClass,
    ExamSubject,
    School,
    SchoolClass,
    Score,
    Student,
    TeachingAssignment,
    Term,
)
from ..security.scope import Scope, school_in_scope
from .attendance import class_students
from .importing import ERROR_FILL, ERRORS_HEADER, ImportRejected, ImportReport, Problem

# exam_kind code → the 2021 rules' exam type.
KIND_TYPES: Mapping[str, ranking.ExamType] = {
    "midterm": ranking.ExamType.MIDTERM,
    "final": ranking.ExamType.FINAL,
    "monthly": ranking.ExamType.MONTHLY,
    "unit": ranking.ExamType.UNIT,
    "quiz": ranking.ExamType.QUIZ,
    "mock": ranking.ExamType.MOCK,
}
# ScoreCode ↔ what Score.code stores.
CODE_OF: Mapping[ranking.ScoreCode, str] = {c: c.en for c in ranking.ScoreCode}
CODE_FROM: Mapping[str, ranking.ScoreCode] = {c.en: c for c in ranking.ScoreCode}
SETUP_ROLES = frozenset({"SchoolRegistrar", "Admin"})
ENTRY_ROLES = frozenset({"Teacher", "SchoolRegistrar", "Admin"})
CORRECTING_ROLES = frozenset({"SchoolRegistrar", "Admin"})
DRAFT, PUBLISHED = "draft", "published"
NAME_MAX = 60
FULL_MARK_MAX = Decimal("9999.99")  # Numeric(6, 2)
BAND_SCALE = ranking.FOUR_LEVELS
STAGE_NAMES = {
    "primary": ("小学", "primary school"),
    "junior": ("初中", "junior secondary school"),
    "senior": ("高中", "senior high school"),
}
# Import file headers (zh first; English accepted).
NUMBER_HEADERS = ("学籍号", "student number")
NAME_HEADERS = ("姓名", "name")
CLASS_HEADERS = ("班级", "class")
SHEET_TITLE = "成绩"
IMPORT_REASON = "成绩导入"
# Above this many score rows, results() ranks and aggregates in SQL (XUEJI_SQL_RANK_ROWS).
SQL_RANK_ROWS = 20_000


# --- settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExamSettings:
    """How results are computed and shown, from the XUEJI_* settings (admin/config.py)."""

    rank_mode: ranking.RankMode = "competition"
    policy: ranking.ScorePolicy = ranking.DEFAULT_POLICY
    visibility: ranking.ParentVisibility = ranking.DEFAULT_PARENT_VISIBILITY
    sql_rank_rows: int | None = SQL_RANK_ROWS  # results() in SQL above this many score rows


def settings_from_config(config: Mapping[str, Any]) -> ExamSettings:
    mode = config.get("XUEJI_RANK_TIES", "competition")
    absent = config.get("XUEJI_SCORE_ABSENT", "exclude")
    return ExamSettings(
        rank_mode="dense" if mode == "dense" else "competition",
        policy=ranking.ScorePolicy(absent="zero" if absent == "zero" else "exclude"),
        visibility=ranking.ParentVisibility(
            compulsory_scores=bool(config.get("XUEJI_PARENT_SCORES_COMPULSORY", True)),
            compulsory_ranks=bool(config.get("XUEJI_PARENT_RANKS_COMPULSORY", False)),
            senior_ranks=bool(config.get("XUEJI_PARENT_RANKS_SENIOR", True)),
        ),
        sql_rank_rows=int(config.get("XUEJI_SQL_RANK_ROWS", SQL_RANK_ROWS)),
    )


# --- names -----------------------------------------------------------------------------------


def code_names(session: Session, code_set: str) -> dict[str, tuple[str, str]]:
    """code → (zh, en) of a code set's items in force."""
    rows = session.execute(
        select(CodeItem.code, CodeItem.name_zh, CodeItem.name_en)
        .where(CodeItem.code_set == code_set, CodeItem.valid_to.is_(None))
        .order_by(CodeItem.sort_order, CodeItem.code)
    )
    return {code: (zh, en) for code, zh, en in rows}


def subject_name(names: Mapping[str, tuple[str, str]], code: str, locale: str = ZH_CN) -> str:
    pair = names.get(code)
    if pair is None:
        return code
    return pair[0] if resolve_locale(locale) == ZH_CN else pair[1]


def _subject_params(names: Mapping[str, tuple[str, str]], code: str) -> dict[str, str]:
    zh, en = names.get(code, (code, code))
    return {"subject_zh": zh, "subject_en": en, "subject": code}


def result_text(result: ranking.Result, locale: str = ZH_CN) -> str:
    """A result as a cell shows it: "92.5", "缺考" / "absent", "" for none."""
    if result is None:
        return ""
    if isinstance(result, ranking.ScoreCode):
        return result.value if resolve_locale(locale) == ZH_CN else result.en
    return ranking._plain(result)


def stored_result(score: Decimal | None, code: str | None) -> ranking.Result:
    if code:
        return CODE_FROM.get(code)
    if score is None:
        return None
    # Numeric(6, 2) comes back as 92.50: equal to 92.5, and shown through _plain.
    return score if isinstance(score, Decimal) else Decimal(str(score))


# --- setting up an exam ----------------------------------------------------------------------


@dataclass(frozen=True)
class Paper:
    """One paper as the form gives it: lines default to 60 % / 85 % of the full mark."""

    subject_code: str
    full_mark: Decimal | int | str
    pass_line: Decimal | int | str | None = None
    excellent_line: Decimal | int | str | None = None


def _number(value: Decimal | int | str | None) -> Decimal | None:
    """A form number; None for blank; NaN for junk (caught by the caller)."""
    if value is None:
        return None
    if isinstance(value, Decimal | int):
        return Decimal(value)
    text = to_halfwidth(str(value)).strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return Decimal("NaN")
    return number if number.is_finite() else Decimal("NaN")


def _check_papers(
    papers: Sequence[Paper | tuple[Any, ...]],
    stage: str,
    names: Mapping[str, tuple[str, str]],
) -> tuple[list[tuple[str, Decimal, Decimal, Decimal]], list[Violation]]:
    problems: list[Violation] = []
    ready: list[tuple[str, Decimal, Decimal, Decimal]] = []
    seen: set[str] = set()
    stage_zh, stage_en = STAGE_NAMES[stage]
    if not papers:
        problems.append(Violation("exam.no_subjects", "exam_subjects", {}))
    for raw in papers:
        paper = raw if isinstance(raw, Paper) else Paper(*raw)
        code = paper.subject_code.strip()
        params = _subject_params(names, code)
        if code not in SUBJECTS_BY_STAGE[stage]:
            problems.append(
                Violation(
                    "exam.subject_not_in_stage",
                    "exam_subjects",
                    {**params, "stage_zh": stage_zh, "stage_en": stage_en},
                )
            )
            continue
        if code in seen:
            problems.append(Violation("exam.subject_duplicate", "exam_subjects", params))
            continue
        seen.add(code)
        full = _number(paper.full_mark)
        if full is None or full.is_nan() or full <= 0 or full > FULL_MARK_MAX:
            value = "" if paper.full_mark is None else str(paper.full_mark)
            problems.append(
                Violation(
                    "exam.full_mark",
                    "exam_full_mark",
                    {**params, "value": value, "max": ranking._plain(FULL_MARK_MAX)},
                )
            )
            continue
        lines = ranking.default_lines(full)
        bad = False
        given: dict[str, Decimal] = {}
        for name, raw_line, fallback in (
            ("pass_line", paper.pass_line, lines.pass_line),
            ("excellent_line", paper.excellent_line, lines.excellent_line),
        ):
            number = _number(raw_line)
            if number is not None and number.is_nan():
                problems.append(
                    Violation(
                        "exam.line_format", f"exam_{name}", {**params, "value": str(raw_line)}
                    )
                )
                bad = True
            given[name] = fallback if number is None or number.is_nan() else number
        if bad:
            continue
        pass_line = ranking.round_half_up(given["pass_line"], 2)
        excellent = ranking.round_half_up(given["excellent_line"], 2)
        if not (0 <= pass_line <= excellent <= full):
            problems.append(
                Violation(
                    "exam.lines",
                    "exam_pass_line",
                    {
                        **params,
                        "pass_line": ranking._plain(pass_line),
                        "excellent_line": ranking._plain(excellent),
                        "full_mark": ranking._plain(full),
                    },
                )
            )
            continue
        ready.append((code, full, pass_line, excellent))
    return ready, problems


def create_exam(
    session: Session,
    scope: Scope,
    *,
    school: School,
    term: Term,
    grade_code: str,
    name: str,
    kind: str,
    exam_date: date,
    subjects: Sequence[Paper | tuple[Any, ...]],
    class_ids: Iterable[int] | None = None,
    username: str,
) -> Exam:
    """A new draft exam with its papers and classes; ``class_ids`` None = every class of that
    grade of the school in the term's school year. All or nothing: every problem is
    reported at once (``RuleError``)."""
    problems: list[Violation] = []
    if scope.role not in SETUP_ROLES or not school_in_scope(session, scope, school.id):
        raise RuleError([Violation("exam.not_allowed", "exam", {})])
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        problems.append(Violation("exam.name_required", "exam_name", {"max": NAME_MAX}))
    grade = grade_by_code(grade_code or "")
    if grade is None or not grade_exists(grade, school.primary_years):
        problems.append(Violation("exam.grade_unknown", "exam_grade", {"value": grade_code}))
        raise RuleError(problems)
    kinds = code_names(session, "exam_kind")
    if kind not in kinds or kind not in KIND_TYPES:
        problems.append(Violation("code.unknown", "exam_kind", {"value": kind}))
    else:
        problems += ranking.check_exam_type(
            grade.code, KIND_TYPES[kind], primary_years=school.primary_years, field="exam_kind"
        )
    if not (term.start_date <= exam_date <= term.end_date):
        problems.append(
            Violation(
                "exam.date_outside_term",
                "exam_date",
                {
                    "date": exam_date.isoformat(),
                    "start": term.start_date.isoformat(),
                    "end": term.end_date.isoformat(),
                },
            )
        )
    papers, paper_problems = _check_papers(subjects, grade.stage, code_names(session, "subject"))
    problems += paper_problems
    grade_classes = {
        c.id: c
        for c in session.scalars(
            select(SchoolClass).where(
                SchoolClass.school_id == school.id,
                SchoolClass.school_year_id == term.school_year_id,
                SchoolClass.grade_code == grade.code,
            )
        )
    }
    params = {"grade_zh": grade.name_zh, "grade_en": grade.name_en}
    wanted = sorted(grade_classes) if class_ids is None else sorted(set(class_ids))
    for class_id in wanted:
        if class_id not in grade_classes:
            problems.append(
                Violation("exam.class_not_in_grade", "exam_classes", {**params, "id": class_id})
            )
    if not wanted:
        problems.append(Violation("exam.no_classes", "exam_classes", params))
    if problems:
        raise RuleError(problems)
    exam = Exam(
        school_id=school.id,
        term_id=term.id,
        grade_code=grade.code,
        name=name,
        kind=kind,
        exam_date=exam_date,
        state=DRAFT,
        created_by=username,
    )
    for order, (code, full, pass_line, excellent) in enumerate(papers, start=1):
        exam.subjects.append(
            ExamSubject(
                subject_code=code,
                full_mark=full,
                pass_line=pass_line,
                excellent_line=excellent,
                sort_order=order,
            )
        )
    for class_id in wanted:
        exam.classes.append(ExamClass(class_id=class_id))
    session.add(exam)
    session.flush()
    return exam


def exam_classes(session: Session, exam: Exam) -> list[SchoolClass]:
    return list(
        session.scalars(
            select(SchoolClass)
            .join(ExamClass, ExamClass.class_id == SchoolClass.id)
            .where(ExamClass.exam_id == exam.id)
            .order_by(SchoolClass.number, SchoolClass.id)
        )
    )


def paper_of(exam: Exam, subject_code: str) -> ExamSubject | None:
    return next((p for p in exam.subjects if p.subject_code == subject_code), None)


# --- who may enter scores --------------------------------------------------------------------


def _user_id(session: Session, username: str) -> int | None:
    from flask_appbuilder.security.sqla.models import User

    return session.scalar(select(User.id).where(User.username == username))


def teaches(session: Session, user_id: int | None, class_id: int, subject_code: str) -> bool:
    """An assignment to that class for that subject, or as its class teacher (subject NULL)."""
    if user_id is None:
        return False
    found = session.scalar(
        select(TeachingAssignment.id)
        .where(
            TeachingAssignment.user_id == user_id,
            TeachingAssignment.class_id == class_id,
            (TeachingAssignment.subject_code == subject_code)
            | TeachingAssignment.subject_code.is_(None),
        )
        .limit(1)
    )
    return found is not None


def may_enter(
    session: Session, scope: Scope, exam: Exam, klass: SchoolClass, subject_code: str, username: str
) -> bool:
    """Before publication: the class's subject teacher or class teacher, the school's
    registrar, an administrator. After: the registrar and administrators only."""
    if scope.role not in ENTRY_ROLES:
        return False
    if exam.state == PUBLISHED and scope.role not in CORRECTING_ROLES:
        return False
    if scope.role == "Teacher":
        return klass.id in scope.class_ids and teaches(
            session, _user_id(session, username), klass.id, subject_code
        )
    return school_in_scope(session, scope, exam.school_id)


def may_manage(session: Session, scope: Scope, exam: Exam) -> bool:
    """Set up, publish: the school's registrar and administrators."""
    return scope.role in SETUP_ROLES and school_in_scope(session, scope, exam.school_id)


# --- the grid --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridRow:
    student: Student
    result: ranking.Result
    text: str  # as the cell shows it (zh codes)


def class_results(
    session: Session, exam: Exam, class_id: int, subject_code: str
) -> dict[int, ranking.Result]:
    rows = session.execute(
        select(Score.student_id, Score.score, Score.code).where(
            Score.exam_id == exam.id, Score.class_id == class_id, Score.subject_code == subject_code
        )
    )
    return {sid: stored_result(score, code) for sid, score, code in rows}


def grid(session: Session, exam: Exam, klass: SchoolClass, subject_code: str) -> list[GridRow]:
    """The class's students (active enrollments, by name) with their current cell."""
    current = class_results(session, exam, klass.id, subject_code)
    return [
        GridRow(s, current.get(s.id), result_text(current.get(s.id)))
        for s in class_students(session, klass)
    ]


class ScoresRefused(RuleError):
    """A save or import refused; ``cells`` maps student id → the violations of their cell."""

    def __init__(
        self, violations: Iterable[Violation], cells: Mapping[int, list[Violation]] | None = None
    ) -> None:
        super().__init__(violations)
        self.cells: dict[int, list[Violation]] = dict(cells or {})


def _cell_violation(
    violation: Violation, student: Student, names: Mapping[str, tuple[str, str]], subject: str
) -> Violation:
    """The rule's message, naming the student and the paper."""

    def detail(locale: str) -> str:
        text = violation.message(locale)
        label = field_label(violation.field, locale)
        for separator in ("：", ": "):
            if text.startswith(label + separator):
                return text[len(label) + len(separator) :]
        return text

    return Violation(
        "score.cell",
        "score",
        {
            **_subject_params(names, subject),
            "student": f"{student.name} {student.student_number}",
            "detail_zh": detail(ZH_CN),
            "detail_en": detail(EN),
            "rule": violation.code,
        },
    )


@dataclass
class SaveResult:
    saved: int = 0  # rows added or changed
    deleted: int = 0
    unchanged: int = 0


def _band(exam: Exam, result: ranking.Result, full_mark: Decimal) -> str | None:
    if exam.grade_code not in ranking.BAND_ONLY_GRADES or not isinstance(result, Decimal):
        return None
    band = BAND_SCALE.band(result, full_mark)
    return band.code if isinstance(band, ranking.Band) else None


def _write(
    session: Session,
    exam: Exam,
    cells: Sequence[tuple[int, int, str, ranking.Result]],
    username: str,
) -> SaveResult:
    """Store (student, class, subject, result) cells: None deletes. One read of the rows
    concerned, then ORM changes (audited)."""
    outcome = SaveResult()
    if not cells:
        return outcome
    papers = {p.subject_code: p for p in exam.subjects}
    students = {c[0] for c in cells}
    subjects = {c[2] for c in cells}
    existing: dict[tuple[int, str], Score] = {}
    student_list = sorted(students)
    for start in range(0, len(student_list), 5_000):
        chunk = student_list[start : start + 5_000]
        for row in session.scalars(
            select(Score).where(
                Score.exam_id == exam.id,
                Score.student_id.in_(chunk),
                Score.subject_code.in_(subjects),
            )
        ):
            existing[(row.student_id, row.subject_code)] = row
    now = datetime.now(UTC).replace(tzinfo=None)
    for student_id, class_id, subject, result in cells:
        row = existing.get((student_id, subject))
        if result is None:
            if row is not None:
                session.delete(row)
                outcome.deleted += 1
            continue
        full = Decimal(papers[subject].full_mark)
        code = CODE_OF[result] if isinstance(result, ranking.ScoreCode) else None
        number = result if isinstance(result, Decimal) else None
        level = _band(exam, result, full)
        absent = result == ranking.ScoreCode.ABSENT
        if row is not None:
            same = (
                stored_result(row.score, row.code) == result
                and row.class_id == class_id
                and row.level == level
            )
            if same:
                outcome.unchanged += 1
                continue
            row.score, row.code, row.level, row.absent = number, code, level, absent
            row.class_id, row.full_mark = class_id, full
            row.entered_by, row.entered_at = username, now
        else:
            session.add(
                Score(
                    exam_id=exam.id,
                    student_id=student_id,
                    class_id=class_id,
                    subject_code=subject,
                    score=number,
                    code=code,
                    full_mark=full,
                    level=level,
                    absent=absent,
                    entered_by=username,
                    entered_at=now,
                )
            )
        outcome.saved += 1
    session.flush()
    return outcome


def _entry_problems(
    session: Session,
    scope: Scope,
    exam: Exam,
    klass: SchoolClass,
    subject_code: str,
    username: str,
    reason: str | None,
    names: Mapping[str, tuple[str, str]],
) -> list[Violation]:
    params = {**_subject_params(names, subject_code), "class_name": klass.name}
    covered = session.scalar(
        select(ExamClass.id).where(ExamClass.exam_id == exam.id, ExamClass.class_id == klass.id)
    )
    if paper_of(exam, subject_code) is None or covered is None:
        return [Violation("score.not_in_exam", "score", params)]
    if exam.state == PUBLISHED:
        if scope.role not in CORRECTING_ROLES or not may_enter(
            session, scope, exam, klass, subject_code, username
        ):
            return [Violation("score.published_locked", "score", params)]
        if not (reason or "").strip():
            return [Violation("score.reason_required", "score_reason", params)]
    elif not may_enter(session, scope, exam, klass, subject_code, username):
        return [Violation("score.not_your_paper", "score", params)]
    return []


def save_scores(
    session: Session,
    scope: Scope,
    exam: Exam,
    klass: SchoolClass,
    subject_code: str,
    cells: Mapping[int, str | None],
    username: str,
    reason: str | None = None,
) -> SaveResult:
    """Save one class's cells of one paper (student id → text as typed). Every cell is checked
    with ``ranking.validate_score``; any bad cell refuses the whole save (``ScoresRefused``
    lists each, naming the student and the rule) and nothing is written. Blank = not entered
    (a stored score is removed). After publication a correction needs ``reason``."""
    names = code_names(session, "subject")
    problems = _entry_problems(session, scope, exam, klass, subject_code, username, reason, names)
    if problems:
        raise ScoresRefused(problems)
    paper = paper_of(exam, subject_code)
    assert paper is not None
    members = {s.id: s for s in class_students(session, klass)}
    bad: dict[int, list[Violation]] = {}
    ready: list[tuple[int, int, str, ranking.Result]] = []
    for student_id, text in cells.items():
        student = members.get(student_id)
        if student is None:
            bad[student_id] = [Violation("score.not_in_class", "score", {"id": student_id})]
            continue
        result, violations = ranking.validate_score(text, Decimal(paper.full_mark), "score")
        if violations:
            bad[student_id] = [_cell_violation(v, student, names, subject_code) for v in violations]
        else:
            ready.append((student_id, klass.id, subject_code, result))
    if bad:
        raise ScoresRefused([v for vs in bad.values() for v in vs], bad)
    if reason and reason.strip():
        set_audit_reason(session, reason.strip())
    return _write(session, exam, ready, username)


# --- publication -----------------------------------------------------------------------------


def covered_students(session: Session, exam: Exam) -> list[tuple[Student, SchoolClass]]:
    """Every student of the exam's classes (active enrollments), by class and name."""
    rows = session.execute(
        select(Student, SchoolClass)
        .join(Enrollment, Enrollment.student_id == Student.id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .join(ExamClass, ExamClass.class_id == SchoolClass.id)
        .where(
            ExamClass.exam_id == exam.id,
            Enrollment.is_active.is_(True),
            Enrollment.ended_on.is_(None),
        )
        .order_by(SchoolClass.number, SchoolClass.id, Student.name, Student.id)
    )
    return [(s, c) for s, c in rows.all()]


def missing_cells(session: Session, exam: Exam) -> int:
    """Cells (covered student × paper) with nothing entered."""
    students = {s.id for s, _ in covered_students(session, exam)}
    entered = session.execute(
        select(Score.student_id, Score.subject_code).where(Score.exam_id == exam.id)
    ).all()
    have = sum(1 for sid, _ in entered if sid in students)
    return len(students) * len(exam.subjects) - have


@dataclass(frozen=True)
class PublishResult:
    missing: int  # empty cells at publication (allowed; shown as a warning)


def publish(
    session: Session, scope: Scope, exam: Exam, username: str, *, now: datetime | None = None
) -> PublishResult:
    """Lock the exam (state published). Missing scores do not stop it: their count comes
    back for the screen to show. Later changes need a reason and the registrar."""
    if not may_manage(session, scope, exam):
        raise RuleError([Violation("exam.not_publisher", "exam", {})])
    if exam.state == PUBLISHED:
        on = exam.published_at.date().isoformat() if exam.published_at else ""
        raise RuleError(
            [Violation("exam.already_published", "exam", {"name": exam.name, "on": on})]
        )
    missing = missing_cells(session, exam)
    exam.state = PUBLISHED
    exam.published_at = now or datetime.now(UTC).replace(tzinfo=None)
    exam.published_by = username
    session.flush()
    return PublishResult(missing)


# --- results ---------------------------------------------------------------------------------


@dataclass
class StudentResult:
    student_id: int
    name: str
    student_number: str
    class_id: int
    results: Mapping[str, ranking.Result]  # subject → result (papers not entered are absent)
    total: ranking.StudentTotal
    class_rank: int | None
    grade_rank: int | None


@dataclass
class ExamResults:
    exam_id: int
    subjects: list[str]  # paper codes in the exam's order
    full_marks: dict[str, Decimal]
    students: list[StudentResult]  # by grade rank, unranked last
    class_names: dict[int, str]
    class_stats: dict[int, dict[str, ranking.SubjectStats]]
    grade_stats: dict[str, ranking.SubjectStats]
    mode: ranking.RankMode
    policy: ranking.ScorePolicy
    computed_in: str = "python"  # or "sql" (above the XUEJI_SQL_RANK_ROWS threshold)

    def for_class(self, class_id: int) -> list[StudentResult]:
        return [s for s in self.students if s.class_id == class_id]


def _sheet(
    session: Session, exam: Exam
) -> tuple[dict[int, dict[str, ranking.Result]], dict[int, int], dict[int, tuple[str, str]]]:
    """student → subject → result, student → class, student → (name, number): the covered
    students (a blank sheet for those without scores) and anyone with a score row."""
    sheet: dict[int, dict[str, ranking.Result]] = {}
    class_of: dict[int, int] = {}
    people: dict[int, tuple[str, str]] = {}
    covered = session.execute(
        select(Student.id, Student.name, Student.student_number, Enrollment.class_id)
        .join(Enrollment, Enrollment.student_id == Student.id)
        .join(ExamClass, ExamClass.class_id == Enrollment.class_id)
        .where(
            ExamClass.exam_id == exam.id,
            Enrollment.is_active.is_(True),
            Enrollment.ended_on.is_(None),
        )
    )
    for sid, name, number, class_id in covered:
        sheet[sid] = {}
        class_of[sid] = class_id
        people[sid] = (name, number)
    scored = session.execute(
        select(
            Score.student_id,
            Score.class_id,
            Score.subject_code,
            Score.score,
            Score.code,
        ).where(Score.exam_id == exam.id)
    )
    for sid, class_id, subject, score, code in scored:
        row = sheet.get(sid)
        if row is None:
            row = sheet[sid] = {}
            class_of[sid] = class_id
        if code or score is not None:
            row[subject] = stored_result(score, code)
    unknown = [sid for sid in sheet if sid not in people]
    if unknown:
        for sid, name, number in session.execute(
            select(Student.id, Student.name, Student.student_number).where(Student.id.in_(unknown))
        ):
            people[sid] = (name, number)
    return sheet, class_of, people


def score_rows(session: Session, exam: Exam) -> int:
    """How many score rows the exam has (what decides between the Python and SQL paths)."""
    count = session.scalar(select(func.count(Score.id)).where(Score.exam_id == exam.id))
    return int(count or 0)


def _sql_ranks_available(session: Session) -> bool:
    """Window functions: PostgreSQL, and SQLite from 3.25."""
    if session.get_bind().dialect.name != "sqlite":
        return True
    import sqlite3

    return sqlite3.sqlite_version_info >= (3, 25)


def results(
    session: Session,
    exam: Exam,
    policy: ranking.ScorePolicy = ranking.DEFAULT_POLICY,
    *,
    mode: ranking.RankMode = "competition",
    sql_rows: int | None = SQL_RANK_ROWS,
) -> ExamResults:
    """Totals, class and grade ranks (``ranking.rank_students``) and subject statistics per
    class and for the grade, under ``policy`` and tie ``mode``.

    An exam with more than ``sql_rows`` score rows (XUEJI_SQL_RANK_ROWS; None: never) is
    computed by the database instead (``_results_sql``): the same figures, without bringing
    every score into Python as a ``Decimal``."""
    if (
        sql_rows is not None
        and _sql_ranks_available(session)
        and score_rows(session, exam) > sql_rows
    ):
        return _results_sql(session, exam, policy, mode)
    subjects = [p.subject_code for p in exam.subjects]
    full_marks = {p.subject_code: Decimal(p.full_mark) for p in exam.subjects}
    lines = {
        p.subject_code: ranking.SubjectLines(Decimal(p.pass_line), Decimal(p.excellent_line))
        for p in exam.subjects
    }
    sheet, class_of, people = _sheet(session, exam)
    ranked = ranking.rank_students(
        sheet, subjects=subjects, mode=mode, policy=policy, class_of=class_of
    )
    rows = [
        StudentResult(
            sid,
            people[sid][0],
            people[sid][1],
            class_of[sid],
            sheet[sid],
            ranked[sid].total,
            ranked[sid].class_rank,
            ranked[sid].grade_rank,
        )
        for sid in sheet
    ]
    rows.sort(key=lambda r: (r.grade_rank is None, r.grade_rank or 0, r.class_id, r.student_number))
    class_stats: dict[int, dict[str, ranking.SubjectStats]] = defaultdict(dict)
    grade_stats: dict[str, ranking.SubjectStats] = {}
    for subject in subjects:
        column = {sid: sheet[sid].get(subject) for sid in sheet}
        per_class = ranking.subject_stats_by_group(
            column, class_of, full_marks[subject], policy=policy, lines=lines[subject]
        )
        for class_id, stats in per_class.items():
            class_stats[int(class_id)][subject] = stats  # type: ignore[call-overload]
        grade_stats[subject] = ranking.subject_stats(
            column.values(), full_marks[subject], policy=policy, lines=lines[subject]
        )
    class_names = dict(
        session.execute(
            select(SchoolClass.id, SchoolClass.name).where(
                SchoolClass.id.in_(set(class_of.values()) or {0})
            )
        ).all()
    )
    return ExamResults(
        exam.id,
        subjects,
        full_marks,
        rows,
        class_names,  # type: ignore[arg-type]
        dict(class_stats),
        grade_stats,
        mode,
        policy,
    )


# --- results in SQL (large exams) -------------------------------------------------------------
#
# The same figures as ``results`` above, computed by the database: one query for every
# student's total (GROUP BY), class and grade rank (RANK() / DENSE_RANK()), and one for the
# per-class paper aggregates (count, Σx, Σx², min, max, pass/excellent counts, the ten
# distribution bins), merged in Python into the grade's. Scores are Numeric(6, 2), so the
# database works in whole hundredths (CAST(ROUND(score * 100) AS BIGINT)): sums and tie
# comparisons are exact integers on SQLite (whose NUMERIC is a float) as on PostgreSQL, and
# means, rates and σ are then taken in ranking's Decimal context from those exact sums.

_BINS = 10  # ranking.bin_edges: ten bins of a tenth of the full mark
_CELL_SEP = "\x1f"  # between a student's cells in the aggregated text
_CODE_MARK = "!"  # a cell holding a code: subject!absent; a score: subject=92.5


def _hundredths(value: Any, postgres: bool) -> Any:
    # PostgreSQL's numeric(6, 2) × 100 is a whole number; SQLite's float needs the rounding.
    return cast(value * 100, BigInteger) if postgres else cast(func.round(value * 100), BigInteger)


def _counted_hundredths(policy: ranking.ScorePolicy, postgres: bool) -> Any:
    """The number a score row counts for under ``policy``, in hundredths; NULL when left out
    (a code under "exclude", an unknown code, nothing entered)."""
    coded = [
        (Score.code == stored, literal_column("0") if policy.treatment(code) == "zero" else null())
        for stored, code in CODE_FROM.items()
    ]
    return case(
        (and_(Score.code.is_not(None), Score.code != ""), case(*coded, else_=null())),
        else_=_hundredths(Score.score, postgres),
    )


def _covered(exam: Exam) -> Any:
    """student → class of the exam's classes (active enrollments), as ``_sheet`` reads them."""
    return (
        select(Enrollment.student_id.label("sid"), func.min(Enrollment.class_id).label("class_id"))
        .join(ExamClass, ExamClass.class_id == Enrollment.class_id)
        .where(
            ExamClass.exam_id == exam.id,
            Enrollment.is_active.is_(True),
            Enrollment.ended_on.is_(None),
        )
        .group_by(Enrollment.student_id)
        .cte("covered")
    )


class _Cells(Mapping[str, ranking.Result]):
    """A student's results decoded from the aggregated text on first use: a screen showing
    one class does not build a Decimal for every score of a province-wide exam."""

    __slots__ = ("_data", "_raw")

    def __init__(self, raw: str | None, numbers: dict[str, Decimal]) -> None:
        self._raw: tuple[str | None, dict[str, Decimal]] | None = (raw, numbers)
        self._data: dict[str, ranking.Result] = {}

    def _load(self) -> dict[str, ranking.Result]:
        if self._raw is not None:
            raw, numbers = self._raw
            self._raw = None
            for part in raw.split(_CELL_SEP) if raw else ():
                if _CODE_MARK in part:
                    subject, _, code = part.partition(_CODE_MARK)
                    self._data[subject] = CODE_FROM.get(code)
                else:
                    subject, _, text = part.partition("=")
                    number = numbers.get(text)
                    if number is None:
                        number = numbers[text] = Decimal(text)
                    self._data[subject] = number
        return self._data

    def __getitem__(self, key: str) -> ranking.Result:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        return repr(self._load())


@dataclass
class _Aggregate:
    """One paper over one class: sums in hundredths, as the stats query returns them."""

    entries: int = 0
    absent: int = 0
    exempt: int = 0
    cheating: int = 0
    counted: int = 0
    total: int = 0
    squares: int = 0
    low: int | None = None
    high: int | None = None
    passed: int = 0
    excellent: int = 0
    bins: list[int] = field(default_factory=lambda: [0] * _BINS)

    def add(self, other: _Aggregate) -> None:
        for name in (
            "entries",
            "absent",
            "exempt",
            "cheating",
            "counted",
            "total",
            "squares",
            "passed",
            "excellent",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        lows = [v for v in (self.low, other.low) if v is not None]
        highs = [v for v in (self.high, other.high) if v is not None]
        self.low = min(lows) if lows else None
        self.high = max(highs) if highs else None
        self.bins = [a + b for a, b in zip(self.bins, other.bins, strict=True)]

    def stats(
        self,
        students: int,
        edges: Sequence[tuple[Decimal, Decimal]],
        lines: ranking.SubjectLines,
        policy: ranking.ScorePolicy,
    ) -> ranking.SubjectStats:
        """``ranking.subject_stats`` of these sums: the same mean and rates (one division of
        the same exact sum); σ from n·Σx² − (Σx)², which is exact, where ``subject_stats``
        sums rounded squares: they agree far below display precision."""
        context = ranking._CONTEXT  # the domain's context, so the divisions round alike
        n = self.counted
        size = Decimal(n)
        total = Decimal(self.total).scaleb(-2, context=context)
        stdev = None
        if n:
            spread = Decimal(n * self.squares - self.total * self.total)
            stdev = context.sqrt(context.divide(spread, Decimal(n * n * 10_000)))
        return ranking.SubjectStats(
            entries=self.entries,
            counted=n,
            absent=self.absent,
            exempt=self.exempt,
            cheating=self.cheating,
            blank=students - self.entries,
            mean=context.divide(total, size) if n else None,
            stdev=stdev,
            maximum=None if self.high is None else Decimal(self.high).scaleb(-2, context=context),
            minimum=None if self.low is None else Decimal(self.low).scaleb(-2, context=context),
            pass_count=self.passed,
            excellent_count=self.excellent,
            pass_rate=context.divide(Decimal(self.passed), size) if n else None,
            excellent_rate=context.divide(Decimal(self.excellent), size) if n else None,
            lines=lines,
            distribution=tuple(
                ranking.Bin(low, high, count, upper_inclusive=i == _BINS - 1)
                for i, ((low, high), count) in enumerate(zip(edges, self.bins, strict=True))
            ),
            policy=policy,
        )


def _results_sql(
    session: Session,
    exam: Exam,
    policy: ranking.ScorePolicy,
    mode: ranking.RankMode,
) -> ExamResults:
    """``results`` computed by the database (PostgreSQL, SQLite ≥ 3.25); same figures."""
    # Building a StudentResult per student allocates a few hundred thousand objects at
    # province scale, none of them cyclic garbage: the cyclic collector's passes over the
    # growing heap cost more than the building itself, so it waits until the end.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _results_sql_jit_off(session, exam, policy, mode)
    finally:
        if collecting:
            gc.enable()


def _results_sql_jit_off(
    session: Session,
    exam: Exam,
    policy: ranking.ScorePolicy,
    mode: ranking.RankMode,
) -> ExamResults:
    if session.get_bind().dialect.name != "postgresql":
        return _results_sql_queries(session, exam, policy, mode)
    # PostgreSQL's JIT compiles these (their cost estimates are high) for longer than they
    # run: off for these two statements, then back as it was (set_config(…, true) is
    # transaction-local, like SET LOCAL).
    was = session.scalar(sql_text("SELECT current_setting('jit')"))
    session.execute(sql_text("SELECT set_config('jit', 'off', true)"))
    try:
        return _results_sql_queries(session, exam, policy, mode)
    finally:
        session.execute(sql_text("SELECT set_config('jit', :was, true)"), {"was": was})


def _results_sql_queries(
    session: Session,
    exam: Exam,
    policy: ranking.ScorePolicy,
    mode: ranking.RankMode,
) -> ExamResults:
    papers = list(exam.subjects)
    subjects = [p.subject_code for p in papers]
    full_marks = {p.subject_code: Decimal(p.full_mark) for p in papers}
    lines = {
        p.subject_code: ranking.SubjectLines(Decimal(p.pass_line), Decimal(p.excellent_line))
        for p in papers
    }
    if any(len(ranking.bin_edges(full)) != _BINS for full in full_marks.values()):
        raise ValueError("the SQL path assumes ranking.bin_edges gives ten bins")
    postgres = session.get_bind().dialect.name == "postgresql"
    counted = _counted_hundredths(policy, postgres)
    in_papers = Score.subject_code.in_(subjects) if subjects else literal(False)
    paper_counted = case((in_papers, counted), else_=null())
    # Bit i set: paper i has a counted value (the others are the total's ``excluded``).
    bit = (
        case(
            *[
                (Score.subject_code == s, literal_column(str(1 << i)))
                for i, s in enumerate(subjects)
            ],
            else_=literal_column("0"),
        )
        if subjects
        else literal_column("0")
    )
    has_code = and_(Score.code.is_not(None), Score.code != "")
    cell = case(
        (has_code, Score.subject_code + _CODE_MARK + Score.code),
        (Score.score.is_not(None), Score.subject_code + "=" + cast(Score.score, Text)),
        else_=null(),
    )
    cells = (
        func.string_agg(cell, literal(_CELL_SEP))
        if postgres
        else func.group_concat(cell, literal(_CELL_SEP))
    )
    # Each level is fenced with OFFSET 0 so that the database computes a cell's value once
    # instead of inlining the expression into every aggregate that reads it.
    scored = (
        select(
            Score.student_id.label("sid"),
            Score.class_id.label("class_id"),
            paper_counted.label("v"),
            bit.label("bit"),
            cell.label("cell"),
        )
        .where(Score.exam_id == exam.id)
        .offset(0)
        .subquery("scored")
    )
    v = scored.c.v
    cells = (
        func.string_agg(scored.c.cell, literal(_CELL_SEP))
        if postgres
        else func.group_concat(scored.c.cell, literal(_CELL_SEP))
    )
    per_student = (
        select(
            scored.c.sid,
            func.min(scored.c.class_id).label("score_class"),
            func.sum(v).label("total"),
            func.count(v).label("counted"),
            func.sum(case((v.is_not(None), scored.c.bit), else_=literal_column("0"))).label("mask"),
            cells.label("cells"),
        )
        .group_by(scored.c.sid)
        .cte("per_student")
    )
    covered = _covered(exam)
    p = per_student.c
    members = union_all(
        # The covered students (blank rows for those without scores) …
        select(covered.c.sid, covered.c.class_id, p.total, p.counted, p.mask, p.cells).select_from(
            covered.outerjoin(per_student, p.sid == covered.c.sid)
        ),
        # … and anyone else with a score row, in the class of their score rows.
        select(p.sid, p.score_class, p.total, p.counted, p.mask, p.cells).where(
            ~select(covered.c.sid).where(covered.c.sid == p.sid).exists()
        ),
    ).subquery("members")
    m = members.c
    complete = m.counted == len(subjects)
    rankable = and_(m.total.is_not(None), true() if policy.rank_incomplete else complete)
    ranked_first = case((rankable, 0), else_=1)  # the unranked sort (and rank) apart
    rank = func.rank if mode == ranking.COMPETITION else func.dense_rank
    grade_rank = rank().over(partition_by=ranked_first, order_by=m.total.desc())
    class_rank = rank().over(partition_by=(ranked_first, m.class_id), order_by=m.total.desc())
    query = select(
        m.sid,
        Student.name,
        Student.student_number,
        m.class_id,
        m.total,
        m.counted,
        m.mask,
        m.cells,
        ranked_first,
        class_rank,
        grade_rank,
    ).join(Student, Student.id == m.sid)

    context = ranking._CONTEXT
    numbers: dict[str, Decimal] = {}  # one Decimal per distinct score text
    excluded_by_mask: dict[int, tuple[str, ...]] = {}
    totals: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}  # (Σ, n) → (total, mean)
    rows: list[StudentResult] = []
    class_size: dict[int, int] = defaultdict(int)
    for (
        sid,
        name,
        number,
        class_id,
        total,
        n,
        mask,
        raw,
        unranked,
        c_rank,
        g_rank,
    ) in session.execute(query):
        mask = int(mask or 0)
        excluded = excluded_by_mask.get(mask)
        if excluded is None:
            excluded = excluded_by_mask[mask] = tuple(
                s for i, s in enumerate(subjects) if not mask & (1 << i)
            )
        n = int(n or 0)
        value = mean = None
        if total is not None:
            key = (int(total), n)
            found = totals.get(key)
            if found is None:
                value = Decimal(key[0]).scaleb(-2, context=context)
                found = totals[key] = (value, context.divide(value, Decimal(n)))
            value, mean = found
        rows.append(
            StudentResult(
                sid,
                name,
                number,
                class_id,
                _Cells(raw, numbers),
                ranking.StudentTotal(value, n, excluded, mean, policy),
                None if unranked else int(c_rank),
                None if unranked else int(g_rank),
            )
        )
        class_size[class_id] += 1
    rows.sort(key=lambda r: (r.grade_rank is None, r.grade_rank or 0, r.class_id, r.student_number))

    # Per class and paper. A student's class is the one ``_sheet`` gives them: their
    # enrollment's if covered, else the (lowest) class of their score rows.
    other = Score.__table__.alias("other")
    own_class = (
        select(func.min(other.c.class_id))
        .where(other.c.exam_id == exam.id, other.c.student_id == Score.student_id)
        .scalar_subquery()
    )
    paper = (  # the lines in hundredths, once per paper
        select(
            ExamSubject.subject_code.label("subject"),
            _hundredths(ExamSubject.pass_line, postgres).label("pass_line"),
            _hundredths(ExamSubject.excellent_line, postgres).label("excellent_line"),
            _hundredths(ExamSubject.full_mark, postgres).label("full_mark"),
        )
        .where(ExamSubject.exam_id == exam.id)
        .offset(0)
        .subquery("paper")
    )
    known = Score.code.in_(list(CODE_FROM))
    number_cell = and_(or_(Score.code.is_(None), Score.code == ""), Score.score.is_not(None))
    cells_of_papers = (
        select(
            func.coalesce(covered.c.class_id, own_class).label("class_id"),
            Score.subject_code.label("subject"),
            # What the cell is: a code, "n" a number, NULL nothing (or an unknown code).
            case((known, Score.code), (number_cell, literal("n")), else_=null()).label("kind"),
            counted.label("v"),
            paper.c.pass_line,
            paper.c.excellent_line,
            paper.c.full_mark,
        )
        .join(paper, paper.c.subject == Score.subject_code)
        .outerjoin(covered, covered.c.sid == Score.student_id)
        .where(Score.exam_id == exam.id)
        .offset(0)
        .subquery("cells_of_papers")
    )
    c = cells_of_papers.c
    step = c.v * _BINS // c.full_mark  # integer division: the floor for v >= 0
    binned = (
        select(
            c.class_id,
            c.subject,
            c.kind,
            c.v,
            case((c.v < 0, null()), (step >= _BINS - 1, _BINS - 1), else_=step).label("bin"),
            case((c.v >= c.pass_line, 1), else_=0).label("passed"),
            case((c.v >= c.excellent_line, 1), else_=0).label("excellent"),
        )
        .offset(0)
        .subquery("binned")
    )
    b = binned.c

    def tally(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    stats_query = select(
        b.class_id,
        b.subject,
        func.count(b.kind),
        *[tally(b.kind == CODE_OF[code]) for code in ranking.ScoreCode],
        func.count(b.v),
        func.sum(b.v),
        func.sum(b.v * b.v),
        func.min(b.v),
        func.max(b.v),
        func.sum(b.passed),
        func.sum(b.excellent),
        *[tally(b.bin == i) for i in range(_BINS)],
    ).group_by(b.class_id, b.subject)
    order = list(ranking.ScoreCode)
    per_class: dict[int, dict[str, _Aggregate]] = defaultdict(dict)
    for row in session.execute(stats_query):
        class_id, subject, entries = row[0], row[1], int(row[2] or 0)
        codes = {code: int(row[3 + i] or 0) for i, code in enumerate(order)}
        k = 3 + len(order)
        per_class[class_id][subject] = _Aggregate(
            entries=entries,
            absent=codes[ranking.ScoreCode.ABSENT],
            exempt=codes[ranking.ScoreCode.EXEMPT],
            cheating=codes[ranking.ScoreCode.CHEATING],
            counted=int(row[k] or 0),
            total=int(row[k + 1] or 0),
            squares=int(row[k + 2] or 0),
            low=None if row[k + 3] is None else int(row[k + 3]),
            high=None if row[k + 4] is None else int(row[k + 4]),
            passed=int(row[k + 5] or 0),
            excellent=int(row[k + 6] or 0),
            bins=[int(v or 0) for v in row[k + 7 : k + 7 + _BINS]],
        )
    class_stats: dict[int, dict[str, ranking.SubjectStats]] = {}
    grade_stats: dict[str, ranking.SubjectStats] = {}
    for subject in subjects:
        lows = ranking.bin_edges(full_marks[subject])
        edges = list(zip(lows, [*lows[1:], full_marks[subject]], strict=True))
        grade = _Aggregate()
        for class_id, size in class_size.items():
            found = per_class.get(class_id, {}).get(subject, _Aggregate())
            grade.add(found)
            class_stats.setdefault(class_id, {})[subject] = found.stats(
                size, edges, lines[subject], policy
            )
        grade_stats[subject] = grade.stats(len(rows), edges, lines[subject], policy)
    class_names = dict(
        session.execute(
            select(SchoolClass.id, SchoolClass.name).where(
                SchoolClass.id.in_(set(class_size) or {0})
            )
        ).all()
    )
    return ExamResults(
        exam.id,
        subjects,
        full_marks,
        rows,
        class_names,  # type: ignore[arg-type]
        class_stats,
        grade_stats,
        mode,
        policy,
        computed_in="sql",
    )


# --- the parent portal -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChildSubject:
    subject_code: str
    subject_zh: str
    subject_en: str
    full_mark: Decimal
    score: str | None  # "92.5" or a code (缺考); None when the policy hides scores
    band: str | None  # A–D (优秀 …) where shown; None for codes and blanks
    band_zh: str | None
    band_en: str | None
    class_average: Decimal | None  # rounded to 1 place


@dataclass(frozen=True)
class ChildExam:
    exam_id: int
    name: str
    kind: str
    exam_date: date
    subjects: tuple[ChildSubject, ...]
    total: Decimal | None  # only when scores are shown
    class_rank: int | None  # only when ranks are allowed
    grade_rank: int | None


def student_results(
    session: Session,
    student_id: int,
    *,
    visibility: ranking.ParentVisibility = ranking.DEFAULT_PARENT_VISIBILITY,
    policy: ranking.ScorePolicy = ranking.DEFAULT_POLICY,
    mode: ranking.RankMode = "competition",
) -> list[ChildExam]:
    """One child's published results, newest first: per paper the score or band as
    ``visibility`` allows, the class average, ranks only where allowed. Nothing about any
    other student is returned (averages and ranks are computed, not listed)."""
    exams = session.scalars(
        select(Exam)
        .join(Score, Score.exam_id == Exam.id)
        .where(Score.student_id == student_id, Exam.state == PUBLISHED)
        .distinct()
        .order_by(Exam.exam_date.desc(), Exam.id.desc())
    ).all()
    names = code_names(session, "subject")
    found: list[ChildExam] = []
    for exam in exams:
        view = visibility(exam.grade_code, KIND_TYPES.get(exam.kind, exam.kind))
        mine = {
            row.subject_code: row
            for row in session.scalars(
                select(Score).where(Score.exam_id == exam.id, Score.student_id == student_id)
            )
        }
        class_id = next(iter(mine.values())).class_id
        subjects = []
        for paper in exam.subjects:
            code = paper.subject_code
            full = Decimal(paper.full_mark)
            row = mine.get(code)
            result = stored_result(row.score, row.code) if row else None
            column = class_results(session, exam, class_id, code)
            stats = ranking.subject_stats(column.values(), full, policy=policy)
            band = BAND_SCALE.band(result, full) if isinstance(result, Decimal) else None
            zh, en = names.get(code, (code, code))
            shown: str | None = None
            if isinstance(result, ranking.ScoreCode):
                shown = result.value  # a code is not a score: always shown
            elif view.score and result is not None:
                shown = result_text(result)
            is_band = isinstance(band, ranking.Band) and view.band
            subjects.append(
                ChildSubject(
                    code,
                    zh,
                    en,
                    full,
                    shown,
                    band.code if is_band else None,  # type: ignore[union-attr]
                    band.zh if is_band else None,  # type: ignore[union-attr]
                    band.en if is_band else None,  # type: ignore[union-attr]
                    ranking.round_half_up(stats.mean, 1) if stats.mean is not None else None,
                )
            )
        total = class_rank = grade_rank = None
        if view.score or view.rank:
            done = results(session, exam, policy, mode=mode)
            me = next((r for r in done.students if r.student_id == student_id), None)
            if me is not None:
                total = me.total.total if view.score else None
                if view.rank:
                    class_rank, grade_rank = me.class_rank, me.grade_rank
        found.append(
            ChildExam(
                exam.id,
                exam.name,
                exam.kind,
                exam.exam_date,
                tuple(subjects),
                total,
                class_rank,
                grade_rank,
            )
        )
    return found


# --- Excel import ----------------------------------------------------------------------------


def _norm(text: Any) -> str:
    return to_halfwidth(str(text or "")).strip().lower().replace(" ", "")


def template_workbook(session: Session, exam: Exam, *, with_scores: bool = True) -> bytes:
    """The exam's score sheet: 学籍号 / 姓名 / 班级 then one column per paper (zh names), a
    row per covered student (current scores filled in), and a 说明 sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    names = code_names(session, "subject")
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    headers = [NUMBER_HEADERS[0], NAME_HEADERS[0], CLASS_HEADERS[0]] + [
        subject_name(names, p.subject_code) for p in exam.subjects
    ]
    for index, header in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=index, value=header)
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(index)].width = 22 if index == 1 else 12
        sheet.column_dimensions[get_column_letter(index)].number_format = "@"
    current: dict[tuple[int, str], ranking.Result] = {}
    if with_scores:
        for sid, subject, score, code in session.execute(
            select(Score.student_id, Score.subject_code, Score.score, Score.code).where(
                Score.exam_id == exam.id
            )
        ):
            current[(sid, subject)] = stored_result(score, code)
    for number, (student, klass) in enumerate(covered_students(session, exam), start=2):
        sheet.cell(row=number, column=1, value=student.student_number)
        sheet.cell(row=number, column=2, value=student.name)
        sheet.cell(row=number, column=3, value=klass.name)
        for offset, paper in enumerate(exam.subjects, start=4):
            text = result_text(current.get((student.id, paper.subject_code)))
            if text:
                sheet.cell(row=number, column=offset, value=text)
    sheet.freeze_panes = "D2"
    notes = book.create_sheet("说明")
    notes.append(["考试", exam.name])
    notes.append(["科目", "满分", "及格线", "优秀线"])
    for paper in exam.subjects:
        notes.append(
            [
                subject_name(names, paper.subject_code),
                ranking._plain(Decimal(paper.full_mark)),
                ranking._plain(Decimal(paper.pass_line)),
                ranking._plain(Decimal(paper.excellent_line)),
            ]
        )
    notes.append([])
    notes.append(
        ["填写分数（最多1位小数），或填写缺考、免考、作弊；空白表示未录入（会清除已录入的成绩）"]
    )
    notes.append(["学籍号确定学生；姓名、班级两列只用于核对"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass
class ScoreImport:
    report: ImportReport
    cells: int = 0  # non-blank cells read
    saved: int = 0
    deleted: int = 0
    unchanged: int = 0


def _read_sheet(data: bytes) -> tuple[list[tuple[int, tuple[Any, ...]]], Problem | None]:
    from openpyxl import load_workbook

    if not data:
        return [], Problem(Violation("file.empty", "file", {}))
    if data[:4] != b"PK\x03\x04":
        return [], Problem(Violation("import.file_type", "file", {}))
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()
            rows = [
                (number, tuple(values))
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
            ]
        finally:
            book.close()
    except Exception:  # openpyxl and zipfile raise many kinds on a damaged workbook
        return [], Problem(Violation("file.corrupt", "file", {}))
    return rows, None


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() or None


def import_scores(
    session: Session,
    scope: Scope,
    exam: Exam,
    data: bytes,
    *,
    dry_run: bool,
    username: str = "",
    reason: str | None = None,
    filename: str = "scores.xlsx",
    locale: str = ZH_CN,
) -> ScoreImport:
    """Check (``dry_run``) or import one exam's score sheet. Problems name the Excel row and
    column: unknown 学籍号 (not in the exam's classes), a name that does not match, a bad
    cell, an unknown paper column, a class/paper the user may not enter. A commit with any
    problem raises ``ImportRejected`` and writes nothing; a clean commit writes every cell
    of the file (blank = not entered) in the caller's transaction."""
    school = session.get(School, exam.school_id)
    report = ImportReport(filename, school.code if school else "", locale=locale)
    outcome = ScoreImport(report)
    rows, broken = _read_sheet(data)
    if broken is not None:
        report.problems.append(broken)
        report.readable = False
        return _finish(outcome, dry_run)
    names = code_names(session, "subject")
    by_header: dict[str, str] = {}
    for paper in exam.subjects:
        code = paper.subject_code
        zh, en = names.get(code, (code, code))
        for alias in (zh, en, code):
            by_header[_norm(alias)] = code
    header_at = next(
        (
            (number, values)
            for number, values in rows[:10]
            if any(_norm(v) in map(_norm, NUMBER_HEADERS) for v in values)
        ),
        None,
    )
    if header_at is None:
        report.problems.append(Problem(Violation("import.no_header", "file", {})))
        report.readable = False
        return _finish(outcome, dry_run)
    header_row, header_values = header_at
    number_col = name_col = None
    paper_cols: dict[int, str] = {}
    for index, raw in enumerate(header_values):
        key = _norm(raw)
        header = "" if raw is None else str(raw).strip()
        if not key or key == _norm(ERRORS_HEADER):
            continue
        if key in map(_norm, NUMBER_HEADERS):
            number_col = index
        elif key in map(_norm, NAME_HEADERS):
            name_col = index
        elif key in map(_norm, CLASS_HEADERS):
            continue
        elif key in by_header and by_header[key] not in paper_cols.values():
            paper_cols[index] = by_header[key]
        else:
            report.problems.append(
                Problem(
                    Violation(
                        "score.unknown_subject", "header", {"column": index + 1, "header": header}
                    ),
                    column=index + 1,
                    header=header,
                )
            )
    assert number_col is not None
    members = {s.student_number: (s, c) for s, c in covered_students(session, exam)}
    papers = {p.subject_code: p for p in exam.subjects}
    headers = {i: "" if v is None else str(v).strip() for i, v in enumerate(header_values)}
    seen: dict[str, int] = {}
    ready: list[tuple[int, int, str, ranking.Result]] = []
    allowed: dict[tuple[int, str], list[Violation]] = {}
    classes: dict[int, SchoolClass] = {}
    for number, values in rows:
        if number <= header_row or all(v is None or str(v).strip() == "" for v in values):
            continue
        report.rows += 1

        def cell(index: int | None, values: tuple[Any, ...] = values) -> Any:
            return values[index] if index is not None and index < len(values) else None

        def problem(violation: Violation, index: int, row: int = number) -> None:
            report.problems.append(Problem(violation, row, index + 1, headers.get(index, "")))

        student_number = to_halfwidth(_cell_text(cell(number_col)) or "").strip().upper()
        found = members.get(student_number)
        if found is None:
            problem(
                Violation("score.unknown_student", "student_number", {"value": student_number}),
                number_col,
            )
            continue
        if student_number in seen:
            problem(
                Violation(
                    "score.duplicate_row",
                    "student_number",
                    {"value": student_number, "first": seen[student_number]},
                ),
                number_col,
            )
            continue
        seen[student_number] = number
        student, klass = found
        classes[klass.id] = klass
        written = _cell_text(cell(name_col))
        if name_col is not None and written and _norm(written) != _norm(student.name):
            problem(
                Violation(
                    "score.name_mismatch",
                    "name",
                    {"number": student_number, "expected": student.name, "value": written},
                ),
                name_col,
            )
        for index, subject in paper_cols.items():
            text = _cell_text(cell(index))
            result, violations = ranking.validate_score(
                text, Decimal(papers[subject].full_mark), "score"
            )
            for v in violations:
                problem(_cell_violation(v, student, names, subject), index)
            if violations:
                continue
            if result is not None:
                outcome.cells += 1
            pair = (int(klass.id), subject)
            if pair not in allowed:
                allowed[pair] = _entry_problems(
                    session, scope, exam, klass, subject, username, reason, names
                )
                for v in allowed[pair]:
                    problem(v, index)
            if not allowed[pair]:
                ready.append((student.id, klass.id, subject, result))
    if dry_run or report.problems:
        return _finish(outcome, dry_run)
    label = f"{IMPORT_REASON} {filename}"
    set_audit_reason(session, f"{label}：{reason.strip()}" if reason and reason.strip() else label)
    done = _write(session, exam, ready, username)
    outcome.saved, outcome.deleted, outcome.unchanged = done.saved, done.deleted, done.unchanged
    return outcome


def _finish(outcome: ScoreImport, dry_run: bool) -> ScoreImport:
    if not dry_run and not outcome.report.ok:
        raise ImportRejected(outcome.report)
    return outcome


def error_workbook(report: ImportReport, data: bytes) -> bytes:
    """The uploaded sheet as it was, every bad cell filled red with a comment carrying its
    message, and a last column 错误说明 per row (the file can be fixed and imported again)."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    rows, _ = _read_sheet(data)
    fill = PatternFill("solid", fgColor=ERROR_FILL)
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_TITLE
    width = 0
    header_row = 1
    for number, values in rows:
        kept = [v for v in values]
        while kept and (kept[-1] is None or str(kept[-1]).strip() == ""):
            kept.pop()
        if any(_norm(v) == _norm(ERRORS_HEADER) for v in kept):
            cut = next(i for i, v in enumerate(kept) if _norm(v) == _norm(ERRORS_HEADER))
            kept = kept[:cut]
            header_row = number
        elif header_row == 1 and any(_norm(v) in map(_norm, NUMBER_HEADERS) for v in kept):
            header_row = number
        for index, value in enumerate(kept, start=1):
            if value is not None and value != "":
                sheet.cell(row=number, column=index, value=value)
        width = max(width, len(kept))
    error_column = width + 1
    title = sheet.cell(row=header_row, column=error_column, value=ERRORS_HEADER)
    title.font = Font(bold=True, color="FFC00000")
    notes: dict[tuple[int, int], list[str]] = defaultdict(list)
    summaries: dict[int, list[str]] = defaultdict(list)
    for p in report.problems:
        message = p.message(report.locale)
        row = p.row if p.row is not None else header_row
        summaries[row].append(message)
        if p.column is not None:
            notes[(row, p.column)].append(message)
    for (row, column), messages in notes.items():
        target = sheet.cell(row=row, column=column)
        target.fill = fill
        target.comment = Comment("\n".join(messages), "XueJi")
    for row, messages in summaries.items():
        target = sheet.cell(row=row, column=error_column)
        if row == header_row:
            target.comment = Comment("\n".join(messages), "XueJi")
            target.fill = fill
        else:
            target.value = "；".join(messages)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- listing ---------------------------------------------------------------------------------


def exams_for(
    session: Session, scope: Scope, *, term_id: int | None = None, limit: int = 200
) -> list[Exam]:
    """The exams of the schools in scope (a teacher: those covering one of their classes),
    newest first."""
    from ..security.scope import criterion_for

    query = select(Exam).join(School, School.id == Exam.school_id)
    if scope.kind == "classes":
        query = query.where(
            Exam.id.in_(select(ExamClass.exam_id).where(ExamClass.class_id.in_(scope.class_ids)))
        )
    elif scope.kind == "children" or not scope.personal:
        return []
    else:
        query = query.where(criterion_for(School, scope))
    if term_id is not None:
        query = query.where(Exam.term_id == term_id)
    return list(session.scalars(query.order_by(Exam.exam_date.desc(), Exam.id.desc()).limit(limit)))


def exam_in_scope(session: Session, scope: Scope, exam_id: int) -> Exam | None:
    exam = session.get(Exam, exam_id)
    if exam is None:
        return None
    if scope.kind == "classes":
        covered = session.scalar(
            select(ExamClass.id).where(
                ExamClass.exam_id == exam.id, ExamClass.class_id.in_(scope.class_ids)
            )
        )
        return exam if covered is not None else None
    if scope.kind in ("national", "region", "school") and scope.personal:
        from ..security.scope import criterion_for

        visible = session.scalar(
            select(School.id).where(School.id == exam.school_id, criterion_for(School, scope))
        )
        return exam if visible is not None else None
    return None


# --- the class score analysis (PDF) ----------------------------------------------------------

_PDF_TEXT: dict[str, dict[str, Any]] = {
    ZH_CN: {
        "title": "{school} {klass} {exam} 成绩分析",
        "meta": "考试日期：{date}　参考学生：{n}人　名次：{mode}",
        "competition": "并列占位（1, 2, 2, 4）",
        "dense": "并列不占位（1, 2, 2, 3）",
        "subjects": "学科成绩",
        "head": [
            "学科",
            "满分",
            "人数",
            "平均分",
            "标准差",
            "最高分",
            "最低分",
            "及格率",
            "优秀率",
        ],
        "distribution": "分数段分布（人数）",
        "ranks": "总分与名次",
        "rank_head": ["班级名次", "年级名次", "学号", "姓名", "总分"],
        "grade_mean": "年级平均分",
    },
    EN: {
        "title": "{school} {klass} {exam}: score analysis",
        "meta": "Exam date: {date}   Students: {n}   Ranks: {mode}",
        "competition": "competition (1, 2, 2, 4)",
        "dense": "dense (1, 2, 2, 3)",
        "subjects": "Subjects",
        "head": ["Subject", "Full", "Counted", "Mean", "SD", "Max", "Min", "Pass", "Excellent"],
        "distribution": "Score distribution (students)",
        "ranks": "Totals and ranks",
        "rank_head": ["Class rank", "Grade rank", "Number", "Name", "Total"],
        "grade_mean": "Grade mean",
    },
}


def _fmt(value: Decimal | None, places: int = 1) -> str:
    return "—" if value is None else ranking._plain(ranking.round_half_up(value, places))


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{ranking._plain(ranking.round_half_up(value * 100, 1))}%"


def class_analysis_pdf(
    session: Session,
    exam: Exam,
    klass: SchoolClass,
    *,
    settings: ExamSettings = ExamSettings(),
    locale: str = ZH_CN,
) -> bytes:
    """A teacher's class score analysis: per paper mean, σ, max/min, pass and excellent
    rates (with the grade mean beside it), the score distribution, and the class's totals
    with class and grade ranks; the tie mode and the 缺考 policy are stated."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from .pdf import cjk_font, styles

    loc = resolve_locale(locale)
    text = _PDF_TEXT[loc]
    font = cjk_font()
    style = styles()
    names = code_names(session, "subject")
    done = results(
        session, exam, settings.policy, mode=settings.rank_mode, sql_rows=settings.sql_rank_rows
    )
    mine = done.for_class(klass.id)
    school = session.get(School, exam.school_id)

    def table(rows: list[list[str]], widths: list[float] | None = None) -> Table:
        grid_table = Table(rows, colWidths=widths, repeatRows=1)
        grid_table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
                    ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ]
            )
        )
        return grid_table

    story: list[Any] = [
        Paragraph(
            text["title"].format(
                school=school.name if school else "", klass=klass.name, exam=exam.name
            ),
            style["title"],
        ),
        Paragraph(
            text["meta"].format(date=exam.exam_date.isoformat(), n=len(mine), mode=text[done.mode]),
            style["body"],
        ),
        Paragraph(settings.policy.describe(loc), style["small"]),
        Paragraph(text["subjects"], style["heading"]),
    ]
    stats_rows = [[*text["head"], text["grade_mean"]]]
    for subject in done.subjects:
        stats = done.class_stats.get(klass.id, {}).get(subject)
        grade = done.grade_stats[subject]
        if stats is None:
            stats = ranking.subject_stats([], done.full_marks[subject], policy=done.policy)
        stats_rows.append(
            [
                subject_name(names, subject, loc),
                ranking._plain(done.full_marks[subject]),
                str(stats.counted),
                _fmt(stats.mean, 2),
                _fmt(stats.stdev, 2),
                _fmt(stats.maximum),
                _fmt(stats.minimum),
                _pct(stats.pass_rate),
                _pct(stats.excellent_rate),
                _fmt(grade.mean, 2),
            ]
        )
    story.append(table(stats_rows))
    story.append(Paragraph(text["distribution"], style["heading"]))
    for subject in done.subjects:
        stats = done.class_stats.get(klass.id, {}).get(subject)
        if stats is None:
            continue
        bins = stats.distribution
        header = [subject_name(names, subject, loc)] + [
            f"{ranking._plain(b.lower)}–{ranking._plain(b.upper)}" for b in bins
        ]
        story.append(table([header, [""] + [str(b.count) for b in bins]]))
        story.append(Spacer(1, 2 * mm))
    story.append(Paragraph(text["ranks"], style["heading"]))
    rank_rows = [text["rank_head"] + [subject_name(names, s, loc) for s in done.subjects]]
    for row in sorted(
        mine, key=lambda r: (r.class_rank is None, r.class_rank or 0, r.student_number)
    ):
        rank_rows.append(
            [
                str(row.class_rank or "—"),
                str(row.grade_rank or "—"),
                row.student_number,
                row.name,
                _fmt(row.total.total),
                *[result_text(row.results.get(s), loc) or "—" for s in done.subjects],
            ]
        )
    story.append(table(rank_rows))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"{klass.name} {exam.name}",
    )
    doc.build(story)
    return out.getvalue()
