"""A student's history for their record page: status changes and the audit trail, with
personal values masked for roles that may not see them, and the student's files."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditLog, StatusChangeRequest, Student
from ..security.masking import mask_changes


def student_history(session: Session, student: Student, scope: Any) -> dict[str, list[Any]]:
    changes = session.scalars(
        select(StatusChangeRequest)
        .where(StatusChangeRequest.student_id == student.id)
        .order_by(StatusChangeRequest.created_at.desc())
    ).all()
    audit = session.scalars(
        select(AuditLog)
        .where(AuditLog.student_id == student.id)
        .order_by(AuditLog.id.desc())
        .limit(200)
    ).all()
    entries = [
        {
            "at": entry.at,
            "username": entry.username,
            "action": entry.action,
            "table_name": entry.table_name,
            "changes": mask_changes(entry.table_name, entry.changes or {}, scope),
            "reason": entry.reason,
        }
        for entry in audit
    ]
    return {
        "status_changes": list(changes),
        "audit": entries,
        "files": _files(session, student),
    }


def _files(session: Session, student: Student) -> list[dict[str, Any]]:
    """The student's photo and proof documents (metadata only) for the Files tab, for users
    who may read them; the bytes are served by admin/uploads/views.py."""
    from flask import current_app, has_request_context

    from ..uploads.service import files_for_display

    if has_request_context() and not current_app.appbuilder.sm.has_access(
        "can_read", "StudentFile"
    ):
        return []
    return files_for_display(session, student)
