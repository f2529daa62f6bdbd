"""Teaching records: which teacher teaches which class (and subject, per term) — the scope of a
Teacher comes from here — and daily attendance (考勤)."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from .students import utcnow


class TeachingAssignment(Model):
    __tablename__ = "teaching_assignment"
    __table_args__ = (
        UniqueConstraint("user_id", "class_id", "subject_code", name="uq_teaching_assignment"),
    )

    id = Column(Integer, primary_key=True)
    user_id = Column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    class_id = Column(Integer, ForeignKey("school_class.id"), nullable=False, index=True)
    subject_code = Column(String(8))  # NULL = class teacher (班主任)
    term_id = Column(Integer, ForeignKey("term.id"))

    school_class = relationship("SchoolClass")


class Attendance(Model):
    """One attendance mark (考勤): a student was late, left early, or absent (旷课, 病假, 事假)
    on a school day — for the whole day (period NULL) or one lesson. Nothing recorded means
    present. ``days``/``periods`` are what the warehouse adds up (etl/schema.sql
    fact_attendance): a whole-day absence is 1 day; a mark for one lesson is 1 period; late and
    early leave count neither. admin/services/attendance.py."""

    __tablename__ = "attendance"
    __table_args__ = (
        Index("ix_attendance_class_date", "class_id", "date"),
        Index("ix_attendance_student_date", "student_id", "date"),
    )

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False)
    class_id = Column(Integer, ForeignKey("school_class.id"), nullable=False)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    date = Column(Date, nullable=False)
    kind = Column(String(12), nullable=False)  # code set attendance_kind
    period = Column(Integer)  # 节; NULL = the whole day
    periods = Column(Integer)
    days = Column(Float)
    note = Column(String(200))
    recorded_by = Column(String(64))
    recorded_at = Column(DateTime, nullable=False, default=utcnow)

    student = relationship("Student")
