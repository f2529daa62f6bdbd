"""Pieces of the ETL that need no database: the schema file, the pseudonym HMAC in DuckDB, key
rules, helper macros, source URLs, snapshot ids, and the extraction spec against the models."""

from __future__ import annotations

import csv
import hashlib
import hmac
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from etl import checks, extract, pseudonymize, publish, schema, transform
from etl.errors import ConfigError

from .conftest import KEY, ROOT

CODE_DIR = ROOT / "admin" / "data" / "codes"
# Code sets the warehouse names for tables of later issues (not yet in the code tables).
FUTURE_CODE_SETS = {
    "attendance_kind",
    "exam_kind",
    "subject",
    "evaluation_dimension",
    "evaluation_level",
}


def test_every_column_is_documented_and_tags_resolve():
    tables = schema.tables()
    assert {"dim_date", "dim_region", "dim_school", "dim_student", "fact_enrollment"} <= set(tables)
    registry_sets = {p.stem for p in CODE_DIR.glob("*.csv") if not p.name.startswith("_")}
    etl_sets = {s[0] for s in transform.ETL_CODE_SETS}
    for table in tables.values():
        assert table.doc, f"{table.name} has no table comment"
        for col in table.columns:
            text = col.doc
            while text.startswith("["):
                text = text[text.index("]") + 1 :].strip()
            assert text, f"{table.name}.{col.name} is not documented"
            if col.fk:
                ref_table, ref_col = col.fk
                assert ref_col in tables[ref_table].column_names, f"{table.name}.{col.name}"
            if col.code_set:
                assert col.code_set in registry_sets | etl_sets | FUTURE_CODE_SETS, col.code_set
            if col.name.endswith("_key") and col.name != "exam_key":
                assert col.pk or col.fk, f"{table.name}.{col.name}: key without [pk] or [fk]"
            if col.hmac:
                assert col.type == "UUID"


def test_every_table_has_a_transform():
    tables = set(schema.tables())
    built = set(transform.BUILD_ORDER) | set(transform.META_TABLES)
    assert built == tables
    assert set(transform.TABLE_SQL) | {"dim_date"} == set(transform.BUILD_ORDER)


def test_extraction_spec_matches_the_operational_models():
    """Every extracted column exists in admin.models with a compatible type (the future tables
    of later issues are checked when their models appear)."""
    from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric, String, Text

    from admin.models import metadata

    compatible = {
        "INTEGER": (Integer,),
        "VARCHAR": (String, Text),
        "BOOLEAN": (Boolean,),
        "DATE": (Date,),
        "TIMESTAMP": (DateTime,),
        "DOUBLE": (Float, Numeric),
    }
    for table in extract.SOURCE_TABLES:
        model = metadata.tables.get(table.name)
        if model is None:
            assert not table.required, f"{table.name} is required but has no model"
            continue
        for col in table.columns:
            if col.expr is not None:
                continue
            assert col.name in model.c, f"{table.name}.{col.name} is not in admin.models"
            assert isinstance(model.c[col.name].type, compatible[col.type]), (
                f"{table.name}.{col.name}: {model.c[col.name].type!r} vs {col.type}"
            )
    for table, column, _kind in extract.SENSITIVE_COLUMNS:
        assert column in metadata.tables[table].c, f"{table}.{column}"


def test_etl_code_sets_cover_the_workflow_states():
    from admin.domain import workflow
    from admin.models.status import REQUEST_STATES, STEP_STATES

    codes = {name: {c[0] for c in items} for name, _zh, _en, items in transform.ETL_CODE_SETS}
    assert set(REQUEST_STATES) <= codes["request_state"]
    assert set(STEP_STATES) <= codes["step_state"]
    # Bug found by seeding status changes through the services: the ETL's unit kinds were
    # school/county/province, so every snapshot of a registry with a request failed its checks.
    assert codes["unit_kind"] == set(workflow.UNIT_KINDS)
    assert codes["change_scope"] >= set(workflow.TRANSFER_SCOPES)


