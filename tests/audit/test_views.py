"""The audit screens: a SchoolLeader sees their school's entries, a BureauOfficer their
region's, both with personal values masked; a Teacher is refused (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from admin.audit import audit_actor
from admin.extensions import db
from admin.models import AuditLog, School, Student
from admin.services.accounts import create_account
from tests.conftest import login_via_form

PASSWORD = "Audit-Screen-2026!"
LIST = "/auditlogview/list/?psize_AuditLogView=10000"


@pytest.fixture
def screens(initialized_app, world):
    with initialized_app.app_context():
        create_account(
            username="leader_a",
            password=PASSWORD,
            role="SchoolLeader",
            school=world.school_codes["A"],
        )
        create_account(username="officer", password=PASSWORD, role="BureauOfficer", region="6401")
        create_account(
            username="teacher_a", password=PASSWORD, role="Teacher", school=world.school_codes["A"]
        )
        create_account(username="root", password=PASSWORD, role="Admin")
        with audit_actor("registrar", reason="更正"):
            for key in ("A", "B", "C"):
                student = db.session.get(Student, world.students[key])
                student.name = student.name + "一"
                db.session.get(School, world.schools[key]).address = f"{key}路1号"
            db.session.commit()
    return initialized_app


def _client(app, username: str):
    client = app.test_client()
    response = login_via_form(client, username, PASSWORD)
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    return client


def _listed(client, url: str = LIST) -> set[int]:
    page = client.get(url)
    assert page.status_code == 200
    return {int(pk) for pk in re.findall(r"/auditlogview/show/(\d+)", page.get_data(as_text=True))}


def _ids(app, *where) -> set[int]:
    with app.app_context():
        return set(db.session.scalars(select(AuditLog.id).where(*where)))


def _student_entry(app, key_id: int, action: str) -> int:
    with app.app_context():
        return db.session.scalars(
            select(AuditLog.id).where(
                AuditLog.table_name == "student",
                AuditLog.row_pk == str(key_id),
                AuditLog.action == action,
            )
        ).first()


def test_school_leader_sees_own_school_masked(screens, world):
    client = _client(screens, "leader_a")
    listed = _listed(client)
    own = _ids(screens, AuditLog.school_id == world.schools["A"])
    assert listed == own
    assert _student_entry(screens, world.students["A"], "update") in listed
    assert _student_entry(screens, world.students["C"], "update") not in listed
    # Their own sign-in is an entry of their school too.
    assert _ids(screens, AuditLog.action == "login", AuditLog.username == "leader_a") <= listed

    page = client.get(
        f"/auditlogview/show/{_student_entry(screens, world.students['A'], 'insert')}"
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "马**" in html and "马小宁" not in html
    full = world.id_numbers["A"]
    assert full not in html and f"{full[:4]}**********{full[-4:]}" in html
    update = client.get(
        f"/auditlogview/show/{_student_entry(screens, world.students['A'], 'update')}"
    )
    assert "马** → 马***" in update.get_data(as_text=True)

    other = _student_entry(screens, world.students["C"], "update")
    assert client.get(f"/auditlogview/show/{other}").status_code == 404


def test_bureau_officer_sees_own_region(screens, world):
    client = _client(screens, "officer")
    listed = _listed(client)
    assert listed == _ids(screens, AuditLog.region_code.startswith("6401"))
    for key in ("A", "B"):
        assert _student_entry(screens, world.students[key], "update") in listed
    assert _student_entry(screens, world.students["C"], "update") not in listed
    page = client.get(
        f"/auditlogview/show/{_student_entry(screens, world.students['B'], 'insert')}"
    )
    html = page.get_data(as_text=True)
    assert "李**" in html and "李文博" not in html and world.id_numbers["B"] not in html


def test_teacher_is_refused(screens):
    client = _client(screens, "teacher_a")
    assert client.get("/auditlogview/list/").status_code == 403
    assert client.get("/auditlogview/show/1").status_code == 403


def test_admin_sees_everything_unmasked_and_can_search(screens, world):
    client = _client(screens, "root")
    assert _listed(client) == _ids(screens)
    entry = _student_entry(screens, world.students["C"], "insert")
    html = client.get(f"/auditlogview/show/{entry}").get_data(as_text=True)
    assert "王雨桐" in html and world.id_numbers["C"] in html
    by_user = _listed(client, LIST + "&_flt_3_username=registrar")
    assert by_user == _ids(screens, AuditLog.username == "registrar")
    by_table = _listed(client, LIST + "&_flt_3_table_name=school&_flt_3_action=update")
    assert by_table == _ids(screens, AuditLog.table_name == "school", AuditLog.action == "update")
    in_range = _listed(
        client, LIST + "&_flt_1_at=2000-01-01 00:00:00&_flt_2_at=2999-01-01 00:00:00"
    )
    assert in_range == _ids(screens)
    assert _listed(client, LIST + "&_flt_2_at=2000-01-01 00:00:00") == set()


def test_audit_screen_is_read_only(screens):
    client = _client(screens, "root")
    for url in ("/auditlogview/add", "/auditlogview/edit/1", "/auditlogview/delete/1"):
        assert client.get(url).status_code in (403, 404, 405), url


def test_an_edit_through_the_ui_is_audited_with_the_signed_in_user(screens, world):
    from tests.conftest import csrf_token_from

    client = _client(screens, "root")
    url = f"/schoolview/edit/{world.schools['B']}"
    form = client.get(url)
    assert form.status_code == 200
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token_from(form),
            "name": "兴庆区第二小学",
            "kind": "primary",
            "primary_years": "6",
            "urban_rural": "111",
            "address": "丽景街9号",
            "is_active": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with screens.app_context():
        entry = db.session.scalars(
            select(AuditLog).where(AuditLog.table_name == "school").order_by(AuditLog.id.desc())
        ).first()
        assert (entry.username, entry.address, entry.row_pk) == (
            "root",
            "127.0.0.1",
            str(world.schools["B"]),
        )
        assert entry.changes == {"address": {"old": "B路1号", "new": "丽景街9号"}}
        assert (entry.school_id, entry.region_code) == (world.schools["B"], "640104")
