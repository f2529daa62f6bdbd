"""Single-field rules: admin.domain.fields."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from admin.domain.fields import (
    parse_form_date,
    parse_year_month,
    require,
    validate_code,
    validate_email,
    validate_phone,
    validate_postal_code,
    validate_region_code,
)
from admin.domain.messages import Violation

TODAY = date(2025, 6, 1)


def codes(violations: list[Violation]) -> list[str]:
    return [v.code for v in violations]


# --- require ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   ", "\u3000", "\t\n"])
def test_require_blank(value: object) -> None:
    assert require(value, field="name") == [Violation("required", "name")]


@pytest.mark.parametrize("value", ["张三", " x ", 0, False, date(2020, 1, 1)])
def test_require_present(value: object) -> None:
    assert require(value, field="name") == []


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20120229", date(2012, 2, 29)),
        ("2000-02-29", date(2000, 2, 29)),
        (" 2011-01-01 ", date(2011, 1, 1)),
        ("２０１１０１０１", date(2011, 1, 1)),
        (date(2011, 1, 1), date(2011, 1, 1)),
        (datetime(2011, 1, 1, 13, 45), date(2011, 1, 1)),
        ("19000101", date(1900, 1, 1)),
        ("20250601", TODAY),
    ],
)
def test_parse_form_date_accepts(raw: str | date, expected: date) -> None:
    assert parse_form_date(raw, field="birth_date", today=TODAY) == (expected, [])


@pytest.mark.parametrize(
    "raw",
    ["2011/01/01", "2011.01.01", "2011-1-1", "201101", "201101011", "abcdefgh", "2011-01-01T00:00"],
)
def test_parse_form_date_format(raw: str) -> None:
    assert codes(parse_form_date(raw, field="birth_date", today=TODAY)[1]) == ["date.format"]


@pytest.mark.parametrize("raw", ["20130229", "1900-02-29", "20121301", "2012-04-31", "00000000"])
def test_parse_form_date_invalid(raw: str) -> None:
    value, violations = parse_form_date(raw, field="birth_date", today=TODAY)
    assert value is None
    assert codes(violations) == ["date.invalid"]
    assert violations[0].params["value"] == raw


@pytest.mark.parametrize("raw", ["20250602", "2100-02-28", date(2030, 1, 1)])
def test_parse_form_date_future(raw: str | date) -> None:
    assert codes(parse_form_date(raw, field="birth_date", today=TODAY)[1]) == ["date.future"]


@pytest.mark.parametrize("raw", ["18991231", date(1066, 10, 14)])
def test_parse_form_date_too_early(raw: str | date) -> None:
    assert codes(parse_form_date(raw, field="birth_date", today=TODAY)[1]) == ["date.too_early"]


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_parse_form_date_blank_is_not_an_error(raw: str | None) -> None:
    assert parse_form_date(raw, field="birth_date", today=TODAY) == (None, [])


@settings(max_examples=100, deadline=None)
@given(value=st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
def test_parse_form_date_round_trips_both_formats(value: date) -> None:
    for text in (value.strftime("%Y%m%d"), value.isoformat()):
        assert parse_form_date(text, field="birth_date", today=TODAY) == (value, [])


@pytest.mark.parametrize(
    ("raw", "expected"), [("201509", (2015, 9)), ("2015-09", (2015, 9)), (" 2016-12 ", (2016, 12))]
)
def test_parse_year_month(raw: str, expected: tuple[int, int]) -> None:
    assert parse_year_month(raw, field="stage_entry_ym") == (expected, [])


@pytest.mark.parametrize("raw", ["2015-9", "20159", "2015/09", "15-09", "2015-09-01", "abcdef"])
def test_parse_year_month_format(raw: str) -> None:
    assert codes(parse_year_month(raw, field="stage_entry_ym")[1]) == ["year_month.format"]


@pytest.mark.parametrize("raw", ["201500", "201513", "1899-12"])
def test_parse_year_month_invalid(raw: str) -> None:
    assert codes(parse_year_month(raw, field="stage_entry_ym")[1]) == ["year_month.invalid"]


def test_parse_year_month_blank() -> None:
    assert parse_year_month(" ", field="stage_entry_ym") == (None, [])


# --- region codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "county"),
    [
        ("110105", "110105"),
        ("110000", "110000"),  # 籍贯 may be a province
        ("420102001002", "420102"),  # 12-digit 统计用区划代码
        (" 440305 ", "440305"),
        ("８１００００", "810000"),
    ],
)
def test_region_codes_accepted(raw: str, county: str) -> None:
    assert validate_region_code(raw, field="birthplace") == (county, [])


@pytest.mark.parametrize(
    "raw", ["11010", "1101051", "11010a", "4201020010", "4201020010021", "一一〇一〇五"]
)
def test_region_code_format(raw: str) -> None:
    assert codes(validate_region_code(raw, field="birthplace")[1]) == ["region.format"]


@pytest.mark.parametrize("raw", ["000000", "990000", "830000", "720000"])
def test_region_code_bad_province(raw: str) -> None:
    assert codes(validate_region_code(raw, field="birthplace")[1]) == ["region.unknown"]


def test_region_code_against_known_codes() -> None:
    known = {"110105", "420102"}
    assert validate_region_code("420102001002", field="birthplace", known_codes=known) == (
        "420102",
        [],
    )
    county, violations = validate_region_code("110106", field="hukou_region", known_codes=known)
    assert county is None
    assert violations == [Violation("region.unknown", "hukou_region", {"value": "110106"})]
    assert "户口所在地" in violations[0].message()


def test_region_code_blank() -> None:
    assert validate_region_code(None, field="birthplace") == (None, [])


# --- code tables -----------------------------------------------------------------------------


def test_validate_code() -> None:
    ethnicities = {f"{n:02d}" for n in range(1, 57)} | {"97", "98"}
    assert validate_code("01", field="ethnicity", allowed=ethnicities) == []
    assert validate_code(" 56 ", field="ethnicity", allowed=ethnicities) == []
    assert validate_code("", field="ethnicity", allowed=ethnicities) == []
    assert validate_code(None, field="ethnicity", allowed=ethnicities) == []
    assert validate_code("57", field="ethnicity", allowed=ethnicities) == [
        Violation("code.unknown", "ethnicity", {"value": "57"})
    ]
    assert codes(validate_code("1", field="ethnicity", allowed=ethnicities)) == ["code.unknown"]


# --- contact data ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "19912345678",
        "+8613800138000",
        "86 13800138000",
        "+86-13800138000",
        "010-62345678",
        "01062345678",
        "0755-8888888",
        "075588888888",
        "021-62345678-123",
        "０１０－６２３４５６７８",
        None,
        "",
    ],
)
def test_valid_phone_numbers(raw: str | None) -> None:
    assert validate_phone(raw, field="phone") == []


@pytest.mark.parametrize(
    "raw",
    [
        "12800138000",  # 12x is not a mobile prefix
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "23800138000",
        "12345678",  # no area code
        "010-1234567890",
        "010-0234567",  # local numbers never start with 0 or 1
        "010-12345678",
        "00-12345678",
        "010-12345678-",
        "138 0013 8000",
        "phone",
    ],
)
def test_invalid_phone_numbers(raw: str) -> None:
    assert codes(validate_phone(raw, field="phone")) == ["phone.format"]


@pytest.mark.parametrize("raw", ["100000", "518000", " 430000 ", None, ""])
def test_valid_postal_codes(raw: str | None) -> None:
    assert validate_postal_code(raw, field="postal_code") == []


@pytest.mark.parametrize("raw", ["10000", "1000000", "10000a", "100 000"])
def test_invalid_postal_codes(raw: str) -> None:
    assert codes(validate_postal_code(raw, field="postal_code")) == ["postal_code.format"]


@pytest.mark.parametrize(
    "raw",
    [
        "12345@qq.com",
        "zhang.san@example.edu.cn",
        "a+tag@sub-domain.example.com",
        "Li_Si@163.COM",
        "x@ｅｘａｍｐｌｅ.com",
        None,
        "",
    ],
)
def test_valid_emails(raw: str | None) -> None:
    assert validate_email(raw, field="email") == []


@pytest.mark.parametrize(
    "raw",
    [
        "plainaddress",
        "@example.com",
        "a@",
        "a@b",
        "a@b.c",
        "a..b@example.com",
        ".a@example.com",
        "a.@example.com",
        "a@-example.com",
        "a@example-.com",
        "a@example..com",
        "a b@example.com",
        "a@b@example.com",
        "张三@example.com",
        "a@example.c0m",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_invalid_emails(raw: str) -> None:
    assert codes(validate_email(raw, field="email")) == ["email.format"]
