"""Small DuckDB helpers. DuckDB 2.0: a result left half-read blocks the connection (and a
second execute() silently drops it), so every read here fetches to the end."""

from __future__ import annotations

from typing import Any

import duckdb


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    value = scalar(con, sql)
    return int(value) if value is not None else 0
