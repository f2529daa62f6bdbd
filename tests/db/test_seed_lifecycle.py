"""Demo status changes and graduations on a seeded registry (SQLite and PostgreSQL): filed and
decided through the services at replayed dates, requests in every state (effective, rejected,
cancelled, pending and overdue), transfers that moved the student, graduations of every
finished year's graduating grades with diplomas — deterministic, refused twice, and the
warehouse built from them feeds the status-change and graduation metrics."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from admin.domain import workflow as wf
from admin.domain.consistency import grade_by_code, stage_length
from admin.services.seed_lifecycle import (
    LifecycleOptions,
    LifecycleSeedRefused,
    seed_lifecycle,
)
from tests.conftest import SEED_TODAY, PgDatabase, as_date, dump_tables, make_app, make_database

SEED = 5
TABLES = ("status_change_request", "status_change_step", "graduation", "diploma")


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A nation of 3,000 students over three school years (two finished), then the demo
    lifecycle."""
    kind = request.param
    if kind == "pg":
        request.node.add_marker(pytest.mark.pg)
    folder = tmp_path_factory.mktemp(f"lifecycle-{kind}")
    url, handle = make_database(kind, folder)
    app = make_app(url, folder)
    from admin.extensions import db
    from admin.services.accounts import ensure_demo_accounts
    from admin.services.diplomas import KeyRing
    from admin.services.seed import SeedOptions, seed_database
    from admin.services.setup import initialize

    with app.app_context():
        initialize()
        seed_database(db.engine, SeedOptions(students=3000, years=3, seed=SEED, today=SEED_TODAY))
        ensure_demo_accounts()
        db.session.remove()
        db.engine.dispose()
    # Two clones of the same nation: the twin gets the same lifecycle (determinism), the
    # other graduations only (what the demo adds while the ETL refuses status changes).
    clones: list[tuple[str, Any]] = []
    for name in ("twin", "grad"):
        clone = folder / name
        clone.mkdir()
        if kind == "sqlite":
            shutil.copyfile(folder / "xueji.db", clone / "xueji.db")
            clones.append((f"sqlite:///{clone / 'xueji.db'}", None))
        else:
            pg = PgDatabase(template=handle.name)  # type: ignore[attr-defined]
            clones.append((pg.url, pg))
    (twin_url, twin), (grad_url, grad) = clones
    keyring = KeyRing(folder / "keys")
    keyring.ensure()
    options = LifecycleOptions(seed=SEED, today=SEED_TODAY, keyring=keyring)
    runs = ((twin_url, options), (grad_url, replace(options, status_changes=False)))
    for target, opts in (*runs, (url, options)):
        engine = create_engine(target)
        try:
            report = seed_lifecycle(engine, opts)
        finally:
            engine.dispose()
    yield {
        "app": app,
        "kind": kind,
        "folder": folder,
        "url": url,
        "twin_url": twin_url,
        "grad_url": grad_url,
        "report": report,
        "options": options,
    }
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    for h in (handle, twin, grad):
        if h is not None:
            h.drop()  # type: ignore[attr-defined]


def _warehouse(url: str, folder: Path) -> tuple[Any, Path]:
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
    summary = manifest.checks_summary
    assert all(counts.get("fail", 0) == 0 for counts in summary.values()), summary
    return manifest, warehouse / manifest.file


def _runner(con: Any) -> Any:
    from analytics.engine import run_metric
    from analytics.scope import AnalyticsScope

    def run(name: str, **params: object) -> list[Any]:
        return run_metric(
            name, AnalyticsScope(), params, cursor_factory=con.cursor, snapshot="t", as_of="t"
        ).rows

    return run


def q(world: dict[str, Any], sql: str, **params: Any) -> list[Any]:
    from admin.extensions import db

    with world["app"].app_context():
        return list(db.session.execute(text(sql), params).all())


