"""Every ORM insert, update and delete of registry data writes who, when, table, row,
field old → new and reason in the same transaction (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from flask import g
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin.audit import audit_actor, record_batch, record_event, set_audit_reason, verify_chain
from admin.extensions import db
from admin.models import AuditLog, Guardian, School, Student
from admin.security.scope import Scope
from admin.services.accounts import create_account
from admin.services.history import student_history

from .conftest import entries_after, last_id

PASSWORD = "Audit-Test-2026!"


def _intact(session) -> int:
    report = verify_chain(session.connection())
    assert report.intact, [p.message() for p in report.problems]
    return report.count


def test_address_update_writes_one_entry_with_actor_row_field_and_reason(initialized_app, world):
    with initialized_app.app_context():
        session = db.session
        student = session.get(Student, world.students["A"])
        old = student.current_address
        mark = last_id(session)
        with audit_actor("clerk1"):
            set_audit_reason(session, "家长来电更正住址")
            student.current_address = "宁夏回族自治区银川市兴庆区新华街8号"
            session.commit()
        [entry] = entries_after(session, mark)
        assert (entry.action, entry.table_name, entry.row_pk) == (
            "update",
            "student",
            str(student.id),
        )
        assert entry.username == "clerk1"
        assert entry.at is not None
        assert entry.reason == "家长来电更正住址"
        assert entry.changes == {
            "current_address": {"old": old, "new": "宁夏回族自治区银川市兴庆区新华街8号"}
        }
        assert (entry.student_id, entry.school_id, entry.region_code) == (
            student.id,
            world.schools["A"],
            "640104",
        )
        assert entry.entry_hash and entry.prev_hash
        # updated_by names the editor (for optimistic-lock messages); the reason is spent.
        assert session.get(Student, student.id).updated_by == "clerk1"
        assert "audit_reason" not in session.info
        # The record page lists it, masked for a role that may not see the address.
        history = student_history(session, student, Scope(role="SchoolLeader", kind="school"))
        assert history["audit"][0]["changes"] == {"current_address": {"old": "***", "new": "***"}}
        _intact(session)


def test_insert_and_delete_entries(initialized_app, world):
    with initialized_app.app_context():
        session = db.session
        sid = world.students["B"]
        mark = last_id(session)
        with audit_actor("registrar"):
            guardian = Guardian(student_id=sid, seq=2, name="李梅", relationship_code="2")
            session.add(guardian)
            session.commit()
            gid = guardian.id
            session.delete(session.get(Guardian, gid))
            session.commit()
        inserted, deleted = entries_after(session, mark)
        assert (inserted.action, inserted.table_name, inserted.row_pk) == (
            "insert",
            "guardian",
            str(gid),
        )
        assert inserted.changes["name"] == {"new": "李梅"}
        assert inserted.changes["student_id"] == {"new": sid}
        assert (deleted.action, deleted.row_pk) == ("delete", str(gid))
        assert deleted.changes["name"] == {"old": "李梅"}
        for entry in (inserted, deleted):
            assert (entry.student_id, entry.school_id, entry.region_code) == (
                sid,
                world.schools["B"],
                "640104",
            )
            assert entry.username == "registrar"
        _intact(session)


def test_delete_after_commit_lists_the_row(initialized_app, world):
    """The row's columns are expired after a commit; the delete entry still lists them."""
    with initialized_app.app_context():
        session = db.session
        guardian = session.scalars(
            select(Guardian).where(Guardian.student_id == world.students["C"])
        ).one()
        session.commit()  # expires everything
        mark = last_id(session)
        session.delete(guardian)
        session.commit()
        [entry] = entries_after(session, mark)
        assert entry.changes["name"] == {"old": "王建国"}
        assert (entry.school_id, entry.region_code) == (world.schools["C"], "110101")


def test_old_value_is_known_when_the_column_was_not_loaded(initialized_app, world):
    with initialized_app.app_context():
        session = db.session
        student = session.get(Student, world.students["A"])
        session.expire(student)
        mark = last_id(session)
        student.birth_date = date(2019, 3, 5)  # set without reading: history has no old value
        session.commit()
        [entry] = entries_after(session, mark)
        assert entry.changes == {"birth_date": {"old": "2019-03-02", "new": "2019-03-05"}}
        json.dumps(entry.changes)  # dates are stored as ISO strings


