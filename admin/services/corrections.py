"""信息变更 on the database: key-field corrections (关键信息变更: name, sex, birth date, ID
document) filed by the school with proof and approved by the county bureau, reviewed edits of
ordinary fields where the school turned review on (信息变更登记, approved by the school
leader), and the report of contact details not confirmed for a year.

Approving re-checks the record with the registration rules and re-runs the national
duplicate check (查重); an ID change closes the old ID document and opens a new one; the
学籍号 never changes.  The caller commits (and, for proofs, calls uploads.commit_files)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..audit import set_audit_reason
from ..domain.messages import RuleError, Violation
from ..models import InfoChangeRequest, School, Student, StudentIdDocument
from ..models.students import utcnow
from ..security.scope import Scope, criterion_for, school_in_scope
from ..uploads.service import store_student_file
from .students import (
    STUDENT_FORM_FIELDS,
    CodeCatalog,
    duplicate_check,
    validate_student_input,
)

KEY_FIELDS = ("name", "sex", "birth_date", "id_doc_type", "id_number")
# Ordinary fields a reviewed edit may carry: the form minus the key fields.
INFO_FIELDS = tuple(f for f in STUDENT_FORM_FIELDS if f not in KEY_FIELDS)
FIELD = "info_change"
FILING_ROLES = frozenset({"SchoolRegistrar", "Admin"})
DECIDING_ROLES = {
    "key": frozenset({"BureauOfficer", "Admin"}),
    "info": frozenset({"SchoolLeader", "Admin"}),
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()[:10]
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).strip()


def _record(student: Student) -> dict[str, Any]:
    return {name: getattr(student, name) for name in STUDENT_FORM_FIELDS}


def changes_of(request: InfoChangeRequest) -> dict[str, str]:
    return dict(json.loads(request.changes))


def previous_of(request: InfoChangeRequest) -> dict[str, str]:
    return dict(json.loads(request.previous))


def pending_for(session: Session, student_id: int) -> InfoChangeRequest | None:
    return session.scalars(
        select(InfoChangeRequest).where(
            InfoChangeRequest.student_id == student_id, InfoChangeRequest.state == "pending"
        )
    ).first()


def _check(
    session: Session,
    student: Student,
    changes: Mapping[str, str],
    allowed: Sequence[str],
    today: date,
) -> tuple[dict[str, Any], list[Violation]]:
    """The record with the changes applied, cleaned by the registration rules; violations of
    the changed fields (and of the identity rules tying them together) only — an old problem
    elsewhere in the record does not block a correction."""
    problems = [
        Violation("info_change.not_allowed", name, {}) for name in changes if name not in allowed
    ]
    if problems:
        return {}, problems
    merged = {**_record(student), **{k: (v if v != "" else None) for k, v in changes.items()}}
    catalog = CodeCatalog.load(session, today)
    clean, found = validate_student_input(merged, [], catalog, today=today, check_guardians=False)
    touched = set(changes)
    if touched & set(KEY_FIELDS):
        touched |= set(KEY_FIELDS)  # the ID must still agree with sex and birth date
    return clean, [v for v in found if v.field in touched]


def _typed(name: str, value: Any) -> Any:
    """A stored text value back in the column's type (the request keeps text)."""
    if not isinstance(value, str):
        return value
    python_type = Student.__table__.c[name].type.python_type
    if python_type is bool:
        return value in ("1", "true", "True")
    if python_type is float:
        return float(value) if value else None
    return value or None


def _real_changes(student: Student, proposed: Mapping[str, Any]) -> dict[str, str]:
    return {
        name: _text(value)
        for name, value in proposed.items()
        if _text(value) != _text(getattr(student, name, None))
    }


@dataclass(frozen=True)
class Proof:
    filename: str
    data: bytes


