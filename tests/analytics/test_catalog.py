"""The catalog: every metric file has a complete header that agrees with its SQL, runs on the
real warehouse (and on the one with synthetic facts) with exactly the declared columns, and
transpiles to Spark SQL."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from analytics.catalog import METRICS_DIR, REQUIRED, load_catalog, parse_metric
from analytics.engine import bindings
from analytics.errors import CatalogError
from analytics.params import PARAMETERS
from analytics.scope import AnalyticsScope
from analytics.spark import to_spark, transpile_catalog

from .conftest import SQLITE_ONLY

CATALOG = load_catalog()
NAMES = sorted(CATALOG)


@pytest.fixture(scope="module")
def spark_catalog() -> dict[str, str]:
    return transpile_catalog()


# The metrics the issue asks for by name.
REQUIRED_METRICS = {
    "enrollment_by_region",
    "enrollment_by_grade",
    "enrollment_by_sex",
    "enrollment_by_ethnicity",
    "enrollment_by_hukou",
    "migrant_left_behind",
    "enrollment_trend",
    "class_size_distribution",
    "key_figures",
    "attendance_rate_by_school_month",
    "chronic_absence",
    "score_distribution",
    "subject_means",
    "pass_excellent_rates",
    "transfers_by_region_pair",
    "dropout_rate",
    "approval_lead_times",
    "overdue_steps",
    "progression_flows",
    "progression_rate_by_region",
    "data_quality",
    "region_children",
}


def test_catalog_lists_every_file_and_the_required_metrics():
    files = sorted(p.stem for p in METRICS_DIR.glob("*.sql"))
    assert files == NAMES
    assert set(NAMES) >= REQUIRED_METRICS


@pytest.mark.parametrize("name", NAMES)
def test_header_is_complete_and_consistent(name):
    m = CATALOG[name]
    for field in REQUIRED:
        value = getattr(m, "name" if field == "metric" else field)
        assert value, f"{name}: empty {field}"
    assert m.title_zh != m.title_en and m.description_zh != m.description_en
    assert len(m.description_en) > 40 and len(m.description_zh) > 15
    assert set(m.params) <= set(PARAMETERS)
    assert "region" in m.params and "school" in m.params, "every metric narrows by region/school"
    assert len(set(m.columns)) == len(m.columns)
    assert {"region_prefix", "school_code"} <= m.placeholders
    # The header names the tables the SQL reads, no more, no less.
    tree = sqlglot.parse_one(m.sql, read="duckdb")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    tables = {t.name for t in tree.find_all(exp.Table)} - ctes
    assert tables == set(m.sources), name
    # Counting people is declared for every person count that can be small.
    if m.unit.startswith("students") or "students" in m.measures:
        assert m.suppress or name == "region_children"


def test_metrics_reading_facts_say_which_rollup_is_missing():
    for m in CATALOG.values():
        if m.reads_facts:
            assert "rollup" in m.notes, f"{m.name} reads facts without noting the missing rollup"


@pytest.mark.parametrize(
    "text, problem",
    [
        ("-- metric: x\nSELECT 1", "header lacks"),
        (
            "-- metric: x | title_zh: 甲 | title_en: X | description_zh: 甲 | description_en: X\n"
            "-- grain: g | params: region, school | dimensions: a | measures: n | unit: u\n"
            "-- sources: t\nSELECT 1 AS a, 2 AS n FROM t WHERE $school_code IS NULL",
            "does not filter on $region_prefix",
        ),
        (
            "-- metric: x | title_zh: 甲 | title_en: X | description_zh: 甲 | description_en: X\n"
            "-- grain: g | params: region, school | dimensions: a | measures: n | unit: u\n"
            "-- sources: t\nSELECT 1 FROM t WHERE c LIKE $region_prefix AND $school_code IS NULL"
            " AND $stage IS NULL",
            "undeclared $stage",
        ),
        (
            "-- metric: x | title_zh: 甲 | title_en: X | description_zh: 甲 | description_en: X\n"
            "-- grain: g | params: region, school, nonsense | dimensions: a | measures: n\n"
            "-- unit: u | sources: t\nSELECT 1",
            "unknown params",
        ),
        (
            "-- metric: x | title_zh: 甲 | title_en: X | description_zh: 甲 | description_en: X\n"
            "-- grain: g | params: region, school | dimensions: a | measures: n, r | unit: u\n"
            "-- sources: t | withhold: r <- n\n"
            "SELECT 1 FROM t WHERE c LIKE $region_prefix AND $school_code IS NULL",
            "depends on non-counts",
        ),
    ],
)
def test_malformed_headers_are_refused(text, problem):
    with pytest.raises(CatalogError, match=problem.replace("$", r"\$")):
        parse_metric(text)


@pytest.mark.parametrize("name", NAMES)
def test_every_metric_transpiles_to_spark(name, spark_catalog):
    spark = to_spark(CATALOG[name].sql)
    assert spark.strip()
    # Parameters became Spark's named markers; the result parses as Spark SQL again.
    for placeholder in CATALOG[name].placeholders:
        assert f":{placeholder}" in spark
    assert "$" not in spark
    sqlglot.parse_one(spark, read="spark")
    assert spark_catalog[name] == spark


@SQLITE_ONLY
@pytest.mark.parametrize("name", NAMES)
def test_every_metric_runs_on_the_real_warehouse_with_its_declared_columns(name, run):
    m = CATALOG[name]
    for scope, params in (
        (AnalyticsScope(), {}),
        (AnalyticsScope("64"), {"level": "county"} if "level" in m.params else {}),
        (
            AnalyticsScope("640105"),
            {"school_year": "2025-2026"} if "school_year" in m.params else {},
        ),
    ):
        result = run(name, scope, params)
        assert result.columns == list(m.columns), name
        assert result.metric == name
        for row in result.rows:
            assert len(row) == len(m.columns)


@SQLITE_ONLY
@pytest.mark.parametrize("name", NAMES)
def test_every_metric_returns_rows_on_the_synthetic_warehouse(name, run_facts):
    m = CATALOG[name]
    params = {"basis": "destination"} if "basis" in m.params else {}
    result = run_facts(name, AnalyticsScope("64"), params)
    assert result.columns == list(m.columns)
    assert result.rows, f"{name} returned nothing although its facts exist"


@SQLITE_ONLY
@pytest.mark.parametrize("name", NAMES)
def test_spark_sql_means_the_same(name, facts_conn):
    """DuckDB → Spark → DuckDB gives the same SQL semantics (sqlglot's round trip), checked by
    running both on the warehouse with synthetic facts (every metric has rows there)."""
    m = CATALOG[name]
    back = sqlglot.transpile(to_spark(m.sql), read="spark", write="duckdb")[0]
    values = {"basis": "destination"} if "basis" in m.params else {}
    bound = bindings(m, values, AnalyticsScope("64"))
    original = facts_conn.cursor().execute(m.sql, bound).fetchall()
    again = facts_conn.cursor().execute(back, bound).fetchall()
    # 90th percentiles become percentile_approx on Spark (documented): compare the rest.
    exact = [i for i, c in enumerate(m.columns) if not c.endswith("_p90")]
    assert [[r[i] for i in exact] for r in again] == [[r[i] for i in exact] for r in original]
