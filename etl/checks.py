"""Pre-publish checks on the finished snapshot file (attached read-only as `wh`, next to the
staging schema `stg` that holds the source counts), with the source still open in the same
read transaction.

- reconcile: rows per table equal the source's count from the same transaction; active
  enrollments per school year, county and grade equal an independent GROUP BY of the source;
  rollups add up to their facts;
- primary_key: [pk] columns are unique;
- orphans: every [fk] value exists in its dimension;
- hmac: every [hmac] key column is typed UUID in the snapshot (a 128-bit key, nothing else);
- codes: every [code] value is a code of its set in dim_code;
- privacy: every other column of every table, as distinct values (an [fk] or [code] column
  through the column or code list it draws from: its values are among those): no 15+ digit run (ID
  numbers, 学籍号 bodies), 学籍号, mobile or landline number, e-mail or street address pattern,
  no value equal to a personal value of the source (names, numbers, phones, addresses), and no
  source name of 3+ characters inside a value that is not itself a public reference name
  (region, school, code label). The source is asked which of the snapshot's values (and their
  fragments of the lengths its names have) are personal values: they never leave the source.

A result's detail gives counts and reasons, never a checked value: the results are stored in the
snapshot and printed in logs.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import duckdb

from . import _duck, schema


class PersonalValues(Protocol):
    """What the privacy check asks the source (etl.extract sources implement it)."""

    def name_lengths(self, minimum: int) -> list[int]: ...
    def find_personal(self, values: list[str]) -> list[tuple[str, str]]: ...


# RE2 patterns (DuckDB regexp_matches, partial match).
PATTERNS: dict[str, str] = {
    "long digit run (ID number)": r"[0-9]{15,}",
    "ID number": r"(^|[^0-9])[0-9]{17}[0-9Xx]([^0-9A-Za-z]|$)",
    "学籍号": r"(^|[^A-Za-z0-9])([GJLgjl][0-9]{17}[0-9Xx]|[Ll][0-9]{18})([^0-9A-Za-z]|$)",
    "mobile phone": r"(^|[^0-9])(\+?86[- ]?)?1[3-9][0-9]([- ]?[0-9]{4}){2}([^0-9]|$)",
    "landline phone": r"(^|[^0-9])0[1-9][0-9]{1,2}-[0-9]{7,8}([^0-9]|$)",
    "e-mail": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+",
    "street address": r"[0-9０-９]+ *(号|號|栋|幢|单元|室|弄)|(路|街|巷|大道)[0-9０-９]",
}
NUMERIC_PATTERNS = ("long digit run (ID number)", "mobile phone")
MIN_NAME_FRAGMENT = 3


@dataclass
class CheckResult:
    check: str
    table: str | None
    column: str | None
    status: str  # pass / warn / fail / skip
    detail: str

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return _duck.count(con, sql)


def _q(name: str) -> str:
    return f'"{name}"'


def reconcile(
    con: duckdb.DuckDBPyConnection,
    source_rows: dict[str, int],
    reconcile_map: dict[str, str],
    etl_extra: dict[str, int],
    built: dict[str, str],
) -> list[CheckResult]:
    out: list[CheckResult] = []
    for table, source_table in reconcile_map.items():
        if built.get(table) == "skipped":
            out.append(CheckResult("reconcile", table, None, "skip", "source table absent"))
            continue
        expected = source_rows.get(table)
        if expected is None:
            out.append(CheckResult("reconcile", table, None, "fail", "no source count"))
            continue
        expected += etl_extra.get(table, 0)
        got = _one(con, f"SELECT COUNT(*) FROM wh.{table}")
        status = "pass" if got == expected else "fail"
        out.append(
            CheckResult(
                "reconcile",
                table,
                None,
                status,
                f"{got} rows, source {source_table} {expected}",
            )
        )
    # Active enrollments per school year × county × grade, against the source's own GROUP BY.
    diff = _one(
        con,
        """
        WITH w AS (
            SELECT school_year_key, county_code, grade_code, COUNT(*) AS n
            FROM wh.fact_enrollment WHERE is_active GROUP BY ALL
        ), s AS (
            SELECT school_year_id AS school_year_key, county_code, grade_code, students AS n
            FROM stg.source_enrollment_by_county_grade
        )
        SELECT COUNT(*) FROM w FULL OUTER JOIN s
          ON w.school_year_key = s.school_year_key AND w.county_code = s.county_code
         AND w.grade_code = s.grade_code
        WHERE w.n IS DISTINCT FROM s.n
        """,
    )
    out.append(
        CheckResult(
            "reconcile",
            "fact_enrollment",
            "school_year_key,county_code,grade_code",
            "pass" if diff == 0 else "fail",
            f"{diff} (school year, county, grade) cells differ from the source",
        )
    )
    return out


# The scores agg_score and agg_score_band summarise, counted in one pass over fact_score (15M
# rows at 1M students) rather than one each.
_SCORES = (
    "SELECT COUNT(*), COUNT(*) FILTER (WHERE NOT f.absent AND ((f.score IS NOT NULL "
    "AND f.full_mark > 0) OR f.level IS NOT NULL)) FROM wh.fact_score f "
    "LEFT JOIN wh.dim_term t ON t.term_key = f.term_key "
    "LEFT JOIN wh.dim_date d ON d.date = f.exam_date "
    "WHERE coalesce(t.school_year_key, d.school_year_key) IS NOT NULL"
)


def derived(con: duckdb.DuckDBPyConnection) -> list[CheckResult]:
    """Rollups and derived facts add up to what they summarise."""
    pairs: dict[str, tuple[str, str | tuple[str, int]]] = {
        "agg_enrollment": (
            "SELECT COALESCE(SUM(students), 0) FROM wh.agg_enrollment",
            "SELECT COUNT(*) FROM wh.fact_enrollment WHERE is_active",
        ),
        "agg_class_size": (
            "SELECT COALESCE(SUM(students), 0) FROM wh.agg_class_size",
            "SELECT COUNT(*) FROM wh.fact_enrollment WHERE is_active",
        ),
        "fact_progression": (
            "SELECT COUNT(*) FROM wh.fact_progression",
            "SELECT COUNT(*) FROM wh.fact_enrollment f JOIN wh.dim_school_year y "
            "ON y.school_year_key = f.school_year_key WHERE f.is_active AND y.seq < "
            "(SELECT MAX(seq) FROM wh.dim_school_year)",
        ),
        "agg_progression": (
            "SELECT COALESCE(SUM(students), 0) FROM wh.agg_progression",
            "SELECT COUNT(*) FROM wh.fact_progression",
        ),
        "agg_status_change": (
            "SELECT COALESCE(SUM(requests), 0) FROM wh.agg_status_change",
            "SELECT COUNT(*) FROM wh.fact_status_change WHERE county_code IS NOT NULL",
        ),
        "agg_student_number": (
            "SELECT COALESCE(SUM(students), 0) FROM wh.agg_student_number",
            "SELECT COUNT(*) FROM wh.dim_student WHERE current_school_key IS NOT NULL",
        ),
        "agg_enrollment_end": (
            "SELECT COALESCE(SUM(students), 0) FROM wh.agg_enrollment_end",
            "SELECT COUNT(*) FROM wh.fact_enrollment",
        ),
        "agg_class_size_band": (
            "SELECT COALESCE(SUM(students), 0) FROM wh.agg_class_size_band",
            "SELECT COUNT(*) FROM wh.fact_enrollment WHERE is_active",
        ),
        "agg_data_quality": (
            "SELECT COALESCE(SUM(students), 0) FROM wh.agg_data_quality",
            "SELECT COUNT(*) FROM wh.dim_student WHERE current_school_key IS NOT NULL "
            "AND current_status IN ('01', '02')",
        ),
        "agg_enrollment_ethnicity": (
            "SELECT COALESCE(SUM(students), 0) FROM wh.agg_enrollment_ethnicity",
            "SELECT COUNT(*) FROM wh.fact_enrollment WHERE is_active",
        ),
        # The year rows (term NULL) hold every evaluation once.
        "agg_evaluation": (
            "SELECT COALESCE(SUM(records), 0) FROM wh.agg_evaluation WHERE term IS NULL",
            "SELECT COUNT(*) FROM wh.fact_evaluation",
        ),
        # Rows on days outside every school year are left out of the rollups (and the metrics).
        "agg_attendance": (
            "SELECT COALESCE(SUM(records), 0) FROM wh.agg_attendance",
            "SELECT COUNT(*) FROM wh.fact_attendance f JOIN wh.dim_date d ON d.date = f.date "
            "WHERE d.school_year_key IS NOT NULL",
        ),
        "agg_score": ("SELECT COALESCE(SUM(records), 0) FROM wh.agg_score", (_SCORES, 0)),
        "agg_score_band": (
            "SELECT COALESCE(SUM(students), 0) FROM wh.agg_score_band",
            (_SCORES, 1),
        ),
    }
    shared: dict[str, tuple[Any, ...]] = {}
    out = []
    for table, (left, right) in pairs.items():
        a = _one(con, left)
        if isinstance(right, tuple):
            sql, i = right
            if sql not in shared:
                shared[sql] = tuple(con.execute(sql).fetchall()[0])
            b = int(shared[sql][i] or 0)
        else:
            b = _one(con, right)
        out.append(
            CheckResult(
                "derived",
                table,
                None,
                "pass" if a == b else "fail",
                f"{a} summarised, {b} expected",
            )
        )
    return out


def primary_keys(con: duckdb.DuckDBPyConnection, tables: list[schema.Table]) -> list[CheckResult]:
    out = []
    for t in tables:
        pk = t.primary_key
        if not pk:
            continue
        cols = ", ".join(_q(c) for c in pk)
        dupes = _one(
            con,
            f"SELECT COUNT(*) FROM (SELECT {cols} FROM wh.{t.name} GROUP BY ALL HAVING COUNT(*) > 1)",
        )
        out.append(
            CheckResult(
                "primary_key",
                t.name,
                ",".join(pk),
                "pass" if dupes == 0 else "fail",
                f"{dupes} duplicated key values",
            )
        )
    return out


def orphans(con: duckdb.DuckDBPyConnection, tables: list[schema.Table]) -> list[CheckResult]:
    """One query per referenced column: every column referencing it, tagged, anti-joined at
    once (the hash table of 1M student keys is built once, not once per fact), then the
    distinct orphans counted per column. Anti-join first, DISTINCT over the orphans only: a
    DISTINCT over a fact's keys first (668k student keys of 15M scores at 1M students) next to
    the join's hash table ran the ETL out of memory under its cap now and then."""
    referencing: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for t in tables:
        for c in t.columns:
            if c.fk:
                referencing.setdefault(c.fk, []).append((t.name, c.name))
    found: dict[tuple[str, str], int] = {}
    for (ref_table, ref_col), columns in referencing.items():
        values = " UNION ALL ".join(
            f"SELECT {i} AS i, {_q(col)} AS v FROM wh.{table} WHERE {_q(col)} IS NOT NULL"
            for i, (table, col) in enumerate(columns)
        )
        counts = dict(
            con.execute(
                f"SELECT f.i, COUNT(DISTINCT f.v) FROM ({values}) f "
                f"ANTI JOIN wh.{ref_table} r ON r.{_q(ref_col)} = f.v GROUP BY f.i"
            ).fetchall()
        )
        for i, column in enumerate(columns):
            found[column] = int(counts.get(i, 0))
    out = []
    for t in tables:
        for c in t.columns:
            if not c.fk:
                continue
            n = found[(t.name, c.name)]
            out.append(
                CheckResult(
                    "orphans",
                    t.name,
                    c.name,
                    "pass" if n == 0 else "fail",
                    f"{n} distinct values missing from {c.fk[0]}.{c.fk[1]}",
                )
            )
    return out


