"""信息变更: key-field corrections filed with proof and decided by the county (with a new
duplicate check, the ID history kept and the 学籍号 unchanged), reviewed edits where the school
turned review on, and the report of contact details not confirmed for a year."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from sqlalchemy import func, select

from admin.domain.idcard import make_id_number
from admin.domain.messages import RuleError
from admin.extensions import db
from admin.models import (
    AuditLog,
    InfoChangeRequest,
    School,
    Student,
    StudentFile,
    StudentIdDocument,
)
from admin.security.scope import scope_for_user
from admin.services import corrections as service
from tests.lifecycle.conftest import PASSWORD, TODAY
from tests.scope.conftest import jwt, login
from tests.scope.test_records import _edit_form

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PROOF = [service.Proof("户口簿.pdf", PDF)]


def _scope(lc, username):
    user = lc.app.appbuilder.sm.find_user(username=username)
    return scope_for_user(db.session, user)


def _new_id(student: Student, seq: int) -> str:
    """A valid ID number agreeing with the student's sex and birth date."""
    number = student.id_number
    region = number[:6] if number else "640104"
    base = seq * 2 + (1 if student.sex == "1" else 0)  # odd sequence digit: male
    for n in range(base, base + 400, 2):
        candidate = make_id_number(region, student.birth_date, n % 1000)
        if candidate != number:
            return candidate
    raise AssertionError("no free ID")


def _counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(InfoChangeRequest)),
        db.session.scalar(select(func.count()).select_from(StudentFile)),
        db.session.scalar(select(func.count()).select_from(StudentIdDocument)),
    )


