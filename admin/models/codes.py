"""Code tables stored as data, with validity dates (DOMAIN §3.3, §4.2, §4.4)."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, Date, ForeignKey, Integer, String, Text, UniqueConstraint


class CodeSet(Model):
    __tablename__ = "code_set"

    code_set = Column(String(40), primary_key=True)
    name_zh = Column(String(64), nullable=False)
    name_en = Column(String(128), nullable=False)
    standard = Column(String(128))
    source = Column(Text)

    def __repr__(self) -> str:
        return f"{self.name_zh} ({self.code_set})"


class CodeItem(Model):
    __tablename__ = "code_item"
    __table_args__ = (UniqueConstraint("code_set", "code", "valid_from", name="uq_code_item"),)

    id = Column(Integer, primary_key=True)
    code_set = Column(String(40), ForeignKey("code_set.code_set"), nullable=False, index=True)
    code = Column(String(16), nullable=False)
    name_zh = Column(String(64), nullable=False)
    name_en = Column(String(200), nullable=False)
    parent_code = Column(String(16))
    std_code = Column(String(16))  # mapping to the national standard where the form differs
    valid_from = Column(Date, nullable=False)
    valid_to = Column(Date)  # NULL = in force
    sort_order = Column(Integer, nullable=False, default=0)

    def __repr__(self) -> str:
        return f"{self.code} {self.name_zh}"
