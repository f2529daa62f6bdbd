"""bench academics — exams and scores on PostgreSQL (admin/services/exams.py):

(a) **import**: one exam's score sheet for a grade of about --grade-students students × 9
    papers through ``import_scores`` — dry run, then commit — in rows (students) per second,
    as a ratio to a baseline measured in the same run: openpyxl reading the same file alone
    (read-only, every cell's value, nothing else).
(b) **ranks**: an exam of --rank-rows student-paper scores (a province-wide exam: every class
    of a seeded nation sits it): ``results`` as the product calls it at that size (totals,
    class and grade ranks, subject statistics per class and grade; above XUEJI_SQL_RANK_ROWS
    score rows computed in SQL, below it in Python on ``admin/domain/ranking.py``) against one
    SQL query, ``RANK() OVER (PARTITION BY subject_code ORDER BY score DESC)`` over the same
    rows, fetched to the client. Ratio = results s ÷ SQL s (target ≤ 1.5), and peak RSS of
    each; also the time to decode every student's cells afterwards (the SQL path decodes them
    on first use). ``--python-path`` also times ``results`` forced onto the Python path.

A nation is seeded once (bench seed's child, one school year, big enough for both exams);
the exams and the ranking exam's scores are written by SQL (untimed). Every step runs in a
child process of its own, so peak RSS is per step. Databases are dropped at the end.

    python -m bench academics                                  # 1,000 × 9 import; 1M ranks
    python -m bench academics --rank-rows 100k --repeat 1      # a quick run
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg

from bench.seed import (
    DEFAULT_ADMIN_DSN,
    DEFAULT_TODAY,
    BenchError,
    Run,
    child_init,
    child_seed,
    dsn_for,
    log,
    parse_sizes,
    peak_rss_mb,
    postgres_version,
    seed_nation,
    serve_child,
    sqlalchemy_url,
    write_results,
)

NAME = "academics"
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "academics.json"
RANK_RATIO_TARGET = 1.5  # results() seconds ÷ SQL window query seconds, at most
PAPERS = (
    "chinese",
    "math",
    "foreign",
    "physics",
    "chem",
    "biology",
    "history",
    "geograph",
    "moral",
)
IMPORT_GRADE = "21"  # 初一: every paper above is taught there
SQL_RANKS = (
    "SELECT student_id, subject_code, score, "
    "RANK() OVER (PARTITION BY subject_code ORDER BY score DESC NULLS LAST) "
    "FROM score WHERE exam_id = %s"
)


def _score_of(student_id: int, paper: int) -> int:
    """A deterministic score 0..100 (spread, with ties)."""
    return (student_id * 7919 + paper * 104_729) % 101


# ------------------------------------------------------------------------------ children
def child_prepare(params: dict[str, Any]) -> dict[str, Any]:
    """Two exams by SQL: the import exam (grade IMPORT_GRADE classes until grade_students
    students) and the ranking exam (every class until rank_rows / 9 students) with its scores."""
    rows_wanted = int(params["rank_rows"])
    with psycopg.connect(params["dsn"]) as conn:
        term = conn.execute(
            "SELECT t.id, t.school_year_id, t.start_date FROM term t "
            "WHERE t.start_date <= %s AND t.end_date >= %s",
            (params["today"], params["today"]),
        ).fetchone()
        if term is None:
            term = conn.execute(
                "SELECT id, school_year_id, start_date FROM term ORDER BY start_date DESC LIMIT 1"
            ).fetchone()
        assert term is not None
        term_id, year_id, start = term
        sizes = conn.execute(
            "SELECT c.id, c.school_id, c.grade_code, count(e.id) FROM school_class c "
            "JOIN enrollment e ON e.class_id = c.id AND e.is_active AND e.ended_on IS NULL "
            "WHERE c.school_year_id = %s GROUP BY c.id, c.school_id, c.grade_code ORDER BY c.id",
            (year_id,),
        ).fetchall()

        def make_exam(name: str, school_id: int, grade: str, classes: list[int]) -> int:
            row = conn.execute(
                "INSERT INTO exam (school_id, term_id, grade_code, name, kind, exam_date, state, "
                "created_by, created_at, version) VALUES (%s, %s, %s, %s, 'final', %s, 'draft', "
                "'bench', now(), 1) RETURNING id",
                (school_id, term_id, grade, name, start),
            ).fetchone()
            assert row is not None
            exam_id = int(row[0])
            for order, code in enumerate(PAPERS, start=1):
                conn.execute(
                    "INSERT INTO exam_subject (exam_id, subject_code, full_mark, pass_line, "
                    "excellent_line, sort_order) VALUES (%s, %s, 100, 60, 85, %s)",
                    (exam_id, code, order),
                )
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO exam_class (exam_id, class_id) VALUES (%s, %s)",
                    [(exam_id, c) for c in classes],
                )
            return exam_id

        picked: list[int] = []
        students = 0
        school = None
        for class_id, school_id, grade, n in sizes:
            if grade == IMPORT_GRADE and students < params["grade_students"]:
                picked.append(class_id)
                students += n
                school = school or school_id
        if students < params["grade_students"]:
            raise BenchError(f"only {students} students in grade {IMPORT_GRADE}; seed more")
        import_exam = make_exam("bench import", school, IMPORT_GRADE, picked)
        import_students = students

        picked, students = [], 0
        for class_id, _school_id, _grade, n in sizes:
            if students * len(PAPERS) >= rows_wanted:
                break
            picked.append(class_id)
            students += n
        rank_exam = make_exam("bench ranks", sizes[0][1], "31", picked)
        # One INSERT … SELECT: enrollments × papers, the score a function of the ids.
        conn.execute(
            "INSERT INTO score (exam_id, student_id, class_id, subject_code, score, code, "
            "full_mark, absent, entered_by, entered_at) "
            "SELECT %(exam)s, e.student_id, e.class_id, s.subject_code, "
            "CASE WHEN (e.student_id + s.sort_order) %% 97 = 0 THEN NULL "
            "ELSE (e.student_id * 7919 + s.sort_order * 104729) %% 101 END, "
            "CASE WHEN (e.student_id + s.sort_order) %% 97 = 0 THEN 'absent' END, 100, "
            "(e.student_id + s.sort_order) %% 97 = 0, 'bench', now() "
            "FROM enrollment e JOIN exam_class x ON x.class_id = e.class_id AND x.exam_id = %(exam)s "
            "JOIN exam_subject s ON s.exam_id = %(exam)s "
            "WHERE e.is_active AND e.ended_on IS NULL",
            {"exam": rank_exam},
        )
        rank_rows = conn.execute(
            "SELECT count(*) FROM score WHERE exam_id = %s", (rank_exam,)
        ).fetchone()
        conn.commit()
        conn.execute("ANALYZE score")
    return {
        "import_exam": import_exam,
        "import_students": import_students,
        "rank_exam": rank_exam,
        "rank_students": students,
        "rank_rows": int(rank_rows[0]) if rank_rows else 0,
    }


def _app(url: str) -> Any:
    from admin import create_app

    return create_app(SQLALCHEMY_DATABASE_URI=url)


def child_import(params: dict[str, Any]) -> dict[str, Any]:
    """The filled sheet (untimed), then: openpyxl alone, the dry run, the commit."""
    from openpyxl import load_workbook

    from admin.extensions import db
    from admin.models import Exam
    from admin.security.scope import Scope
    from admin.services import exams as service

    app = _app(params["url"])
    scope = Scope(role="Admin", kind="national")
    with app.app_context():
        session = db.session
        exam = session.get(Exam, params["exam_id"])
        book = load_workbook(io.BytesIO(service.template_workbook(session, exam)))
        sheet = book.worksheets[0]
        for row in range(2, sheet.max_row + 1):
            number = str(sheet.cell(row=row, column=1).value)
            key = int("".join(ch for ch in number if ch.isdigit())[-9:] or 0)
            for paper in range(len(PAPERS)):
                value = _score_of(key, paper)
                sheet.cell(row=row, column=4 + paper, value="缺考" if value == 0 else value)
        out = io.BytesIO()
        book.save(out)
        data = out.getvalue()
        rows = sheet.max_row - 1

        started = time.perf_counter()
        read = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        cells = sum(1 for values in read.worksheets[0].iter_rows(values_only=True) for _ in values)
        read.close()
        baseline_s = time.perf_counter() - started

        started = time.perf_counter()
        checked = service.import_scores(session, scope, exam, data, dry_run=True, username="bench")
        dry_s = time.perf_counter() - started
        session.rollback()
        if not checked.report.ok:
            raise BenchError(f"the generated sheet has problems: {checked.report.lines(5)}")

        started = time.perf_counter()
        done = service.import_scores(session, scope, exam, data, dry_run=False, username="bench")
        session.commit()
        commit_s = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return {
        "rows": rows,
        "cells_read": cells,
        "scores": done.saved,
        "baseline_s": baseline_s,
        "dry_s": dry_s,
        "commit_s": commit_s,
        "bytes": len(data),
        "peak_rss_mb": peak_rss_mb(),
    }


def child_rank_sql(params: dict[str, Any]) -> dict[str, Any]:
    """The SQL baseline: one window query, every row fetched to the client."""
    with psycopg.connect(params["dsn"]) as conn:
        started = time.perf_counter()
        rows = conn.execute(SQL_RANKS, (params["exam_id"],)).fetchall()
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": len(rows), "peak_rss_mb": peak_rss_mb()}


def child_rank_py(params: dict[str, Any]) -> dict[str, Any]:
    """``results`` as the product calls it at this size (the XUEJI_SQL_RANK_ROWS default
    decides: SQL above it), or forced onto the Python path (``sql_rows`` None): totals, class
    and grade ranks, per-class and grade statistics. Then, untimed in ``seconds``, every
    student's results decoded (the SQL path decodes them on first use)."""
    from admin.extensions import db
    from admin.models import Exam
    from admin.services import exams as service

    app = _app(params["url"])
    with app.app_context():
        exam = db.session.get(Exam, params["exam_id"])
        _ = list(exam.subjects)  # loaded before the clock starts
        options = {} if params.get("product", True) else {"sql_rows": None}
        started = time.perf_counter()
        done = service.results(db.session, exam, mode=params["mode"], **options)
        seconds = time.perf_counter() - started
        cells = sum(len(s.results) for s in done.students)
        decoded_s = time.perf_counter() - started - seconds
        ranked = sum(1 for s in done.students if s.grade_rank is not None)
        students = len(done.students)
        db.session.remove()
        db.engine.dispose()
    return {
        "seconds": seconds,
        "decoded_s": decoded_s,
        "path": done.computed_in,
        "students": students,
        "cells": cells,
        "ranked": ranked,
        "peak_rss_mb": peak_rss_mb(),
    }


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "init": child_init,
    "seed": child_seed,
    "prepare": child_prepare,
    "import": child_import,
    "rank_sql": child_rank_sql,
    "rank_py": child_rank_py,
}


