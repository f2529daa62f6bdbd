"""Exam results computed by the database (above XUEJI_SQL_RANK_ROWS score rows) are the ones
the Python path computes: the same totals, class and grade ranks in both tie modes, the same
treatment of 缺考 / 免考 / 作弊 under each policy, the same per-paper statistics — on SQLite and
PostgreSQL, over scores with ties, decimals, codes, blanks and a student who left the class."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from admin.domain import ranking
from admin.extensions import db
from admin.models import Enrollment, SchoolClass
from admin.services import exams as service
from admin.services.attendance import class_students
from tests.lifecycle.test_exams import _enter, _exam, _setup

POLICIES = (
    ranking.DEFAULT_POLICY,  # 缺考, 免考 left out; 作弊 as 0
    ranking.ScorePolicy(absent="zero"),  # XUEJI_SCORE_ABSENT=zero
    ranking.ScorePolicy(absent="zero", exempt="zero", cheating="exclude", rank_incomplete=True),
)
# Per student (by position in the class): math of 100, chinese of 120 (lines 72 / 102),
# foreign of 150 (default lines 90 / 127.5). Ties on totals, line and bin edges, decimals
# that are not binary fractions, every code, blanks.
CELLS = [
    ("90", "100", "120"),
    ("100", "90", "120"),
    ("80", "110.5", "119.5"),
    ("缺考", "100", "127.5"),
    ("60", "72", "90"),
    ("72.3", "101.9", "0"),
    ("免考", "作弊", "150"),
    ("85", "102", "12.7"),
    ("", "60", "75"),  # math not entered
    ("59.9", "71.9", "89.9"),
    ("0", "0", "缺考"),
    ("", "", ""),  # nothing entered
    ("99.5", "119.9", "149.5"),
]


def _fill(lc, exam, klass_id: int, offset: int) -> list[int]:
    ids = [s.id for s in class_students(db.session, db.session.get(SchoolClass, klass_id))]
    for paper, code in enumerate(("math", "chinese", "foreign")):
        cells = {sid: CELLS[(i + offset) % len(CELLS)][paper] for i, sid in enumerate(ids)}
        _enter(lc, exam, klass_id, code, cells)
    return ids


def _students(done: service.ExamResults) -> list[tuple]:
    return [
        (
            r.student_id,
            r.name,
            r.student_number,
            r.class_id,
            dict(r.results),
            r.total.total,
            r.total.counted,
            r.total.excluded,
            r.total.mean,
            r.total.complete,
            r.total.rankable,
            r.class_rank,
            r.grade_rank,
        )
        for r in done.students
    ]


def _same_stats(py: ranking.SubjectStats, sql: ranking.SubjectStats, where: str) -> None:
    for name in (
        "entries",
        "counted",
        "absent",
        "exempt",
        "cheating",
        "blank",
        "mean",
        "maximum",
        "minimum",
        "pass_count",
        "excellent_count",
        "pass_rate",
        "excellent_rate",
        "lines",
        "distribution",
        "policy",
    ):
        assert getattr(py, name) == getattr(sql, name), (where, name)
    if py.stdev is None:
        assert sql.stdev is None, where
        return
    # σ: ranking sums rounded squares in 28 digits, SQL uses the exact n·Σx² − (Σx)².
    assert abs(py.stdev - sql.stdev) < Decimal("1e-20"), where
    for places in (1, 2, 4):
        assert ranking.round_half_up(py.stdev, places) == ranking.round_half_up(sql.stdev, places)
    # As the screens and the PDF print them.
    assert service._fmt(py.mean, 2) == service._fmt(sql.mean, 2)
    assert service._pct(py.pass_rate) == service._pct(sql.pass_rate)


def _compare(py: service.ExamResults, sql: service.ExamResults) -> None:
    assert (py.computed_in, sql.computed_in) == ("python", "sql")
    assert (py.subjects, py.full_marks, py.mode, py.policy) == (
        sql.subjects,
        sql.full_marks,
        sql.mode,
        sql.policy,
    )
    assert py.class_names == sql.class_names
    assert _students(py) == _students(sql)  # same order too: by grade rank, class, number
    assert py.class_stats.keys() == sql.class_stats.keys()
    for class_id, papers in py.class_stats.items():
        assert papers.keys() == sql.class_stats[class_id].keys()
        for subject, stats in papers.items():
            _same_stats(stats, sql.class_stats[class_id][subject], f"{class_id} {subject}")
    assert py.grade_stats.keys() == sql.grade_stats.keys()
    for subject, stats in py.grade_stats.items():
        _same_stats(stats, sql.grade_stats[subject], f"grade {subject}")


def test_sql_results_equal_python_results(lc):
    with lc.app.app_context():
        w = _setup(lc)
        exam = _exam(lc, w, subjects=[("math", 100), ("chinese", 120, 72, 102), ("foreign", 150)])
        a = _fill(lc, exam, w.class_a, 0)
        b = _fill(lc, exam, w.class_b, 5)
        # A student of class B leaves after the exam: no longer covered, their scores stay
        # (ranked in class B, the class of their score rows).
        left = db.session.scalars(
            select(Enrollment).where(Enrollment.student_id == b[0], Enrollment.is_active)
        ).one()
        left.is_active = False
        db.session.commit()
        rows = service.score_rows(db.session, exam)
        assert rows > 0
        # The threshold decides: at or above the row count, Python; below it, SQL.
        assert service.results(db.session, exam, sql_rows=rows).computed_in == "python"
        assert service.results(db.session, exam, sql_rows=rows - 1).computed_in == "sql"
        assert service.results(db.session, exam, sql_rows=None).computed_in == "python"
        ties = {}
        for policy in POLICIES:
            for mode in ("competition", "dense"):
                py = service.results(db.session, exam, policy, mode=mode, sql_rows=None)
                sql = service.results(db.session, exam, policy, mode=mode, sql_rows=0)
                _compare(py, sql)
                ranks = [r.grade_rank for r in sql.students if r.grade_rank is not None]
                ties[(policy, mode)] = len(ranks) - len(set(ranks))
                unranked = [r for r in sql.students if r.grade_rank is None]
                assert unranked and all(r.class_rank is None for r in unranked)
        # The data has tied totals (so the tie modes differ) and unranked students.
        assert all(n > 0 for n in ties.values())
        dense = service.results(db.session, exam, mode="dense", sql_rows=0)
        competition = service.results(db.session, exam, mode="competition", sql_rows=0)
        assert max(r.grade_rank or 0 for r in dense.students) < max(
            r.grade_rank or 0 for r in competition.students
        )
        # Spot checks against the cells above: a (90, 100, 120) student totals 310 and a
        # student with nothing entered has no total; the leaver is in class B.
        by = {r.student_id: r for r in competition.students}
        assert by[a[0]].total.total == 310 and by[a[0]].results["math"] == 90
        assert by[a[11]].total.total is None and by[a[11]].results == {}
        assert by[a[3]].results["math"] is ranking.ScoreCode.ABSENT
        assert by[b[0]].class_id == w.class_b
        assert competition.grade_stats["math"].counted > 0


@pytest.mark.parametrize("value", ["5", "0"])
def test_sql_rank_rows_setting(value, monkeypatch):
    from admin.config import exam_settings

    monkeypatch.setenv("XUEJI_SQL_RANK_ROWS", value)
    config = exam_settings()
    assert config["XUEJI_SQL_RANK_ROWS"] == int(value)
    assert service.settings_from_config(config).sql_rank_rows == int(value)
    monkeypatch.delenv("XUEJI_SQL_RANK_ROWS")
    assert service.settings_from_config(exam_settings()).sql_rank_rows == 20_000
