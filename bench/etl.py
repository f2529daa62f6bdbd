"""bench etl — `xueji etl` throughput on PostgreSQL, as a ratio to a raw ADBC extraction of the
same tables in the same run, and its peak memory from 100k to 1M students.

For each size N a database is initialised and seeded (bench seed's children) and VACUUM
(ANALYZE)d.  For each of --repeat rounds, in separate child processes:

* **baseline** — a raw extraction: one ADBC connection, for every source table the ETL reads,
  the very SELECT the ETL sends (same columns, same NUMERIC casts), its Arrow stream drained
  by DuckDB (as the ETL's extract step does) and only counted, nothing kept;
* **floor** — the same reads, each table's rows kept as they come (CREATE TABLE AS) in a DuckDB
  file under the ETL's memory cap, then closed: no keys, joins, rollups or checks. raw ÷ floor
  is the best ratio any ETL that keeps the rows can reach on this machine;
* **etl** — `etl.pipeline.run` as `xueji etl --mode full --pg-driver adbc` runs it: extract,
  pseudonymize, transform into the star schema, check, publish a snapshot, into a fresh
  warehouse folder.

Throughput is source rows ÷ seconds for both; the ratio etl ÷ raw is the target (≥ 0.7).
Memory: the ETL child's peak RSS; streamed means flat — the largest size's peak within 1.5×
of the smallest's.

    python -m bench etl                          # 100k and 1M students, 3 rounds
    python -m bench etl --students 20000 --repeat 1
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from bench.seed import (
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

NAME = "etl"
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "etl.json"
RATIO_TARGET = 0.7  # ETL rows/s ÷ raw ADBC rows/s, at least
RSS_FLAT_TARGET = 1.5  # peak RSS at the largest size ÷ at the smallest, at most
BENCH_KEY = "bench-etl-pseudonym-key-" + "k" * 40


def cpu_seconds() -> float:
    """CPU time of this process and its waited-for children so far."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def postgres_cpu_seconds() -> float | None:
    """CPU time of the local PostgreSQL server so far: every live `postgres` process, plus the
    postmaster's reaped children (backends that ended). None where /proc shows no server (a
    remote one): the figures are then left out."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    found = False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended meanwhile
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        if name != "postgres":
            continue
        found = True
        fields = rest.split()
        # fields[1] is ppid; 11, 12 utime, stime; 13, 14 the waited-for children's
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        total += utime + stime
        if _is_postmaster(fields):
            total += cutime + cstime
    return total / tick if found else None


def _is_postmaster(fields: list[str]) -> bool:
    """The postmaster's parent is not a postgres process."""
    try:
        parent = Path(f"/proc/{fields[1]}/stat").read_text()
    except OSError:
        return True
    return "(postgres)" not in parent


