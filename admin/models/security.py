"""A user's scope (ARCHITECTURE contract): a GB/T 2260 region prefix (2, 4 or 6 digits; empty
= national) or one school. Kept beside FAB's ab_user rather than subclassing it."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, ForeignKey, Integer, String


class UserScope(Model):
    __tablename__ = "user_scope"

    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    region_prefix = Column(String(6))  # NULL/empty with no school = national
    school_id = Column(Integer, ForeignKey("school.id"))
