"""Files attached to students: the photo (form item 13) and proof documents. The bytes live
under the data folder by content hash (never under static/); this table says whose they are."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from .students import utcnow


class StudentFile(Model):
    __tablename__ = "student_file"

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False, index=True)
    kind = Column(String(16), nullable=False)  # photo | proof
    sha256 = Column(String(64), nullable=False, index=True)
    mime_type = Column(String(40), nullable=False)
    size_bytes = Column(Integer, nullable=False)
    original_name = Column(String(200))
    description = Column(String(200))
    uploaded_by = Column(String(64))
    uploaded_at = Column(DateTime, nullable=False, default=utcnow)
    # Proof attached to a status-change request (and the step it was added at).
    request_id = Column(Integer, ForeignKey("status_change_request.id"), index=True)
    step_seq = Column(Integer)
    # Proof attached to a record change request (信息变更, admin/models/corrections.py).
    change_request_id = Column(Integer, ForeignKey("info_change_request.id"), index=True)

    student = relationship("Student")