def test_no_personal_column_is_extracted():
    forbidden = {
        "name",
        "former_name",
        "name_pinyin",
        "id_number",
        "student_number",
        "birthplace_code",
        "current_address",
        "mailing_address",
        "home_address",
        "address",
        "phone",
        "email",
        "photo_ref",
        "remarks",
        "comment",
        "acted_by_username",
        "created_by_username",
        "specialty",
    }
    for table in extract.SOURCE_TABLES:
        allowed_names = {"region", "school", "code_set", "code_item"}  # public reference names
        for col in table.columns:
            if table.name in allowed_names and col.name in ("name", "name_zh", "name_en"):
                continue
            assert col.name not in forbidden, f"{table.name}.{col.name}"
            # A computed column may only be a flag: a boolean carries no personal value.
            assert col.expr is None or col.type == "BOOLEAN", f"{table.name}.{col.name}"


@pytest.mark.parametrize("key", [KEY, "0123456789abcdef" * 4, "long-key-" * 20])
def test_hmac_in_duckdb_equals_python_hmac(key):
    raw = pseudonymize.validate_key(key)
    con = duckdb.connect()
    pseudonymize.install(con, raw)
    ids = [0, 1, 7, 42, 2**31 - 1]
    got = con.execute(
        f"SELECT i, {pseudonymize.hmac_sql('student', 'i')} FROM unnest(?) t(i) ORDER BY i", [ids]
    ).fetchall()
    for i, value in got:
        digest = hmac.new(raw, f"student:{i}".encode(), hashlib.sha256).hexdigest()
        assert value.hex == digest[:32]  # the HMAC's first 128 bits
        assert value == pseudonymize.hmac_key(raw, "student", i)
    other = con.execute(f"SELECT {pseudonymize.hmac_sql('class', '1')}").fetchall()[0][0]
    assert other != pseudonymize.hmac_key(raw, "student", 1)  # kinds are separated