def test_key_correction_filed_and_approved_by_the_county(lc):
    c = lc.cast
    with lc.app.app_context():
        s = db.session
        student = s.get(Student, c.student)
        number_before = student.student_number
        new_id = _new_id(student, 311)
        reg = _scope(lc, "reg_s")
        before = _counts()
        bad = [
            ({"id_number": new_id}, "", PROOF, {"info_change_reason"}),
            ({"id_number": new_id}, "户口簿更正", [], {"proof"}),
            (
                {"id_number": new_id[:-1] + ("0" if new_id[-1] != "0" else "1")},
                "r",
                PROOF,
                {"id_number"},
            ),
            ({"name": student.name}, "r", PROOF, {"info_change"}),  # nothing differs
            (
                {"sex": "2" if student.sex == "1" else "1"},
                "r",
                PROOF,
                {"sex"},
            ),  # ID says otherwise
            ({"phone": "13800000000"}, "r", PROOF, {"phone"}),  # not a key field
        ]
        for proposed, reason, proofs, fields in bad:
            with pytest.raises(RuleError) as refused:
                service.file_key_correction(
                    s,
                    reg,
                    student,
                    proposed,
                    reason=reason,
                    proofs=proofs,
                    username="reg_s",
                    today=TODAY,
                )
            s.rollback()
            assert fields <= {v.field for v in refused.value.violations}, (
                proposed,
                refused.value.violations,
            )
        # Another student's ID is refused at once, naming the holder's school.
        other = s.scalars(
            select(Student).where(Student.id != student.id, Student.id_number.is_not(None))
        ).first()
        with pytest.raises(RuleError) as refused:
            service.file_key_correction(
                s,
                reg,
                student,
                {
                    "id_number": other.id_number,
                    "sex": other.sex,
                    "birth_date": other.birth_date.isoformat(),
                },
                reason="r",
                proofs=PROOF,
                username="reg_s",
                today=TODAY,
            )
        s.rollback()
        assert [v.code for v in refused.value.violations] == ["registration.duplicate_id"]
        # The sending school's teacher and another school cannot file.
        with pytest.raises(RuleError):
            service.file_key_correction(
                s,
                _scope(lc, "reg_r"),
                student,
                {"id_number": new_id},
                reason="r",
                proofs=PROOF,
                username="reg_r",
                today=TODAY,
            )
        s.rollback()
        assert _counts() == before  # nothing written by any refusal

        made = service.file_key_correction(
            s,
            reg,
            student,
            {"id_number": new_id, "name": student.name + "娜"},
            reason="户口簿姓名与学籍不一致",
            proofs=PROOF,
            username="reg_s",
            today=TODAY,
        )
        s.commit()
        assert made.kind == "key" and made.state == "pending" and len(made.files) == 1
        filed = s.scalars(
            select(AuditLog).where(
                AuditLog.table_name == "info_change_request", AuditLog.row_pk == str(made.id)
            )
        ).all()
        assert [e.action for e in filed] == ["insert"]  # the request itself is audited
        # A school leader reading the audit trail does not see the new ID number in it.
        from admin.security.masking import mask_changes

        assert new_id in str(filed[0].changes)
        assert new_id not in str(
            mask_changes("info_change_request", filed[0].changes, _scope(lc, "lead_s"))
        )
        assert service.changes_of(made) == {"id_number": new_id, "name": student.name + "娜"}
        with pytest.raises(RuleError) as refused:  # one pending change per student
            service.file_key_correction(
                s,
                reg,
                student,
                {"name": "王五"},
                reason="r",
                proofs=PROOF,
                username="reg_s",
                today=TODAY,
            )
        s.rollback()
        assert refused.value.violations[0].code == "info_change.pending"
        # Only the county over the student's school decides; a rejection needs a comment.
        for username in ("reg_s", "lead_s", "county_r"):
            with pytest.raises(RuleError):
                service.decide(
                    s,
                    _scope(lc, username),
                    made,
                    approve=True,
                    comment="",
                    username=username,
                    today=TODAY,
                )
            s.rollback()
        with pytest.raises(RuleError):
            service.decide(
                s,
                _scope(lc, "county_s"),
                made,
                approve=False,
                comment=" ",
                username="c",
                today=TODAY,
            )
        s.rollback()
        assert made in service.awaiting(s, _scope(lc, "county_s"))
        assert made not in service.awaiting(s, _scope(lc, "county_r"))
        # A decision on an out-of-date page is refused.
        with pytest.raises(RuleError) as refused:
            service.decide(
                s,
                _scope(lc, "county_s"),
                made,
                approve=True,
                comment="",
                username="c",
                today=TODAY,
                expected_version=made.version + 1,
            )
        s.rollback()
        assert refused.value.violations[0].code == "workflow.handled_meanwhile"
        service.decide(
            s,
            _scope(lc, "county_s"),
            made,
            approve=True,
            comment="材料齐全",
            username="county_s",
            today=TODAY,
        )
        s.commit()
        student = s.get(Student, c.student)
        assert student.id_number == new_id and student.name.endswith("娜")
        assert student.student_number == number_before  # 一人一号，终身不变
        docs = s.scalars(
            select(StudentIdDocument)
            .where(StudentIdDocument.student_id == student.id)
            .order_by(StudentIdDocument.id)
        ).all()
        assert docs[-1].number == new_id and docs[-1].effective_to is None
        assert all(d.effective_to is not None for d in docs[:-1])
        assert f"#{made.id}" in docs[-1].reason
        entry = s.scalars(
            select(AuditLog).where(AuditLog.table_name == "student").order_by(AuditLog.id.desc())
        ).first()
        assert f"信息变更 #{made.id}" in (entry.reason or "")


def test_duplicate_check_runs_again_at_approval(lc):
    c = lc.cast
    with lc.app.app_context():
        s = db.session
        first = s.get(Student, c.student)
        second = s.scalars(
            select(Student).where(
                Student.current_school_id == c.sending,
                Student.id != first.id,
                Student.sex == first.sex,
                Student.id_doc_type == "1",
            )
        ).first()
        second.birth_date = first.birth_date  # twins: one new ID number fits both forms
        s.commit()
        shared = _new_id(first, 733)
        reg = _scope(lc, "reg_s")
        a = service.file_key_correction(
            s,
            reg,
            first,
            {"id_number": shared},
            reason="r",
            proofs=PROOF,
            username="reg_s",
            today=TODAY,
        )
        b = service.file_key_correction(
            s,
            reg,
            second,
            {"id_number": shared},
            reason="r",
            proofs=PROOF,
            username="reg_s",
            today=TODAY,
        )
        s.commit()
        county = _scope(lc, "county_s")
        service.decide(s, county, a, approve=True, comment="", username="c", today=TODAY)
        s.commit()
        with pytest.raises(RuleError) as refused:
            service.decide(s, county, b, approve=True, comment="", username="c", today=TODAY)
        s.rollback()
        assert refused.value.violations[0].code == "registration.duplicate_id"
        assert s.get(InfoChangeRequest, b.id).state == "pending"
        service.cancel(s, reg, b, username="reg_s")
        s.commit()
        assert s.get(InfoChangeRequest, b.id).state == "cancelled"


