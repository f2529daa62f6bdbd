"""Running a metric: validate the parameters, narrow the scope, bind everything as DuckDB
named parameters, run the metric SQL on one fresh cursor of the snapshot, suppress small
cells.

    from analytics.engine import run_metric
    result = run_metric("enrollment_by_region", AnalyticsScope("64"), {"stage": "junior"},
                        cursor_factory=store.cursor, snapshot=store.current_name(), as_of=…)
    result.columns, result.rows, result.suppressed_cells

`analytics.warehouse.Warehouse` wraps this for a `SnapshotStore` (snapshot name and as-of
time are then read from the very cursor the metric runs on).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from . import params as P
from .catalog import Metric, load_catalog
from .errors import BadParameter, ScopeViolation, UnknownMetric
from .scope import AnalyticsScope
from .suppression import suppress_rows

__all__ = [
    "BadParameter",
    "MetricResult",
    "ScopeViolation",
    "SnapshotSource",
    "UnknownMetric",
    "bindings",
    "default_level",
    "get_metric",
    "run_metric",
    "run_metric_over_snapshots",
    "to_dataframe",
]

CursorFactory = Callable[[], duckdb.DuckDBPyConnection]


@dataclass(frozen=True)
class MetricResult:
    metric: str
    columns: list[str]
    rows: list[tuple[Any, ...]]
    snapshot: str
    as_of: str
    suppressed_cells: int


@dataclass(frozen=True)
class SnapshotSource:
    """One snapshot to run a metric on (for trends across snapshots)."""

    snapshot: str
    as_of: str
    cursor_factory: CursorFactory


def get_metric(name: str) -> Metric:
    if not isinstance(name, str):
        raise UnknownMetric(f"unknown metric {name!r}")
    metric = load_catalog().get(name)
    if metric is None:
        raise UnknownMetric(f"unknown metric {name!r}")
    return metric


def default_level(scope: AnalyticsScope) -> str:
    """One level below the scope: national → province, province → prefecture,
    prefecture → county, county or school → school."""
    if scope.school_code is not None:
        return "school"
    return {0: "province", 2: "prefecture", 4: "county", 6: "school"}[len(scope.region_prefix)]


def _school_county(cur: duckdb.DuckDBPyConnection, school: str) -> str:
    rows = cur.execute(
        "SELECT county_code FROM dim_school WHERE school_code = $school", {"school": school}
    ).fetchall()
    if not rows:
        raise BadParameter(f"no school with code {school} in the snapshot")
    return str(rows[0][0])


def bindings(metric: Metric, values: Mapping[str, object], scope: AnalyticsScope) -> dict[str, Any]:
    """The named parameters of the metric SQL: the (narrowed) scope, the checked parameter
    values (None = the metric's default) and the default level. Only the placeholders the
    SQL uses are returned (DuckDB refuses extra ones)."""
    bound: dict[str, Any] = {
        "region_prefix": scope.region_prefix,
        "school_code": scope.school_code,
    }
    for name in metric.params:
        if P.PARAMETERS[name].bound:
            bound[name] = values.get(name)
    if "level" in metric.params and bound.get("level") is None:
        bound["level"] = default_level(scope)
    return {k: v for k, v in bound.items() if k in metric.placeholders}


def run_metric(
    name: str,
    scope: AnalyticsScope,
    params: Mapping[str, object] | None = None,
    *,
    cursor_factory: CursorFactory,
    snapshot: str,
    as_of: str,
) -> MetricResult:
    """Run one metric for a caller's scope. Raises UnknownMetric, BadParameter (unknown
    parameter or malformed value; nothing is run) or ScopeViolation (a region/school filter
    outside the scope)."""
    metric = get_metric(name)
    if not isinstance(scope, AnalyticsScope):
        raise BadParameter("scope must be an AnalyticsScope")
    values = P.validate(metric.name, metric.params, params)
    region = values.get("region")
    school = values.get("school")
    assert region is None or isinstance(region, str)
    assert school is None or isinstance(school, str)
    # Everything that can be checked without the warehouse is checked before a cursor opens.
    effective = scope.narrow(region, school)
    cur = cursor_factory()
    try:
        if school is not None and scope.school_code is None:
            effective = scope.narrow(region, school, school_county=_school_county(cur, school))
        cur.execute(metric.sql, bindings(metric, values, effective))
        columns = [d[0] for d in (cur.description or [])]
        raw = cur.fetchall()
    finally:
        cur.close()
    rows, changed = suppress_rows(
        columns, raw, metric.suppress, metric.withhold, metric.withhold_groups
    )
    return MetricResult(
        metric=metric.name,
        columns=columns,
        rows=rows,
        snapshot=snapshot,
        as_of=as_of,
        suppressed_cells=changed,
    )


def run_metric_over_snapshots(
    name: str,
    scope: AnalyticsScope,
    params: Mapping[str, object] | None = None,
    *,
    snapshots: Sequence[SnapshotSource],
) -> MetricResult:
    """The same metric on several snapshots (oldest first), stacked, with leading `snapshot`
    and `as_of` columns: a trend across ETL runs. The result's snapshot/as_of are the last
    one's."""
    if not snapshots:
        raise BadParameter("no snapshot to run on")
    columns: list[str] = []
    rows: list[tuple[Any, ...]] = []
    suppressed = 0
    for source in snapshots:
        part = run_metric(
            name,
            scope,
            params,
            cursor_factory=source.cursor_factory,
            snapshot=source.snapshot,
            as_of=source.as_of,
        )
        columns = ["snapshot", "as_of", *part.columns]
        rows.extend((source.snapshot, source.as_of, *row) for row in part.rows)
        suppressed += part.suppressed_cells
    last = snapshots[-1]
    return MetricResult(
        metric=get_metric(name).name,
        columns=columns,
        rows=rows,
        snapshot=last.snapshot,
        as_of=last.as_of,
        suppressed_cells=suppressed,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_dataframe(result: MetricResult) -> list[dict[str, Any]]:
    """The rows as plain dicts (column → value) for the UI: dates as ISO strings, decimals
    as floats, "<5" and None kept."""
    return [{c: _plain(v) for c, v in zip(result.columns, row, strict=True)} for row in result.rows]
