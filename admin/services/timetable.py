"""课程表 and 任课安排 on the database.

Teaching assignments: which teacher teaches which subject of a class (subject NULL = 班主任,
the class teacher). A row with ``term_id`` NULL holds for the whole school year of the class
(classes are per school year); a row with a term holds for that term only. The table's unique
key is (teacher, class, subject) without the term, so assigning the same teacher again for the
other term of the year widens the row to the whole year instead of adding a second one.

Timetables: a class's week for a term as a weekday × period grid; saving replaces the class's
week all or nothing after the clash checks of admin/domain/timetable.py over the whole
school's term (this class's new cells and every other class's stored slots).
The caller commits. No Flask here: views, CLI and the parent portal share these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..domain import timetable as rules
from ..domain.catalogs.academics import SUBJECTS_BY_STAGE
from ..domain.consistency import grade_by_code
from ..domain.messages import RuleError, Violation
from ..models import (
    CodeItem,
    SchoolClass,
    SchoolYear,
    TeachingAssignment,
    Term,
    TimetableSlot,
    UserScope,
)
from ..security.scope import Scope, criterion_for, school_in_scope

EDITING_ROLES = frozenset({"SchoolRegistrar", "Admin"})
TEACHER_ROLE = "Teacher"
STAGE_NAMES: Mapping[str, tuple[str, str]] = {
    "primary": ("小学", "primary school"),
    "junior": ("初中", "junior secondary school"),
    "senior": ("高中", "senior secondary school"),
}
CLASS_TEACHER = ("班主任", "class teacher")
ROOM_MAX, COMBINED_MAX = 40, 20  # the column widths of timetable_slot


# --- settings and terms ----------------------------------------------------------------------


@dataclass(frozen=True)
class TimetableSettings:
    periods: int = 8
    saturday: bool = False
    shared_rooms: tuple[str, ...] = ()  # 操场, 体育馆: several classes at once

    @property
    def weekdays(self) -> tuple[int, ...]:
        return (1, 2, 3, 4, 5, 6) if self.saturday else (1, 2, 3, 4, 5)


def settings_from_config(config: Mapping[str, Any]) -> TimetableSettings:
    """XUEJI_TIMETABLE_PERIODS, XUEJI_TIMETABLE_SATURDAY, XUEJI_TIMETABLE_SHARED_ROOMS."""
    rooms = str(config.get("XUEJI_TIMETABLE_SHARED_ROOMS") or "")
    return TimetableSettings(
        periods=max(1, int(config.get("XUEJI_TIMETABLE_PERIODS", 8))),
        saturday=bool(config.get("XUEJI_TIMETABLE_SATURDAY", False)),
        shared_rooms=tuple(r.strip() for r in rooms.replace("，", ",").split(",") if r.strip()),
    )


def current_term(session: Session, school_year: SchoolYear, today: date) -> Term | None:
    """The term running today; between terms (winter break) the next one; after the last
    term the last one."""
    terms = sorted(school_year.terms, key=lambda t: t.number)
    for term in terms:
        if term.start_date <= today <= term.end_date:
            return term
    upcoming = [t for t in terms if t.start_date > today]
    if upcoming:
        return upcoming[0]
    return terms[-1] if terms else None


# --- people, subjects, classes --------------------------------------------------------------


def _user_model() -> Any:
    from flask_appbuilder.security.sqla.models import User

    return User


def teacher_label(user: Any) -> str:
    """A teacher as shown and as compared in clash checks: the name plus the username, which
    is unique (two teachers may share a name)."""
    name = " ".join(p for p in (user.first_name, user.last_name) if p and p != TEACHER_ROLE)
    return f"{name} ({user.username})" if name and name != user.username else user.username


def _is_teacher(user: Any) -> bool:
    return any(role.name == TEACHER_ROLE for role in user.roles)


def teachers_of_school(session: Session, school_id: int) -> list[tuple[int, str]]:
    """(user id, label) of the active Teacher accounts whose scope is this school."""
    from flask_appbuilder.security.sqla.models import Role, User, assoc_user_role

    users = session.scalars(
        select(User)
        .join(UserScope, UserScope.user_id == User.id)
        .join(assoc_user_role, assoc_user_role.c.user_id == User.id)
        .join(Role, Role.id == assoc_user_role.c.role_id)
        .where(UserScope.school_id == school_id, Role.name == TEACHER_ROLE, User.active.is_(True))
        .order_by(User.username)
    ).unique()
    return [(u.id, teacher_label(u)) for u in users]


def subject_names(session: Session) -> dict[str, tuple[str, str]]:
    """subject code → (Chinese, English) name, from the code set."""
    rows = session.execute(
        select(CodeItem.code, CodeItem.name_zh, CodeItem.name_en)
        .where(CodeItem.code_set == "subject")
        .order_by(CodeItem.sort_order)
    )
    return {code: (zh, en) for code, zh, en in rows}


def class_stage(klass: SchoolClass) -> str | None:
    grade = grade_by_code(klass.grade_code or "")
    return grade.stage if grade else None


def stage_subjects(klass: SchoolClass) -> tuple[str, ...]:
    """The subjects the class's stage teaches (SUBJECTS_BY_STAGE)."""
    stage = class_stage(klass)
    return SUBJECTS_BY_STAGE.get(stage, ()) if stage else ()


