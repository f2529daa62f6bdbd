"""学籍异动 screens and REST API as clerks and bureaus use them: the application form with
its per-field refusals, the to-do list, acting on a step, proof files across units, help."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from admin.extensions import db
from admin.models import StatusChangeRequest, Student, StudentFile
from tests.lifecycle.conftest import PASSWORD, TODAY
from tests.scope.conftest import login

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _client(lc, username: str):
    lc.app.config["WTF_CSRF_ENABLED"] = False
    lc.app.config["XUEJI_TODAY"] = TODAY.isoformat()
    client = lc.app.test_client()
    login(client, lc.cast.users[username])
    return client


def _requests() -> int:
    return db.session.scalar(select(func.count()).select_from(StatusChangeRequest))


def _number(student_id: int) -> str:
    return db.session.get(Student, student_id).student_number


def test_suspension_through_the_screens(lc):
    c = lc.cast
    with lc.app.app_context():
        number = _number(c.student)
    registrar = _client(lc, "reg_s")
    found = registrar.get(f"/statuschange/apply?change_type=23&q={number}&_l_=en")
    assert found.status_code == 200 and "apply-form" in found.get_data(as_text=True)
    filed = registrar.post(
        "/statuschange/apply",
        data={
            "q": number,
            "change_type": "23",
            "reason_code": "10",
            "effective_date": TODAY.isoformat(),
            "end_date": "2027-07-10",
            "remarks": "因病休学一年",
            "proof": (io.BytesIO(PDF), "诊断证明.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert filed.status_code == 302, filed.get_data(as_text=True)[:2000]
    request_id = int(filed.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    with lc.app.app_context():
        proof = db.session.scalars(
            select(StudentFile).where(StudentFile.request_id == request_id)
        ).one()
        assert proof.original_name == "诊断证明.pdf"
    # The school leader finds it in 待办 and approves; then the county bureau.
    leader = _client(lc, "lead_s")
    todo = leader.get("/statuschange/todo/list/").get_data(as_text=True)
    assert f"/statuschange/todo/show/{request_id}" in todo
    assert f"/statuschange/todo/show/{request_id}" not in _client(lc, "reg_s").get(
        "/statuschange/todo/list/"
    ).get_data(as_text=True)
    page = leader.get(f"/statuschange/show/{request_id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert 'value="approve"' in page and 'value="reject"' in page
    done = leader.post(
        f"/statuschange/act/{request_id}",
        data={"action": "approve", "comment": "同意", "version": version},
        follow_redirects=True,
    )
    assert "已审核通过" in done.get_data(as_text=True)
    # A stale form (old version) is refused with who and when, and changes nothing.
    stale = leader.post(
        f"/statuschange/act/{request_id}",
        data={"action": "approve", "version": version},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "lead_s" in stale and "已被" in stale
    county = _client(lc, "county_s")
    page = county.get(f"/statuschange/todo/show/{request_id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    # Acting from 待办 lands on the request's page (no longer in 待办), not on a 404.
    after = county.post(
        f"/statuschange/todo/act/{request_id}",
        data={"action": "approve", "version": version},
        follow_redirects=True,
    )
    assert after.status_code == 200 and "异动已生效" in after.get_data(as_text=True)
    with lc.app.app_context():
        assert db.session.get(Student, c.student).current_status == "02"
    # The student's page shows the request in the status history.
    history = registrar.get(f"/studentview/show/{c.student}").get_data(as_text=True)
    assert "休学" in history


def test_refused_application_names_each_field_and_writes_nothing(lc):
    c = lc.cast
    with lc.app.app_context():
        number, before = _number(c.student), _requests()
    registrar = _client(lc, "reg_s")
    page = registrar.post(
        "/statuschange/apply?_l_=en",
        data={"q": number, "change_type": "32", "effective_date": "2026-13-01", "to_class_id": ""},
    ).get_data(as_text=True)
    errors = dict(re.findall(r'data-field="([^"]+)">([^<]+)<', page))
    assert "to_class" in errors and "effective_date" in errors, errors
    # Withdrawal is senior high only; the student is not.
    with lc.app.app_context():
        stage = db.session.get(Student, c.student).current_grade_code
    if not stage.startswith("3"):
        page = registrar.post(
            "/statuschange/apply?_l_=en",
            data={"q": number, "change_type": "24", "effective_date": TODAY.isoformat()},
        ).get_data(as_text=True)
        assert "senior high" in page
    with lc.app.app_context():
        assert _requests() == before


def test_transfer_search_is_national_but_masked(lc):
    c = lc.cast
    with lc.app.app_context():
        student = db.session.get(Student, c.student)
        number, name = student.student_number, student.name
    receiving = _client(lc, "reg_r")
    page = receiving.get(f"/statuschange/apply?change_type=35&q={number}").get_data(as_text=True)
    assert number in page and name not in page and name[0] + "*" in page
    # Other business is for one's own students only.
    page = receiving.get(f"/statuschange/apply?change_type=23&q={number}").get_data(as_text=True)
    assert "apply-form" not in page and "管辖范围内没有" in page


def test_receiving_bureau_reads_the_proof_of_a_student_it_does_not_hold(lc):
    c = lc.cast
    with lc.app.app_context():
        number = _number(c.student)
    receiving = _client(lc, "reg_r")
    filed = receiving.post(
        "/statuschange/apply",
        data={
            "q": number,
            "change_type": "35",
            "effective_date": TODAY.isoformat(),
            "to_class_id": str(c.target_class),
            "proof": (io.BytesIO(PDF), "转学联系表.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert filed.status_code == 302
    with lc.app.app_context():
        file_id = db.session.scalars(
            select(StudentFile.id).where(StudentFile.request_id.isnot(None))
        ).one()
    county_r = _client(lc, "county_r")
    assert county_r.get(f"/studentview/show/{c.student}").status_code == 404
    assert county_r.get(f"/studentfile/{file_id}").status_code == 200
    # A county with no part in the request sees neither the request nor the file.
    with lc.app.app_context():
        request_id = db.session.scalars(select(StatusChangeRequest.id)).one()
    outsider = _client(lc, "reg_n")
    assert outsider.get(f"/statuschange/show/{request_id}").status_code == 404
    assert outsider.get(f"/studentfile/{file_id}").status_code == 404


def test_teacher_and_parent_cannot_file(lc):
    teacher = _client(lc, "teacher_s")
    response = teacher.get("/statuschange/apply")
    assert response.status_code in (302, 403)
    assert "/statuschange/apply" not in teacher.get("/").get_data(as_text=True)


def test_api_files_and_acts_with_versions(lc):
    c = lc.cast
    lc.app.config["XUEJI_TODAY"] = TODAY.isoformat()
    client = lc.app.test_client()

    def token(username: str) -> dict[str, str]:
        response = client.post(
            "/api/v1/security/login",
            json={"username": username, "password": PASSWORD, "provider": "db", "refresh": False},
        )
        return {"Authorization": f"Bearer {response.json['access_token']}"}

    with lc.app.app_context():
        number = _number(c.student)
    reg = token("reg_s")
    bad = client.post(
        "/api/v1/status_change/apply?_l_=en",
        headers=reg,
        json={"student": number, "change_type": "32", "effective_date": "tomorrow"},
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json["errors"]} == {"effective_date"}
    missing_class = client.post(
        "/api/v1/status_change/apply",
        headers=reg,
        json={"student": number, "change_type": "32", "effective_date": TODAY.isoformat()},
    )
    assert missing_class.status_code == 422
    assert missing_class.json["errors"][0]["field"] == "to_class"
    made = client.post(
        "/api/v1/status_change/apply",
        headers=reg,
        json={
            "student": number,
            "change_type": "32",
            "effective_date": TODAY.isoformat(),
            "to_class_id": c.other_class,
        },
    )
    assert made.status_code == 201, made.json
    request_id, version = made.json["id"], made.json["version"]
    lead = token("lead_s")
    assert (
        client.post(
            f"/api/v1/status_change/{request_id}/act",
            headers=reg,
            json={"action": "approve", "version": version},
        ).status_code
        == 422
    )
    ok = client.post(
        f"/api/v1/status_change/{request_id}/act",
        headers=lead,
        json={"action": "approve", "version": version},
    )
    assert ok.status_code == 200 and ok.json["handler_kind"] == "county_bureau"
    stale = client.post(
        f"/api/v1/status_change/{request_id}/act",
        headers=token("county_s"),
        json={"action": "approve", "version": version},
    )
    assert stale.status_code == 409
    listing = client.get("/api/v1/status_change/", headers=token("county_s")).json
    assert [row["id"] for row in listing["result"]] == [request_id]


def test_help_pages_in_both_languages(lc):
    client = _client(lc, "lead_s")
    zh = client.get("/help/status-changes").get_data(as_text=True)
    assert "当前处理单位" in zh and "强制干预" in zh
    en = client.get("/help/status-changes?_l_=en").get_data(as_text=True)
    assert "current handling unit" in en
    assert client.get("/help/nothing-here").status_code == 404
    from admin.help.views import TOPICS

    index = client.get("/help/").get_data(as_text=True)
    for topic in TOPICS:
        assert f"/help/{topic}" in index
        zh_page = client.get(f"/help/{topic}").get_data(as_text=True)
        en_page = client.get(f"/help/{topic}?_l_=en").get_data(as_text=True)
        assert 'class="help-page"' in zh_page and 'class="help-page"' in en_page, topic
        assert zh_page != en_page
    assert "/help/status-changes" in client.get("/statuschange/apply").get_data(as_text=True)


def test_registration_screen_and_api_refuse_a_registered_id_naming_the_school(lc):
    """查重 on the admin's registration screen and on POST /api/v1/student/."""
    from admin.models import School

    c = lc.cast
    with lc.app.app_context():
        holder = db.session.get(Student, c.student)
        holder_id, school_name = holder.id_number, db.session.get(School, c.sending).name
        before = db.session.scalar(select(func.count()).select_from(Student))
    registrar = _client(lc, "reg_r")
    with lc.app.app_context():
        receiving = db.session.get(School, c.receiving)
        form = {
            "name": "王小明",
            "sex": holder.sex,
            "birth_date": holder.birth_date.isoformat(),
            "birthplace_code": "110101",
            "native_place_code": "110101",
            "ethnicity": "01",
            "nationality": "CHN",
            "id_doc_type": "1",
            "id_number": holder_id,
            "overseas_chinese": "00",
            "health": "10",
            "hukou_region_code": "110101",
            "hukou_type": "2",
            "current_address": "北京市东城区测试路1号",
            "mailing_address": "北京市东城区测试路1号",
            "home_address": "北京市东城区测试路1号",
            "phone": "13912345678",
            "postal_code": "100010",
            "current_school": receiving.code,
        }
        guided = {
            **{k: v for k, v in form.items() if k != "current_school"},
            "school_class": str(c.target_class),
            "entry_date": "2026-09-01",
            "admission_method": "11",
            "study_mode": "1",
            "student_source": "1",
            "g1_name": "王大明",
            "g1_relationship_code": "1",
            "g1_phone": "13912345670",
        }
    # The admin's add goes to the guided registration screen.
    assert registrar.get("/studentview/add").headers["Location"].endswith("/register/")
    page = registrar.post(
        f"/register/?school={receiving.code}", data=guided, follow_redirects=True
    ).get_data(as_text=True)
    assert school_name in page and "一人一籍" in page
    client = lc.app.test_client()
    token = client.post(
        "/api/v1/security/login",
        json={"username": "reg_r", "password": PASSWORD, "provider": "db", "refresh": False},
    ).json["access_token"]
    payload = {k: v for k, v in form.items() if k != "current_school"}
    payload["current_school"] = c.receiving
    response = client.post(
        "/api/v1/student/?_l_=en",
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422, response.json
    assert response.json["errors"][0]["code"] == "registration.duplicate_id"
    assert school_name in response.json["message"][0]
    with lc.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Student)) == before