def test_unchanged_assignment_writes_nothing(initialized_app, world):
    with initialized_app.app_context():
        session = db.session
        student = session.get(Student, world.students["A"])
        mark = last_id(session)
        student.name = student.name
        session.commit()
        assert entries_after(session, mark) == []
        assert session.get(Student, student.id).version == 1


def test_rolled_back_transaction_leaves_no_entry(initialized_app, world):
    with initialized_app.app_context():
        session = db.session
        mark = last_id(session)
        student = session.get(Student, world.students["A"])
        student.phone = "13800000000"
        session.flush()  # the entry is written here…
        assert len(entries_after(session, mark)) == 1
        session.rollback()  # …and goes with the change
        assert entries_after(session, mark) == []
        assert session.get(Student, world.students["A"]).phone == "13995112233"


def test_savepoint_rollback_drops_its_entries(initialized_app, world):
    with initialized_app.app_context():
        session = db.session
        mark = last_id(session)
        student = session.get(Student, world.students["A"])
        nested = session.begin_nested()
        student.phone = "13800000000"
        session.flush()
        nested.rollback()
        student = session.get(Student, world.students["B"])
        student.phone = "13811111111"
        session.commit()
        [entry] = entries_after(session, mark)
        assert entry.row_pk == str(world.students["B"])
        _intact(session)