def _subject_params(code: str | None, names: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    if code is None:
        zh, en = CLASS_TEACHER
    else:
        zh, en = names.get(code, (code, code))
    return {"subject": code or "", "subject_zh": zh, "subject_en": en}


def _stage_params(klass: SchoolClass) -> dict[str, str]:
    zh, en = STAGE_NAMES.get(class_stage(klass) or "", ("", ""))
    return {"stage_zh": zh, "stage_en": en}


def may_edit(session: Session, scope: Scope, klass: SchoolClass) -> bool:
    """The registrar edits the classes of the school (Admin: any class)."""
    return scope.role in EDITING_ROLES and school_in_scope(session, scope, klass.school_id)


def may_view(session: Session, scope: Scope, klass: SchoolClass) -> bool:
    visible = select(SchoolClass.id).where(
        SchoolClass.id == klass.id, criterion_for(SchoolClass, scope)
    )
    return scope.personal and session.execute(visible).first() is not None


def classes_for(session: Session, scope: Scope, year_id: int) -> Sequence[SchoolClass]:
    """The classes this user may see in a school year (a teacher: their own)."""
    return session.scalars(
        select(SchoolClass)
        .where(SchoolClass.school_year_id == year_id, criterion_for(SchoolClass, scope))
        .order_by(SchoolClass.school_id, SchoolClass.grade_code, SchoolClass.number)
        .limit(500)
    ).all()


# --- teaching assignments --------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentRow:
    id: int
    class_id: int
    class_name: str
    grade_code: str
    subject_code: str | None  # None = 班主任
    subject_zh: str
    subject_en: str
    teacher_id: int
    teacher: str
    whole_year: bool


def _covers(term: Term) -> Any:
    return or_(TeachingAssignment.term_id.is_(None), TeachingAssignment.term_id == term.id)


def list_assignments(
    session: Session, scope: Scope, term: Term, school_id: int
) -> list[AssignmentRow]:
    """The school's assignments holding in the term, by class; a teacher sees those of their
    own classes."""
    User = _user_model()
    query = (
        select(TeachingAssignment, SchoolClass, User)
        .join(SchoolClass, SchoolClass.id == TeachingAssignment.class_id)
        .join(User, User.id == TeachingAssignment.user_id)
        .where(
            SchoolClass.school_id == school_id,
            SchoolClass.school_year_id == term.school_year_id,
            criterion_for(SchoolClass, scope),
            _covers(term),
        )
        .order_by(SchoolClass.grade_code, SchoolClass.number, TeachingAssignment.id)
    )
    if not scope.personal:
        return []
    names = subject_names(session)
    rows = []
    for assignment, klass, user in session.execute(query).all():
        subject = _subject_params(assignment.subject_code, names)
        rows.append(
            AssignmentRow(
                id=assignment.id,
                class_id=klass.id,
                class_name=klass.name,
                grade_code=klass.grade_code,
                subject_code=assignment.subject_code,
                subject_zh=subject["subject_zh"],
                subject_en=subject["subject_en"],
                teacher_id=user.id,
                teacher=teacher_label(user),
                whole_year=assignment.term_id is None,
            )
        )
    # 班主任 first within each class, then subjects in code-set order
    order = {code: i for i, code in enumerate(names)}
    rows.sort(key=lambda r: (r.grade_code, r.class_name, order.get(r.subject_code or "", -1)))
    return rows


def assign(
    session: Session,
    scope: Scope,
    klass: SchoolClass,
    subject_code: str | None,
    teacher_id: int,
    term: Term,
    *,
    whole_year: bool = True,
) -> TeachingAssignment:
    """Make a teacher the class teacher (subject None) or a subject teacher of the class.
    Refused: not the registrar, a term of another year, a subject the stage does not teach, a
    teacher of another school, the same assignment twice, a second teacher for the same
    subject (or a second 班主任) in the term."""
    where = "teaching_assignment"
    if not may_edit(session, scope, klass):
        raise RuleError([Violation("teaching.not_registrar", where, {})])
    subject_code = (subject_code or "").strip() or None
    names = subject_names(session)
    params = {"class_name": klass.name, **_subject_params(subject_code, names)}
    problems: list[Violation] = []
    if term.school_year_id != klass.school_year_id:
        problems.append(Violation("timetable.term_of_other_year", "term", {}))
    if subject_code is not None:
        if subject_code not in names:
            problems.append(Violation("code.unknown", "subject", {"value": subject_code}))
        elif subject_code not in stage_subjects(klass):
            problems.append(
                Violation(
                    "teaching.subject_not_taught", "subject", {**params, **_stage_params(klass)}
                )
            )
    user = session.get(_user_model(), teacher_id)
    if user is None or not _is_teacher(user):
        problems.append(Violation("teaching.teacher_unknown", "teacher", {"value": teacher_id}))
    else:
        params["teacher"] = teacher_label(user)
        home = session.get(UserScope, user.id)
        if home is None or home.school_id != klass.school_id:
            problems.append(Violation("teaching.teacher_other_school", "teacher", params))
    if problems:
        raise RuleError(problems)
    same_subject = (
        TeachingAssignment.subject_code.is_(None)
        if subject_code is None
        else TeachingAssignment.subject_code == subject_code
    )
    existing = session.scalars(
        select(TeachingAssignment).where(TeachingAssignment.class_id == klass.id, same_subject)
    ).all()
    for row in existing:
        overlaps = whole_year or row.term_id is None or row.term_id == term.id
        other_term = row.term_id is not None and row.term_id != term.id
        if not overlaps or (row.user_id == teacher_id and other_term):
            continue  # another term of the year (the same teacher's is widened below)
        if row.user_id == teacher_id:
            raise RuleError([Violation("teaching.duplicate", where, params)])
        other = session.get(_user_model(), row.user_id)
        taken = {**params, "teacher": teacher_label(other) if other else str(row.user_id)}
        raise RuleError([Violation("teaching.taken", where, taken)])
    mine = next((r for r in existing if r.user_id == teacher_id), None)
    if mine is not None:
        # Same teacher, same subject, the other term: one row for the whole year (the unique
        # key has no term).
        mine.term_id = None
        session.flush()
        return mine
    row = TeachingAssignment(
        user_id=teacher_id,
        class_id=klass.id,
        subject_code=subject_code,
        term_id=None if whole_year else term.id,
    )
    session.add(row)
    session.flush()
    return row


def unassign(session: Session, scope: Scope, assignment_id: int) -> None:
    """Remove an assignment (the teacher no longer teaches the class this year)."""
    row = session.get(TeachingAssignment, assignment_id)
    klass = session.get(SchoolClass, row.class_id) if row is not None else None
    if row is None or klass is None or not may_view(session, scope, klass):
        raise RuleError([Violation("teaching.not_found", "teaching_assignment", {})])
    if not may_edit(session, scope, klass):
        raise RuleError([Violation("teaching.not_registrar", "teaching_assignment", {})])
    session.delete(row)  # through the ORM: the audit log records the removal
    session.flush()


# --- timetables ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One lesson as entered: subject code, teacher user id, room, 合班 key."""

    weekday: int
    period: int
    subject_code: str | None
    teacher_id: int | None = None
    room: str | None = None
    combined: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.subject_code or self.teacher_id or self.room or self.combined)


