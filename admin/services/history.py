"""A student's history for their record page: status changes and the audit trail, with
personal values masked for roles that may not see them."""

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
    return {"status_changes": list(changes), "audit": entries}
