"""Schools, classes and students are typed lookups, not selects of every row; list counts
stop at a cap; "starts with" is a literal prefix."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from admin.extensions import db
from admin.models import Guardian, School, SchoolClass, Student
from tests.scope.conftest import jwt, login


def _listed(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r"/studentview/show/(\d+)", html)}


def _api_ids(client, headers, filters: str) -> tuple[int, set[int]]:
    body = client.get(
        f"/api/v1/student/?q=(filters:!({filters}),page_size:100)", headers=headers
    ).json
    return body["count"], {row["id"] for row in body["result"]}


def _school(world, pk: int) -> School:
    with world.app.app_context():
        school = db.session.get(School, pk)
        db.session.expunge(school)
        return school


def test_search_forms_list_no_schools_or_classes(world):
    """A province officer's student list used to render every school and class in scope as
    <option>s (44k on a national database); the filters are text boxes now."""
    client = world.app.test_client()
    login(client, world.users["admin"])
    school = _school(world, world.school_a)
    for url in ("/studentview/list/", "/enrollmentview/list/", "/schoolclassview/list/"):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(rf"<option[^>]*>\s*{re.escape(school.name)}", html), url
    for url in ("/guardianview/add", "/enrollmentview/add"):
        html = client.get(url).get_data(as_text=True)
        with world.app.app_context():
            number = db.session.get(Student, world.student_a).student_number
        assert number not in html, url


def test_school_filter_by_code_or_name_inside_scope(world):
    client = world.app.test_client()
    login(client, world.users["officer"])
    school_a, school_b = _school(world, world.school_a), _school(world, world.school_b)
    with world.app.app_context():
        at_a = set(
            db.session.scalars(select(Student.id).where(Student.current_school_id == school_a.id))
        )
    by_code = _listed(
        client.get(
            f"/studentview/list/?_flt_0_current_school={school_a.code}&psize_StudentView=100"
        ).get_data(as_text=True)
    )
    assert by_code and by_code <= at_a
    by_name = _listed(
        client.get(
            f"/studentview/list/?_flt_0_current_school={school_a.name}&psize_StudentView=100"
        ).get_data(as_text=True)
    )
    assert by_name == by_code
    # Another province's school matches nothing for this officer.
    other = client.get(f"/studentview/list/?_flt_0_current_school={school_b.code}")
    assert _listed(other.get_data(as_text=True)) == set()
    # The API takes the same lookup, and the related id as before.
    headers = jwt(client, "officer")
    count, ids = _api_ids(
        client, headers, f"(col:current_school,opr:school,value:'{school_a.code}')"
    )
    assert ids <= at_a and count == len(at_a)
    count, ids = _api_ids(client, headers, f"(col:current_school,opr:rel_o_m,value:{school_a.id})")
    assert ids <= at_a and count == len(at_a)


def test_class_filter_by_name(world):
    client = world.app.test_client()
    login(client, world.users["registrar"])
    with world.app.app_context():
        name = db.session.get(SchoolClass, world.class_a).name
        expected = set(
            db.session.scalars(
                select(Student.id)
                .join(SchoolClass, Student.current_class_id == SchoolClass.id)
                .where(SchoolClass.name == name, Student.current_school_id == world.school_a)
            )
        )
    html = client.get(
        f"/studentview/list/?_flt_0_current_class={name}&psize_StudentView=100"
    ).get_data(as_text=True)
    assert expected and _listed(html) == expected


def test_starts_with_treats_wildcards_literally(world):
    """FAB's ILIKE made "%" match every name; it is a literal character now."""
    client = world.app.test_client()
    login(client, world.users["registrar"])
    assert _listed(client.get("/studentview/list/?_flt_0_name=%25").get_data(as_text=True)) == set()
    assert _listed(client.get("/studentview/list/?_flt_0_name=_").get_data(as_text=True)) == set()
    with world.app.app_context():
        student = db.session.get(Student, world.student_a)
        surname = student.name[0]
    found = _listed(
        client.get(f"/studentview/list/?_flt_0_name={surname}&psize_StudentView=100").get_data(
            as_text=True
        )
    )
    assert world.student_a in found
    count, ids = _api_ids(client, jwt(client, "registrar"), "(col:name,opr:sw,value:'%')")
    assert count == 0 and ids == set()


def test_list_count_stops_at_the_cap(world, monkeypatch):
    import admin.lookups

    monkeypatch.setattr(admin.lookups, "COUNT_CAP", 10)
    client = world.app.test_client()
    login(client, world.users["admin"])
    html = client.get("/studentview/list/?_l_=en").get_data(as_text=True)
    assert re.search(r"Record Count:</strong>\s*10\+", html)
    # A narrow search still shows its exact count.
    with world.app.app_context():
        number = db.session.get(Student, world.student_a).student_number
    html = client.get(f"/studentview/list/?_flt_3_student_number={number}").get_data(as_text=True)
    assert re.search(r"</strong>\s*1\s", html)
    body = client.get("/api/v1/student/", headers=jwt(client, "admin")).json
    assert body["count"] == 11  # more than the cap


def _post(world, client, url: str, data: dict) -> str:
    world.app.config["WTF_CSRF_ENABLED"] = False
    try:
        return client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
    finally:
        world.app.config["WTF_CSRF_ENABLED"] = True


def test_family_member_is_added_by_student_number_inside_scope_only(world):
    client = world.app.test_client()
    login(client, world.users["registrar"])
    with world.app.app_context():
        own = db.session.get(Student, world.student_a)
        other = db.session.get(Student, world.student_b)
        own_number, other_number = own.student_number, other.student_number
        before = db.session.scalar(select(func.count()).select_from(Guardian))
        free_seq = 2 if own.guardians and own.guardians[0].seq == 1 else 1
        db.session.query(Guardian).filter(
            Guardian.student_id == own.id, Guardian.seq == free_seq
        ).delete()
        db.session.commit()
        before = db.session.scalar(select(func.count()).select_from(Guardian))
    form = {
        "seq": str(free_seq),
        "name": "李秀英",
        "relationship_code": "2",
        "phone": "13912345678",
        "is_guardian": "y",
    }
    refused = _post(world, client, "/guardianview/add?_l_=en", {**form, "student": other_number})
    assert "No student with this student number in your scope." in refused
    with world.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Guardian)) == before
    _post(world, client, "/guardianview/add?_l_=en", {**form, "student": own_number})
    with world.app.app_context():
        added = db.session.scalars(
            select(Guardian).where(
                Guardian.student_id == world.student_a, Guardian.name == "李秀英"
            )
        ).all()
        assert len(added) == 1
