"""Fixtures for analytics: a real warehouse built by the ETL from the session's seeded SQLite
registry (3,000 students, 3 school years; published twice for trends across snapshots), and
a copy of its snapshot with synthetic teaching-record and status-change facts."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pytest

from analytics.engine import MetricResult, run_metric
from analytics.scope import AnalyticsScope
from etl import pipeline
from etl.progress import NullProgress

from . import synthetic

KEY = "analytics-test-pseudonym-key-0123456789abcdef"

# The seeded registry is parametrized over SQLite and PostgreSQL; analytics only needs one.
SQLITE_ONLY = pytest.mark.parametrize("seeded", ["sqlite"], indirect=True)

Runner = Callable[..., MetricResult]


@pytest.fixture(scope="session")
def warehouse(seeded: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two published snapshots of the seeded registry (same data), the second current."""
    root = tmp_path_factory.mktemp("analytics-warehouse")
    url = str(seeded.config["SQLALCHEMY_DATABASE_URI"])
    first = pipeline.run(url, root, pseudonym_key=KEY, mode="full", progress=NullProgress())
    second = pipeline.run(url, root, pseudonym_key=KEY, mode="full", progress=NullProgress())
    return {
        "root": root,
        "url": url,
        "sqlite_path": url.split("///", 1)[1],
        "file": root / second.file,
        "snapshot": second.snapshot_id,
        "as_of": second.as_of,
        "first": first.snapshot_id,
    }


@pytest.fixture(scope="session")
def snapshot_conn(warehouse: dict[str, Any]) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = duckdb.connect(str(warehouse["file"]), read_only=True)
    yield conn
    conn.close()


def _runner(conn: duckdb.DuckDBPyConnection, snapshot: str) -> Runner:
    def run(
        name: str, scope: AnalyticsScope | None = None, params: Mapping[str, object] | None = None
    ) -> MetricResult:
        return run_metric(
            name,
            scope or AnalyticsScope(),
            params,
            cursor_factory=conn.cursor,
            snapshot=snapshot,
            as_of="test",
        )

    return run


@pytest.fixture(scope="session")
def run(snapshot_conn: duckdb.DuckDBPyConnection, warehouse: dict[str, Any]) -> Runner:
    """run(metric, scope=None, params=None) on the real (current) snapshot."""
    return _runner(snapshot_conn, warehouse["snapshot"])


@pytest.fixture(scope="session")
def facts_file(warehouse: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the snapshot with the synthetic facts of `synthetic.py` inserted."""
    target = tmp_path_factory.mktemp("analytics-facts") / "facts.duckdb"
    shutil.copyfile(warehouse["file"], target)
    with duckdb.connect(str(target)) as conn:
        synthetic.insert_facts(conn)
    return target


@pytest.fixture(scope="session")
def facts_conn(facts_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = duckdb.connect(str(facts_file), read_only=True)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def run_facts(facts_conn: duckdb.DuckDBPyConnection) -> Runner:
    """run(metric, scope=None, params=None) on the snapshot with synthetic facts."""
    return _runner(facts_conn, "facts")


def rows_as_dicts(result: MetricResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]
