"""GB/T 2260 administrative divisions: province → prefecture → county."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Column, Date, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

REGION_LEVELS = {1: "province", 2: "prefecture", 3: "county"}


class Region(Model):
    __tablename__ = "region"

    code = Column(String(6), primary_key=True)  # 6-digit GB/T 2260 code
    name = Column(String(64), nullable=False)
    level = Column(Integer, nullable=False)  # 1 province, 2 prefecture, 3 county
    parent_code = Column(String(6), ForeignKey("region.code"), index=True)
    province_code = Column(String(2), nullable=False, index=True)
    valid_from = Column(Date)
    valid_to = Column(Date)  # NULL = in force

    parent = relationship("Region", remote_side=[code], backref="children")

    def __repr__(self) -> str:
        return f"{self.name}({self.code})"
