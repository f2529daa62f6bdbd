"""Parquet export for scale-out (ARCHITECTURE "Scale"): every non-empty table of a checked
snapshot, hive-partitioned by snapshot and, for province-owned data, by province:

    <warehouse>/parquet/<table>/snapshot=<id>/province=<pp>/part-0.parquet
    <warehouse>/parquet/<table>/snapshot=<id>/part-0.parquet      (shared reference tables)

One directory per table, so Spark, Trino or DuckDB read a table with partition discovery:
`spark.read.parquet(".../parquet/fact_enrollment")` gives the columns plus `snapshot` and
`province`. Files are first written under `.snapshot=<id>.tmp` (hidden from Spark and from
the globs below) and renamed into place just before CURRENT moves, so a reader of the
Parquet tree never sees a partial snapshot either.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from . import _duck, schema

# Column that gives the province partition of each province-owned table.
PROVINCE_COLUMN = {
    "dim_region": "province_code",
    "dim_school": "province_code",
    "dim_class": "province_code",
    "dim_student": "current_province_code",
}
UNKNOWN_PROVINCE = "00"


def province_column(table: schema.Table) -> str | None:
    if table.name in PROVINCE_COLUMN:
        return PROVINCE_COLUMN[table.name]
    if "province_code" in table.column_names and not table.name.startswith("meta_"):
        return "province_code"
    return None


def _lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_parquet(
    con: duckdb.DuckDBPyConnection, catalog: str, root: Path, snapshot_id: str
) -> dict[str, Path]:
    """Write every non-empty table of `catalog` to <root>/parquet/<table>/.snapshot=<id>.tmp;
    return {table: tmp dir}. publish_parquet() renames them into place."""
    written: dict[str, Path] = {}
    for table in schema.tables().values():
        if not _duck.count(con, f"SELECT COUNT(*) FROM {catalog}.{table.name}"):
            continue
        tmp = root / "parquet" / table.name / f".snapshot={snapshot_id}.tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        column = province_column(table)
        select = _select_list(table)
        if column:
            con.execute(
                f"COPY (SELECT {select}, coalesce(\"{column}\", '{UNKNOWN_PROVINCE}') AS province "
                f"FROM {catalog}.{table.name}) TO {_lit(tmp)} (FORMAT parquet, "
                f"COMPRESSION zstd, PARTITION_BY (province), FILENAME_PATTERN 'part-{{i}}', "
                f"OVERWRITE_OR_IGNORE true)"
            )
        else:
            con.execute(
                f"COPY (SELECT {select} FROM {catalog}.{table.name}) "
                f"TO {_lit(tmp / 'part-0.parquet')} "
                f"(FORMAT parquet, COMPRESSION zstd)"
            )
        written[table.name] = tmp
    return written


def _select_list(table: schema.Table) -> str:
    """The table's columns, UUID keys as their 36-character text: Parquet's UUID logical type
    is not read by every engine (Spark 3 refuses it), a string is."""
    return ", ".join(
        f'CAST("{c.name}" AS VARCHAR) AS "{c.name}"' if c.type == "UUID" else f'"{c.name}"'
        for c in table.columns
    )


def publish_parquet(written: dict[str, Path], snapshot_id: str) -> None:
    for tmp in written.values():
        os.replace(tmp, tmp.with_name(f"snapshot={snapshot_id}"))


def discard_parquet(written: dict[str, Path]) -> None:
    import shutil

    for tmp in written.values():
        shutil.rmtree(tmp, ignore_errors=True)


def read_sql(root: Path, table: str) -> str:
    """A DuckDB FROM-clause reading one exported table with its partitions as columns."""
    base = root / "parquet" / table
    return f"read_parquet({_lit(base / '**' / '*.parquet')}, hive_partitioning = true)"
