"""Extraction: read the operational database in one consistent transaction and stage the
columns the warehouse needs in an in-memory DuckDB (never in the published file).

What is read is declared here, column by column (`SOURCE_TABLES`): only coarse columns of
people, never names, ID numbers, 学籍号, addresses, phones or free text. The privacy check
asks the source which of the finished snapshot's values equal a personal value
(`SENSITIVE_COLUMNS`, `find_personal`), so personal values never leave the source at all.

Drivers:
- PostgreSQL, primary: ADBC (adbc-driver-postgresql) streams Arrow into DuckDB without
  materialising (`cursor.fetch_arrow()`, an Arrow PyCapsule stream; no pyarrow needed).
  NUMERIC columns are cast to float8 in the SELECT (ADBC returns NUMERIC as strings).
- PostgreSQL, fallback: psycopg `COPY (SELECT …) TO STDOUT (FORMAT csv)` into a temporary file
  read by DuckDB's `read_csv` with explicit column types.
- SQLite: the standard library's sqlite3 (DuckDB's sqlite extension cannot be downloaded here),
  written to a temporary CSV and read the same way.
All reads of one run happen in one REPEATABLE READ, READ ONLY transaction (PostgreSQL) or one
read transaction (SQLite), so counts and rows describe the same instant.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import sqlite3
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb

from . import _duck
from .errors import SourceError

NULL_MARK = r"\N"


@dataclass(frozen=True)
class Col:
    """A staged column: its name in staging, DuckDB type, and the portable source expression
    (SQLite and PostgreSQL both accept it; default: the column of the same name)."""

    name: str
    type: str
    expr: str | None = None


@dataclass(frozen=True)
class Incremental:
    """How an append-only fact is extracted incrementally: rows above the high-water mark of
    `id`, plus rows matching `reopen` (not yet final, or changed since the last run), plus every
    row sharing `group` with those (so per-group derivations such as waiting times are whole)."""

    reopen: str | None = None  # SQL condition; {since} is replaced by a timestamp literal
    group: str | None = None


@dataclass(frozen=True)
class SourceTable:
    name: str
    columns: tuple[Col, ...]
    required: bool = True  # False: a table of a later issue; skipped while absent
    incremental: Incremental | None = None
    order_by: str = "id"
    # Tables joined to this one for computed columns or the filter ("LEFT JOIN other o ON …");
    # its own columns are then read qualified with its name.
    joins: str = ""
    # Only these rows are read (a condition, with `joins`): the rest never reach the warehouse.
    filter: str = ""

    def column(self, name: str) -> str:
        return f"{self.name}.{name}" if self.joins else name


def _c(spec: str) -> tuple[Col, ...]:
    """'name:TYPE name2:TYPE …' shorthand."""
    out = []
    for item in spec.split():
        name, type_ = item.split(":")
        out.append(Col(name, type_))
    return tuple(out)


# A grade is final when its class evaluation is finalized, or publicized with the period over.
_FINAL_JOIN = "LEFT JOIN term_evaluation te ON te.id = evaluation.term_evaluation_id"
_FINAL = (
    "coalesce(te.state = 'final' OR (te.state = 'publicized' AND te.publicity_end < CURRENT_DATE)"
    ", false)"
)

SOURCE_TABLES: tuple[SourceTable, ...] = (
    SourceTable(
        "region",
        _c(
            "code:VARCHAR name:VARCHAR level:INTEGER parent_code:VARCHAR "
            "province_code:VARCHAR valid_from:DATE valid_to:DATE"
        ),
        order_by="code",
    ),
    SourceTable(
        "school",
        _c(
            "id:INTEGER code:VARCHAR name:VARCHAR kind:VARCHAR primary_years:INTEGER "
            "region_code:VARCHAR urban_rural:VARCHAR is_active:BOOLEAN"
        ),
    ),
    SourceTable("school_year", _c("id:INTEGER code:VARCHAR start_date:DATE end_date:DATE")),
    SourceTable(
        "term", _c("id:INTEGER school_year_id:INTEGER number:INTEGER start_date:DATE end_date:DATE")
    ),
    SourceTable(
        "school_class",
        _c("id:INTEGER school_id:INTEGER school_year_id:INTEGER grade_code:VARCHAR number:INTEGER"),
    ),
    SourceTable(
        "code_set",
        _c("code_set:VARCHAR name_zh:VARCHAR name_en:VARCHAR standard:VARCHAR"),
        order_by="code_set",
    ),
    SourceTable(
        "code_item",
        _c(
            "code_set:VARCHAR code:VARCHAR name_zh:VARCHAR name_en:VARCHAR parent_code:VARCHAR "
            "std_code:VARCHAR valid_from:DATE valid_to:DATE sort_order:INTEGER"
        ),
    ),
    SourceTable(
        "student",
        _c(
            "id:INTEGER student_number_kind:VARCHAR sex:VARCHAR birth_date:DATE "
            "ethnicity:VARCHAR id_doc_type:VARCHAR hukou_region_code:VARCHAR hukou_type:VARCHAR "
            "only_child:BOOLEAN preschool:BOOLEAN left_behind:VARCHAR migrant_child:BOOLEAN "
            "inclusive_education:VARCHAR disability:VARCHAR needs_aid:BOOLEAN "
            "boarding_subsidy:BOOLEAN current_status:VARCHAR current_school_id:INTEGER "
            "current_grade_code:VARCHAR"
        )
        # Only whether an ID number exists, never the number.
        + (Col("has_id_number", "BOOLEAN", "(id_number IS NOT NULL AND id_number <> '')"),),
    ),
    SourceTable(
        "enrollment",
        _c(
            "id:INTEGER student_id:INTEGER school_id:INTEGER school_year_id:INTEGER "
            "class_id:INTEGER grade_code:VARCHAR entry_date:DATE admission_method:VARCHAR "
            "study_mode:VARCHAR student_source:VARCHAR is_active:BOOLEAN ended_on:DATE "
            "end_reason:VARCHAR"
        ),
    ),
    SourceTable(
        "status_change_request",
        _c(
            "id:INTEGER student_id:INTEGER change_type:VARCHAR reason_code:VARCHAR "
            "state:VARCHAR scope:VARCHAR from_school_id:INTEGER to_school_id:INTEGER "
            "to_grade_code:VARCHAR effective_date:DATE end_date:DATE current_step_seq:INTEGER "
            "created_at:TIMESTAMP submitted_at:TIMESTAMP closed_at:TIMESTAMP"
        ),
    ),
    SourceTable(
        "status_change_step",
        _c(
            "id:INTEGER request_id:INTEGER seq:INTEGER unit_kind:VARCHAR school_id:INTEGER "
            "region_code:VARCHAR state:VARCHAR due_date:DATE acted_at:TIMESTAMP "
            "decision:VARCHAR"
        ),
        incremental=Incremental(
            reopen="state NOT IN ('approved', 'rejected', 'skipped') OR acted_at >= {since}",
            group="request_id",
        ),
    ),
    SourceTable(
        "student_number_history",
        _c(
            "id:INTEGER student_id:INTEGER kind:VARCHAR issued_at:TIMESTAMP superseded_at:TIMESTAMP"
        ),
    ),
    # --- tables of later issues (teaching records, graduation): the contract the warehouse
    # expects; absent tables are skipped and their facts stay empty (etl/README.md).
    SourceTable(
        "attendance",
        _c(
            "id:INTEGER student_id:INTEGER class_id:INTEGER school_id:INTEGER date:DATE "
            "kind:VARCHAR periods:INTEGER days:DOUBLE"
        ),
        required=False,
        incremental=Incremental(),
    ),
    SourceTable(
        "exam",
        _c(
            "id:INTEGER school_id:INTEGER term_id:INTEGER grade_code:VARCHAR kind:VARCHAR "
            "exam_date:DATE"
        ),
        required=False,
    ),
    SourceTable(
        "score",
        _c(
            "id:INTEGER exam_id:INTEGER student_id:INTEGER subject_code:VARCHAR score:DOUBLE "
            "full_mark:DOUBLE level:VARCHAR absent:BOOLEAN"
        ),
        required=False,
        incremental=Incremental(),
    ),
    SourceTable(
        "evaluation",
        _c(
            "id:INTEGER student_id:INTEGER school_id:INTEGER school_year_id:INTEGER "
            "term_id:INTEGER dimension:VARCHAR level:VARCHAR"
        ),
        required=False,
        # Only grades that are final count (a join: an EXISTS per row took twice as long).
        joins=_FINAL_JOIN,
        filter=_FINAL,
    ),
    SourceTable(
        "graduation",
        _c(
            "id:INTEGER student_id:INTEGER school_id:INTEGER school_year_id:INTEGER "
            "stage:VARCHAR outcome:VARCHAR destination:VARCHAR graduated_on:DATE "
            "state:VARCHAR"
        ),
        required=False,
    ),
    SourceTable(
        "diploma",
        _c("id:INTEGER graduation_id:INTEGER issued_at:TIMESTAMP revoked_at:TIMESTAMP"),
        required=False,
    ),
)
SOURCE_BY_NAME = {t.name: t for t in SOURCE_TABLES}

# Personal values the privacy check looks for in the finished snapshot. They are never read:
# the check sends the snapshot's distinct values to the source, which answers which of them equal
# (spaces trimmed) a value of these columns. kind 'name' is also searched inside longer values.
SENSITIVE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("student", "name", "name"),
    ("student", "former_name", "name"),
    ("student", "name_pinyin", "name"),
    ("guardian", "name", "name"),
    ("student", "student_number", "student_number"),
    ("student_number_history", "number", "student_number"),
    ("student", "aux_number", "student_number"),
    ("student", "id_number", "id_number"),
    ("student_id_document", "number", "id_number"),
    ("guardian", "id_number", "id_number"),
    ("student", "phone", "phone"),
    ("guardian", "phone", "phone"),
    ("student", "email", "email"),
    ("student", "current_address", "address"),
    ("student", "mailing_address", "address"),
    ("student", "home_address", "address"),
    ("guardian", "address", "address"),
)

# Source-side counts the warehouse reconciles with (same transaction as the extraction).
RECONCILE_COUNTS: dict[str, tuple[str, str]] = {
    # warehouse table: (source table, SQL)
    "dim_region": (
        "region",
        "SELECT COUNT(*) FROM region r WHERE r.level = 3 OR (r.level = 2 AND ("
        "NOT EXISTS (SELECT 1 FROM region c WHERE c.parent_code = r.code AND c.level = 3) "
        "OR EXISTS (SELECT 1 FROM school s WHERE s.region_code = r.code)))",
    ),
    "dim_school": ("school", "SELECT COUNT(*) FROM school"),
    "dim_school_year": ("school_year", "SELECT COUNT(*) FROM school_year"),
    "dim_term": ("term", "SELECT COUNT(*) FROM term"),
    "dim_class": ("school_class", "SELECT COUNT(*) FROM school_class"),
    "dim_code_set": ("code_set", "SELECT COUNT(*) FROM code_set"),
    "dim_code": ("code_item", "SELECT COUNT(*) FROM code_item"),
    "dim_student": ("student", "SELECT COUNT(*) FROM student"),
    "fact_enrollment": ("enrollment", "SELECT COUNT(*) FROM enrollment"),
    "fact_status_change": ("status_change_request", "SELECT COUNT(*) FROM status_change_request"),
    "fact_status_change_step": ("status_change_step", "SELECT COUNT(*) FROM status_change_step"),
    "fact_student_number": (
        "student_number_history",
        "SELECT COUNT(*) FROM student_number_history",
    ),
    "fact_attendance": ("attendance", "SELECT COUNT(*) FROM attendance"),
    "fact_score": ("score", "SELECT COUNT(*) FROM score"),
    "fact_evaluation": (
        "evaluation",
        f"SELECT COUNT(*) FROM evaluation {_FINAL_JOIN} WHERE {_FINAL}",
    ),
    "fact_graduation": ("graduation", "SELECT COUNT(*) FROM graduation WHERE state = 'approved'"),
}

# An independent aggregate of the source: active enrollments per school year, county of the
# school and grade (checked against agg_enrollment and fact_enrollment).
ENROLLMENT_BY_COUNTY_GRADE = (
    "SELECT e.school_year_id AS school_year_id, s.region_code AS county_code, "
    "e.grade_code AS grade_code, COUNT(*) AS students "
    "FROM enrollment e JOIN school s ON s.id = e.school_id "
    "WHERE e.is_active GROUP BY e.school_year_id, s.region_code, e.grade_code"
)
ENROLLMENT_BY_COUNTY_GRADE_TYPES = (
    ("school_year_id", "INTEGER"),
    ("county_code", "VARCHAR"),
    ("grade_code", "VARCHAR"),
    ("students", "BIGINT"),
)


# --------------------------------------------------------------------------- source URLs
@dataclass(frozen=True)
class SourceUrl:
    kind: str  # sqlite | postgresql
    path: str | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    database: str | None = None
    query: dict[str, str] = field(default_factory=dict)

    @property
    def redacted(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.path}"
        # No user or password: the description is stored in the snapshot and in logs.
        port = f":{self.port}" if self.port else ""
        return f"postgresql://{self.host or ''}{port}/{self.database or ''}"

    def libpq_uri(self, connect_timeout: int) -> str:
        auth = ""
        if self.user:
            auth = urllib.parse.quote(self.user, safe="")
            if self.password:
                auth += ":" + urllib.parse.quote(self.password, safe="")
            auth += "@"
        host = self.host or "localhost"
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        port = f":{self.port}" if self.port else ""
        params = {k: v for k, v in self.query.items() if k not in ("driver",)}
        params.setdefault("connect_timeout", str(connect_timeout))
        params.setdefault("application_name", "xueji-etl")
        query = urllib.parse.urlencode(params)
        db = urllib.parse.quote(self.database or "", safe="")
        return f"postgresql://{auth}{host}{port}/{db}?{query}"


def parse_source_url(url: str) -> SourceUrl:
    """Accepts the SQLAlchemy URLs of XUEJI_DATABASE_URL (sqlite:///…, postgresql[+driver]://…)."""
    from .errors import ConfigError

    if not url:
        raise ConfigError("no source database URL (set XUEJI_DATABASE_URL or pass --source)")
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0].lower()
    if scheme == "sqlite":
        raw = url.split("://", 1)[1] if "://" in url else ""
        path = raw[1:] if raw.startswith("/") else raw
        path = path.split("?", 1)[0]
        if not path or path == ":memory:":
            raise ConfigError("an in-memory SQLite database cannot be a warehouse source")
        return SourceUrl("sqlite", path=str(Path(urllib.parse.unquote(path)).resolve()))
    if scheme in ("postgresql", "postgres"):
        query = dict(urllib.parse.parse_qsl(parts.query))
        return SourceUrl(
            "postgresql",
            host=parts.hostname or query.pop("host", None),
            port=parts.port,
            user=urllib.parse.unquote(parts.username) if parts.username else None,
            password=urllib.parse.unquote(parts.password) if parts.password else None,
            database=urllib.parse.unquote(parts.path.lstrip("/")) or None,
            query=query,
        )
    raise ConfigError(
        f"unsupported source database {parts.scheme or url!r}: use sqlite:/// or postgresql://"
    )


