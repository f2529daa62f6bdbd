"""bench/seed: how fast `xueji seed` fills PostgreSQL, and whether its memory stays flat.

For each size N (students):
  1. generate the same rows (same SeedOptions) into PostgreSQL text COPY files (untimed input);
  2. raw COPY baseline: stream those files with `COPY t (cols) FROM STDIN`, in WRITE_ORDER,
     in one transaction, into a fresh initialised database (timed);
  3. seed: `seed_database(engine, options)` (generation + COPY, what `xueji seed` does) into
     another fresh initialised database (timed), in a child process of its own so that its
     peak RSS is per size and not polluted by this process;
  4. ratio = seed rows/s ÷ raw COPY rows/s (target ≥ 0.5); RSS(largest N) / RSS(smallest N)
     (target ≤ 1.25, "flat").

Every step that touches a database runs in a child (`python -m bench.seed _child MODE JSON`)
that prints one `BENCH_RESULT {json}` line on stdout; progress goes to stderr. Fresh
databases are cloned from one initialised template (`CREATE DATABASE … TEMPLATE`), so the
migrations and reference data load once per run. Everything created (databases, the /tmp
folder) is removed at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg

NAME = "seed"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "seed.json"
DEFAULT_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
DEFAULT_TODAY = "2026-11-28"  # fixed, so the generated nation (and the figures) do not drift
RATIO_TARGET = 0.5
RSS_FLAT_TARGET = 1.25
RESULT_PREFIX = "BENCH_RESULT "
PROGRESS_EVERY_S = 10.0


class BenchError(Exception):
    """A step of the benchmark failed; the message says which and why."""


# ------------------------------------------------------------------------------ helpers
def log(message: str) -> None:
    stamp = datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def parse_sizes(text: str) -> list[int]:
    """'100000,1000000' or '100k,1M' → [100000, 1000000] (sorted, de-duplicated)."""
    sizes: set[int] = set()
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        if not part:
            continue
        factor = 1
        if part[-1] in "km":
            factor = 1_000 if part[-1] == "k" else 1_000_000
            part = part[:-1]
        try:
            value = int(float(part) * factor)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of students: {part!r}") from None
        sizes.add(value)
    if not sizes:
        raise argparse.ArgumentTypeError("--students needs at least one size")
    return sorted(sizes)


def sqlalchemy_url(admin_dsn: str, dbname: str) -> str:
    params = psycopg.conninfo.conninfo_to_dict(admin_dsn)
    user = params.get("user", "postgres")
    host = params.get("host", "127.0.0.1")
    port = params.get("port", 5432)
    return f"postgresql+psycopg://{user}@{host}:{port}/{dbname}"


def dsn_for(admin_dsn: str, dbname: str) -> str:
    return psycopg.conninfo.make_conninfo(admin_dsn, dbname=dbname)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve_child(
    children: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]], argv: Sequence[str]
) -> int:
    """A child process of a benchmark: run ``children[mode]`` with its JSON options and print
    the result on one line for the parent (``Run``)."""
    mode, raw = argv[0], argv[1]
    result = children[mode](json.loads(raw))
    sys.stdout.write(RESULT_PREFIX + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()
    return 0


def write_results(
    output: Path,
    name: str,
    *,
    started: float,
    pg_version: Any,
    load_start: Sequence[float],
    **sections: Any,
) -> None:
    """The benchmark's JSON record: when, how long, on what machine, then its own sections
    (options, targets, results)."""
    payload = {
        "benchmark": name,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_s": round(time.perf_counter() - started, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "postgres": pg_version,
            "loadavg_start": [round(x, 2) for x in load_start],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        },
        **sections,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"results written to {output}")


def current_rss_mb() -> float:
    try:
        import psutil

        return float(psutil.Process().memory_info().rss) / (1024 * 1024)
    except ImportError:  # psutil is a dev extra; fall back to /proc
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def _progress_logger(label: str, total: int) -> Callable[[int], None]:
    started = time.perf_counter()
    state = {"done": 0, "last": started}

    def progress(n: int) -> None:
        state["done"] += n
        now = time.perf_counter()
        if now - state["last"] >= PROGRESS_EVERY_S or state["done"] >= total:
            state["last"] = now
            elapsed = now - started
            rate = state["done"] / elapsed if elapsed else 0.0
            log(
                f"{label}: {state['done']:,}/{total:,} students, {elapsed:.0f} s, "
                f"{rate:,.0f} students/s, RSS {current_rss_mb():.0f} MB"
            )

    return progress


def _seed_options(params: dict[str, Any]) -> Any:
    from admin.services.seed import SeedOptions

    return SeedOptions(
        students=params["students"],
        years=params["years"],
        seed=params["seed"],
        provinces=tuple(params["provinces"]),
        today=date.fromisoformat(params["today"]),
        chunk_students=params["chunk_students"],
    )


def code_fingerprint(modules: Sequence[str] | None = None) -> dict[str, str]:
    """sha256 (12 hex digits) of each admin module this process has loaded, or of the named ones.

    The files child and the seed child each import the tree afresh; other people may edit it
    during a long run, so the parent compares the two to tell whether the baseline and the
    seed ran the same generator code (a changed row count fails the run in any case)."""
    if modules is None:
        modules = sorted(
            name
            for name, module in sys.modules.items()
            if name.startswith("admin.") and getattr(module, "__file__", None)
        )
    hashes: dict[str, str] = {}
    for name in modules:
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None) if module else None
        try:
            data = Path(path).read_bytes() if path else b""
        except OSError:
            data = b"?"
        hashes[name] = hashlib.sha256(data).hexdigest()[:12]
    return hashes


# ------------------------------------------------------------------------------ children
# Each runs in its own interpreter; `params` is the JSON the parent passed on the command line.
def child_init(params: dict[str, Any]) -> dict[str, Any]:
    """Migrate and load reference data into params['url'] (the template database)."""
    from admin import create_app
    from admin.extensions import db
    from admin.services.setup import initialize

    started = time.perf_counter()
    app = create_app(SQLALCHEMY_DATABASE_URI=params["url"])
    with app.app_context():
        initialize()
        db.session.remove()
        db.engine.dispose()
    return {"seconds": time.perf_counter() - started}


def child_files(params: dict[str, Any]) -> dict[str, Any]:
    """Generate the nation into COPY files in params['folder'] (the baseline's input)."""
    from sqlalchemy import create_engine

    from admin.services.bulk import CopyFileSink
    from admin.services.seed import NationGenerator, load_region_infos, write_nation

    fingerprint = code_fingerprint()  # as imported, before the long part
    options = _seed_options(params)
    engine = create_engine(params["url"])
    try:
        with engine.connect() as conn:
            regions = load_region_infos(conn)
    finally:
        engine.dispose()
    sink = CopyFileSink(Path(params["folder"]))
    started = time.perf_counter()
    report = write_nation(
        NationGenerator(options, regions),
        sink,
        _progress_logger(f"files {options.students:,}", options.students),
    )
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "counts": dict(report.counts),
        "order": list(sink.order),
        "columns": {t: list(c) for t, c in sink.columns.items()},
        "bytes": sum(p.stat().st_size for p in Path(params["folder"]).glob("*.copy")),
        "fingerprint": fingerprint,
        "peak_rss_mb": peak_rss_mb(),
    }


