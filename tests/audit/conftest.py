"""A small registry for audit tests: two schools in 兴庆区 (640104), one in 东城区 (110101),
one student each (written through the ORM, so every row is audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select

from admin.audit import audit_actor
from admin.domain.idcard import make_id_number
from admin.extensions import db
from admin.models import AuditLog, Guardian, School, SchoolClass, SchoolYear, Student

SCHOOLS = {
    "A": ("2164000001", "兴庆区实验小学", "640104"),
    "B": ("2164000002", "兴庆区第二小学", "640104"),
    "C": ("2111000001", "东城区第一小学", "110101"),
}
NAMES = {"A": "马小宁", "B": "李文博", "C": "王雨桐"}


@dataclass
class World:
    schools: dict[str, int]
    school_codes: dict[str, str]
    students: dict[str, int]
    id_numbers: dict[str, str]


def make_student(session, key: str, school: School, klass: SchoolClass, seq: int) -> Student:
    birth = date(2019, 3, 1 + seq)
    id_number = make_id_number(school.region_code, birth, 2 * seq)
    student = Student(
        student_number=f"L{school.region_code}{birth:%Y%m%d}{seq:04d}",
        student_number_kind="L",
        name=NAMES[key],
        sex="2",
        birth_date=birth,
        birthplace_code=school.region_code,
        native_place_code=school.region_code,
        ethnicity="01",
        id_doc_type="1",
        id_number=id_number,
        hukou_region_code=school.region_code,
        hukou_type="2",
        current_address=f"{school.name}旁{seq}号",
        mailing_address=f"{school.name}旁{seq}号",
        home_address=f"{school.name}旁{seq}号",
        phone="13995112233",
        postal_code="750001",
        current_school_id=school.id,
        current_class_id=klass.id,
        current_grade_code=klass.grade_code,
    )
    session.add(student)
    return student


def build_world(session) -> World:
    with audit_actor("setup", reason="test world"):
        year = SchoolYear(code="2026-2027", start_date=date(2026, 9, 1), end_date=date(2027, 8, 31))
        session.add(year)
        schools = {}
        for key, (code, name, region) in SCHOOLS.items():
            schools[key] = School(
                code=code,
                name=name,
                kind="primary",
                primary_years=6,
                region_code=region,
                urban_rural="111",
            )
        session.add_all(schools.values())
        session.flush()
        students = {}
        for seq, (key, school) in enumerate(schools.items(), start=1):
            klass = SchoolClass(
                school_id=school.id,
                school_year_id=year.id,
                grade_code="12",
                number=1,
                name="二年级(1)班",
            )
            session.add(klass)
            session.flush()
            students[key] = make_student(session, key, school, klass, seq)
        session.flush()
        for seq, (key, student) in enumerate(students.items(), start=1):
            session.add(
                Guardian(
                    student_id=student.id,
                    seq=1,
                    name=NAMES[key][0] + "建国",
                    relationship_code="1",
                    phone="13995112234",
                    id_doc_type="1",
                    id_number=make_id_number("640104", date(1988, 1, 1), 2 * seq + 1),
                )
            )
        session.commit()
        return World(
            schools={k: s.id for k, s in schools.items()},
            school_codes={k: s.code for k, s in schools.items()},
            students={k: s.id for k, s in students.items()},
            id_numbers={k: s.id_number for k, s in students.items()},
        )


@pytest.fixture
def world(initialized_app) -> World:
    with initialized_app.app_context():
        return build_world(db.session)


def last_id(session) -> int:
    return session.scalar(select(func.coalesce(func.max(AuditLog.id), 0)))


def entries_after(session, first: int) -> list[AuditLog]:
    return list(session.scalars(select(AuditLog).where(AuditLog.id > first).order_by(AuditLog.id)))
