"""学籍号 issuance against a real database: J sequences never collide, history is kept."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.domain.messages import RuleError
from admin.domain.student_number import parse_student_number
from admin.extensions import db
from admin.models import Student, StudentNumberHistory
from admin.services.numbering import (
    allocate_j_sequence,
    issue_j_number,
    new_l_number,
    replace_student_number,
)

BIRTH = date(2019, 5, 17)


def test_j_sequence_is_sequential(initialized_app):
    with initialized_app.app_context():
        got = [allocate_j_sequence(db.session, "640104", BIRTH) for _ in range(5)]
        db.session.commit()
        assert got == [1, 2, 3, 4, 5]
        other = allocate_j_sequence(db.session, "640105", BIRTH)
        assert other == 1
        number = issue_j_number(db.session, "640104", BIRTH)
        parsed, problems = parse_student_number(number)
        assert problems == [] and parsed.kind == "J" and number[15:18] == "006"


@pytest.mark.pg
def test_j_sequence_under_concurrent_writers(backend, initialized_app):
    """Eight writers on PostgreSQL allocate 80 numbers for one (region, birth date):
    every number is distinct and the sequence has no gaps."""
    if backend != "pg":
        pytest.skip("concurrency is exercised on PostgreSQL; SQLite serialises writers")
    with initialized_app.app_context():
        engine = db.engine
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def writer() -> None:
        try:
            barrier.wait()
            for _ in range(10):
                with Session(engine) as session, session.begin():
                    seq = allocate_j_sequence(session, "640104", BIRTH)
                with lock:
                    results.append(seq)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == list(range(1, 81))


def test_sequence_exhaustion_is_a_rule_error(initialized_app):
    from admin.models import JNumberSequence

    with initialized_app.app_context():
        db.session.add(JNumberSequence(region_code="640104", birth_date=BIRTH, last_sequence=999))
        db.session.commit()
        with pytest.raises(RuleError) as info:
            allocate_j_sequence(db.session, "640104", BIRTH)
        assert info.value.violations[0].code == "j_sequence.exhausted"
        db.session.rollback()


def _student(number: str, kind: str) -> Student:
    return Student(
        student_number=number,
        student_number_kind=kind,
        name="测试",
        sex="1",
        birth_date=BIRTH,
        birthplace_code="640104",
        native_place_code="640104",
        ethnicity="03",
        nationality="CHN",
        id_doc_type="1",
        id_number="640104201905170017",
        hukou_region_code="640104",
        hukou_type="2",
        current_address="a",
        mailing_address="a",
        home_address="a",
        phone="13800000000",
        postal_code="750001",
    )


def test_l_to_g_keeps_history_and_g_never_changes(initialized_app):
    with initialized_app.app_context():
        s = db.session
        l_value = new_l_number(s, "640104", BIRTH)
        student = _student(l_value, "L")
        s.add(student)
        s.flush()
        s.add(StudentNumberHistory(student_id=student.id, number=l_value, kind="L"))
        s.flush()
        replace_student_number(s, student, "G640104201905170017", "G", "全国查重通过")
        s.commit()
        history = s.scalars(
            select(StudentNumberHistory)
            .where(StudentNumberHistory.student_id == student.id)
            .order_by(StudentNumberHistory.id)
        ).all()
        assert [h.kind for h in history] == ["L", "G"]
        assert history[0].superseded_at is not None and history[1].superseded_at is None
        with pytest.raises(RuleError) as info:
            replace_student_number(s, student, "J640104201905170013", "J", "x")
        assert info.value.violations[0].code == "student_number.immutable"
        s.rollback()
        assert s.get(Student, student.id).student_number == "G640104201905170017"
