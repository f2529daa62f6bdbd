"""Attendance by lesson, alerts as messages (in-app and e-mail), parent accounts linked
against a guardian's ID number, and the parent portal's isolation: a parent of student A
never reaches anything of student B."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from admin.domain.calendar import WorkingCalendar
from admin.domain.messages import RuleError
from admin.extensions import db
from admin.models import (
    Attendance,
    Guardian,
    Notification,
    ParentLink,
    SchoolClass,
    Student,
    TeachingAssignment,
    UserScope,
)
from admin.security.scope import scope_for_user
from admin.services import attendance as service
from admin.services import notifications, parents
from tests.lifecycle.conftest import PASSWORD, TODAY
from tests.scope.conftest import login
from tests.security.conftest import Mailbox, free_port

CALENDAR = WorkingCalendar()


def _scope(lc, username):
    return scope_for_user(db.session, lc.app.appbuilder.sm.find_user(username=username))


def _class_of_student(lc) -> tuple[SchoolClass, list[int]]:
    student = db.session.get(Student, lc.cast.student)
    klass = db.session.get(SchoolClass, student.current_class_id)
    user = lc.app.appbuilder.sm.find_user(username="teacher_s")
    db.session.add(TeachingAssignment(user_id=user.id, class_id=klass.id))  # 班主任
    db.session.commit()
    return klass, [s.id for s in service.class_students(db.session, klass)]


def _guardian_number(student_id: int) -> str:
    return db.session.scalars(
        select(Guardian.id_number).where(
            Guardian.student_id == student_id,
            Guardian.is_guardian.is_(True),
            Guardian.id_number.is_not(None),
        )
    ).first()


def _link(lc, student_id: int, username: str, **kw):
    student = db.session.get(Student, student_id)
    result = parents.link_parent(
        db.session,
        _scope(lc, "reg_s"),
        student,
        username=username,
        guardian_id_number=kw.get("number", _guardian_number(student_id)),
        email=kw.get("email", ""),
        actor="reg_s",
    )
    db.session.commit()
    return result


def _school_days_before(klass, n: int) -> list:
    days = service.school_days(db.session, klass, TODAY - timedelta(days=30), TODAY, CALENDAR)
    return days[-n:]


def test_lesson_marks_and_the_whole_day_contradiction(lc):
    with lc.app.app_context():
        klass, ids = _class_of_student(lc)
        teacher = _scope(lc, "teacher_s")
        a = ids[0]

        def record(marks, **kw):
            return service.record_day(
                db.session, teacher, klass, TODAY, marks, username="teacher_s",
                today=TODAY, calendar=CALENDAR, **kw,
            )  # fmt: skip

        record({a: "truant"}, period=3)
        record({a: "late"}, period=1)
        db.session.commit()
        assert service.day_marks(db.session, klass, TODAY, 3) == {a: "truant"}
        assert service.day_marks(db.session, klass, TODAY) == {}
        row = db.session.scalars(select(Attendance).where(Attendance.period == 3)).one()
        assert (row.periods, row.days) == (1, None)
        before = db.session.scalar(select(func.count()).select_from(Attendance))
        with pytest.raises(RuleError) as refused:
            record({a: "sick"})  # a whole-day absence beside lesson marks
        assert [v.code for v in refused.value.violations] == ["attendance.student_conflict"]
        assert db.session.get(Student, a).name in refused.value.violations[0].message("en")
        with pytest.raises(RuleError) as refused:
            record({a: "truant"}, period=9)
        assert "attendance.period_range" in [v.code for v in refused.value.violations]
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Attendance)) == before


def test_alerts_reach_teacher_school_and_parent_once(lc):
    with lc.app.app_context():
        klass, ids = _class_of_student(lc)
        b = lc.cast.student
        parent = _link(lc, b, "parent_b")
        teacher = _scope(lc, "teacher_s")
        days = _school_days_before(klass, 3)
        made = []
        for day in days:
            result = service.record_day(
                db.session, teacher, klass, day, {b: "truant"}, username="teacher_s",
                today=TODAY, calendar=CALENDAR,
                reason="" if day == TODAY else "entered late",
            )  # fmt: skip
            made += notifications.raise_attendance_alerts(db.session, klass, result.alerts)
            db.session.commit()
        users = lc.cast.users
        got = {n.user_id for n in made}
        assert {users["teacher_s"], users["reg_s"], users["lead_s"], parent.user_id} <= got
        # Not the other school's staff.
        assert users["reg_r"] not in got and users["lead_n"] not in got
        # Saving again does not repeat the message.
        again = service.record_day(
            db.session, teacher, klass, days[-1], {b: "truant"}, username="teacher_s",
            today=TODAY, calendar=CALENDAR, reason="same",
        )  # fmt: skip
        assert again.alerts
        assert notifications.raise_attendance_alerts(db.session, klass, again.alerts) == []
        row = db.session.scalars(
            select(Notification).where(Notification.user_id == parent.user_id)
        ).first()
        text = notifications.render(db.session, row, "en")
        assert "Attendance alert" in text.subject and "consecutive" in text.body
        assert row.link == f"/parent/attendance/{b}"


def test_parent_link_needs_a_guardians_id_number(lc):
    with lc.app.app_context():
        student_id = lc.cast.student
        links = db.session.scalar(select(func.count()).select_from(ParentLink))
        with pytest.raises(RuleError) as refused:
            _link(lc, student_id, "parent_x", number="110101199003071234")
        assert [v.code for v in refused.value.violations] == ["parent_link.not_a_guardian"]
        db.session.rollback()
        assert lc.app.appbuilder.sm.find_user(username="parent_x") is None
        assert db.session.scalar(select(func.count()).select_from(ParentLink)) == links
        with pytest.raises(RuleError):  # a staff account is not a parent account
            _link(lc, student_id, "teacher_s")
        db.session.rollback()
        made = _link(lc, student_id, "parent_x")
        assert made.created and made.initial_password
        from admin.security.password_age import password_expired

        user = lc.app.appbuilder.sm.find_user(username="parent_x")
        assert password_expired(user)  # the one-time password must be changed at first sign-in
        with pytest.raises(RuleError) as refused:
            _link(lc, student_id, "parent_x")
        assert [v.code for v in refused.value.violations] == ["parent_link.already"]


def test_parent_sees_own_child_only(lc):
    lc.app.config["WTF_CSRF_ENABLED"] = False
    lc.app.config["XUEJI_TODAY"] = TODAY.isoformat()
    with lc.app.app_context():
        klass, ids = _class_of_student(lc)
        mine = lc.cast.student
        other = next(i for i in ids if i != mine)
        parent = _link(lc, mine, "parent_a")
        _link(lc, other, "parent_other")
        service.record_day(
            db.session, _scope(lc, "teacher_s"), klass, TODAY, {mine: "sick", other: "truant"},
            username="teacher_s", today=TODAY, calendar=CALENDAR,
        )  # fmt: skip
        db.session.commit()
        other_name = db.session.get(Student, other).name
        my_name = db.session.get(Student, mine).name
        foreign_notice = Notification(
            user_id=lc.cast.users["teacher_s"], kind="x", dedupe_key="x", params="{}"
        )
        db.session.add(foreign_notice)
        db.session.commit()
        foreign_id = foreign_notice.id
        # The parent has set their own password (a new account's one-time password expires).
        db.session.get(UserScope, parent.user_id).password_changed_at = datetime.now(UTC).replace(
            tzinfo=None
        )
        db.session.commit()
    client = lc.app.test_client()
    login(client, parent.user_id)
    home = client.get("/parent/?_l_=en", follow_redirects=True)
    assert home.status_code == 200
    assert my_name in home.get_data(as_text=True)
    page = client.get(f"/parent/attendance/{mine}?month={TODAY:%Y-%m}&_l_=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-day="2026-11-30"' in html and "Sick leave" in html
    assert other_name not in html
    for url in (
        f"/parent/timetable/{mine}",
        f"/parent/results/{mine}",
        f"/parent/evaluation/{mine}",
    ):
        assert client.get(url + "?_l_=en").status_code == 200, url
    for url in (
        f"/parent/{other}",
        f"/parent/attendance/{other}",
        f"/parent/timetable/{other}",
        f"/parent/results/{other}",
        f"/parent/evaluation/{other}",
        f"/parent/evaluation/{other}/1.pdf",
        f"/parentlink/{other}",
        f"/messages/{foreign_id}",
    ):
        response = client.get(url)
        assert response.status_code in (403, 404) or "/login" in response.headers.get(
            "Location", ""
        ), url
        assert other_name not in response.get_data(as_text=True)
    # The parent reads nothing of the registry's screens either.
    for url in ("/student/list/", f"/student/show/{other}", "/attendance/"):
        response = client.get(url)
        assert response.status_code in (302, 403, 404), url
        assert other_name not in response.get_data(as_text=True)


@pytest.fixture
def mailbox(lc):
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    lc.app.config.update(
        XUEJI_SMTP_HOST="127.0.0.1",
        XUEJI_SMTP_PORT=port,
        XUEJI_SMTP_STARTTLS=False,
        XUEJI_SMTP_FROM="XueJi <no-reply@xueji.test>",
        XUEJI_BASE_URL="https://xueji.example.edu.cn",
    )
    yield box
    from admin.security.password_reset import wait_for_mail

    wait_for_mail()
    controller.stop()


def test_alert_e_mail_to_the_parent_masks_the_name(lc, mailbox):
    lc.app.config["WTF_CSRF_ENABLED"] = False
    lc.app.config["XUEJI_TODAY"] = TODAY.isoformat()
    with lc.app.app_context():
        klass, _ids = _class_of_student(lc)
        b = lc.cast.student
        _link(lc, b, "parent_mail", email="parent@example.test")
        days = _school_days_before(klass, 3)
        teacher = _scope(lc, "teacher_s")
        for day in days[:-1]:
            service.record_day(
                db.session, teacher, klass, day, {b: "truant"}, username="teacher_s",
                today=TODAY, calendar=CALENDAR, reason="entered late",
            )  # fmt: skip
        db.session.commit()
        name = db.session.get(Student, b).name
        class_id = klass.id
    client = lc.app.test_client()
    login(client, lc.cast.users["teacher_s"])
    response = client.post(
        "/attendance/save?_l_=en",
        data={"class": class_id, "date": days[-1].isoformat(), f"mark_{b}": "truant"},
        follow_redirects=True,
    )
    assert "attendance alert message" in response.get_data(as_text=True)
    messages = mailbox.wait(1)
    to_parent = [m for m in messages if m["To"] == "parent@example.test"]
    assert to_parent, [m["To"] for m in messages]
    body = to_parent[0].get_content()
    assert "https://xueji.example.edu.cn/parent/attendance/" in body
    assert name not in body and name not in to_parent[0]["Subject"]
    assert name[0] in to_parent[0]["Subject"]  # masked: the surname stays
    assert PASSWORD not in body


def test_results_and_publicity_reach_the_parent_who_may_object(lc):
    from admin.models import AuditLog, EvaluationObjection, Term, TermEvaluation
    from admin.services import evaluations, exams

    lc.app.config["WTF_CSRF_ENABLED"] = False
    lc.app.config["XUEJI_TODAY"] = TODAY.isoformat()
    with lc.app.app_context():
        klass, ids = _class_of_student(lc)
        child = lc.cast.student
        parent = _link(lc, child, "parent_n")
        db.session.get(UserScope, parent.user_id).password_changed_at = datetime.now(UTC).replace(
            tzinfo=None
        )
        registrar = _scope(lc, "reg_s")
        term = db.session.scalars(
            select(Term).where(Term.start_date <= TODAY, Term.end_date >= TODAY)
        ).first()
        term_id, school_id = term.id, klass.school_id
        # Results: one message per child with linked parents, none repeated.
        kind = "final" if klass.grade_code not in ("11", "12") else None
        if kind is not None:
            exam = exams.create_exam(
                db.session, registrar, school=klass.school, term=term,
                grade_code=klass.grade_code, name="期末", kind=kind,
                exam_date=TODAY - timedelta(days=2), subjects=[exams.Paper("math", 100)],
                class_ids=[klass.id], username="reg_s",
            )  # fmt: skip
            exams.save_scores(db.session, registrar, exam, klass, "math", {child: "88"}, "reg_s")
            exams.publish(db.session, registrar, exam, "reg_s")
            made = notifications.raise_results_published(db.session, exam)
            assert [n.user_id for n in made] == [parent.user_id]
            assert notifications.raise_results_published(db.session, exam) == []
        # Evaluation publicity: the parent is told the period.
        grades = {sid: dict.fromkeys(evaluations.DIMENSIONS, "B") for sid in ids}
        evaluations.set_grades(db.session, registrar, klass, term, grades, username="reg_s")
        settings = evaluations.settings_from(lc.app.config)
        evaluations.publicize(
            db.session, registrar, klass, term, TODAY, today=TODAY, username="reg_s",
            settings=settings,
        )  # fmt: skip
        made = notifications.raise_evaluation_publicized(db.session, klass.id, term_id)
        assert [n.user_id for n in made] == [parent.user_id]
        text = notifications.render(db.session, made[0], "en")
        assert TODAY.isoformat() in text.subject
        db.session.commit()
    client = lc.app.test_client()
    login(client, parent.user_id)
    page = client.get(f"/parent/evaluation/{child}?term={term_id}&_l_=en")
    assert 'id="evaluation-objection"' in page.get_data(as_text=True)
    response = client.post(
        f"/parent/evaluation/{child}/{term_id}/object",
        data={"reason": "社会实践时长漏记"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    with lc.app.app_context():
        row = db.session.scalars(
            select(TermEvaluation).where(
                TermEvaluation.student_id == child, TermEvaluation.term_id == term_id
            )
        ).one()
        assert row.state == "objected"
        objection = db.session.scalars(
            select(EvaluationObjection).where(EvaluationObjection.term_evaluation_id == row.id)
        ).one()
        assert objection.raised_by == "parent_n"
        # The objection's audit entry is the student's and the school's (the school sees it).
        entry = db.session.scalars(
            select(AuditLog).where(
                AuditLog.table_name == "evaluation_objection",
                AuditLog.row_pk == str(objection.id),
            )
        ).one()
        assert (entry.student_id, entry.school_id) == (child, school_id)
