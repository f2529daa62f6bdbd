"""Audit log: who changed which row and field, when and why. The listener and hash chain are
built in the admin-panel issue; the table already carries the chain columns. No FK to ab_user,
so entries outlive user accounts."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import JSON, Column, DateTime, Integer, String, Text

from .students import utcnow


class AuditLog(Model):
    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    user_id = Column(Integer)
    username = Column(String(64))
    address = Column(String(64))
    action = Column(String(16), nullable=False)  # insert / update / delete / login / …
    table_name = Column(String(64), index=True)
    row_pk = Column(String(64))
    student_id = Column(Integer, index=True)  # the student a registry change concerns
    school_id = Column(Integer, index=True)  # for scoping audit screens
    region_code = Column(String(6), index=True)
    changes = Column(JSON)
    reason = Column(Text)
    prev_hash = Column(String(64))
    entry_hash = Column(String(64))
