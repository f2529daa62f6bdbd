"""Operational schema. One module per area; all tables hang off FAB's Model.metadata so that
Alembic sees FAB's ab_* tables and ours in one history."""

from flask_appbuilder import Model

from .audit import AuditLog
from .codes import CodeItem, CodeSet
from .geo import Region
from .schools import School, SchoolClass, SchoolYear, Term
from .security import UserScope
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
    "AuditLog",
    "CodeItem",
    "CodeSet",
    "Enrollment",
    "Guardian",
    "JNumberSequence",
    "Model",
    "Region",
    "School",
    "SchoolClass",
    "SchoolYear",
    "StatusChangeRequest",
    "StatusChangeStep",
    "Student",
    "StudentIdDocument",
    "StudentNumberHistory",
    "Term",
    "UserScope",
    "metadata",
]