def hmac_format(con: duckdb.DuckDBPyConnection, tables: list[schema.Table]) -> list[CheckResult]:
    """Every [hmac] column is typed UUID in the snapshot itself: 16 bytes can hold a key and
    nothing else (no name or number can hide in it), whatever wrote the value."""
    types = {
        (t, c): str(ty).upper()
        for t, c, ty in con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = 'wh'"
        ).fetchall()
    }
    out = []
    for t in tables:
        for c in t.columns:
            if not c.hmac:
                continue
            found = types.get((t.name, c.name), "missing")
            out.append(
                CheckResult(
                    "hmac",
                    t.name,
                    c.name,
                    "pass" if found == "UUID" else "fail",
                    f"column type {found}, a key must be UUID",
                )
            )
    return out


def codes(con: duckdb.DuckDBPyConnection, tables: list[schema.Table]) -> list[CheckResult]:
    known = {r[0] for r in con.execute("SELECT DISTINCT code_set FROM wh.dim_code").fetchall()}
    coded = [(t, c) for t in tables for c in t.columns if c.code_set]
    parts = [
        f"SELECT '{t.name}' AS t, '{c.name}' AS c, '{c.code_set}' AS code_set, {_q(c.name)} AS v, "
        f"COUNT(*) AS n FROM wh.{t.name} WHERE {_q(c.name)} IS NOT NULL GROUP BY ALL"
        for t, c in coded
    ]
    stats: dict[tuple[str, str], tuple[int, int]] = {}
    for i in range(0, len(parts), 50):
        rows = con.execute(
            "SELECT x.t, x.c, SUM(x.n), COUNT(*) FILTER (WHERE d.code IS NULL) FROM ("
            + " UNION ALL ".join(parts[i : i + 50])
            + ") x LEFT JOIN (SELECT DISTINCT code_set, code FROM wh.dim_code) d "
            "ON d.code_set = x.code_set AND d.code = x.v GROUP BY x.t, x.c"
        ).fetchall()
        for t, c, present, bad in rows:
            stats[(t, c)] = (int(present), int(bad))
    out = []
    for t, c in coded:
        present, bad = stats.get((t.name, c.name), (0, 0))
        if c.code_set not in known:
            out.append(
                CheckResult(
                    "codes",
                    t.name,
                    c.name,
                    "warn" if present else "skip",
                    f"code set {c.code_set} is not in the code tables ({present} values)",
                )
            )
            continue
        out.append(
            CheckResult(
                "codes",
                t.name,
                c.name,
                "pass" if bad == 0 else "fail",
                f"{bad} distinct values are not codes of {c.code_set}",
            )
        )
    return out


