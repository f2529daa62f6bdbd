"""Demo teaching records on a seeded registry (SQLite and PostgreSQL): timetables without
clashes, attendance only on past school days, exams the 2021 rules allow with scores inside
their papers, final evaluations for finished terms — deterministic, and the warehouse built from
them has attendance, score and evaluation facts that pass its checks."""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from admin.domain.calendar import WorkingCalendar
from admin.domain.consistency import grade_by_code
from admin.domain.ranking import check_exam_type
from admin.domain.timetable import TimetableEntry, check_timetable
from admin.services.seed_teaching import (
    EXAM_KIND_TYPE,
    PERIODS_PER_DAY,
    SHARED_ROOMS,
    TeachingOptions,
    TeachingSeedRefused,
    seed_teaching,
)
from tests.conftest import SEED_TODAY, PgDatabase, as_date, dump_tables, make_app, make_database

SEED = 11
TABLES = (
    "timetable_slot",
    "attendance",
    "exam",
    "exam_subject",
    "exam_class",
    "score",
    "term_evaluation",
    "evaluation",
    "evaluation_record",
    "teaching_assignment",
)


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A nation of 1,500 students over two school years with the demo accounts, then demo
    teaching records; a clone of the same nation gets them too (determinism)."""
    kind = request.param
    if kind == "pg":
        request.node.add_marker(pytest.mark.pg)
    folder = tmp_path_factory.mktemp(f"teaching-{kind}")
    url, handle = make_database(kind, folder)
    app = make_app(url, folder)
    from admin.extensions import db
    from admin.services.accounts import ensure_demo_accounts
    from admin.services.seed import SeedOptions, seed_database
    from admin.services.setup import initialize

    with app.app_context():
        initialize()
        seed_database(db.engine, SeedOptions(students=1500, years=2, seed=SEED, today=SEED_TODAY))
        ensure_demo_accounts()
        db.session.remove()
        db.engine.dispose()
    # The twin: the same registry, seeded separately.
    twin_folder = folder / "twin"
    twin_folder.mkdir()
    if kind == "sqlite":
        shutil.copyfile(folder / "xueji.db", twin_folder / "xueji.db")
        twin_url, twin = f"sqlite:///{twin_folder / 'xueji.db'}", None
    else:
        twin = PgDatabase(template=handle.name)  # type: ignore[attr-defined]
        twin_url = twin.url
    options = TeachingOptions(seed=SEED, today=SEED_TODAY)
    for target in (twin_url, url):
        engine = create_engine(target)
        try:
            report = seed_teaching(engine, options)
        finally:
            engine.dispose()
    from etl import pipeline
    from etl.progress import NullProgress

    warehouse = folder / "warehouse"
    manifest = pipeline.run(
        url,
        warehouse,
        pseudonym_key="test-pseudonym-key-0123456789-abcdefghij",
        progress=NullProgress(),
        mode="full",
    )
    yield {
        "app": app,
        "url": url,
        "twin_url": twin_url,
        "report": report,
        "manifest": manifest,
        "warehouse": warehouse,
    }
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    for h in (handle, twin):
        if h is not None:
            h.drop()  # type: ignore[attr-defined]


def q(world: dict[str, Any], sql: str, **params: Any) -> list[Any]:
    from admin.extensions import db

    with world["app"].app_context():
        return list(db.session.execute(text(sql), params).all())


def test_every_table_gets_rows_and_the_report_counts_them(world):
    counts = world["report"].counts
    for table in TABLES:
        n = q(world, f"SELECT COUNT(*) FROM {table}")[0][0]
        demo_own = 1 if table == "teaching_assignment" else 0  # ensure_demo_accounts' 班主任
        assert n == counts.get(table, 0) + demo_own, table
        assert n > 0, f"{table} is empty"
    # Roughly what a school produces: every student of this year in the timetabled classes.
    assert world["report"].students > 500


def test_timetables_have_no_clash_and_a_realistic_week(world):
    rows = q(
        world,
        "SELECT t.term_id, t.school_id, t.class_id, t.weekday, t.period, t.subject_code, "
        "t.teacher_id, t.room, c.grade_code FROM timetable_slot t "
        "JOIN school_class c ON c.id = t.class_id",
    )
    by_school: dict[tuple[int, int], list[TimetableEntry]] = defaultdict(list)
    by_class: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    grade_of: dict[int, str] = {}
    for term, school, klass, weekday, period, subject, teacher, room, grade in rows:
        by_school[(term, school)].append(
            TimetableEntry(
                str(klass), weekday, period, subject, str(teacher) if teacher else None, room
            )
        )
        by_class[klass].append((weekday, period, subject))
        grade_of[klass] = grade
    for entries in by_school.values():
        assert check_timetable(entries, periods_per_day=8, shared_rooms=SHARED_ROOMS) == []
    assert len({term for term, _ in by_school}) == 1  # the running term only
    for klass, slots in by_class.items():
        grade = grade_of[klass]
        periods = PERIODS_PER_DAY[grade_by_code(grade).stage]
        assert len(slots) == 5 * periods  # Monday–Friday, every period
        assert {w for w, _, _ in slots} == {1, 2, 3, 4, 5}
        for subject in ("chinese", "math"):  # 语文 and 数学 every day
            assert {w for w, _, s in slots if s == subject} == {1, 2, 3, 4, 5}
        subjects = {s for _, _, s in slots}
        if grade in ("11", "12"):
            assert "foreign" not in subjects
        else:
            assert "foreign" in subjects
    # Every class of this year with students has a timetable.
    missing = q(
        world,
        "SELECT COUNT(DISTINCT e.class_id) FROM enrollment e "
        "JOIN school_year y ON y.id = e.school_year_id JOIN student s ON s.id = e.student_id "
        "WHERE y.code = '2026-2027' AND s.current_status = '01' AND e.ended_on IS NULL "
        "AND e.class_id NOT IN (SELECT class_id FROM timetable_slot)",
    )
    assert missing[0][0] == 0


def test_the_demo_teacher_teaches_chinese_in_their_class(world):
    rows = q(
        world,
        "SELECT a.class_id, t.subject_code, COUNT(*) FROM teaching_assignment a "
        "JOIN ab_user u ON u.id = a.user_id "
        "JOIN timetable_slot t ON t.class_id = a.class_id AND t.teacher_id = a.user_id "
        "WHERE u.username = 'teacher' AND a.subject_code IS NULL GROUP BY a.class_id, t.subject_code",
    )
    assert len(rows) == 1 and rows[0][1] == "chinese" and rows[0][2] >= 5
    assignment = q(
        world,
        "SELECT a.subject_code FROM teaching_assignment a JOIN ab_user u ON u.id = a.user_id "
        "WHERE u.username = 'teacher' ORDER BY a.id",
    )
    assert [r[0] for r in assignment] == [None, "chinese"]
    recorded = q(
        world,
        "SELECT COUNT(*) FROM attendance WHERE recorded_by = 'teacher' AND class_id = :c",
        c=rows[0][0],
    )
    assert recorded[0][0] > 0


def test_attendance_only_on_past_school_days_with_consistent_counts(world):
    terms = defaultdict(list)
    for year_id, start, end in q(world, "SELECT school_year_id, start_date, end_date FROM term"):
        terms[year_id].append((as_date(start), as_date(end)))
    class_year = dict(q(world, "SELECT id, school_year_id FROM school_class"))
    enrolled = {tuple(r) for r in q(world, "SELECT student_id, class_id FROM enrollment")}
    rows = q(
        world,
        "SELECT student_id, class_id, date, kind, period, periods, days FROM attendance",
    )
    whole_day: Counter[tuple[int, date]] = Counter()
    for student, klass, day, kind, period, periods, days in rows:
        day = as_date(day)
        assert day <= SEED_TODAY and day.isoweekday() <= 5
        assert any(s <= day <= e for s, e in terms[class_year[klass]])
        assert (student, klass) in enrolled
        if kind in ("late", "left_early"):
            assert period is None and periods is None and days is None
        elif period is None:
            assert kind in ("sick", "personal", "truant") and days == 1 and periods is None
        else:
            assert kind == "truant" and periods == 1 and days is None
        if period is None:
            whole_day[(student, day)] += 1
    assert max(whole_day.values()) == 1  # one whole-day mark per student and day
    kinds = Counter(r[3] for r in rows)
    assert set(kinds) == {"late", "left_early", "truant", "sick", "personal"}
    assert kinds["sick"] > kinds["personal"] > kinds["truant"] / 3


def test_attendance_rates_are_realistic_and_alerts_fire(world):
    from admin.extensions import db
    from admin.models import SchoolClass
    from admin.services import attendance as service

    absent_days, students = q(
        world,
        "SELECT (SELECT SUM(a.days) FROM attendance a JOIN school_class c ON c.id = a.class_id "
        " JOIN school_year y ON y.id = c.school_year_id WHERE y.code = '2026-2027'), "
        "(SELECT COUNT(DISTINCT e.student_id) FROM enrollment e WHERE e.class_id IN "
        " (SELECT class_id FROM timetable_slot))",
    )[0]
    app = world["app"]
    with app.app_context():
        klass_id, student = q(
            world,
            "SELECT a.class_id, a.student_id FROM attendance a JOIN school_class c "
            "ON c.id = a.class_id JOIN school_year y ON y.id = c.school_year_id "
            "WHERE y.code = '2026-2027' GROUP BY a.class_id, a.student_id "
            "ORDER BY COALESCE(SUM(a.days), 0) DESC, a.student_id LIMIT 1",
        )[0]
        klass = db.session.get(SchoolClass, klass_id)
        report = service.class_report(
            db.session, klass, date(2026, 9, 1), SEED_TODAY, calendar=WorkingCalendar()
        )
        school_days = len(report.school_days)
        flagged = {r.student.id for r in report.flagged}
        assert student in flagged  # the worst absentee raises an alert
        assert len(flagged) < len(report.students) / 2
    rate = float(absent_days) / (students * school_days)
    assert 0.005 < rate < 0.04, rate  # 出勤率 about 96–99.5 %


def test_exams_follow_the_2021_rules_and_sit_inside_their_terms(world):
    rows = q(
        world,
        "SELECT e.id, e.grade_code, e.kind, e.exam_date, e.state, t.start_date, t.end_date, "
        "s.primary_years FROM exam e JOIN term t ON t.id = e.term_id "
        "JOIN school s ON s.id = e.school_id",
    )
    assert rows
    kinds_by_stage: dict[str, set[str]] = defaultdict(set)
    for _id, grade, kind, on, state, start, end, primary_years in rows:
        on = as_date(on)
        assert as_date(start) <= on <= as_date(end) and on <= SEED_TODAY and on.isoweekday() <= 5
        assert grade not in ("11", "12")
        assert check_exam_type(grade, EXAM_KIND_TYPE[kind], primary_years=primary_years) == []
        assert state == ("published" if (SEED_TODAY - on).days >= 4 else "draft")
        kinds_by_stage[grade_by_code(grade).stage].add(kind)
    assert kinds_by_stage["primary"] == {"final"}
    assert {"midterm", "final"} <= kinds_by_stage["junior"] and (
        "monthly" not in kinds_by_stage["junior"]
    )
    assert {"midterm", "final", "monthly"} <= kinds_by_stage["senior"]
    # Every exam has papers and classes of its grade and school.
    bad = q(
        world,
        "SELECT COUNT(*) FROM exam e WHERE NOT EXISTS (SELECT 1 FROM exam_subject s "
        "WHERE s.exam_id = e.id) OR NOT EXISTS (SELECT 1 FROM exam_class x WHERE x.exam_id = e.id) "
        "OR EXISTS (SELECT 1 FROM exam_class x JOIN school_class c ON c.id = x.class_id "
        "WHERE x.exam_id = e.id AND (c.grade_code <> e.grade_code OR c.school_id <> e.school_id))",
    )
    assert bad[0][0] == 0


def test_scores_stay_inside_their_papers_and_look_like_a_school(world):
    rows = q(
        world,
        "SELECT x.score, x.code, x.absent, x.full_mark, x.level, p.full_mark, p.pass_line, "
        "p.excellent_line, e.grade_code FROM score x JOIN exam e ON e.id = x.exam_id "
        "JOIN exam_subject p ON p.exam_id = x.exam_id AND p.subject_code = x.subject_code",
    )
    assert len(rows) == q(world, "SELECT COUNT(*) FROM score")[0][0]  # every score has a paper
    passed = excellent = taken = absent = 0
    for score, code, is_absent, full, level, paper_full, pass_line, excellent_line, _ in rows:
        assert Decimal(str(full)) == Decimal(str(paper_full))
        assert Decimal(str(pass_line)) == Decimal(str(paper_full)) * Decimal("0.6")
        assert Decimal(str(excellent_line)) == Decimal(str(paper_full)) * Decimal("0.85")
        assert level is None
        if is_absent:
            assert score is None and code == "absent"
            absent += 1
            continue
        assert code is None and 0 <= Decimal(str(score)) <= Decimal(str(full))
        taken += 1
        passed += Decimal(str(score)) >= Decimal(str(pass_line))
        excellent += Decimal(str(score)) >= Decimal(str(excellent_line))
    assert 0.003 < absent / len(rows) < 0.03
    assert 0.6 < passed / taken < 0.95
    assert 0.1 < excellent / taken < 0.45
    fulls = {(r[8][0], Decimal(str(r[3]))) for r in rows}
    assert ("3", Decimal(150)) in fulls and ("2", Decimal(150)) not in fulls


def test_finished_terms_have_final_evaluations_in_five_dimensions(world):
    terms = q(
        world,
        "SELECT t.id, t.end_date, t.school_year_id, COUNT(te.id) FROM term t "
        "LEFT JOIN term_evaluation te ON te.term_id = t.id GROUP BY t.id, t.end_date, "
        "t.school_year_id",
    )
    for _term, end, _year, n in terms:
        assert (n > 0) == (as_date(end) < SEED_TODAY)
    assert q(world, "SELECT DISTINCT state FROM term_evaluation") == [("final",)]
    per = q(
        world,
        "SELECT te.id, COUNT(v.id), COUNT(DISTINCT v.dimension) FROM term_evaluation te "
        "JOIN evaluation v ON v.term_evaluation_id = te.id GROUP BY te.id",
    )
    assert len(per) == q(world, "SELECT COUNT(*) FROM term_evaluation")[0][0]
    assert {(n, d) for _, n, d in per} == {(5, 5)}
    mismatched = q(
        world,
        "SELECT COUNT(*) FROM evaluation v JOIN term_evaluation te ON te.id = v.term_evaluation_id "
        "JOIN term t ON t.id = te.term_id WHERE v.term_id <> te.term_id "
        "OR v.school_year_id <> t.school_year_id OR v.student_id <> te.student_id "
        "OR te.publicity_end < te.publicity_start OR te.finalized_on <= te.publicity_end",
    )
    assert mismatched[0][0] == 0
    levels = Counter(r[0] for r in q(world, "SELECT level FROM evaluation"))
    total = sum(levels.values())
    assert 0.28 < levels["A"] / total < 0.42 and 0.38 < levels["B"] / total < 0.52
    assert 0.11 < levels["C"] / total < 0.23 and 0.01 < levels["D"] / total < 0.06
    records = Counter(r[0] for r in q(world, "SELECT kind FROM evaluation_record"))
    assert set(records) == {"activity", "award", "practice"}


def test_same_seed_same_rows(world):
    assert dump_tables(world["url"], TABLES) == dump_tables(world["twin_url"], TABLES)


def test_seeding_twice_is_refused_and_writes_nothing(world):
    before = q(world, "SELECT COUNT(*) FROM score")[0][0]
    engine = create_engine(world["url"])
    try:
        with pytest.raises(TeachingSeedRefused, match="already holds"):
            seed_teaching(engine, TeachingOptions(seed=SEED, today=SEED_TODAY))
    finally:
        engine.dispose()
    assert q(world, "SELECT COUNT(*) FROM score")[0][0] == before


def test_the_warehouse_has_the_teaching_facts_and_passes_its_checks(world):
    import duckdb

    manifest = world["manifest"]
    for fact, source in (
        ("fact_attendance", "attendance"),
        ("fact_score", "score"),
        ("fact_evaluation", "evaluation"),
    ):
        assert manifest.rows[fact] > 0
        assert manifest.rows[fact] == q(world, f"SELECT COUNT(*) FROM {source}")[0][0]
    summary = manifest.checks_summary
    assert summary["privacy"].get("fail", 0) == 0 and summary["privacy"]["pass"] > 0
    assert all(counts.get("fail", 0) == 0 for counts in summary.values()), summary
    path = Path(world["warehouse"]) / manifest.file
    with duckdb.connect(str(path), read_only=True) as con:
        # Pass rates per subject come out of the facts like the dashboard computes them.
        rates = con.execute(
            "SELECT subject_code, AVG(CASE WHEN score >= 0.6 * full_mark THEN 1 ELSE 0 END) "
            "FROM fact_score WHERE NOT absent GROUP BY 1"
        ).fetchall()
    assert rates and all(0.3 < rate < 1 for _, rate in rates)


def test_the_command_adds_records_once_and_explains_refusals(tmp_path):
    from tests.cli.test_cli import assert_one_line_error, xueji

    assert xueji("init", data_dir=tmp_path).returncode == 0
    assert xueji("seed", "--students", "500", "--years", "2", data_dir=tmp_path).returncode == 0
    bad = xueji("seed-teaching", "--today", "28.11.2026", data_dir=tmp_path)
    assert_one_line_error(bad, "--today")
    ok = xueji("seed-teaching", "--seed", "3", data_dir=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "teaching records for" in ok.stdout and "scores" in ok.stdout
    again = xueji("seed-teaching", data_dir=tmp_path)
    assert_one_line_error(again, "already holds")
