"""Incremental mode: approval steps (and later attendance and scores) are carried over from the
previous snapshot and only the new or reopened rows are read; the result equals a full
rebuild. Drift, a key change and the periodic full rebuild fall back to full."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from .conftest import OTHER_KEY, run_etl

pytestmark = pytest.mark.slow

NOW = datetime.now().replace(microsecond=0)
EARLIER = NOW - timedelta(days=5)  # outside the reopen window of the next run


def add_requests(path: str, first_id: int, count: int, *, acted: bool) -> None:
    """Transfer requests (35) with three approval steps each: school approved, county pending,
    province waiting (or all approved when `acted`)."""
    with sqlite3.connect(path) as db:
        students = [r[0] for r in db.execute("SELECT id, current_school_id FROM student LIMIT 500")]
        schools = [r[0] for r in db.execute("SELECT id FROM school ORDER BY id")]
        step_id = (
            (db.execute("SELECT COALESCE(MAX(id), 0) FROM status_change_step").fetchone()[0]) + 1
        )
        for i in range(count):
            rid = first_id + i
            student = students[(rid * 7) % len(students)]
            submitted = NOW - timedelta(days=30 - i % 10)
            state = "effective" if acted else "submitted"
            decided = EARLIER if acted else None
            db.execute(
                "INSERT INTO status_change_request (id, student_id, change_type, reason_code, "
                "state, scope, from_school_id, to_school_id, to_grade_code, created_at, "
                "submitted_at, closed_at, current_step_seq, version) "
                "VALUES (?, ?, '35', 'T1', ?, 'same_county', ?, ?, '13', ?, ?, ?, ?, 1)",
                (
                    rid,
                    student,
                    state,
                    schools[i % len(schools)],
                    schools[(i + 1) % len(schools)],
                    str(submitted - timedelta(days=1)),
                    str(submitted),
                    str(decided) if decided else None,
                    None if acted else 2,
                ),
            )
            steps = [
                ("school_registrar", "approved", submitted + timedelta(days=1)),
                ("county_bureau", "approved" if acted else "pending", decided),
                ("province_bureau", "approved" if acted else "waiting", decided),
            ]
            for seq, (unit, st, at) in enumerate(steps, start=1):
                db.execute(
                    "INSERT INTO status_change_step (id, request_id, seq, unit_kind, school_id, "
                    "region_code, state, due_date, acted_at, decision) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        step_id,
                        rid,
                        seq,
                        unit,
                        schools[i % len(schools)] if unit == "school_registrar" else None,
                        None
                        if unit == "school_registrar"
                        else ("110113" if unit == "county_bureau" else "110000"),
                        st,
                        str((submitted + timedelta(days=14 * seq)).date()),
                        str(at) if at else None,
                        st if st in ("approved", "rejected") else None,
                    ),
                )
                step_id += 1


def approve_all(path: str, request_ids: list[int]) -> None:
    with sqlite3.connect(path) as db:
        for rid in request_ids:
            db.execute(
                "UPDATE status_change_step SET state = 'approved', decision = 'approved', "
                "acted_at = ? WHERE request_id = ? AND state <> 'approved'",
                (str(NOW), rid),
            )
            db.execute(
                "UPDATE status_change_request SET state = 'effective', closed_at = ?, "
                "current_step_seq = NULL WHERE id = ?",
                (str(NOW), rid),
            )


def rows(warehouse: Path, file: str, table: str) -> list[tuple]:
    with duckdb.connect(str(warehouse / file), read_only=True) as con:
        return sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


def build_kind(warehouse: Path, file: str, table: str) -> tuple[str, str | None]:
    with duckdb.connect(str(warehouse / file), read_only=True) as con:
        return con.execute(
            "SELECT build, note FROM meta_table WHERE table_name = ?", [table]
        ).fetchall()[0]


def test_incremental_equals_full_rebuild(sqlite_copy, tmp_path):
    url = sqlite_copy
    path = url.split("///", 1)[1]
    add_requests(path, 1, 12, acted=False)
    add_requests(path, 100, 5, acted=True)
    warehouse = tmp_path / "wh"
    first = run_etl(url, warehouse)
    assert first.mode == "full" and first.rows["fact_status_change_step"] == 51
    assert first.watermarks["fact_status_change_step"] == 51

    approve_all(path, [1, 2, 3])  # pending steps decided
    add_requests(path, 200, 4, acted=False)  # new requests above the high-water mark
    second = run_etl(url, warehouse, mode="auto")
    assert second.mode == "incremental", second.mode_reason
    assert build_kind(warehouse, second.file, "fact_status_change_step")[0] == "incremental"
    assert second.rows["fact_status_change_step"] == 63

    reference = run_etl(url, tmp_path / "full", mode="full")
    for table in ("fact_status_change_step", "fact_status_change", "agg_status_change"):
        assert rows(warehouse, second.file, table) == rows(
            tmp_path / "full", reference.file, table
        ), table
    with duckdb.connect(str(warehouse / second.file), read_only=True) as con:
        decided = con.execute(
            "SELECT COUNT(*) FROM fact_status_change_step WHERE state = 'approved'"
        ).fetchall()[0][0]
        lead = con.execute(
            "SELECT COUNT(*) FROM fact_status_change WHERE lead_time_days > 0 AND NOT is_open"
        ).fetchall()[0][0]
    assert decided == 12 + 3 * 2 + 5 * 3 + 4  # school steps of all + decided ones
    assert lead == 8


def test_drift_rebuilds_the_fact_in_full(sqlite_copy, tmp_path):
    url = sqlite_copy
    path = url.split("///", 1)[1]
    add_requests(path, 1, 6, acted=True)
    warehouse = tmp_path / "wh"
    run_etl(url, warehouse)
    with sqlite3.connect(path) as db:  # a deletion the high-water mark cannot see
        db.execute("DELETE FROM status_change_step WHERE request_id = 2 AND seq = 3")
    drift = run_etl(url, warehouse, mode="incremental")
    assert drift.rows["fact_status_change_step"] == 17
    kind, note = build_kind(warehouse, drift.file, "fact_status_change_step")
    assert kind == "full" and "rebuilt in full" in note

    # Attendance (empty here) is still carried over by its high-water mark, so the snapshot as
    # a whole stays incremental; only the drifting fact was rebuilt.
    assert drift.mode == "incremental"
    assert build_kind(warehouse, drift.file, "fact_attendance")[0] == "incremental"
    assert drift.last_full_snapshot != drift.snapshot_id


def test_mode_decision():
    from datetime import UTC

    from etl import pseudonymize, schema
    from etl.pipeline import decide_mode

    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    fp = pseudonymize.fingerprint(OTHER_KEY.encode())
    prev = {
        "snapshot_id": "20261127T120000000000Z",
        "schema_version": schema.schema_version(),
        "key_fingerprint": fp,
        "source_fingerprint": "src",
        "last_full_at": "2026-11-25T12:00:00+00:00",
    }
    args = {"source_fp": "src", "key_fp": fp, "now": now, "full_every_days": 7}
    assert decide_mode("auto", prev, **args)[0] == "incremental"
    assert decide_mode("full", prev, **args) == ("full", "full rebuild requested")
    assert decide_mode("auto", None, **args) == ("full", "no previous snapshot")
    assert "key changed" in decide_mode("incremental", prev, **{**args, "key_fp": "x"})[1]
    assert "different source" in decide_mode("auto", prev, **{**args, "source_fp": "x"})[1]
    assert "schema changed" in decide_mode("auto", {**prev, "schema_version": "old"}, **args)[1]
    periodic = decide_mode("auto", prev, **{**args, "full_every_days": 2})
    assert periodic[0] == "full" and "periodic" in periodic[1]
    assert decide_mode("incremental", prev, **{**args, "full_every_days": 2})[0] == "incremental"
