"""The warehouse schema, read from etl/schema.sql: tables, columns, documentation and the tags
that drive the checks ([pk], [fk t.c], [code set], [hmac])."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("schema.sql")

_CREATE = re.compile(r"^CREATE TABLE (\w+) \($")
_COLUMN = re.compile(r"^\s+(\w+)\s+([A-Z][A-Z ]*?)(\s+NOT NULL)?(,)?\s*--\s*(.*)$")
_TAG = re.compile(r"^\[(\w+)(?:\s+([\w.]+))?\]\s*")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    doc: str
    pk: bool = False
    fk: tuple[str, str] | None = None
    code_set: str | None = None
    hmac: bool = False

    @property
    def is_text(self) -> bool:
        return self.type == "VARCHAR"

    @property
    def is_numeric(self) -> bool:
        return self.type in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "DOUBLE")


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.pk)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name}.{name}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def ddl(self, catalog: str) -> str:
        cols = ",\n  ".join(
            f'"{c.name}" {c.type}{" NOT NULL" if c.not_null else ""}' for c in self.columns
        )
        return f"CREATE TABLE {catalog}.{self.name} (\n  {cols}\n)"

    def comment_statements(self, catalog: str) -> list[str]:
        out = [f"COMMENT ON TABLE {catalog}.{self.name} IS {sql_string(self.doc)}"]
        for c in self.columns:
            out.append(f'COMMENT ON COLUMN {catalog}.{self.name}."{c.name}" IS {sql_string(c.doc)}')
        return out


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _parse_column(match: re.Match[str]) -> Column:
    name, type_, not_null, _comma, comment = match.groups()
    pk = False
    fk: tuple[str, str] | None = None
    code_set: str | None = None
    hmac = False
    rest = comment.strip()
    while True:
        tag = _TAG.match(rest)
        if not tag:
            break
        kind, arg = tag.groups()
        if kind == "pk":
            pk = True
        elif kind == "hmac":
            hmac = True
        elif kind == "fk" and arg and "." in arg:
            table, col = arg.split(".", 1)
            fk = (table, col)
        elif kind == "code" and arg:
            code_set = arg
        else:
            raise ValueError(f"schema.sql: unknown tag [{kind} {arg or ''}] on column {name}")
        rest = rest[tag.end() :]
    if hmac and type_.strip() != "UUID":
        raise ValueError(f"schema.sql: [hmac] column {name} must be UUID, not {type_.strip()}")
    return Column(
        name=name,
        type=type_.strip(),
        not_null=bool(not_null),
        doc=comment.strip(),
        pk=pk,
        fk=fk,
        code_set=code_set,
        hmac=hmac,
    )


def parse_schema(text: str) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    pending_doc: list[str] = []
    current: str | None = None
    columns: list[Column] = []
    doc = ""
    for line in text.splitlines():
        if current is None:
            created = _CREATE.match(line)
            if created:
                current = created.group(1)
                doc = " ".join(pending_doc).strip()
                columns = []
                pending_doc = []
            elif line.startswith("--"):
                pending_doc.append(line[2:].strip())
            else:
                pending_doc = []
            continue
        if line.startswith(");"):
            tables[current] = Table(current, doc, tuple(columns))
            current = None
            continue
        col = _COLUMN.match(line)
        if col:
            columns.append(_parse_column(col))
        elif line.strip().startswith("--") and columns:
            last = columns[-1]
            extra = line.strip()[2:].strip()
            columns[-1] = Column(**{**last.__dict__, "doc": f"{last.doc} {extra}"})
        elif line.strip():
            raise ValueError(f"schema.sql: cannot parse line in {current}: {line!r}")
    if current is not None:
        raise ValueError(f"schema.sql: table {current} is not closed")
    return tables


@cache
def schema_text() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


@cache
def tables() -> dict[str, Table]:
    return parse_schema(schema_text())


def schema_version() -> str:
    return hashlib.sha256(schema_text().encode("utf-8")).hexdigest()[:12]
