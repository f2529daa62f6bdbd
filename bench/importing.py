"""bench importing — 新生批量导入 of a 10,000-row file: the dry run's rows/s as a ratio to the
bare registration rules in the same run, peak memory, and the commit's time.

One registry is built per backend (init + `seed_database` with --registry students, bench
seed's children) and a valid .xlsx of --rows new students for its largest primary school is
generated from it (untimed: names, birth dates that fit each class's grade, ID numbers nobody
holds, two family members each). Then, for each of --repeat rounds, each in a child process
of its own (so that its peak RSS is its own):

* baseline — the file's rows are parsed into form values (untimed) and `validate_student_input`
  runs over all of them with a preloaded CodeCatalog (timed): the cost of the rules alone,
  without reading the file, without 查重 and without the class look-ups;
* dry run — `admin.services.importing.dry_run` on the file's bytes, as `xueji import students
  --dry-run` runs it (timed): reading the xlsx, converting cells, the same rules, and the
  whole-file checks (duplicates in the file, one registry query per 10,000 ID numbers).

The ratio is dry-run rows/s ÷ baseline rows/s (medians). Finally `commit` (the dry run again,
then every student built and flushed at once, with its audit entries, and one batch entry)
and the database commit are timed once, on a fresh copy of the registry.

    python -m bench importing                        # 10,000 rows, SQLite, 3 rounds
    python -m bench importing --rows 2000 --repeat 1 --registry 5000
    python -m bench importing --backends sqlite,pg   # the commit on PostgreSQL too
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from bench.seed import (
    DEFAULT_ADMIN_DSN,
    DEFAULT_TODAY,
    BenchError,
    Run,
    _raise_on_sigterm,
    child_init,
    child_seed,
    current_rss_mb,
    dsn_for,
    log,
    peak_rss_mb,
    postgres_version,
    serve_child,
    sqlalchemy_url,
    write_results,
)

NAME = "importing"
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "importing.json"
TODAY = "2026-11-30"  # in the seeded school year 2026-2027 (the seed's today is 2026-11-28)
DRY_RUN_TARGET_S = 10.0  # "10,000 rows validate in seconds"
FILENAME = "新生.xlsx"
# Characters no seeded surname uses, so no generated student is a namesake of a seeded one.
_GIVEN = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥春夏秋冬梅兰竹菊松柏山川河海"


def _app(url: str) -> Any:
    from admin import create_app

    return create_app(SQLALCHEMY_DATABASE_URI=url)


def _school(session: Any, code: str) -> Any:
    from sqlalchemy import select

    from admin.models import School

    return session.scalars(select(School).where(School.code == code)).one()


# ------------------------------------------------------------------------------ children


def child_file(params: dict[str, Any]) -> dict[str, Any]:
    """Write a valid import file of params['rows'] students for the registry's largest
    primary school (most classes this school year)."""
    from openpyxl import Workbook
    from sqlalchemy import func, select

    from admin.domain.consistency import expected_age, grade_by_code
    from admin.domain.idcard import make_id_number
    from admin.extensions import db
    from admin.models import School, SchoolClass, Student
    from admin.services.importing import TEMPLATE_COLUMNS
    from admin.services.status_changes import current_school_year

    today = date.fromisoformat(params["today"])
    app = _app(params["url"])
    with app.app_context():
        s = db.session
        year = current_school_year(s, today)
        school_id = s.execute(
            select(SchoolClass.school_id, func.count())
            .join(School, School.id == SchoolClass.school_id)
            .where(SchoolClass.school_year_id == year.id, School.kind == "primary")
            .group_by(SchoolClass.school_id)
            .order_by(func.count().desc(), SchoolClass.school_id)
        ).first()[0]
        school = s.get(School, school_id)
        classes = s.scalars(
            select(SchoolClass)
            .where(SchoolClass.school_id == school.id, SchoolClass.school_year_id == year.id)
            .order_by(SchoolClass.grade_code, SchoolClass.number)
        ).all()
        taken = set(s.scalars(select(Student.id_number).where(Student.id_number.is_not(None))))
        region = school.region_code
        book = Workbook(write_only=True)
        sheet = book.create_sheet("学生")
        sheet.append([header for _, header in TEMPLATE_COLUMNS])
        fields = [name for name, _ in TEMPLATE_COLUMNS]
        sequence: dict[date, int] = {}
        for i in range(params["rows"]):
            klass = classes[i % len(classes)]
            age = expected_age(grade_by_code(klass.grade_code), school.primary_years)
            birth = date(year.start_date.year - age, 1 + i % 12, 1 + (i // 12) % 28)
            sex = "1" if i % 2 else "2"
            while True:
                n = sequence.get(birth, 0) + 1
                sequence[birth] = n
                number = make_id_number(region, birth, 2 * n + (1 if sex == "1" else 0))
                if number not in taken:
                    taken.add(number)
                    break
            k = len(_GIVEN)
            name = "试" + _GIVEN[i % k] + _GIVEN[(i // k) % k] + _GIVEN[(i // k // k) % k]
            row = {
                "name": name,
                "sex": "男" if sex == "1" else "女",
                "birth_date": birth.strftime("%Y%m%d"),
                "birthplace_code": region,
                "native_place_code": region,
                "ethnicity": "汉族",
                "nationality": "CHN",
                "id_doc_type": "1",
                "id_number": number,
                "overseas_chinese": "00",
                "health": "10",
                "hukou_region_code": region,
                "hukou_type": "3",
                "current_address": f"测试路{i}号",
                "mailing_address": f"测试路{i}号",
                "home_address": f"测试路{i}号",
                "phone": f"139{i:08d}",
                "postal_code": "750001",
                "only_child": "是" if i % 3 else "否",
                "preschool": "是",
                "class_name": klass.name,
                "stage_entry_ym": f"{year.start_date:%Y%m}",
                "admission_method": "就近入学",
                "study_mode": "1",
                "student_source": "1",
                "guardian1_name": name[:1] + "父",
                "guardian1_relationship": "父亲",
                "guardian1_phone": f"138{i:08d}",
                "guardian1_id_doc_type": "1",
                "guardian1_id_number": make_id_number(region, date(1985, 1, 1), i % 500 * 2 + 1),
                "guardian1_is_guardian": "是",
                "guardian2_name": name[:1] + "母",
                "guardian2_relationship": "2",
                "guardian2_phone": f"137{i:08d}",
            }
            sheet.append([row.get(f) for f in fields])
        out = io.BytesIO()
        book.save(out)
        Path(params["path"]).write_bytes(out.getvalue())
        result = {
            "school": school.code,
            "classes": len(classes),
            "registry_students": s.scalar(select(func.count()).select_from(Student)),
            "file_kb": round(len(out.getvalue()) / 1024),
        }
        s.remove()
        db.engine.dispose()
    return result


def child_baseline(params: dict[str, Any]) -> dict[str, Any]:
    """validate_student_input alone over the file's rows, parsed beforehand (untimed)."""
    from sqlalchemy import select

    from admin.extensions import db
    from admin.models import SchoolClass
    from admin.services import importing
    from admin.services.students import CodeCatalog, validate_student_input

    today = date.fromisoformat(params["today"])
    app = _app(params["url"])
    with app.app_context():
        s = db.session
        school = _school(s, params["school"])
        year = importing._current_year(s, today)
        sheet = importing.read_rows(FILENAME, Path(params["path"]).read_bytes())
        classes: dict[str, list[Any]] = {}
        for klass in s.scalars(
            select(SchoolClass).where(
                SchoolClass.school_id == school.id, SchoolClass.school_year_id == year.id
            )
        ):
            classes.setdefault(importing._norm(klass.name), []).append(klass)
        catalog = CodeCatalog.load(s, today)
        ctx = importing._RowContext(
            catalog=catalog,
            names=importing.CodeNames.load(s, today),
            school=school,
            year=year,
            classes=classes,
            today=today,
        )
        parsed = [importing._check_row(row, ctx)[0] for row in sheet.rows]
        rss_before = current_rss_mb()
        started = time.perf_counter()
        problems = 0
        for item in parsed:
            _, found = validate_student_input(
                item.data,
                item.guardians,
                catalog,
                today=today,
                grade_code=item.school_class.grade_code,
                school_year_start=year.start_date,
                primary_years=school.primary_years,
            )
            problems += len(found)
        seconds = time.perf_counter() - started
        s.remove()
        db.engine.dispose()
    if problems:
        raise BenchError(f"the generated rows break {problems} rules")
    return {
        "seconds": seconds,
        "rows": len(parsed),
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }


