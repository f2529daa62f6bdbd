"""升学衔接: a junior-high graduate in Ningxia (64) is admitted by a senior high in Beijing (11);
the receiving school files, both sides approve along the cross-province chain, and the record
is pulled (调档): a new enrollment in 高一 under the same 学籍号, the graduation's destination
filled in, and the flow in the warehouse's progression fact."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from admin.domain import workflow as wf
from admin.domain.messages import RuleError
from admin.extensions import db
from admin.models import (
    Enrollment,
    Graduation,
    School,
    SchoolClass,
    SchoolYear,
    StatusChangeRequest,
    Student,
)
from admin.security.scope import scope_for_user
from admin.services import status_changes as sc
from admin.services.accounts import create_account
from admin.services.graduation import Decision, candidates, file_graduations
from tests.lifecycle.conftest import PASSWORD

GRADUATED_ON = date(2027, 6, 30)
SUMMER = date(2027, 8, 2)  # a Monday inside the summer freezes: progression is not frozen
YEAR = "2026-2027"


def _scope(username):
    from flask import current_app

    found = current_app.appbuilder.sm.find_user(username=username)
    return found, scope_for_user(db.session, found)


def _setup() -> tuple[Student, School, SchoolClass]:
    """A graduated junior-high student in 64, a senior high in 11 with a 高一 class of the
    next school year, and one account per unit of the chain."""
    s = db.session
    junior = s.scalars(
        select(School)
        .where(School.kind.in_(("junior", "nine_year")), School.region_code.startswith("64"))
        .order_by(School.id)
    ).first()
    senior = s.scalars(
        select(School)
        .where(School.kind.in_(("senior", "complete")), School.region_code.startswith("11"))
        .order_by(School.id)
    ).first()
    accounts = [
        ("p_reg_j", "SchoolRegistrar", {"school": junior.code}),
        ("p_lead_j", "SchoolLeader", {"school": junior.code}),
        ("p_county_j", "BureauOfficer", {"region": junior.region_code}),
        ("p_reg_s", "SchoolRegistrar", {"school": senior.code}),
        ("p_lead_s", "SchoolLeader", {"school": senior.code}),
        ("p_county_s", "BureauOfficer", {"region": senior.region_code}),
    ]
    for username, role, where in accounts:
        create_account(username=username, password=PASSWORD, role=role, **where)
    _, reg_j = _scope("p_reg_j")
    row = next(r for r in candidates(s, reg_j, junior, YEAR, on=GRADUATED_ON) if r.eligible)
    file_graduations(
        s, reg_j, junior, YEAR, [Decision(row.student.id)], on=GRADUATED_ON, username="p_reg_j"
    )
    next_year = SchoolYear(
        code="2027-2028", start_date=date(2027, 9, 1), end_date=date(2028, 8, 31)
    )
    s.add(next_year)
    s.flush()
    klass = SchoolClass(
        school_id=senior.id,
        school_year_id=next_year.id,
        grade_code="31",
        number=1,
        name="高一(1)班",
    )
    s.add(klass)
    s.commit()
    return row.student, senior, klass


def _act(username, request, action="approve", comment=""):
    user, scope = _scope(username)
    sc.act(
        db.session,
        scope,
        request,
        action,
        user_id=user.id,
        username=username,
        today=SUMMER,
        comment=comment,
    )
    db.session.commit()


def test_cross_province_progression_pulls_the_record(lc):
    with lc.app.app_context():
        s = db.session
        student, senior, klass = _setup()
        number = student.student_number
        assert student.current_status == "05"
        user, scope = _scope("p_reg_s")
        # The receiving school finds the graduate nationally, by 学籍号 or ID.
        assert sc.find_student(s, scope, number, for_transfer=True).id == student.id
        # A class of the wrong grade, and a student who has not graduated, are refused.
        wrong = SchoolClass(
            school_id=senior.id,
            school_year_id=klass.school_year_id,
            grade_code="32",
            number=2,
            name="高二(2)班",
        )
        s.add(wrong)
        s.commit()
        with pytest.raises(RuleError) as refused:
            sc.file_request(
                s,
                scope,
                student,
                sc.Application(wf.PROGRESSION, effective_date=SUMMER, to_class_id=wrong.id),
                user_id=user.id,
                username=user.username,
                today=SUMMER,
            )
        s.rollback()
        assert {v.code for v in refused.value.violations} == {"workflow.progression_target"}
        lc_student = s.get(Student, lc.cast.student)  # 在校, not a graduate
        with pytest.raises(RuleError) as refused:
            sc.file_request(
                s,
                scope,
                lc_student,
                sc.Application(wf.PROGRESSION, effective_date=SUMMER, to_class_id=klass.id),
                user_id=user.id,
                username=user.username,
                today=SUMMER,
            )
        s.rollback()
        assert "workflow.student_status" in {v.code for v in refused.value.violations}

        request = sc.file_request(
            s,
            scope,
            student,
            sc.Application(wf.PROGRESSION, effective_date=date(2027, 9, 1), to_class_id=klass.id),
            user_id=user.id,
            username=user.username,
            today=SUMMER,
        )
        s.commit()
        assert request.scope == "cross_province"
        chain = [(st.unit_kind, st.side) for st in request.steps]
        assert chain == [
            ("school_registrar", "receiving"),
            ("school_leader", "receiving"),
            ("county_bureau", "receiving"),
            ("province_bureau", "receiving"),
            ("school_leader", "sending"),
            ("county_bureau", "sending"),
            ("province_bureau", "sending"),
        ]
        # Only the current unit may act: the sending school cannot approve first.
        with pytest.raises(RuleError):
            _act("p_lead_j", request)
        s.rollback()
        for username in ("p_lead_s", "p_county_s", "prov_r", "p_lead_j", "p_county_j"):
            assert s.get(Student, student.id).current_status == "05"  # nothing before the end
            _act(username, s.get(StatusChangeRequest, request.id))
        _act("prov_s", s.get(StatusChangeRequest, request.id))
        request = s.get(StatusChangeRequest, request.id)
        assert request.state == "effective"
        student = s.get(Student, student.id)
        assert student.student_number == number  # the same 学籍号
        assert (student.current_status, student.current_school_id, student.current_class_id) == (
            "01",
            senior.id,
            klass.id,
        )
        assert student.current_grade_code == "31"
        enrollments = s.scalars(
            select(Enrollment).where(Enrollment.student_id == student.id).order_by(Enrollment.id)
        ).all()
        new = enrollments[-1]
        assert (new.school_id, new.grade_code, new.stage_entry_ym, new.admission_method) == (
            senior.id,
            "31",
            "202709",
            "21",
        )
        # The junior-high year stays, closed by the graduation: the stage completed.
        assert enrollments[-2].ended_on == GRADUATED_ON
        grad = s.scalars(select(Graduation).where(Graduation.student_id == student.id)).one()
        assert grad.destination == "15"  # 升学: 普通高中
        # The record summary the receiving school now reads (调档).
        summary = sc.record_summary(s, student)
        assert [g.id for g in summary["graduations"]] == [grad.id]


def test_progression_screens_show_the_record_after_the_pull(lc):
    with lc.app.app_context():
        student, _senior, klass = _setup()
        number, class_id = student.student_number, klass.id
    lc.app.config["WTF_CSRF_ENABLED"] = False
    lc.app.config["XUEJI_TODAY"] = SUMMER.isoformat()
    from tests.scope.conftest import login

    def client(username):
        c = lc.app.test_client()
        with lc.app.app_context():
            login(c, lc.app.appbuilder.sm.find_user(username=username).id)
        return c

    registrar = client("p_reg_s")
    form = registrar.get(f"/statuschange/apply?change_type=11&q={number}&_l_=en")
    body = form.get_data(as_text=True)
    assert form.status_code == 200 and "高一(1)班" in body
    filed = registrar.post(
        "/statuschange/apply",
        data={
            "q": number,
            "change_type": "11",
            "effective_date": "2027-09-01",
            "to_class_id": str(class_id),
            "remarks": "中考录取",
        },
    )
    assert filed.status_code == 302, filed.get_data(as_text=True)[:1500]
    pk = int(filed.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    # Before the pull the receiving school sees no record summary.
    assert "record-summary" not in registrar.get(f"/statuschange/show/{pk}").get_data(as_text=True)
    with lc.app.app_context():
        for username in ("p_lead_s", "p_county_s", "prov_r", "p_lead_j", "p_county_j", "prov_s"):
            _act(username, db.session.get(StatusChangeRequest, pk))
    page = registrar.get(f"/statuschange/show/{pk}?_l_=en").get_data(as_text=True)
    assert "record-summary" in page and 'data-state="effective"' in page