def _client(lc, username: str):
    lc.app.config["WTF_CSRF_ENABLED"] = False
    lc.app.config["XUEJI_TODAY"] = TODAY.isoformat()
    client = lc.app.test_client()
    login(client, lc.cast.users[username])
    return client


def test_correction_screens(lc):
    c = lc.cast
    with lc.app.app_context():
        student = db.session.get(Student, c.student)
        new_id = _new_id(student, 421)
        old_name = student.name
    registrar = _client(lc, "reg_s")
    page = registrar.get(f"/infochange/apply/{c.student}?_l_=en")
    assert page.status_code == 200 and old_name in page.get_data(as_text=True)
    refused = registrar.post(
        f"/infochange/apply/{c.student}?_l_=en",
        data={
            "name": old_name,
            "sex": student.sex,
            "birth_date": student.birth_date.isoformat(),
            "id_doc_type": "1",
            "id_number": new_id[:-1] + "Y",
            "reason": "",
        },
        content_type="multipart/form-data",
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "has-error" in body and "proof document" in body
    filed = registrar.post(
        f"/infochange/apply/{c.student}",
        data={
            "name": old_name,
            "sex": student.sex,
            "birth_date": student.birth_date.isoformat(),
            "id_doc_type": "1",
            "id_number": new_id,
            "reason": "身份证号录入错误",
            "proof": (io.BytesIO(PDF), "身份证.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert filed.status_code == 302, filed.get_data(as_text=True)[:1500]
    pk = int(filed.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    county = _client(lc, "county_s")
    todo = county.get("/infochange/todo/list/")
    assert todo.status_code == 200 and f"/infochange/todo/show/{pk}" in todo.get_data(as_text=True)
    shown = county.get(f"/infochange/show/{pk}")
    assert new_id in shown.get_data(as_text=True) and "info-change-decide" in shown.get_data(
        as_text=True
    )
    assert "info-change-decide" not in registrar.get(f"/infochange/show/{pk}").get_data(
        as_text=True
    )
    assert _client(lc, "reg_r").get(f"/infochange/show/{pk}").status_code == 404
    with lc.app.app_context():
        version = db.session.get(InfoChangeRequest, pk).version
    county.post(
        f"/infochange/decide/{pk}", data={"action": "approve", "comment": "", "version": version}
    )
    with lc.app.app_context():
        assert db.session.get(Student, c.student).id_number == new_id
    history = registrar.get(f"/studentview/show/{c.student}")
    assert f"/infochange/show/{pk}" in history.get_data(as_text=True)
    assert _client(lc, "teacher_s").get(f"/infochange/apply/{c.student}").status_code in (302, 403)


def test_reviewed_edits_wait_for_the_school_leader(lc):
    c = lc.cast
    with lc.app.app_context():
        student = db.session.get(Student, c.student)
        old_address = student.current_address
    registrar = _client(lc, "reg_s")
    # Review off: the edit applies at once.
    form = _edit_form(registrar, c.student)
    form["current_address"] = "宁夏回族自治区银川市兴庆区新华街1号"
    registrar.post(f"/studentview/edit/{c.student}", data=form)
    with lc.app.app_context():
        assert db.session.get(Student, c.student).current_address.endswith("新华街1号")
    # The county turns review on for the school on the school screen (a plain checkbox).
    county = _client(lc, "county_s")
    school_form = {
        k: v
        for k, v in _school_form(county, c.sending).items()
        if k not in ("info_change_review", "is_active")
    }
    county.post(
        f"/schoolview/edit/{c.sending}",
        data={**school_form, "is_active": "y", "info_change_review": "y"},
    )
    with lc.app.app_context():
        assert db.session.get(School, c.sending).info_change_review is True
    # Review on: the record keeps its value and a request waits for the school leader.
    form = _edit_form(registrar, c.student)
    form["current_address"] = "宁夏回族自治区银川市兴庆区解放街9号"
    saved = registrar.post(
        f"/studentview/edit/{c.student}?_l_=en", data=form, follow_redirects=True
    )
    assert "school leader" in saved.get_data(as_text=True)
    with lc.app.app_context():
        assert db.session.get(Student, c.student).current_address.endswith("新华街1号")
        made = db.session.scalars(
            select(InfoChangeRequest).where(InfoChangeRequest.student_id == c.student)
        ).one()
        assert made.kind == "info"
        assert service.changes_of(made) == {
            "current_address": "宁夏回族自治区银川市兴庆区解放街9号"
        }
        # The county does not decide school-level edits; the leader does.
        with pytest.raises(RuleError):
            service.decide(
                db.session,
                _scope(lc, "county_s"),
                made,
                approve=True,
                comment="",
                username="c",
                today=TODAY,
            )
        db.session.rollback()
        service.decide(
            db.session,
            _scope(lc, "lead_s"),
            made,
            approve=True,
            comment="",
            username="lead_s",
            today=TODAY,
        )
        db.session.commit()
        assert db.session.get(Student, c.student).current_address.endswith("解放街9号")
        version = db.session.get(Student, c.student).version
    # The REST API takes the same path: 202, nothing changed until approved.
    api = lc.app.test_client()
    headers = jwt(api, "reg_s", PASSWORD)
    answer = api.put(
        f"/api/v1/student/{c.student}",
        headers=headers,
        json={"phone": "13912345678", "version": version},
    )
    assert answer.status_code == 202, answer.get_data(as_text=True)
    with lc.app.app_context():
        assert db.session.get(Student, c.student).phone != "13912345678"
        assert db.session.get(InfoChangeRequest, answer.json["info_change_id"]).state == "pending"
    del old_address


def _school_form(client, school_id: int) -> dict[str, str]:
    import re

    html = client.get(f"/schoolview/edit/{school_id}").get_data(as_text=True)
    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name is not None and ('type="checkbox"' not in tag or "checked" in tag):
            fields[name.group(1)] = value.group(1) if value else ""
    for name in re.findall(r'<select[^>]*name="([^"]+)"', html):
        block = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
        chosen = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"', block) or re.search(
            r'<option[^>]*value="([^"]*)"[^>]*selected', block
        )
        if chosen:
            fields[name] = chosen.group(1)
    return fields


def test_school_checkboxes_can_be_unticked(lc):
    """A NOT NULL boolean on the school screen is a plain checkbox: unticking saves 否."""
    c = lc.cast
    county = _client(lc, "county_s")
    form = {
        k: v
        for k, v in _school_form(county, c.sending).items()
        if k not in ("info_change_review", "is_active")
    }
    saved = county.post(f"/schoolview/edit/{c.sending}", data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:1500]
    with lc.app.app_context():
        school = db.session.get(School, c.sending)
        assert (school.is_active, school.info_change_review) == (False, False)


def test_stale_contacts_report(lc):
    c = lc.cast
    with lc.app.app_context():
        s = db.session
        rows = s.scalars(
            select(Student)
            .where(Student.current_school_id == c.sending, Student.current_status == "01")
            .order_by(Student.id)
            .limit(3)
        ).all()
        s.execute(Student.__table__.update().values(contact_confirmed_at=datetime(2026, 11, 1)))
        old, never, fresh = rows
        old.contact_confirmed_at = datetime(2025, 6, 1)
        never.contact_confirmed_at = None
        fresh.contact_confirmed_at = datetime(2026, 10, 1)
        s.commit()
        ids = (old.id, never.id, fresh.id)
        numbers = [r.student_number for r in rows]
    registrar = _client(lc, "reg_s")
    page = registrar.get("/contacts/stale?_l_=en").get_data(as_text=True)
    assert numbers[0] in page and numbers[1] in page and numbers[2] not in page
    assert page.index(numbers[1]) < page.index(numbers[0])  # never confirmed first
    registrar.post("/contacts/confirm", data={"student": [str(ids[0]), str(ids[1])]})
    page = registrar.get("/contacts/stale").get_data(as_text=True)
    assert numbers[0] not in page and numbers[1] not in page
    # Other schools' students are not listed, nor confirmable; teachers have no report.
    other = _client(lc, "reg_r").get("/contacts/stale").get_data(as_text=True)
    assert numbers[0] not in other
    assert _client(lc, "teacher_s").get("/contacts/stale").status_code in (302, 403)
    lc.app.config["XUEJI_CONTACT_STALE_MONTHS"] = 1
    with lc.app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(
                    service.stale_contacts_query(_scope(lc, "reg_s"), TODAY, 1).subquery()
                )
            )
            > 0
        )
