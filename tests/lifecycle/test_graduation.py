"""Graduation: per-student eligibility with reasons, all-or-nothing batch filing, immediate
effect in compulsory stages, bureau approval for senior high."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from admin.domain.messages import RuleError
from admin.extensions import db
from admin.models import Enrollment, Graduation, School, Student
from admin.security.scope import scope_for_user
from admin.services.graduation import Decision, candidates, decide, file_graduations, pending

ON = date(2027, 6, 30)
YEAR = "2026-2027"
DESTINATIONS = frozenset({"15", "13", "20", "99"})


def _scope(lc, username):
    user = lc.app.appbuilder.sm.find_user(username=username)
    return scope_for_user(db.session, user)


def _school(kind_in: tuple[str, ...], region: str) -> School:
    return db.session.scalars(
        select(School)
        .where(School.kind.in_(kind_in), School.region_code.startswith(region))
        .order_by(School.id)
    ).first()


def test_compulsory_graduation_takes_effect_at_once(lc):
    with lc.app.app_context():
        from admin.services.accounts import create_account

        school = _school(("junior", "nine_year"), "64")
        create_account(
            username="reg_junior",
            password="Lifecycle-Test-2026!",
            role="SchoolRegistrar",
            school=school.code,
        )
        scope = _scope(lc, "reg_junior")
        rows = candidates(db.session, scope, school, YEAR, on=ON)
        eligible = [r for r in rows if r.eligible]
        assert eligible and all(r.stage in ("junior", "primary") for r in eligible)
        # A student not in a last grade is refused by number, and nothing is written.
        everyone = candidates(db.session, scope, school, YEAR, on=ON, final_grade_only=False)
        early = next(r for r in everyone if not r.eligible and r.student.current_status == "01")
        before = db.session.scalar(select(func.count()).select_from(Graduation))
        with pytest.raises(RuleError) as refused:
            file_graduations(
                db.session,
                scope,
                school,
                YEAR,
                [Decision(eligible[0].student.id), Decision(early.student.id)],
                on=ON,
                username="reg_junior",
                destinations=DESTINATIONS,
            )
        db.session.rollback()
        assert any(
            v.params.get("student_number") == early.student.student_number
            for v in refused.value.violations
        )
        assert db.session.scalar(select(func.count()).select_from(Graduation)) == before
        # 结业 is a senior-high outcome.
        with pytest.raises(RuleError) as refused:
            file_graduations(
                db.session,
                scope,
                school,
                YEAR,
                [Decision(eligible[0].student.id, "2")],
                on=ON,
                username="reg_junior",
                destinations=DESTINATIONS,
            )
        db.session.rollback()
        assert {v.code for v in refused.value.violations} == {"graduation.senior_only"}

        chosen = [Decision(r.student.id, destination="15") for r in eligible]
        made = file_graduations(
            db.session,
            scope,
            school,
            YEAR,
            chosen,
            on=ON,
            username="reg_junior",
            destinations=DESTINATIONS,
        )
        db.session.commit()
        assert {g.state for g in made} == {"approved"}
        for row in eligible:
            student = db.session.get(Student, row.student.id)
            assert student.current_status == "05"
            enrollment = db.session.scalars(
                select(Enrollment)
                .where(Enrollment.student_id == student.id, Enrollment.is_active.is_(True))
                .order_by(Enrollment.school_year_id.desc())
            ).first()
            assert (enrollment.ended_on, enrollment.end_reason) == (ON, "21")
        again = candidates(db.session, scope, school, YEAR, on=ON)
        assert not any(r.eligible for r in again)


def test_senior_graduation_waits_for_the_bureau(lc):
    with lc.app.app_context():
        from admin.services.accounts import create_account

        school = _school(("senior",), "64")
        create_account(
            username="reg_senior",
            password="Lifecycle-Test-2026!",
            role="SchoolRegistrar",
            school=school.code,
        )
        create_account(
            username="county_senior",
            password="Lifecycle-Test-2026!",
            role="BureauOfficer",
            region=school.region_code,
        )
        scope = _scope(lc, "reg_senior")
        rows = [r for r in candidates(db.session, scope, school, YEAR, on=ON) if r.eligible]
        assert rows
        made = file_graduations(
            db.session,
            scope,
            school,
            YEAR,
            [Decision(r.student.id, "1", "11") for r in rows[:3]],
            on=ON,
            username="reg_senior",
            destinations=frozenset({"11"}),
        )
        db.session.commit()
        assert {g.state for g in made} == {"pending"}
        assert {db.session.get(Student, r.student.id).current_status for r in rows[:3]} == {"01"}
        bureau = _scope(lc, "county_senior")
        waiting = pending(db.session, bureau)
        assert {g.id for g in made} <= {g.id for g in waiting}
        # The school itself cannot approve; a rejection needs a reason.
        with pytest.raises(RuleError):
            decide(db.session, scope, made, approve=True, username="reg_senior")
        with pytest.raises(RuleError):
            decide(db.session, bureau, made[:1], approve=False, username="county_senior")
        decide(db.session, bureau, made[:1], approve=False, username="county", comment="材料不全")
        decide(db.session, bureau, made[1:], approve=True, username="county_senior")
        db.session.commit()
        assert db.session.get(Student, rows[0].student.id).current_status == "01"
        assert {db.session.get(Student, r.student.id).current_status for r in rows[1:3]} == {"05"}
        # 肄业 needs a year in the stage; a first-year senior student is refused.
        first_year = next(
            r
            for r in candidates(
                db.session,
                scope,
                school,
                YEAR,
                on=date(2026, 12, 1),
                outcome="3",
                final_grade_only=False,
            )
            if r.student.current_grade_code == "31"
        )
        assert "graduation.too_early" in {v.code for v in first_year.reasons}


def test_graduation_screens(lc):
    from tests.scope.conftest import login

    def _client(lc, username):
        lc.app.config["WTF_CSRF_ENABLED"] = False
        client = lc.app.test_client()
        with lc.app.app_context():
            login(client, lc.app.appbuilder.sm.find_user(username=username).id)
        return client

    with lc.app.app_context():
        from admin.services.accounts import create_account

        school = _school(("senior",), "64")
        code = school.code
        create_account(
            username="reg_senior2",
            password="Lifecycle-Test-2026!",
            role="SchoolRegistrar",
            school=code,
        )
        create_account(
            username="county_senior2",
            password="Lifecycle-Test-2026!",
            role="BureauOfficer",
            region=school.region_code,
        )
    lc.app.config["XUEJI_TODAY"] = ON.isoformat()
    registrar = _client(lc, "reg_senior2")
    lc.app.config["XUEJI_TODAY"] = ON.isoformat()
    page = registrar.get("/graduation/").get_data(as_text=True)
    assert "graduation-candidates" in page and 'class="eligible"' in page
    import re

    ids = re.findall(r'name="student" value="(\d+)"', page)[:2]
    done = registrar.post(
        "/graduation/file",
        data={"school": code, "year": YEAR, "outcome": "1", "student": ids},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "待教育行政部门审核" in done
    bureau = _client(lc, "county_senior2")
    lc.app.config["XUEJI_TODAY"] = ON.isoformat()
    waiting = bureau.get("/graduation/pending").get_data(as_text=True)
    pks = re.findall(r'name="graduation" value="(\d+)"', waiting)
    assert len(pks) == 2
    bureau.post("/graduation/decide", data={"graduation": pks, "action": "approve"})
    with lc.app.app_context():
        assert {db.session.get(Student, int(i)).current_status for i in ids} == {"05"}
    assert registrar.get("/graduation/pending").status_code == 200  # a school sees its list
