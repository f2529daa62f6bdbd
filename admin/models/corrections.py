"""Changes to a student's record that need someone else's approval (信息变更):

* kind ``key``: a key field (name, sex, birth date, ID document) — the school files it with
  proof, the county bureau approves, the change is applied with a new duplicate check
  (DOMAIN §1.4); the 学籍号 never changes;
* kind ``info``: any other field, when the school has turned on review (School
  .info_change_review) — the school's leader approves the registrar's edit.

The request keeps the old and the new values, so it is also the change's history.
admin/services/corrections.py."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from .students import utcnow


class InfoChangeRequest(Model):
    __tablename__ = "info_change_request"
    __table_args__ = (
        CheckConstraint("kind IN ('key','info')", name="ck_info_change_kind"),
        CheckConstraint(
            "state IN ('pending','approved','rejected','cancelled')", name="ck_info_change_state"
        ),
    )

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False, index=True)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    kind = Column(String(4), nullable=False)
    # JSON objects {field: value} as the form shows them (dates ISO).
    previous = Column(Text, nullable=False)
    changes = Column(Text, nullable=False)
    reason = Column(Text, nullable=False)
    state = Column(String(10), nullable=False, default="pending", index=True)
    filed_by = Column(String(64))
    filed_at = Column(DateTime, nullable=False, default=utcnow)
    decided_by = Column(String(64))
    decided_at = Column(DateTime)
    comment = Column(Text)
    version = Column(Integer, nullable=False, default=1)

    student = relationship("Student")
    school = relationship("School")
    files = relationship("StudentFile", viewonly=True, order_by="StudentFile.id")

    __mapper_args__ = {"version_id_col": version}
