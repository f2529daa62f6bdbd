"""bench lifecycle — annual promotion (升级) of a seeded nation on PostgreSQL, as a ratio to one
hand-written SQL UPDATE of the same students in the same run.

For each size N: a template database is initialised and seeded (bench seed's children), then
VACUUM (ANALYZE)d and given the next school year.  For each of --repeat rounds, two clones of
it (CREATE DATABASE … TEMPLATE) are made: on one the baseline runs — a single UPDATE that
moves every eligible student's grade up, committed; on the other `admin.services.promotion.
promote` runs in a child process exactly as `xueji promote` does (new classes, new
enrollments, the old year closed, students updated, one audit entry), committed.  Both are
timed around the statements and the commit only.  The figures are medians over the rounds;
the ratio promote ÷ baseline is the target (≤ 1.5); the child's peak RSS is reported.

    python -m bench lifecycle                       # 100k and 1M, 3 rounds
    python -m bench lifecycle --students 20000 --repeat 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg

from bench.seed import (
    BenchError,
    Run,
    child_init,
    child_seed,
    dsn_for,
    log,
    nation_parser,
    peak_rss_mb,
    run_nations,
    seed_nation,
    serve_child,
    sqlalchemy_url,
    write_results,
)

NAME = "lifecycle"
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "lifecycle.json"
RATIO_TARGET = 1.5
FROM_YEAR, TO_YEAR = "2026-2027", "2027-2028"

# The same students promote() moves: 在校, at the school of an active enrollment of the year,
# in a grade that moves up under the school's 学制.
BASELINE_SQL = """
UPDATE student AS s
   SET current_grade_code = CAST(CAST(s.current_grade_code AS integer) + 1 AS varchar(2)),
       version = s.version + 1
  FROM enrollment AS e, school AS sc, school_year AS y
 WHERE e.student_id = s.id AND e.is_active AND e.school_year_id = y.id AND y.code = %(year)s
   AND sc.id = e.school_id AND s.current_school_id = e.school_id
   AND s.current_status = '01'
   AND ((sc.primary_years = 6 AND e.grade_code IN ('11','12','13','14','15','21','22','31','32'))
     OR (sc.primary_years = 5 AND e.grade_code IN ('11','12','13','14','21','22','23','31','32')))
"""


def child_promote(params: dict[str, Any]) -> dict[str, Any]:
    """`xueji promote` as the CLI runs it: the app, then promote() and the commit (timed)."""
    from admin import create_app
    from admin.audit.context import audit_actor
    from admin.extensions import db
    from admin.security.scope import Scope
    from admin.services.promotion import promote

    app = create_app(SQLALCHEMY_DATABASE_URI=params["url"])
    with app.app_context(), audit_actor("bench lifecycle"):
        started = time.perf_counter()
        report = promote(
            db.session, Scope(role="Admin", kind="national"), FROM_YEAR, TO_YEAR, username="bench"
        )
        db.session.commit()
        seconds = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return {
        "seconds": seconds,
        "promoted": report.promoted,
        "classes_created": report.classes_created,
        "peak_rss_mb": peak_rss_mb(),
    }


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "init": child_init,
    "seed": child_seed,
    "promote": child_promote,
}


def child_main(argv: Sequence[str]) -> int:
    return serve_child(CHILDREN, argv)


def baseline(run: Run, dbname: str) -> tuple[float, int]:
    with psycopg.connect(dsn_for(run.admin_dsn, dbname)) as conn:
        started = time.perf_counter()
        cur = conn.execute(BASELINE_SQL, {"year": FROM_YEAR})
        rows = cur.rowcount
        conn.commit()
        return time.perf_counter() - started, rows


def measure_size(run: Run, template: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    seeded_db = seed_nation(run, template, f"lifecycle_{n}", n, args)
    with psycopg.connect(dsn_for(run.admin_dsn, seeded_db), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO school_year (code, start_date, end_date) "
            "VALUES (%s, '2027-09-01', '2028-08-31')",
            (TO_YEAR,),
        )
    base_s: list[float] = []
    promo_s: list[float] = []
    rows = promoted = classes = 0
    rss = 0.0
    for round_no in range(1, args.repeat + 1):
        clone = run.create_database(f"lifecycle_{n}_b{round_no}", template=seeded_db)
        seconds, rows = baseline(run, clone)
        base_s.append(seconds)
        run.drop_database(clone)
        clone = run.create_database(f"lifecycle_{n}_p{round_no}", template=seeded_db)
        result = run.child_run("promote", {"url": sqlalchemy_url(run.admin_dsn, clone)})
        promo_s.append(result["seconds"])
        promoted, classes, rss = (
            result["promoted"],
            result["classes_created"],
            result["peak_rss_mb"],
        )
        run.drop_database(clone)
        log(
            f"[{n:,}] round {round_no}: baseline UPDATE {seconds:.2f} s ({rows:,} rows), "
            f"promote {result['seconds']:.2f} s ({promoted:,} students)"
        )
    run.drop_database(seeded_db)
    if rows != promoted:
        raise BenchError(f"baseline updated {rows:,} students but promote moved {promoted:,}")
    b, p = statistics.median(base_s), statistics.median(promo_s)
    return {
        "students": n,
        "eligible": rows,
        "classes_created": classes,
        "baseline_s": round(b, 3),
        "baseline_samples_s": [round(x, 3) for x in base_s],
        "promote_s": round(p, 3),
        "promote_samples_s": [round(x, 3) for x in promo_s],
        "ratio": round(p / b, 2) if b else None,
        "verdict": "PASS" if b and p / b <= RATIO_TARGET else "BELOW",
        "promote_peak_rss_mb": round(rss, 1),
        "promote_rows_per_s": round(promoted / p) if p else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = nation_parser("python -m bench lifecycle", __doc__, DEFAULT_OUTPUT).parse_args(
        list(sys.argv[1:] if argv is None else argv)
    )
    done = run_nations(args, NAME, "bench.lifecycle", measure_size)
    if isinstance(done, int):
        return done
    sizes, pg_version = done.sizes, done.pg_version
    print()
    print(
        f"bench lifecycle — annual promotion {FROM_YEAR} → {TO_YEAR} on PostgreSQL {pg_version}, "
        f"{os.cpu_count()} CPUs; median of {args.repeat} round(s), each on a fresh clone"
    )
    header = (
        f"{'students':>10} {'eligible':>10} {'UPDATE s':>9} {'promote s':>10} "
        f"{'ratio':>6} {'verdict':>8} {'rows/s':>9} {'peak RSS MB':>12}"
    )
    print(header)
    print("-" * len(header))
    for s in sizes:
        print(
            f"{s['students']:>10,} {s['eligible']:>10,} {s['baseline_s']:>9.2f} "
            f"{s['promote_s']:>10.2f} {s['ratio']:>6.2f} {s['verdict']:>8} "
            f"{s['promote_rows_per_s']:>9,} {s['promote_peak_rss_mb']:>12.0f}"
        )
    print(
        f"target: promote ≤ {RATIO_TARGET}× one hand-written UPDATE of the same students; "
        "import validation rows/s of a 10k-row file: `python -m bench importing`"
    )
    write_results(
        args.output,
        NAME,
        started=done.started,
        pg_version=pg_version,
        load_start=done.load_start,
        options={k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        targets={"ratio_max": RATIO_TARGET},
        sizes=sizes,
    )
    missed = [s for s in sizes if s["verdict"] != "PASS"]
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "_child":
        sys.exit(child_main(sys.argv[2:]))
    sys.exit(main())
