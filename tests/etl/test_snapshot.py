"""A snapshot of the seeded registry (SQLite and PostgreSQL): it reconciles with the source,
carries no personal data, and its pseudonyms behave (stable under one key, unlinkable under
another)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

from etl.store import SnapshotStore

from .conftest import KEY, OTHER_KEY, current_name, run_etl, source_rows

pytestmark = pytest.mark.slow


def _open(built: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    warehouse: Path = built["warehouse"]
    return duckdb.connect(str(warehouse / built["manifest"].file), read_only=True)


def test_published_with_manifest_and_pointer(built):
    warehouse, manifest = built["warehouse"], built["manifest"]
    assert current_name(warehouse) == manifest.file
    on_disk = json.loads((warehouse / f"wh-{manifest.snapshot_id}.manifest.json").read_text())
    assert on_disk["snapshot_id"] == manifest.snapshot_id
    assert on_disk["rows"]["dim_student"] == 3000
    assert {c["status"] for c in on_disk["checks"]} <= {"skip"}  # passed ones are in meta_check
    assert on_disk["checks_summary"]["privacy"]["pass"] > 200
    assert "fail" not in json.dumps(on_disk["checks_summary"])
    assert on_disk["code_version"].startswith("xueji ")
    store = SnapshotStore(warehouse)
    assert store.current_name() == manifest.file
    assert store.manifest()["as_of"] == manifest.as_of
    with _open(built) as con:
        row = con.execute("SELECT snapshot_id, mode, manifest_json FROM meta_manifest").fetchall()
        assert row[0][0] == manifest.snapshot_id and row[0][1] == "full"
        stored = json.loads(row[0][2])
        # Only checks that did not pass are listed; the tally counts every one.
        assert all(c["status"] != "pass" for c in stored["checks"])
        assert stored["checks_summary"] == manifest.checks_summary
        statuses = dict(
            con.execute("SELECT status, COUNT(*) FROM meta_check GROUP BY 1").fetchall()
        )
        assert statuses.get("fail", 0) == 0 and statuses["pass"] > 100
        # Every column is documented in the catalog.
        undocumented = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE database_name = current_database() AND (comment IS NULL OR comment = '')"
        ).fetchall()
        assert undocumented == []


def test_row_counts_reconcile_with_the_source(built):
    url = built["url"]
    expected = {
        "dim_school": "SELECT COUNT(*) FROM school",
        "dim_school_year": "SELECT COUNT(*) FROM school_year",
        "dim_term": "SELECT COUNT(*) FROM term",
        "dim_class": "SELECT COUNT(*) FROM school_class",
        "dim_student": "SELECT COUNT(*) FROM student",
        "fact_enrollment": "SELECT COUNT(*) FROM enrollment",
        "fact_status_change": "SELECT COUNT(*) FROM status_change_request",
        "fact_status_change_step": "SELECT COUNT(*) FROM status_change_step",
        "fact_student_number": "SELECT COUNT(*) FROM student_number_history",
        "dim_code_set": None,
    }
    with _open(built) as con:
        for table, sql in expected.items():
            got = con.execute(f"SELECT COUNT(*) FROM {table}").fetchall()[0][0]
            if sql is None:
                registry = source_rows(url, "SELECT COUNT(*) FROM code_set")[0][0]
                etl = con.execute(f"SELECT COUNT(*) FROM {table} WHERE origin = 'etl'").fetchall()
                assert got == registry + etl[0][0]
                continue
            assert got == source_rows(url, sql)[0][0], table
        # Every school's county is a county-level unit of the region table.
        counties = source_rows(url, "SELECT COUNT(DISTINCT region_code) FROM school")[0][0]
        assert (
            con.execute(
                "SELECT COUNT(DISTINCT s.county_code) FROM dim_school s JOIN dim_region r USING (county_code)"
            ).fetchall()[0][0]
            == counties
        )


def test_enrollment_by_county_and_grade_equals_the_source(built):
    """An independent GROUP BY over the operational tables against both the fact and the rollup."""
    source = source_rows(
        built["url"],
        "SELECT y.code, s.region_code, e.grade_code, COUNT(*) FROM enrollment e "
        "JOIN school s ON s.id = e.school_id JOIN school_year y ON y.id = e.school_year_id "
        "WHERE e.is_active GROUP BY y.code, s.region_code, e.grade_code",
    )
    expected = {(y, c, g): n for y, c, g, n in source}
    assert sum(expected.values()) > 5000
    with _open(built) as con:
        fact = con.execute(
            "SELECT y.code, f.county_code, f.grade_code, COUNT(*) FROM fact_enrollment f "
            "JOIN dim_school_year y USING (school_year_key) WHERE f.is_active GROUP BY ALL"
        ).fetchall()
        rollup = con.execute(
            "SELECT y.code, a.county_code, a.grade_code, SUM(a.students) FROM agg_enrollment a "
            "JOIN dim_school_year y USING (school_year_key) GROUP BY ALL"
        ).fetchall()
        by_sex = con.execute(
            "SELECT d.sex, COUNT(*) FROM fact_enrollment f JOIN dim_student d USING (student_key) "
            "WHERE f.is_active GROUP BY 1"
        ).fetchall()
    assert {(y, c, g): n for y, c, g, n in fact} == expected
    assert {(y, c, g): int(n) for y, c, g, n in rollup} == expected
    source_sex = source_rows(
        built["url"],
        "SELECT st.sex, COUNT(*) FROM enrollment e JOIN student st ON st.id = e.student_id "
        "WHERE e.is_active GROUP BY st.sex",
    )
    assert dict(by_sex) == dict(source_sex)


def test_pseudonyms_are_hmacs_of_the_source_ids(built):
    ids = [r[0] for r in source_rows(built["url"], "SELECT id FROM student")]
    # the first 128 bits of each HMAC
    expected = {
        hmac.new(KEY.encode(), f"student:{i}".encode(), hashlib.sha256).hexdigest()[:32]
        for i in ids
    }
    with _open(built) as con:
        keys = {r[0].hex for r in con.execute("SELECT student_key FROM dim_student").fetchall()}
    assert keys == expected


def test_same_key_links_snapshots_and_another_key_does_not(built, tmp_path):
    if not built["url"].startswith("sqlite"):
        pytest.skip("keys are computed in DuckDB whatever the source; once is enough")
    with _open(built) as con:
        first = {r[0] for r in con.execute("SELECT student_key FROM dim_student").fetchall()}
        classes = {r[0] for r in con.execute("SELECT class_key FROM dim_class").fetchall()}
    other = run_etl(built["url"], tmp_path / "other", key=OTHER_KEY)
    with duckdb.connect(str(tmp_path / "other" / other.file), read_only=True) as con:
        second = {r[0] for r in con.execute("SELECT student_key FROM dim_student").fetchall()}
        other_classes = {r[0] for r in con.execute("SELECT class_key FROM dim_class").fetchall()}
        fp = con.execute("SELECT key_fingerprint FROM meta_manifest").fetchall()[0][0]
    assert len(second) == len(first) == 3000
    assert first.isdisjoint(second) and classes.isdisjoint(other_classes)
    assert fp != built["manifest"].key_fingerprint


ID_NUMBER = re.compile(r"\d{17}[\dXx]")
STUDENT_NUMBER = re.compile(r"[GJL]\d{17}[\dX]|L\d{18}")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
UUID_KEY = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_no_personal_data_in_any_column_of_any_table(built):
    """Scan every column of every table of the snapshot (found through DuckDB's catalog, not
    through schema.sql) for the source's names, ID numbers, 学籍号, phones and addresses."""
    url = built["url"]
    names = {
        r[0] for r in source_rows(url, "SELECT name FROM student UNION SELECT name FROM guardian")
    }
    names |= {r[0] for r in source_rows(url, "SELECT former_name FROM student") if r[0]}
    personal = set(names)
    for sql in (
        "SELECT student_number FROM student",
        "SELECT number FROM student_number_history",
        "SELECT id_number FROM student WHERE id_number IS NOT NULL",
        "SELECT id_number FROM guardian WHERE id_number IS NOT NULL",
        "SELECT phone FROM student",
        "SELECT phone FROM guardian WHERE phone IS NOT NULL",
        "SELECT current_address FROM student",
        "SELECT home_address FROM student",
        "SELECT address FROM guardian WHERE address IS NOT NULL",
        "SELECT address FROM school WHERE address IS NOT NULL",
    ):
        personal |= {str(r[0]) for r in source_rows(url, sql)}
    assert len(names) > 5000 and len(personal) > 20000
    # Values copied from public reference tables (a school may be named after a person).
    reference = {
        r[0]
        for r in source_rows(
            url,
            "SELECT name FROM region UNION SELECT name FROM school UNION SELECT name_zh FROM "
            "code_item UNION SELECT name_en FROM code_item",
        )
    }
    long_names = {n for n in names if len(n) >= 3}
    lengths = sorted({len(n) for n in long_names})
    scanned = Counter()
    with _open(built) as con:
        columns = con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = current_database() ORDER BY 1, 2"
        ).fetchall()
        assert len(columns) > 250
        for table, column, data_type in columns:
            values = [
                str(r[0])
                for r in con.execute(
                    f'SELECT DISTINCT "{column}" FROM {table} WHERE "{column}" IS NOT NULL'
                ).fetchall()
            ]
            scanned[data_type] += 1
            if data_type == "UUID" and all(UUID_KEY.fullmatch(v) for v in values):
                continue  # a pseudonymous key column
            for v in values:
                where = f"{table}.{column}"
                assert v not in personal, f"{where} holds a personal value of the source"
                assert not ID_NUMBER.search(v), f"{where} holds an ID-number-like value"
                assert not STUDENT_NUMBER.search(v), f"{where} holds a 学籍号-like value"
                assert not MOBILE.search(v), f"{where} holds a phone-like value"
                if v not in reference and len(v) >= 3:
                    pieces = {v[i : i + k] for k in lengths for i in range(len(v) - k + 1)}
                    assert not pieces & long_names, f"{where} contains a source name"
                for piece in ("号", "栋", "单元", "室"):
                    assert not re.search(r"\d+" + piece, v), f"{where} looks like an address"
    assert scanned["VARCHAR"] > 100


def test_birth_dates_are_coarsened_and_people_carry_no_dates(built):
    with _open(built) as con:
        cols = {
            r[0]: r[1]
            for r in con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE database_name = current_database() AND table_name = 'dim_student'"
            ).fetchall()
        }
        assert "DATE" not in cols.values() and "TIMESTAMP" not in cols.values()
        assert {"birth_year", "birth_month"} <= set(cols)
        assert not {"name", "id_number", "student_number", "phone", "birth_date"} & set(cols)
        hukou = con.execute("SELECT MAX(length(hukou_county_code)) FROM dim_student").fetchall()
        assert hukou[0][0] == 6


def test_snapshot_store_reads_the_current_snapshot(built):
    store = SnapshotStore(built["warehouse"])
    cur = store.cursor()
    try:
        n = cur.execute("SELECT COUNT(*) FROM dim_student").fetchall()[0][0]
    finally:
        cur.close()
    assert n == 3000
    assert store.snapshots() == [built["manifest"].file]