def file_key_correction(
    session: Session,
    scope: Scope,
    student: Student,
    proposed: Mapping[str, Any],
    *,
    reason: str,
    proofs: Sequence[Proof],
    username: str,
    today: date,
) -> InfoChangeRequest:
    """The school asks to correct key fields, with the proof (户籍证明 …); the county decides."""
    problems: list[Violation] = []
    if scope.role not in FILING_ROLES or not school_in_scope(
        session, scope, student.current_school_id
    ):
        raise RuleError([Violation("info_change.school_only", FIELD, {})])
    changes = _real_changes(student, proposed)
    if not changes:
        problems.append(Violation("info_change.nothing", FIELD, {}))
    if not reason.strip():
        problems.append(Violation("required", "info_change_reason", {}))
    if not [p for p in proofs if p.data]:
        problems.append(Violation("info_change.proof_required", "proof", {}))
    if pending_for(session, student.id) is not None:
        problems.append(Violation("info_change.pending", FIELD, {}))
    clean, rule_problems = _check(session, student, changes, KEY_FIELDS, today)
    problems += rule_problems
    if not problems and "id_number" in changes and clean.get("id_number"):
        problems += duplicate_check(
            session,
            id_number=clean["id_number"],
            name=None,
            sex=None,
            birth_date=None,
            exclude_id=student.id,
        )
    if problems:
        raise RuleError(problems)
    made = InfoChangeRequest(
        student_id=student.id,
        school_id=student.current_school_id,
        kind="key",
        previous=json.dumps({k: _text(getattr(student, k)) for k in changes}, ensure_ascii=False),
        changes=json.dumps(changes, ensure_ascii=False),
        reason=reason.strip(),
        state="pending",
        filed_by=username,
    )
    session.add(made)
    session.flush()
    for proof in proofs:
        if not proof.data:
            continue
        row = store_student_file(
            session,
            student,
            "proof",
            proof.filename,
            proof.data,
            username,
            description="关键信息变更 / key-field correction",
        )
        row.change_request_id = made.id
    session.flush()
    return made


def school_reviews_edits(session: Session, student: Student) -> bool:
    school = session.get(School, student.current_school_id) if student.current_school_id else None
    return bool(school and school.info_change_review)


def divert_edit_for_review(
    session: Session, scope: Scope, student: Student, *, username: str, reason: str = ""
) -> InfoChangeRequest | None:
    """Where the school reviews edits, a registrar's pending edit of ordinary fields becomes a
    request for the school leader and the student row keeps its values. None when the edit
    applies at once (review off, nothing changed, or the editor is not a registrar)."""
    from sqlalchemy import inspect

    if scope.role != "SchoolRegistrar" or not school_reviews_edits(session, student):
        return None
    state = inspect(student)
    changes: dict[str, str] = {}
    previous: dict[str, str] = {}
    for name in INFO_FIELDS:
        history = state.attrs[name].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = getattr(student, name)
        if _text(old) == _text(new):
            continue
        changes[name], previous[name] = _text(new), _text(old)
        setattr(student, name, old)  # the row stays as it was until the leader approves
    if not changes:
        return None
    if pending_for(session, student.id) is not None:
        raise RuleError([Violation("info_change.pending", FIELD, {})])
    made = InfoChangeRequest(
        student_id=student.id,
        school_id=student.current_school_id,
        kind="info",
        previous=json.dumps(previous, ensure_ascii=False),
        changes=json.dumps(changes, ensure_ascii=False),
        reason=reason.strip() or "信息变更登记",
        state="pending",
        filed_by=username,
    )
    session.add(made)
    return made


def may_decide(session: Session, scope: Scope, request: InfoChangeRequest) -> bool:
    return (
        request.state == "pending"
        and scope.role in DECIDING_ROLES[request.kind]
        and school_in_scope(session, scope, request.school_id)
    )


