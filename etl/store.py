"""Reading the warehouse: SnapshotStore, for the analytics layer and any other reader.

    store = SnapshotStore("/srv/xueji/warehouse")
    cur = store.cursor()              # one cursor per request/thread; fetch or close it
    rows = cur.execute("SELECT …").fetchall()
    store.current_name(), store.manifest()

Each snapshot file is opened once per process, read-only, and each call gets its own cursor
(DuckDB connections refuse concurrent use, and a second execute() on a connection silently
drops the first result: STACK_NOTES §4.4). When CURRENT names a new file the next cursor()
opens that file; cursors already handed out keep reading the old one to the end, even if the
ETL has deleted it meanwhile. File names never repeat, so DuckDB's per-path instance cache never
hands back stale data (STACK_NOTES §4.3).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import duckdb

from .publish import manifest_file, published, read_current, snapshot_id_of


class NoSnapshot(LookupError):
    """The warehouse has no published snapshot yet (run `xueji etl`)."""


class SnapshotStore:
    def __init__(self, root: str | os.PathLike[str], config: dict[str, Any] | None = None) -> None:
        self.root = Path(root)
        self.config = dict(config or {})
        self._lock = threading.Lock()
        self._name: str | None = None
        self._conn: duckdb.DuckDBPyConnection | None = None

    def current_name(self) -> str | None:
        """File name of the current snapshot (wh-<id>.duckdb), or None."""
        return read_current(self.root)

    def current_id(self) -> str | None:
        name = self.current_name()
        return snapshot_id_of(name) if name else None

    def snapshots(self) -> list[str]:
        """Published snapshot names still kept, oldest first (for trends across snapshots)."""
        return published(self.root)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the current snapshot, read-only."""
        for attempt in range(3):
            name = self.current_name()
            if name is None:
                raise NoSnapshot(f"no published warehouse snapshot in {self.root}")
            with self._lock:
                if self._name == name and self._conn is not None:
                    return self._conn.cursor()
                try:
                    conn = duckdb.connect(
                        str(self.root / name), read_only=True, config=dict(self.config)
                    )
                except duckdb.IOException:
                    # CURRENT moved on and the file we read it from was pruned meanwhile.
                    if attempt == 2:
                        raise
                    continue
                # The previous connection is dropped, not closed: closing it would close the
                # cursors that other threads are still reading from.
                self._conn, self._name = conn, name
                return conn.cursor()
        raise NoSnapshot(f"no readable snapshot in {self.root}")  # pragma: no cover

    def open(self, name: str) -> duckdb.DuckDBPyConnection:
        """A separate read-only connection to a kept snapshot (trend queries); close it."""
        if name not in self.snapshots():
            raise NoSnapshot(f"{name} is not a published snapshot in {self.root}")
        return duckdb.connect(str(self.root / name), read_only=True, config=dict(self.config))

    def manifest(self, name: str | None = None) -> dict[str, Any]:
        """The manifest of the current (or the named) snapshot."""
        name = name or self.current_name()
        if name is None:
            raise NoSnapshot(f"no published warehouse snapshot in {self.root}")
        sid = snapshot_id_of(name)
        assert sid is not None
        path = self.root / manifest_file(sid)
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
        except FileNotFoundError:
            pass
        with duckdb.connect(
            str(self.root / name), read_only=True, config=dict(self.config)
        ) as conn:
            rows = conn.execute("SELECT manifest_json FROM meta_manifest").fetchall()
        if not rows:
            raise NoSnapshot(f"{name} has no manifest")
        loaded: dict[str, Any] = json.loads(rows[0][0])
        return loaded
