"""The bureau check (学籍号核验): L → G for a valid, unique ID; L → J without one; anything
doubtful stays L as a problem record; history kept; a second run changes nothing."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import func, select, update

from admin.domain.idcard import validate_id_number
from admin.domain.student_number import parse_student_number
from admin.extensions import db
from admin.models import Student, StudentNumberHistory
from admin.security.scope import Scope
from admin.services.number_check import check_numbers
from tests.lifecycle.conftest import TODAY

NATIONAL = Scope(role="Admin", kind="national")


def _kinds() -> dict[str, int]:
    return dict(
        db.session.execute(
            select(Student.student_number_kind, func.count()).group_by(Student.student_number_kind)
        ).all()
    )


def test_dry_run_writes_nothing_and_confirm_issues_g_and_j(lc):
    with lc.app.app_context():
        before = _kinds()
        assert before["L"] > 50
        preview = check_numbers(db.session, NATIONAL, today=TODAY, dry_run=True)
        db.session.rollback()
        assert _kinds() == before
        assert preview.checked == before["L"]
        report = check_numbers(db.session, NATIONAL, today=TODAY)
        db.session.commit()
        assert dict(report.issued) == dict(preview.issued)
        after = _kinds()
        assert after["G"] == before["G"] + report.issued["G"]
        assert after.get("J", 0) == before.get("J", 0) + report.issued["J"]
        assert after.get("L", 0) == sum(report.problems.values())
        for finding in report.findings:
            if finding.new_number is None:
                continue
            student = db.session.get(Student, finding.student_id)
            assert student.student_number == finding.new_number
            if finding.new_number.startswith("G"):
                assert finding.new_number == "G" + student.id_number
            else:
                parsed, problems = parse_student_number(finding.new_number, today=TODAY)
                assert parsed is not None and not problems, finding.new_number
            history = db.session.scalars(
                select(StudentNumberHistory)
                .where(StudentNumberHistory.student_id == student.id)
                .order_by(StudentNumberHistory.id)
            ).all()
            assert [h.kind for h in history][-2:] == ["L", finding.new_number[0]]
            assert history[-2].number == finding.old_number and history[-2].superseded_at
        again = check_numbers(db.session, NATIONAL, today=TODAY)
        db.session.commit()
        assert sum(again.issued.values()) == 0 and _kinds() == after


def test_doubtful_records_stay_l_with_the_reason(lc):
    with lc.app.app_context():
        l_students = db.session.scalars(
            select(Student)
            .where(Student.student_number_kind == "L", Student.id_number.isnot(None))
            .order_by(Student.id)
            .limit(3)
        ).all()
        bad_check, mismatch, twin_source = l_students
        # A mistyped check digit, and an ID whose sex contradicts the form.
        number = bad_check.id_number
        wrong = "0" if number[-1] != "0" else "1"
        db.session.execute(
            update(Student).where(Student.id == bad_check.id).values(id_number=number[:-1] + wrong)
        )
        parsed, _ = validate_id_number(mismatch.id_number, today=TODAY)
        db.session.execute(
            update(Student)
            .where(Student.id == mismatch.id)
            .values(sex="1" if parsed.sex == "2" else "2")
        )
        # The same ID on a second record under another document type.
        db.session.execute(
            update(Student).where(Student.id == twin_source.id).values(id_doc_type="1")
        )
        other = db.session.scalars(
            select(Student).where(Student.student_number_kind == "G").limit(1)
        ).one()
        db.session.execute(update(Student).where(Student.id == other.id).values(id_doc_type="6"))
        db.session.execute(
            update(Student)
            .where(Student.id == twin_source.id)
            .values(id_number=other.id_number, birth_date=other.birth_date, sex=other.sex)
        )
        db.session.commit()
        report = check_numbers(db.session, NATIONAL, today=TODAY)
        db.session.commit()
        problems = {f.student_id: f.problem for f in report.findings if f.problem}
        assert problems[bad_check.id] == "invalid_id"
        assert problems[mismatch.id] == "id_mismatch"
        assert problems[twin_source.id] == "duplicate_id"
        for student_id in problems:
            assert db.session.get(Student, student_id).student_number_kind == "L"


def test_cli_reports_and_refuses_bad_options(lc, tmp_path):
    env = {
        "XUEJI_DATABASE_URL": lc.url,
        "XUEJI_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "admin.cli", "numbers", "confirm", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    dry = run("--region", "64", "--dry-run", "--today", TODAY.isoformat())
    assert dry.returncode == 0, dry.stderr
    assert "L-numbered students" in dry.stdout and "dry run: nothing written" in dry.stdout
    bad = run("--region", "6x")
    assert bad.returncode == 2 and "--region 6x" in bad.stderr
    done = run("--region", "64", "--today", TODAY.isoformat())
    assert done.returncode == 0, done.stderr
    with lc.app.app_context():
        left = db.session.scalar(
            select(func.count())
            .select_from(Student)
            .where(Student.student_number_kind == "L", Student.student_number.like("L64%"))
        )
    first = int(dry.stdout.split("checked ")[1].split(" ")[0])
    assert left < first


def test_bureau_screen_previews_then_issues_for_its_region_only(lc):
    from tests.lifecycle.test_screens import _client

    with lc.app.app_context():
        county = lc.app.appbuilder.sm.find_user(username="county_s")
        from admin.models import UserScope

        prefix = db.session.get(UserScope, county.id).region_prefix
        in_region = lambda: db.session.scalar(  # noqa: E731
            select(func.count())
            .select_from(Student)
            .where(Student.student_number_kind == "L", Student.student_number.like(f"L{prefix}%"))
        )
        elsewhere = lambda: db.session.scalar(  # noqa: E731
            select(func.count())
            .select_from(Student)
            .where(
                Student.student_number_kind == "L", Student.student_number.notlike(f"L{prefix}%")
            )
        )
        before_in, before_out = in_region(), elsewhere()
    officer = _client(lc, "county_s")
    preview = officer.get("/numbers/").get_data(as_text=True)
    assert "number-check-confirm" in preview
    with lc.app.app_context():
        assert (in_region(), elsewhere()) == (before_in, before_out)
    done = officer.post("/numbers/confirm").get_data(as_text=True)
    assert "number-check-summary" in done
    with lc.app.app_context():
        assert in_region() < before_in and elsewhere() == before_out
    registrar = _client(lc, "reg_s")
    assert registrar.get("/numbers/").status_code in (302, 403)
