"""Another school's records stay out of reach through every path: direct URLs, REST verbs,
search, related lists, bulk actions, and creating or moving records."""

from __future__ import annotations

from sqlalchemy import func, select

from admin.extensions import db
from admin.models import Enrollment, SchoolClass, Student
from tests.scope.conftest import jwt, login


def test_direct_urls_to_another_schools_student_are_not_found(world):
    client = world.app.test_client()
    login(client, world.users["registrar"])
    b = world.student_b
    for url in (
        f"/studentview/show/{b}",
        f"/studentview/edit/{b}",
        f"/guardianview/show/{world.guardian_b}",
        f"/enrollmentview/edit/{world.enrollment_b}",
    ):
        assert client.get(url).status_code == 404, url
    world.app.config["WTF_CSRF_ENABLED"] = False
    try:
        assert (
            client.post(f"/studentview/edit/{b}", data={"phone": "13900000000"}).status_code == 404
        )
        assert client.post(f"/guardianview/delete/{world.guardian_b}").status_code == 404
    finally:
        world.app.config["WTF_CSRF_ENABLED"] = True
    own = client.get(f"/studentview/show/{world.student_a}")
    assert own.status_code == 200


def test_every_rest_verb_on_another_schools_rows_is_not_found(world):
    client = world.app.test_client()
    headers = jwt(client, "registrar")
    b = world.student_b
    assert client.get(f"/api/v1/student/{b}", headers=headers).status_code == 404
    assert (
        client.put(
            f"/api/v1/student/{b}", json={"phone": "13900000000", "version": 1}, headers=headers
        ).status_code
        == 404
    )
    assert client.delete(f"/api/v1/student/{b}", headers=headers).status_code in (403, 404)
    assert client.get(f"/api/v1/guardian/{world.guardian_b}", headers=headers).status_code == 404
    assert client.delete(f"/api/v1/guardian/{world.guardian_b}", headers=headers).status_code == 404
    assert (
        client.get(f"/api/v1/enrollment/{world.enrollment_b}", headers=headers).status_code == 404
    )
    with world.app.app_context():
        assert db.session.get(Student, b).phone != "13900000000"


def test_lists_and_search_only_show_own_school(world):
    client = world.app.test_client()
    headers = jwt(client, "registrar")
    with world.app.app_context():
        own = db.session.scalar(
            select(func.count())
            .select_from(Student)
            .where(Student.current_school_id == world.school_a)
        )
        other = db.session.get(Student, world.student_b)
        other_id_number, other_number = other.id_number, other.student_number
    listing = client.get("/api/v1/student/?q=(page_size:100)", headers=headers).json
    assert listing["count"] == own
    assert all(row["current_school"]["id"] == world.school_a for row in listing["result"])
    # Searching another school's student by ID number finds nothing, on screen or API.
    search = client.get(
        f"/api/v1/student/?q=(filters:!((col:id_number,opr:eq,value:'{other_id_number}')))",
        headers=headers,
    ).json
    assert search["count"] == 0
    login(client, world.users["registrar"])
    page = client.get(f"/studentview/list/?_flt_0_id_number={other_id_number}")
    # (the search box echoes the term itself; the record must not appear)
    assert page.status_code == 200 and other_number not in page.get_data(as_text=True)
    related = client.get(f"/guardianview/list/?_flt_0_student={world.student_b}")
    assert other_number not in related.get_data(as_text=True)


def test_bulk_action_with_a_foreign_row_changes_nothing(world):
    client = world.app.test_client()
    login(client, world.users["registrar"])
    world.app.config["WTF_CSRF_ENABLED"] = False
    try:
        response = client.post(
            "/studentview/action_post",
            data={
                "action": "confirm_contact",
                "rowid": [str(world.student_a), str(world.student_b)],
            },
        )
    finally:
        world.app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code in (302, 200)
    with world.app.app_context():
        for sid in (world.student_a, world.student_b):
            student = db.session.get(Student, sid)
            assert student.updated_by != "registrar"
    # Own rows alone go through.
    world.app.config["WTF_CSRF_ENABLED"] = False
    try:
        client.post(
            "/studentview/action_post",
            data={"action": "confirm_contact", "rowid": [str(world.student_a)]},
        )
    finally:
        world.app.config["WTF_CSRF_ENABLED"] = True
    with world.app.app_context():
        assert db.session.get(Student, world.student_a).updated_by == "registrar"


def test_rest_cannot_place_records_in_another_school(world):
    client = world.app.test_client()
    headers = jwt(client, "registrar")
    with world.app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Student))
        class_b = db.session.scalars(
            select(SchoolClass.id).where(SchoolClass.school_id == world.school_b)
        ).first()
        enrollment_a = db.session.scalars(
            select(Enrollment)
            .where(Enrollment.student_id == world.student_a)
            .order_by(Enrollment.id.desc())
        ).first()
        enrollment_a_id, version, class_before = (
            enrollment_a.id,
            enrollment_a.version,
            enrollment_a.class_id,
        )
    new_student = {
        "name": "外校生",
        "sex": "1",
        "birth_date": "2018-05-01",
        "birthplace_code": "110101",
        "native_place_code": "110101",
        "ethnicity": "01",
        "nationality": "CHN",
        "id_doc_type": "Z",
        "overseas_chinese": "00",
        "health": "10",
        "hukou_region_code": "110101",
        "hukou_type": "2",
        "current_address": "x",
        "mailing_address": "x",
        "home_address": "x",
        "phone": "13800000000",
        "postal_code": "100010",
        "current_school": world.school_b,
    }
    created = client.post("/api/v1/student/", json=new_student, headers=headers)
    assert created.status_code == 403, created.get_data(as_text=True)
    moved = client.put(
        f"/api/v1/enrollment/{enrollment_a_id}",
        json={"school_class": class_b, "version": version},
        headers=headers,
    )
    assert moved.status_code == 403, moved.get_data(as_text=True)
    with world.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Student)) == before
        assert db.session.get(Enrollment, enrollment_a_id).class_id == class_before


def test_statistics_roles_see_no_person(world):
    client = world.app.test_client()
    for username in ("analyst", "leader_view"):
        headers = jwt(client, username)
        assert client.get("/api/v1/student/", headers=headers).status_code == 403
        login(client, world.users[username])
        assert client.get("/studentview/list/").status_code == 403


def test_parent_and_teacher_see_only_their_children_and_classes(world):
    client = world.app.test_client()
    parent = client.get("/api/v1/student/", headers=jwt(client, "parent")).json
    assert [r["id"] for r in parent["result"]] == [world.student_a]
    teacher = client.get("/api/v1/student/?q=(page_size:100)", headers=jwt(client, "teacher")).json
    assert teacher["count"] > 0
    assert {r["current_class"]["id"] for r in teacher["result"]} == {world.class_a}
    assert (
        client.put(
            f"/api/v1/student/{world.student_a}",
            json={"phone": "13900000001"},
            headers=jwt(client, "parent"),
        ).status_code
        == 403
    )


def test_bureau_officer_sees_own_region_only(world):
    client = world.app.test_client()
    rows = client.get("/api/v1/school/?q=(page_size:100)", headers=jwt(client, "officer")).json
    assert rows["count"] > 0
    assert all(r["region"]["code"].startswith(world.region_a) for r in rows["result"])
    assert (
        client.get(f"/api/v1/student/{world.student_b}", headers=jwt(client, "officer")).status_code
        == 404
    )