def covered_columns(
    con: duckdb.DuckDBPyConnection, tables: list[schema.Table]
) -> dict[tuple[str, str], str]:
    """{(table, column): where its values are scanned instead}: an [fk] column holds only
    values of the column it references, a [code] column of a code set in dim_code only codes
    of dim_code (the orphans and codes checks fail the snapshot otherwise), so scanning those
    covers it. At 1M students this spares a DISTINCT over 15M scores for most columns of the
    big facts."""
    known = {r[0] for r in con.execute("SELECT DISTINCT code_set FROM wh.dim_code").fetchall()}
    scanned = {t.name for t in tables}  # a column is covered only by one this check scans
    out: dict[tuple[str, str], str] = {}
    for t in tables:
        for c in t.columns:
            if c.hmac:
                continue
            if c.fk and c.fk[0] in scanned:
                out[(t.name, c.name)] = f"{c.fk[0]}.{c.fk[1]}"
            elif c.code_set and c.code_set in known and "dim_code" in scanned:
                out[(t.name, c.name)] = f"dim_code.code ({c.code_set})"
    return out


def _collect_values(
    con: duckdb.DuckDBPyConnection,
    tables: list[schema.Table],
    covered: dict[tuple[str, str], str] | None = None,
) -> list[tuple[str, str, str]]:
    """Distinct values of every text and numeric column (numbers: their integer part, as text)
    but the `covered` ones into temp table xj_scan(t, c, is_text, v); returns the (table,
    column, type) collected."""
    covered = covered or {}
    parts = []
    collected = []
    for t in tables:
        for c in t.columns:
            if c.hmac or not (c.is_text or c.is_numeric) or (t.name, c.name) in covered:
                continue
            col = _q(c.name)
            value = col if c.is_text else f"CAST(TRY_CAST(trunc({col}) AS HUGEINT) AS VARCHAR)"
            parts.append(
                f"SELECT DISTINCT '{t.name}' AS t, '{c.name}' AS c, {str(c.is_text).lower()} "
                f"AS is_text, {value} AS v FROM wh.{t.name} WHERE {col} IS NOT NULL"
            )
            collected.append((t.name, c.name, c.type))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE xj_scan (t VARCHAR, c VARCHAR, is_text BOOLEAN, v VARCHAR)"
    )
    for i in range(0, len(parts), 50):
        con.execute("INSERT INTO xj_scan " + " UNION ALL ".join(parts[i : i + 50]))
    return collected


