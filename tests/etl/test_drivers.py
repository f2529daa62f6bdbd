"""The two PostgreSQL extraction paths (ADBC Arrow stream, psycopg COPY) give the same
snapshot; NUMERIC columns are cast in the SELECT; the privacy check's questions to the source
(which values are personal values, which lengths names have) get the same answers from SQLite
and both PostgreSQL paths."""

from __future__ import annotations

from pathlib import Path

import duckdb
import psycopg
import pytest

from etl import extract, schema, transform
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
        for sql in _guardians_sql():
            conn.execute(sql)
    yield db.url
    db.drop()


PERSONAL = [
    ("张伟", "13812345678"),
    (" 欧阳娜娜 ", None),
    ("   ", "010-12345678"),
    ("Zhang Wei", ""),
    ('引"号\\斜杠', None),  # quoting and escaping survive the trip to the source
]
# Values asked about: personal values as the snapshot would hold them (trimmed), fragments,
# values that are not personal, and look-alikes that differ by case or inner spaces.
ASKED = [
    "张伟",
    "欧阳娜娜",
    "13812345678",
    "010-12345678",
    "Zhang Wei",
    '引"号\\斜杠',
    "欧阳",
    "zhang wei",
    "Zhang  Wei",
    "回族",
    "",
    "{}",
    "$xj$",
]
EXPECTED = [
    ("name", "Zhang Wei"),
    ("name", "张伟"),
    ("name", '引"号\\斜杠'),
    ("name", "欧阳娜娜"),
    ("phone", "010-12345678"),
    ("phone", "13812345678"),
]


def _guardians_sql() -> list[str]:
    rows = ", ".join(
        f"({i}, {_lit(name)}, {_lit(phone)})" for i, (name, phone) in enumerate(PERSONAL, 1)
    )
    return [
        "CREATE TABLE guardian (id integer, name varchar(50), phone varchar(20))",
        f"INSERT INTO guardian VALUES {rows}",
    ]


def _lit(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


@pytest.mark.parametrize("driver", ["adbc", "copy"])
def test_numeric_is_cast_and_personal_values_are_found_in_the_source(pg_source, tmp_path, driver):
    spec = extract.SOURCE_BY_NAME["score"]
    con = duckdb.connect()
    con.execute("CREATE SCHEMA stg")
    with extract.open_source(pg_source, tmp_path, pg_driver=driver) as src:
        assert "CAST(score AS double precision)" in src.select_list(spec)
        n = src.load(con, "stg.score", extract.select_sql(src, spec), extract.types_of(spec))
        assert extract.sensitive_columns(src) == [
            ("guardian", "name", "name"),
            ("guardian", "phone", "phone"),
        ]
        assert sorted(src.find_personal(ASKED)) == sorted(EXPECTED)
        assert src.find_personal([]) == []
        assert src.name_lengths(3) == [4, 6, 9]
    assert n == 2
    assert con.execute("SELECT typeof(score), score FROM stg.score ORDER BY id").fetchall() == [
        ("DOUBLE", 97.5),
        ("DOUBLE", None),
    ]


def test_sqlite_source_finds_the_same_personal_values(tmp_path):
    import sqlite3

    path = tmp_path / "source.sqlite"
    with sqlite3.connect(path) as db:
        for sql in _guardians_sql():
            db.execute(sql)
    with extract.open_source(f"sqlite:///{path}", tmp_path) as src:
        assert sorted(src.find_personal(ASKED)) == sorted(EXPECTED)
        assert src.name_lengths(3) == [4, 6, 9]
        assert src.name_lengths(5) == [6, 9]


def test_a_fed_stream_is_probed_not_hashed_under_a_small_memory_limit(pg_source, tmp_path):
    """Found at 1M students: fed straight into fact_score, the 15M-row score stream (estimated
    at ~1 row) became the hash side of its joins (RIGHT joins in the plan) and the ETL ran out
    of memory at any limit (4GB included). Same shape here: fact_score's three joins on a
    stream, under a small limit; the stream must be probed, never hashed."""
    params = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_DSN)
    dsn = psycopg.conninfo.make_conninfo(**{**params, "dbname": pg_source.rsplit("/", 1)[1]})
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE fed (exam_id integer, student_id integer, note varchar(200))")
        conn.execute(
            "INSERT INTO fed SELECT i % 1000, i % 200000, repeat('x', 150) "
            "FROM generate_series(1, 400000) i"
        )
    con = duckdb.connect(
        config={
            "memory_limit": "48MB",
            "threads": 2,
            "preserve_insertion_order": False,
            "temp_directory": str(tmp_path / "spill"),
        }
    )
    con.execute(
        "CREATE TABLE student_map AS SELECT range::INTEGER AS id, "
        "sha256(range::VARCHAR) AS student_key FROM range(200000)"
    )
    con.execute(
        "CREATE TABLE exam AS SELECT range::INTEGER AS id, range % 100 AS school_id FROM range(1000)"
    )
    con.execute(
        "CREATE TABLE school AS SELECT range::INTEGER AS id, 'c' || range AS county FROM range(100)"
    )
    con.execute("CREATE TABLE target (student_key VARCHAR, county VARCHAR, note_length INTEGER)")
    types = (("exam_id", "INTEGER"), ("student_id", "INTEGER"), ("note", "VARCHAR"))
    with extract.open_source(pg_source, tmp_path, pg_driver="adbc") as src:
        select = (
            "SELECT sm.student_key, sc.county, length(x.note) AS note_length FROM {} x "
            "LEFT JOIN exam ex ON ex.id = x.exam_id "
            "LEFT JOIN student_map sm ON sm.id = x.student_id "
            "LEFT JOIN school sc ON sc.id = ex.school_id"
        )
        with src.feed(con, "SELECT exam_id, student_id, note FROM fed", types) as relation:
            unguarded = "\n".join(
                r[1] for r in con.execute("EXPLAIN " + select.format(relation)).fetchall()
            )
            with transform.joins_as_written(con):
                plan = "\n".join(
                    r[1] for r in con.execute("EXPLAIN " + select.format(relation)).fetchall()
                )
        assert "Join Type: RIGHT" in unguarded  # what DuckDB does with a stream by itself
        assert "Join Type: RIGHT" not in plan and plan.count("Join Type: LEFT") == 3
        feed = src.feed(con, "SELECT exam_id, student_id, note FROM fed", types)
        with feed as relation:
            transform.insert_fed(con, "target", select.format(relation))
    assert con.execute(
        "SELECT COUNT(*), COUNT(student_key), COUNT(county), MIN(note_length) FROM target"
    ).fetchall() == [(400_000, 400_000, 400_000, 150)]
    # the optimizers are back on for everything else
    assert con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0] == ""