@pytest.mark.parametrize(
    "key, message",
    [
        (None, "is not set"),
        ("", "is not set"),
        ("short-key", "too short (9 characters)"),
        ("x" * 31, "too short (31 characters)"),
        ("ab" * 20, "not a usable secret"),
    ],
)
def test_bad_keys_are_refused_with_a_clear_message(key, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        pseudonymize.validate_key(key)


def test_key_fingerprint_is_stable_and_pattern_safe():
    a = pseudonymize.fingerprint(KEY.encode())
    assert a == pseudonymize.fingerprint(KEY.encode())
    assert a != pseudonymize.fingerprint((KEY + "x").encode())
    assert set(a) <= set("abcdefghijklmnopqrstuvwxyz234567")


def test_workdays_macro_counts_monday_to_friday():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA stg")
    transform.install_helpers(con, "2026-11-28T00:00:00")
    start = date(2026, 1, 1)
    cases = [
        (start + timedelta(days=a), start + timedelta(days=a + n))
        for a in range(8)
        for n in range(0, 22, 3)
    ]
    for a, b in cases:
        expected = sum(
            1 for i in range(1, (b - a).days + 1) if (a + timedelta(days=i)).weekday() < 5
        )
        assert con.execute("SELECT xj_workdays(?, ?)", [a, b]).fetchall()[0][0] == expected
    assert con.execute("SELECT xj_workdays(DATE '2026-01-05', NULL)").fetchall()[0][0] is None


def test_grade_helpers():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA stg")
    transform.install_helpers(con, "2026-11-28T00:00:00")
    rows = con.execute(
        "SELECT xj_stage('16'), xj_stage('24'), xj_grade_ord('21', 5), xj_grade_ord('21', 6), "
        "xj_grade_ord('31', 6), xj_last_grade('primary', 5), xj_last_grade('junior', 5), "
        "xj_last_grade('junior', 6)"
    ).fetchall()[0]
    assert rows == ("primary", "junior", 6, 7, 10, "15", "24", "23")


def test_days_are_local_calendar_days_of_utc_timestamps(monkeypatch):
    monkeypatch.delenv("XUEJI_TIMEZONE", raising=False)
    con = duckdb.connect()
    con.execute("CREATE SCHEMA stg")
    transform.install_helpers(con, "2026-11-28T17:30:00")  # 01:30 on the 29th in Beijing
    rows = con.execute(
        "SELECT xj_as_of_date(), xj_day(TIMESTAMP '2026-11-28 15:59:59'), "
        "xj_day(TIMESTAMP '2026-11-28 16:00:00')"
    ).fetchall()[0]
    assert rows == (date(2026, 11, 29), date(2026, 11, 28), date(2026, 11, 29))
    transform.install_helpers(con, "2026-11-28T17:30:00", timezone="UTC")
    assert con.execute("SELECT xj_as_of_date()").fetchall()[0][0] == date(2026, 11, 28)


def test_source_urls_are_parsed_and_redacted(tmp_path):
    u = extract.parse_source_url(
        "postgresql+psycopg://alice:s3cret@db.example:5433/xueji?sslmode=require"
    )
    assert (u.kind, u.host, u.port, u.user, u.password, u.database) == (
        "postgresql",
        "db.example",
        5433,
        "alice",
        "s3cret",
        "xueji",
    )
    assert u.redacted == "postgresql://db.example:5433/xueji"
    assert "s3cret" in u.libpq_uri(5) and "sslmode=require" in u.libpq_uri(5)
    s = extract.parse_source_url(f"sqlite:///{tmp_path}/x.db")
    assert s.kind == "sqlite" and s.path == str(tmp_path / "x.db")
    for bad in ("mysql://x/y", "sqlite://", "sqlite:///:memory:", ""):
        with pytest.raises(ConfigError):
            extract.parse_source_url(bad)


def test_snapshot_ids_sort_by_time_and_never_repeat():
    now = datetime(2026, 11, 28, 9, 30, 0)
    a = publish.new_snapshot_id(None, now)
    b = publish.new_snapshot_id(a, now)  # same clock reading
    c = publish.new_snapshot_id(b, now - timedelta(hours=1))  # clock stepped back
    assert a < b < c
    for sid in (a, b, c):
        assert publish.snapshot_id_of(publish.snapshot_file(sid)) == sid


def test_code_csvs_have_the_sets_the_schema_uses():
    with open(CODE_DIR / "_sets.csv", encoding="utf-8") as fh:
        sets = {row["code_set"] for row in csv.DictReader(fh)}
    used = {c.code_set for t in schema.tables().values() for c in t.columns if c.code_set}
    etl_sets = {s[0] for s in transform.ETL_CODE_SETS}
    assert used - sets - etl_sets - FUTURE_CODE_SETS == set()


def test_the_etl_never_imports_flask():
    code = "import sys, etl.cli, etl.pipeline, etl.store, etl.export; print('flask' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_pause_hook_is_inert_unless_set(monkeypatch):
    from etl.progress import pause_point

    monkeypatch.delenv("XUEJI_ETL_TEST_PAUSE_AT", raising=False)
    pause_point("locked")  # returns at once
    monkeypatch.setenv("XUEJI_ETL_TEST_PAUSE_AT", "other-step")
    pause_point("locked")


def test_schema_file_is_what_gets_parsed():
    assert Path(schema.SCHEMA_PATH).name == "schema.sql"
    assert len(schema.schema_version()) == 12


def test_an_hmac_column_that_is_not_uuid_is_refused_when_the_schema_is_read():
    text = (
        "-- A dimension.\n"
        "CREATE TABLE dim_x (\n"
        "    x_key VARCHAR NOT NULL,  -- [pk] [hmac] a key\n"
        "    name  VARCHAR            -- a name\n"
        ");\n"
    )
    assert schema.parse_schema(text.replace("x_key VARCHAR", "x_key UUID"))["dim_x"].columns
    with pytest.raises(ValueError, match=r"\[hmac\] column x_key must be UUID, not VARCHAR"):
        schema.parse_schema(text)


def test_privacy_scan_covers_key_and_code_columns_only_through_what_it_scans():
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS wh")
    transform.create_tables(con)
    con.execute(
        "INSERT INTO wh.dim_code (code_set, code, valid_from, name_zh, name_en, sort_order, "
        "origin) VALUES ('subject', '01', DATE '2000-01-01', '语文', 'Chinese', 1, 'registry')"
    )
    specs = list(schema.tables().values())
    covered = checks.covered_columns(con, specs)
    assert covered[("fact_score", "county_code")] == "dim_region.county_code"
    assert covered[("fact_score", "subject_code")] == "dim_code.code (subject)"
    assert ("fact_score", "student_key") not in covered  # a key: its type is checked
    assert ("fact_score", "score") not in covered and ("fact_score", "province_code") not in covered
    assert ("fact_score", "exam_kind") not in covered  # no such code set in dim_code: scanned
    without = [t for t in specs if t.name not in ("dim_region", "dim_code")]
    narrowed = checks.covered_columns(con, without)
    assert ("fact_score", "county_code") not in narrowed
    assert ("fact_score", "subject_code") not in narrowed
    assert narrowed[("fact_score", "school_key")] == "dim_school.school_key"


def test_score_rollups_are_checked_against_the_scores_they_summarise():
    """agg_score counts every scored row of a school year, agg_score_band the present ones
    with a mark or a level (both counted in one pass over fact_score): a rollup that lost a
    row fails, the other still passes."""
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS wh")
    transform.create_tables(con)
    con.execute(
        "INSERT INTO wh.dim_date (date, year, quarter, month, day, iso_week, iso_dow, "
        "is_weekend, school_year_key) VALUES (DATE '2026-10-12', 2026, 4, 10, 12, 42, 1, false, 1)"
    )
    scores = [  # (score, full_mark, level, absent)
        (88.0, 100.0, None, False),
        (None, None, "B", False),
        (None, 100.0, None, True),  # absent: in agg_score only
        (None, 0.0, None, False),  # neither a mark nor a level: in agg_score only
    ]
    for score, full, level, absent in scores:
        con.execute(
            "INSERT INTO wh.fact_score (student_key, exam_key, school_key, county_code, "
            "province_code, exam_date, subject_code, score, full_mark, level, absent) VALUES "
            "(uuid(), 1, 1, '110101', '11', DATE '2026-10-12', '01', ?, ?, ?, ?)",
            [score, full, level, absent],
        )
    con.execute(  # outside every school year: summarised by neither
        "INSERT INTO wh.fact_score (student_key, exam_key, school_key, county_code, "
        "province_code, exam_date, subject_code, score, full_mark, absent) VALUES "
        "(uuid(), 2, 1, '110101', '11', DATE '2020-01-01', '01', 70, 100, false)"
    )
    for rollup in ("agg_score", "agg_score_band"):
        con.execute(f"INSERT INTO wh.{rollup} BY NAME {transform.TABLE_SQL[rollup]}")

    def verdicts() -> dict[str, tuple[str, str]]:
        return {
            r.table: (r.status, r.detail)
            for r in checks.derived(con)
            if r.table in ("agg_score", "agg_score_band")
        }

    assert verdicts() == {
        "agg_score": ("pass", "4 summarised, 4 expected"),
        "agg_score_band": ("pass", "2 summarised, 2 expected"),
    }
    con.execute("DELETE FROM wh.agg_score_band WHERE level = 'B'")
    assert verdicts() == {
        "agg_score": ("pass", "4 summarised, 4 expected"),
        "agg_score_band": ("fail", "1 summarised, 2 expected"),
    }
    con.execute("UPDATE wh.agg_score_band SET students = 2")
    con.execute("UPDATE wh.agg_score SET records = records + 1")
    assert verdicts() == {
        "agg_score": ("fail", "5 summarised, 4 expected"),
        "agg_score_band": ("pass", "2 summarised, 2 expected"),
    }