@dataclass(frozen=True)
class Lesson:
    weekday: int
    period: int
    class_id: int
    class_name: str
    subject_code: str
    subject_zh: str
    subject_en: str
    teacher_id: int | None
    teacher: str
    room: str
    combined: str


@dataclass
class WeekGrid:
    """A week for display: ``lessons[(weekday, period)]``; weekdays and periods cover the
    configured week and any stored slot beyond it."""

    weekdays: tuple[int, ...]
    periods: int
    lessons: dict[tuple[int, int], list[Lesson]] = field(default_factory=dict)

    def at(self, weekday: int, period: int) -> list[Lesson]:
        return self.lessons.get((weekday, period), [])

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.lessons.values())


def _grid(
    slots: Iterable[TimetableSlot], session: Session, settings: TimetableSettings
) -> WeekGrid:
    slots = list(slots)
    names = subject_names(session)
    User = _user_model()
    teacher_ids = {s.teacher_id for s in slots if s.teacher_id}
    teachers = (
        {
            u.id: teacher_label(u)
            for u in session.scalars(select(User).where(User.id.in_(teacher_ids)))
        }
        if teacher_ids
        else {}
    )
    class_ids = {s.class_id for s in slots}
    classes = (
        {
            c.id: c.name
            for c in session.scalars(select(SchoolClass).where(SchoolClass.id.in_(class_ids)))
        }
        if class_ids
        else {}
    )
    weekdays = set(settings.weekdays) | {s.weekday for s in slots}
    periods = max([settings.periods, *(s.period for s in slots)])
    grid = WeekGrid(weekdays=tuple(sorted(weekdays)), periods=periods)
    for s in sorted(slots, key=lambda x: (x.weekday, x.period, x.class_id)):
        zh, en = names.get(s.subject_code, (s.subject_code, s.subject_code))
        lesson = Lesson(
            weekday=s.weekday,
            period=s.period,
            class_id=s.class_id,
            class_name=classes.get(s.class_id, ""),
            subject_code=s.subject_code,
            subject_zh=zh,
            subject_en=en,
            teacher_id=s.teacher_id,
            teacher=teachers.get(s.teacher_id, "") if s.teacher_id else "",
            room=s.room or "",
            combined=s.combined or "",
        )
        grid.lessons.setdefault((s.weekday, s.period), []).append(lesson)
    return grid


