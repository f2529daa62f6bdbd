"""bench/admin: student list and search latency (p50/p95) with the row scope on, per role.

For each size N (students):
  1. a fresh database cloned from one initialised template, seeded with `seed_database`
     (the same child as bench/seed), then `VACUUM (ANALYZE)` — the state autovacuum reaches
     on its own shortly after a bulk load, so the plans are the steady-state ones;
  2. accounts (child `prepare`): a SchoolRegistrar of the school with the most students, a
     BureauOfficer with a province prefix (--province, default 64), one with the prefix of
     that province's largest county, and an Admin (national); per account, a sample student
     inside its scope gives the search values (surname, 学籍号, ID number, class);
  3. measurement (child `measure`): `create_app(...)` and the Flask test client in-process;
     the screens signed in by session injection (`_user_id`, as tests/scope does), the REST
     API with a JWT from /api/v1/security/login. Every query runs --warmup times, then
     --repeat timed rounds; the rounds go round-robin over the queries so that noise from
     other work on the machine spreads over all of them. Every SQL statement a request
     issues is timed (SQLAlchemy cursor events), and the slowest statements of each query
     are run again under `EXPLAIN (ANALYZE, BUFFERS)` for the JSON (--no-explain skips);
  4. targets: p95 ≤ 300 ms at the largest size, and p95(largest) ≤ 1.5 × p95(smallest).

Children, template cloning, cleanup (also on failure, Ctrl-C and SIGTERM) and the JSON follow
bench/seed, whose helpers and `init`/`seed` children this module reuses. `--keep` leaves the
seeded databases in place (their names are printed) for profiling by hand; `--database`
measures databases kept that way again, e.g. after creating candidate indexes in them.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg

from bench.seed import (
    DEFAULT_ADMIN_DSN,
    DEFAULT_TODAY,
    BenchError,
    Run,
    _raise_on_sigterm,
    _seed_options,
    child_init,
    child_seed,
    current_rss_mb,
    dsn_for,
    log,
    parse_sizes,
    peak_rss_mb,
    postgres_version,
    serve_child,
    sqlalchemy_url,
    write_results,
)

NAME = "admin"
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "admin.json"
P95_TARGET_MS = 300.0
RATIO_TARGET = 1.5
PASSWORD = "Bench-Scope-2026!"
SECRET_KEY = "bench-admin-secret-key-" + "x" * 32
LIST_URL = "/studentview/list/"
API_URL = "/api/v1/student/"

# role key -> (username, FAB role, scope kind label)
ROLES: dict[str, tuple[str, str, str]] = {
    "registrar": ("bench_registrar", "SchoolRegistrar", "school"),
    "county": ("bench_county", "BureauOfficer", "county"),
    "province": ("bench_province", "BureauOfficer", "province"),
    "national": ("bench_national", "Admin", "national"),
}
# query key -> label (the URLs are built in the measure child from the samples)
QUERIES: dict[str, str] = {
    "list_p1": "list page 1",
    "list_p50": "list page 50",
    "name_sw": "search name (starts with surname)",
    "number_eq": "search 学籍号 (equal)",
    "idno_eq": "search ID number (equal)",
    "class_eq": "filter by class",
    "api_list": "API list page 0",
    "api_name": "API search name (sw)",
}


# ------------------------------------------------------------------------------ children
def child_prepare(params: dict[str, Any]) -> dict[str, Any]:
    """Create the four accounts (idempotent) and pick a sample student inside each scope."""
    from sqlalchemy import text

    from admin import create_app
    from admin.extensions import db
    from admin.services.accounts import create_account

    app: Any = create_app(SQLALCHEMY_DATABASE_URI=params["url"], SECRET_KEY=SECRET_KEY)
    with app.app_context():
        s = db.session
        total = s.execute(text("SELECT COUNT(*) FROM student")).scalar_one()
        school = s.execute(
            text(
                "SELECT sc.id, sc.code, sc.name, sc.region_code, COUNT(*) AS n FROM student st "
                "JOIN school sc ON sc.id = st.current_school_id "
                "GROUP BY sc.id ORDER BY n DESC, sc.id LIMIT 1"
            )
        ).one()
        province = params["province"]
        in_province = s.execute(
            text(
                "SELECT COUNT(*) FROM student st JOIN school sc ON sc.id = st.current_school_id "
                "WHERE sc.region_code LIKE :p"
            ),
            {"p": province + "%"},
        ).scalar_one()
        if not in_province:
            log(f"no student in province {province}; using the largest school's province")
            province = school.region_code[:2]
        county = s.execute(
            text(
                "SELECT sc.region_code, COUNT(*) AS n FROM student st "
                "JOIN school sc ON sc.id = st.current_school_id WHERE sc.region_code LIKE :p "
                "GROUP BY sc.region_code ORDER BY n DESC, sc.region_code LIMIT 1"
            ),
            {"p": province + "%"},
        ).one()
        scopes: dict[str, dict[str, Any]] = {
            "registrar": {"school": school.code},
            "county": {"region": county.region_code},
            "province": {"region": province},
            "national": {},
        }
        sm = app.appbuilder.sm
        accounts: dict[str, Any] = {}
        for key, (username, role, kind) in ROLES.items():
            if sm.find_user(username=username) is None:
                create_account(username=username, password=PASSWORD, role=role, **scopes[key])
            where, bind = {
                "registrar": ("st.current_school_id = :v", {"v": school.id}),
                "county": ("sc.region_code LIKE :v", {"v": county.region_code + "%"}),
                "province": ("sc.region_code LIKE :v", {"v": province + "%"}),
                "national": ("TRUE", {}),
            }[key]
            base = f"FROM student st JOIN school sc ON sc.id = st.current_school_id WHERE {where}"
            in_scope = s.execute(text(f"SELECT COUNT(*) {base}"), bind).scalar_one()
            # The middle student (by id) with a status of 在读, an ID number and a class.
            sample_base = (
                f"{base} AND st.current_status = '01' AND st.id_number IS NOT NULL "
                "AND st.current_class_id IS NOT NULL"
            )
            eligible = s.execute(text(f"SELECT COUNT(*) {sample_base}"), bind).scalar_one()
            sample = s.execute(
                text(
                    "SELECT st.id, st.name, st.student_number, st.id_number, "
                    "st.current_class_id, sc.code AS school_code, "
                    "(SELECT name FROM school_class WHERE id = st.current_class_id) "
                    f"AS class_name {sample_base} ORDER BY st.id OFFSET :o LIMIT 1"
                ),
                dict(bind, o=eligible // 2),
            ).one()
            accounts[key] = {
                "username": username,
                "role": role,
                "scope": kind,
                "scope_value": scopes[key].get("school") or scopes[key].get("region") or "",
                "students_in_scope": int(in_scope),
                "sample": {
                    "student_id": sample.id,
                    "name": sample.name,
                    "surname": sample.name[:1],
                    "student_number": sample.student_number,
                    "id_number": sample.id_number,
                    "class_id": sample.current_class_id,
                    "school_code": sample.school_code,
                    "class_name": sample.class_name,
                },
            }
        s.commit()
        db.session.remove()
        db.engine.dispose()
    return {
        "students": int(total),
        "largest_school": {
            "id": school.id,
            "code": school.code,
            "name": school.name,
            "region_code": school.region_code,
            "students": int(school.n),
        },
        "province": province,
        "county": {"region_code": county.region_code, "students": int(county.n)},
        "accounts": accounts,
    }


def _percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank-interpolated percentile (statistics.quantiles, 'inclusive')."""
    if len(samples) == 1:
        return float(samples[0])
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return float(cuts[int(q) - 1])