def decide(
    session: Session,
    scope: Scope,
    request: InfoChangeRequest,
    *,
    approve: bool,
    comment: str,
    username: str,
    today: date,
    expected_version: int | None = None,
) -> None:
    """The county (key fields) or the school leader (reviewed edits) approves or rejects.
    Approving applies the change after the same rules and 查重 as registration."""
    if expected_version is not None and expected_version != request.version:
        raise RuleError([Violation("workflow.handled_meanwhile", FIELD, {})])
    if request.state != "pending":
        raise RuleError([Violation("info_change.not_pending", FIELD, {})])
    if not may_decide(session, scope, request):
        code = "info_change.county_only" if request.kind == "key" else "info_change.leader_only"
        raise RuleError([Violation(code, FIELD, {})])
    if not approve and not comment.strip():
        raise RuleError([Violation("workflow.comment_required", "approval_comment", {})])
    student = request.student
    changes = changes_of(request)
    if approve:
        allowed = KEY_FIELDS if request.kind == "key" else INFO_FIELDS
        clean, problems = _check(session, student, changes, allowed, today)
        if not problems and request.kind == "key":
            problems += duplicate_check(
                session,
                id_number=clean.get("id_number") if "id_number" in changes else None,
                name=clean.get("name"),
                sex=clean.get("sex"),
                birth_date=clean.get("birth_date"),
                duplicate_reason=comment or None,
                exclude_id=student.id,
            )
        if problems:
            raise RuleError(problems)
        set_audit_reason(session, f"信息变更 #{request.id}: {request.reason}")
        for name in changes:
            setattr(student, name, _typed(name, clean.get(name)))
        if request.kind == "key" and {"id_doc_type", "id_number"} & set(changes):
            _new_id_document(session, student, request)
    request.state = "approved" if approve else "rejected"
    request.decided_by = username
    request.decided_at = utcnow()
    request.comment = comment.strip() or None
    try:
        session.flush()
    except StaleDataError:
        raise RuleError([Violation("workflow.handled_meanwhile", FIELD, {})]) from None


def _new_id_document(session: Session, student: Student, request: InfoChangeRequest) -> None:
    now = utcnow()
    for doc in session.scalars(
        select(StudentIdDocument).where(
            StudentIdDocument.student_id == student.id, StudentIdDocument.effective_to.is_(None)
        )
    ):
        doc.effective_to = now
    session.add(
        StudentIdDocument(
            student_id=student.id,
            doc_type=student.id_doc_type,
            number=student.id_number,
            valid_period=student.id_valid_period,
            effective_from=now,
            reason=f"关键信息变更 #{request.id}"[:200],
        )
    )


def cancel(session: Session, scope: Scope, request: InfoChangeRequest, *, username: str) -> None:
    """The school withdraws its own pending request."""
    if request.state != "pending":
        raise RuleError([Violation("info_change.not_pending", FIELD, {})])
    if scope.role not in FILING_ROLES or not school_in_scope(session, scope, request.school_id):
        raise RuleError([Violation("info_change.school_only", FIELD, {})])
    request.state = "cancelled"
    request.decided_by = username
    request.decided_at = utcnow()
    session.flush()


def awaiting_criterion(scope: Scope) -> Any:
    """Pending requests this user may decide (the county: key fields; the school leader:
    reviewed edits) in the schools of their scope."""
    kinds = [k for k, roles in DECIDING_ROLES.items() if scope.role in roles]
    schools = select(School.id).where(criterion_for(School, scope))
    return (
        (InfoChangeRequest.state == "pending")
        & InfoChangeRequest.kind.in_(kinds)
        & InfoChangeRequest.school_id.in_(schools)
    )


def awaiting(session: Session, scope: Scope) -> list[InfoChangeRequest]:
    rows = session.scalars(
        select(InfoChangeRequest)
        .where(awaiting_criterion(scope))
        .order_by(InfoChangeRequest.filed_at)
    )
    return list(rows)


# --- contact details not confirmed (staleness report) ----------------------------------------


def stale_contacts_query(scope: Scope, today: date, months: int) -> Select[Any]:
    """Students in school whose contact details were never confirmed, or last confirmed more
    than ``months`` months ago, oldest first."""
    cutoff = datetime.combine(today - timedelta(days=round(months * 30.44)), datetime.min.time())
    return (
        select(Student)
        .where(
            Student.current_status == "01",
            criterion_for(Student, scope),
            (Student.contact_confirmed_at.is_(None)) | (Student.contact_confirmed_at < cutoff),
        )
        .order_by(
            Student.current_school_id,
            Student.current_class_id,
            Student.contact_confirmed_at.is_not(None),
            Student.contact_confirmed_at,
            Student.id,
        )
    )


def has_pending(session: Session, student_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    InfoChangeRequest.student_id == student_id,
                    InfoChangeRequest.state == "pending",
                )
            )
        )
    )
