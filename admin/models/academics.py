"""Teaching assignments: which teacher teaches which class (and subject, per term). The
teaching-records issue adds subjects and timetables; the scope of a Teacher comes from here."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import relationship


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