def child_copy(params: dict[str, Any]) -> dict[str, Any]:
    """Raw COPY baseline: stream the files into params['dsn'] in one transaction (timed)."""
    from admin.services.seed import WRITE_ORDER

    folder = Path(params["folder"])
    columns: dict[str, list[str]] = params["columns"]
    tables = [t for t in WRITE_ORDER if t in columns]
    counts: dict[str, int] = {}
    block = 1 << 20
    with psycopg.connect(params["dsn"]) as conn:
        started = time.perf_counter()
        for table in tables:
            t0 = time.perf_counter()
            sql = f"COPY {table} ({', '.join(columns[table])}) FROM STDIN"
            with conn.cursor() as cur:
                with cur.copy(sql) as copy, open(folder / f"{table}.copy", "rb") as fh:
                    while data := fh.read(block):
                        copy.write(data)
                counts[table] = cur.rowcount  # read before the cursor closes (it resets)
            log(f"copy {table}: {counts[table]:,} rows in {time.perf_counter() - t0:.1f} s")
        conn.commit()
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "counts": counts, "peak_rss_mb": peak_rss_mb()}


def child_seed(params: dict[str, Any]) -> dict[str, Any]:
    """`xueji seed` as the CLI runs it: the app, then seed_database (timed)."""
    from admin import create_app
    from admin.extensions import db
    from admin.services.seed import seed_database

    fingerprint = code_fingerprint(params["modules"])
    options = _seed_options(params)
    app = create_app(SQLALCHEMY_DATABASE_URI=params["url"])
    with app.app_context():
        engine = db.engine
        base_peak = peak_rss_mb()
        base_rss = current_rss_mb()
        started = time.perf_counter()
        report = seed_database(
            engine, options, _progress_logger(f"seed {options.students:,}", options.students)
        )
        seconds = time.perf_counter() - started
        db.session.remove()
        engine.dispose()
    return {
        "seconds": seconds,
        "counts": dict(report.counts),
        "counties": report.counties,
        "school_years": report.school_years,
        "fingerprint": fingerprint,
        "rss_before_seed_mb": base_rss,
        "peak_rss_before_seed_mb": base_peak,
        "peak_rss_mb": peak_rss_mb(),
    }


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "init": child_init,
    "files": child_files,
    "copy": child_copy,
    "seed": child_seed,
}


