"""A user's scope (ARCHITECTURE contract): a GB/T 2260 region prefix (2, 4 or 6 digits; empty
= national) or one school; a parent's children. Kept beside FAB's ab_user rather than
subclassing it."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import relationship

from .students import utcnow


class UserScope(Model):
    __tablename__ = "user_scope"

    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    region_prefix = Column(String(6))  # NULL/empty with no school = national
    school_id = Column(Integer, ForeignKey("school.id"))
    password_changed_at = Column(DateTime, default=utcnow)

    school = relationship("School")


class ParentLink(Model):
    """A parent account linked to a child (the school links it, checked against the
    guardian's ID number)."""

    __tablename__ = "parent_link"
    __table_args__ = (UniqueConstraint("user_id", "student_id", name="uq_parent_link"),)

    id = Column(Integer, primary_key=True)
    user_id = Column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    student_id = Column(Integer, ForeignKey("student.id"), nullable=False, index=True)
    linked_at = Column(DateTime, nullable=False, default=utcnow)

    student = relationship("Student")


class PasswordResetToken(Model):
    """A single-use, expiring password-reset token; only its SHA-256 is stored."""

    __tablename__ = "password_reset_token"

    id = Column(Integer, primary_key=True)
    user_id = Column(
        Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)
    used_at = Column(DateTime)
