"""Status-change requests (学籍异动) and their approval steps (DOMAIN §4.5): typed requests,
per-step handling unit, due date, decision and actor, escalation and purge.  The state machine
is admin/domain/workflow.py; admin/services/status_changes.py maps it onto these rows.  The
request keeps its current handler and due date too, so to-do and overdue lists are one
indexed query."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from .students import utcnow

REQUEST_STATES = ("draft", "submitted", "effective", "rejected", "cancelled", "purged")
STEP_STATES = ("waiting", "pending", "escalated", "approved", "rejected", "cancelled")


class StatusChangeRequest(Model):
    __tablename__ = "status_change_request"

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False, index=True)
    change_type = Column(String(2), nullable=False)  # status_change_type code
    reason_code = Column(String(4))  # status_change_reason code
    state = Column(String(12), nullable=False, default="draft", index=True)
    scope = Column(String(16))  # single_school / same_county / cross_county / cross_province
    from_school_id = Column(Integer, ForeignKey("school.id"), index=True)
    to_school_id = Column(Integer, ForeignKey("school.id"), index=True)
    from_grade_code = Column(String(2))
    from_class_id = Column(Integer, ForeignKey("school_class.id"))
    to_grade_code = Column(String(2))
    to_class_id = Column(Integer, ForeignKey("school_class.id"))
    # 当前处理单位 and its deadline (NULL once the request is closed).
    handler_kind = Column(String(20))
    handler_code = Column(String(12))
    due_date = Column(Date)
    effective_date = Column(Date)
    end_date = Column(Date)  # e.g. end of a suspension
    remarks = Column(Text)
    current_step_seq = Column(Integer)
    created_by_user_id = Column(Integer)
    created_by_username = Column(String(64))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    submitted_at = Column(DateTime)
    closed_at = Column(DateTime)
    version = Column(Integer, nullable=False, default=1)

    student = relationship("Student")
    from_school = relationship("School", foreign_keys=[from_school_id])
    to_school = relationship("School", foreign_keys=[to_school_id])
    from_class = relationship("SchoolClass", foreign_keys=[from_class_id])
    to_class = relationship("SchoolClass", foreign_keys=[to_class_id])
    files = relationship("StudentFile", order_by="StudentFile.id")
    steps = relationship(
        "StatusChangeStep", back_populates="request", order_by="StatusChangeStep.seq"
    )

    __table_args__ = (Index("ix_status_change_handler", "state", "handler_kind", "handler_code"),)
    __mapper_args__ = {"version_id_col": version}


class StatusChangeStep(Model):
    __tablename__ = "status_change_step"
    __table_args__ = (UniqueConstraint("request_id", "seq", name="uq_status_step"),)

    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("status_change_request.id"), nullable=False, index=True)
    seq = Column(Integer, nullable=False)
    # school_registrar / school_leader / county_bureau / province_bureau, on the own,
    # receiving or sending side; the unit is school_id (schools) or region_code (bureaus:
    # the county code, or the province's "xx0000").
    unit_kind = Column(String(20), nullable=False)
    side = Column(String(10), nullable=False, default="own", server_default="own")
    school_id = Column(Integer, ForeignKey("school.id"))
    region_code = Column(String(6), ForeignKey("region.code"))
    state = Column(String(12), nullable=False, default="waiting", index=True)
    started_on = Column(Date)
    due_date = Column(Date)
    # After 强制干预 the supervisor that took the step over ("kind:code,kind:code").
    escalated_to = Column(String(120))
    acted_by_user_id = Column(Integer)
    acted_by_username = Column(String(64))
    acted_at = Column(DateTime)
    acted_as = Column(String(40))  # the unit that acted ("county_bureau:640104")
    decision = Column(String(12))
    comment = Column(Text)

    request = relationship("StatusChangeRequest", back_populates="steps")
