"""Audit trail: registry changes and security events in one hash-chained log.

* `register_audit()` (called once by create_app) hooks the ORM listener (listener.py);
* `audit_actor(username, reason=None)` names the actor for CLI and batch code;
  `set_audit_reason(session, reason)` / `session.info["audit_reason"]` give a reason;
* `record_event(...)` writes a security event (login, login_failed, lockout, …);
* `record_batch(...)` writes ONE entry for bulk work that skips ORM events (COPY, Core
  `insert()`/`update()`/`delete()`);
* `verify_chain(connection)` checks the chain (`xueji audit verify`).

See README.md in this folder for the chain's guarantees and limits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session, scoped_session

from ..models.students import utcnow
from . import chain
from .context import SYSTEM, Actor, audit_actor, current_actor, set_audit_reason
from .listener import AUDITED_TABLES, register_audit
from .verify import Problem, VerifyReport, verify_chain

__all__ = [
    "AUDITED_TABLES",
    "SYSTEM",
    "Actor",
    "Problem",
    "VerifyReport",
    "audit_actor",
    "current_actor",
    "record_batch",
    "record_event",
    "register_audit",
    "set_audit_reason",
    "verify_chain",
]


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
    caller's transaction, chained like every other entry. The address defaults to the
    request's; the school and region come from the user's scope, so school and bureau audit
    screens see their own staff's events."""
    actor = current_actor(session)
    school_id = region_code = None
    if user_id is not None:
        from ..models import School, UserScope

        row = session.execute(
            select(UserScope.school_id, UserScope.region_prefix, School.region_code)
            .outerjoin(School, School.id == UserScope.school_id)
            .where(UserScope.user_id == user_id)
        ).first()
        if row is not None:
            school_id, region_code = row[0], row[1] or row[2]
    chain.append(
        session.connection(),
        [
            {
                "at": utcnow(),
                "user_id": user_id,
                "username": username,
                "address": address if address is not None else actor.address,
                "action": action,
                "table_name": None,
                "row_pk": None,
                "student_id": None,
                "school_id": school_id,
                "region_code": region_code,
                "changes": details or {},
                "reason": reason,
            }
        ],
    )


def record_batch(
    target: Session | Connection | Engine | Any,
    action: str,
    table_name: str | None,
    count: int,
    reason: str | None,
    *,
    username: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write ONE entry for a bulk operation that bypassed ORM events (seed COPY, Core DML):
    `changes` = {"count": count, **details}. `target` is a (scoped) Session or a Connection (the entry
    joins its transaction), an Engine (own transaction), or a raw psycopg 3 / sqlite3
    connection with an open transaction (e.g. the seed's COPY connection)."""
    if isinstance(target, scoped_session):
        target = target()
    session = target if isinstance(target, Session) else None
    actor = current_actor(session)
    entry = {
        "at": utcnow(),
        "user_id": None if username else actor.user_id,
        "username": username or actor.username,
        "address": actor.address,
        "action": action,
        "table_name": table_name,
        "row_pk": None,
        "student_id": None,
        "school_id": None,
        "region_code": None,
        "changes": {"count": int(count), **(details or {})},
        "reason": reason if reason is not None else actor.reason,
    }
    if isinstance(target, Session):
        chain.append(target.connection(), [entry])
    elif isinstance(target, Connection):
        chain.append(target, [entry])
    elif isinstance(target, Engine):
        with target.begin() as connection:
            chain.append(connection, [entry])
    else:
        chain.append_dbapi(target, [entry])
