"""The Parquet export (hive-partitioned by snapshot and province) reads back with the same
counts; the facts of later issues (attendance, scores, evaluations, graduation) are skipped
while their source tables are absent and filled as soon as they exist."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from etl import export, schema

from .conftest import run_etl

pytestmark = pytest.mark.slow


def test_parquet_partitions_read_back_with_the_same_counts(built):
    warehouse: Path = built["warehouse"]
    manifest = built["manifest"]
    sid = manifest.snapshot_id
    base = warehouse / "parquet" / "fact_enrollment" / f"snapshot={sid}"
    provinces = sorted(p.name for p in base.iterdir())
    assert provinces == ["province=11", "province=46", "province=64"]
    for p in provinces:
        assert (base / p / "part-0.parquet").is_file()
    assert "fact_enrollment" in manifest.parquet and "dim_code" in manifest.parquet
    assert (warehouse / "parquet" / "dim_code" / f"snapshot={sid}" / "part-0.parquet").is_file()
    con = duckdb.connect()
    with duckdb.connect(str(warehouse / manifest.file), read_only=True) as wh:
        for table in manifest.parquet:
            expected = wh.execute(f"SELECT COUNT(*) FROM {table}").fetchall()[0][0]
            got = con.execute(
                f"SELECT COUNT(*) FROM {export.read_sql(warehouse, table)} WHERE snapshot = ?",
                [sid],
            ).fetchall()[0][0]
            assert got == expected, table
        by_province = wh.execute(
            "SELECT province_code, COUNT(*) FROM fact_enrollment GROUP BY 1 ORDER BY 1"
        ).fetchall()
        keys = {str(r[0]) for r in wh.execute("SELECT student_key FROM fact_enrollment").fetchall()}
    # Keys are written as their text (Spark 3 does not read Parquet's UUID type): the same keys.
    files = f"{base}/*/*.parquet"
    kinds = con.execute(
        f"SELECT DISTINCT type, converted_type FROM parquet_schema('{files}') "
        "WHERE name = 'student_key'"
    ).fetchall()
    assert kinds == [("BYTE_ARRAY", "UTF8")], kinds
    parquet_keys = con.execute(f"SELECT DISTINCT student_key FROM '{files}'").fetchall()
    assert {r[0] for r in parquet_keys} == keys
    parquet = con.execute(
        f"SELECT province, COUNT(*) FROM {export.read_sql(warehouse, 'fact_enrollment')} "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [(str(p), n) for p, n in parquet] == by_province
    # Empty tables (facts of later issues) are not exported.
    assert "fact_attendance" not in manifest.parquet
    assert not (warehouse / "parquet" / "fact_attendance").exists()


def test_teaching_facts_empty_then_filled(built, sqlite_copy, tmp_path):
    manifest = built["manifest"]
    # The tables exist (teaching records, lifecycle), still empty.
    for fact in ("fact_attendance", "fact_score", "fact_evaluation", "fact_graduation"):
        assert manifest.rows[fact] == 0, fact

    path = sqlite_copy.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        enrolled = db.execute(
            "SELECT e.student_id, e.class_id, e.school_id, e.school_year_id FROM enrollment e "
            "WHERE e.school_year_id = (SELECT MAX(school_year_id) FROM enrollment) "
            "ORDER BY e.id LIMIT 200"
        ).fetchall()
        term, later_term = [r[0] for r in db.execute("SELECT id FROM term ORDER BY id LIMIT 2")]
        outcome = db.execute(
            "SELECT code FROM code_item WHERE code_set = 'graduation_outcome' LIMIT 1"
        ).fetchone()[0]
        db.execute(
            "INSERT INTO exam (id, school_id, term_id, grade_code, name, kind, exam_date, state, "
            "created_at, version) VALUES (1, ?, ?, '16', '期末考试', 'final', '2026-01-10', "
            "'published', '2026-01-10 08:00:00', 1)",
            (enrolled[0][2], term),
        )
        for i, (student, klass, school, year) in enumerate(enrolled, start=1):
            db.execute(
                "INSERT INTO attendance (id, student_id, class_id, school_id, date, kind, "
                "periods, days, recorded_at) "
                "VALUES (?, ?, ?, ?, '2026-10-12', 'sick', NULL, 1, '2026-10-12 08:00:00')",
                (i, student, klass, school),
            )
            db.execute(
                "INSERT INTO score (id, exam_id, student_id, class_id, subject_code, score, "
                "full_mark, absent, entered_at) VALUES (?, 1, ?, ?, 'math', ?, 100, 0, "
                "'2026-01-11 08:00:00')",
                (i, student, klass, 60 + i % 40),
            )
            # Final evaluations count; one more student's grades are still under publicity.
            for te_id, state, end in (
                (i, "final", "2026-01-20"),
                (i + 1000, "publicized", "2999-01-01"),
            ):
                if state == "publicized" and i != 1:
                    continue
                db.execute(
                    "INSERT INTO term_evaluation (id, student_id, term_id, school_id, class_id, "
                    "state, publicity_end, publicity_rounds, comment, updated_at, version) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 1, '表现良好', '2026-01-20 08:00:00', 1)",
                    (
                        te_id,
                        student,
                        term if state == "final" else later_term,
                        school,
                        klass,
                        state,
                        end,
                    ),
                )
                db.execute(
                    "INSERT INTO evaluation (id, term_evaluation_id, student_id, school_id, "
                    "school_year_id, term_id, dimension, level) VALUES (?, ?, ?, ?, ?, ?, "
                    "'moral', 'A')",
                    (te_id, te_id, student, school, year, term if state == "final" else later_term),
                )
            db.execute(
                "INSERT INTO graduation (id, student_id, school_id, school_year_id, stage, "
                "grade_code, outcome, graduated_on, state, filed_at) VALUES (?, ?, ?, ?, "
                "'primary', '16', ?, '2026-07-01', 'approved', '2026-07-01 10:00:00')",
                (i, student, school, year, outcome),
            )
            # every tenth certificate revoked, every twentieth replaced by a corrected one
            for seq in (1, 2) if i % 20 == 0 else (1,):
                revoked = i % 10 == 0 and seq == 1
                db.execute(
                    "INSERT INTO diploma (number, graduation_id, student_id, school_id, year, "
                    "stage, serial, payload, signature, key_id, issued_at, revoked_at, "
                    "revoked_by, revoke_reason, version) VALUES (?, ?, ?, ?, 2026, 'primary', ?, "
                    "'{}', 'sig', 'k', '2026-07-02 10:00:00', ?, ?, ?, 1)",
                    (
                        f"NO-{i:05d}-{seq}",
                        i,
                        student,
                        school,
                        i * 2 + seq,
                        "2026-08-01 10:00:00" if revoked else None,
                        "officer" if revoked else None,
                        "错误" if revoked else None,
                    ),
                )
        # A senior-high filing still awaiting the bureau is not a graduation yet.
        db.execute(
            "INSERT INTO graduation (id, student_id, school_id, school_year_id, stage, grade_code, "
            "outcome, graduated_on, state, filed_at) "
            "VALUES (9999, ?, ?, ?, 'senior', '33', ?, '2026-07-01', 'pending', "
            "'2026-07-01 10:00:00')",
            (enrolled[-1][0], enrolled[-1][2], enrolled[-1][3], outcome),
        )
    warehouse = tmp_path / "wh"
    first = run_etl(sqlite_copy, warehouse)
    for fact in ("fact_attendance", "fact_score", "fact_evaluation", "fact_graduation"):
        assert first.rows[fact] == 200, fact
        assert fact not in first.skipped
    warned = {(c["table"], c["column"]) for c in first.checks if c["status"] == "warn"}
    assert ("fact_attendance", "kind") not in warned  # code set attendance_kind
    with duckdb.connect(str(warehouse / first.file), read_only=True) as con:
        avg = con.execute("SELECT AVG(score) FROM fact_score").fetchall()[0][0]
        issued, revoked = con.execute(
            "SELECT count(*) FILTER (WHERE diploma_issued), count(*) FILTER (WHERE diploma_revoked)"
            " FROM fact_graduation"
        ).fetchone()
        cols = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = 'fact_graduation'"
            ).fetchall()
        }
    assert 60 <= avg <= 100
    # 200 certificates, 20 revoked of which 10 were replaced
    assert (issued, revoked) == (190, 10)
    assert cols == set(schema.tables()["fact_graduation"].column_names)

    with sqlite3.connect(path) as db:  # attendance and scores are append-only: incremental
        db.execute(
            "INSERT INTO attendance (id, student_id, class_id, school_id, date, kind, periods, "
            "days, recorded_at) SELECT id + 1000, student_id, class_id, school_id, "
            "'2026-10-13', kind, periods, days, recorded_at FROM attendance WHERE id <= 50"
        )
    second = run_etl(sqlite_copy, warehouse, mode="incremental")
    assert second.mode == "incremental"
    assert second.rows["fact_attendance"] == 250
    kinds = {t["table_name"]: t["build"] for t in second.tables}
    assert kinds["fact_attendance"] == "incremental" and kinds["fact_score"] == "incremental"
