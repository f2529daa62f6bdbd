"""Synthetic facts for the metrics whose source tables are empty in the seeded registry
(attendance, scores, evaluations, graduation — until the teaching-records issue — and status
changes, which the seed does not generate), inserted into a copy of a real snapshot. The
expected values in test_teaching_facts.py are computed by hand from the rows below.

School A is the junior middle school in province 64, B the one in 46, C the one in 11.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date

import duckdb

from etl.transform import TABLE_SQL

# Attendance, school A, October 2026: (student index, kind, periods, days, day of month)
ATTENDANCE_A_OCT = [
    (0, "sick", None, 1.0, 8),
    (0, "sick", None, 2.0, 15),  # student 0: 3 days in October → chronic (≥ 10 % of 22)
    (1, "personal", None, 0.5, 9),  # 0.5 day → absent, not chronic
    (2, "late", 2, None, 10),  # periods only → not an absence day
    (3, "truancy", None, 3.0, 20),
    (4, "truancy", None, 3.0, 20),
    (5, "truancy", None, 3.0, 20),
    (6, "truancy", None, 3.0, 20),
]
ATTENDANCE_A_NOV = [(7, "sick", None, 1.0, 5)]  # one student, one day (< 10 % of 21)
ATTENDANCE_B_OCT = [(0, "sick", None, 1.0, 12)]

MATH_SCORES = [90, 92, 95, 99, 100, 80, 81, 85, 86, 88, 89, 60, 61, 62, 65, 69, 50, 59, 0, 5]
ART_LEVELS = ["A"] * 6 + ["B"] * 3 + ["C"] * 2 + ["D"]
CHINESE_SCORES = [108, 102, 72, 71, 120]  # full mark 120
MATH_B_SCORES = [80] * 6

DESTINATIONS = ["15"] * 6 + ["13"] * 2 + ["20"] + [None]
EVALUATION_LEVELS = ["A"] * 5 + ["B"] * 4 + ["C"]

TRANSFERS_A_TO_B = 6  # effective, 10 days (8 working days)
TRANSFERS_A_TO_C = 1  # rejected after 5 days (3 working days)
TRANSFERS_B_TO_A = 5  # submitted, county step pending and overdue
DROPOUTS_A_Y2 = 6


@dataclass(frozen=True)
class School:
    key: int
    code: str
    county: str
    province: str


def schools(conn: duckdb.DuckDBPyConnection) -> dict[str, School]:
    """The junior middle schools: "A" (64), "B" (46), "C" (11)."""
    found = {}
    for label, province in (("A", "64"), ("B", "46"), ("C", "11")):
        key, code, county = conn.execute(
            "SELECT school_key, school_code, county_code FROM dim_school "
            "WHERE province_code = ? AND kind = 'junior' ORDER BY school_key LIMIT 1",
            [province],
        ).fetchall()[0]
        found[label] = School(key, code, county, province)
    return found


def year_key(conn: duckdb.DuckDBPyConnection, code: str) -> int:
    return int(
        conn.execute(
            "SELECT school_year_key FROM dim_school_year WHERE code = ?", [code]
        ).fetchall()[0][0]
    )


def students(
    conn: duckdb.DuckDBPyConnection, school: School, year: str, grade: str | None = None
) -> list[str]:
    """Active students of a school in a year (and grade), in a fixed order."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT f.student_key FROM fact_enrollment f "
            "JOIN dim_school_year y ON y.school_year_key = f.school_year_key "
            "WHERE f.is_active AND f.school_key = ? AND y.code = ? "
            "AND (? IS NULL OR f.grade_code = ?) ORDER BY f.student_key",
            [school.key, year, grade, grade],
        ).fetchall()
    ]


def clean_student(conn: duckdb.DuckDBPyConnection, school: School, year: str) -> str:
    """A student of the school with no data-quality problem."""
    return str(
        conn.execute(
            "SELECT d.student_key FROM dim_student d JOIN fact_enrollment f USING (student_key) "
            "JOIN dim_school_year y ON y.school_year_key = f.school_year_key "
            "WHERE f.is_active AND f.school_key = ? AND y.code = ? AND d.current_school_key = ? "
            "AND d.current_status = '01' AND d.id_doc_type_class <> 'none' "
            "AND d.number_kind <> 'L' AND d.sex IN ('1', '2') ORDER BY d.student_key LIMIT 1",
            [school.key, year, school.key],
        ).fetchall()[0][0]
    )


