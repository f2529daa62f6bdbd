"""A small seeded registry for the status-change workflow, with one account per handling
unit of a cross-province transfer (Ningxia 64 → Beijing 11) and of a same-county transfer.
Built once per backend, cloned for each test (tests change students)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import PgDatabase, make_app, make_database

PASSWORD = "Lifecycle-Test-2026!"
TODAY = date(2026, 11, 30)  # a Monday in the seeded school year 2026-2027


@dataclass
class Cast:
    """Ids and codes the tests need; users by username."""

    sending: int = 0  # school S in province 64
    receiving: int = 0  # school R in province 11
    neighbour: int = 0  # school N in R's county
    student: int = 0  # a G-numbered 在校 student at S, not in a graduating grade
    l_student: int = 0  # a student at S still on an L number
    target_class: int = 0  # a class at R in the student's grade
    neighbour_class: int = 0  # a class at N in the student's grade
    other_class: int = 0  # another class at S in the student's grade (调班)
    users: dict[str, int] = field(default_factory=dict)


def _build(kind: str, folder) -> tuple[str, object, Cast]:
    url, handle = make_database(kind, folder)
    app = make_app(url, folder)
    from admin.domain.workflow import is_graduating_grade
    from admin.extensions import db
    from admin.models import School, SchoolClass, Student
    from admin.services.accounts import create_account
    from admin.services.seed import SeedOptions, seed_database
    from admin.services.setup import initialize

    cast = Cast()
    with app.app_context():
        initialize()
        seed_database(
            db.engine, SeedOptions(students=2000, years=1, seed=5, today=date(2026, 11, 28))
        )
        s = db.session
        schools = s.scalars(select(School).order_by(School.id)).all()

        def grades(school: School) -> set[str]:
            return {
                c.grade_code
                for c in s.scalars(select(SchoolClass).where(SchoolClass.school_id == school.id))
            }

        found = None
        for sending in (x for x in schools if x.region_code.startswith("64")):
            for receiving in (x for x in schools if x.region_code.startswith("11")):
                for grade in sorted(grades(sending) & grades(receiving)):
                    if any(
                        is_graduating_grade(grade, x.primary_years) for x in (sending, receiving)
                    ):
                        continue
                    classes_s = s.scalars(
                        select(SchoolClass).where(
                            SchoolClass.school_id == sending.id, SchoolClass.grade_code == grade
                        )
                    ).all()
                    student = s.scalars(
                        select(Student).where(
                            Student.current_school_id == sending.id,
                            Student.current_grade_code == grade,
                            Student.current_status == "01",
                            Student.student_number_kind == "G",
                        )
                    ).first()
                    if student and classes_s:
                        found = (sending, receiving, grade, student, classes_s)
                        break
                if found:
                    break
            if found:
                break
        assert found, "the seed has no usable school pair"
        sending, receiving, grade, student, classes_s = found
        # A second school in R's county (the seed makes one school per kind and county).
        year_id = classes_s[0].school_year_id
        nb = School(
            code="2199999901",
            name="测试县第二学校",
            kind=receiving.kind,
            primary_years=receiving.primary_years,
            region_code=receiving.region_code,
            urban_rural=receiving.urban_rural,
        )
        s.add(nb)
        s.flush()
        s.add(
            SchoolClass(
                school_id=nb.id,
                school_year_id=year_id,
                grade_code=grade,
                number=1,
                name="测试(1)班",
            )
        )
        s.flush()
        cast.sending, cast.receiving, cast.neighbour = sending.id, receiving.id, nb.id
        cast.student = student.id
        other = SchoolClass(
            school_id=sending.id,
            school_year_id=year_id,
            grade_code=grade,
            number=99,
            name="测试(99)班",
        )
        s.add(other)
        s.flush()
        cast.other_class = other.id

        def class_at(school: School) -> int:
            return s.scalars(
                select(SchoolClass.id).where(
                    SchoolClass.school_id == school.id, SchoolClass.grade_code == grade
                )
            ).first()

        cast.target_class, cast.neighbour_class = class_at(receiving), class_at(nb)
        cast.l_student = s.scalars(
            select(Student.id).where(
                Student.current_school_id == sending.id,
                Student.student_number_kind == "L",
                Student.current_status == "01",
            )
        ).first()
        accounts = [
            ("admin", "Admin", {}),
            ("reg_s", "SchoolRegistrar", {"school": sending.code}),
            ("lead_s", "SchoolLeader", {"school": sending.code}),
            ("county_s", "BureauOfficer", {"region": sending.region_code}),
            ("prov_s", "BureauOfficer", {"region": "64"}),
            ("reg_r", "SchoolRegistrar", {"school": receiving.code}),
            ("lead_r", "SchoolLeader", {"school": receiving.code}),
            ("county_r", "BureauOfficer", {"region": receiving.region_code}),
            ("prov_r", "BureauOfficer", {"region": "11"}),
            ("reg_n", "SchoolRegistrar", {"school": nb.code}),
            ("lead_n", "SchoolLeader", {"school": nb.code}),
            ("teacher_s", "Teacher", {"school": sending.code}),
        ]
        sm = app.appbuilder.sm
        for username, role, scope in accounts:
            create_account(username=username, password=PASSWORD, role=role, **scope)
            cast.users[username] = sm.find_user(username=username).id
        s.commit()
        db.session.remove()
        db.engine.dispose()
    return url, handle, cast


@pytest.fixture(scope="session")
def lifecycle_templates(tmp_path_factory):
    built: dict[str, tuple[str, object, Cast]] = {}

    def get(kind: str) -> tuple[str, object, Cast]:
        if kind not in built:
            built[kind] = _build(kind, tmp_path_factory.mktemp(f"lifecycle-{kind}"))
        return built[kind]

    yield get
    for _, handle, _ in built.values():
        if handle is not None:
            handle.drop()


@dataclass
class World:
    app: object
    backend: str
    cast: Cast
    url: str


@pytest.fixture(params=["sqlite", "pg"])
def lc(request, tmp_path, lifecycle_templates):
    """A fresh clone of the lifecycle registry for one test."""
    url, handle, cast = lifecycle_templates(request.param)
    if request.param == "sqlite":
        shutil.copyfile(url.removeprefix("sqlite:///"), tmp_path / "xueji.db")
        clone_url, clone = f"sqlite:///{tmp_path / 'xueji.db'}", None
    else:
        clone = PgDatabase(template=handle.name)
        clone_url = clone.url
    app = make_app(clone_url, tmp_path)
    yield World(app=app, backend=request.param, cast=cast, url=clone_url)
    from admin.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if clone is not None:
        clone.drop()
