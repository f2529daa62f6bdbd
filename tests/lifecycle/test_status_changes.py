"""学籍异动 through the service layer, as the units of a real chain meet it: who may act at
each step, what the student looks like afterwards, and what a refusal leaves behind."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from admin.domain.messages import RuleError
from admin.extensions import db
from admin.models import (
    AuditLog,
    Enrollment,
    StatusChangeRequest,
    StatusChangeStep,
    Student,
)
from admin.security.scope import scope_for_user
from admin.services import status_changes as sc
from tests.lifecycle.conftest import TODAY


def _scope(world, username: str):
    user = world.app.appbuilder.sm.find_user(username=username)
    return user, scope_for_user(db.session, user)


def _file(
    world, username: str, student_id: int, change_type: str, *, to_class=None, today=TODAY, **kw
):
    user, scope = _scope(world, username)
    student = db.session.get(Student, student_id)
    request = sc.file_request(
        db.session,
        scope,
        student,
        sc.Application(change_type, effective_date=today, to_class_id=to_class, **kw),
        user_id=user.id,
        username=user.username,
        today=today,
    )
    db.session.commit()
    return request.id


def _act(world, username: str, request_id: int, action: str, *, today=TODAY, comment=""):
    user, scope = _scope(world, username)
    request = db.session.get(StatusChangeRequest, request_id)
    try:
        sc.act(
            db.session,
            scope,
            request,
            action,
            user_id=user.id,
            username=user.username,
            today=today,
            comment=comment,
        )
    except RuleError:
        db.session.rollback()
        raise
    db.session.commit()
    return request


def _codes(exc: pytest.ExceptionInfo[RuleError]) -> set[str]:
    return {v.code for v in exc.value.violations}


def _snapshot(student_id: int) -> tuple:
    student = db.session.get(Student, student_id)
    db.session.refresh(student)
    enrollments = db.session.execute(
        select(Enrollment.id, Enrollment.school_id, Enrollment.class_id, Enrollment.is_active)
        .where(Enrollment.student_id == student_id)
        .order_by(Enrollment.id)
    ).all()
    return (
        student.current_status,
        student.current_school_id,
        student.current_class_id,
        student.current_grade_code,
        tuple(enrollments),
    )


def test_cross_province_transfer_takes_seven_units_and_moves_the_student(lc):
    c = lc.cast
    with lc.app.app_context():
        request_id = _file(lc, "reg_r", c.student, "35", to_class=c.target_class)
        request = db.session.get(StatusChangeRequest, request_id)
        assert request.scope == "cross_province"
        assert [s.unit_kind for s in request.steps] == [
            "school_registrar",
            "school_leader",
            "county_bureau",
            "province_bureau",
            "school_leader",
            "county_bureau",
            "province_bureau",
        ]
        before = _snapshot(c.student)
        chain = ["lead_r", "county_r", "prov_r", "lead_s", "county_s", "prov_s"]
        everyone = {"reg_r", "reg_s", "admin", *chain}
        for position, unit in enumerate(chain):
            # Nobody but the current handling unit may act, and a refusal changes nothing.
            for other in sorted(everyone - {unit}):
                with pytest.raises(RuleError) as refused:
                    _act(lc, other, request_id, "approve")
                assert _codes(refused) & {"workflow.not_your_step", "workflow.no_unit"}, other
            assert _snapshot(c.student) == before
            _act(lc, unit, request_id, "approve", comment=f"同意 {position}")
            if unit != chain[-1]:
                assert _snapshot(c.student) == before  # nothing moves before the last step
        request = db.session.get(StatusChangeRequest, request_id)
        assert request.state == "effective" and request.handler_kind is None
        assert [s.acted_by_username for s in request.steps] == ["reg_r", *chain]
        assert all(s.state == "approved" and s.acted_at for s in request.steps)
        student = db.session.get(Student, c.student)
        assert student.current_school_id == c.receiving
        assert student.current_class_id == c.target_class
        assert student.current_status == "01"
        old, new = db.session.scalars(
            select(Enrollment).where(Enrollment.student_id == c.student).order_by(Enrollment.id)
        ).all()[-2:]
        assert (old.school_id, old.is_active, old.end_reason) == (c.sending, False, "27")
        assert (new.school_id, new.class_id, new.is_active) == (c.receiving, c.target_class, True)
        # Every step and the move itself are in the audit trail of the student.
        tables = set(
            db.session.scalars(select(AuditLog.table_name).where(AuditLog.student_id == c.student))
        )
        assert {"status_change_request", "status_change_step", "enrollment", "student"} <= tables


def test_same_county_transfer_has_one_bureau_step_at_the_end(lc):
    c = lc.cast
    with lc.app.app_context():
        grade = db.session.get(Student, c.student).current_grade_code
        mover = db.session.scalars(
            select(Student.id).where(
                Student.current_school_id == c.receiving,
                Student.current_grade_code == grade,
                Student.current_status == "01",
                Student.student_number_kind == "G",
            )
        ).first()
        request_id = _file(lc, "reg_n", mover, "35", to_class=c.neighbour_class)
        request = db.session.get(StatusChangeRequest, request_id)
        assert request.scope == "same_county"
        assert [(s.unit_kind, s.side) for s in request.steps] == [
            ("school_registrar", "receiving"),
            ("school_leader", "receiving"),
            ("school_leader", "sending"),
            ("county_bureau", "sending"),
        ]
        for unit in ("lead_n", "lead_r", "county_r"):
            _act(lc, unit, request_id, "approve")
        student = db.session.get(Student, mover)
        assert (student.current_school_id, student.current_class_id) == (
            c.neighbour,
            c.neighbour_class,
        )


def test_suspension_then_resumption(lc):
    c = lc.cast
    with lc.app.app_context():
        request_id = _file(
            lc, "reg_s", c.student, "23", reason_code="", end_date=TODAY + timedelta(days=365)
        )
        request = db.session.get(StatusChangeRequest, request_id)
        assert [s.unit_kind for s in request.steps] == [
            "school_registrar",
            "school_leader",
            "county_bureau",
        ]
        assert request.due_date == date(2026, 12, 14)  # 10 working days after Monday 11-30
        _act(lc, "lead_s", request_id, "approve")
        _act(lc, "county_s", request_id, "approve")
        assert db.session.get(Student, c.student).current_status == "02"
        # 复学 into another class of the same grade.
        resume = _file(lc, "reg_s", c.student, "12", to_class=c.other_class)
        _act(lc, "lead_s", resume, "approve")
        _act(lc, "county_s", resume, "approve")
        student = db.session.get(Student, c.student)
        assert (student.current_status, student.current_class_id) == ("01", c.other_class)
        active = db.session.scalars(
            select(Enrollment).where(Enrollment.student_id == c.student, Enrollment.is_active)
        ).all()
        assert [e.class_id for e in active] == [c.other_class]


def test_rejection_needs_a_reason_and_leaves_the_student_as_before(lc):
    c = lc.cast
    with lc.app.app_context():
        before = _snapshot(c.student)
        request_id = _file(lc, "reg_s", c.student, "32", to_class=c.other_class)
        with pytest.raises(RuleError) as refused:
            _act(lc, "lead_s", request_id, "reject", comment="  ")
        assert _codes(refused) == {"workflow.comment_required"}
        _act(lc, "lead_s", request_id, "reject", comment="材料不全")
        request = db.session.get(StatusChangeRequest, request_id)
        assert request.state == "rejected" and request.steps[1].comment == "材料不全"
        assert _snapshot(c.student) == before
        # A closed request cannot be approved afterwards.
        with pytest.raises(RuleError) as refused:
            _act(lc, "county_s", request_id, "approve")
        assert _codes(refused) == {"workflow.wrong_state"}


def test_overdue_step_is_taken_over_by_the_level_above(lc):
    c = lc.cast
    with lc.app.app_context():
        request_id = _file(lc, "reg_s", c.student, "32", to_class=c.other_class)
        due = db.session.get(StatusChangeRequest, request_id).due_date
        with pytest.raises(RuleError) as refused:
            _act(lc, "county_s", request_id, "escalate", today=due)
        assert _codes(refused) == {"workflow.not_overdue"}
        late = due + timedelta(days=1)
        user, scope = _scope(lc, "county_s")
        overdue = db.session.scalars(
            select(StatusChangeRequest.id).where(sc.overdue_criterion(late))
        ).all()
        assert request_id in overdue
        _act(lc, "county_s", request_id, "escalate", today=late)
        request = db.session.get(StatusChangeRequest, request_id)
        assert (request.handler_kind, request.handler_code) == (
            "county_bureau",
            request.from_school.region_code,
        )
        # The leader lost the step; the county now approves it and then its own step.
        with pytest.raises(RuleError):
            _act(lc, "lead_s", request_id, "approve", today=late)
        _act(lc, "county_s", request_id, "approve", today=late)
        _act(lc, "county_s", request_id, "approve", today=late)
        assert db.session.get(Student, c.student).current_class_id == c.other_class


def test_purge_by_the_supervising_bureau_only(lc):
    c = lc.cast
    with lc.app.app_context():
        before = _snapshot(c.student)
        request_id = _file(lc, "reg_s", c.student, "29")
        for outsider in ("county_r", "reg_s", "lead_s"):
            with pytest.raises(RuleError):
                _act(lc, outsider, request_id, "purge")
        _act(lc, "prov_s", request_id, "purge")
        assert db.session.get(StatusChangeRequest, request_id).state == "purged"
        assert _snapshot(c.student) == before
        # The student is free for new business again.
        _file(lc, "reg_s", c.student, "29")


def test_preconditions_refuse_with_reasons_and_write_nothing(lc):
    c = lc.cast
    with lc.app.app_context():
        count = lambda: db.session.scalar(select(func.count()).select_from(StatusChangeRequest))  # noqa: E731
        _file(lc, "reg_s", c.student, "29")
        with pytest.raises(RuleError) as refused:
            _file(lc, "reg_s", c.student, "23")
        assert "workflow.in_flight" in _codes(refused)
        with pytest.raises(RuleError) as refused:
            _file(lc, "reg_s", c.l_student, "23")
        assert "workflow.problem_record" in _codes(refused)
        with pytest.raises(RuleError) as refused:
            _file(lc, "reg_r", c.l_student, "35", to_class=c.target_class)
        assert "workflow.problem_record" in _codes(refused)
        with pytest.raises(RuleError) as refused:  # the sending school cannot file a transfer
            _file(lc, "teacher_s", c.l_student, "23")
        assert _codes(refused) & {
            "workflow.no_unit",
            "workflow.not_applicant_unit",
            "workflow.problem_record",
        }
        # 暑期转学冻结: no new transfers 07-15 … 08-14.
        with pytest.raises(RuleError) as refused:
            _file(lc, "reg_r", c.l_student, "35", to_class=c.target_class, today=date(2027, 7, 20))
        assert "workflow.frozen" in _codes(refused)
        # 调班 needs a class of the student's grade at the student's school.
        other = db.session.get(Student, c.student)
        with pytest.raises(RuleError) as refused:
            _file(lc, "reg_r", c.l_student, "32", to_class=c.target_class)
        assert count() == 1 and other.current_status == "01"


def test_two_units_acting_on_one_step_at_once_one_wins(lc):
    """Two sessions read the request, both approve: the second write matches no row (the
    version moved) and is told who handled it."""
    if lc.backend != "pg":
        pytest.skip("concurrent sessions are a PostgreSQL matter")
    c = lc.cast
    from sqlalchemy.orm import Session

    with lc.app.app_context():
        request_id = _file(lc, "reg_s", c.student, "32", to_class=c.other_class)
        engine = db.engine
        lead = lc.app.appbuilder.sm.find_user(username="lead_s")
        scope = scope_for_user(db.session, lead)
        with Session(engine) as first, Session(engine) as second:
            a = first.get(StatusChangeRequest, request_id)
            b = second.get(StatusChangeRequest, request_id)
            _ = (list(a.steps), list(b.steps))
            sc.act(first, scope, a, "approve", user_id=lead.id, username="lead_s", today=TODAY)
            first.commit()
            with pytest.raises(RuleError) as refused:
                sc.act(second, scope, b, "approve", user_id=lead.id, username="lead_s", today=TODAY)
            assert _codes(refused) == {"workflow.handled_meanwhile"}
            assert "lead_s" in refused.value.violations[0].message("zh_CN")
        steps = db.session.scalars(
            select(StatusChangeStep).where(StatusChangeStep.request_id == request_id)
        ).all()
        assert [s.state for s in steps] == ["approved", "approved", "pending"]