def _measured(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """run()'s result with its wall time, this process's CPU and the server's CPU over it."""
    pg0, cpu0 = postgres_cpu_seconds(), cpu_seconds()
    started = time.perf_counter()
    result = run()
    result["seconds"] = time.perf_counter() - started
    result["client_cpu_s"] = cpu_seconds() - cpu0
    pg1 = postgres_cpu_seconds()
    result["server_cpu_s"] = pg1 - pg0 if pg0 is not None and pg1 is not None else None
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def child_raw(params: dict[str, Any]) -> dict[str, Any]:
    """The baseline: the ETL's own SELECTs over ADBC, streamed and counted."""
    import duckdb

    from etl import extract

    url = params["url"]
    duck = duckdb.connect()

    def read_all() -> dict[str, Any]:
        rows = 0
        with (
            tempfile.TemporaryDirectory() as scratch,
            extract.open_source(url, Path(scratch), pg_driver="adbc") as source,
        ):
            for table in extract.SOURCE_TABLES:
                if source.table_columns(table.name) is None:
                    continue  # a table of a later issue, absent: the ETL skips it too
                cursor = source.cur  # type: ignore[attr-defined]
                cursor.execute(extract.select_sql(source, table))
                # The Arrow C stream the ETL hands to DuckDB; DuckDB drains it and keeps only
                # a count (no pyarrow needed).
                duck.register("raw_stream", cursor.fetch_arrow())
                rows += int(duck.execute("SELECT count(*) FROM raw_stream").fetchall()[0][0])
                duck.unregister("raw_stream")
        return {"rows": rows}

    return _measured(read_all)


def child_land(params: dict[str, Any]) -> dict[str, Any]:
    """The floor: the raw extraction, each table's rows kept as they come in a DuckDB file
    under the ETL's own settings (memory cap, spill folder, insertion order), then closed. No
    keys, joins, rollups or checks: what any ETL that keeps the rows at least pays."""
    import duckdb

    from etl import extract, pipeline

    folder = Path(params["warehouse"])

    def land_all() -> dict[str, Any]:
        rows = 0
        duck = duckdb.connect(
            str(folder / "land.duckdb"),
            config={
                "temp_directory": str(folder / "spill"),
                "memory_limit": pipeline.memory_limit_of(None),
                "preserve_insertion_order": False,
            },
        )
        with extract.open_source(params["url"], folder, pg_driver="adbc") as source:
            for table in extract.SOURCE_TABLES:
                if source.table_columns(table.name) is None:
                    continue
                cursor = source.cur  # type: ignore[attr-defined]
                cursor.execute(extract.select_sql(source, table))
                duck.register("raw_stream", cursor.fetch_arrow())
                duck.execute(f'CREATE TABLE "{table.name}" AS SELECT * FROM raw_stream')
                duck.unregister("raw_stream")
                rows += int(duck.execute(f'SELECT count(*) FROM "{table.name}"').fetchall()[0][0])
        duck.close()  # the checkpoint: the rows are on disk
        return {"rows": rows}

    return _measured(land_all)


def child_etl(params: dict[str, Any]) -> dict[str, Any]:
    """`xueji etl --mode full --pg-driver adbc` into a fresh warehouse folder."""
    from etl import pipeline

    warehouse = Path(params["warehouse"])

    def etl() -> dict[str, Any]:
        manifest = pipeline.run(
            params["url"],
            warehouse,
            pseudonym_key=BENCH_KEY,
            mode="full",
            pg_driver="adbc",
            keep=1,
        )
        return {"snapshot": manifest.file, "timings": manifest.timings}

    return _measured(etl)


def child_teaching(params: dict[str, Any]) -> dict[str, Any]:
    """`xueji seed-teaching` on the seeded nation (same seed and day as the nation)."""
    from admin import create_app
    from admin.extensions import db
    from admin.services.seed_teaching import TeachingOptions, seed_teaching

    app = create_app(SQLALCHEMY_DATABASE_URI=params["url"])
    with app.app_context():
        started = time.perf_counter()
        options = TeachingOptions(seed=params["seed"], today=date.fromisoformat(params["today"]))
        report = seed_teaching(db.engine, options)
        seconds = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return {"seconds": seconds, "counts": dict(report.counts), "peak_rss_mb": peak_rss_mb()}


def add_teaching_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-teaching",
        dest="teaching",
        action="store_false",
        help="leave out the teaching records (attendance, scores, evaluations)",
    )
    parser.add_argument(
        "--database",
        help="measure these existing registries instead of seeding (comma-separated, smallest "
        "first; e.g. made with xueji init, seed and seed-teaching); they are not dropped",
    )


TEACHING_TABLES = ("attendance", "score", "evaluation", "timetable_slot", "exam")


def use_existing(args: argparse.Namespace) -> None:
    """With --database: the sizes are the databases' student counts (args.existing maps them)."""
    args.existing = {}
    if not args.database:
        return
    sizes = []
    for name in [d.strip() for d in args.database.split(",") if d.strip()]:
        with psycopg.connect(dsn_for(args.pg_dsn, name)) as conn:
            row = conn.execute("SELECT COUNT(*) FROM student").fetchone()
        n = int(row[0]) if row else 0
        args.existing[n] = name
        sizes.append(n)
    args.students = sizes


def nation_database(
    run: Run, template: str, prefix: str, n: int, args: argparse.Namespace
) -> tuple[str, dict[str, int], bool]:
    """(database, teaching rows, made here: drop it after) for size n: an existing registry
    (--database) or a nation seeded now with its teaching records."""
    existing = getattr(args, "existing", {})
    if n in existing:
        name = existing[n]
        with psycopg.connect(dsn_for(run.admin_dsn, name)) as conn:
            counts = {
                t: int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])  # type: ignore[index]
                for t in TEACHING_TABLES
            }
        log(f"[{n:,}] existing database {name}: {counts}")
        return name, counts, False
    seeded_db = seed_nation(run, template, f"{prefix}_{n}", n, args)
    return seeded_db, add_teaching(run, seeded_db, n, args), True