def child_main(argv: Sequence[str]) -> int:
    return serve_child(CHILDREN, argv)


# ------------------------------------------------------------------------------ parent
@dataclass
class SizeResult:
    students: int
    rows: int = 0
    rows_by_table: dict[str, int] = field(default_factory=dict)
    files_s: float = 0.0
    files_mb: float = 0.0
    copy_s: float = 0.0  # median over --repeat runs (as is seed_s)
    copy_samples_s: list[float] = field(default_factory=list)
    copy_rows_per_s: float = 0.0
    copy_peak_rss_mb: float = 0.0
    seed_s: float = 0.0
    seed_samples_s: list[float] = field(default_factory=list)
    seed_rows_per_s: float = 0.0
    ratio: float = 0.0
    ratio_verdict: str = ""
    seed_peak_rss_mb: float = 0.0
    seed_rss_before_mb: float = 0.0
    counties: int = 0
    generator_sha256: str = ""  # over the admin modules the generator imports
    code_changed_mid_run: list[str] = field(default_factory=list)


class Run:
    """Owns the temp folder, the databases and the running child; cleans all of them up."""

    def __init__(self, admin_dsn: str, module: str = "bench.seed") -> None:
        self.admin_dsn = admin_dsn
        self.module = module  # whose `_child <mode>` entry point runs the children
        self.token = uuid.uuid4().hex[:8]
        self.tmp = Path(tempfile.mkdtemp(prefix=f"xueji_bench_seed_{self.token}_", dir="/tmp"))
        self.databases: list[str] = []
        self.child: subprocess.Popen[str] | None = None

    # databases
    def create_database(self, suffix: str, template: str | None = None) -> str:
        name = f"xueji_bench_{self.token}_{suffix}"
        sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(sql)
        self.databases.append(name)
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.databases:
            self.databases.remove(name)

    def table_counts(self, name: str, tables: Sequence[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        with psycopg.connect(dsn_for(self.admin_dsn, name)) as conn:
            for table in tables:
                row = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
                counts[table] = int(row[0]) if row else 0
        return counts

    # children
    def child_run(self, mode: str, params: dict[str, Any]) -> dict[str, Any]:
        env = dict(os.environ, XUEJI_DATA_DIR=str(self.tmp / "data"), PYTHONUNBUFFERED="1")
        cmd = [sys.executable, "-m", self.module, "_child", mode, json.dumps(params)]
        self.child = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        try:
            out, _ = self.child.communicate()
        finally:
            if self.child.poll() is None:
                self.child.terminate()
                try:
                    self.child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.child.kill()
                    self.child.wait()
        status = self.child.returncode
        self.child = None
        lines = [ln for ln in out.splitlines() if ln.startswith(RESULT_PREFIX)]
        if status or not lines:
            tail = "\n".join(out.splitlines()[-20:])
            raise BenchError(f"child {mode} failed (exit {status}); stdout tail:\n{tail}")
        result: dict[str, Any] = json.loads(lines[-1][len(RESULT_PREFIX) :])
        return result

    def close(self) -> None:
        for name in list(self.databases):
            try:
                self.drop_database(name)
            except psycopg.Error as exc:
                log(f"could not drop database {name}: {exc}")
        shutil.rmtree(self.tmp, ignore_errors=True)


def measure_size(
    run: Run, template: str, n: int, base: dict[str, Any], repeat: int = 1
) -> SizeResult:
    result = SizeResult(students=n)
    params = dict(base, students=n)

    folder = run.tmp / f"copy-{n}"
    log(f"[{n:,}] generating baseline COPY files into {folder} (untimed input)")
    files = run.child_run(
        "files", dict(params, folder=str(folder), url=sqlalchemy_url(run.admin_dsn, template))
    )
    counts: dict[str, int] = {t: int(c) for t, c in files["counts"].items() if c}
    result.rows_by_table = counts
    result.rows = sum(counts.values())
    result.files_s = files["seconds"]
    result.files_mb = files["bytes"] / (1024 * 1024)
    result.generator_sha256 = hashlib.sha256(
        json.dumps(files["fingerprint"], sort_keys=True).encode()
    ).hexdigest()[:16]
    log(f"[{n:,}] files: {result.rows:,} rows, {result.files_mb:,.0f} MB in {result.files_s:.1f} s")

    # Raw COPY and seed alternate, so slow drift on the machine hits both alike.
    for i in range(1, repeat + 1):
        tag = f"[{n:,}]" if repeat == 1 else f"[{n:,} #{i}/{repeat}]"
        copy_db = run.create_database(f"copy_{n}_{i}", template=template)
        log(f"{tag} raw COPY baseline into {copy_db}")
        copied = run.child_run(
            "copy",
            {
                "dsn": dsn_for(run.admin_dsn, copy_db),
                "folder": str(folder),
                "columns": files["columns"],
            },
        )
        run.drop_database(copy_db)
        if {t: c for t, c in copied["counts"].items() if c} != counts:
            raise BenchError(f"COPY wrote {copied['counts']}, files held {counts}")
        result.copy_samples_s.append(copied["seconds"])
        result.copy_peak_rss_mb = max(result.copy_peak_rss_mb, copied["peak_rss_mb"])
        log(
            f"{tag} raw COPY: {copied['seconds']:.1f} s, {result.rows / copied['seconds']:,.0f} rows/s"
        )

        seed_db = run.create_database(f"seed_{n}_{i}", template=template)
        log(f"{tag} seed_database into {seed_db} (child process)")
        seeded = run.child_run(
            "seed",
            dict(
                params,
                url=sqlalchemy_url(run.admin_dsn, seed_db),
                modules=sorted(files["fingerprint"]),
            ),
        )
        changed = sorted(
            m for m, h in files["fingerprint"].items() if seeded["fingerprint"].get(m) != h
        )
        if changed:
            result.code_changed_mid_run = sorted(set(result.code_changed_mid_run) | set(changed))
            log(
                f"{tag} WARNING: {', '.join(changed)} changed between the baseline files and "
                "the seed (the tree was edited during the run); row counts still agree"
            )
        seed_counts = {t: int(c) for t, c in seeded["counts"].items() if c}
        in_db = run.table_counts(seed_db, list(counts))
        run.drop_database(seed_db)
        if seed_counts != counts or in_db != counts:
            raise BenchError(
                f"seed wrote {seed_counts} (database holds {in_db}), baseline had {counts}: "
                "the generator is not deterministic under the same options"
            )
        result.seed_samples_s.append(seeded["seconds"])
        result.seed_peak_rss_mb = max(result.seed_peak_rss_mb, seeded["peak_rss_mb"])
        result.seed_rss_before_mb = max(result.seed_rss_before_mb, seeded["rss_before_seed_mb"])
        result.counties = seeded["counties"]
        log(
            f"{tag} seed: {seeded['seconds']:.1f} s, {result.rows / seeded['seconds']:,.0f} "
            f"rows/s, peak RSS {seeded['peak_rss_mb']:.0f} MB"
        )
    shutil.rmtree(folder, ignore_errors=True)

    result.copy_s = statistics.median(result.copy_samples_s)
    result.copy_rows_per_s = result.rows / result.copy_s
    result.seed_s = statistics.median(result.seed_samples_s)
    result.seed_rows_per_s = result.rows / result.seed_s
    result.ratio = result.seed_rows_per_s / result.copy_rows_per_s
    result.ratio_verdict = "PASS" if result.ratio >= RATIO_TARGET else "BELOW"
    log(f"[{n:,}] ratio {result.ratio:.2f}, peak RSS {result.seed_peak_rss_mb:.0f} MB")
    return result


def format_table(results: Sequence[SizeResult]) -> str:
    header = (
        f"{'students':>10} {'rows':>11} {'COPY s':>8} {'COPY rows/s':>12} "
        f"{'seed s':>8} {'seed rows/s':>12} {'ratio':>6} {'':5} {'peak RSS MB':>11} "
        f"{'(before seed)':>13}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.students:>10,} {r.rows:>11,} {r.copy_s:>8.1f} {r.copy_rows_per_s:>12,.0f} "
            f"{r.seed_s:>8.1f} {r.seed_rows_per_s:>12,.0f} {r.ratio:>6.2f} "
            f"{r.ratio_verdict:5} {r.seed_peak_rss_mb:>11.0f} {r.seed_rss_before_mb:>13.0f}"
        )
    return "\n".join(lines)


def nation_parser(prog: str, description: str | None, output: Path) -> argparse.ArgumentParser:
    """The options every benchmark over a seeded nation takes (sizes, rounds, the seed's
    options, the PostgreSQL server, where the JSON goes, --strict)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--students", type=parse_sizes, default=parse_sizes("100000,1000000"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--provinces", default="11,64,46")
    parser.add_argument("--today", default=DEFAULT_TODAY)
    parser.add_argument("--pg-dsn", default=os.environ.get("XUEJI_BENCH_PG_DSN", DEFAULT_ADMIN_DSN))
    parser.add_argument("--output", type=Path, default=output)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser


def seed_nation(run: Run, template: str, name: str, n: int, args: argparse.Namespace) -> str:
    """A database cloned from the initialised template and seeded with n students (the seed's
    own child), VACUUM (ANALYZE)d; its name."""
    seeded_db = run.create_database(name, template=template)
    log(f"[{n:,}] seeding {seeded_db}")
    seeded = run.child_run(
        "seed",
        {
            "students": n,
            "years": args.years,
            "seed": args.seed,
            "provinces": [p.strip() for p in args.provinces.split(",") if p.strip()],
            "today": args.today,
            "chunk_students": 5_000,
            "url": sqlalchemy_url(run.admin_dsn, seeded_db),
            "modules": [],
        },
    )
    with psycopg.connect(dsn_for(run.admin_dsn, seeded_db), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    log(f"[{n:,}] seeded in {seeded['seconds']:.0f} s")
    return seeded_db


@dataclass
class NationRun:
    """What a benchmark over seeded nations reports: each size's figures, and the run's
    context for write_results."""

    sizes: list[dict[str, Any]]
    pg_version: str
    load_start: tuple[float, float, float]
    started: float


def run_nations(
    args: argparse.Namespace,
    name: str,
    module: str,
    measure: Callable[[Run, str, int, argparse.Namespace], dict[str, Any]],
) -> NationRun | int:
    """Check the options and the server, initialise a template database, call ``measure``
    for each size, and drop every database made — also when interrupted. Returns the figures,
    or the exit status when the run could not be completed."""
    if args.repeat < 1:
        print("--repeat must be at least 1", file=sys.stderr)
        return 2
    try:
        pg_version = postgres_version(args.pg_dsn)
    except psycopg.Error as exc:
        print(f"PostgreSQL unreachable at {args.pg_dsn!r}: {exc}", file=sys.stderr)
        return 2
    load_start = os.getloadavg()
    previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    run = Run(args.pg_dsn, module=module)
    sizes: list[dict[str, Any]] = []
    started = time.perf_counter()
    try:
        template = run.create_database(f"{name}_template")
        run.child_run("init", {"url": sqlalchemy_url(args.pg_dsn, template)})
        for n in args.students:
            sizes.append(measure(run, template, n, args))
    except BenchError as exc:
        log(f"bench {name} failed: {exc}")
        return 1
    except KeyboardInterrupt:
        log(f"bench {name} interrupted; dropping its databases")
        return 130
    finally:
        run.close()
        signal.signal(signal.SIGTERM, previous)
    return NationRun(sizes, pg_version, load_start, started)


def postgres_version(admin_dsn: str) -> str:
    with psycopg.connect(admin_dsn) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench seed",
        description="Seeding rows/s vs a raw COPY of the same rows, and peak RSS per size.",
    )
    parser.add_argument(
        "--students",
        type=parse_sizes,
        default=parse_sizes("100000,1000000"),
        help="comma-separated sizes, e.g. 20000,100000 or 100k,1M (default: 100k,1M)",
    )
    parser.add_argument("--years", type=int, default=3, help="school years (default: 3)")
    parser.add_argument("--seed", type=int, default=2026, help="generator seed (default: 2026)")
    parser.add_argument(
        "--provinces", default="11,64,46", help="province codes (default: 11,64,46)"
    )
    parser.add_argument(
        "--today",
        default=DEFAULT_TODAY,
        help=f"the generator's 'today', fixed so runs compare (default: {DEFAULT_TODAY})",
    )
    parser.add_argument(
        "--chunk-students", type=int, default=5_000, help="students per COPY chunk (default: 5000)"
    )
    parser.add_argument(
        "--pg-dsn",
        default=os.environ.get("XUEJI_BENCH_PG_DSN", DEFAULT_ADMIN_DSN),
        help="libpq DSN of a maintenance database with CREATE DATABASE rights "
        "(default: $XUEJI_BENCH_PG_DSN or %(default)s)",
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results (default: %(default)s)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="timed runs of raw COPY and seed per size; the median is reported (default: 1)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a figure misses its target"
    )
    return parser


def _raise_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the seeding benchmark; print the table, write JSON; 0 unless it failed."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    base = {
        "years": args.years,
        "seed": args.seed,
        "provinces": [p.strip() for p in args.provinces.split(",") if p.strip()],
        "today": args.today,
        "chunk_students": args.chunk_students,
    }
    for n in args.students:
        problems = _seed_options(dict(base, students=n)).validate()
        if problems:
            print("; ".join(problems), file=sys.stderr)
            return 2
    if args.repeat < 1:
        print("--repeat must be at least 1", file=sys.stderr)
        return 2

    try:
        pg_version = postgres_version(args.pg_dsn)
    except psycopg.Error as exc:
        print(f"PostgreSQL unreachable at {args.pg_dsn!r}: {exc}", file=sys.stderr)
        return 2

    load_start = os.getloadavg()
    if load_start[0] > (os.cpu_count() or 1):
        log(
            f"note: load average {load_start[0]:.1f} on {os.cpu_count()} CPUs; other work on "
            "this machine will add noise (consider --repeat 3)"
        )
    previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    run = Run(args.pg_dsn)
    results: list[SizeResult] = []
    started = time.perf_counter()
    try:
        template = run.create_database("template")
        log(f"initialising template database {template} (migrations + reference data)")
        init = run.child_run("init", {"url": sqlalchemy_url(args.pg_dsn, template)})
        log(f"template ready in {init['seconds']:.1f} s")
        for n in args.students:
            results.append(measure_size(run, template, n, base, args.repeat))
    except BenchError as exc:
        log(f"bench seed failed: {exc}")
        return 1
    except KeyboardInterrupt:
        log("bench seed interrupted; dropping its databases and temp folder")
        return 130
    finally:
        run.close()
        signal.signal(signal.SIGTERM, previous)

    smallest, largest = results[0], results[-1]
    rss_ratio = largest.seed_peak_rss_mb / smallest.seed_peak_rss_mb if len(results) > 1 else None
    rss_verdict = (
        None if rss_ratio is None else ("PASS" if rss_ratio <= RSS_FLAT_TARGET else "BELOW")
    )

    print()
    print(
        f"bench seed — {args.years} school years, provinces {args.provinces}, seed {args.seed}, "
        f"PostgreSQL {pg_version}, {os.cpu_count()} CPUs"
    )
    print(format_table(results))
    print()
    for r in results:
        print(
            f"ratio seed/raw COPY at {r.students:,} students: {r.ratio:.2f} "
            f"(target ≥ {RATIO_TARGET}) {r.ratio_verdict}"
        )
    if rss_ratio is not None:
        print(
            f"peak RSS {largest.students:,} vs {smallest.students:,} students: "
            f"{largest.seed_peak_rss_mb:.0f} / {smallest.seed_peak_rss_mb:.0f} MB = "
            f"{rss_ratio:.2f}x (target ≤ {RSS_FLAT_TARGET}, flat) {rss_verdict}"
        )
    else:
        print("peak RSS flatness: needs two sizes (--students A,B)")
    drifted = sorted({m for r in results for m in r.code_changed_mid_run})
    if drifted:
        print(f"note: edited during the run (figures may mix code versions): {', '.join(drifted)}")

    write_results(
        args.output,
        NAME,
        started=started,
        pg_version=pg_version,
        load_start=load_start,
        options=dict(base, students=args.students, repeat=args.repeat),
        targets={"ratio_min": RATIO_TARGET, "rss_ratio_max": RSS_FLAT_TARGET},
        sizes=[asdict(r) for r in results],
        rss_ratio=rss_ratio,
        rss_verdict=rss_verdict,
    )

    missed = any(r.ratio_verdict != "PASS" for r in results) or rss_verdict == "BELOW"
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        sys.exit(child_main(sys.argv[2:]))
    sys.exit(main())
