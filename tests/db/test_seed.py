"""The synthetic nation is realistic and internally consistent (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import text

from admin.domain.consistency import check_age_for_grade
from admin.domain.idcard import validate_id_number
from admin.domain.student_number import parse_student_number
from admin.extensions import db
from tests.conftest import SEED_TODAY


def q(sql: str, **params):
    return db.session.execute(text(sql), params).all()


def test_counts_match_the_request(seeded):
    report = seeded.config["SEED_REPORT"]
    with seeded.app_context():
        assert q("SELECT COUNT(*) FROM student")[0][0] == 3000
        assert report.counts["student"] == 3000
        provinces = {r[0] for r in q("SELECT DISTINCT substr(region_code, 1, 2) FROM school")}
        assert provinces == {"11", "64", "46"}
        years = [r[0] for r in q("SELECT code FROM school_year ORDER BY code")]
        assert years == ["2024-2025", "2025-2026", "2026-2027"]


def test_every_id_number_is_valid_and_matches_the_form(seeded):
    with seeded.app_context():
        rows = q(
            "SELECT id_doc_type, id_number, sex, birth_date, student_number, "
            "student_number_kind FROM student"
        )
    assert rows
    for doc_type, id_number, sex, birth, number, kind in rows:
        birth = birth if isinstance(birth, date) else date.fromisoformat(birth)
        if doc_type == "1":
            parsed, problems = validate_id_number(id_number, today=SEED_TODAY)
            assert problems == [], (id_number, problems)
            assert parsed.sex == sex and parsed.birth_date == birth
        else:
            assert doc_type == "Z" and id_number is None
        parsed_number, problems = parse_student_number(number)
        assert problems == [] and parsed_number.kind == kind
        if kind == "G":
            assert number == "G" + id_number
        if kind == "J":
            assert doc_type == "Z"


def test_ages_fit_grades(seeded):
    with seeded.app_context():
        rows = q(
            "SELECT s.birth_date, e.grade_code, y.start_date, sc.primary_years "
            "FROM enrollment e JOIN student s ON s.id = e.student_id "
            "JOIN school_year y ON y.id = e.school_year_id JOIN school sc ON sc.id = e.school_id"
        )
    assert len(rows) > 3000
    for birth, grade, start, primary_years in rows:
        birth = birth if isinstance(birth, date) else date.fromisoformat(birth)
        start = start if isinstance(start, date) else date.fromisoformat(start)
        assert check_age_for_grade(birth, grade, start, primary_years, tolerance_years=1) == []


def test_one_class_per_student_per_year_and_classes_fit(seeded):
    with seeded.app_context():
        dupes = q(
            "SELECT student_id, school_year_id, COUNT(*) FROM enrollment "
            "GROUP BY student_id, school_year_id HAVING COUNT(*) > 1"
        )
        assert dupes == []
        mismatched = q(
            "SELECT COUNT(*) FROM enrollment e JOIN school_class c ON c.id = e.class_id "
            "WHERE c.school_id <> e.school_id OR c.school_year_id <> e.school_year_id "
            "OR c.grade_code <> e.grade_code"
        )
        assert mismatched[0][0] == 0
        sizes = [r[0] for r in q("SELECT COUNT(*) FROM enrollment GROUP BY class_id")]
        assert max(sizes) <= 55
        assert sum(1 for s in sizes if s >= 35) / len(sizes) > 0.8
        # Every student currently 在校 has an enrollment this school year.
        missing = q(
            "SELECT COUNT(*) FROM student s WHERE s.current_status = '01' AND NOT EXISTS ("
            " SELECT 1 FROM enrollment e JOIN school_year y ON y.id = e.school_year_id"
            " WHERE e.student_id = s.id AND y.code = '2026-2027')"
        )
        assert missing[0][0] == 0


def test_cohorts_move_up_a_grade_each_year(seeded):
    with seeded.app_context():
        rows = q(
            "SELECT e.student_id, y.start_date, e.grade_code, e.school_id FROM enrollment e "
            "JOIN school_year y ON y.id = e.school_year_id ORDER BY e.student_id, y.start_date"
        )
    last: dict[int, tuple[str, int]] = {}
    for student_id, _start, grade, school_id in rows:
        if student_id in last:
            prev_grade, prev_school = last[student_id]
            assert int(grade) == int(prev_grade) + 1 and school_id == prev_school
        last[student_id] = (grade, school_id)
    # Intake and leavers: each year has a first-grade intake and the oldest cohort leaves.
    with seeded.app_context():
        intake = q(
            "SELECT y.code, COUNT(*) FROM enrollment e JOIN school_year y "
            "ON y.id = e.school_year_id WHERE e.grade_code = '11' GROUP BY y.code"
        )
        assert len(intake) == 3 and all(n > 0 for _, n in intake)
        graduated = q("SELECT COUNT(*) FROM student WHERE current_status = '05'")[0][0]
        assert graduated > 0


def test_guardians_present_and_valid(seeded):
    with seeded.app_context():
        per_student = Counter(r[0] for r in q("SELECT student_id FROM guardian"))
        assert len(per_student) == 3000 and set(per_student.values()) == {2}
        rows = q(
            "SELECT g.id_number, g.is_guardian, s.id_doc_type FROM guardian g "
            "JOIN student s ON s.id = g.student_id"
        )
    guardians_flagged = Counter()
    for id_number, is_guardian, _ in rows:
        _, problems = validate_id_number(id_number, today=SEED_TODAY)
        assert problems == []
        guardians_flagged[bool(is_guardian)] += 1
    assert guardians_flagged[True] >= 3000  # at least one legal guardian per student


def test_realistic_mix(seeded):
    with seeded.app_context():
        by_province = q(
            "SELECT substr(sc.region_code, 1, 2), s.ethnicity, COUNT(*) FROM student s "
            "JOIN school sc ON sc.id = s.current_school_id GROUP BY 1, 2"
        )
        share = Counter()
        totals = Counter()
        for province, ethnicity, n in by_province:
            totals[province] += n
            share[(province, ethnicity)] += n
        assert share[("64", "03")] / totals["64"] > 0.2  # Ningxia: many Hui
        assert share[("46", "19")] / totals["46"] > 0.05  # Hainan: Li
        sexes = dict(q("SELECT sex, COUNT(*) FROM student GROUP BY sex"))
        assert 1.0 < sexes["1"] / sexes["2"] < 1.3
        migrants = q(
            "SELECT SUM(CASE WHEN migrant_child THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN left_behind <> '0' THEN 1 ELSE 0 END) FROM student"
        )[0]
        assert migrants[0] > 0 and migrants[1] > 0
        kinds = dict(q("SELECT student_number_kind, COUNT(*) FROM student GROUP BY 1"))
        assert kinds.get("G", 0) > kinds.get("L", 0) > 0


def test_number_history_keeps_the_temporary_number(seeded):
    with seeded.app_context():
        rows = q(
            "SELECT s.student_number_kind, COUNT(h.id), "
            "SUM(CASE WHEN h.superseded_at IS NULL THEN 1 ELSE 0 END) "
            "FROM student s JOIN student_number_history h ON h.student_id = s.id "
            "GROUP BY s.id, s.student_number_kind"
        )
    for kind, count, open_count in rows:
        assert open_count == 1
        assert count == (1 if kind == "L" else 2)


def test_j_sequence_table_continues_after_seed(seeded):
    with seeded.app_context():
        j_students = q("SELECT student_number FROM student WHERE student_number_kind = 'J'")
        seq = {
            (r[0], str(r[1])): r[2]
            for r in q("SELECT region_code, birth_date, last_sequence FROM j_number_sequence")
        }
    for (number,) in j_students:
        region, birth = number[1:7], number[7:15]
        key = (region, f"{birth[:4]}-{birth[4:6]}-{birth[6:]}")
        assert key in seq and int(number[15:18]) <= seq[key]


def test_rollback_still_works_after_seeding(tmp_path):
    """Regression: seeding SQLite left its pooled connection in autocommit mode, so a later
    session's rollback silently kept half-done changes."""
    from admin.models import Student
    from admin.services.seed import SeedOptions, seed_database
    from admin.services.setup import initialize
    from tests.conftest import make_app

    app = make_app(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    with app.app_context():
        initialize()
        seed_database(db.engine, SeedOptions(students=100, years=1, seed=1, today=SEED_TODAY))
        student = db.session.get(Student, 1)
        original = student.phone
        student.phone = "13000000000"
        db.session.flush()
        db.session.rollback()
        assert db.session.get(Student, 1).phone == original
        db.session.remove()
        db.engine.dispose()
