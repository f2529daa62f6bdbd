"""Metric definitions over the warehouse: one SQL file per metric (`metrics/`), a catalog
parsed from their headers, scoping by region and school, small-cell suppression, and engines
(DuckDB on the published snapshot; Spark over the Parquet export). See README.md.

    from analytics import AnalyticsScope, load_catalog
    from analytics.warehouse import Warehouse
    Warehouse(root).run("enrollment_by_region", AnalyticsScope("64"), {"level": "county"})
"""

from .catalog import Metric, load_catalog
from .engine import MetricResult, run_metric, to_dataframe
from .errors import BadParameter, ScopeViolation, UnknownMetric
from .scope import AnalyticsScope

__all__ = [
    "AnalyticsScope",
    "BadParameter",
    "Metric",
    "MetricResult",
    "ScopeViolation",
    "UnknownMetric",
    "load_catalog",
    "run_metric",
    "to_dataframe",
]