def class_week(
    session: Session, class_id: int, term_id: int, settings: TimetableSettings | None = None
) -> WeekGrid:
    """The class's week in the term, for display (the caller checked the scope)."""
    slots = session.scalars(
        select(TimetableSlot).where(
            TimetableSlot.class_id == class_id, TimetableSlot.term_id == term_id
        )
    )
    return _grid(slots, session, settings or TimetableSettings())


def teacher_week(
    session: Session, user_id: int, term_id: int, settings: TimetableSettings | None = None
) -> WeekGrid:
    """A teacher's own week in the term: class, subject and room of each lesson."""
    slots = session.scalars(
        select(TimetableSlot).where(
            TimetableSlot.teacher_id == user_id, TimetableSlot.term_id == term_id
        )
    )
    return _grid(slots, session, settings or TimetableSettings())


@dataclass(frozen=True)
class SaveResult:
    added: int
    changed: int
    removed: int


def _slot_params(weekday: int, period: int) -> dict[str, object]:
    valid = 1 <= weekday <= 7
    return {
        "weekday": weekday,
        "period": period,
        "weekday_zh": rules.WEEKDAYS_ZH[weekday - 1] if valid else str(weekday),
        "weekday_en": rules.WEEKDAYS_EN[weekday - 1] if valid else str(weekday),
    }