class SqlRecorder:
    """Times every statement the engine runs while `active` (SQLAlchemy cursor events)."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.active = False
        self.statements: list[tuple[str, Any, float]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(
        self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        conn.info["_bench_t0"] = time.perf_counter()

    def _after(
        self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if self.active:
            ms = (time.perf_counter() - conn.info.pop("_bench_t0", time.perf_counter())) * 1000
            self.statements.append((statement, params, ms))

    def start(self) -> None:
        self.statements = []
        self.active = True

    def stop(self) -> list[tuple[str, Any, float]]:
        self.active = False
        return self.statements


def _filter_index(view: Any, column: str, arg_name: str) -> int:
    """The n of `_flt_<n>_<column>` for the FAB filter with this arg_name on this column."""
    for i, flt in enumerate(view._filters.get_search_filters()[column]):
        if flt.arg_name == arg_name:
            return i
    raise BenchError(f"no {arg_name!r} filter on {column} in {type(view).__name__}")


def _urls(view: Any, sample: dict[str, Any]) -> dict[str, str]:
    import prison

    q = urllib.parse.quote
    sw = _filter_index(view, "name", "sw")
    eq_num = _filter_index(view, "student_number", "eq")
    eq_id = _filter_index(view, "id_number", "eq")
    school = _filter_index(view, "current_school", "school")
    klass = _filter_index(view, "current_class", "class")
    api_name = prison.dumps(
        {
            "filters": [{"col": "name", "opr": "sw", "value": sample["surname"]}],
            "page": 0,
            "page_size": 20,
        }
    )
    return {
        "list_p1": LIST_URL,
        "list_p50": f"{LIST_URL}?page_StudentView=49",
        "name_sw": f"{LIST_URL}?_flt_{sw}_name={q(sample['surname'])}",
        "number_eq": f"{LIST_URL}?_flt_{eq_num}_student_number={q(sample['student_number'])}",
        "idno_eq": f"{LIST_URL}?_flt_{eq_id}_id_number={q(sample['id_number'])}",
        "class_eq": (
            f"{LIST_URL}?_flt_{school}_current_school={q(sample['school_code'])}"
            f"&_flt_{klass}_current_class={q(sample['class_name'])}"
        ),
        "api_list": f"{API_URL}?q={q('(page:0,page_size:20)')}",
        "api_name": f"{API_URL}?q={q(api_name)}",
    }


def _record_count(html: str) -> int | None:
    m = re.search(r"Record Count\s*:?\s*</strong>\s*:?\s*([0-9][0-9,]*)", html)
    if m is None:
        m = re.search(
            r"(?:Record Count|记录数)\S*\s*:?\s*(?:</strong>)?\s*:?\s*([0-9][0-9,]*)", html
        )
    if m is None:
        return None
    # A count at the cap is shown as "10,000+"; the JSON keeps the cap + 1.
    return int(m.group(1).replace(",", "")) + (1 if html[m.end() : m.end() + 1] == "+" else 0)


def _explain(engine: Any, statement: str, params: Any) -> str:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) " + statement, params
        ).fetchall()
        conn.rollback()
    return "\n".join(r[0] for r in rows)


def _shorten(sql: str, limit: int = 600) -> str:
    sql = " ".join(sql.split())
    return sql if len(sql) <= limit else sql[:limit] + " …"


def child_measure(params: dict[str, Any]) -> dict[str, Any]:
    """Time every query for every account with the Flask test client; return the samples."""
    from admin import create_app
    from admin.extensions import db

    rss_start = current_rss_mb()
    app: Any = create_app(
        SQLALCHEMY_DATABASE_URI=params["url"],
        SECRET_KEY=SECRET_KEY,
        TESTING=True,
        XUEJI_LOG_LEVEL="WARNING",
    )
    warmup, repeat = params["warmup"], params["repeat"]
    accounts: dict[str, Any] = params["accounts"]
    queries = [q for q in QUERIES if q in params["queries"]]
    results: dict[str, dict[str, Any]] = {}
    # Requests must run outside any app context of ours: Flask reuses a pushed app context,
    # so `g` (the user, the cached scope) and the session would leak from one request into
    # the next. Set-up and EXPLAIN use short contexts of their own.
    with app.app_context():
        engine = db.engine
        view = next(v for v in app.appbuilder.baseviews if type(v).__name__ == "StudentView")
        user_ids = {
            key: app.appbuilder.sm.find_user(username=account["username"]).id
            for key, account in accounts.items()
        }
        urls = {key: _urls(view, account["sample"]) for key, account in accounts.items()}
        db.session.remove()
    recorder = SqlRecorder(engine)
    clients: dict[str, tuple[Any, dict[str, str]]] = {}

    def jwt_login(key: str) -> None:
        """(Re)issue the account's access token (untimed; tokens expire after 15 min)."""
        client, headers = clients[key]
        response = client.post(
            "/api/v1/security/login",
            json={
                "username": accounts[key]["username"],
                "password": PASSWORD,
                "provider": "db",
                "refresh": False,
            },
        )
        if response.status_code != 200:
            raise BenchError(
                f"JWT login of {accounts[key]['username']} failed: {response.status_code} "
                f"{response.get_data(as_text=True)[:300]}"
            )
        headers["Authorization"] = f"Bearer {(response.json or {})['access_token']}"

    for key in accounts:
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = str(user_ids[key])
            session["_fresh"] = True
        clients[key] = (client, {})
        jwt_login(key)
        results[key] = {
            q: {"url": urls[key][q], "samples_ms": [], "sql_ms": [], "sql_statements": []}
            for q in queries
        }

    def request_once(
        key: str, q: str, retry: bool = True
    ) -> tuple[float, Any, list[tuple[str, Any, float]]]:
        client, headers = clients[key]
        url = urls[key][q]
        recorder.start()
        t0 = time.perf_counter()
        response = client.get(url, headers=headers if q.startswith("api_") else None)
        body = response.get_data()
        elapsed = (time.perf_counter() - t0) * 1000
        statements = recorder.stop()
        if response.status_code == 401 and retry and b"expired" in body:
            jwt_login(key)  # the token outlived its 15 minutes: sign in again, time the retry
            return request_once(key, q, retry=False)
        if response.status_code != 200:
            raise BenchError(
                f"{key} {q} GET {url}: {response.status_code} "
                f"{body[:300].decode('utf-8', 'replace')}"
            )
        return elapsed, response, statements

    # Warm-ups, and the match counts of each query (from the last warm-up)
    for key in accounts:
        for q in queries:
            for _ in range(warmup):
                _, response, _ = request_once(key, q)
            if q.startswith("api_"):
                payload = response.json or {}
                count, shown = payload.get("count"), len(payload.get("result", []))
            else:
                html = response.get_data(as_text=True)
                count = _record_count(html)
                shown = len(set(re.findall(r'href="/studentview/show/(\d+)', html)))
            results[key][q]["count"] = count
            results[key][q]["rows_on_page"] = shown
            results[key][q]["response_kb"] = round(len(response.get_data()) / 1024, 1)
    log(f"[{params['label']}] warm-up done ({warmup} per query); {repeat} timed rounds")

    started = time.perf_counter()
    last = started
    for i in range(1, repeat + 1):
        for key in accounts:
            for q in queries:
                ms, _, statements = request_once(key, q)
                entry = results[key][q]
                entry["samples_ms"].append(round(ms, 3))
                entry["sql_ms"].append(round(sum(s[2] for s in statements), 3))
                entry["sql_statements"].append(len(statements))
                slowest = max(statements, key=lambda s: s[2], default=None)
                if slowest is not None and slowest[2] >= entry.get("_slowest_ms", -1.0):
                    entry["_slowest_ms"] = slowest[2]
                    entry["_profile"] = statements
        now = time.perf_counter()
        if now - last >= 10.0 or i == repeat:
            last = now
            log(
                f"[{params['label']}] round {i}/{repeat}, {now - started:.0f} s, "
                f"RSS {current_rss_mb():.0f} MB"
            )

    for key in accounts:
        for q in queries:
            entry = results[key][q]
            samples = entry["samples_ms"]
            entry["p50_ms"] = round(_percentile(samples, 50), 2)
            entry["p95_ms"] = round(_percentile(samples, 95), 2)
            entry["mean_ms"] = round(statistics.fmean(samples), 2)
            entry["min_ms"] = round(min(samples), 2)
            entry["max_ms"] = round(max(samples), 2)
            entry["sql_ms_p50"] = round(statistics.median(entry.pop("sql_ms")), 2)
            entry["sql_statements"] = int(statistics.median(entry.pop("sql_statements")))
            entry.pop("_slowest_ms", None)
            profile: list[tuple[str, Any, float]] = entry.pop("_profile", [])
            # The statements of the request whose slowest statement was the slowest seen,
            # slowest first (distinct SQL texts), the top ones with their plans.
            seen: set[str] = set()
            top: list[dict[str, Any]] = []
            for statement, sql_params, ms in sorted(profile, key=lambda s: -s[2]):
                if statement in seen:
                    continue
                seen.add(statement)
                item: dict[str, Any] = {
                    "ms": round(ms, 2),
                    "sql": _shorten(statement, 4000),
                    "params": {k: str(v) for k, v in sql_params.items()}
                    if isinstance(sql_params, dict)
                    else [str(v) for v in (sql_params or [])],
                }
                if params["explain"] and len(top) < params["explain_top"]:
                    try:
                        item["plan"] = _explain(engine, statement, sql_params)
                    except Exception as exc:  # keep the timings even if EXPLAIN fails
                        item["plan"] = f"EXPLAIN failed: {exc!r}"
                top.append(item)
                if len(top) >= 3:
                    break
            entry["slowest_request_sql"] = top
    engine.dispose()
    return {
        "roles": results,
        "rss_start_mb": rss_start,
        "peak_rss_mb": peak_rss_mb(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "init": child_init,
    "seed": child_seed,
    "prepare": child_prepare,
    "measure": child_measure,
}


def child_main(argv: Sequence[str]) -> int:
    return serve_child(CHILDREN, argv)


# ------------------------------------------------------------------------------ parent
class AdminRun(Run):
    """bench/seed's Run (databases, temp folder, cleanup), its children run from this module."""

    def __init__(self, admin_dsn: str) -> None:
        super().__init__(admin_dsn, module="bench.admin")
        self.kept: list[str] = []

    def keep(self, name: str) -> None:
        """Leave this database in place at the end (a successful run only)."""
        self.kept.append(name)

    def close(self, success: bool = False) -> None:
        if success:
            self.databases = [d for d in self.databases if d not in self.kept]
        super().close()

    def sql(self, dbname: str, statement: str) -> None:
        with psycopg.connect(dsn_for(self.admin_dsn, dbname), autocommit=True) as conn:
            conn.execute(statement)


def label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"


def measure_database(
    run: AdminRun, dbname: str, args: argparse.Namespace, size_label: str
) -> dict[str, Any]:
    url = sqlalchemy_url(run.admin_dsn, dbname)
    if args.sql:
        for statement in args.sql:
            log(f"[{size_label}] extra SQL: {statement}")
            t0 = time.perf_counter()
            run.sql(dbname, statement)
            log(f"[{size_label}] … {time.perf_counter() - t0:.1f} s")
    log(f"[{size_label}] accounts and sample students")
    prepared = run.child_run("prepare", {"url": url, "province": args.province})
    for key, acc in prepared["accounts"].items():
        log(
            f"[{size_label}] {key}: {acc['role']} {acc['scope']} {acc['scope_value'] or '—'}, "
            f"{acc['students_in_scope']:,} students in scope; sample "
            f"{acc['sample']['name']} {acc['sample']['student_number']}"
        )
    log(f"[{size_label}] measuring (child process)")
    measured = run.child_run(
        "measure",
        {
            "url": url,
            "label": size_label,
            "accounts": prepared["accounts"],
            "queries": args.queries,
            "warmup": args.warmup,
            "repeat": args.repeat,
            "explain": args.explain,
            "explain_top": 2,
        },
    )
    log(f"[{size_label}] measured; peak RSS {measured['peak_rss_mb']:.0f} MB")
    return {"prepare": prepared, "measure": measured}


def seed_size(run: AdminRun, template: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    size_label = label(n)
    dbname = run.create_database(f"admin_{n}", template=template)
    if args.keep:
        run.keep(dbname)
    log(f"[{size_label}] seed_database into {dbname} (child process; progress every 10 s)")
    seeded = run.child_run(
        "seed",
        {
            "students": n,
            "years": args.years,
            "seed": args.seed,
            "provinces": [p.strip() for p in args.provinces.split(",") if p.strip()],
            "today": args.today,
            "chunk_students": 5_000,
            "url": sqlalchemy_url(run.admin_dsn, dbname),
            "modules": [],
        },
    )
    log(f"[{size_label}] seeded in {seeded['seconds']:.1f} s; VACUUM (ANALYZE)")
    t0 = time.perf_counter()
    run.sql(dbname, "VACUUM (ANALYZE)")
    vacuum_s = time.perf_counter() - t0
    log(f"[{size_label}] VACUUM (ANALYZE) {vacuum_s:.1f} s")
    result = measure_database(run, dbname, args, size_label)
    if not args.keep:
        run.drop_database(dbname)
    return {
        "students": n,
        "label": size_label,
        "database": dbname,
        "kept": bool(args.keep),
        "seed_s": round(seeded["seconds"], 1),
        "seed_counts": seeded["counts"],
        "seed_peak_rss_mb": round(seeded["peak_rss_mb"], 1),
        "vacuum_analyze_s": round(vacuum_s, 1),
        **result,
    }


def existing_size(run: AdminRun, dbname: str, args: argparse.Namespace) -> dict[str, Any]:
    with psycopg.connect(dsn_for(run.admin_dsn, dbname)) as conn:
        row = conn.execute("SELECT COUNT(*) FROM student").fetchone()
    n = int(row[0]) if row else 0
    size_label = label(n) if n else dbname
    log(f"[{size_label}] measuring the existing database {dbname} ({n:,} students)")
    result = measure_database(run, dbname, args, size_label)
    return {"students": n, "label": size_label, "database": dbname, "kept": True, **result}


def compare(sizes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    smallest, largest = sizes[0], sizes[-1]
    rows = []
    for key in ROLES:
        for q in QUERIES:
            per_size = [s["measure"]["roles"].get(key, {}).get(q) for s in sizes]
            if any(e is None for e in per_size):
                continue
            small = smallest["measure"]["roles"][key][q]
            large = largest["measure"]["roles"][key][q]
            ratio = large["p95_ms"] / small["p95_ms"] if len(sizes) > 1 else None
            rows.append(
                {
                    "role": key,
                    "query": q,
                    "p50_ms": [e["p50_ms"] for e in per_size],
                    "p95_ms": [e["p95_ms"] for e in per_size],
                    "count": [e.get("count") for e in per_size],
                    "ratio": round(ratio, 2) if ratio is not None else None,
                    "p95_verdict": "PASS" if large["p95_ms"] <= P95_TARGET_MS else "BELOW",
                    "ratio_verdict": None
                    if ratio is None
                    else ("PASS" if ratio <= RATIO_TARGET else "BELOW"),
                }
            )
    return rows


def format_table(sizes: Sequence[dict[str, Any]], rows: Sequence[dict[str, Any]]) -> str:
    head = f"{'role':<10} {'query':<34}"
    for s in sizes:
        head += f" {s['label'] + ' p50':>10} {s['label'] + ' p95':>10}"
    head += f" {'ratio':>6} {'p95':5} {'ratio':5} {'matches (largest)':>17}"
    lines = [head, "-" * len(head)]
    for r in rows:
        line = f"{r['role']:<10} {QUERIES[r['query']]:<34}"
        for p50, p95 in zip(r["p50_ms"], r["p95_ms"], strict=True):
            line += f" {p50:>10.1f} {p95:>10.1f}"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "—"
        count = r["count"][-1]
        line += (
            f" {ratio:>6} {r['p95_verdict']:5} {r['ratio_verdict'] or '—':5} "
            f"{(f'{count:,}' if count is not None else '?'):>17}"
        )
        lines.append(line)
    return "\n".join(lines)


def format_breakdown(size: dict[str, Any]) -> str:
    """Where a request's time goes at one size: SQL vs the rest (Python, templates)."""
    head = (
        f"{'role':<10} {'query':<34} {'p50':>8} {'SQL p50':>8} {'stmts':>5} "
        f"{'slowest stmt':>12} {'page KB':>8} {'rows':>5}"
    )
    lines = [head, "-" * len(head)]
    for key, queries in size["measure"]["roles"].items():
        for q, e in queries.items():
            top = e.get("slowest_request_sql") or [{}]
            lines.append(
                f"{key:<10} {QUERIES[q]:<34} {e['p50_ms']:>8.1f} {e['sql_ms_p50']:>8.1f} "
                f"{e['sql_statements']:>5} {top[0].get('ms', 0.0):>12.1f} "
                f"{e.get('response_kb', 0.0):>8.1f} {e.get('rows_on_page', 0):>5}"
            )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench admin",
        description="Student list/search latency per role with the row scope on, 10k vs 1M.",
    )
    parser.add_argument(
        "--students",
        type=parse_sizes,
        default=parse_sizes("10000,1000000"),
        help="comma-separated sizes, e.g. 10k,1M (default: 10k,1M)",
    )
    parser.add_argument(
        "--database",
        default="",
        help="measure these existing, seeded databases (comma-separated, smallest first; "
        "e.g. kept by --keep) instead of seeding new ones; they are never dropped",
    )
    parser.add_argument("--years", type=int, default=3, help="school years (default: 3)")
    parser.add_argument("--seed", type=int, default=2026, help="generator seed (default: 2026)")
    parser.add_argument(
        "--provinces", default="11,64,46", help="province codes (default: 11,64,46)"
    )
    parser.add_argument(
        "--province",
        default="64",
        help="the province-prefix BureauOfficer's province (default: 64); the county account "
        "gets that province's largest county",
    )
    parser.add_argument(
        "--today",
        default=DEFAULT_TODAY,
        help=f"the generator's 'today', fixed so runs compare (default: {DEFAULT_TODAY})",
    )
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per query (3)")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per query (30)")
    parser.add_argument(
        "--queries",
        type=lambda t: [q.strip() for q in t.split(",") if q.strip()],
        default=list(QUERIES),
        help=f"subset of the queries (default: all of {','.join(QUERIES)})",
    )
    parser.add_argument(
        "--sql",
        action="append",
        default=[],
        help="extra SQL run in each database before measuring (repeatable), e.g. a "
        "candidate index, to measure its effect",
    )
    parser.add_argument(
        "--no-explain",
        dest="explain",
        action="store_false",
        help="skip EXPLAIN (ANALYZE, BUFFERS) of the slowest statements",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the seeded databases after a successful run (names printed)",
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
        "--strict", action="store_true", help="exit 1 when a figure misses its target"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the admin list/search benchmark; print the table, write JSON; 0 unless it failed."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    unknown = [q for q in args.queries if q not in QUERIES]
    if unknown:
        print(
            f"--queries: unknown {', '.join(unknown)}; known: {', '.join(QUERIES)}", file=sys.stderr
        )
        return 2
    if args.repeat < 2 or args.warmup < 1:
        print("--repeat must be at least 2 and --warmup at least 1", file=sys.stderr)
        return 2
    databases = [d.strip() for d in args.database.split(",") if d.strip()]
    if not databases:
        base = {
            "years": args.years,
            "seed": args.seed,
            "provinces": [p.strip() for p in args.provinces.split(",") if p.strip()],
            "today": args.today,
            "chunk_students": 5_000,
        }
        for n in args.students:
            problems = _seed_options(dict(base, students=n)).validate()
            if problems:
                print("; ".join(problems), file=sys.stderr)
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
            "this machine will add noise to the percentiles"
        )
    previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    run = AdminRun(args.pg_dsn)
    sizes: list[dict[str, Any]] = []
    started = time.perf_counter()
    ok = False
    try:
        if databases:
            for name in databases:
                sizes.append(existing_size(run, name, args))
        else:
            template = run.create_database("template")
            log(f"initialising template database {template} (migrations + reference data)")
            init = run.child_run("init", {"url": sqlalchemy_url(args.pg_dsn, template)})
            log(f"template ready in {init['seconds']:.1f} s")
            for n in args.students:
                sizes.append(seed_size(run, template, n, args))
            run.drop_database(template)
        ok = True
    except BenchError as exc:
        log(f"bench admin failed: {exc}")
        ok = bool(args.keep)  # --keep: leave what was seeded for a look at the failure
        if ok and run.kept:
            log(f"kept databases (drop them when done): {', '.join(run.kept)}")
        return 1
    except KeyboardInterrupt:
        log("bench admin interrupted; dropping its databases and temp folder")
        return 130
    finally:
        run.close(success=ok)
        signal.signal(signal.SIGTERM, previous)

    rows = compare(sizes)
    smallest, largest = sizes[0], sizes[-1]
    print()
    print(
        f"bench admin — student list/search with the scope filter, {args.repeat} timed "
        f"requests per query after {args.warmup} warm-ups; PostgreSQL {pg_version}, "
        f"{os.cpu_count()} CPUs; times in ms (Flask test client, in-process)"
    )
    for s in sizes:
        acc = s["prepare"]["accounts"]
        scope_text = ", ".join(
            f"{k} {a['scope_value'] or 'national'} ({a['students_in_scope']:,})"
            for k, a in acc.items()
        )
        print(f"  {s['label']}: {s['students']:,} students; scopes: {scope_text}")
    print(format_table(sizes, rows))
    print()
    print(
        f"where the time goes at {largest['label']} (median request; SQL = time in the "
        "database driver; slowest stmt = slowest statement of the slowest request):"
    )
    print(format_breakdown(largest))
    print()
    p95_below = [r for r in rows if r["p95_verdict"] != "PASS"]
    ratio_below = [r for r in rows if r["ratio_verdict"] == "BELOW"]
    print(
        f"p95 at {largest['label']} ≤ {P95_TARGET_MS:.0f} ms: {len(rows) - len(p95_below)} of "
        f"{len(rows)} queries pass; {'PASS' if not p95_below else 'BELOW'}"
    )
    for r in p95_below:
        print(f"  BELOW {r['role']} {r['query']}: p95 {r['p95_ms'][-1]:.0f} ms")
    if len(sizes) > 1:
        print(
            f"p95 {largest['label']} / {smallest['label']} ≤ {RATIO_TARGET}x: "
            f"{len(rows) - len(ratio_below)} of {len(rows)} queries pass; "
            f"{'PASS' if not ratio_below else 'BELOW'}"
        )
        for r in ratio_below:
            print(f"  BELOW {r['role']} {r['query']}: {r['ratio']:.2f}x")
    else:
        print("p95 ratio: needs two sizes (--students A,B)")
    for s in sizes:
        m = s["measure"]
        print(
            f"peak RSS of the measuring process at {s['label']}: {m['peak_rss_mb']:.0f} MB "
            f"(after create_app: {m['rss_start_mb']:.0f} MB)"
        )
    kept = [s["database"] for s in sizes if s.get("kept")]
    if kept and not databases:
        print(f"kept databases (drop them when done): {', '.join(kept)}")

    write_results(
        args.output,
        NAME,
        started=started,
        pg_version=pg_version,
        load_start=load_start,
        options={
            "students": [s["students"] for s in sizes],
            "databases": databases,
            "years": args.years,
            "seed": args.seed,
            "provinces": args.provinces,
            "province": args.province,
            "today": args.today,
            "warmup": args.warmup,
            "repeat": args.repeat,
            "queries": args.queries,
            "extra_sql": args.sql,
        },
        targets={"p95_max_ms": P95_TARGET_MS, "p95_ratio_max": RATIO_TARGET},
        comparison=rows,
        sizes=sizes,
    )
    missed = bool(p95_below or ratio_below)
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        sys.exit(child_main(sys.argv[2:]))
    sys.exit(main())