def child_dry_run(params: dict[str, Any]) -> dict[str, Any]:
    """`xueji import students --dry-run`: dry_run on the file's bytes (timed), then
    read_rows alone (timed separately, for the breakdown)."""
    from admin.extensions import db
    from admin.security.scope import Scope
    from admin.services.importing import dry_run, read_rows

    today = date.fromisoformat(params["today"])
    data = Path(params["path"]).read_bytes()
    app = _app(params["url"])
    with app.app_context():
        s = db.session
        school = _school(s, params["school"])
        rss_before = current_rss_mb()
        peak_before = peak_rss_mb()
        started = time.perf_counter()
        report = dry_run(
            s, Scope(role="Admin", kind="national"), school, data, FILENAME, today=today
        )
        seconds = time.perf_counter() - started
        peak = peak_rss_mb()
        s.rollback()
        started = time.perf_counter()
        read_rows(FILENAME, data)
        read_s = time.perf_counter() - started
        s.remove()
        db.engine.dispose()
    if not report.ok:
        raise BenchError("the generated file is not clean: " + "; ".join(report.lines(5)))
    return {
        "seconds": seconds,
        "rows": report.rows,
        "read_rows_s": read_s,
        "rss_before_mb": rss_before,
        "peak_rss_before_mb": peak_before,
        "peak_rss_mb": peak,
    }


