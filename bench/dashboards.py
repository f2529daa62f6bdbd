"""bench dashboards — p95 latency of every dashboard page's callback at 100k and 1M students,
as a ratio to a trivial Flask round trip measured in the same run, and the peak memory.

For each size N a PostgreSQL database is initialised and seeded (bench seed's children), given
teaching records as `xueji seed-teaching` does it (timetables, attendance, exams and scores,
evaluations; `--no-teaching` leaves them out, and the attendance and grades pages then have
nothing to show) and VACUUM (ANALYZE)d, and `xueji etl --mode full --pg-driver adbc` (bench
etl's child) builds a warehouse from it.  A measuring child then builds the app (`admin.create_app` on that database
and warehouse), creates two accounts — a national BureauAnalyst and a BureauAnalyst of the
county with the most students — signs each in with a Flask test client (session injection,
the `_csrf_token` cookie sent back as X-CSRFToken, as the renderer does) and, per account and
page, POSTs the page's real callback to /dashboards/_dash-update-component (the body the
browser sends when the `xj-filters` store changes) --repeat times over a few distinct filter
selections (school years, regions, stage, a school):

* **cold** — the first half of the requests of each filter, with the metric cache
  (Flask-Caching) emptied before each: what the first visitor after a snapshot refresh waits
  for (every metric of the page runs on DuckDB);
* **warm** — the other half, the same request again (results from the cache: figure building
  and JSON only).

Besides the pages: `_dash-layout` (the shell with its filter bar, which runs metrics for the
dropdowns) and `filters` (the callback turning the dropdowns into the store).  The
**baseline** is a trivial endpoint registered by the bench (`GET /_bench/ping` → "ok", signed
in, through all of the app's request hooks), timed before every timed callback.

    python -m bench dashboards                                   # 100k and 1M, 30 requests
    python -m bench dashboards --students 20000 --repeat 5       # quick check
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.etl import (
    add_teaching_option,
    child_etl,
    child_teaching,
    nation_database,
    use_existing,
)
from bench.seed import (
    Run,
    child_init,
    child_seed,
    current_rss_mb,
    log,
    nation_parser,
    peak_rss_mb,
    run_nations,
    serve_child,
    sqlalchemy_url,
    write_results,
)

NAME = "dashboards"
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "dashboards.json"
P95_TARGET_MS = 250.0  # cold p95 of a page's callback, at most
SCALING_TARGET = 1.5  # cold p95 at the largest size ÷ at the smallest, at most
DEFAULT_REPEAT = 30
FILTER_VARIANTS = 6  # distinct filter selections per account
PASSWORD = "Bench-Dash-2026!"
SECRET = "bench-dashboards-secret-" + "s" * 32
CALLBACK = "/dashboards/_dash-update-component"
PING = "/_bench/ping"


# ------------------------------------------------------------------------------ figures
def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def summary(samples: Sequence[float]) -> dict[str, Any]:
    p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
    return {
        "n": len(samples),
        "p50_ms": None if p50 is None else round(p50, 2),
        "p95_ms": None if p95 is None else round(p95, 2),
        "max_ms": round(max(samples), 2) if samples else None,
    }


# ------------------------------------------------------------------------------ the measuring child
def _registry_facts(app: Any) -> dict[str, Any]:
    """School years, the county and school with the most active enrollments (in the latest
    year), and the provinces present — to build realistic filters."""
    from sqlalchemy import text

    from admin.extensions import db

    with app.app_context():
        years = [
            r[0] for r in db.session.execute(text("SELECT code FROM school_year ORDER BY code"))
        ]
        latest = years[-1]
        county_sql = text(
            "SELECT s.region_code, s.code, COUNT(*) AS n FROM enrollment e "
            "JOIN school s ON s.id = e.school_id JOIN school_year y ON y.id = e.school_year_id "
            "WHERE e.is_active AND y.code = :year GROUP BY s.region_code, s.code"
        )
        per_school = db.session.execute(county_sql, {"year": latest}).all()
        db.session.remove()
    by_county: dict[str, int] = {}
    for region, _code, n in per_school:
        by_county[region] = by_county.get(region, 0) + int(n)
    county = max(by_county, key=lambda c: (by_county[c], c))
    school = max((r for r in per_school if r[0] == county), key=lambda r: (int(r[2]), r[1]))[1]
    provinces = sorted({c[:2] for c in by_county})
    return {
        "years": years[-3:],
        "county": county,
        "county_students": by_county[county],
        "school": school,
        "provinces": provinces,
    }


def _filters(facts: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Distinct `xj-filters` store values per account (what resolve_filters would produce)."""
    years = facts["years"]
    latest, prev, oldest = years[-1], years[-2 % len(years)], years[0]
    county, school = facts["county"], facts["school"]
    province = county[:2]
    other = next((p for p in facts["provinces"] if p != province), province)

    def f(year: str, region: str, stage: str | None = None, sch: str | None = None) -> dict:
        return {"school_year": year, "region": region, "school": sch, "stage": stage}

    return {
        "national": [
            f(latest, ""),
            f(latest, province),
            f(prev, county[:4]),
            f(latest, county, "junior"),
            f(oldest, "", "primary"),
            f(latest, other, "senior"),
        ],
        "county": [
            f(latest, county),
            f(prev, county),
            f(latest, county, "junior"),
            f(latest, county, None, school),
            f(oldest, county, "primary"),
            f(prev, county, "senior"),
        ],
    }


