"""Cache keys, the Spark runner (with a stand-in SparkSession), the SnapshotStore wrapper
with trends across snapshots, and the package's import rule."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from analytics.cache import cache_key, make_cache_key, memo_args, normalize_params
from analytics.engine import BadParameter, ScopeViolation
from analytics.scope import AnalyticsScope
from analytics.spark import (
    WAREHOUSE_TABLES,
    register_snapshot_views,
    run_on_spark,
    spark_schemas,
    spark_sql,
)
from analytics.suppression import SUPPRESSED

from .conftest import SQLITE_ONLY

ANALYTICS = Path(__file__).resolve().parents[2] / "analytics"


# --- cache keys ----------------------------------------------------------------------------


def test_cache_keys_depend_on_snapshot_scope_metric_and_params_only():
    scope = AnalyticsScope("64")
    key = cache_key("s1", scope, "enrollment_by_region", {"stage": "junior", "level": "county"})
    assert key == cache_key(
        "s1", AnalyticsScope("64"), "enrollment_by_region", {"level": "county", "stage": "junior"}
    )
    assert key.startswith("xueji:analytics:enrollment_by_region:")
    assert cache_key("s1", scope, "m", {"stage": None, "region": ""}) == cache_key("s1", scope, "m")
    others = {
        cache_key("s2", scope, "enrollment_by_region", {"stage": "junior", "level": "county"}),
        cache_key(
            "s1",
            AnalyticsScope("6401"),
            "enrollment_by_region",
            {"stage": "junior", "level": "county"},
        ),
        cache_key(
            "s1",
            AnalyticsScope("64", "2164000008"),
            "enrollment_by_region",
            {"stage": "junior", "level": "county"},
        ),
        cache_key("s1", scope, "enrollment_by_grade", {"stage": "junior", "level": "county"}),
        cache_key("s1", scope, "enrollment_by_region", {"stage": "senior", "level": "county"}),
    }
    assert key not in others and len(others) == 5


def test_flask_caching_helpers():
    scope = AnalyticsScope("64")
    assert make_cache_key("s", scope, "m", {"a": 1}) == cache_key("s", scope, "m", {"a": 1})
    assert make_cache_key(snapshot="s", scope=scope, metric="m") == cache_key("s", scope, "m")
    with pytest.raises(TypeError):
        make_cache_key("s", "64", "m")
    assert memo_args("s", scope, "m", {"b": 2, "a": "x"}) == (
        "s",
        "64",
        "",
        "m",
        (("a", "x"), ("b", "2")),
    )
    assert normalize_params(None) == ()
    hash(memo_args("s", scope, "m", {"a": 1}))


# --- Spark -------------------------------------------------------------------------------


class FakeFrame:
    def __init__(self, session: FakeSpark, columns: list[str], rows: list[tuple[Any, ...]]):
        self.session, self.columns, self.rows = session, columns, rows

    def collect(self) -> list[tuple[Any, ...]]:
        return self.rows

    def __getitem__(self, name: str) -> str:
        return name

    def where(self, condition: Any) -> FakeFrame:
        self.session.calls.append(("where", condition))
        return self

    def createOrReplaceTempView(self, name: str) -> None:  # noqa: N802 - Spark's name
        self.session.calls.append(("view", name))


class FakeReader:
    def __init__(self, session: FakeSpark):
        self.session = session

    def parquet(self, path: str) -> FakeFrame:
        if path.endswith("fact_attendance"):
            raise RuntimeError("Path does not exist")  # empty facts are not exported
        self.session.calls.append(("read", path))
        return FakeFrame(self.session, [], [])


class FakeSpark:
    """Records what a SparkSession would be asked; answers with canned rows."""

    def __init__(self, columns: list[str], rows: list[tuple[Any, ...]]):
        self.columns, self.rows = columns, rows
        self.calls: list[tuple[Any, ...]] = []
        self.read = FakeReader(self)

    def createDataFrame(self, data: list[Any], schema: str) -> FakeFrame:  # noqa: N802
        self.calls.append(("empty", schema))
        return FakeFrame(self, [], [])

    def sql(self, text: str, args: dict[str, Any] | None = None) -> FakeFrame:
        self.calls.append(("sql", text, args))
        return FakeFrame(self, self.columns, self.rows)


def test_run_on_spark_binds_the_scope_and_suppresses():
    spark = FakeSpark(
        ["school_year", "region_code", "region_name", "stage", "students"],
        [
            ("2026-2027", "640105", "西夏区", "junior", 3),
            ("2026-2027", "640105", "西夏区", "all", 50),
        ],
    )
    result = run_on_spark(
        spark,
        "enrollment_by_region",
        AnalyticsScope("64"),
        {"region": "6401", "stage": "junior"},
        snapshot="sid",
        as_of="t",
    )
    (_, text, args) = spark.calls[0]
    assert text == spark_sql("enrollment_by_region") and ":region_prefix" in text
    assert args == {
        "region_prefix": "6401",
        "school_code": None,
        "school_year": None,
        "stage": "junior",
        "level": "county",
    }
    assert result.rows[0][-1] == SUPPRESSED and result.rows[1][-1] == 50
    assert result.suppressed_cells == 1 and result.snapshot == "sid"
    with pytest.raises(ScopeViolation):
        run_on_spark(
            spark,
            "enrollment_by_region",
            AnalyticsScope("64"),
            {"region": "11"},
            snapshot="s",
            as_of="t",
        )
    with pytest.raises(BadParameter):
        run_on_spark(
            spark,
            "enrollment_by_region",
            AnalyticsScope(),
            {"stage": "x' OR 1=1"},
            snapshot="s",
            as_of="t",
        )


def test_register_snapshot_views_filters_the_snapshot_partition():
    spark = FakeSpark([], [])
    views = register_snapshot_views(
        spark,
        "hdfs:///xueji/64/parquet/",
        "20261128T000000Z",
        ["agg_enrollment", "fact_attendance", "dim_school"],
    )
    assert views == ["agg_enrollment", "dim_school"]
    assert ("read", "hdfs:///xueji/64/parquet/agg_enrollment") in spark.calls
    assert ("view", "agg_enrollment") in spark.calls
    assert ("where", False) in spark.calls or any(c[0] == "where" for c in spark.calls)


@SQLITE_ONLY
def test_empty_facts_become_empty_spark_views(snapshot_conn):
    schemas = spark_schemas(snapshot_conn.cursor())
    assert schemas["fact_attendance"].startswith("student_key STRING, class_key STRING, ")
    assert "date DATE" in schemas["fact_attendance"] and "days DOUBLE" in schemas["fact_attendance"]
    assert set(schemas) == set(WAREHOUSE_TABLES)
    spark = FakeSpark([], [])
    views = register_snapshot_views(
        spark, "/wh/parquet", "sid", ["fact_attendance"], empty_schemas=schemas
    )
    assert views == ["fact_attendance"]
    assert ("empty", schemas["fact_attendance"]) in spark.calls


# --- the SnapshotStore wrapper --------------------------------------------------------------


@SQLITE_ONLY
def test_warehouse_runs_on_the_current_snapshot_and_across_snapshots(warehouse):
    from analytics.warehouse import Warehouse

    # Same (default) configuration as the other connections of this process: DuckDB refuses
    # a second configuration for a file that is already open.
    wh = Warehouse(warehouse["root"])
    assert wh.current_snapshot() == warehouse["snapshot"]
    result = wh.run("enrollment_by_region", AnalyticsScope("64"), {"level": "county"})
    assert result.snapshot == warehouse["snapshot"]
    assert result.as_of.endswith("Z") and result.as_of[:10] == warehouse["as_of"][:10]
    trend = wh.run_over_snapshots("key_figures", AnalyticsScope("64"))
    assert trend.columns[:2] == ["snapshot", "as_of"]
    assert [r[0] for r in trend.rows] == [warehouse["first"], warehouse["snapshot"]]
    assert trend.rows[0][2:] == trend.rows[1][2:]  # same registry, same figures
    assert wh.run_over_snapshots("key_figures", AnalyticsScope("64"), last=1).rows == trend.rows[1:]
    with pytest.raises(BadParameter):
        wh.run("key_figures", AnalyticsScope("64"), {"school_year": "x"})


# --- architecture ----------------------------------------------------------------------------


def test_analytics_imports_nothing_of_admin_dashboards_or_etl_but_the_store():
    for path in ANALYTICS.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top not in ("admin", "dashboards", "flask"), f"{path.name} imports {name}"
                if top == "etl":
                    assert name == "etl.store", f"{path.name} imports {name}"