def test_failing_flush_leaves_no_entry(initialized_app, world):
    with initialized_app.app_context():
        session = db.session
        mark = last_id(session)
        school = session.get(School, world.schools["A"])
        school.name = "改名小学"
        session.add(
            School(
                code=world.school_codes["B"],  # duplicate 学校标识码
                name="重复学校",
                kind="primary",
                region_code="640104",
                urban_rural="111",
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        assert entries_after(session, mark) == []
        assert session.get(School, world.schools["A"]).name == "兴庆区实验小学"


def test_moving_a_student_by_relationship_records_the_new_school(initialized_app, world):
    with initialized_app.app_context():
        session = db.session
        student = session.get(Student, world.students["A"])
        mark = last_id(session)
        student.current_school = session.get(School, world.schools["C"])
        session.commit()
        [entry] = entries_after(session, mark)
        assert entry.changes["current_school_id"] == {
            "old": world.schools["A"],
            "new": world.schools["C"],
        }
        assert (entry.school_id, entry.region_code) == (world.schools["C"], "110101")


def test_plain_session_is_audited(initialized_app, world):
    with initialized_app.app_context():
        mark = last_id(db.session)
        with Session(db.engine) as session, audit_actor("import-job", reason="批量导入"):
            session.get(School, world.schools["B"]).address = "解放西街1号"
            session.commit()
        [entry] = entries_after(db.session, mark)
        assert (entry.username, entry.reason, entry.table_name) == (
            "import-job",
            "批量导入",
            "school",
        )
        assert entry.changes == {"address": {"old": None, "new": "解放西街1号"}}
        assert (entry.school_id, entry.region_code) == (world.schools["B"], "640104")


def test_request_user_is_the_actor(initialized_app, world):
    with initialized_app.app_context():
        create_account(username="leader_a", password=PASSWORD, role="Admin")
        user = initialized_app.appbuilder.sm.find_user(username="leader_a")
        mark = last_id(db.session)
        with initialized_app.test_request_context(environ_base={"REMOTE_ADDR": "10.1.2.3"}):
            g.user = user
            db.session.get(Student, world.students["A"]).phone = "13822222222"
            db.session.commit()
        [entry] = entries_after(db.session, mark)
        assert (entry.user_id, entry.username, entry.address) == (user.id, "leader_a", "10.1.2.3")
        assert db.session.get(Student, world.students["A"]).updated_by == "leader_a"


def test_logins_failures_and_lockouts_are_audited(initialized_app, world):
    with initialized_app.app_context():
        sm = initialized_app.appbuilder.sm
        create_account(
            username="leader_b",
            password=PASSWORD,
            role="SchoolLeader",
            school=world.school_codes["B"],
        )
        user = sm.find_user(username="leader_b")
        mark = last_id(db.session)
        with initialized_app.test_request_context(environ_base={"REMOTE_ADDR": "10.9.8.7"}):
            sm.update_user_auth_stat(user, False)  # what FAB does on a wrong password
            sm.update_user_auth_stat(user, True)  # … and on a good one
            user.fail_login_count = 5
            user.active = False  # a lockout policy disabling the account after failures
            sm.update_user(user)
            record_event(db.session, "login_failed", username="nobody", reason="unknown user")
            db.session.commit()
        entries = entries_after(db.session, mark)
        assert [e.action for e in entries] == [
            "login_failed",
            "login",
            "login_failed",
            "lockout",
            "login_failed",
        ]
        for entry in entries[:4]:
            assert (entry.user_id, entry.username, entry.address) == (
                user.id,
                "leader_b",
                "10.9.8.7",
            )
            assert (entry.school_id, entry.region_code) == (world.schools["B"], "640104")
        assert entries[-1].username == "nobody" and entries[-1].address == "10.9.8.7"
        assert all("password" not in json.dumps(e.changes) for e in entries)
        _intact(db.session)


def test_password_change_is_audited_without_the_hash(initialized_app, world):
    with initialized_app.app_context():
        sm = initialized_app.appbuilder.sm
        create_account(username="clerk_c", password=PASSWORD, role="Admin")
        user = sm.find_user(username="clerk_c")
        mark = last_id(db.session)
        with audit_actor("admin"):
            sm.reset_password(user.id, "Another-Pass-2026!")
        [entry] = [e for e in entries_after(db.session, mark) if e.table_name == "ab_user"]
        assert (entry.action, entry.username, entry.row_pk) == (
            "password_change",
            "admin",
            str(user.id),
        )
        assert entry.changes == {"username": "clerk_c"}


def test_record_event_keeps_its_signature_and_joins_the_chain(initialized_app, world):
    with initialized_app.app_context():
        mark = last_id(db.session)
        record_event(
            db.session,
            "password_reset",
            username="someone",
            user_id=None,
            address="192.0.2.1",
            reason="self-service",
            details={"via": "email"},
        )
        db.session.commit()
        [entry] = entries_after(db.session, mark)
        assert (entry.action, entry.address, entry.changes) == (
            "password_reset",
            "192.0.2.1",
            {"via": "email"},
        )
        _intact(db.session)


def test_record_batch_on_session_engine_and_raw_connection(initialized_app, world):
    with initialized_app.app_context():
        mark = last_id(db.session)
        record_batch(db.session, "bulk_update", "student", 3, "学年升级")
        db.session.commit()
        record_batch(db.engine, "import", "guardian", 2, None, username="importer")
        raw = db.engine.raw_connection()
        try:
            with audit_actor("seed"):
                record_batch(
                    raw.driver_connection,
                    "seed",
                    "student",
                    3000,
                    "xueji seed --students 3000",
                    details={"counts": {"student": 3000, "school": 12}},
                )
            raw.driver_connection.commit()
        finally:
            raw.close()
        entries = entries_after(db.session, mark)
        assert [(e.action, e.table_name, e.username) for e in entries] == [
            ("bulk_update", "student", "system"),
            ("import", "guardian", "importer"),
            ("seed", "student", "seed"),
        ]
        assert entries[2].changes == {"count": 3000, "counts": {"student": 3000, "school": 12}}
        assert entries[2].reason == "xueji seed --students 3000"
        _intact(db.session)


def test_code_and_region_loads_are_audited_on_init(initialized_app):
    """Reference data loads by `xueji init` are audited as one batch entry per table (with the
    row count), not thousands of per-row entries."""
    with initialized_app.app_context():
        loads = {
            entry.table_name: entry.changes["count"]
            for entry in db.session.scalars(select(AuditLog).where(AuditLog.action == "load"))
        }
        assert loads["region"] == 3219 and loads["code_item"] > 300
        assert _intact(db.session) >= 2


def test_registering_twice_audits_each_flush_once(initialized_app, world):
    from sqlalchemy import event

    from admin.audit import listener, register_audit

    with initialized_app.app_context():
        register_audit()  # again: a no-op
        register_audit(db.session)  # a subclass target on top of the Session class
        try:
            mark = last_id(db.session)
            db.session.get(Student, world.students["A"]).phone = "13833333333"
            db.session.commit()
            assert len(entries_after(db.session, mark)) == 1
        finally:
            for name, handler in (
                ("before_flush", listener._before_flush),
                ("after_flush", listener._after_flush),
                ("after_transaction_end", listener._after_transaction_end),
            ):
                event.remove(db.session, name, handler)
