"""Cross-field rules: admin.domain.consistency."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from admin.domain.consistency import (
    GRADES,
    Grade,
    age_on,
    check_age_for_grade,
    check_form_matches_id,
    check_guardian_id_required,
    expected_age,
    grade_by_code,
    grade_exists,
    stage_length,
)
from admin.domain.idcard import ParsedId, make_id_number, validate_id_number
from admin.domain.messages import Violation

START = date(2024, 9, 1)  # school year 2024-2025


def codes(violations: list[Violation]) -> list[str]:
    return [v.code for v in violations]


# --- grades ----------------------------------------------------------------------------------


def test_grade_codes() -> None:
    assert [g.code for g in GRADES] == [
        "11", "12", "13", "14", "15", "16", "21", "22", "23", "24", "31", "32", "33",
    ]  # fmt: skip
    assert [g.name_zh for g in GRADES if g.stage == "junior"] == ["初一", "初二", "初三", "初四"]
    assert grade_by_code("16") == Grade("16", "primary", 6, "六年级", "Grade 6")
    assert grade_by_code(" 33 ") is not None
    assert grade_by_code("17") is None
    assert grade_by_code("") is None


@pytest.mark.parametrize(
    ("stage", "primary_years", "length"),
    [
        ("primary", 6, 6),
        ("primary", 5, 5),
        ("junior", 6, 3),
        ("junior", 5, 4),
        ("senior", 6, 3),
        ("senior", 5, 3),
    ],
)
def test_stage_length(stage: str, primary_years: int, length: int) -> None:
    assert stage_length(stage, primary_years) == length


@pytest.mark.parametrize(
    ("stage", "primary_years"), [("primary", 4), ("junior", 7), ("college", 6)]
)
def test_stage_length_rejects_bad_arguments(stage: str, primary_years: int) -> None:
    with pytest.raises(ValueError):
        stage_length(stage, primary_years)


def test_grade_existence_depends_on_the_system() -> None:
    six, four = grade_by_code("16"), grade_by_code("24")
    assert six is not None and four is not None
    assert grade_exists(six, 6) and not grade_exists(six, 5)
    assert grade_exists(four, 5) and not grade_exists(four, 6)


@pytest.mark.parametrize(
    ("code", "six_three", "five_four"),
    [
        ("11", 6, 6),
        ("15", 10, 10),
        ("16", 11, None),
        ("21", 12, 11),
        ("23", 14, 13),
        ("24", None, 14),
        ("31", 15, 15),
        ("33", 17, 17),
    ],
)
def test_expected_age(code: str, six_three: int | None, five_four: int | None) -> None:
    grade = grade_by_code(code)
    assert grade is not None
    for primary_years, age in ((6, six_three), (5, five_four)):
        if age is None:
            with pytest.raises(ValueError):
                expected_age(grade, primary_years)
        else:
            assert expected_age(grade, primary_years) == age


@pytest.mark.parametrize("primary_years", [5, 6])
def test_grades_of_a_system_run_from_6_to_17(primary_years: int) -> None:
    ages = [expected_age(g, primary_years) for g in GRADES if grade_exists(g, primary_years)]
    assert ages == list(range(6, 18))


# --- age on a date ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(2018, 9, 1), date(2024, 9, 1), 6),
        (date(2018, 9, 2), date(2024, 9, 1), 5),
        (date(2018, 8, 31), date(2024, 9, 1), 6),
        (date(2012, 2, 29), date(2023, 2, 28), 10),
        (date(2012, 2, 29), date(2023, 3, 1), 11),
        (date(2012, 2, 29), date(2024, 2, 29), 12),
        (date(2024, 9, 2), date(2024, 9, 1), -1),
    ],
)
def test_age_on(birth: date, on: date, age: int) -> None:
    assert age_on(birth, on) == age


# --- age for grade ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "ok"),
    [
        (date(2018, 9, 1), True),  # 6, the usual age
        (date(2015, 9, 2), True),  # 8: +2, upper edge
        (date(2015, 9, 1), False),  # 9: +3
        (date(2020, 9, 1), True),  # 4: -2, lower edge
        (date(2020, 9, 2), False),  # 3: -3
    ],
)
def test_age_tolerance_edges_for_first_grade(birth: date, ok: bool) -> None:
    violations = check_age_for_grade(birth, "11", START, 6)
    assert codes(violations) == ([] if ok else ["consistency.age_for_grade"])


def test_age_violation_details_and_message() -> None:
    (violation,) = check_age_for_grade(date(2015, 9, 1), "11", START, 6)
    assert violation.field == "birth_date"
    assert violation.params["age"] == 9
    assert violation.params["expected"] == 6
    assert violation.params["tolerance"] == 2
    assert violation.message() == (
        "出生日期：2024-09-01 时年龄为9岁，一年级通常为6岁（允许相差2岁）"
    )
    assert "Grade 1 is usually 6" in violation.message("en")


def test_zero_tolerance_and_custom_field() -> None:
    assert check_age_for_grade(date(2018, 9, 1), "11", START, 6, tolerance_years=0) == []
    violations = check_age_for_grade(
        date(2018, 9, 2), "11", START, 6, tolerance_years=0, field="id_number"
    )
    assert [(v.code, v.field) for v in violations] == [("consistency.age_for_grade", "id_number")]


def test_five_and_six_year_primary_differ_for_junior_one() -> None:
    born = date(2013, 9, 1)  # 11 on 2024-09-01
    assert check_age_for_grade(born, "21", START, 5, tolerance_years=0) == []
    assert codes(check_age_for_grade(born, "21", START, 6, tolerance_years=0)) == [
        "consistency.age_for_grade"
    ]
    assert check_age_for_grade(born, "21", START, 6, tolerance_years=1) == []


def test_grade_outside_the_system() -> None:
    born = date(2013, 9, 1)
    (six,) = check_age_for_grade(born, "16", START, 5)
    assert (six.code, six.field) == ("consistency.grade_not_in_system", "grade")
    assert six.message() == "年级：5年制小学的学校没有六年级"
    (four,) = check_age_for_grade(born, "24", START, 6)
    assert four.code == "consistency.grade_not_in_system"
    assert check_age_for_grade(date(2010, 9, 1), "24", START, 5) == []


def test_unknown_grade_code() -> None:
    assert check_age_for_grade(date(2013, 9, 1), "41", START, 6) == [
        Violation("code.unknown", "grade", {"value": "41"})
    ]


@settings(max_examples=200, deadline=None)
@given(
    grade=st.sampled_from(GRADES),
    primary_years=st.sampled_from([5, 6]),
    offset=st.integers(-2, 2),
    days=st.integers(0, 364),
)
def test_ages_within_tolerance_pass(
    grade: Grade, primary_years: int, offset: int, days: int
) -> None:
    if not grade_exists(grade, primary_years):
        return
    age = expected_age(grade, primary_years) + offset
    # Born between one day after (start - age - 1 years) and exactly (start - age years).
    latest = START.replace(year=START.year - age)
    birth = date.fromordinal(latest.toordinal() - days)
    assert age_on(birth, START) == age
    assert check_age_for_grade(birth, grade.code, START, primary_years) == []


# --- form vs. ID number ----------------------------------------------------------------------


def _parsed(birth: date, sequence: int) -> ParsedId:
    parsed, _ = validate_id_number(
        make_id_number("440305", birth, sequence), today=date(2025, 6, 1)
    )
    assert parsed is not None
    return parsed


def test_form_matches_id() -> None:
    parsed = _parsed(date(2012, 2, 29), 13)  # male
    assert check_form_matches_id("1", date(2012, 2, 29), parsed) == []
    assert check_form_matches_id(" 1 ", date(2012, 2, 29), parsed) == []


def test_sex_mismatch() -> None:
    parsed = _parsed(date(2012, 2, 29), 14)  # female
    (violation,) = check_form_matches_id("1", date(2012, 2, 29), parsed)
    assert (violation.code, violation.field) == ("consistency.sex_mismatch", "sex")
    assert violation.message() == "性别：与身份证件号不一致（证件号显示为女）"
    assert violation.message("en") == "Sex: does not match the ID number (which says female)"


def test_birth_date_mismatch_and_both() -> None:
    parsed = _parsed(date(2012, 2, 29), 13)
    (violation,) = check_form_matches_id("1", date(2012, 3, 1), parsed)
    assert (violation.code, violation.field) == ("consistency.birth_date_mismatch", "birth_date")
    assert violation.params["from_id"] == "2012-02-29"
    both = check_form_matches_id("2", date(2012, 3, 1), parsed)
    assert codes(both) == ["consistency.sex_mismatch", "consistency.birth_date_mismatch"]


# --- guardian ID -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("has_id", "guardian_ids", "required"),
    [
        (True, [], False),
        (True, [None, None], False),
        (False, ["11010519491231002X"], False),
        (False, [None, "11010519491231002X"], False),
        (False, [], True),
        (False, [None, None], True),
        (False, ["", "  "], True),
        (False, ["\u3000"], True),
    ],
)
def test_guardian_id_required(has_id: bool, guardian_ids: list[str | None], required: bool) -> None:
    violations = check_guardian_id_required(has_id, guardian_ids)
    expected = [Violation("consistency.guardian_id_required", "guardian_id_number")]
    assert violations == (expected if required else [])
