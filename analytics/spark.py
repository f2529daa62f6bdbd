"""The same metrics on Apache Spark, over the Parquet export of the ETL (`xueji etl --parquet`).

The metric SQL is written for DuckDB and transpiled by sqlglot; DuckDB's `$name` placeholders
become Spark's named parameter markers `:name`, bound by `spark.sql(sql, args=…)` (Spark ≥ 3.4,
which also has GROUP BY ALL and MEDIAN). See analytics/README.md for a walk-through.

    views = register_snapshot_views(spark, "hdfs:///xueji/64/parquet", snapshot_id)
    result = run_on_spark(spark, "enrollment_by_region", AnalyticsScope("64"), {"level": "county"},
                          snapshot=snapshot_id, as_of="…")

pyspark is not a dependency: these functions take the SparkSession as an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlglot
from sqlglot.errors import ErrorLevel

from . import params as P
from .catalog import load_catalog
from .engine import MetricResult, bindings, get_metric
from .errors import BadParameter
from .scope import AnalyticsScope
from .suppression import suppress_rows

__all__ = [
    "WAREHOUSE_TABLES",
    "register_snapshot_views",
    "run_on_spark",
    "spark_schemas",
    "spark_sql",
    "to_spark",
    "transpile_catalog",
]

# Tables the metrics read (all exported when non-empty; empty facts must still exist as views).
WAREHOUSE_TABLES = (
    "dim_date",
    "dim_region",
    "dim_school",
    "dim_school_year",
    "dim_term",
    "dim_class",
    "dim_code",
    "dim_student",
    "fact_enrollment",
    "fact_status_change",
    "fact_status_change_step",
    "fact_student_number",
    "fact_progression",
    "fact_attendance",
    "fact_score",
    "fact_evaluation",
    "fact_graduation",
    "agg_enrollment",
    "agg_class_size",
    "agg_status_change",
    "agg_student_number",
    "agg_progression",
    "agg_enrollment_end",
    "agg_class_size_band",
    "agg_data_quality",
    "agg_enrollment_ethnicity",
    "agg_evaluation",
    "agg_attendance",
    "agg_score",
    "agg_score_band",
    "meta_manifest",
)


def to_spark(sql: str) -> str:
    """DuckDB SQL → Spark SQL; raises sqlglot errors for anything it cannot express."""
    out = sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE)
    if len(out) != 1:
        raise ValueError("a metric must be exactly one statement")
    return out[0]


def spark_sql(name: str) -> str:
    """A catalog metric's SQL in Spark's dialect."""
    return to_spark(get_metric(name).sql)


def transpile_catalog() -> dict[str, str]:
    """Every metric in Spark SQL, by name."""
    return {name: to_spark(metric.sql) for name, metric in load_catalog().items()}


_SPARK_TYPES = {
    "VARCHAR": "STRING",
    "BOOLEAN": "BOOLEAN",
    "TINYINT": "TINYINT",
    "SMALLINT": "SMALLINT",
    "INTEGER": "INT",
    "BIGINT": "BIGINT",
    "DOUBLE": "DOUBLE",
    "FLOAT": "FLOAT",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
}


def spark_schemas(cursor: Any, tables: Iterable[str] = WAREHOUSE_TABLES) -> dict[str, str]:
    """Spark DDL schemas ("student_key STRING, …") of warehouse tables, read from a DuckDB
    snapshot cursor: for empty views of the facts the Parquet export leaves out (it skips empty
    tables)."""
    wanted = list(tables)
    rows = cursor.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = 'main' ORDER BY table_name, column_index"
    ).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column, dtype in rows:
        if table in wanted:
            spark_type = _SPARK_TYPES.get(str(dtype).upper(), "STRING")
            columns.setdefault(table, []).append(f"{column} {spark_type}")
    return {table: ", ".join(cols) for table, cols in columns.items()}


def register_snapshot_views(
    spark: Any,
    parquet_root: str,
    snapshot: str,
    tables: Iterable[str] = WAREHOUSE_TABLES,
    *,
    empty_schemas: Mapping[str, str] | None = None,
) -> list[str]:
    """Temp views named like the warehouse tables, each the `snapshot=` partition of
    `<parquet_root>/<table>` (every province partition under it). A table absent from the
    export (an empty fact) becomes an empty view when `empty_schemas` (see spark_schemas) has
    its schema, else it is skipped. Returns the views created."""
    created = []
    for table in tables:
        path = f"{parquet_root.rstrip('/')}/{table}"
        try:
            frame = spark.read.parquet(path)
        except Exception:  # noqa: BLE001 - Spark raises AnalysisException for a missing path
            if empty_schemas and table in empty_schemas:
                spark.createDataFrame([], empty_schemas[table]).createOrReplaceTempView(table)
                created.append(table)
            continue
        frame.where(frame["snapshot"] == snapshot).createOrReplaceTempView(table)
        created.append(table)
    return created


def run_on_spark(
    spark: Any,
    name: str,
    scope: AnalyticsScope,
    params: Mapping[str, object] | None = None,
    *,
    snapshot: str,
    as_of: str,
) -> MetricResult:
    """Run a metric on Spark (views from register_snapshot_views), with the same parameter
    checks, scope binding and suppression as on DuckDB. A school filter is not looked up
    (region and school filters both stay in the SQL, so a school outside the region matches
    nothing)."""
    metric = get_metric(name)
    values = P.validate(metric.name, metric.params, params)
    region, school = values.get("region"), values.get("school")
    if (region is not None and not isinstance(region, str)) or (
        school is not None and not isinstance(school, str)
    ):
        raise BadParameter("region and school must be strings")
    effective = scope.narrow(region, school)
    frame = spark.sql(to_spark(metric.sql), args=bindings(metric, values, effective))
    columns = list(frame.columns)
    raw = [tuple(row) for row in frame.collect()]
    rows, changed = suppress_rows(
        columns, raw, metric.suppress, metric.withhold, metric.withhold_groups
    )
    return MetricResult(metric.name, columns, rows, snapshot, as_of, changed)
