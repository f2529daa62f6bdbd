"""Migrations, constraints and `xueji init` on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from admin import MIGRATIONS_DIR
from admin.extensions import db
from admin.models import (
    CodeItem,
    Enrollment,
    Region,
    School,
    SchoolClass,
    SchoolYear,
    Student,
    metadata,
)
from admin.services.setup import initialize

APP_TABLES = {t for t in metadata.tables if not t.startswith("ab_")}


def test_migrations_up_down_up(app):
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        tables = set(inspect(db.engine).get_table_names())
        assert tables >= APP_TABLES
        assert {"ab_user", "ab_role", "ab_permission_view"} <= tables
        downgrade(directory=MIGRATIONS_DIR, revision="base")
        left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        upgrade(directory=MIGRATIONS_DIR)
        assert set(inspect(db.engine).get_table_names()) >= APP_TABLES


def test_models_match_migrations(app):
    """Autogenerate against a migrated database finds nothing: models and migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            diff = compare_metadata(context, metadata)
    assert diff == []


def test_init_is_idempotent(initialized_app):
    with initialized_app.app_context():
        codes = db.session.scalar(select(func.count()).select_from(CodeItem))
        regions = db.session.scalar(select(func.count()).select_from(Region))
        second = initialize()
        assert second.codes.inserted == 0 and second.codes.updated == 0
        assert second.regions.inserted == 0 and second.regions.updated == 0
        assert second.roles_created == []
        assert db.session.scalar(select(func.count()).select_from(CodeItem)) == codes
        assert db.session.scalar(select(func.count()).select_from(Region)) == regions


def test_reference_data_loaded(initialized_app):
    with initialized_app.app_context():
        ethnic = db.session.scalars(
            select(CodeItem.code).where(CodeItem.code_set == "ethnicity")
        ).all()
        assert len(ethnic) == 58 and "97" in ethnic and "98" in ethnic
        beijing = db.session.get(Region, "110000")
        assert beijing.name == "北京市" and beijing.level == 1
        dongcheng = db.session.get(Region, "110101")
        assert dongcheng.parent_code == "110100" and dongcheng.parent.parent_code == "110000"
        yinchuan = db.session.get(Region, "640104")
        assert yinchuan.name == "兴庆区" and yinchuan.parent.name == "银川市"
        counties = db.session.scalar(
            select(func.count()).select_from(Region).where(Region.level == 3)
        )
        assert counties > 2800  # the whole nation's county level is loaded


def _minimal_world(session):
    year = SchoolYear(code="2026-2027", start_date=date(2026, 9, 1), end_date=date(2027, 8, 31))
    school = School(
        code="2164000001",
        name="兴庆区实验小学",
        kind="primary",
        primary_years=6,
        region_code="640104",
        urban_rural="111",
    )
    session.add_all([year, school])
    session.flush()
    klass = SchoolClass(
        school_id=school.id, school_year_id=year.id, grade_code="11", number=1, name="一年级(1)班"
    )
    session.add(klass)
    session.flush()
    return year, school, klass


def _student(number: str, id_number: str | None, doc_type: str = "1") -> Student:
    return Student(
        student_number=number,
        student_number_kind=number[0],
        name="测试",
        sex="1",
        birth_date=date(2020, 3, 1),
        birthplace_code="640104",
        native_place_code="640104",
        ethnicity="01",
        nationality="CHN",
        id_doc_type=doc_type,
        id_number=id_number,
        hukou_region_code="640104",
        hukou_type="2",
        current_address="a",
        mailing_address="a",
        home_address="a",
        phone="13800000000",
        postal_code="750001",
    )


def test_unique_student_number_and_id(initialized_app):
    with initialized_app.app_context():
        s = db.session
        s.add(_student("G640104202003010011", "640104202003010011"))
        s.commit()
        s.add(_student("G640104202003010011", "640104202003010038"))
        with pytest.raises(IntegrityError):
            s.commit()
        s.rollback()
        s.add(_student("L64010420200301 1234".replace(" ", ""), "640104202003010011"))
        with pytest.raises(IntegrityError):
            s.commit()
        s.rollback()
        # Students without an ID document (type Z) may all have NULL numbers.
        s.add(_student("L6401042020030100001"[:19], None, "Z"))
        s.add(_student("L6401042020030100002"[:18] + "9", None, "Z"))
        s.commit()
        assert s.scalar(select(func.count()).select_from(Student)) == 3


def test_one_active_enrollment_per_student_and_year(initialized_app):
    with initialized_app.app_context():
        s = db.session
        year, school, klass = _minimal_world(s)
        student = _student("G640104202003010011", "640104202003010011")
        s.add(student)
        s.flush()

        def enrollment(active: bool) -> Enrollment:
            return Enrollment(
                student_id=student.id,
                school_id=school.id,
                school_year_id=year.id,
                class_id=klass.id,
                grade_code="11",
                stage_entry_ym="202609",
                entry_date=date(2026, 9, 1),
                admission_method="11",
                is_active=active,
            )

        s.add(enrollment(True))
        s.commit()
        s.add(enrollment(True))
        with pytest.raises(IntegrityError):
            s.commit()
        s.rollback()
        # An ended enrollment (e.g. before a mid-year transfer) does not count.
        s.add(enrollment(False))
        s.commit()


def test_school_kind_and_primary_years_checked(initialized_app):
    with initialized_app.app_context():
        s = db.session
        s.add(
            School(
                code="2164000009",
                name="x",
                kind="primary",
                primary_years=7,
                region_code="640104",
                urban_rural="111",
            )
        )
        with pytest.raises(IntegrityError):
            s.commit()
        s.rollback()
