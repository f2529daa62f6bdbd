"""A small seeded registry with one account per role, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from tests.conftest import SEED_TODAY, make_app, make_database

PASSWORD = "Scope-Test-2026!"


@dataclass
class World:
    app: object
    backend: str
    users: dict[str, int] = field(default_factory=dict)  # username -> user id
    school_a: int = 0  # the registrar's school
    school_b: int = 0  # a school in another province
    student_a: int = 0  # a student at school A
    student_b: int = 0  # a student at school B
    class_a: int = 0  # the teacher's class at school A
    guardian_b: int = 0
    enrollment_b: int = 0
    region_a: str = ""  # 4-digit prefecture prefix of school A


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def world(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"scope-{request.param}")
    url, handle = make_database(request.param, folder)
    app = make_app(url, folder)
    from admin.extensions import db
    from admin.models import Enrollment, Guardian, ParentLink, School, Student, TeachingAssignment
    from admin.services.accounts import create_account
    from admin.services.seed import SeedOptions, seed_database
    from admin.services.setup import initialize

    w = World(app=app, backend=request.param)
    with app.app_context():
        initialize()
        seed_database(db.engine, SeedOptions(students=1200, years=2, seed=3, today=SEED_TODAY))
        s = db.session
        a = s.scalars(
            select(School).where(School.region_code.startswith("64")).order_by(School.id)
        ).first()
        b = s.scalars(
            select(School).where(School.region_code.startswith("11")).order_by(School.id)
        ).first()
        w.school_a, w.school_b, w.region_a = a.id, b.id, a.region_code[:4]
        sa = s.scalars(
            select(Student).where(Student.current_school_id == a.id, Student.current_status == "01")
        ).first()
        sb = s.scalars(
            select(Student).where(Student.current_school_id == b.id, Student.current_status == "01")
        ).first()
        w.student_a, w.student_b, w.class_a = sa.id, sb.id, sa.current_class_id
        w.guardian_b = s.scalars(select(Guardian.id).where(Guardian.student_id == sb.id)).first()
        w.enrollment_b = s.scalars(
            select(Enrollment.id).where(Enrollment.student_id == sb.id)
        ).first()
        accounts = [
            ("admin", "Admin", {}),
            ("officer", "BureauOfficer", {"region": w.region_a}),
            ("analyst", "BureauAnalyst", {"region": "64"}),
            ("leader_view", "Leadership", {}),
            ("registrar", "SchoolRegistrar", {"school": a.code}),
            ("registrar_b", "SchoolRegistrar", {"school": b.code}),
            ("principal", "SchoolLeader", {"school": a.code}),
            ("teacher", "Teacher", {"school": a.code}),
            ("parent", "Parent", {}),
        ]
        sm = app.appbuilder.sm
        for username, role, scope in accounts:
            create_account(username=username, password=PASSWORD, role=role, **scope)
            w.users[username] = sm.find_user(username=username).id
        s.add(TeachingAssignment(user_id=w.users["teacher"], class_id=w.class_a))
        s.add(ParentLink(user_id=w.users["parent"], student_id=sa.id))
        s.commit()
    yield w
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if handle is not None:
        handle.drop()


def login(client, user_id: int) -> None:
    """Sign a test client in as a user (Flask-Login session), bypassing the login form:
    the form itself (captcha, lockout) is tested in tests/security."""
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True


def jwt(client, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post(
        "/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db", "refresh": False},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.json['access_token']}"}