def add_teaching(run: Run, seeded_db: str, n: int, args: argparse.Namespace) -> dict[str, int]:
    """Teaching records on the seeded nation (child_teaching), VACUUM (ANALYZE)d; rows added per
    table ({} with --no-teaching)."""
    if not args.teaching:
        return {}
    log(f"[{n:,}] seed-teaching")
    url = sqlalchemy_url(run.admin_dsn, seeded_db)
    done = run.child_run("teaching", {"url": url, "seed": args.seed, "today": args.today})
    with psycopg.connect(dsn_for(run.admin_dsn, seeded_db), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    counts = {k: int(v) for k, v in done["counts"].items()}
    log(f"[{n:,}] teaching records: {sum(counts.values()):,} rows in {done['seconds']:.0f} s")
    return counts


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "init": child_init,
    "seed": child_seed,
    "raw": child_raw,
    "land": child_land,
    "teaching": child_teaching,
    "etl": child_etl,
}


def child_main(argv: Sequence[str]) -> int:
    return serve_child(CHILDREN, argv)


def cpu_summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Median client and server CPU seconds of a child's rounds, and how many of the machine's
    cores they kept busy on average (CPU seconds ÷ wall seconds)."""
    client = statistics.median(x["client_cpu_s"] for x in samples)
    servers = [x["server_cpu_s"] for x in samples if x.get("server_cpu_s") is not None]
    server = statistics.median(servers) if servers else None
    wall = statistics.median(x["seconds"] for x in samples)
    total = client + (server or 0.0)
    return {
        "client_cpu_s": round(client, 2),
        "server_cpu_s": round(server, 2) if server is not None else None,
        "cpu_s": round(total, 2),
        "cores_busy": round(total / wall, 2) if wall else None,
    }


def _run_in_scratch(run: Run, child: str, url: str) -> dict[str, Any]:
    """Run a child that writes into a warehouse folder, in a fresh one removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=f"xueji-bench-{child}-"))
    try:
        return run.child_run(child, {"url": url, "warehouse": str(folder)})
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure_size(run: Run, template: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    seeded_db, teaching, made = nation_database(run, template, "etl", n, args)
    url = sqlalchemy_url(run.admin_dsn, seeded_db)  # the form XUEJI_DATABASE_URL takes
    raw_s: list[float] = []
    land_s: list[float] = []
    land_cpu: list[dict[str, Any]] = []
    etl_s: list[float] = []
    rows = 0
    raw_rss = etl_rss = 0.0
    raw_cpu: list[dict[str, Any]] = []
    etl_cpu: list[dict[str, Any]] = []
    for round_no in range(1, args.repeat + 1):
        raw = run.child_run("raw", {"url": url})
        raw_s.append(raw["seconds"])
        raw_cpu.append(raw)
        rows, raw_rss = raw["rows"], raw["peak_rss_mb"]
        land = _run_in_scratch(run, "land", url)
        land_s.append(land["seconds"])
        land_cpu.append(land)
        done = _run_in_scratch(run, "etl", url)
        etl_s.append(done["seconds"])
        etl_cpu.append(done)
        etl_rss = max(etl_rss, done["peak_rss_mb"])
        log(
            f"[{n:,}] round {round_no}: raw ADBC {raw['seconds']:.2f} s ({rows:,} rows), "
            f"landed {land['seconds']:.2f} s, etl {done['seconds']:.2f} s, "
            f"peak RSS {done['peak_rss_mb']:.0f} MB"
        )
    if made:
        run.drop_database(seeded_db)
    r, e = statistics.median(raw_s), statistics.median(etl_s)
    landed = statistics.median(land_s)
    ratio = r / e if e else 0.0  # (rows/e) ÷ (rows/r)
    return {
        "students": n,
        "teaching_rows": teaching,
        "source_rows": rows,
        "raw_s": round(r, 3),
        "raw_samples_s": [round(x, 3) for x in raw_s],
        "raw_rows_per_s": round(rows / r) if r else None,
        "raw_peak_rss_mb": round(raw_rss, 1),
        "land_s": round(landed, 3),
        "land_samples_s": [round(x, 3) for x in land_s],
        "land_ratio": round(r / landed, 2) if landed else None,
        "land_cpu": cpu_summary(land_cpu),
        "etl_s": round(e, 3),
        "etl_samples_s": [round(x, 3) for x in etl_s],
        "etl_rows_per_s": round(rows / e) if e else None,
        "etl_peak_rss_mb": round(etl_rss, 1),
        "ratio": round(ratio, 2),
        "verdict": "PASS" if ratio >= RATIO_TARGET else "BELOW",
        "raw_cpu": cpu_summary(raw_cpu),
        "etl_cpu": cpu_summary(etl_cpu),
        "etl_timings_s": etl_cpu[len(etl_cpu) // 2].get("timings", {}),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = nation_parser("python -m bench etl", __doc__, DEFAULT_OUTPUT)
    add_teaching_option(parser)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    use_existing(args)
    done = run_nations(args, NAME, "bench.etl", measure_size)
    if isinstance(done, int):
        return done
    sizes, pg_version = done.sizes, done.pg_version
    print()
    print(
        f"bench etl — xueji etl (full, ADBC) vs raw ADBC extraction on PostgreSQL {pg_version}, "
        f"{os.cpu_count()} CPUs; median of {args.repeat} round(s)"
    )
    header = (
        f"{'students':>10} {'rows':>11} {'raw s':>8} {'etl s':>8} {'raw rows/s':>11} "
        f"{'etl rows/s':>11} {'ratio':>6} {'verdict':>8} {'etl RSS MB':>11}"
    )
    print(header)
    print("-" * len(header))
    for s in sizes:
        print(
            f"{s['students']:>10,} {s['source_rows']:>11,} {s['raw_s']:>8.2f} {s['etl_s']:>8.2f} "
            f"{s['raw_rows_per_s']:>11,} {s['etl_rows_per_s']:>11,} {s['ratio']:>6.2f} "
            f"{s['verdict']:>8} {s['etl_peak_rss_mb']:>11.0f}"
        )
    print()
    print(
        "CPU seconds (this machine's processes: the bench child and the PostgreSQL server), "
        "and the ratio the ETL would reach if its CPU work kept every core busy:"
    )
    cpus = os.cpu_count() or 1
    for s in sizes:
        raw, etl = s["raw_cpu"], s["etl_cpu"]
        if raw["server_cpu_s"] is None:
            print(f"{s['students']:>10,}  (PostgreSQL is not local: no CPU figures)")
            continue
        bound = s["raw_s"] / (etl["cpu_s"] / cpus) if etl["cpu_s"] else 0.0
        s["ratio_at_full_cpu"] = round(bound, 2)
        print(
            f"{s['students']:>10,}  raw {raw['client_cpu_s']:.1f} client + "
            f"{raw['server_cpu_s']:.1f} server = {raw['cpu_s']:.1f} s "
            f"({raw['cores_busy']:.2f} of {cpus} cores busy); etl {etl['client_cpu_s']:.1f} + "
            f"{etl['server_cpu_s']:.1f} = {etl['cpu_s']:.1f} s ({etl['cores_busy']:.2f} busy); "
            f"ratio at full use of {cpus} cores ≤ {bound:.2f}"
        )
    print()
    print(
        "floor — the same reads with each table's rows kept as they come in a DuckDB file (the "
        "ETL's memory cap), nothing else: the best ratio any ETL that keeps the rows reaches here"
    )
    for s in sizes:
        land = s["land_cpu"]
        cpu = (
            f" ({land['client_cpu_s']:.1f} client + {land['server_cpu_s']:.1f} server CPU s)"
            if land["server_cpu_s"] is not None
            else ""
        )
        print(
            f"{s['students']:>10,}  landed {s['land_s']:.2f} s{cpu} against raw "
            f"{s['raw_s']:.2f} s: ratio {s['land_ratio']:.2f}"
        )
    rss_ratio = None
    if len(sizes) > 1 and sizes[0]["etl_peak_rss_mb"]:
        rss_ratio = round(sizes[-1]["etl_peak_rss_mb"] / sizes[0]["etl_peak_rss_mb"], 2)
        verdict = "PASS" if rss_ratio <= RSS_FLAT_TARGET else "BELOW"
        print(
            f"peak RSS {sizes[-1]['students']:,} ÷ {sizes[0]['students']:,} students: "
            f"{rss_ratio:.2f} (target ≤ {RSS_FLAT_TARGET}): {verdict}"
        )
    print(f"target: etl rows/s ≥ {RATIO_TARGET} × raw ADBC rows/s of the same tables")
    write_results(
        args.output,
        NAME,
        started=done.started,
        pg_version=pg_version,
        load_start=done.load_start,
        options={k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        targets={"ratio_min": RATIO_TARGET, "rss_ratio_max": RSS_FLAT_TARGET},
        sizes=sizes,
        rss_ratio=rss_ratio,
    )
    missed = any(s["verdict"] != "PASS" for s in sizes) or (
        rss_ratio is not None and rss_ratio > RSS_FLAT_TARGET
    )
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "_child":
        sys.exit(child_main(sys.argv[2:]))
    sys.exit(main())
