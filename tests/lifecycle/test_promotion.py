"""Annual promotion (升级): who moves up, who stays, per-school preview, idempotence."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, update

from admin.domain.messages import RuleError
from admin.extensions import db
from admin.models import AuditLog, Enrollment, School, SchoolClass, SchoolYear, Student
from admin.security.scope import Scope
from admin.services.promotion import preview, promote

NATIONAL = Scope(role="Admin", kind="national")
PROMOTABLE = {
    6: {"11", "12", "13", "14", "15", "21", "22", "31", "32"},
    5: {"11", "12", "13", "14", "21", "22", "23", "31", "32"},
}


def _next_year() -> None:
    db.session.add(
        SchoolYear(code="2027-2028", start_date=date(2027, 9, 1), end_date=date(2028, 8, 31))
    )
    db.session.commit()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_preview_then_promote_moves_exactly_the_eligible_students(lc):
    c = lc.cast
    with lc.app.app_context():
        _next_year()
        # One suspended student stays in the grade; one primary school runs the 5-4 system.
        db.session.execute(
            update(Student).where(Student.id == c.student).values(current_status="02")
        )
        five_year = db.session.scalars(
            select(School).where(School.kind == "primary").order_by(School.id)
        ).first()
        five_year.primary_years = 5
        db.session.commit()
        students_before = {
            s.id: (s.current_status, s.current_grade_code, s.current_class_id, s.current_school_id)
            for s in db.session.scalars(select(Student))
        }
        schools = {s.id: s.primary_years for s in db.session.scalars(select(School))}
        enrollments_before = _count(Enrollment)
        plan = preview(db.session, NATIONAL, "2026-2027", "2027-2028")
        assert _count(Enrollment) == enrollments_before  # a preview writes nothing
        totals = plan.totals
        assert totals["promote"] > 0 and totals["graduating"] > 0 and totals["held"] >= 1

        report = promote(db.session, NATIONAL, "2026-2027", "2027-2028", username="tester")
        db.session.commit()
        assert report.promoted == totals["promote"]
        target = db.session.scalars(select(SchoolYear).where(SchoolYear.code == "2027-2028")).one()
        moved = 0
        for student in db.session.scalars(select(Student)):
            status, grade, class_id, school_id = students_before[student.id]
            eligible = status == "01" and grade in PROMOTABLE[schools[school_id]]
            new = db.session.scalars(
                select(Enrollment).where(
                    Enrollment.student_id == student.id, Enrollment.school_year_id == target.id
                )
            ).all()
            if not eligible:
                assert new == [] and student.current_grade_code == grade, student.id
                continue
            moved += 1
            (enrollment,) = new
            assert int(enrollment.grade_code) == int(grade) + 1
            assert student.current_grade_code == enrollment.grade_code
            assert student.current_class_id == enrollment.class_id
            old_class = db.session.get(SchoolClass, class_id)
            new_class = db.session.get(SchoolClass, enrollment.class_id)
            assert (new_class.school_id, new_class.number) == (
                old_class.school_id,
                old_class.number,
            )
            assert new_class.school_year_id == target.id
        assert moved == report.promoted
        # The suspended student and the 5-year school's 五年级 stayed.
        assert (
            db.session.get(Student, c.student).current_grade_code == students_before[c.student][1]
        )
        fives = db.session.scalar(
            select(func.count())
            .select_from(Enrollment)
            .where(
                Enrollment.school_id == five_year.id,
                Enrollment.school_year_id == target.id,
                Enrollment.grade_code == "16",
            )
        )
        assert fives == 0
        # One audit entry for the batch.
        entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "promotion")).one()
        assert entry.changes["count"] == report.promoted and entry.username == "tester"

        # A second run changes nothing.
        enrollments_after = _count(Enrollment)
        again = promote(db.session, NATIONAL, "2026-2027", "2027-2028", username="tester")
        db.session.commit()
        assert again.promoted == 0 and again.classes_created == 0
        assert _count(Enrollment) == enrollments_after
        assert preview(db.session, NATIONAL, "2026-2027", "2027-2028").totals["promote"] == 0


def test_promotion_is_limited_to_the_scope(lc):
    with lc.app.app_context():
        _next_year()
        ningxia = Scope(role="BureauOfficer", kind="region", region_prefix="64")
        plan = preview(db.session, ningxia, "2026-2027", "2027-2028")
        assert plan.schools and all(
            db.session.get(School, s.school_id).region_code.startswith("64") for s in plan.schools
        )
        promote(db.session, ningxia, "2026-2027", "2027-2028", username="officer")
        db.session.commit()
        outside = db.session.scalar(
            select(func.count())
            .select_from(Enrollment)
            .join(School, School.id == Enrollment.school_id)
            .join(SchoolYear, SchoolYear.id == Enrollment.school_year_id)
            .where(SchoolYear.code == "2027-2028", ~School.region_code.startswith("64"))
        )
        assert outside == 0


def test_unknown_or_backward_years_are_refused_by_name(lc):
    with lc.app.app_context():
        with pytest.raises(RuleError) as refused:
            preview(db.session, NATIONAL, "2026-2027", "2030-2031")
        assert refused.value.violations[0].field == "school_year"
        assert "2030-2031" in refused.value.violations[0].message("zh_CN")
        _next_year()
        with pytest.raises(RuleError) as refused:
            promote(db.session, NATIONAL, "2027-2028", "2026-2027", username="x")
        assert refused.value.violations[0].code == "promotion.year_order"


def test_bureau_screen_and_cli(lc, tmp_path):
    import subprocess
    import sys

    from tests.lifecycle.test_screens import _client

    with lc.app.app_context():
        _next_year()
    officer = _client(lc, "county_s")
    page = officer.get("/promotion/?from_year=2026-2027&to_year=2027-2028").get_data(as_text=True)
    assert "promotion-run" in page and "promotion-schools" in page
    with lc.app.app_context():
        prefix = db.session.get(School, lc.cast.sending).region_code
        codes = {s.code for s in db.session.scalars(select(School))}
        mine = {
            s.code for s in db.session.scalars(select(School).where(School.region_code == prefix))
        }
    assert all(code in page for code in mine)
    assert not any(code in page for code in codes - mine)
    done = officer.post(
        "/promotion/run", data={"from_year": "2026-2027", "to_year": "2027-2028"}
    ).get_data(as_text=True)
    assert "2027-2028" in done and "promotion-run" not in done
    assert _client(lc, "reg_s").get("/promotion/").status_code in (302, 403)

    env = {"XUEJI_DATABASE_URL": lc.url, "XUEJI_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "admin.cli", "promote", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    dry = run("--from", "2026-2027", "--to", "2027-2028", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing written" in dry.stdout and "already moved" in dry.stdout
    bad = run("--from", "2026-2027", "--to", "2031-2032")
    assert bad.returncode == 2 and "2031-2032" in bad.stderr