def child_main(argv: Sequence[str]) -> int:
    return serve_child(CHILDREN, argv)


# ------------------------------------------------------------------------------ parent
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench academics", description=__doc__)
    parser.add_argument("--grade-students", type=int, default=1000)
    parser.add_argument(
        "--rank-rows",
        type=lambda t: parse_sizes(t)[-1],
        default=1_000_000,
        help="student-paper scores of the ranking exam, e.g. 100k or 1M (default: 1M)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mode", choices=("competition", "dense"), default="competition")
    parser.add_argument(
        "--python-path",
        action="store_true",
        help="(b) also time results() forced onto the Python path (about 22 s at 1M scores)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--provinces", default="11,64,46")
    parser.add_argument("--today", default=DEFAULT_TODAY)
    parser.add_argument("--pg-dsn", default=os.environ.get("XUEJI_BENCH_PG_DSN", DEFAULT_ADMIN_DSN))
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.repeat < 1:
        print("--repeat must be at least 1", file=sys.stderr)
        return 2
    try:
        pg_version = postgres_version(args.pg_dsn)
    except psycopg.Error as exc:
        print(f"PostgreSQL unreachable at {args.pg_dsn!r}: {exc}", file=sys.stderr)
        return 2
    # One school year; about 1 student in 12 is in a given grade, and the ranking exam needs
    # rank_rows / 9 students (with a margin for the classes' sizes).
    students = max(args.grade_students * 16, int(args.rank_rows / len(PAPERS) * 1.05) + 1000)
    args.years = 1
    load_start = os.getloadavg()
    run = Run(args.pg_dsn, module="bench.academics")
    started = time.perf_counter()
    try:
        template = run.create_database(f"{NAME}_template")
        run.child_run("init", {"url": sqlalchemy_url(args.pg_dsn, template)})
        seeded = seed_nation(run, template, f"{NAME}_{students}", students, args)
        url = sqlalchemy_url(run.admin_dsn, seeded)
        dsn = dsn_for(run.admin_dsn, seeded)
        prepared = run.child_run(
            "prepare",
            {
                "dsn": dsn,
                "today": args.today,
                "grade_students": args.grade_students,
                "rank_rows": args.rank_rows,
            },
        )
        log(
            f"import exam: {prepared['import_students']:,} students × {len(PAPERS)}; ranking "
            f"exam: {prepared['rank_rows']:,} scores of {prepared['rank_students']:,} students"
        )
        imports = []
        for round_no in range(1, args.repeat + 1):
            # Each round imports into a fresh copy: a second commit of the same file would
            # change nothing and measure less work.
            copy = run.create_database(f"{NAME}_import_{round_no}", template=seeded)
            done = run.child_run(
                "import",
                {"url": sqlalchemy_url(run.admin_dsn, copy), "exam_id": prepared["import_exam"]},
            )
            run.drop_database(copy)
            imports.append(done)
            log(
                f"import round {round_no}: openpyxl {done['baseline_s']:.2f} s, dry run "
                f"{done['dry_s']:.2f} s, commit {done['commit_s']:.2f} s ({done['rows']:,} rows)"
            )
        sql_runs, py_runs, python_runs = [], [], []
        rank_params = {"url": url, "exam_id": prepared["rank_exam"], "mode": args.mode}
        for round_no in range(1, args.repeat + 1):
            sql_runs.append(
                run.child_run("rank_sql", {"dsn": dsn, "exam_id": prepared["rank_exam"]})
            )
            py_runs.append(run.child_run("rank_py", rank_params))
            log(
                f"ranks round {round_no}: SQL {sql_runs[-1]['seconds']:.2f} s, results() "
                f"[{py_runs[-1]['path']}] {py_runs[-1]['seconds']:.2f} s (+ "
                f"{py_runs[-1]['decoded_s']:.2f} s to decode every cell), peak RSS "
                f"{py_runs[-1]['peak_rss_mb']:.0f} MB"
            )
            if args.python_path:
                python_runs.append(run.child_run("rank_py", {**rank_params, "product": False}))
                log(
                    f"ranks round {round_no}: results() [python] "
                    f"{python_runs[-1]['seconds']:.2f} s, peak RSS "
                    f"{python_runs[-1]['peak_rss_mb']:.0f} MB"
                )
    except BenchError as exc:
        log(f"bench {NAME} failed: {exc}")
        return 1
    except KeyboardInterrupt:
        log(f"bench {NAME} interrupted; dropping its databases")
        return 130
    finally:
        run.close()

    rows = imports[0]["rows"]
    base = statistics.median(d["baseline_s"] for d in imports)
    dry = statistics.median(d["dry_s"] for d in imports)
    commit = statistics.median(d["commit_s"] for d in imports)
    sql_s = statistics.median(r["seconds"] for r in sql_runs)
    py_s = statistics.median(r["seconds"] for r in py_runs)
    ratio = py_s / sql_s if sql_s else 0.0
    verdict = "PASS" if ratio <= RANK_RATIO_TARGET else "BELOW"
    importing = {
        "students": rows,
        "papers": len(PAPERS),
        "scores": imports[0]["scores"],
        "file_kb": round(imports[0]["bytes"] / 1024),
        "openpyxl_s": round(base, 3),
        "openpyxl_rows_per_s": round(rows / base) if base else None,
        "dry_run_s": round(dry, 3),
        "dry_run_rows_per_s": round(rows / dry) if dry else None,
        "dry_run_ratio": round(base / dry, 3) if dry else None,
        "commit_s": round(commit, 3),
        "commit_rows_per_s": round(rows / commit) if commit else None,
        "commit_ratio": round(base / commit, 3) if commit else None,
        "peak_rss_mb": round(max(d["peak_rss_mb"] for d in imports), 1),
        "samples": imports,
    }
    decoded_s = statistics.median(r["decoded_s"] for r in py_runs)
    python_s = statistics.median(r["seconds"] for r in python_runs) if python_runs else None
    ranks = {
        "rows": prepared["rank_rows"],
        "students": prepared["rank_students"],
        "mode": args.mode,
        "path": py_runs[0]["path"],
        "sql_s": round(sql_s, 3),
        "sql_peak_rss_mb": round(max(r["peak_rss_mb"] for r in sql_runs), 1),
        "results_s": round(py_s, 3),
        "results_peak_rss_mb": round(max(r["peak_rss_mb"] for r in py_runs), 1),
        "decode_all_cells_s": round(decoded_s, 3),
        "ratio": round(ratio, 2),
        "ratio_with_cells_decoded": round((py_s + decoded_s) / sql_s, 2) if sql_s else None,
        "verdict": verdict,
        "python_path_s": round(python_s, 3) if python_s is not None else None,
        "python_path_peak_rss_mb": (
            round(max(r["peak_rss_mb"] for r in python_runs), 1) if python_runs else None
        ),
        "samples_sql_s": [round(r["seconds"], 3) for r in sql_runs],
        "samples_results_s": [round(r["seconds"], 3) for r in py_runs],
        "samples_python_path_s": [round(r["seconds"], 3) for r in python_runs],
    }
    print()
    print(
        f"bench academics — PostgreSQL {pg_version}, {os.cpu_count()} CPUs; median of "
        f"{args.repeat} round(s)"
    )
    print(
        f"(a) import {rows:,} students × {len(PAPERS)} papers: openpyxl alone "
        f"{importing['openpyxl_rows_per_s']:,} rows/s; dry run {importing['dry_run_rows_per_s']:,} "
        f"rows/s (ratio {importing['dry_run_ratio']}); commit {importing['commit_rows_per_s']:,} "
        f"rows/s (ratio {importing['commit_ratio']}); peak RSS {importing['peak_rss_mb']:.0f} MB"
    )
    print(
        f"(b) ranks over {ranks['rows']:,} scores ({ranks['students']:,} students): SQL window "
        f"query {sql_s:.2f} s (RSS {ranks['sql_peak_rss_mb']:.0f} MB); results() on the "
        f"{ranks['path']} path {py_s:.2f} s (RSS {ranks['results_peak_rss_mb']:.0f} MB); ratio "
        f"{ratio:.2f} (target ≤ {RANK_RATIO_TARGET}) {verdict}; every cell decoded as well: "
        f"+{decoded_s:.2f} s (ratio {ranks['ratio_with_cells_decoded']})"
    )
    if python_s is not None:
        print(
            f"    results() forced onto the Python path: {python_s:.2f} s (RSS "
            f"{ranks['python_path_peak_rss_mb']:.0f} MB), ratio {python_s / sql_s:.2f}"
        )
    write_results(
        args.output,
        NAME,
        started=started,
        pg_version=pg_version,
        load_start=load_start,
        options={k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        targets={"rank_ratio_max": RANK_RATIO_TARGET},
        importing=importing,
        ranks=ranks,
    )
    return 1 if (args.strict and verdict != "PASS") else 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "_child":
        sys.exit(child_main(sys.argv[2:]))
    sys.exit(main())
