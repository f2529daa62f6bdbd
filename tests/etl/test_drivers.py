"""The two PostgreSQL extraction paths (ADBC Arrow stream, psycopg COPY) give the same
snapshot; NUMERIC columns are cast in the SELECT; personal-value hashes agree across SQLite,
both PostgreSQL paths and Python."""

from __future__ import annotations

from pathlib import Path

import duckdb
import psycopg
import pytest

from etl import extract, schema
from tests.conftest import PG_ADMIN_DSN, PgDatabase

from .conftest import run_etl

pytestmark = pytest.mark.slow


def _all_rows(path: Path) -> dict[str, list[tuple]]:
    out = {}
    with duckdb.connect(str(path), read_only=True) as con:
        for table in schema.tables():
            if table.startswith("meta_"):
                continue
            out[table] = sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
    return out


def test_copy_and_adbc_give_the_same_snapshot(built, tmp_path):
    if not built["url"].startswith("postgresql"):
        pytest.skip("PostgreSQL drivers")
    assert built["manifest"].source_driver == "adbc"
    copy = run_etl(built["url"], tmp_path / "copy", pg_driver="copy", mode="full")
    assert copy.source_driver == "psycopg-copy"
    adbc_rows = _all_rows(built["warehouse"] / built["manifest"].file)
    copy_rows = _all_rows(tmp_path / "copy" / copy.file)
    for table, rows in adbc_rows.items():
        assert rows == copy_rows[table], table


@pytest.fixture(scope="module")
def pg_source():
    db = PgDatabase()
    params = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_DSN)
    dsn = psycopg.conninfo.make_conninfo(**{**params, "dbname": db.name})
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE score (id integer, exam_id integer, student_id integer, "
            "subject_code varchar(8), score numeric(5,1), full_mark numeric(5,1), "
            "level varchar(2), absent boolean)"
        )
        conn.execute(
            "INSERT INTO score VALUES (1, 1, 1, 'math', 97.5, 100, NULL, false), "
            "(2, 1, 2, 'math', NULL, 150, 'A', true)"
        )
        conn.execute("CREATE TABLE guardian (id integer, name varchar(50), phone varchar(20))")
        conn.execute(
            "INSERT INTO guardian VALUES (1, '张伟', '13812345678'), (2, ' 欧阳娜娜 ', NULL), "
            "(3, '   ', '010-12345678'), (4, 'Zhang Wei', '')"
        )
    yield db.url
    db.drop()


@pytest.mark.parametrize("driver", ["adbc", "copy"])
def test_numeric_is_cast_and_hashes_agree(pg_source, tmp_path, driver):
    spec = extract.SOURCE_BY_NAME["score"]
    con = duckdb.connect()
    con.execute("CREATE SCHEMA stg")
    with extract.open_source(pg_source, tmp_path, pg_driver=driver) as src:
        assert "CAST(score AS double precision)" in src.select_list(spec)
        n = src.load(con, "stg.score", extract.select_sql(src, spec), extract.types_of(spec))
        columns = [("guardian", "name", "name"), ("guardian", "phone", "phone")]
        src.load_sensitive(con, "stg.sensitive", columns)
    assert n == 2
    assert con.execute("SELECT typeof(score), score FROM stg.score ORDER BY id").fetchall() == [
        ("DOUBLE", 97.5),
        ("DOUBLE", None),
    ]
    got = sorted(con.execute("SELECT kind, h, len FROM stg.sensitive").fetchall())
    expected = sorted(
        (kind, extract._sensitive_hash_py(v), len(v.strip(" ")))
        for kind, v in [
            ("name", "张伟"),
            ("name", " 欧阳娜娜 "),
            ("name", "Zhang Wei"),
            ("phone", "13812345678"),
            ("phone", "010-12345678"),
        ]
    )
    assert got == expected
