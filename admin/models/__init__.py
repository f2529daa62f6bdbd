"""Operational schema. One module per area; all tables hang off FAB's Model.metadata so that
Alembic sees FAB's ab_* tables and ours in one history."""

from flask_appbuilder import Model

from .academics import (
    Attendance,
    Evaluation,
    EvaluationObjection,
    EvaluationRecord,
    Exam,
    ExamClass,
    ExamSubject,
    Notification,
    Score,
    TeachingAssignment,
    TermEvaluation,
    TimetableSlot,
)
from .audit import AuditLog
from .codes import CodeItem, CodeSet
from .corrections import InfoChangeRequest
from .files import StudentFile
from .geo import Region
from .graduation import Diploma, Graduation
from .schools import School, SchoolClass, SchoolYear, Term
from .security import ParentLink, PasswordResetToken, UserScope
from .status import StatusChangeRequest, StatusChangeStep
from .students import (
    Enrollment,
    Guardian,
    JNumberSequence,
    Student,
    StudentIdDocument,
    StudentNumberHistory,
)

metadata = Model.metadata

__all__ = [
    "Attendance",
    "AuditLog",
    "CodeItem",
    "CodeSet",
    "Enrollment",
    "Evaluation",
    "EvaluationObjection",
    "EvaluationRecord",
    "Exam",
    "ExamClass",
    "ExamSubject",
    "Diploma",
    "Graduation",
    "InfoChangeRequest",
    "Guardian",
    "JNumberSequence",
    "Model",
    "Notification",
    "ParentLink",
    "PasswordResetToken",
    "Region",
    "School",
    "SchoolClass",
    "SchoolYear",
    "StatusChangeRequest",
    "StatusChangeStep",
    "Student",
    "StudentFile",
    "StudentIdDocument",
    "StudentNumberHistory",
    "Score",
    "TeachingAssignment",
    "Term",
    "TermEvaluation",
    "TimetableSlot",
    "UserScope",
    "metadata",
]
