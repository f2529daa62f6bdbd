"""Graduation (毕业 / 结业 / 肄业) of a student from a stage: one row per student and stage.
Compulsory stages are effective when the school files them; senior high waits for the
bureau's approval (state pending → approved / rejected).  admin/services/graduation.py."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import (
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

    student = relationship("Student")
    school = relationship("School")
    school_year = relationship("SchoolYear")
    diplomas = relationship("Diploma", back_populates="graduation", order_by="Diploma.id")


class Diploma(Model):
    """An electronic certificate (毕业证书 / 结业证书) of an approved graduation: the signed
    payload as issued, never edited; a revocation is recorded beside it, and a corrected
    certificate is a new diploma with a new number (admin/services/diplomas.py)."""

    __tablename__ = "diploma"
    __table_args__ = (
        CheckConstraint(
            "(revoked_at IS NULL) = (revoke_reason IS NULL)", name="ck_diploma_revocation"
        ),
    )

    id = Column(Integer, primary_key=True)
    number = Column(String(21), nullable=False, unique=True)
    graduation_id = Column(Integer, ForeignKey("graduation.id"), nullable=False, index=True)
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False, index=True)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    year = Column(Integer, nullable=False)
    stage = Column(String(8), nullable=False)
    serial = Column(Integer, nullable=False)
    # Canonical JSON exactly as signed (admin/domain/diploma.py) and its Ed25519 signature.
    payload = Column(Text, nullable=False)
    signature = Column(String(100), nullable=False)
    key_id = Column(String(16), nullable=False)
    issued_at = Column(DateTime, nullable=False, default=utcnow)
    issued_by = Column(String(64))
    revoked_at = Column(DateTime)
    revoked_by = Column(String(64))
    revoke_reason = Column(Text)
    version = Column(Integer, nullable=False, default=1)

    graduation = relationship("Graduation", back_populates="diplomas")
    student = relationship("Student")
    school = relationship("School")

    __mapper_args__ = {"version_id_col": version}