def _guided_form(lc, new_id: str) -> dict[str, object]:
    return {
        "name": "李小红",
        "sex": "1",
        "birth_date": "2016-03-05",
        "birthplace_code": "110101",
        "native_place_code": "110101",
        "ethnicity": "01",
        "nationality": "CHN",
        "id_doc_type": "1",
        "id_number": new_id,
        "overseas_chinese": "00",
        "health": "10",
        "hukou_region_code": "110101",
        "hukou_type": "2",
        "current_address": "北京市东城区测试路2号",
        "mailing_address": "北京市东城区测试路2号",
        "home_address": "北京市东城区测试路2号",
        "phone": "13912345679",
        "postal_code": "100010",
        "only_child": "y",
        "distance_km": "1.2",
        "school_class": str(lc.cast.target_class),
        "entry_date": "2026-09-01",
        "admission_method": "11",
        "study_mode": "1",
        "student_source": "1",
        "g1_name": "李大勇",
        "g1_relationship_code": "1",
        "g1_phone": "13912345670",
        "g1_is_guardian": "y",
        "g2_name": "",
    }


def test_guided_registration_writes_everything_or_nothing(lc):
    """/register: the national form grouped as on paper with 学籍信息 and 家庭成员; problems
    beside their fields; a bad photo refuses everything (no student, file row or blob); a good
    registration makes the student, L number, family member, enrollment, photo and proof."""
    import os
    from datetime import date as _date

    from PIL import Image

    from admin.domain.idcard import make_id_number
    from admin.models import Enrollment, Guardian, School, SchoolClass

    c = lc.cast
    registrar = _client(lc, "reg_r")
    with lc.app.app_context():
        school = db.session.get(School, c.receiving)
        school_code = school.code
        taken = set(db.session.scalars(select(Student.id_number)))
        klass_grade = db.session.get(SchoolClass, c.target_class).grade_code
    page = registrar.get(f"/register/?school={school_code}&_l_=en").get_data(as_text=True)
    for legend in ("Basic information", "Registry information", "Family member or guardian one"):
        assert legend in page
    from admin.domain.consistency import expected_age, grade_by_code

    birth = _date(2026 - expected_age(grade_by_code(klass_grade), 6), 3, 5)
    new_id = next(
        n
        for n in (make_id_number("110101", birth, seq) for seq in range(1, 999, 2))
        if n not in taken
    )
    form = {**_guided_form(lc, new_id), "birth_date": birth.isoformat()}
    photo = io.BytesIO()
    Image.new("RGB", (120, 160), (200, 180, 160)).save(photo, "PNG")
    files_dir = os.path.join(lc.app.config["XUEJI_DATA_DIR"], "files")

    def state() -> tuple[int, int, int, int]:
        blobs = sum(len(f) for _, _, f in os.walk(files_dir)) if os.path.isdir(files_dir) else 0
        return (
            db.session.scalar(select(func.count()).select_from(Student)),
            db.session.scalar(select(func.count()).select_from(StudentFile)),
            db.session.scalar(select(func.count()).select_from(Guardian)),
            blobs,
        )

    with lc.app.app_context():
        before = state()
    # Field-level problems: a bad check digit, a bad phone, a missing family member's name.
    bad = {
        **form,
        "id_number": new_id[:-1] + ("0" if new_id[-1] != "0" else "1"),
        "phone": "12345",
        "g1_name": "",
    }
    page = registrar.post(
        f"/register/?school={school_code}&_l_=en", data=bad, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert page.count("has-error") >= 3
    # A bad photo refuses the whole registration.
    refused = registrar.post(
        f"/register/?school={school_code}&_l_=en",
        data={**form, "photo_upload": (io.BytesIO(b"not an image"), "photo.jpg")},
        content_type="multipart/form-data",
    )
    assert "only JPEG or PNG files are accepted" in refused.get_data(as_text=True)
    with lc.app.app_context():
        assert state() == before
    saved = registrar.post(
        f"/register/?school={school_code}",
        data={
            **form,
            "photo_upload": (io.BytesIO(photo.getvalue()), "照片.png"),
            "proof_upload": [(io.BytesIO(PDF), "户口簿.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    with lc.app.app_context():
        student = db.session.scalars(select(Student).where(Student.id_number == new_id)).one()
        assert student.student_number.startswith("L") and student.only_child is True
        assert student.current_class_id == c.target_class and student.distance_km == 1.2
        kinds = sorted(
            f.kind
            for f in db.session.scalars(
                select(StudentFile).where(StudentFile.student_id == student.id)
            )
        )
        assert kinds == ["photo", "proof"] and student.photo_ref
        guardians = db.session.scalars(
            select(Guardian).where(Guardian.student_id == student.id)
        ).all()
        assert [(g.seq, g.name, g.is_guardian) for g in guardians] == [(1, "李大勇", True)]
        enrollment = db.session.scalars(
            select(Enrollment).where(Enrollment.student_id == student.id)
        ).one()
        assert (enrollment.class_id, enrollment.admission_method) == (c.target_class, "11")
