"""学籍号, the national student number: 19 characters, one kind letter + 18 characters.

* G (正式): "G" + the student's 18-character ID number.
* J (正式, no usable ID): "J" + 6-digit school division code + YYYYMMDD birth date +
  3-digit sequence 001–999 + MOD 11-2 check character, built like an ID number.
* L (临时): "L" + 6-digit school division code + YYYYMMDD + 4 random digits, no check.

"一人一号，终身不变": see ``check_number_change``.  DOMAIN.md §1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from admin.domain.idcard import PROVINCE_CODES, check_char, validate_id_number
from admin.domain.messages import RuleError, Violation
from admin.domain.text import MIN_DATE, is_ascii_digits, parse_yyyymmdd, to_halfwidth

StudentNumberKind = Literal["G", "J", "L"]
KINDS: Final[tuple[StudentNumberKind, ...]] = ("G", "J", "L")
STUDENT_NUMBER_LENGTH: Final = 19
J_SEQUENCE_MIN: Final = 1
J_SEQUENCE_MAX: Final = 999
L_RANDOM_MAX: Final = 9999

FIELD: Final = "student_number"

# (old kind, new kind) pairs allowed by the lifecycle; None = no number yet.
ALLOWED_CHANGES: Final[frozenset[tuple[str | None, str]]] = frozenset(
    {
        (None, "L"),  # first registration
        (None, "G"),  # e.g. data migrated from a system that already issued official numbers
        (None, "J"),
        ("L", "G"),  # 全国查重 + 人口库 comparison passed
        ("L", "J"),  # passed 查重 without an ID number
        ("J", "G"),  # MoE allows converting J once an ID exists; history is kept
    }
)


@dataclass(frozen=True)
class StudentNumber:
    kind: StudentNumberKind
    value: str  # normalized, 19 characters
    region_code: str | None  # J/L: school division code; G: None (the body is an ID number)
    birth_date: date | None  # J/L: from the number; G: None (use the parsed ID instead)


def normalize_student_number(raw: str) -> str:
    """Trim, full-width → half-width, uppercase (the kind letter and a trailing x)."""
    return to_halfwidth(raw).strip().upper()


def _region_violation(region_code: str) -> Violation | None:
    if len(region_code) != 6 or not is_ascii_digits(region_code):
        return Violation("region.format", "school_region_code")
    if region_code[:2] not in PROVINCE_CODES:
        return Violation("region.unknown", "school_region_code", {"value": region_code})
    return None


def _birth_date_violation(birth_date: date) -> Violation | None:
    if birth_date < MIN_DATE:
        return Violation(
            "student_number.birth_date_invalid", FIELD, {"value": f"{birth_date:%Y%m%d}"}
        )
    return None


def g_number(id_number: str, *, today: date | None = None) -> str:
    """G + a valid ID number.  Without ``today`` the birth date is not checked against it."""
    parsed, violations = validate_id_number(id_number, today=date.max if today is None else today)
    if parsed is None:
        raise RuleError(violations)
    return "G" + parsed.number


def j_number(region_code: str, birth_date: date, sequence: int) -> str:
    """J number from the school's 6-digit division code, birth date and sequence 1..999."""
    problems = [v for v in (_region_violation(region_code), _birth_date_violation(birth_date)) if v]
    if not J_SEQUENCE_MIN <= sequence <= J_SEQUENCE_MAX:
        problems.append(Violation("j_sequence.exhausted", FIELD, {"sequence": sequence}))
    if problems:
        raise RuleError(problems)
    body = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    return "J" + body + check_char(body)


def l_number(region_code: str, birth_date: date, random4: int) -> str:
    """Temporary L number: division code, birth date and 4 random digits (0..9999)."""
    problems = [v for v in (_region_violation(region_code), _birth_date_violation(birth_date)) if v]
    if not 0 <= random4 <= L_RANDOM_MAX:
        problems.append(Violation("student_number.random_range", FIELD, {"value": random4}))
    if problems:
        raise RuleError(problems)
    return f"L{region_code}{birth_date:%Y%m%d}{random4:04d}"


def _parse_region_and_date(number: str, today: date | None) -> tuple[date | None, list[Violation]]:
    """Shared J/L checks on the 6-digit division code and the 8-digit birth date."""
    prefix = number[1:3]
    if prefix not in PROVINCE_CODES:
        return None, [Violation("student_number.region", FIELD, {"prefix": prefix})]
    birth_text = number[7:15]
    birth_date = parse_yyyymmdd(birth_text)
    if birth_date is None or birth_date < MIN_DATE:
        return None, [Violation("student_number.birth_date_invalid", FIELD, {"value": birth_text})]
    if today is not None and birth_date > today:
        return None, [Violation("student_number.birth_date_future", FIELD, {"value": birth_text})]
    return birth_date, []


# ID-number codes re-issued under 学籍号 codes, so the message names the right thing.
_G_BODY_CODES: Final[dict[str, str]] = {
    "id_number.province": "student_number.region",
    "id_number.birth_date_invalid": "student_number.birth_date_invalid",
    "id_number.birth_date_future": "student_number.birth_date_future",
    "id_number.check_digit": "student_number.check_digit",
}


def parse_student_number(
    raw: str, *, today: date | None = None
) -> tuple[StudentNumber | None, list[Violation]]:
    """Validate a 学籍号.  Stops at the first failure.  With ``today``, a birth date after it
    is rejected too."""
    number = normalize_student_number(raw)
    kind = number[:1]
    body = number[1:]
    last_ok = is_ascii_digits(body[17:]) or (kind in ("G", "J") and body[17:] == "X")
    if (
        kind not in KINDS
        or len(number) != STUDENT_NUMBER_LENGTH
        or not is_ascii_digits(body[:17])
        or not last_ok
    ):
        return None, [Violation("student_number.format", FIELD)]
    if kind == "G":
        parsed_id, id_violations = validate_id_number(
            body, today=date.max if today is None else today, field=FIELD
        )
        if parsed_id is None:
            return None, [
                Violation(_G_BODY_CODES.get(v.code, "student_number.format"), FIELD, v.params)
                for v in id_violations
            ]
        return StudentNumber("G", number, None, None), []
    birth_date, violations = _parse_region_and_date(number, today)
    if birth_date is None:
        return None, violations
    if kind == "J":
        expected = check_char(body[:17])
        if body[17] != expected:
            params = {"expected": expected, "actual": body[17]}
            return None, [Violation("student_number.check_digit", FIELD, params)]
        return StudentNumber("J", number, body[:6], birth_date), []
    return StudentNumber("L", number, body[:6], birth_date), []


def check_number_change(old_kind: str | None, new_kind: str) -> list[Violation]:
    """Lifecycle "一人一号，终身不变": only first issue, L → G/J and J → G are allowed."""
    if new_kind not in KINDS:
        return [Violation("code.unknown", "student_number_kind", {"value": new_kind})]
    if old_kind is not None and old_kind not in KINDS:
        return [Violation("code.unknown", "student_number_kind", {"value": old_kind})]
    if (old_kind, new_kind) in ALLOWED_CHANGES:
        return []
    return [Violation("student_number.immutable", FIELD, {"old": old_kind, "new": new_kind})]