# --------------------------------------------------------------------------- sources
class Source(Protocol):
    kind: str
    description: str
    driver: str

    def begin(self) -> None: ...
    def as_of(self) -> datetime: ...
    def identity(self) -> str: ...
    def table_columns(self, table: str) -> set[str] | None: ...
    def count(self, sql: str) -> int: ...
    def load(
        self,
        con: duckdb.DuckDBPyConnection,
        target: str,
        select_sql: str,
        types: tuple[tuple[str, str], ...],
    ) -> int: ...
    def feed(
        self,
        con: duckdb.DuckDBPyConnection,
        select_sql: str,
        types: tuple[tuple[str, str], ...],
    ) -> AbstractContextManager[str]: ...
    def name_lengths(self, minimum: int) -> list[int]: ...
    def find_personal(self, values: list[str]) -> list[tuple[str, str]]: ...
    def select_list(self, table: SourceTable) -> str: ...
    def timestamp_literal(self, value: datetime) -> str: ...
    def close(self) -> None: ...


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    for prefix in ("IO: ", "[libpq] "):
        text = text.replace(prefix, "")
    return text.splitlines()[0].strip()


def _read_csv_sql(path: Path, types: tuple[tuple[str, str], ...]) -> str:
    columns = "{" + ", ".join(f"'{n}': '{t}'" for n, t in types) + "}"
    p = str(path).replace("'", "''")
    return (
        f"SELECT * FROM read_csv('{p}', header = false, auto_detect = false, "
        f"columns = {columns}, delim = ',', quote = '\"', escape = '\"', "
        f"nullstr = '{NULL_MARK}', allow_quoted_nulls = false)"
    )