def child_commit(params: dict[str, Any]) -> dict[str, Any]:
    """`xueji import students`: commit (add_student per row, audited) and the DB commit."""
    from sqlalchemy import func, select

    from admin.audit.context import audit_actor
    from admin.extensions import db
    from admin.models import Student
    from admin.security.scope import Scope
    from admin.services.importing import commit

    today = date.fromisoformat(params["today"])
    data = Path(params["path"]).read_bytes()
    app = _app(params["url"])
    with app.app_context(), audit_actor("bench importing"):
        s = db.session
        school = _school(s, params["school"])
        before = s.scalar(select(func.count()).select_from(Student))
        rss_before = current_rss_mb()
        started = time.perf_counter()
        count = commit(
            s,
            Scope(role="Admin", kind="national"),
            school,
            data,
            FILENAME,
            today=today,
            username="bench",
        )
        s.commit()
        seconds = time.perf_counter() - started
        after = s.scalar(select(func.count()).select_from(Student))
        s.remove()
        db.engine.dispose()
    if after - before != count:
        raise BenchError(f"commit reported {count} students but {after - before} were written")
    return {
        "seconds": seconds,
        "rows": count,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "init": child_init,
    "seed": child_seed,
    "file": child_file,
    "baseline": child_baseline,
    "dry_run": child_dry_run,
    "commit": child_commit,
}


def child_main(argv: Sequence[str]) -> int:
    return serve_child(CHILDREN, argv)


# ------------------------------------------------------------------------------ parent


def _seed_params(args: argparse.Namespace, url: str) -> dict[str, Any]:
    return {
        "students": args.registry,
        "years": 1,
        "seed": args.seed,
        "provinces": ["11", "64", "46"],
        "today": DEFAULT_TODAY,
        "chunk_students": 5_000,
        "url": url,
        "modules": [],
    }