def _questions(con: duckdb.DuckDBPyConnection, lengths: list[int]) -> list[str]:
    """Temp table xj_grams(t, c, v, g): fragments of the scanned text values (xj_scan) with the
    lengths the source's names have; returns the values and fragments to ask the source about.
    Values equal to a public reference name are not asked about."""
    con.execute(
        f"""
CREATE OR REPLACE TEMP TABLE xj_grams AS
WITH v AS (
    SELECT DISTINCT t, c, v FROM xj_scan
    WHERE is_text AND length(v) >= {MIN_NAME_FRAGMENT}
      AND trim(v) NOT IN (SELECT v FROM stg.reference_names)
),
lens AS (SELECT unnest(?::INTEGER[]) AS len)
SELECT DISTINCT t, c, v, trim(substr(v, i, len)) AS g
FROM (SELECT t, c, v, len, unnest(range(1, length(v) - len + 2)) AS i
      FROM v JOIN lens ON length(v) >= lens.len)
""",
        [lengths],
    )
    return [
        r[0]
        for r in con.execute(
            "SELECT trim(v) AS x FROM xj_scan WHERE trim(v) <> '' "
            "AND trim(v) NOT IN (SELECT v FROM stg.reference_names) "
            "UNION SELECT g FROM xj_grams WHERE g <> ''"
        ).fetchall()
    ]