def _key(label: str) -> str:
    """A stand-in pseudonymous key (a UUID, as the ETL's)."""
    return str(uuid.UUID(bytes=hashlib.sha256(label.encode()).digest()[:16]))


def insert_facts(conn: duckdb.DuckDBPyConnection) -> None:
    s = schools(conn)
    a, b, c = s["A"], s["B"], s["C"]
    y3 = year_key(conn, "2026-2027")
    term_key = conn.execute(
        "SELECT term_key FROM dim_term WHERE school_year_key = ? AND number = 1", [y3]
    ).fetchall()[0][0]
    st_a = students(conn, a, "2026-2027")
    st_a21 = students(conn, a, "2026-2027", "21")
    st_b = students(conn, b, "2026-2027")
    st_a2_23 = students(conn, a, "2025-2026", "23")

    def attendance(school: School, pool: list[str], rows: list, month: int, year: int) -> None:
        for idx, kind, periods, days, day in rows:
            conn.execute(
                "INSERT INTO fact_attendance VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?)",
                [
                    pool[idx],
                    school.key,
                    school.county,
                    school.province,
                    date(year, month, day),
                    kind,
                    periods,
                    days,
                ],
            )

    attendance(a, st_a, ATTENDANCE_A_OCT, 10, 2026)
    attendance(a, st_a, ATTENDANCE_A_NOV, 11, 2026)
    attendance(b, st_b, ATTENDANCE_B_OCT, 10, 2026)

    def score(
        school: School,
        student: str,
        exam: int,
        subject: str,
        value: float | None,
        full: float | None,
        level: str | None,
        absent: bool = False,
    ) -> None:
        conn.execute(
            "INSERT INTO fact_score VALUES (?, ?, ?, ?, ?, ?, '21', 'final', ?, ?, ?, ?, ?, ?)",
            [
                student,
                exam,
                school.key,
                school.county,
                school.province,
                term_key,
                date(2027, 1, 10),
                subject,
                value,
                full,
                level,
                absent,
            ],
        )

    for i, v in enumerate(MATH_SCORES):
        score(a, st_a21[i], 9001, "math", v, 100, None)
    score(a, st_a21[20], 9001, "math", None, 100, None, absent=True)
    for i, lv in enumerate(ART_LEVELS):
        score(a, st_a21[i], 9002, "art", None, None, lv)
    for i, v in enumerate(CHINESE_SCORES):
        score(a, st_a21[i], 9003, "chinese", v, 120, None)
    st_b21 = students(conn, b, "2026-2027", "21")
    for i, v in enumerate(MATH_B_SCORES):
        score(b, st_b21[i], 9101, "math", v, 100, None)

    y2 = year_key(conn, "2025-2026")
    for i, dest in enumerate(DESTINATIONS):
        revoked = i == len(DESTINATIONS) - 1
        conn.execute(
            "INSERT INTO fact_graduation VALUES (?, ?, ?, ?, ?, 'junior', '1', ?, ?, ?, ?)",
            [
                st_a2_23[i],
                a.key,
                a.county,
                a.province,
                y2,
                dest,
                date(2026, 7, 1),
                not revoked,
                revoked,
            ],
        )
    for i, lv in enumerate(EVALUATION_LEVELS):
        conn.execute(
            "INSERT INTO fact_evaluation VALUES (?, ?, ?, ?, ?, ?, 'moral', ?)",
            [st_a[i], a.key, a.county, a.province, y3, term_key, lv],
        )

    # Status changes (type 35 transfer requests, one open 52 problem record) and their steps.
    def request(
        n: int,
        student: str,
        ctype: str,
        state: str,
        frm: School | None,
        to: School | None,
        county: School,
        submitted: date,
        closed: date | None,
        lead: float | None,
        workdays: int | None,
        steps: int,
    ) -> str:
        key = _key(f"synthetic-request:{n}")
        conn.execute(
            "INSERT INTO fact_status_change VALUES (?, ?, ?, 'T1', ?, ?, ?, ?, ?, ?, ?, ?, '21', "
            "?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
            [
                key,
                student,
                ctype,
                state,
                "single_school" if to is None else "cross_province",
                frm.key if frm else None,
                to.key if to else None,
                frm.county if frm else None,
                to.county if to else None,
                county.county,
                county.province,
                submitted,
                submitted,
                closed,
                closed if state == "effective" else None,
                state in ("draft", "submitted"),
                steps,
                2 if state == "submitted" else None,
                lead,
                workdays,
            ],
        )
        return key

    def step(
        n: int,
        request_key: str,
        seq: int,
        unit: str,
        school: School | None,
        county: School,
        state: str,
        due: date,
        acted: date | None,
        wait: float | None,
        overdue: bool,
    ) -> None:
        conn.execute(
            "INSERT INTO fact_status_change_step VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                _key(f"synthetic-step:{n}"),
                request_key,
                seq,
                unit,
                school.key if school else None,
                None if school else county.county,
                county.county,
                county.province,
                state,
                state if state in ("approved", "rejected") else None,
                due,
                acted,
                wait,
                overdue,
            ],
        )

    n = 0
    for i in range(TRANSFERS_A_TO_B):
        n += 1
        rk = request(
            n,
            st_a[10 + i],
            "35",
            "effective",
            a,
            b,
            a,
            date(2026, 10, 10),
            date(2026, 10, 20),
            10.0,
            8,
            2,
        )
        step(
            n * 10 + 1,
            rk,
            1,
            "school_registrar",
            a,
            a,
            "approved",
            date(2026, 10, 24),
            date(2026, 10, 12),
            2.0,
            False,
        )
        step(
            n * 10 + 2,
            rk,
            2,
            "county_bureau",
            None,
            a,
            "approved",
            date(2026, 10, 30),
            date(2026, 10, 20),
            8.0,
            False,
        )
    for i in range(TRANSFERS_A_TO_C):
        n += 1
        rk = request(
            n,
            st_a[20 + i],
            "35",
            "rejected",
            a,
            c,
            a,
            date(2026, 10, 10),
            date(2026, 10, 15),
            5.0,
            3,
            1,
        )
        step(
            n * 10 + 1,
            rk,
            1,
            "school_registrar",
            a,
            a,
            "rejected",
            date(2026, 10, 24),
            date(2026, 10, 15),
            5.0,
            False,
        )
    for i in range(TRANSFERS_B_TO_A):
        n += 1
        rk = request(
            n, st_b[i], "35", "submitted", b, a, b, date(2026, 10, 12), None, None, None, 2
        )
        step(
            n * 10 + 1,
            rk,
            1,
            "school_registrar",
            b,
            b,
            "approved",
            date(2026, 10, 26),
            date(2026, 10, 13),
            1.0,
            False,
        )
        step(
            n * 10 + 2,
            rk,
            2,
            "county_bureau",
            None,
            b,
            "pending",
            date(2026, 10, 26),
            None,
            None,
            True,
        )
    n += 1
    request(
        n,
        clean_student(conn, a, "2026-2027"),
        "52",
        "submitted",
        a,
        None,
        a,
        date(2026, 11, 2),
        None,
        None,
        None,
        0,
    )

    # Dropouts: enrollments of school A's grade 22 in 2025-2026 ended by 28 辍学.
    dropouts = students(conn, a, "2025-2026", "22")[:DROPOUTS_A_Y2]
    for key in dropouts:
        conn.execute(
            "UPDATE fact_enrollment SET end_reason = '28', ended_on = DATE '2026-03-02' "
            "WHERE student_key = ? AND school_key = ? AND school_year_key = ?",
            [key, a.key, y2],
        )

    # The status-change rollup, rebuilt with the ETL's own SQL (as a new snapshot would have it).
    conn.execute("DELETE FROM agg_status_change")
    conn.execute(
        "INSERT INTO agg_status_change BY NAME " + TABLE_SQL["agg_status_change"].replace("wh.", "")
    )
    # Likewise the rollups over the dropouts, the open 问题学籍 request (as of the snapshot) and
    # the teaching facts above.
    (as_of,) = conn.execute("SELECT MAX(as_of) FROM meta_manifest").fetchall()[0]
    conn.execute("SET VARIABLE xueji_as_of = CAST(? AS TIMESTAMP)", [as_of])
    for rollup in (
        "agg_enrollment_end",
        "agg_data_quality",
        "agg_evaluation",
        "agg_attendance",
        "agg_score",
        "agg_score_band",
    ):
        conn.execute(f"DELETE FROM {rollup}")
        conn.execute(f"INSERT INTO {rollup} BY NAME " + TABLE_SQL[rollup].replace("wh.", ""))