def test_a_few_percent_of_students_get_requests_of_several_types(world):
    report = world["report"]
    enrolled = q(
        world,
        "SELECT COUNT(*) FROM enrollment e JOIN school_year y ON y.id = e.school_year_id "
        "WHERE y.code = '2026-2027' AND e.is_active",
    )[0][0]
    requests = q(world, "SELECT COUNT(*) FROM status_change_request")[0][0]
    assert requests == report.counts["request"]
    assert 0.015 * enrolled <= requests <= 0.05 * enrolled
    types = {t for (t,) in q(world, "SELECT DISTINCT change_type FROM status_change_request")}
    assert {wf.TRANSFER, wf.SUSPENSION, wf.RESUMPTION} <= types
    assert types & {wf.DROPOUT, wf.WITHDRAWAL} and len(types) >= 5
    # The rare kinds too, so that every breakdown of the demo has one to show.
    assert {wf.SKIP, wf.EXPULSION, wf.DEATH, wf.RETURN} <= types
    assert report.refusals == []  # every request the seed meant to file was accepted


def test_requests_are_in_every_state_and_some_steps_are_overdue(world):
    states = Counter(dict(q(world, "SELECT state, COUNT(*) FROM status_change_request GROUP BY 1")))
    assert {"effective", "rejected", "submitted"} <= set(states)
    assert states["effective"] > sum(states.values()) / 2  # most are approved
    overdue = q(
        world,
        "SELECT COUNT(*) FROM status_change_request WHERE state = 'submitted' AND due_date < :d",
        d=SEED_TODAY,
    )[0][0]
    assert overdue >= 1 and overdue == world["report"].counts["overdue"]
    # A rejected request says why, at the step that rejected it.
    comments = q(
        world,
        "SELECT st.comment FROM status_change_step st JOIN status_change_request r "
        "ON r.id = st.request_id WHERE r.state = 'rejected' AND st.state = 'rejected'",
    )
    assert comments and all(c for (c,) in comments)


def test_steps_are_acted_on_by_their_unit_at_realistic_dates(world):
    rows = q(
        world,
        "SELECT r.id, r.created_at, r.submitted_at, r.closed_at, st.seq, st.state, "
        "st.started_on, st.acted_at, st.acted_as, st.unit_kind FROM status_change_request r "
        "JOIN status_change_step st ON st.request_id = r.id ORDER BY r.id, st.seq",
    )
    assert rows
    leads = []
    for _rid, created, submitted, closed, _seq, state, started, acted, acted_as, unit in rows:
        assert as_date(created) <= SEED_TODAY and as_date(created) >= date(2026, 9, 1)
        if acted is not None and state in ("approved", "rejected"):
            assert as_date(acted) < SEED_TODAY and as_date(acted) >= as_date(submitted)
            assert as_date(acted).weekday() < 5  # a working day
            assert acted_as and acted_as.split(":")[0] == unit  # the step's own unit acted
            assert started is None or as_date(acted) >= as_date(started)
        if closed is not None:
            leads.append((as_date(closed) - as_date(submitted)).days)
    assert leads and max(leads) >= 7 and sum(leads) / len(leads) >= 3


def test_every_approved_transfer_moved_the_active_enrollment(world):
    transfers = q(
        world,
        "SELECT student_id, to_school_id, to_class_id FROM status_change_request "
        "WHERE change_type = :t AND state = 'effective'",
        t=wf.TRANSFER,
    )
    assert transfers
    for student_id, to_school, to_class in transfers:
        active = q(
            world,
            "SELECT school_id, class_id FROM enrollment WHERE student_id = :s AND is_active "
            "AND ended_on IS NULL",
            s=student_id,
        )
        assert active == [(to_school, to_class)]
        current = q(
            world,
            "SELECT current_school_id, current_status FROM student WHERE id = :s",
            s=student_id,
        )
        assert current == [(to_school, wf.ENROLLED)]
    # Transfers cross county and province lines too.
    pairs = q(
        world,
        "SELECT DISTINCT substr(a.region_code, 1, 2) = substr(b.region_code, 1, 2) "
        "FROM status_change_request r JOIN school a ON a.id = r.from_school_id "
        "JOIN school b ON b.id = r.to_school_id WHERE r.change_type = :t",
        t=wf.TRANSFER,
    )
    assert (False,) in pairs or (0,) in pairs