def _answers(con: duckdb.DuckDBPyConnection, found: list[tuple[str, str]]) -> None:
    """Temp table xj_personal(kind, v): the values the source said are personal values."""
    con.execute("CREATE OR REPLACE TEMP TABLE xj_personal (kind VARCHAR, v VARCHAR)")
    if found:
        con.execute(
            "INSERT INTO xj_personal SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[])",
            [[k for k, _v in found], [v for _k, v in found]],
        )


def privacy(
    con: duckdb.DuckDBPyConnection,
    tables: list[schema.Table],
    collected: list[tuple[str, str, str]],
    personal: list[tuple[str, str]],
    covered: dict[tuple[str, str], str] | None = None,
) -> list[CheckResult]:
    """`collected`: what _collect_values put in xj_scan; `personal`: the source's answer about
    _questions (kind, value); `covered`: the columns checked through another (covered_columns)."""
    covered = covered or {}
    _answers(con, personal)
    found: dict[tuple[str, str], dict[str, int]] = {}
    hits: dict[str, int] | None
    labels = list(PATTERNS)
    counts = ", ".join(
        f"COUNT(*) FILTER (WHERE {'' if label in NUMERIC_PATTERNS else 'is_text AND '}"
        f"regexp_matches(v, '{PATTERNS[label]}'))"
        for label in labels
    )
    # A value equal to a public reference name (a code label, a school or region name) says
    # nothing about a person even when someone's name or address happens to be the same.
    rows = con.execute(
        f"SELECT t, c, {counts}, COUNT(*) FILTER (WHERE trim(v) IN (SELECT v FROM xj_personal) "
        "AND trim(v) NOT IN (SELECT v FROM stg.reference_names)) FROM xj_scan GROUP BY t, c"
    ).fetchall()
    for row in rows:
        hits = {label: int(n) for label, n in zip(labels, row[2:-1], strict=True) if n}
        if row[-1]:
            hits["equal to a personal value of the source"] = int(row[-1])
        if hits:
            found[(row[0], row[1])] = hits
    # Source names of 3+ characters inside longer values (not inside public reference names).
    fragments = con.execute(
        """
SELECT t, c, COUNT(DISTINCT v) FROM xj_grams
WHERE g IN (SELECT v FROM xj_personal WHERE kind = 'name')
GROUP BY t, c
"""
    ).fetchall()
    for t, c, n in fragments:
        found.setdefault((t, c), {})["containing a source name"] = int(n)
    for temp in ("xj_scan", "xj_grams", "xj_personal"):
        con.execute(f"DROP TABLE {temp}")
    out = []
    scanned = {(t, c) for t, c, _type in collected}
    for t in tables:
        for c in t.columns:
            if c.hmac:
                detail, status = "pseudonymous key (format checked)", "pass"
            elif (t.name, c.name) in covered:
                detail, status = f"every value is one of {covered[(t.name, c.name)]}", "pass"
            elif (t.name, c.name) not in scanned:
                detail, status = f"{c.type} holds no text", "pass"
            else:
                hits = found.get((t.name, c.name))
                status = "fail" if hits else "pass"
                detail = (
                    "; ".join(f"{n} value(s) {label}" for label, n in hits.items())
                    if hits
                    else "no personal data pattern or source value"
                )
            out.append(CheckResult("privacy", t.name, c.name, status, detail))
    return out


