"""The demo's accounts (`xueji demo`) can walk a status change end to end: the registrar files,
the principal and the officer (the school's county bureau) approve."""

from __future__ import annotations

from admin.extensions import db
from admin.models import StatusChangeRequest, Student
from admin.security.scope import scope_for_user
from admin.services import status_changes as sc
from admin.services.accounts import ensure_demo_accounts
from tests.lifecycle.conftest import TODAY


def test_demo_accounts_cover_every_role_and_a_whole_chain(lc):
    with lc.app.app_context():
        rows = ensure_demo_accounts()
        assert {r[0] for r in rows} == {
            "Admin",
            "BureauOfficer",
            "BureauAnalyst",
            "Leadership",
            "SchoolRegistrar",
            "SchoolLeader",
            "Teacher",
            "Parent",
        }
        assert ensure_demo_accounts() == rows  # a second run creates nothing new
        sm = lc.app.appbuilder.sm
        users = {
            name: sm.find_user(username=name) for name in ("registrar", "principal", "officer")
        }
        scopes = {name: scope_for_user(db.session, u) for name, u in users.items()}
        student = db.session.get(
            Student,
            db.session.scalars(
                Student.__table__.select()
                .where(Student.current_school_id == scopes["registrar"].school_id)
                .where(Student.current_status == "01")
                .where(Student.student_number_kind != "L")
                .with_only_columns(Student.id)
                .limit(1)
            ).first(),
        )
        request = sc.file_request(
            db.session,
            scopes["registrar"],
            student,
            sc.Application("29", effective_date=TODAY),
            user_id=users["registrar"].id,
            username="registrar",
            today=TODAY,
        )
        db.session.commit()
        for name in ("principal", "officer"):
            sc.act(
                db.session,
                scopes[name],
                request,
                "approve",
                user_id=users[name].id,
                username=name,
                today=TODAY,
            )
            db.session.commit()
        assert db.session.get(StatusChangeRequest, request.id).state == "effective"
        assert db.session.get(Student, student.id).current_status == "10"