def test_effective_requests_changed_the_student(world):
    expected = {
        wf.SUSPENSION: {wf.SUSPENDED, wf.ENROLLED},  # some came back since
        wf.DROPOUT: {wf.DROPPED_OUT, wf.ENROLLED},  # some came back since (返校)
        wf.WITHDRAWAL: {wf.WITHDRAWN},
        wf.ABROAD: {wf.GONE_ABROAD, wf.ENROLLED},
        wf.OTHER_LEAVE: {wf.LEFT_OTHER, wf.ENROLLED},
        wf.RESUMPTION: {wf.ENROLLED},
        wf.RETURN: {wf.ENROLLED},
        wf.SKIP: {wf.ENROLLED},
        wf.EXPULSION: {wf.EXPELLED},
        wf.DEATH: {wf.DECEASED},
    }
    rows = q(
        world,
        "SELECT r.change_type, s.current_status FROM status_change_request r "
        "JOIN student s ON s.id = r.student_id WHERE r.state = 'effective'",
    )
    for change_type, status in rows:
        if change_type in expected:
            assert status in expected[change_type], (change_type, status)


def test_skips_move_up_a_grade_and_returns_follow_a_leave(world):
    skips = q(
        world,
        "SELECT r.to_class_id, r.to_grade_code, e.class_id, e.grade_code, p.grade_code "
        "FROM status_change_request r "
        "JOIN enrollment e ON e.student_id = r.student_id AND e.is_active AND e.ended_on IS NULL "
        "JOIN school_year y ON y.id = e.school_year_id "
        "JOIN enrollment p ON p.student_id = r.student_id AND p.school_year_id = ("
        "  SELECT MAX(id) FROM school_year WHERE start_date < y.start_date) "
        "WHERE r.change_type = :t AND r.state = 'effective'",
        t=wf.SKIP,
    )
    assert skips
    for to_class, to_grade, class_id, grade, last_year in skips:
        # In the class asked for, a grade up: two grades above last year's (高一 → 高三).
        assert (class_id, grade) == (to_class, to_grade)
        assert grade[0] == last_year[0] == "3" and int(grade[1]) == int(last_year[1]) + 2
    returns = q(
        world,
        "SELECT r.student_id, r.submitted_at FROM status_change_request r "
        "WHERE r.change_type = :t AND r.state = 'effective'",
        t=wf.RETURN,
    )
    assert returns
    for student_id, submitted in returns:
        left = q(
            world,
            "SELECT change_type FROM status_change_request WHERE student_id = :s "
            "AND state = 'effective' AND closed_at <= :at AND change_type IN (:a, :b, :c)",
            s=student_id,
            at=submitted,
            a=wf.DROPOUT,
            b=wf.ABROAD,
            c=wf.OTHER_LEAVE,
        )
        assert left, student_id


def test_every_finished_year_graduates_its_graduating_grades(world):
    report = world["report"]
    assert report.graduated_years == ["2024-2025", "2025-2026"]
    rows = q(
        world,
        "SELECT y.code, g.stage, g.grade_code, sc.primary_years, g.state, g.outcome, "
        "g.destination, g.graduated_on FROM graduation g JOIN school_year y "
        "ON y.id = g.school_year_id JOIN school sc ON sc.id = g.school_id",
    )
    assert len(rows) == report.counts["graduation"]
    seen = set()
    for year, stage, grade_code, primary_years, state, outcome, destination, on in rows:
        grade = grade_by_code(grade_code)
        assert grade is not None and grade.stage == stage
        assert grade.year == stage_length(stage, primary_years or 6)
        assert state == "approved" and outcome in ("1", "2")
        assert destination is not None
        assert as_date(on).year == int(year[-4:])
        seen.add((year, stage))
    assert seen == {(y, s) for y in report.graduated_years for s in ("primary", "junior", "senior")}
    # Everyone the seed wrote as a graduate of those years has a graduation record.
    missing = q(
        world,
        "SELECT COUNT(*) FROM enrollment e JOIN student s ON s.id = e.student_id "
        "WHERE e.end_reason = '21' AND NOT EXISTS (SELECT 1 FROM graduation g "
        "WHERE g.student_id = e.student_id AND g.school_year_id = e.school_year_id)",
    )[0][0]
    assert missing == 0
    # Most junior graduates go on to a senior school (general or vocational).
    dest = Counter(
        d for (d,) in q(world, "SELECT destination FROM graduation WHERE stage = 'junior'")
    )
    assert (dest["15"] + dest["13"]) / sum(dest.values()) > 0.8
    # Senior high was approved by the county bureau, after filing.
    late = q(
        world,
        "SELECT COUNT(*) FROM graduation WHERE stage = 'senior' AND decided_at <= filed_at",
    )[0][0]
    assert late == 0