def run_all(
    con: duckdb.DuckDBPyConnection,
    *,
    source_rows: dict[str, int],
    reconcile_map: dict[str, str],
    etl_extra: dict[str, int],
    built: dict[str, str],
    personal: PersonalValues,
    tables: list[str] | None = None,
    on_check: Callable[[str, int], None] | None = None,
) -> list[CheckResult]:
    specs = [t for name, t in schema.tables().items() if tables is None or name in tables]
    results: list[CheckResult] = []
    # The source answers the privacy check's questions (a scan of its personal columns) while
    # DuckDB runs the other checks: one thread waits on the source, the other works here.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="xueji-etl-source") as source:
        lengths = source.submit(personal.name_lengths, MIN_NAME_FRAGMENT)
        covered = covered_columns(con, specs)
        collected = _collect_values(con, specs, covered)
        questions = _questions(con, lengths.result())
        answers = source.submit(personal.find_personal, questions)
        steps: list[tuple[str, Callable[[], list[CheckResult]]]] = [
            ("reconcile", lambda: reconcile(con, source_rows, reconcile_map, etl_extra, built)),
            ("derived", lambda: derived(con)),
            ("primary_key", lambda: primary_keys(con, specs)),
            ("orphans", lambda: orphans(con, specs)),
            ("hmac", lambda: hmac_format(con, specs)),
            ("codes", lambda: codes(con, specs)),
            ("privacy", lambda: privacy(con, specs, collected, answers.result(), covered)),
        ]
        for name, fn in steps:
            part = fn()
            results.extend(part)
            if on_check:
                on_check(name, sum(1 for r in part if r.status == "fail"))
    return results


def tally(results: list[CheckResult]) -> dict[str, dict[str, int]]:
    """{check: {status: count}} (the manifest keeps this plus every result that did not pass;
    meta_check in the snapshot keeps them all)."""
    out: dict[str, dict[str, int]] = {}
    for r in results:
        bucket = out.setdefault(r.check, {})
        bucket[r.status] = bucket.get(r.status, 0) + 1
    return out


def failures(results: list[CheckResult]) -> list[CheckResult]:
    return [r for r in results if r.status == "fail"]


def summary(failed: list[CheckResult], limit: int = 3) -> str:
    parts = []
    for r in failed[:limit]:
        where = r.table or ""
        if r.column:
            where += f".{r.column}"
        parts.append(f"{r.check} {where}: {r.detail}")
    more = f" (and {len(failed) - limit} more)" if len(failed) > limit else ""
    return "; ".join(parts) + more
