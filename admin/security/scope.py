"""Row-level scope: which schools, students and records a user may touch.

A user's scope (ARCHITECTURE contract) is national, a GB/T 2260 region prefix, one school,
a teacher's classes or a parent's children. BureauAnalyst and Leadership see statistics only:
their scope admits no personal record at all. Every list, show, edit, delete, bulk action,
related view, search, export, download and REST verb goes through `apply_scope`, and every
create or move goes through `school_in_scope`, so the rule is written once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select, true
from sqlalchemy.orm import Session

from ..models import (
    AuditLog,
    Diploma,
    Enrollment,
    Graduation,
    Guardian,
    InfoChangeRequest,
    ParentLink,
    School,
    SchoolClass,
    StatusChangeRequest,
    Student,
    StudentFile,
    StudentIdDocument,
    StudentNumberHistory,
    TeachingAssignment,
    UserScope,
)
from .roles import ROLE_PRECEDENCE, STATISTICS_ONLY_ROLES


@dataclass(frozen=True)
class Scope:
    role: str
    region_prefix: str | None = None  # None with kind "national"
    school_id: int | None = None
    class_ids: frozenset[int] = frozenset()
    student_ids: frozenset[int] = frozenset()
    kind: str = "none"  # national | region | school | classes | children | none

    @property
    def personal(self) -> bool:
        """May this user see records about individual people?"""
        return self.kind != "none" and self.role not in STATISTICS_ONLY_ROLES

    @property
    def is_national(self) -> bool:
        return self.kind == "national"


NO_SCOPE = Scope(role="", kind="none")


def effective_role(role_names: set[str]) -> str | None:
    for name in ROLE_PRECEDENCE:
        if name in role_names:
            return name
    return None


def scope_for_user(session: Session, user: Any) -> Scope:
    """Compute a user's scope from their role and their user_scope / assignment rows."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_SCOPE
    role = effective_role({r.name for r in user.roles})
    if role is None:
        return NO_SCOPE
    row = session.get(UserScope, user.id)
    region = (row.region_prefix or "") if row else ""
    school_id = row.school_id if row else None
    if role == "Admin":
        return Scope(role=role, kind="national")
    if role in ("BureauOfficer", "BureauAnalyst", "Leadership"):
        if region:
            return Scope(role=role, kind="region", region_prefix=region)
        return Scope(role=role, kind="national")
    if role in ("SchoolRegistrar", "SchoolLeader"):
        return Scope(role=role, kind="school" if school_id else "none", school_id=school_id)
    if role == "Teacher":
        classes = frozenset(
            session.scalars(
                select(TeachingAssignment.class_id).where(TeachingAssignment.user_id == user.id)
            )
        )
        return Scope(role=role, kind="classes", school_id=school_id, class_ids=classes)
    if role == "Parent":
        children = frozenset(
            session.scalars(select(ParentLink.student_id).where(ParentLink.user_id == user.id))
        )
        return Scope(role=role, kind="children", student_ids=children)
    return NO_SCOPE


def visible_school_ids(scope: Scope) -> Select[Any] | None:
    """A SELECT of the school ids in scope, or None for every school."""
    if scope.kind == "national":
        return None
    if scope.kind == "region":
        return select(School.id).where(School.region_code.startswith(scope.region_prefix or ""))
    if scope.kind in ("school", "classes") and scope.school_id is not None:
        return select(School.id).where(School.id == scope.school_id)
    if scope.kind == "children":
        return select(Student.current_school_id).where(Student.id.in_(scope.student_ids))
    return select(School.id).where(false())


def student_criterion(scope: Scope) -> ColumnElement[bool]:
    if not scope.personal:
        return false()
    if scope.kind == "national":
        return true()
    if scope.kind == "region":
        return Student.current_school_id.in_(visible_school_ids(scope))  # type: ignore[arg-type]
    if scope.kind == "school":
        return Student.current_school_id == scope.school_id
    if scope.kind == "classes":
        return Student.id.in_(
            select(Enrollment.student_id).where(
                Enrollment.class_id.in_(scope.class_ids), Enrollment.is_active.is_(True)
            )
        )
    if scope.kind == "children":
        return Student.id.in_(scope.student_ids)
    return false()


def visible_student_ids(scope: Scope) -> Select[Any] | None:
    if scope.is_national and scope.personal:
        return None
    return select(Student.id).where(student_criterion(scope))


def _school_column_criterion(column: Any, scope: Scope) -> ColumnElement[bool]:
    schools = visible_school_ids(scope)
    return true() if schools is None else column.in_(schools)


def criterion_for(model: type, scope: Scope) -> ColumnElement[bool]:
    """The WHERE clause that limits `model` to the rows this scope may see."""
    if model is School:
        return _school_column_criterion(School.id, scope)
    if model is SchoolClass:
        if scope.kind == "classes":
            return SchoolClass.id.in_(scope.class_ids)
        if scope.kind == "children":
            return SchoolClass.id.in_(
                select(Enrollment.class_id).where(Enrollment.student_id.in_(scope.student_ids))
            )
        return _school_column_criterion(SchoolClass.school_id, scope)
    if model is Student:
        return student_criterion(scope)
    if model in (
        Guardian,
        Enrollment,
        StudentIdDocument,
        StudentNumberHistory,
        StudentFile,
        Graduation,
        InfoChangeRequest,
    ):
        students = visible_student_ids(scope)
        if not scope.personal:
            return false()
        return true() if students is None else model.student_id.in_(students)  # type: ignore[attr-defined]
    if model is Diploma:
        # The issuing school's side sees its certificates; the student's side (parent, the
        # next school after progression) sees the student's.
        if not scope.personal:
            return false()
        students = visible_student_ids(scope)
        if students is None:
            return true()
        by_school = (
            _school_column_criterion(Diploma.school_id, scope)
            if scope.kind in ("region", "school")
            else false()
        )
        return by_school | Diploma.student_id.in_(students)
    if model is StatusChangeRequest:
        if not scope.personal:
            return false()
        students = visible_student_ids(scope)
        if students is None:
            return true()
        schools = visible_school_ids(scope)
        by_school = (
            StatusChangeRequest.to_school_id.in_(schools)
            | StatusChangeRequest.from_school_id.in_(schools)
            if schools is not None and scope.kind in ("region", "school")
            else false()
        )
        return StatusChangeRequest.student_id.in_(students) | by_school
    if model is AuditLog:
        if not scope.personal or scope.kind in ("classes", "children"):
            return false()
        if scope.kind == "national":
            return true()
        if scope.kind == "region":
            return AuditLog.region_code.startswith(scope.region_prefix or "")
        return AuditLog.school_id == scope.school_id
    # Reference data (regions, school years, terms, code tables) is not scoped.
    return true()


def apply_scope(query: Any, model: type, scope: Scope) -> Any:
    return query.filter(criterion_for(model, scope))


def school_in_scope(session: Session, scope: Scope, school_id: int | None) -> bool:
    """May this user create a record in, or move a record into, this school?"""
    if school_id is None or not scope.personal:
        return False
    if scope.is_national:
        return True
    if scope.kind == "region":
        school = session.get(School, school_id)
        return school is not None and school.region_code.startswith(scope.region_prefix or "")
    if scope.kind == "school":
        return school_id == scope.school_id
    return False


def row_in_scope(session: Session, scope: Scope, model: type, pk: Any) -> bool:
    query = select(model).where(model.__mapper__.primary_key[0] == pk)  # type: ignore[attr-defined]
    return session.execute(query.where(criterion_for(model, scope))).first() is not None