def _check_cells(
    session: Session,
    klass: SchoolClass,
    cells: list[Cell],
    settings: TimetableSettings,
) -> tuple[list[Violation], dict[int, str]]:
    """Per-cell problems, and the labels of the teachers named."""
    problems: list[Violation] = []
    names = subject_names(session)
    taught = stage_subjects(klass)
    teachers: dict[int, str] = {}
    seen: set[tuple[int, int]] = set()
    User = _user_model()
    for cell in cells:
        slot = _slot_params(cell.weekday, cell.period)
        if cell.weekday not in settings.weekdays or not 1 <= cell.period <= settings.periods:
            params = {**slot, "days": max(settings.weekdays), "max": settings.periods}
            problems.append(Violation("timetable.no_such_slot", "period", params))
            continue
        if (cell.weekday, cell.period) in seen:
            problems.append(Violation("timetable.slot_twice", "period", slot))
            continue
        seen.add((cell.weekday, cell.period))
        if not cell.subject_code:
            problems.append(Violation("timetable.subject_missing", "subject", slot))
        elif cell.subject_code not in names:
            problems.append(Violation("code.unknown", "subject", {"value": cell.subject_code}))
        elif cell.subject_code not in taught:
            params = {**slot, **_subject_params(cell.subject_code, names), **_stage_params(klass)}
            problems.append(Violation("timetable.subject_not_taught", "subject", params))
        for name, value, limit in (
            ("room", cell.room, ROOM_MAX),
            ("combined", cell.combined, COMBINED_MAX),
        ):
            if value and len(value) > limit:
                problems.append(Violation("timetable.too_long", name, {**slot, "max": limit}))
        if cell.teacher_id is None:
            continue
        if cell.teacher_id not in teachers:
            user = session.get(User, cell.teacher_id)
            if user is None or not _is_teacher(user):
                params = {**slot, "value": cell.teacher_id}
                problems.append(Violation("timetable.teacher_unknown", "teacher", params))
                continue
            home = session.get(UserScope, user.id)
            if home is None or home.school_id != klass.school_id:
                params = {**slot, "teacher": teacher_label(user)}
                problems.append(Violation("timetable.teacher_other_school", "teacher", params))
                continue
            teachers[cell.teacher_id] = teacher_label(user)
    return problems, teachers


def _class_labels(session: Session, school_id: int, year_id: int) -> dict[int, str]:
    """class id → name, made unique (the domain compares classes by name)."""
    classes = session.execute(
        select(SchoolClass.id, SchoolClass.name).where(
            SchoolClass.school_id == school_id, SchoolClass.school_year_id == year_id
        )
    ).all()
    counts: dict[str, int] = {}
    for _, name in classes:
        counts[name] = counts.get(name, 0) + 1
    return {cid: name if counts[name] == 1 else f"{name} (#{cid})" for cid, name in classes}


