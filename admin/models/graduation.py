"""Graduation (毕业 / 结业 / 肄业) of a student from a stage: one row per student and stage.
Compulsory stages are effective when the school files them; senior high waits for the
bureau's approval (state pending → approved / rejected).  admin/services/graduation.py."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
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


class Graduation(Model):
    __tablename__ = "graduation"
    __table_args__ = (
        UniqueConstraint("student_id", "stage", name="uq_graduation_stage"),
        CheckConstraint("outcome IN ('1','2','3')", name="ck_graduation_outcome"),
        CheckConstraint("state IN ('pending','approved','rejected')", name="ck_graduation_state"),
    )

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False, index=True)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    school_year_id = Column(Integer, ForeignKey("school_year.id"), nullable=False)
    stage = Column(String(8), nullable=False)  # primary / junior / senior
    grade_code = Column(String(2), nullable=False)
    outcome = Column(String(1), nullable=False)  # graduation_outcome: 1 毕业 2 结业 3 肄业
    destination = Column(String(2))  # graduation_destination (毕业去向), when known
    graduated_on = Column(Date, nullable=False)
    state = Column(String(10), nullable=False, default="pending", index=True)
    filed_by = Column(String(64))
    filed_at = Column(DateTime, nullable=False, default=utcnow)
    decided_by = Column(String(64))
    decided_at = Column(DateTime)
    comment = Column(Text)
    # The electronic diploma (issued once approved; a later issue signs and prints it).
    diploma_number = Column(String(40), unique=True)
    diploma_issued = Column(Boolean, nullable=False, default=False)
    diploma_revoked = Column(Boolean, nullable=False, default=False)

    student = relationship("Student")
    school = relationship("School")
    school_year = relationship("SchoolYear")
