"""考勤: a class teacher marks a day's exceptions (everyone else present), refusals write
nothing, corrections of earlier days need a reason and are audited, and the class report
gives each student's rate and alerts — checked against a count done by hand."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from admin.domain.calendar import WorkingCalendar
from admin.domain.messages import RuleError
from admin.extensions import db
from admin.models import Attendance, AuditLog, SchoolClass, TeachingAssignment
from admin.security.scope import scope_for_user
from admin.services import attendance as service
from tests.lifecycle.conftest import TODAY
from tests.scope.conftest import login

CALENDAR = WorkingCalendar()
MONDAY = TODAY - timedelta(days=7)  # 2026-11-23


def _teach(lc) -> tuple[SchoolClass, list[int]]:
    """teacher_s becomes class teacher of the lifecycle student's class."""
    from admin.models import Student

    student = db.session.get(Student, lc.cast.student)
    klass = db.session.get(SchoolClass, student.current_class_id)
    user = lc.app.appbuilder.sm.find_user(username="teacher_s")
    db.session.add(TeachingAssignment(user_id=user.id, class_id=klass.id))
    db.session.commit()
    ids = [s.id for s in service.class_students(db.session, klass)]
    return klass, ids


def _scope(lc, username):
    return scope_for_user(db.session, lc.app.appbuilder.sm.find_user(username=username))


def _rows() -> int:
    return db.session.scalar(select(func.count()).select_from(Attendance))


def test_recording_a_day_and_its_refusals(lc):
    with lc.app.app_context():
        klass, ids = _teach(lc)
        teacher = _scope(lc, "teacher_s")
        a, b, c = ids[:3]

        def record(day, marks, **kw):
            return service.record_day(
                db.session,
                teacher,
                klass,
                day,
                marks,
                username="teacher_s",
                today=TODAY,
                calendar=CALENDAR,
                **kw,
            )

        refusals = [
            (TODAY + timedelta(days=1), {a: "sick"}, "attendance.future_day"),
            (date(2026, 11, 29), {a: "sick"}, "attendance.not_school_day"),  # a Sunday
            (TODAY, {a: "asleep"}, "code.unknown"),
            (TODAY, {999_999: "sick"}, "attendance.not_in_class"),
        ]
        for day, marks, code in refusals:
            with pytest.raises(RuleError) as refused:
                record(day, marks)
            db.session.rollback()
            assert code in {v.code for v in refused.value.violations}
        assert _rows() == 0
        # Another school's registrar may not record this class.
        with pytest.raises(RuleError):
            service.record_day(
                db.session,
                _scope(lc, "reg_r"),
                klass,
                TODAY,
                {a: "sick"},
                username="x",
                today=TODAY,
                calendar=CALENDAR,
            )
        db.session.rollback()

        done = record(TODAY, {a: "truant", b: "sick", c: "late"})
        db.session.commit()
        assert (done.marked, done.changed) == (3, 3)
        assert service.day_marks(db.session, klass, TODAY) == {a: "truant", b: "sick", c: "late"}
        rows = {r.student_id: r for r in db.session.scalars(select(Attendance))}
        assert (rows[a].days, rows[c].days) == (1.0, None)  # late is not an absent day
        # The same day can be corrected without a reason; an earlier day needs one.
        record(TODAY, {a: None, b: "sick", c: "late"})
        db.session.commit()
        assert service.day_marks(db.session, klass, TODAY) == {b: "sick", c: "late"}
        record(MONDAY, {a: "truant"})
        db.session.commit()
        with pytest.raises(RuleError) as refused:
            record(MONDAY, {a: "sick"})
        db.session.rollback()
        assert refused.value.violations[0].code == "attendance.reason_required"
        record(MONDAY, {a: "sick"}, reason="家长补交病假条")
        db.session.commit()
        entry = db.session.scalars(
            select(AuditLog).where(AuditLog.table_name == "attendance").order_by(AuditLog.id.desc())
        ).first()
        assert entry.reason == "家长补交病假条"


def test_class_report_rates_and_alerts(lc):
    with lc.app.app_context():
        klass, ids = _teach(lc)
        teacher = _scope(lc, "teacher_s")
        truant, sick = ids[0], ids[1]
        start = date(2026, 11, 2)  # a Monday; four school weeks to TODAY's Friday before
        end = date(2026, 11, 27)
        days = service.school_days(db.session, klass, start, end, CALENDAR)
        assert len(days) == 20 and all(d.weekday() < 5 for d in days)
        # truant: unexcused Wed–Fri of the last week (3 in a row); sick: two days of sick leave
        for day in days[-3:]:
            service.record_day(
                db.session,
                teacher,
                klass,
                day,
                {truant: "truant"},
                username="t",
                today=TODAY,
                calendar=CALENDAR,
                reason="补录",
            )
        for day in days[:2]:
            service.record_day(
                db.session,
                teacher,
                klass,
                day,
                {sick: "sick"},
                username="t",
                today=TODAY,
                calendar=CALENDAR,
                reason="补录",
            )
        db.session.commit()
        report = service.class_report(db.session, klass, start, end, calendar=CALENDAR)
        by_id = {r.student.id: r for r in report.students}
        assert by_id[truant].summary.attendance_rate == Fraction(17, 20)
        assert by_id[sick].summary.attendance_rate == Fraction(18, 20)
        kinds = {a.kind.value for a in by_id[truant].alerts}
        assert {"consecutive_unexcused", "chronic_absence"} <= kinds  # 15 % ≥ 10 %, 3 in a row
        assert {a.kind.value for a in by_id[sick].alerts} == {"chronic_absence"}  # 10 %
        n = len(report.students)
        assert report.group.attendance_rate == 1 - Fraction(5, 20 * n)  # student-days
        assert {r.student.id for r in report.flagged} == {truant, sick}


def test_attendance_screens(lc):
    with lc.app.app_context():
        klass, ids = _teach(lc)
        class_id = klass.id
    lc.app.config["WTF_CSRF_ENABLED"] = False
    lc.app.config["XUEJI_TODAY"] = TODAY.isoformat()
    teacher = lc.app.test_client()
    login(teacher, lc.cast.users["teacher_s"])
    page = teacher.get(f"/attendance/?class={class_id}&date={TODAY}&_l_=en")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and body.count('<select name="mark_') == len(ids)
    saved = teacher.post(
        "/attendance/save",
        data={
            "class": class_id,
            "date": TODAY.isoformat(),
            f"mark_{ids[0]}": "truant",
            **{f"mark_{i}": "" for i in ids[1:]},
        },
    )
    assert saved.status_code == 302
    with lc.app.app_context():
        assert service.day_marks(db.session, db.session.get(SchoolClass, class_id), TODAY) == {
            ids[0]: "truant"
        }
    report = teacher.get(f"/attendance/report?class={class_id}&from={TODAY}&to={TODAY}&_l_=en")
    assert report.status_code == 200 and "attendance-report" in report.get_data(as_text=True)
    # A teacher of another school sees no such class; a parent has no attendance screens.
    other = lc.app.test_client()
    login(other, lc.cast.users["reg_r"])
    grid = other.get(f"/attendance/?class={class_id}").get_data(as_text=True)
    assert "attendance-grid" not in grid
    refused = other.post("/attendance/save", data={"class": class_id, f"mark_{ids[0]}": "sick"})
    assert refused.status_code == 302
    with lc.app.app_context():
        assert service.day_marks(db.session, db.session.get(SchoolClass, class_id), TODAY) == {
            ids[0]: "truant"
        }