def _clashes(
    session: Session,
    klass: SchoolClass,
    term: Term,
    cells: list[Cell],
    teachers: dict[int, str],
    settings: TimetableSettings,
) -> list[Violation]:
    """Clash checks over the school's whole term: other classes' stored slots first, so a
    clash names the class already holding the teacher or room."""
    labels = _class_labels(session, klass.school_id, klass.school_year_id)
    others = session.scalars(
        select(TimetableSlot).where(
            TimetableSlot.school_id == klass.school_id,
            TimetableSlot.term_id == term.id,
            TimetableSlot.class_id != klass.id,
        )
    ).all()
    User = _user_model()
    other_teachers = {s.teacher_id for s in others if s.teacher_id} - set(teachers)
    if other_teachers:
        for user in session.scalars(select(User).where(User.id.in_(other_teachers))):
            teachers[user.id] = teacher_label(user)
    mine = labels.get(klass.id, klass.name)
    entries = [
        rules.TimetableEntry(
            class_name=labels.get(s.class_id, str(s.class_id)),
            weekday=s.weekday,
            period=s.period,
            subject=s.subject_code,
            teacher=teachers.get(s.teacher_id) if s.teacher_id else None,
            room=s.room,
            combined=s.combined,
        )
        for s in others
    ]
    entries += [
        rules.TimetableEntry(
            class_name=mine,
            weekday=c.weekday,
            period=c.period,
            subject=c.subject_code or "",
            teacher=teachers.get(c.teacher_id) if c.teacher_id else None,
            room=c.room,
            combined=c.combined,
        )
        for c in cells
    ]
    periods = max([settings.periods, *(e.period for e in entries)])
    problems = []
    for v in rules.check_timetable(
        entries, periods_per_day=periods, shared_rooms=settings.shared_rooms
    ):
        params = dict(v.params)
        if v.code == "timetable.class_clash":
            if params.get("class_name") == mine:
                problems.append(Violation("timetable.slot_twice", "period", params))
        elif v.code in ("timetable.teacher_clash", "timetable.room_clash"):
            if params.get("class_b") != mine:
                continue  # two other classes already clash: not this save's doing
            code = (
                "timetable.teacher_booked"
                if v.code.endswith("teacher_clash")
                else "timetable.room_booked"
            )
            problems.append(Violation(code, v.field, params))
        # range and required violations were reported per cell already
    return problems


def save_class_week(
    session: Session,
    scope: Scope,
    klass: SchoolClass,
    term: Term,
    cells: Iterable[Cell],
    username: str,
    *,
    settings: TimetableSettings | None = None,
) -> SaveResult:
    """Replace the class's week in the term with ``cells`` (empty cells are free periods).
    All or nothing: any problem raises RuleError and nothing is written."""
    settings = settings or TimetableSettings()
    if not may_edit(session, scope, klass):
        raise RuleError([Violation("timetable.not_registrar", "timetable", {})])
    if term.school_year_id != klass.school_year_id:
        raise RuleError([Violation("timetable.term_of_other_year", "term", {})])
    wanted = [
        Cell(
            weekday=c.weekday,
            period=c.period,
            subject_code=(c.subject_code or "").strip() or None,
            teacher_id=c.teacher_id,
            room=(c.room or "").strip() or None,
            combined=(c.combined or "").strip() or None,
        )
        for c in cells
    ]
    wanted = [c for c in wanted if not c.empty]
    problems, teachers = _check_cells(session, klass, wanted, settings)
    if not problems:
        problems = _clashes(session, klass, term, wanted, teachers, settings)
    if problems:
        raise RuleError(problems)
    stored = {
        (s.weekday, s.period): s
        for s in session.scalars(
            select(TimetableSlot).where(
                TimetableSlot.class_id == klass.id, TimetableSlot.term_id == term.id
            )
        )
    }
    added = changed = removed = 0
    new_keys = {(c.weekday, c.period) for c in wanted}
    for key, slot in stored.items():
        if key not in new_keys:
            session.delete(slot)  # through the ORM: audited
            removed += 1
    for cell in wanted:
        values = {
            "subject_code": cell.subject_code,
            "teacher_id": cell.teacher_id,
            "room": cell.room,
            "combined": cell.combined,
        }
        slot = stored.get((cell.weekday, cell.period))
        if slot is None:
            session.add(
                TimetableSlot(
                    term_id=term.id,
                    class_id=klass.id,
                    school_id=klass.school_id,
                    weekday=cell.weekday,
                    period=cell.period,
                    updated_by=username,
                    **values,
                )
            )
            added += 1
        elif any(getattr(slot, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(slot, k, v)
            slot.updated_by = username
            changed += 1
    session.flush()
    return SaveResult(added=added, changed=changed, removed=removed)
