"""Running metrics on the published warehouse through `etl.store.SnapshotStore` (the reader
API of the ETL; the only thing analytics takes from `etl`).

    wh = Warehouse("/srv/xueji/warehouse", config={"threads": 2, "memory_limit": "2GB"})
    wh.current_snapshot()                       # for cache keys, before running
    result = wh.run("enrollment_by_region", AnalyticsScope("64"), {"level": "county"})
    trend = wh.run_over_snapshots("key_figures", AnalyticsScope("64"))

Each run takes one new cursor from the store, reads the snapshot id and as-of time from that
very cursor (so the label always matches the data, even if CURRENT moves meanwhile), runs the
metric on it and closes it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import duckdb

from etl.store import SnapshotStore

from .engine import MetricResult, SnapshotSource, run_metric, run_metric_over_snapshots
from .scope import AnalyticsScope

__all__ = ["Warehouse", "snapshot_identity"]


def snapshot_identity(cur: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """(snapshot id, as-of time as ISO 8601 UTC) from the snapshot's meta_manifest."""
    rows = cur.execute("SELECT snapshot_id, as_of FROM meta_manifest").fetchall()
    if not rows:
        return "", ""
    sid, as_of = rows[0]
    if isinstance(as_of, datetime):
        as_of_text = as_of.replace(microsecond=0).isoformat() + "Z"
    else:
        as_of_text = str(as_of)
    return str(sid), as_of_text


class Warehouse:
    """Metrics on the current snapshot of a warehouse folder (or of a given store)."""

    def __init__(
        self,
        root: str | os.PathLike[str] | SnapshotStore,
        config: dict[str, Any] | None = None,
    ) -> None:
        self.store = root if isinstance(root, SnapshotStore) else SnapshotStore(root, config)

    def current_snapshot(self) -> str | None:
        """Id of the current snapshot (the cache key component), or None."""
        return self.store.current_id()

    def run(
        self,
        name: str,
        scope: AnalyticsScope,
        params: Mapping[str, object] | None = None,
    ) -> MetricResult:
        cur = self.store.cursor()
        try:
            sid, as_of = snapshot_identity(cur)
            return run_metric(
                name, scope, params, cursor_factory=lambda: cur, snapshot=sid, as_of=as_of
            )
        finally:
            cur.close()

    def run_over_snapshots(
        self,
        name: str,
        scope: AnalyticsScope,
        params: Mapping[str, object] | None = None,
        *,
        last: int | None = None,
    ) -> MetricResult:
        """The metric on every kept snapshot (or the `last` n), oldest first, stacked with
        leading snapshot and as_of columns: trends across ETL runs."""
        names = self.store.snapshots()
        if last is not None:
            names = names[-last:] if last > 0 else []
        conns: list[duckdb.DuckDBPyConnection] = []
        try:
            sources = []
            for file in names:
                conn = self.store.open(file)
                conns.append(conn)
                cur = conn.cursor()
                try:
                    sid, as_of = snapshot_identity(cur)
                finally:
                    cur.close()
                sources.append(SnapshotSource(sid, as_of, conn.cursor))
            return run_metric_over_snapshots(name, scope, params, snapshots=sources)
        finally:
            for conn in conns:
                conn.close()