def _registry(run: Run, backend: str, args: argparse.Namespace) -> tuple[str, Callable[[], str]]:
    """Build the seeded registry; return its URL and a maker of fresh copies of it."""
    if backend == "sqlite":
        path = run.tmp / "registry.db"
        url = f"sqlite:///{path}"
        run.child_run("init", {"url": url})
        run.child_run("seed", _seed_params(args, url))
        copies = [0]

        def sqlite_copy() -> str:
            copies[0] += 1
            target = run.tmp / f"copy{copies[0]}.db"
            shutil.copyfile(path, target)
            return f"sqlite:///{target}"

        return url, sqlite_copy
    name = run.create_database("importing")
    url = sqlalchemy_url(run.admin_dsn, name)
    run.child_run("init", {"url": url})
    run.child_run("seed", _seed_params(args, url))
    with psycopg.connect(dsn_for(run.admin_dsn, name), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")  # what autovacuum does soon after a bulk load
    counter = [0]

    def pg_copy() -> str:
        counter[0] += 1
        return sqlalchemy_url(run.admin_dsn, run.create_database(f"importing_c{counter[0]}", name))

    return url, pg_copy


def measure(run: Run, backend: str, args: argparse.Namespace) -> dict[str, Any]:
    log(f"[{backend}] building a registry of {args.registry:,} students")
    url, fresh_copy = _registry(run, backend, args)
    path = run.tmp / f"import-{backend}.xlsx"
    made = run.child_run("file", {"url": url, "rows": args.rows, "today": TODAY, "path": str(path)})
    log(f"[{backend}] {args.rows:,}-row file ({made['file_kb']} KB) for school {made['school']}")
    params = {"url": url, "path": str(path), "today": TODAY, "school": made["school"]}
    base: list[dict[str, Any]] = []
    dry: list[dict[str, Any]] = []
    # The dry run barely touches the database: measure it once, on SQLite when both run.
    rounds = args.repeat if backend == "sqlite" or "sqlite" not in args.backends else 0
    for round_no in range(1, rounds + 1):
        base.append(run.child_run("baseline", params))
        dry.append(run.child_run("dry_run", params))
        log(
            f"[{backend}] round {round_no}: rules alone {base[-1]['seconds']:.2f} s, "
            f"dry run {dry[-1]['seconds']:.2f} s (read_rows {dry[-1]['read_rows_s']:.2f} s)"
        )
    committed = run.child_run("commit", dict(params, url=fresh_copy()))
    log(f"[{backend}] commit {committed['seconds']:.1f} s for {committed['rows']:,} students")
    result: dict[str, Any] = {
        "backend": backend,
        "rows": args.rows,
        "registry_students": made["registry_students"],
        "file_kb": made["file_kb"],
        "commit_s": round(committed["seconds"], 2),
        "commit_rows_per_s": round(committed["rows"] / committed["seconds"]),
        "commit_peak_rss_mb": round(committed["peak_rss_mb"], 1),
    }
    if base:
        b = statistics.median(x["seconds"] for x in base)
        d = statistics.median(x["seconds"] for x in dry)
        result.update(
            {
                "baseline_s": round(b, 3),
                "baseline_rows_per_s": round(args.rows / b),
                "dry_run_s": round(d, 3),
                "dry_run_samples_s": [round(x["seconds"], 3) for x in dry],
                "dry_run_rows_per_s": round(args.rows / d),
                "read_rows_s": round(statistics.median(x["read_rows_s"] for x in dry), 3),
                "ratio": round(b / d, 3),
                "verdict": "PASS" if d <= DRY_RUN_TARGET_S * args.rows / 10_000 else "SLOW",
                "dry_run_peak_rss_mb": round(max(x["peak_rss_mb"] for x in dry), 1),
                "dry_run_rss_before_mb": round(
                    statistics.median(x["rss_before_mb"] for x in dry), 1
                ),
                "baseline_peak_rss_mb": round(max(x["peak_rss_mb"] for x in base), 1),
            }
        )
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench importing", description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--registry", type=int, default=20_000, help="seeded students")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--backends", default="sqlite", help="sqlite, pg or sqlite,pg")
    parser.add_argument("--pg-dsn", default=os.environ.get("XUEJI_BENCH_PG_DSN", DEFAULT_ADMIN_DSN))
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if args.repeat < 1 or args.rows < 1 or set(args.backends) - {"sqlite", "pg"}:
        print("--repeat and --rows must be ≥ 1; --backends takes sqlite and/or pg", file=sys.stderr)
        return 2
    pg_version = None
    if "pg" in args.backends:
        try:
            pg_version = postgres_version(args.pg_dsn)
        except psycopg.Error as exc:
            print(f"PostgreSQL unreachable at {args.pg_dsn!r}: {exc}", file=sys.stderr)
            return 2
    load_start = os.getloadavg()
    previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    run = Run(args.pg_dsn, module="bench.importing")
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    try:
        for backend in args.backends:
            results.append(measure(run, backend, args))
    except BenchError as exc:
        log(f"bench importing failed: {exc}")
        return 1
    except KeyboardInterrupt:
        log("bench importing interrupted; cleaning up")
        return 130
    finally:
        run.close()
        signal.signal(signal.SIGTERM, previous)

    print()
    print(
        f"bench importing — {args.rows:,}-row .xlsx of new students against a registry of "
        f"{args.registry:,}, {os.cpu_count()} CPUs; median of {args.repeat} round(s)"
    )
    for r in results:
        if "ratio" in r:
            print(
                f"[{r['backend']}] dry run {r['dry_run_s']:.2f} s = {r['dry_run_rows_per_s']:,} "
                f"rows/s (read_rows {r['read_rows_s']:.2f} s); rules alone {r['baseline_s']:.2f} s "
                f"= {r['baseline_rows_per_s']:,} rows/s; ratio {r['ratio']:.2f}; "
                f"target ≤ {DRY_RUN_TARGET_S:.0f} s per 10k rows: {r['verdict']}"
            )
            print(
                f"[{r['backend']}] peak RSS: dry run {r['dry_run_peak_rss_mb']:.0f} MB "
                f"(app {r['dry_run_rss_before_mb']:.0f} MB before it), "
                f"rules alone {r['baseline_peak_rss_mb']:.0f} MB"
            )
        print(
            f"[{r['backend']}] commit {r['commit_s']:.1f} s = {r['commit_rows_per_s']:,} rows/s, "
            f"peak RSS {r['commit_peak_rss_mb']:.0f} MB"
        )
    write_results(
        args.output,
        NAME,
        started=started,
        pg_version=pg_version,
        load_start=load_start,
        options={k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        targets={"dry_run_s_per_10k_rows": DRY_RUN_TARGET_S},
        results=results,
    )
    slow = [r for r in results if r.get("verdict") == "SLOW"]
    return 1 if (args.strict and slow) else 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "_child":
        sys.exit(child_main(sys.argv[2:]))
    sys.exit(main())