def test_graduates_have_signed_diplomas(world):
    from admin.domain import diploma as rules

    rows = q(
        world,
        "SELECT d.number, d.payload, g.outcome FROM diploma d "
        "JOIN graduation g ON g.id = d.graduation_id",
    )
    assert len(rows) == world["report"].counts["diploma"]
    graduations = q(world, "SELECT COUNT(*) FROM graduation WHERE outcome IN ('1', '2')")[0][0]
    assert len(rows) == graduations
    for number, payload, _outcome in rows[:50]:
        assert number in payload and rules.is_valid_number(number)


def test_same_seed_same_rows(world):
    assert dump_tables(world["url"], TABLES) == dump_tables(world["twin_url"], TABLES)


def test_seeding_twice_is_refused_and_writes_nothing(world):
    before = dump_tables(world["url"], TABLES)
    engine = create_engine(world["url"])
    try:
        with pytest.raises(LifecycleSeedRefused, match="already holds"):
            seed_lifecycle(engine, LifecycleOptions(seed=SEED, today=SEED_TODAY))
    finally:
        engine.dispose()
    assert dump_tables(world["url"], TABLES) == before


def test_the_graduation_metrics_have_rows(world, tmp_path):
    """Graduations only (the demo while the ETL refuses status changes): the warehouse is
    published and the graduation page's metrics have rows."""
    import duckdb

    manifest, path = _warehouse(world["grad_url"], tmp_path)
    graduations = world["report"].counts["graduation"]
    assert manifest.rows["fact_graduation"] == graduations
    with duckdb.connect(str(path), read_only=True) as con:
        run = _runner(con)
        assert run("graduation_outcomes", school_year="2025-2026")
        assert run("graduation_outcomes", school_year="2024-2025")
        assert run("progression_flows", school_year="2025-2026", basis="destination")
        issued = con.execute("SELECT COUNT(*) FROM fact_graduation WHERE diploma_issued")
        assert issued.fetchone() == (graduations,)


def test_the_status_change_metrics_have_rows(world, tmp_path):
    """Also the regression test of the ETL's unit_kind codes: with school/county/province there,
    the codes check refused every snapshot of a registry with a request."""
    import duckdb

    manifest, path = _warehouse(world["url"], tmp_path)
    assert manifest.rows["fact_graduation"] == world["report"].counts["graduation"]
    with duckdb.connect(str(path), read_only=True) as con:
        run = _runner(con)
        assert run("transfers_by_region_pair", school_year="2026-2027")
        assert run("approval_lead_times", school_year="2026-2027")
        assert run("status_changes_by_month", school_year="2026-2027")
        assert run("overdue_steps")
        assert run("graduation_outcomes", school_year="2025-2026")
        lead = con.execute(
            "SELECT max(lead_time_days) FROM fact_status_change WHERE lead_time_days IS NOT NULL"
        ).fetchone()
        assert lead is not None and lead[0] is not None and lead[0] >= 5


def test_the_command_adds_them_once_and_explains_refusals(tmp_path):
    from tests.cli.test_cli import assert_one_line_error, xueji

    assert xueji("init", data_dir=tmp_path).returncode == 0
    assert xueji("seed", "--students", "500", "--years", "2", data_dir=tmp_path).returncode == 0
    bad = xueji("seed-lifecycle", "--today", "28.11.2026", data_dir=tmp_path)
    assert_one_line_error(bad, "--today")
    ok = xueji("seed-lifecycle", "--seed", "3", data_dir=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "requests" in ok.stdout and "graduations" in ok.stdout and "diplomas" in ok.stdout
    again = xueji("seed-lifecycle", data_dir=tmp_path)
    assert_one_line_error(again, "already holds")
