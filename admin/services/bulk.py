"""Bulk row writers for the synthetic-data generator: PostgreSQL COPY, SQLite executemany,
and plain COPY-format files (the benchmark's raw-COPY baseline). All writes of one run share
one transaction, so a failed seed leaves the database as it was."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

Row = tuple[Any, ...]


class RowSink(Protocol):
    def write(self, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class PostgresCopySink:
    """Streams rows with COPY … FROM STDIN on one psycopg connection."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection  # a psycopg (3) connection, not in autocommit
        self.tables: set[str] = set()

    def write(self, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
        if not rows:
            return
        if "id" in columns:
            self.tables.add(table)
        with (
            self.connection.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def commit(self) -> None:
        # Explicit ids were written, so move each serial sequence past them.
        with self.connection.cursor() as cur:
            for table in sorted(self.tables):
                cur.execute(
                    "SELECT pg_get_serial_sequence(%s, 'id')",
                    (table,),
                )
                (sequence,) = cur.fetchone()
                if sequence:
                    cur.execute(
                        f"SELECT setval(%s, (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)",
                        (sequence,),
                    )
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()


def _sqlite_value(value: Any) -> Any:
    # SQLAlchemy's SQLite dialect stores dates and datetimes as ISO text.
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


class SqliteSink:
    def __init__(self, connection: Any) -> None:
        self.connection = connection  # a sqlite3 connection
        self.connection.execute("BEGIN")

    def write(self, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
        if not rows:
            return
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        self.connection.executemany(sql, [tuple(_sqlite_value(v) for v in row) for row in rows])

    def commit(self) -> None:
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if any(c in text for c in "\\\t\n\r"):
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


class CopyFileSink:
    """Writes PostgreSQL text-format COPY files, one per table (benchmark baseline input)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.order: list[str] = []
        self.columns: dict[str, Sequence[str]] = {}
        self._files: dict[str, Any] = {}

    def write(self, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
        handle = self._files.get(table)
        if handle is None:
            handle = open(self.folder / f"{table}.copy", "w", encoding="utf-8")  # noqa: SIM115
            self._files[table] = handle
            self.order.append(table)
            self.columns[table] = columns
        handle.writelines("\t".join(_copy_text(v) for v in row) + "\n" for row in rows)

    def commit(self) -> None:
        for handle in self._files.values():
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()

    def rollback(self) -> None:
        self.commit()
