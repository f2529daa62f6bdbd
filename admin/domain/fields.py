"""Rules for single form fields.

Each returns its violations (empty when valid); parsers also return the parsed value.
Blank input (None or whitespace) is *not* an error here: presence is a separate rule,
``require``, so optional fields can share the same format checks.
"""

from __future__ import annotations

import re
from collections.abc import Container
from datetime import date, datetime
from typing import Final

from admin.domain.idcard import PROVINCE_CODES
from admin.domain.messages import Violation
from admin.domain.text import MIN_DATE, is_ascii_digits, parse_yyyymmdd, to_halfwidth

# Explicit [0-9]: in Python regexes \d also matches non-ASCII digits.
_ISO_DATE: Final = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_YEAR_MONTH: Final = re.compile(r"([0-9]{4})-?([0-9]{2})")
# Mainland mobile, optionally with the +86 country code.
_MOBILE: Final = re.compile(r"(?:\+?86[- ]?)?1[3-9][0-9]{9}")
# Landline: area code 0 + 2–3 digits (never 00, the international prefix), local number of
# 7–8 digits not starting with 0/1, optional extension.
_LANDLINE: Final = re.compile(r"0[1-9][0-9]{1,2}-?[2-9][0-9]{6,7}(?:-[0-9]{1,6})?")
_POSTAL_CODE: Final = re.compile(r"[0-9]{6}")
# Deliberately simple: dot-atom local part, dotted host name, alphabetic TLD.
_EMAIL: Final = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_EMAIL_MAX_LENGTH: Final = 254  # RFC 5321 path limit
_EMAIL_LOCAL_MAX_LENGTH: Final = 64


def _clean(raw: str | None) -> str:
    return "" if raw is None else to_halfwidth(raw).strip()


def require(value: object, *, field: str) -> list[Violation]:
    """``required`` when the value is None or a blank string."""
    if value is None or (isinstance(value, str) and not _clean(value)):
        return [Violation("required", field)]
    return []


def _check_date_range(value: date, *, field: str, today: date) -> list[Violation]:
    if value < MIN_DATE:
        return [Violation("date.too_early", field, {"minimum": MIN_DATE.isoformat()})]
    if value > today:
        return [Violation("date.future", field)]
    return []


def parse_form_date(
    raw: str | date | None, *, field: str, today: date
) -> tuple[date | None, list[Violation]]:
    """A date object, "YYYYMMDD" or "YYYY-MM-DD": a real date, 1900 or later, not after today."""
    if isinstance(raw, date):
        value = raw.date() if isinstance(raw, datetime) else raw
    else:
        text = _clean(raw)
        if not text:
            return None, []
        iso = _ISO_DATE.fullmatch(text)
        compact = "".join(iso.groups()) if iso else text
        if len(compact) != 8 or not is_ascii_digits(compact):
            return None, [Violation("date.format", field)]
        parsed = parse_yyyymmdd(compact)
        if parsed is None:
            return None, [Violation("date.invalid", field, {"value": text})]
        value = parsed
    violations = _check_date_range(value, field=field, today=today)
    return (None if violations else value), violations


def parse_year_month(
    raw: str | None, *, field: str
) -> tuple[tuple[int, int] | None, list[Violation]]:
    """入学年月 "YYYYMM" or "YYYY-MM" → (year, month)."""
    text = _clean(raw)
    if not text:
        return None, []
    match = _YEAR_MONTH.fullmatch(text)
    if match is None:
        return None, [Violation("year_month.format", field)]
    year, month = int(match.group(1)), int(match.group(2))
    if year < MIN_DATE.year or not 1 <= month <= 12:
        return None, [Violation("year_month.invalid", field, {"value": text})]
    return (year, month), []


def validate_region_code(
    raw: str | None, *, field: str, known_codes: Container[str] | None = None
) -> tuple[str | None, list[Violation]]:
    """6-digit GB/T 2260 code or 12-digit 统计用区划代码 → the 6-digit county code.

    Without ``known_codes`` only the shape and the province prefix are checked; with it the
    county must be listed (pass a table that includes abolished codes where history matters).
    """
    text = _clean(raw)
    if not text:
        return None, []
    if len(text) not in (6, 12) or not is_ascii_digits(text):
        return None, [Violation("region.format", field)]
    county = text[:6]
    if county[:2] not in PROVINCE_CODES or (known_codes is not None and county not in known_codes):
        return None, [Violation("region.unknown", field, {"value": text})]
    return county, []


def validate_code(value: str | None, *, field: str, allowed: Container[str]) -> list[Violation]:
    """The value must be one of ``allowed`` (a code table)."""
    text = _clean(value)
    if text and text not in allowed:
        return [Violation("code.unknown", field, {"value": text})]
    return []


def validate_phone(raw: str | None, *, field: str) -> list[Violation]:
    """Mainland mobile (1[3-9] + 9 digits) or landline 0AA(A)-NNNNNNN(N)[-ext]."""
    text = _clean(raw)
    if text and not (_MOBILE.fullmatch(text) or _LANDLINE.fullmatch(text)):
        return [Violation("phone.format", field)]
    return []


def validate_postal_code(raw: str | None, *, field: str) -> list[Violation]:
    text = _clean(raw)
    if text and not _POSTAL_CODE.fullmatch(text):
        return [Violation("postal_code.format", field)]
    return []


def validate_email(raw: str | None, *, field: str) -> list[Violation]:
    text = _clean(raw)
    if not text:
        return []
    local = text.rpartition("@")[0]
    if (
        len(text) > _EMAIL_MAX_LENGTH
        or len(local) > _EMAIL_LOCAL_MAX_LENGTH
        or not _EMAIL.fullmatch(text)
    ):
        return [Violation("email.format", field)]
    return []
