"""公民身份号码 (GB 11643-1999) and the numbers built the same way: 港澳台居民居住证 (prefix
81/82/83) and the 2023 外国人永久居留身份证 (first digit 9).

Structure: 6-digit address code + 8-digit birth date + 3-digit sequence (odd = male) +
ISO 7064 MOD 11-2 check character.  See DOMAIN.md §2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from operator import mul
from typing import Final, Literal

from admin.domain.messages import Violation
from admin.domain.text import MIN_DATE, is_ascii_digits, parse_yyyymmdd, to_halfwidth

# Weight of position i (0-based) is 2^(17-i) mod 11.
WEIGHTS: Final[tuple[int, ...]] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character indexed by (weighted sum mod 11); "X" stands for 10.
CHECK_CHARS: Final = "10X98765432"

ID_LENGTH: Final = 18
LEGACY_ID_LENGTH: Final = 15

# Province-level codes of GB/T 2260 (71 台湾, 81 香港, 82 澳门 included).
PROVINCE_CODES: Final[frozenset[str]] = frozenset(
    f"{n:02d}"
    for n in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
    )
)
# 港澳台居民居住证 use 810000 / 820000 / 830000; 83 exists only on these permits.
RESIDENCE_PERMIT_PREFIXES: Final[frozenset[str]] = frozenset({"81", "82", "83"})
ID_PROVINCE_PREFIXES: Final[frozenset[str]] = PROVINCE_CODES | RESIDENCE_PERMIT_PREFIXES
# The 2023 foreign permanent resident card starts with 9 (citizen numbers start with 1–8).
FOREIGN_PERMANENT_RESIDENT_DIGIT: Final = "9"

IdKind = Literal["citizen", "hk_macau_tw_residence_permit", "foreign_permanent_resident"]
CITIZEN: Final = "citizen"
RESIDENCE_PERMIT: Final = "hk_macau_tw_residence_permit"
FOREIGN_PERMANENT_RESIDENT: Final = "foreign_permanent_resident"

SEX_MALE: Final = "1"  # GB/T 2261.1
SEX_FEMALE: Final = "2"


_ASCII_ZERO_WEIGHT: Final = 48 * sum(WEIGHTS)


def check_char(body17: str) -> str:
    """MOD 11-2 check character of a 17-digit body."""
    if len(body17) != 17 or not is_ascii_digits(body17):
        raise ValueError(f"need 17 ASCII digits, got {body17!r}")
    # Byte values instead of int() per digit: the synthetic-data generator calls this
    # millions of times. sum((b - 48) * w) == sum(b * w) - 48 * sum(w).
    total = sum(map(mul, body17.encode("ascii"), WEIGHTS)) - _ASCII_ZERO_WEIGHT
    return CHECK_CHARS[total % 11]


def normalize_id_number(raw: str) -> str:
    """Trim, full-width → half-width, lowercase x → X.  Does not validate."""
    return to_halfwidth(raw).strip().replace("x", "X")


def id_kind(number: str) -> IdKind | None:
    """Kind of number from its leading digits, or None for an invalid province prefix."""
    if number[:1] == FOREIGN_PERMANENT_RESIDENT_DIGIT:
        return "foreign_permanent_resident"
    prefix = number[:2]
    if prefix in RESIDENCE_PERMIT_PREFIXES:
        return "hk_macau_tw_residence_permit"
    if prefix in PROVINCE_CODES:
        return "citizen"
    return None


def sex_from_sequence(sequence_digit: str) -> str:
    """GB/T 2261.1 sex code from the 17th digit: odd = male, even = female."""
    return SEX_MALE if int(sequence_digit) % 2 == 1 else SEX_FEMALE


@dataclass(frozen=True)
class ParsedId:
    number: str  # normalized, 18 characters
    # 6-digit address code.  For foreign permanent resident cards this is not a county:
    # it holds the issuing province and a nationality code.
    region_code: str
    birth_date: date
    sex: str  # "1" male / "2" female (GB/T 2261.1)
    kind: IdKind


def _has_valid_charset(number: str) -> bool:
    return is_ascii_digits(number[:17]) and (is_ascii_digits(number[17]) or number[17] == "X")


def validate_id_number(
    raw: str,
    *,
    today: date,
    field: str = "id_number",
    earliest_birth_date: date = MIN_DATE,
) -> tuple[ParsedId | None, list[Violation]]:
    """Validate an 18-character ID number.

    Stops at the first failure, in this order: length, charset, province prefix, real birth
    date not before ``earliest_birth_date``, birth date not after ``today``, check character.
    Codes below province level are not checked: IDs keep the codes of abolished counties.

    The 1900-01-01 floor is a plausibility rule for a K-12 registry (students and guardians),
    not part of GB 11643: the standard's own example 440524188001010014 (born 1880) needs
    ``earliest_birth_date=date(1800, 1, 1)``.
    """
    number = normalize_id_number(raw)
    if len(number) == LEGACY_ID_LENGTH and is_ascii_digits(number):
        # The registry stores 18-character numbers only; tell the clerk the upgraded form.
        suggestion = upgrade_15_to_18(number)
        return None, [Violation("id_number.legacy_15", field, {"suggestion": suggestion})]
    if len(number) != ID_LENGTH:
        return None, [Violation("id_number.length", field, {"length": len(number)})]
    if not _has_valid_charset(number):
        return None, [Violation("id_number.charset", field)]
    kind = id_kind(number)
    if kind is None:
        return None, [Violation("id_number.province", field, {"prefix": number[:2]})]
    birth_text = number[6:14]
    birth_date = parse_yyyymmdd(birth_text)
    if birth_date is None or birth_date < earliest_birth_date:
        return None, [Violation("id_number.birth_date_invalid", field, {"value": birth_text})]
    if birth_date > today:
        return None, [Violation("id_number.birth_date_future", field, {"value": birth_text})]
    expected = check_char(number[:17])
    if number[17] != expected:
        params = {"expected": expected, "actual": number[17]}
        return None, [Violation("id_number.check_digit", field, params)]
    parsed = ParsedId(
        number=number,
        region_code=number[:6],
        birth_date=birth_date,
        sex=sex_from_sequence(number[16]),
        kind=kind,
    )
    return parsed, []


def upgrade_15_to_18(id15: str) -> str:
    """GB 11643-1989 15-digit number → 18 characters: "19" before the YYMMDD date, plus check."""
    number = normalize_id_number(id15)
    if len(number) != LEGACY_ID_LENGTH or not is_ascii_digits(number):
        raise ValueError(f"need a 15-digit legacy ID number, got {id15!r}")
    body = number[:6] + "19" + number[6:]
    return body + check_char(body)


def make_id_number(region_code: str, birth_date: date, sequence: int) -> str:
    """Build a valid 18-character number (synthetic data, tests).  Odd sequence = male."""
    if len(region_code) != 6 or not is_ascii_digits(region_code) or id_kind(region_code) is None:
        raise ValueError(f"need a 6-digit code with a valid province prefix, got {region_code!r}")
    if birth_date < MIN_DATE:
        raise ValueError(f"birth date before {MIN_DATE.isoformat()}: {birth_date.isoformat()}")
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be 0..999, got {sequence}")
    body = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    return body + check_char(body)
