"""Audit trail: registry changes and security events in one hash-chained log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ..models import AuditLog
from ..models.students import utcnow


def record_event(
    session: Session,
    action: str,
    *,
    username: str | None = None,
    user_id: int | None = None,
    address: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write a security event (login, login_failed, lockout, password_reset, …) in the
    caller's transaction."""
    session.execute(
        insert(AuditLog.__table__),
        [
            {
                "at": utcnow(),
                "user_id": user_id,
                "username": username,
                "address": address,
                "action": action,
                "table_name": None,
                "row_pk": None,
                "changes": details or {},
                "reason": reason,
            }
        ],
    )