def _outputs_of(key: str) -> list[dict[str, Any]]:
    """The `outputs` list the renderer sends for a multi-output callback key."""
    outputs = []
    for part in key.strip(".").split("..."):
        ident, _, prop = part.rpartition(".")
        outputs.append(
            {"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop}
        )
    return outputs


def _page_requests(dash_app: Any) -> list[tuple[str, str]]:
    """(page id, callback key) of every page's main callback (inputs: the xj-filters store)."""
    from dashboards.pages import PAGES

    found = []
    for page in PAGES:
        marker = f"graph-{page.charts[0].id}.figure"
        key = next(k for k in dash_app.callback_map if marker in k.strip(".").split("..."))
        found.append((page.id, key))
    return found


def _page_body(key: str, filters: dict[str, Any]) -> dict[str, Any]:
    return {
        "output": key,
        "outputs": _outputs_of(key),
        "inputs": [{"id": "xj-filters", "property": "data", "value": filters}],
        "state": [],
        "changedPropIds": ["xj-filters.data"],
    }


def _filters_body(filters: dict[str, Any]) -> dict[str, Any]:
    """resolve_filters as the renderer calls it when a dropdown changes."""
    region = filters["region"] or ""
    values = {
        "f-year": filters["school_year"],
        "f-province": region[:2] or None,
        "f-prefecture": region[:4] if len(region) >= 4 else None,
        "f-county": region if len(region) >= 6 else None,
        "f-school": filters["school"],
        "f-stage": filters["stage"] or "all",
    }
    return {
        "output": "xj-filters.data",
        "outputs": {"id": "xj-filters", "property": "data"},
        "inputs": [{"id": k, "property": "value", "value": v} for k, v in values.items()],
        "state": [],
        "changedPropIds": ["f-year.value"],
    }


def _metric_times(warehouse: Path, filters: dict[str, list[dict[str, Any]]], facts: dict) -> dict:
    """Each page metric run once on DuckDB (no cache), per account's first filter: which
    metrics dominate a cold page."""
    from analytics.catalog import load_catalog
    from analytics.scope import AnalyticsScope
    from analytics.warehouse import Warehouse
    from dashboards.data import selection_from
    from dashboards.pages import PAGES

    wh = Warehouse(warehouse)
    catalog = load_catalog()
    out: dict[str, dict[str, float]] = {}
    scopes = {"national": AnalyticsScope(""), "county": AnalyticsScope(facts["county"])}
    for user, scope in scopes.items():
        f = filters[user][0]
        sel = selection_from(f["school_year"], f["region"], f["school"], f["stage"], scope)
        times: dict[str, float] = {}
        # key_figures: the overview's tiles and the shell's default school year
        names = ["key_figures", *(spec.metric for page in PAGES for spec in page.charts)]
        for name in names:
            if name in times:
                continue
            m = catalog[name]
            params = sel.params(m)  # no chart passes extra parameters (ChartSpec.extra)
            takes_region = "region" in m.params and "school" in m.params
            t0 = time.perf_counter()
            wh.run(m.name, sel.scope if takes_region else sel.narrowed, params)
            times[name] = round((time.perf_counter() - t0) * 1000, 2)
        out[user] = times
    return out


def _request(client: Any, headers: dict[str, str], target: str, key: str, f: dict[str, Any]) -> Any:
    """One request as the browser sends it: the shell's layout, the filter callback, or a
    page's main callback (`key`) for the filter store `f`."""
    if target == "_dash-layout":
        return client.get("/dashboards/_dash-layout")
    body = _filters_body(f) if target == "filters" else _page_body(key, f)
    return client.post(CALLBACK, json=body, headers=headers)


def _measure_account(
    app: Any,
    label: str,
    user_id: int,
    fs: list[dict[str, Any]],
    pages: list[tuple[str, str]],
    repeat: int,
    baseline: list[float],
    failures: list[str],
) -> dict[str, dict[str, list[float]]]:
    """--repeat requests per target for one signed-in account, spread over the filters: per
    filter, the first half cold (metric cache emptied before each), then the warm repeats; a
    timed ping before each."""
    rt = app.extensions["xueji_dashboards"]
    client = app.test_client()
    with client.session_transaction() as s:
        s["_user_id"] = str(user_id)
        s["_fresh"] = True
    first = client.get("/dashboards/")  # as a browser: sets the _csrf_token cookie
    cookie = client.get_cookie("_csrf_token", path="/dashboards/")
    if first.status_code != 200 or cookie is None:
        raise RuntimeError(f"{label}: GET /dashboards/ → {first.status_code}, no CSRF cookie")
    headers = {"X-CSRFToken": cookie.value}
    client.get(PING)
    targets = [("_dash-layout", ""), ("filters", ""), *pages]
    for target, key in targets:  # untimed: the first use of each figure type loads plotly code
        _request(client, headers, target, key, fs[0])
    # Requests per filter: --repeat spread over the variants.
    counts = [repeat // len(fs) + (1 if j < repeat % len(fs) else 0) for j in range(len(fs))]
    out: dict[str, dict[str, list[float]]] = {t: {"cold": [], "warm": []} for t, _ in targets}
    for j, f in enumerate(fs):
        for target, key in targets:
            cold = (counts[j] + 1) // 2  # the first half (at least one) cold, the rest warm
            for i in range(counts[j]):
                if i < cold:
                    rt.cache.clear()  # cold: no metric result cached (as after a refresh)
                t0 = time.perf_counter()
                client.get(PING)
                baseline.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                response = _request(client, headers, target, key, f)
                ms = (time.perf_counter() - t0) * 1000
                if response.status_code != 200:
                    failures.append(f"{label} {target} {f}: HTTP {response.status_code}")
                out[target]["cold" if i < cold else "warm"].append(ms)
                out[target]["kb"] = [
                    max(out[target].get("kb", [0.0])[0], len(response.data) / 1024)
                ]
    log(f"{label}: {repeat} requests × {len(targets)} targets done")
    return out


def child_measure(params: dict[str, Any]) -> dict[str, Any]:
    """Build the app on the seeded database and its warehouse; time every page's callback."""
    from admin import create_app
    from admin.extensions import db
    from admin.services.accounts import create_account
    from admin.wsgi_server import freeze_startup_heap

    warehouse = Path(params["warehouse"])
    app = create_app(
        SQLALCHEMY_DATABASE_URI=params["url"],
        SECRET_KEY=SECRET,
        XUEJI_WAREHOUSE_DIR=str(warehouse),
    )
    app.add_url_rule(PING, "bench_ping", lambda: "ok")  # the baseline: hooks, no work
    facts = _registry_facts(app)
    accounts = {
        "national": ("bench_national", {}),
        "county": ("bench_county", {"region": facts["county"]}),
    }
    users: dict[str, int] = {}
    with app.app_context():
        for label, (username, scope) in accounts.items():
            # An existing registry (--database) keeps the accounts of an earlier run.
            if app.appbuilder.sm.find_user(username=username) is None:
                create_account(username=username, password=PASSWORD, role="BureauAnalyst", **scope)
            users[label] = app.appbuilder.sm.find_user(username=username).id
        db.session.remove()
    rt = app.extensions["xueji_dashboards"]
    app.test_client().get(PING)  # Dash completes its callback map on the first request
    freeze_startup_heap()  # as each gunicorn worker does after loading the app
    pages = _page_requests(rt.dash_app)
    filters = _filters(facts)
    repeat = int(params["repeat"])
    variants = {u: fs[: min(FILTER_VARIANTS, repeat)] for u, fs in filters.items()}

    rss_before = current_rss_mb()
    baseline: list[float] = []
    samples: dict[str, dict[str, dict[str, list[float]]]] = {}
    failures: list[str] = []

    for label, user_id in users.items():
        samples[label] = _measure_account(
            app, label, user_id, variants[label], pages, repeat, baseline, failures
        )

    if failures:
        raise RuntimeError("failed requests: " + "; ".join(failures[:10]))
    metric_ms = _metric_times(warehouse, filters, facts)
    return {
        "facts": facts,
        "filters": variants,
        "samples": samples,
        "baseline": baseline,
        "metric_ms": metric_ms,
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "init": child_init,
    "seed": child_seed,
    "teaching": child_teaching,
    "etl": child_etl,
    "measure": child_measure,
}


def child_main(argv: Sequence[str]) -> int:
    return serve_child(CHILDREN, argv)


# ------------------------------------------------------------------------------ parent
def measure_size(run: Run, template: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    seeded_db, teaching, made = nation_database(run, template, "dash", n, args)
    url = sqlalchemy_url(run.admin_dsn, seeded_db)
    warehouse = run.tmp / f"warehouse-{n}"
    warehouse.mkdir(parents=True)
    log(f"[{n:,}] xueji etl (full, ADBC) into {warehouse}")
    etl = run.child_run("etl", {"url": url, "warehouse": str(warehouse)})
    snapshot_mb = sum(p.stat().st_size for p in warehouse.glob("*.duckdb")) / (1024 * 1024)
    log(f"[{n:,}] etl {etl['seconds']:.1f} s, snapshot {snapshot_mb:.0f} MB; measuring")
    done = run.child_run(
        "measure", {"url": url, "warehouse": str(warehouse), "repeat": args.repeat}
    )
    if made:
        run.drop_database(seeded_db)
    shutil.rmtree(warehouse, ignore_errors=True)

    base = summary(done["baseline"])
    base_p95 = base["p95_ms"] or 0.0
    pages: list[dict[str, Any]] = []
    for user, per_page in done["samples"].items():
        for page_id, slot in per_page.items():
            cold, warm = summary(slot["cold"]), summary(slot["warm"])
            every = summary(slot["cold"] + slot["warm"])
            ratio = (cold["p95_ms"] / base_p95) if base_p95 and cold["p95_ms"] else None
            pages.append(
                {
                    "user": user,
                    "page": page_id,
                    "cold": cold,
                    "warm": warm,
                    "all": every,
                    "cold_p95_x_baseline": None if ratio is None else round(ratio, 1),
                    "response_kb": round(slot.get("kb", [0.0])[0], 1),
                    "verdict": "PASS" if (cold["p95_ms"] or 0) <= P95_TARGET_MS else "SLOW",
                    "cold_samples_ms": [round(x, 2) for x in slot["cold"]],
                    "warm_samples_ms": [round(x, 2) for x in slot["warm"]],
                }
            )
    log(f"[{n:,}] baseline p95 {base_p95:.2f} ms, peak RSS {done['peak_rss_mb']:.0f} MB")
    return {
        "students": n,
        "teaching_rows": teaching,
        "etl_s": round(etl["seconds"], 1),
        "snapshot_mb": round(snapshot_mb, 1),
        "facts": done["facts"],
        "filters": done["filters"],
        "baseline": base,
        "pages": pages,
        "metric_ms": done["metric_ms"],
        "rss_before_mb": done["rss_before_mb"],
        "peak_rss_mb": done["peak_rss_mb"],
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def print_tables(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    header = (
        f"{'students':>9} {'user':<8} {'page':<15} {'cold n':>6} {'cold p50':>9} "
        f"{'cold p95':>9} {'warm n':>6} {'warm p50':>9} {'warm p95':>9} {'×base':>7} "
        f"{'verdict':>7} {'KB':>6}"
    )
    print(header)
    print("-" * len(header))
    for s in sizes:
        for p in s["pages"]:
            c, w = p["cold"], p["warm"]
            ratio = p["cold_p95_x_baseline"]
            print(
                f"{s['students']:>9,} {p['user']:<8} {p['page']:<15} {c['n']:>6} "
                f"{_ms(c['p50_ms']):>9} {_ms(c['p95_ms']):>9} {w['n']:>6} "
                f"{_ms(w['p50_ms']):>9} {_ms(w['p95_ms']):>9} "
                f"{'-' if ratio is None else f'{ratio:.0f}':>7} {p['verdict']:>7} "
                f"{p['response_kb']:>6.0f}"
            )
        b = s["baseline"]
        print(
            f"{s['students']:>9,} baseline GET {PING}: p50 {_ms(b['p50_ms'])} ms, "
            f"p95 {_ms(b['p95_ms'])} ms (n={b['n']}); peak RSS {s['peak_rss_mb']:.0f} MB "
            f"(app + accounts {s['rss_before_mb']:.0f} MB); snapshot {s['snapshot_mb']:.0f} MB, "
            f"etl {s['etl_s']:.0f} s"
        )
        slowest = sorted(s["metric_ms"]["national"].items(), key=lambda kv: -kv[1])[:5]
        print(
            f"{'':>9} slowest metrics (national, uncached): "
            + ", ".join(f"{k} {v:.0f} ms" for k, v in slowest)
        )
    scaling: list[dict[str, Any]] = []
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        before = {(p["user"], p["page"]): p for p in small["pages"]}
        print()
        print(
            f"cold p95 at {large['students']:,} ÷ at {small['students']:,} students "
            f"(target ≤ {SCALING_TARGET}):"
        )
        for p in large["pages"]:
            q = before.get((p["user"], p["page"]))
            if q is None or not q["cold"]["p95_ms"] or not p["cold"]["p95_ms"]:
                continue
            ratio = round(p["cold"]["p95_ms"] / q["cold"]["p95_ms"], 2)
            verdict = "PASS" if ratio <= SCALING_TARGET else "BELOW"
            scaling.append(
                {"user": p["user"], "page": p["page"], "ratio": ratio, "verdict": verdict}
            )
            print(f"  {p['user']:<8} {p['page']:<15} {ratio:>6.2f} {verdict}")
        rss = large["peak_rss_mb"] / small["peak_rss_mb"] if small["peak_rss_mb"] else 0.0
        print(f"  peak RSS {large['peak_rss_mb']:.0f} ÷ {small['peak_rss_mb']:.0f} MB = {rss:.2f}")
    return scaling


def main(argv: Sequence[str] | None = None) -> int:
    parser = nation_parser("python -m bench dashboards", __doc__, DEFAULT_OUTPUT)
    parser.set_defaults(repeat=DEFAULT_REPEAT)
    add_teaching_option(parser)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    use_existing(args)
    done = run_nations(args, NAME, "bench.dashboards", measure_size)
    if isinstance(done, int):
        return done
    sizes = done.sizes
    print()
    print(
        f"bench dashboards — callback latency per page (ms, Flask test client in-process), "
        f"{args.repeat} requests per page and account over ≤ {FILTER_VARIANTS} filters; "
        f"PostgreSQL {done.pg_version}, {os.cpu_count()} CPUs"
    )
    scaling = print_tables(sizes)
    print(
        f"targets: cold p95 ≤ {P95_TARGET_MS:.0f} ms per page; cold p95 at the largest size "
        f"≤ {SCALING_TARGET}× the smallest. ×base = cold p95 ÷ baseline p95 (same run)."
    )
    write_results(
        args.output,
        NAME,
        started=done.started,
        pg_version=done.pg_version,
        load_start=done.load_start,
        options={k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        targets={"cold_p95_ms_max": P95_TARGET_MS, "scaling_max": SCALING_TARGET},
        sizes=sizes,
        scaling=scaling,
    )
    missed = any(p["verdict"] != "PASS" for s in sizes for p in s["pages"]) or any(
        r["verdict"] != "PASS" for r in scaling
    )
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "_child":
        sys.exit(child_main(sys.argv[2:]))
    sys.exit(main())