def _cast_select(source: str, types: tuple[tuple[str, str], ...]) -> str:
    cols = ", ".join(f'CAST("{n}" AS {t}) AS "{n}"' for n, t in types)
    return f"SELECT {cols} FROM {source}"


class _Loads(Protocol):
    def load(
        self,
        con: duckdb.DuckDBPyConnection,
        target: str,
        select_sql: str,
        types: tuple[tuple[str, str], ...],
    ) -> int: ...


@contextmanager
def _staged_feed(
    source: _Loads,
    con: duckdb.DuckDBPyConnection,
    select_sql: str,
    types: tuple[tuple[str, str], ...],
) -> Iterator[str]:
    """A feed that cannot stream (SQLite, COPY): the rows staged in a table for the while."""
    name = f"stg.xueji_feed_{uuid.uuid4().hex[:8]}"
    source.load(con, name, select_sql, types)
    try:
        yield name
    finally:
        con.execute(f"DROP TABLE IF EXISTS {name}")


class _HasColumns(Protocol):
    def table_columns(self, table: str) -> set[str] | None: ...


def sensitive_columns(source: _HasColumns) -> list[tuple[str, str, str]]:
    """The SENSITIVE_COLUMNS this source has (a registry of an earlier migration may lack some)."""
    out = []
    for table, column, kind in SENSITIVE_COLUMNS:
        present = source.table_columns(table)
        if present and column in present:
            out.append((table, column, kind))
    return out


