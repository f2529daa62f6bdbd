"""GB 11643-1999 ID numbers: admin.domain.idcard."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from admin.domain.idcard import (
    CHECK_CHARS,
    ID_PROVINCE_PREFIXES,
    PROVINCE_CODES,
    WEIGHTS,
    ParsedId,
    check_char,
    make_id_number,
    normalize_id_number,
    upgrade_15_to_18,
    validate_id_number,
)

TODAY = date(2025, 6, 1)
APPENDIX_EXAMPLES = [
    # number, region, birth date, sex
    ("11010519491231002X", "110105", date(1949, 12, 31), "2"),
    ("440524188001010014", "440524", date(1880, 1, 1), "1"),
    ("34052419800101001X", "340524", date(1980, 1, 1), "1"),
    ("370101190102039973", "370101", date(1901, 2, 3), "1"),
]


def codes(raw: str, today: date = TODAY) -> list[str]:
    return [v.code for v in validate_id_number(raw, today=today)[1]]


def with_check(body17: str) -> str:
    return body17 + check_char(body17)


# --- check character -------------------------------------------------------------------------


def test_weights_are_powers_of_two_mod_11() -> None:
    assert list(WEIGHTS) == [pow(2, 17 - i, 11) for i in range(17)]
    assert CHECK_CHARS == "10X98765432"


@pytest.mark.parametrize("number", [n for n, *_ in APPENDIX_EXAMPLES])
def test_check_char_of_appendix_examples(number: str) -> None:
    assert check_char(number[:17]) == number[17]


def test_check_char_maps_every_remainder() -> None:
    # Check value 10 is written X; (sum + check) ≡ 1 (mod 11) for every body.
    for body in ("11010519491231002", "00000000000000000", "99999999999999999"):
        total = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True))
        check = check_char(body)
        assert (total + (10 if check == "X" else int(check))) % 11 == 1


@pytest.mark.parametrize(
    "bad", ["", "1234", "1101051949123100", "110105194912310021", "1101051949123100a"]
)
def test_check_char_rejects_non_17_digit_bodies(bad: str) -> None:
    with pytest.raises(ValueError):
        check_char(bad)


# --- the four appendix examples --------------------------------------------------------------


@pytest.mark.parametrize(("number", "region", "birth", "sex"), APPENDIX_EXAMPLES)
def test_appendix_examples_validate(number: str, region: str, birth: date, sex: str) -> None:
    # The standard's 440524188001010014 is born in 1880, before the registry's 1900 floor.
    parsed, violations = validate_id_number(
        number, today=TODAY, earliest_birth_date=date(1800, 1, 1)
    )
    assert violations == []
    assert parsed == ParsedId(
        number=number, region_code=region, birth_date=birth, sex=sex, kind="citizen"
    )


@pytest.mark.parametrize(("number", "region", "birth", "sex"), APPENDIX_EXAMPLES)
def test_appendix_examples_with_default_1900_floor(
    number: str, region: str, birth: date, sex: str
) -> None:
    expected = [] if birth.year >= 1900 else ["id_number.birth_date_invalid"]
    assert codes(number) == expected


def test_upgrade_15_to_18_appendix_example() -> None:
    assert upgrade_15_to_18("110105491231002") == "11010519491231002X"


@pytest.mark.parametrize(
    "bad", ["", "11010549123100", "1101054912310021", "11010549123100X", "11010519491231002X"]
)
def test_upgrade_15_to_18_rejects_non_15_digit_input(bad: str) -> None:
    with pytest.raises(ValueError):
        upgrade_15_to_18(bad)


def test_legacy_15_digit_number_is_reported_with_upgrade_suggestion() -> None:
    parsed, violations = validate_id_number("110105491231002", today=TODAY)
    assert parsed is None
    assert [v.code for v in violations] == ["id_number.legacy_15"]
    assert violations[0].params["suggestion"] == "11010519491231002X"
    assert "11010519491231002X" in violations[0].message()


# --- normalization ---------------------------------------------------------------------------


def test_normalize_lowercase_x_and_whitespace() -> None:
    assert normalize_id_number("  11010519491231002x\t") == "11010519491231002X"


def test_normalize_full_width_input() -> None:
    full_width = "\u3000１１０１０５１９４９１２３１００２ｘ\u3000"
    assert normalize_id_number(full_width) == "11010519491231002X"
    parsed, violations = validate_id_number(full_width, today=TODAY)
    assert violations == []
    assert parsed is not None and parsed.number == "11010519491231002X"


def test_normalize_does_not_validate() -> None:
    assert normalize_id_number(" abc ") == "abc"


def test_lowercase_x_is_accepted_and_normalized() -> None:
    parsed, violations = validate_id_number("34052419800101001x", today=TODAY)
    assert violations == []
    assert parsed is not None and parsed.number == "34052419800101001X"


# --- birth dates -----------------------------------------------------------------------------


@pytest.mark.parametrize("birth", ["20120229", "20000229", "19000101", "19960229"])
def test_real_dates_including_leap_days_are_valid(birth: str) -> None:
    assert codes(with_check(f"110105{birth}123")) == []


@pytest.mark.parametrize(
    "birth", ["20130229", "19000229", "21000229", "20120230", "20121301", "20120000", "18991231"]
)
def test_impossible_or_too_old_dates_are_invalid(birth: str) -> None:
    # 2100-02-29 does not exist: reported as invalid, not as a future date.
    parsed, violations = validate_id_number(with_check(f"110105{birth}123"), today=TODAY)
    assert parsed is None
    assert [v.code for v in violations] == ["id_number.birth_date_invalid"]
    assert violations[0].params["value"] == birth


def test_birth_today_is_valid_tomorrow_is_future() -> None:
    assert codes(with_check(f"110105{TODAY:%Y%m%d}123")) == []
    tomorrow = TODAY + timedelta(days=1)
    assert codes(with_check(f"110105{tomorrow:%Y%m%d}123")) == ["id_number.birth_date_future"]
    assert codes(with_check("11010521000228123")) == ["id_number.birth_date_future"]


def test_future_check_uses_the_given_today() -> None:
    number = with_check("11010520250602123")
    assert codes(number, today=date(2025, 6, 1)) == ["id_number.birth_date_future"]
    assert codes(number, today=date(2025, 6, 2)) == []


# --- check digit -----------------------------------------------------------------------------


@pytest.mark.parametrize("number", [n for n, *_ in APPENDIX_EXAMPLES])
def test_every_wrong_check_character_is_reported(number: str) -> None:
    for wrong in CHECK_CHARS:
        if wrong == number[17]:
            continue
        parsed, violations = validate_id_number(
            number[:17] + wrong, today=TODAY, earliest_birth_date=date(1800, 1, 1)
        )
        assert parsed is None
        assert [v.code for v in violations] == ["id_number.check_digit"]
        assert dict(violations[0].params) == {"expected": number[17], "actual": wrong}


def test_check_digit_message_names_field_and_expected_char() -> None:
    _, violations = validate_id_number("110105194912310021", today=TODAY)
    assert violations[0].message("zh_CN") == "身份证件号：校验码错误，应为 X"
    assert violations[0].message("en") == "ID number: wrong check digit, expected X"


# --- kinds and province prefixes -------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "label"), [("81", "香港"), ("82", "澳门"), ("83", "台湾")])
def test_hk_macau_taiwan_residence_permits(prefix: str, label: str) -> None:
    parsed, violations = validate_id_number(with_check(f"{prefix}000020100101002"), today=TODAY)
    assert violations == [], label
    assert parsed is not None
    assert parsed.kind == "hk_macau_tw_residence_permit"
    assert parsed.region_code == f"{prefix}0000"
    assert parsed.sex == "2"


@pytest.mark.parametrize("prefix", ["91", "93", "99", "90"])
def test_foreign_permanent_resident_card_starts_with_9(prefix: str) -> None:
    parsed, violations = validate_id_number(
        with_check(f"{prefix}1840" + "20150101001"), today=TODAY
    )
    assert violations == []
    assert parsed is not None and parsed.kind == "foreign_permanent_resident"


@pytest.mark.parametrize(
    "prefix",
    [
        "00",
        "01",
        "10",
        "16",
        "19",
        "20",
        "24",
        "30",
        "38",
        "40",
        "47",
        "49",
        "55",
        "60",
        "66",
        "70",
        "72",
        "80",
        "84",
        "89",
    ],
)
def test_invalid_province_prefixes(prefix: str) -> None:
    parsed, violations = validate_id_number(with_check(f"{prefix}010520100101001"), today=TODAY)
    assert parsed is None
    assert [v.code for v in violations] == ["id_number.province"]
    assert violations[0].params["prefix"] == prefix


def test_all_listed_province_codes_are_citizen_prefixes() -> None:
    expected = {
        *map(str, range(11, 16)),
        *map(str, range(21, 24)),
        *map(str, range(31, 38)),
        *map(str, range(41, 47)),
        *map(str, range(50, 55)),
        *map(str, range(61, 66)),
        "71",
        "81",
        "82",
    }
    assert expected == PROVINCE_CODES
    assert PROVINCE_CODES | {"83"} == ID_PROVINCE_PREFIXES
    for prefix in PROVINCE_CODES - {"81", "82"}:
        parsed, _ = validate_id_number(with_check(f"{prefix}010520100101001"), today=TODAY)
        assert parsed is not None and parsed.kind == "citizen"


def test_abolished_county_codes_are_not_rejected() -> None:
    # 110103 (北京市崇文区) was abolished in 2010; people keep their numbers.
    assert codes(with_check("11010319800101001")) == []


# --- length and charset ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["", "   ", "1101051949", "11010519491231002", "11010519491231002X1", "11010549123100X"]
)
def test_wrong_lengths(raw: str) -> None:
    parsed, violations = validate_id_number(raw, today=TODAY)
    assert parsed is None
    assert [v.code for v in violations] == ["id_number.length"]
    assert violations[0].params["length"] == len(raw.strip())


@pytest.mark.parametrize(
    "raw",
    [
        "1101051949123100XX",  # X not last
        "11010519491231002Y",
        "11010519491231002?",
        "A1010519491231002X",
        "110105 9491231002X",
        "11010519491231002\u0661",  # Arabic-Indic digit one
        "1101051949123100\u00b2X",  # superscript two: isdigit() but not a plain digit
    ],
)
def test_bad_characters(raw: str) -> None:
    assert codes(raw) == ["id_number.charset"]


def test_only_first_failure_is_reported() -> None:
    # Bad province, impossible date and wrong check digit: the first failure only.
    assert codes("00010520130229001A") == ["id_number.charset"]
    assert codes("000105201302290010") == ["id_number.province"]


def test_custom_field_name_is_used() -> None:
    _, violations = validate_id_number("123", today=TODAY, field="guardian_id_number")
    assert violations[0].field == "guardian_id_number"
    assert violations[0].message().startswith("家庭成员或监护人身份证件号")


# --- sex -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sequence", "sex"), [(0, "2"), (1, "1"), (2, "2"), (999, "1"), (998, "2"), (123, "1")]
)
def test_sex_from_17th_digit(sequence: int, sex: str) -> None:
    parsed, _ = validate_id_number(
        make_id_number("440305", date(2012, 2, 29), sequence), today=TODAY
    )
    assert parsed is not None and parsed.sex == sex


# --- make_id_number --------------------------------------------------------------------------


def test_make_id_number_reproduces_appendix_example() -> None:
    assert make_id_number("110105", date(1949, 12, 31), 2) == "11010519491231002X"


@pytest.mark.parametrize(
    ("region", "birth", "sequence"),
    [
        ("11010", date(2010, 1, 1), 1),
        ("1101051", date(2010, 1, 1), 1),
        ("11010a", date(2010, 1, 1), 1),
        ("000000", date(2010, 1, 1), 1),
        ("110105", date(1899, 12, 31), 1),
        ("110105", date(2010, 1, 1), -1),
        ("110105", date(2010, 1, 1), 1000),
    ],
)
def test_make_id_number_rejects_bad_input(region: str, birth: date, sequence: int) -> None:
    with pytest.raises(ValueError):
        make_id_number(region, birth, sequence)


# --- properties ------------------------------------------------------------------------------

region_codes = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(sorted(ID_PROVINCE_PREFIXES | {f"9{d}" for d in "0123456789"})),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999)
valid_ids = st.builds(make_id_number, region_codes, birth_dates, sequences)


@settings(max_examples=300, deadline=None)
@given(region=region_codes, birth=birth_dates, sequence=sequences)
def test_generated_numbers_validate_and_round_trip(region: str, birth: date, sequence: int) -> None:
    number = make_id_number(region, birth, sequence)
    parsed, violations = validate_id_number(number, today=TODAY)
    assert violations == []
    assert parsed is not None
    assert parsed.number == number
    assert parsed.region_code == region
    assert parsed.birth_date == birth
    assert parsed.sex == ("1" if sequence % 2 else "2")
    expected_kind = (
        "foreign_permanent_resident"
        if region[0] == "9"
        else "hk_macau_tw_residence_permit"
        if region[:2] in {"81", "82", "83"}
        else "citizen"
    )
    assert parsed.kind == expected_kind


@settings(max_examples=300, deadline=None)
@given(number=valid_ids, position=st.integers(0, 17), replacement=st.sampled_from("0123456789X"))
def test_any_single_substitution_is_detected(number: str, position: int, replacement: str) -> None:
    if replacement == number[position]:
        replacement = "0" if number[position] != "0" else "1"
    corrupted = number[:position] + replacement + number[position + 1 :]
    parsed, violations = validate_id_number(corrupted, today=TODAY)
    assert parsed is None
    assert violations


@settings(max_examples=200, deadline=None)
@given(number=valid_ids, position=st.integers(0, 17), replacement=st.characters())
def test_any_single_substitution_with_any_character_is_detected(
    number: str, position: int, replacement: str
) -> None:
    corrupted = number[:position] + replacement + number[position + 1 :]
    if normalize_id_number(corrupted) == number:
        return  # e.g. a full-width copy of the same digit: not a change
    parsed, violations = validate_id_number(corrupted, today=TODAY)
    assert parsed is None
    assert violations


@settings(max_examples=300, deadline=None)
@given(number=valid_ids, position=st.integers(0, 15))
def test_adjacent_transpositions_in_body_are_detected(number: str, position: int) -> None:
    first, second = number[position], number[position + 1]
    if first == second:
        return
    swapped = number[:position] + second + first + number[position + 2 :]
    parsed, violations = validate_id_number(swapped, today=TODAY)
    assert parsed is None
    assert violations


@settings(max_examples=100, deadline=None)
@given(id15=st.text(alphabet="0123456789", min_size=15, max_size=15))
def test_upgrade_then_check_char_is_consistent(id15: str) -> None:
    upgraded = upgrade_15_to_18(id15)
    assert upgraded[:6] == id15[:6]
    assert upgraded[6:8] == "19"
    assert upgraded[8:17] == id15[6:]
    assert upgraded[17] == check_char(upgraded[:17])
