"""Schools, school years, terms and classes."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

SCHOOL_KINDS = ("primary", "junior", "senior", "nine_year", "complete", "twelve_year", "special")

# Which stages each kind of school teaches.
STAGES_BY_KIND = {
    "primary": ("primary",),
    "junior": ("junior",),
    "senior": ("senior",),
    "nine_year": ("primary", "junior"),
    "complete": ("junior", "senior"),
    "twelve_year": ("primary", "junior", "senior"),
    "special": ("primary", "junior"),
}


class School(Model):
    __tablename__ = "school"
    __table_args__ = (
        CheckConstraint("primary_years IN (5, 6)", name="ck_school_primary_years"),
        CheckConstraint(
            "kind IN ('primary','junior','senior','nine_year','complete','twelve_year','special')",
            name="ck_school_kind",
        ),
    )

    id = Column(Integer, primary_key=True)
    code = Column(String(10), nullable=False, unique=True)  # 学校标识码
    name = Column(String(100), nullable=False)
    kind = Column(String(16), nullable=False)
    primary_years = Column(Integer, nullable=False, default=6)  # 小学学制 5 or 6
    region_code = Column(String(6), ForeignKey("region.code"), nullable=False, index=True)
    urban_rural = Column(String(3), nullable=False)  # 城乡分类代码
    address = Column(String(200))
    is_active = Column(Boolean, nullable=False, default=True)
    # 信息变更登记: when on, a registrar's edits of ordinary fields wait for the school
    # leader's review instead of applying at once (admin/services/corrections.py).
    info_change_review = Column(Boolean, nullable=False, default=False)

    region = relationship("Region")

    def __repr__(self) -> str:
        return self.name or ""


class SchoolYear(Model):
    __tablename__ = "school_year"

    id = Column(Integer, primary_key=True)
    code = Column(String(9), nullable=False, unique=True)  # "2025-2026"
    start_date = Column(Date, nullable=False)
    end_date = Column(Date, nullable=False)

    terms = relationship("Term", back_populates="school_year", order_by="Term.number")

    def __repr__(self) -> str:
        return self.code or ""


class Term(Model):
    __tablename__ = "term"
    __table_args__ = (UniqueConstraint("school_year_id", "number", name="uq_term"),)

    id = Column(Integer, primary_key=True)
    school_year_id = Column(Integer, ForeignKey("school_year.id"), nullable=False)
    number = Column(Integer, nullable=False)  # 1 autumn, 2 spring
    start_date = Column(Date, nullable=False)
    end_date = Column(Date, nullable=False)

    school_year = relationship("SchoolYear", back_populates="terms")

    def __repr__(self) -> str:
        return f"{self.school_year.code if self.school_year else ''} T{self.number}"


class SchoolClass(Model):
    __tablename__ = "school_class"
    __table_args__ = (
        UniqueConstraint("school_id", "school_year_id", "grade_code", "number", name="uq_class"),
    )

    id = Column(Integer, primary_key=True)
    school_id = Column(Integer, ForeignKey("school.id"), nullable=False, index=True)
    school_year_id = Column(Integer, ForeignKey("school_year.id"), nullable=False, index=True)
    grade_code = Column(String(2), nullable=False)
    number = Column(Integer, nullable=False)
    name = Column(String(40), nullable=False)  # "三年级(2)班"

    school = relationship("School")
    school_year = relationship("SchoolYear")

    def __repr__(self) -> str:
        return self.name or ""