def _group_by_table(columns: list[tuple[str, str, str]]) -> dict[str, list[tuple[str, str]]]:
    grouped: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in columns:
        grouped.setdefault(table, []).append((column, kind))
    return grouped


def _pg_text_array(values: list[str]) -> str:
    """A text[] constant, dollar-quoted (no escaping of quotes needed). A constant array lets
    PostgreSQL (14+) hash it once for `= ANY(...)`: one probe per source value, no join."""
    body = (
        "{"
        + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        + "}"
    )
    tag = "$xj$"
    while tag in body:
        tag = f"$xj{secrets.token_hex(4)}$"
    return f"{tag}{body}{tag}::text[]"


class SqliteSource:
    kind = "sqlite"
    driver = "sqlite3"

    def __init__(self, url: SourceUrl, scratch: Path) -> None:
        self.url = url
        self.description = url.redacted
        self.scratch = scratch
        assert url.path is not None
        if not Path(url.path).is_file():
            raise SourceError(f"source SQLite database not found: {url.path}")
        try:
            uri = "file:" + urllib.parse.quote(url.path) + "?mode=ro"
            # check_same_thread: the privacy check asks its questions from a worker thread
            # (never while another thread uses the connection).
            self.conn = sqlite3.connect(
                uri, uri=True, isolation_level=None, timeout=30, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise SourceError(f"cannot open source {self.description}: {_first_line(exc)}") from exc
        self._as_of = datetime.now(UTC)

    def begin(self) -> None:
        try:
            self.conn.execute("BEGIN")
            # The first read takes the snapshot (WAL) or the shared lock (rollback journal).
            self.conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            raise SourceError(f"cannot read source {self.description}: {_first_line(exc)}") from exc
        self._as_of = datetime.now(UTC)

    def as_of(self) -> datetime:
        return self._as_of

    def identity(self) -> str:
        return f"sqlite:{os.path.realpath(self.url.path or '')}"

    def table_columns(self, table: str) -> set[str] | None:
        rows = self.conn.execute(f'PRAGMA table_info("{table}")').fetchall()
        return {r[1] for r in rows} if rows else None

    def count(self, sql: str) -> int:
        try:
            return int(self.conn.execute(sql).fetchone()[0])
        except sqlite3.Error as exc:
            raise SourceError(f"source query failed: {_first_line(exc)}") from exc

    def select_list(self, table: SourceTable) -> str:
        return ", ".join(f"{c.expr or table.column(c.name)} AS {c.name}" for c in table.columns)

    def feed(
        self,
        con: duckdb.DuckDBPyConnection,
        select_sql: str,
        types: tuple[tuple[str, str], ...],
    ) -> AbstractContextManager[str]:
        return _staged_feed(self, con, select_sql, types)

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise SourceError(f"source query failed: {_first_line(exc)}") from exc

    def name_lengths(self, minimum: int) -> list[int]:
        names = [(t, c) for t, c, k in sensitive_columns(self) if k == "name"]
        if not names:
            return []
        union = " UNION ALL ".join(f"SELECT length(trim({c}, ' ')) AS n FROM {t}" for t, c in names)
        sql = f"SELECT DISTINCT n FROM ({union}) WHERE n >= ? ORDER BY n"
        return [int(r[0]) for r in self._rows(sql, (minimum,))]

    def find_personal(self, values: list[str]) -> list[tuple[str, str]]:
        columns = sensitive_columns(self)
        values = [v for v in values if v]  # an empty value is nobody's
        if not values or not columns:
            return []
        union = " UNION ALL ".join(
            f"SELECT '{k}' AS kind, trim({c}, ' ') AS v FROM {t} "
            f"WHERE trim({c}, ' ') IN (SELECT x FROM cand)"
            for t, c, k in columns
        )
        sql = (
            "WITH cand(x) AS MATERIALIZED (SELECT DISTINCT value FROM json_each(?)) "
            f"SELECT DISTINCT kind, v FROM ({union})"
        )
        return [(str(k), str(v)) for k, v in self._rows(sql, (json.dumps(values),))]

    def timestamp_literal(self, value: datetime) -> str:
        return "'" + value.strftime("%Y-%m-%d %H:%M:%S") + "'"

    def load(
        self,
        con: duckdb.DuckDBPyConnection,
        target: str,
        select_sql: str,
        types: tuple[tuple[str, str], ...],
    ) -> int:
        path = self.scratch / f"extract-{uuid.uuid4().hex}.csv"
        try:
            # NULLs become NULL_MARK in SQL (no Python work per value); read_csv maps them back.
            marked = ", ".join(f"IFNULL({n}, '{NULL_MARK}')" for n, _t in types)
            cur = self.conn.execute(f"SELECT {marked} FROM ({select_sql})")
            with open(path, "w", newline="", encoding="utf-8") as fh:
                csv.writer(fh, lineterminator="\n").writerows(cur)
            con.execute(f"CREATE TABLE {target} AS {_read_csv_sql(path, types)}")
        except sqlite3.Error as exc:
            raise SourceError(f"reading the source failed: {_first_line(exc)}") from exc
        finally:
            path.unlink(missing_ok=True)
        return _duck.count(con, f"SELECT COUNT(*) FROM {target}")

    def close(self) -> None:
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        finally:
            self.conn.close()


class _PgBase:
    kind = "postgresql"

    def __init__(self, url: SourceUrl) -> None:
        self.url = url
        self.description = url.redacted
        self._numeric: dict[str, set[str]] = {}

    def _numeric_columns(self, table: str) -> set[str]:
        return self._numeric.get(table, set())

    def select_list(self, table: SourceTable) -> str:
        numeric = self._numeric_columns(table.name)
        parts = []
        for c in table.columns:
            expr = c.expr or table.column(c.name)
            if c.expr is None and c.name in numeric:
                expr = f"CAST({table.column(c.name)} AS double precision)"
            parts.append(f"{expr} AS {c.name}")
        return ", ".join(parts)

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def table_columns(self, table: str) -> set[str] | None:
        raise NotImplementedError

    def name_lengths(self, minimum: int) -> list[int]:
        names = [(t, c) for t, c, k in sensitive_columns(self) if k == "name"]
        if not names:
            return []
        union = " UNION ALL ".join(
            f"SELECT char_length(btrim({c}::text)) AS n FROM {t}" for t, c in names
        )
        sql = f"SELECT DISTINCT n FROM ({union}) x WHERE n >= {int(minimum)} ORDER BY n"
        return [int(r[0]) for r in self._rows(sql)]

    def find_personal(self, values: list[str]) -> list[tuple[str, str]]:
        columns = sensitive_columns(self)
        # An empty value is nobody's; PostgreSQL text holds no NUL.
        values = [v for v in values if v and "\x00" not in v]
        if not values or not columns:
            return []
        array = _pg_text_array(values)
        # One scan per table. Each personal column is probed in the array where it is, and only
        # the rows with a hit are unpivoted: unpivoting every row first (a tuple per column and
        # row) took twice as long at 1M students (7 s against 3.7 s), a scan of the registry's
        # most personal tables every night. The array is repeated as a constant: PostgreSQL
        # hashes a constant array once per expression, not an array from a subquery.
        parts = []
        for table, cols in _group_by_table(columns).items():
            pairs = ", ".join(f"('{k}', {c}::text)" for c, k in cols)
            hit = " OR ".join(f"btrim({c}::text) = ANY({array})" for c, _k in cols)
            parts.append(
                f"SELECT u.kind, btrim(u.v) AS v FROM (SELECT * FROM {table} WHERE {hit}) t "
                f"CROSS JOIN LATERAL (VALUES {pairs}) AS u(kind, v) "
                f"WHERE btrim(u.v) = ANY({array})"
            )
        sql = f"SELECT DISTINCT kind, v FROM ({' UNION ALL '.join(parts)}) x"
        return [(str(k), str(v)) for k, v in self._rows(sql)]

    def timestamp_literal(self, value: datetime) -> str:
        return "TIMESTAMP '" + value.strftime("%Y-%m-%d %H:%M:%S") + "'"

    _CATALOG_SQL = (
        "SELECT table_name::text AS table_name, column_name::text AS column_name, "
        "data_type::text AS data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    )


class PgAdbcSource(_PgBase):
    driver = "adbc"

    def __init__(self, url: SourceUrl, connect_timeout: int) -> None:
        super().__init__(url)
        import adbc_driver_postgresql.dbapi as adbc

        try:
            self.conn = adbc.connect(url.libpq_uri(connect_timeout))
        except Exception as exc:  # adbc raises its own DB-API error classes
            raise SourceError(
                f"cannot connect to the source database {self.description}: {_first_line(exc)}"
            ) from exc
        self.cur = self.conn.cursor()
        self._duck = duckdb.connect()
        self._columns: dict[str, set[str]] = {}
        self._as_of = datetime.now(UTC)
        self._identity = ""

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            self.cur.execute(sql)
            stream = self.cur.fetch_arrow()
            self._duck.register("xueji_pg_rows", stream)
            try:
                return self._duck.execute("SELECT * FROM xueji_pg_rows").fetchall()
            finally:
                self._duck.unregister("xueji_pg_rows")
        except duckdb.Error as exc:
            raise SourceError(f"source query failed: {_first_line(exc)}") from exc
        except Exception as exc:
            raise SourceError(f"source query failed: {_first_line(exc)}") from exc

    def begin(self) -> None:
        try:
            self.cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        except Exception as exc:
            raise SourceError(f"cannot start a read transaction: {_first_line(exc)}") from exc
        row = self._rows(
            "SELECT now() AS as_of, current_database()::text AS db, "
            "(SELECT system_identifier::text FROM pg_control_system()) AS sysid"
        )[0]
        self._as_of = row[0].astimezone(UTC)
        self._identity = f"postgresql:{row[2]}:{row[1]}"
        for table, column, data_type in self._rows(self._CATALOG_SQL):
            self._columns.setdefault(table, set()).add(column)
            if data_type == "numeric":
                self._numeric.setdefault(table, set()).add(column)

    def as_of(self) -> datetime:
        return self._as_of

    def identity(self) -> str:
        return self._identity

    def table_columns(self, table: str) -> set[str] | None:
        return self._columns.get(table)

    def count(self, sql: str) -> int:
        return int(self._rows(f"SELECT CAST(({sql}) AS bigint) AS n")[0][0])

    def load(
        self,
        con: duckdb.DuckDBPyConnection,
        target: str,
        select_sql: str,
        types: tuple[tuple[str, str], ...],
    ) -> int:
        name = f"xueji_stream_{uuid.uuid4().hex[:8]}"
        try:
            self.cur.execute(select_sql)
            stream = self.cur.fetch_arrow()
            con.register(name, stream)
            try:
                con.execute(f"CREATE TABLE {target} AS {_cast_select(name, types)}")
            finally:
                con.unregister(name)
        except duckdb.Error as exc:
            raise SourceError(f"reading the source failed: {_first_line(exc)}") from exc
        except Exception as exc:
            raise SourceError(f"reading the source failed: {_first_line(exc)}") from exc
        return _duck.count(con, f"SELECT COUNT(*) FROM {target}")

    @contextmanager
    def feed(
        self,
        con: duckdb.DuckDBPyConnection,
        select_sql: str,
        types: tuple[tuple[str, str], ...],
    ) -> Iterator[str]:
        """The Arrow stream itself, for one query that reads it once: PostgreSQL sends while
        DuckDB transforms, and the rows are never staged. The caller's query must read it to
        the end (an INSERT … SELECT does)."""
        name = f"xueji_feed_{uuid.uuid4().hex[:8]}"
        try:
            self.cur.execute(select_sql)
            con.register(name, self.cur.fetch_arrow())
        except Exception as exc:
            raise SourceError(f"reading the source failed: {_first_line(exc)}") from exc
        try:
            yield f"({_cast_select(name, types)})"
        finally:
            con.unregister(name)

    def close(self) -> None:
        with suppress(Exception):
            self.conn.rollback()
        try:
            self.cur.close()
            self.conn.close()
        finally:
            self._duck.close()


class PgCopySource(_PgBase):
    driver = "psycopg-copy"

    def __init__(self, url: SourceUrl, connect_timeout: int, scratch: Path) -> None:
        super().__init__(url)
        import psycopg

        self.scratch = scratch
        try:
            self.conn = psycopg.connect(url.libpq_uri(connect_timeout))
        except psycopg.Error as exc:
            raise SourceError(
                f"cannot connect to the source database {self.description}: {_first_line(exc)}"
            ) from exc
        self._columns: dict[str, set[str]] = {}
        self._as_of = datetime.now(UTC)
        self._identity = ""

    def begin(self) -> None:
        import psycopg

        try:
            self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            self.conn.execute("SET LOCAL DateStyle = 'ISO, YMD'")
            self.conn.execute("SET LOCAL extra_float_digits = 3")
            row = self.conn.execute(
                "SELECT now(), current_database(), "
                "(SELECT system_identifier::text FROM pg_control_system())"
            ).fetchone()
            assert row is not None
            self._as_of = row[0].astimezone(UTC)
            self._identity = f"postgresql:{row[2]}:{row[1]}"
            for table, column, data_type in self.conn.execute(self._CATALOG_SQL).fetchall():
                self._columns.setdefault(table, set()).add(column)
                if data_type == "numeric":
                    self._numeric.setdefault(table, set()).add(column)
        except psycopg.Error as exc:
            raise SourceError(f"cannot read the source: {_first_line(exc)}") from exc

    def as_of(self) -> datetime:
        return self._as_of

    def identity(self) -> str:
        return self._identity

    def table_columns(self, table: str) -> set[str] | None:
        return self._columns.get(table)

    def count(self, sql: str) -> int:
        return int(self._rows(sql)[0][0])

    def feed(
        self,
        con: duckdb.DuckDBPyConnection,
        select_sql: str,
        types: tuple[tuple[str, str], ...],
    ) -> AbstractContextManager[str]:
        return _staged_feed(self, con, select_sql, types)

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        import psycopg

        try:
            return list(self.conn.execute(sql).fetchall())
        except psycopg.Error as exc:
            raise SourceError(f"source query failed: {_first_line(exc)}") from exc

    def load(
        self,
        con: duckdb.DuckDBPyConnection,
        target: str,
        select_sql: str,
        types: tuple[tuple[str, str], ...],
    ) -> int:
        import psycopg

        path = self.scratch / f"extract-{uuid.uuid4().hex}.csv"
        try:
            with self.conn.cursor() as cur, open(path, "wb") as fh:
                copy_sql = f"COPY ({select_sql}) TO STDOUT (FORMAT csv, NULL '{NULL_MARK}')"
                with cur.copy(copy_sql) as copy:
                    for chunk in copy:
                        fh.write(chunk)
            con.execute(f"CREATE TABLE {target} AS {_read_csv_sql(path, types)}")
        except psycopg.Error as exc:
            raise SourceError(f"reading the source failed: {_first_line(exc)}") from exc
        finally:
            path.unlink(missing_ok=True)
        return _duck.count(con, f"SELECT COUNT(*) FROM {target}")

    def close(self) -> None:
        try:
            self.conn.rollback()
        finally:
            self.conn.close()


def adbc_available() -> bool:
    try:
        import adbc_driver_postgresql.dbapi  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def open_source(
    url: str, scratch: Path, *, pg_driver: str = "auto", connect_timeout: int = 10
) -> Iterator[Source]:
    """Connect and begin the consistent read; close (rolling back) on exit."""
    parsed = parse_source_url(url)
    source: Source
    if parsed.kind == "sqlite":
        source = SqliteSource(parsed, scratch)
    elif pg_driver == "copy" or (pg_driver == "auto" and not adbc_available()):
        source = PgCopySource(parsed, connect_timeout, scratch)
    else:
        if not adbc_available():
            from .errors import ConfigError

            raise ConfigError("--pg-driver adbc: adbc-driver-postgresql is not installed")
        source = PgAdbcSource(parsed, connect_timeout)
    try:
        source.begin()
        yield source
    finally:
        source.close()


def select_sql(source: Source, table: SourceTable, where: str | None = None) -> str:
    sql = f"SELECT {source.select_list(table)} FROM {table.name}"
    if table.joins:
        sql += f" {table.joins}"
    conditions = [c for c in (table.filter, where) if c]
    if conditions:
        sql += " WHERE " + " AND ".join(f"({c})" for c in conditions)
    return sql


def types_of(table: SourceTable) -> tuple[tuple[str, str], ...]:
    return tuple((c.name, c.type) for c in table.columns)


def missing_columns(source: Source, table: SourceTable) -> list[str] | None:
    """None if the table does not exist; else the declared columns it lacks."""
    present = source.table_columns(table.name)
    if present is None:
        return None
    needed: set[str] = set()
    for c in table.columns:
        if c.expr is None:
            needed.add(c.name)
    return sorted(needed - present)
