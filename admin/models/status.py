"""Status-change requests (学籍异动) and their approval steps. The workflow itself is a later
issue; the tables already hold what DOMAIN §4.5 needs: typed requests, per-step handling unit,
due date, decision and actor, escalation and purge."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from .students import utcnow

REQUEST_STATES = ("draft", "submitted", "effective", "rejected", "cancelled", "purged")
STEP_STATES = ("waiting", "pending", "approved", "rejected", "skipped", "escalated")


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
    to_grade_code = Column(String(2))
    to_class_id = Column(Integer, ForeignKey("school_class.id"))
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
    steps = relationship(
        "StatusChangeStep", back_populates="request", order_by="StatusChangeStep.seq"
    )

    __mapper_args__ = {"version_id_col": version}


class StatusChangeStep(Model):
    __tablename__ = "status_change_step"
    __table_args__ = (UniqueConstraint("request_id", "seq", name="uq_status_step"),)

    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("status_change_request.id"), nullable=False, index=True)
    seq = Column(Integer, nullable=False)
    unit_kind = Column(String(20), nullable=False)  # school / school_leader / county / province
    school_id = Column(Integer, ForeignKey("school.id"))
    region_code = Column(String(6), ForeignKey("region.code"))
    state = Column(String(12), nullable=False, default="waiting", index=True)
    due_date = Column(Date)
    acted_by_user_id = Column(Integer)
    acted_by_username = Column(String(64))
    acted_at = Column(DateTime)
    decision = Column(String(12))
    comment = Column(Text)

    request = relationship("StatusChangeRequest", back_populates="steps")
