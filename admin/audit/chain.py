"""The hash chain under audit_log: canonical form of an entry, its SHA-256, and the one place
that appends entries (under a lock, reading the tail inside the writing transaction).

entry_hash = SHA-256 of the sorted-key, compact JSON of the entry's fields (id included) and
its prev_hash; prev_hash = entry_hash of the entry before it in id order (GENESIS for the
first). Ids are allocated under the lock, so id order is chain order. See README.md for what
the chain does and does not prove."""

from __future__ import annotations

import enum
import hashlib
import json
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, text

from ..models import AuditLog

GENESIS = "0" * 64
# pg_advisory_xact_lock key serialising audit writers on PostgreSQL ("XUEJIAUD" in hex-ish).
LOCK_KEY = 0x5855_4A49_4155_44
# Fields covered by entry_hash, in the order they are documented (the JSON sorts them anyway).
HASHED_FIELDS = (
    "id",
    "at",
    "user_id",
    "username",
    "address",
    "action",
    "table_name",
    "row_pk",
    "student_id",
    "school_id",
    "region_code",
    "changes",
    "reason",
    "prev_hash",
)
_LENGTHS = {
    "username": 64,
    "address": 64,
    "action": 16,
    "table_name": 64,
    "row_pk": 64,
    "region_code": 6,
}
_TAIL_SQL = "SELECT entry_hash FROM audit_log WHERE entry_hash IS NOT NULL ORDER BY id DESC LIMIT 1"


class AuditChainError(RuntimeError):
    """The audit log cannot be appended to safely (the change is refused with it)."""


# --- values ------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """A JSON-native copy of a column value: dates as ISO strings, Decimals and UUIDs as
    strings, bytes as a size note, non-finite floats as strings."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def _at_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    return str(value)


def canonical(entry: Mapping[str, Any]) -> bytes:
    """The bytes entry_hash is computed over."""
    payload = {name: entry.get(name) for name in HASHED_FIELDS}
    payload["at"] = _at_text(payload["at"])
    return json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def compute_hash(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def normalize(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The row exactly as it will read back from either database, so that the hash computed
    now is the hash verify recomputes later."""
    row: dict[str, Any] = {name: entry.get(name) for name in HASHED_FIELDS if name != "id"}
    at = row["at"]
    if isinstance(at, datetime) and at.tzinfo is not None:
        raise AuditChainError("audit timestamps are naive UTC")
    for name in ("user_id", "student_id", "school_id"):
        if row[name] is not None:
            row[name] = int(row[name])
    for name, limit in _LENGTHS.items():
        if row[name] is not None:
            row[name] = str(row[name])[:limit]
    if row["reason"] is not None:
        row["reason"] = str(row["reason"])
    row["changes"] = json.loads(json.dumps(jsonable(row["changes"] or {}), allow_nan=False))
    return row


def link(rows: Sequence[dict[str, Any]], ids: Iterable[int], prev_hash: str) -> str:
    """Give each row its id, prev_hash and entry_hash, in order; return the new tail hash."""
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
        row["prev_hash"] = prev_hash
        row["entry_hash"] = prev_hash = compute_hash(row)
    return prev_hash


# --- appending through SQLAlchemy --------------------------------------------------------------


def lock(connection: Connection) -> None:
    """Serialise audit writers for the rest of this transaction (PostgreSQL), or make sure
    this SQLite transaction already holds the write lock before the tail is read."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        isolation = connection.execute(
            text("SELECT pg_advisory_xact_lock(:key), current_setting('transaction_isolation')"),
            {"key": LOCK_KEY},
        ).one()[1]
        if isolation != "read committed":
            raise AuditChainError(
                f"audited writes need READ COMMITTED isolation, not {isolation}: a snapshot "
                "taken before the audit lock would read a stale chain tail and fork it"
            )
    elif dialect == "sqlite":
        # A write statement (even one that matches nothing) opens the write transaction, so
        # no other writer can append between reading the tail and inserting.
        connection.execute(text("UPDATE audit_log SET id = id WHERE 1 = 0"))


def append(connection: Connection, entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Append entries to the chain in the connection's current transaction."""
    if not entries:
        return []
    rows = [normalize(e) for e in entries]
    lock(connection)
    if connection.dialect.name == "postgresql":
        ids = sorted(
            connection.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence('audit_log', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": len(rows)},
            ).scalars()
        )
    else:
        last = connection.execute(text("SELECT COALESCE(MAX(id), 0) FROM audit_log")).scalar_one()
        ids = list(range(last + 1, last + 1 + len(rows)))
    tail = connection.execute(text(_TAIL_SQL)).scalar()
    link(rows, ids, tail or GENESIS)
    connection.execute(insert(AuditLog.__table__), rows)
    return rows


# --- appending through a raw DB-API connection (psycopg 3 or sqlite3) --------------------------

_COLUMNS = (*HASHED_FIELDS, "entry_hash")


def _dbapi_flavor(raw: Any) -> str:
    module = type(raw).__module__
    if module.startswith("sqlite3"):
        return "sqlite"
    if module.startswith("psycopg"):
        return "postgresql"
    raise TypeError(f"record_batch: unsupported connection {type(raw).__qualname__}")


def append_dbapi(raw: Any, entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Same as append(), on a psycopg 3 or sqlite3 connection inside its open transaction
    (e.g. the seed's COPY connection), so the entry commits or rolls back with the batch."""
    if not entries:
        return []
    flavor = _dbapi_flavor(raw)
    rows = [normalize(e) for e in entries]
    cur = raw.cursor()
    try:
        if flavor == "postgresql":
            cur.execute(
                "SELECT pg_advisory_xact_lock(%s), current_setting('transaction_isolation')",
                (LOCK_KEY,),
            )
            isolation = cur.fetchone()[1]
            if isolation != "read committed":
                raise AuditChainError(f"audited writes need READ COMMITTED, not {isolation}")
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence('audit_log', 'id')) "
                "FROM generate_series(1, %s)",
                (len(rows),),
            )
            ids = sorted(r[0] for r in cur.fetchall())
            mark = "%s"
        else:
            if not raw.in_transaction:
                cur.execute("BEGIN")
            cur.execute("UPDATE audit_log SET id = id WHERE 1 = 0")
            cur.execute("SELECT COALESCE(MAX(id), 0) FROM audit_log")
            last = cur.fetchone()[0]
            ids = list(range(last + 1, last + 1 + len(rows)))
            mark = "?"
        cur.execute(_TAIL_SQL)
        found = cur.fetchone()
        link(rows, ids, found[0] if found else GENESIS)
        marks = ", ".join(
            f"CAST({mark} AS json)" if c == "changes" and flavor == "postgresql" else mark
            for c in _COLUMNS
        )
        sql = f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) VALUES ({marks})"
        cur.executemany(sql, [tuple(_dbapi_value(flavor, c, r[c]) for c in _COLUMNS) for r in rows])
    finally:
        cur.close()
    return rows


def _dbapi_value(flavor: str, column: str, value: Any) -> Any:
    if column == "changes":
        return json.dumps(value)
    if column == "at" and flavor == "sqlite" and isinstance(value, datetime):
        # SQLAlchemy's SQLite DateTime storage format.
        return value.isoformat(sep=" ", timespec="microseconds")
    return value
