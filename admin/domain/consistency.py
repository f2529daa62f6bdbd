"""Cross-field rules: grade and age, form vs. ID number, guardian ID when the student has none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from admin.domain.idcard import SEX_FEMALE, SEX_MALE, ParsedId
from admin.domain.messages import Violation

Stage = Literal["primary", "junior", "senior"]
STAGES: Final[tuple[Stage, ...]] = ("primary", "junior", "senior")
PRIMARY_YEARS_CHOICES: Final[tuple[int, ...]] = (5, 6)  # 小学学制: 6-3 or 5-4 system
COMPULSORY_YEARS: Final = 9
SENIOR_YEARS: Final = 3
PRIMARY_ENTRY_AGE: Final = 6  # age on 1 September when starting primary year 1
SENIOR_ENTRY_AGE: Final = 15

_SEX_NAMES: Final[dict[str, tuple[str, str]]] = {
    SEX_MALE: ("男", "male"),
    SEX_FEMALE: ("女", "female"),
}


@dataclass(frozen=True)
class Grade:
    code: str  # 年级 code: stage digit + year within the stage
    stage: Stage
    year: int  # 1-based year within the stage
    name_zh: str
    name_en: str


GRADES: Final[tuple[Grade, ...]] = (
    Grade("11", "primary", 1, "一年级", "Grade 1"),
    Grade("12", "primary", 2, "二年级", "Grade 2"),
    Grade("13", "primary", 3, "三年级", "Grade 3"),
    Grade("14", "primary", 4, "四年级", "Grade 4"),
    Grade("15", "primary", 5, "五年级", "Grade 5"),
    Grade("16", "primary", 6, "六年级", "Grade 6"),  # 6-3 system only
    Grade("21", "junior", 1, "初一", "Junior 1"),
    Grade("22", "junior", 2, "初二", "Junior 2"),
    Grade("23", "junior", 3, "初三", "Junior 3"),
    Grade("24", "junior", 4, "初四", "Junior 4"),  # 5-4 system only
    Grade("31", "senior", 1, "高一", "Senior 1"),
    Grade("32", "senior", 2, "高二", "Senior 2"),
    Grade("33", "senior", 3, "高三", "Senior 3"),
)
_GRADES_BY_CODE: Final[dict[str, Grade]] = {grade.code: grade for grade in GRADES}


def grade_by_code(code: str) -> Grade | None:
    return _GRADES_BY_CODE.get(code.strip())


def _check_primary_years(primary_years: int) -> None:
    if primary_years not in PRIMARY_YEARS_CHOICES:
        raise ValueError(f"primary school lasts 5 or 6 years, got {primary_years}")


def stage_length(stage: str, primary_years: int) -> int:
    """Years in a stage: primary 5 or 6, junior the rest of the 9 compulsory years, senior 3."""
    _check_primary_years(primary_years)
    if stage == "primary":
        return primary_years
    if stage == "junior":
        return COMPULSORY_YEARS - primary_years
    if stage == "senior":
        return SENIOR_YEARS
    raise ValueError(f"unknown stage {stage!r}")


def grade_exists(grade: Grade, primary_years: int) -> bool:
    """六年级 exists only in the 6-3 system, 初四 only in the 5-4 system."""
    return grade.year <= stage_length(grade.stage, primary_years)


def expected_age(grade: Grade, primary_years: int) -> int:
    """Usual age on 1 September of the school year."""
    if not grade_exists(grade, primary_years):
        raise ValueError(f"{grade.name_en} does not exist with {primary_years}-year primary")
    if grade.stage == "primary":
        first_year_age = PRIMARY_ENTRY_AGE
    elif grade.stage == "junior":
        first_year_age = PRIMARY_ENTRY_AGE + primary_years
    else:
        first_year_age = SENIOR_ENTRY_AGE
    return first_year_age + grade.year - 1


def age_on(birth_date: date, on: date) -> int:
    """Completed years on ``on`` (someone born on 29 February turns a year older on 1 March
    in common years)."""
    had_birthday = (on.month, on.day) >= (birth_date.month, birth_date.day)
    return on.year - birth_date.year - (0 if had_birthday else 1)


def check_age_for_grade(
    birth_date: date,
    grade_code: str,
    school_year_start: date,
    primary_years: int,
    tolerance_years: int = 2,
    field: str = "birth_date",
) -> list[Violation]:
    """Flag an age on ``school_year_start`` (normally 1 September) more than
    ``tolerance_years`` away from the usual age for the grade: usually a typing error."""
    grade = grade_by_code(grade_code)
    if grade is None:
        return [Violation("code.unknown", "grade", {"value": grade_code})]
    if not grade_exists(grade, primary_years):
        params = {
            "grade_zh": grade.name_zh,
            "grade_en": grade.name_en,
            "primary_years": primary_years,
        }
        return [Violation("consistency.grade_not_in_system", "grade", params)]
    usual = expected_age(grade, primary_years)
    age = age_on(birth_date, school_year_start)
    if abs(age - usual) <= tolerance_years:
        return []
    params = {
        "age": age,
        "expected": usual,
        "tolerance": tolerance_years,
        "grade_code": grade.code,
        "grade_zh": grade.name_zh,
        "grade_en": grade.name_en,
        "school_year_start": school_year_start.isoformat(),
    }
    return [Violation("consistency.age_for_grade", field, params)]


def check_form_matches_id(
    form_sex: str, form_birth_date: date, parsed: ParsedId
) -> list[Violation]:
    """Sex and birth date on the form must match the ID number (citizen IDs and permits;
    the caller decides when the document type makes this meaningful)."""
    violations: list[Violation] = []
    if form_sex.strip() != parsed.sex:
        name_zh, name_en = _SEX_NAMES[parsed.sex]
        params = {
            "form": form_sex,
            "from_id": parsed.sex,
            "from_id_zh": name_zh,
            "from_id_en": name_en,
        }
        violations.append(Violation("consistency.sex_mismatch", "sex", params))
    if form_birth_date != parsed.birth_date:
        params = {"form": form_birth_date.isoformat(), "from_id": parsed.birth_date.isoformat()}
        violations.append(Violation("consistency.birth_date_mismatch", "birth_date", params))
    return violations


def check_guardian_id_required(
    student_has_usable_id: bool, guardian_id_numbers: Sequence[str | None]
) -> list[Violation]:
    """Without a usable student ID number, at least one guardian ID number is mandatory
    (national form instructions)."""
    if student_has_usable_id or any(n and n.strip() for n in guardian_id_numbers):
        return []
    return [Violation("consistency.guardian_id_required", "guardian_id_number")]
