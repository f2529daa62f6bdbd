"""学籍号 (G/J/L): admin.domain.student_number."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from admin.domain.idcard import PROVINCE_CODES, check_char
from admin.domain.messages import RuleError
from admin.domain.student_number import (
    J_SEQUENCE_MAX,
    KINDS,
    StudentNumber,
    check_number_change,
    g_number,
    j_number,
    l_number,
    parse_student_number,
)

TODAY = date(2025, 6, 1)
BIRTH = date(2015, 9, 1)


def codes(raw: str, today: date | None = None) -> list[str]:
    return [v.code for v in parse_student_number(raw, today=today)[1]]


def rule_codes(error: pytest.ExceptionInfo[RuleError]) -> list[str]:
    return [v.code for v in error.value.violations]


# --- G ---------------------------------------------------------------------------------------


def test_g_number_is_g_plus_id_number() -> None:
    assert g_number("11010519491231002X") == "G11010519491231002X"


def test_g_number_normalizes_its_input() -> None:
    assert g_number(" 11010519491231002x ") == "G11010519491231002X"


@pytest.mark.parametrize(
    ("id_number", "code"),
    [
        ("110105194912310021", "id_number.check_digit"),
        ("110105491231002", "id_number.legacy_15"),
        ("", "id_number.length"),
        ("00010519491231002X", "id_number.province"),
    ],
)
def test_g_number_rejects_invalid_id_numbers(id_number: str, code: str) -> None:
    with pytest.raises(RuleError) as error:
        g_number(id_number)
    assert rule_codes(error) == [code]
    assert isinstance(error.value, ValueError)


def test_g_number_checks_future_birth_date_only_with_today() -> None:
    future_id = "110105" + "20250602" + "001"
    future_id += check_char(future_id)
    assert g_number(future_id) == "G" + future_id
    with pytest.raises(RuleError) as error:
        g_number(future_id, today=TODAY)
    assert rule_codes(error) == ["id_number.birth_date_future"]


def test_parse_g_number() -> None:
    parsed, violations = parse_student_number("g11010519491231002x")
    assert violations == []
    assert parsed == StudentNumber("G", "G11010519491231002X", None, None)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("G110105194912310021", "student_number.check_digit"),
        ("G110105194913310025", "student_number.birth_date_invalid"),
        ("G00010519491231002X", "student_number.region"),
    ],
)
def test_parse_g_number_checks_the_id_body(raw: str, code: str) -> None:
    assert codes(raw) == [code]


def test_parse_g_check_digit_message_names_student_number() -> None:
    _, violations = parse_student_number("G110105194912310021")
    assert violations[0].params["expected"] == "X"
    assert violations[0].message() == "学籍号：校验码错误，应为 X"


def test_parse_g_number_for_residence_permit_and_foreign_card() -> None:
    for body17 in ("81000020100101002", "91184020150101001"):
        assert codes("G" + body17 + check_char(body17)) == []


# --- J ---------------------------------------------------------------------------------------


def test_j_number_structure() -> None:
    number = j_number("110105", BIRTH, 7)
    body = "11010520150901007"
    assert number == "J" + body + check_char(body)
    assert len(number) == 19


@pytest.mark.parametrize("sequence", [1, 2, 500, J_SEQUENCE_MAX])
def test_j_sequence_bounds_accepted(sequence: int) -> None:
    number = j_number("440305", BIRTH, sequence)
    assert number[15:18] == f"{sequence:03d}"
    assert codes(number) == []


@pytest.mark.parametrize("sequence", [0, -1, 1000, 10_000])
def test_j_sequence_out_of_range_is_exhausted(sequence: int) -> None:
    with pytest.raises(RuleError) as error:
        j_number("440305", BIRTH, sequence)
    assert rule_codes(error) == ["j_sequence.exhausted"]
    assert error.value.violations[0].params["sequence"] == sequence


def test_j_sequence_max_is_999() -> None:
    assert J_SEQUENCE_MAX == 999


@pytest.mark.parametrize(
    ("region", "birth", "code"),
    [
        ("11010", BIRTH, "region.format"),
        ("11010a", BIRTH, "region.format"),
        ("001234", BIRTH, "region.unknown"),
        ("830000", BIRTH, "region.unknown"),  # permit-only prefix, no schools there
        ("110105", date(1899, 12, 31), "student_number.birth_date_invalid"),
    ],
)
def test_j_and_l_reject_bad_region_or_birth_date(region: str, birth: date, code: str) -> None:
    with pytest.raises(RuleError) as j_error:
        j_number(region, birth, 1)
    assert rule_codes(j_error) == [code]
    with pytest.raises(RuleError) as l_error:
        l_number(region, birth, 1)
    assert rule_codes(l_error) == [code]


def test_j_number_reports_all_argument_problems_together() -> None:
    with pytest.raises(RuleError) as error:
        j_number("1", date(1800, 1, 1), 0)
    assert rule_codes(error) == [
        "region.format",
        "student_number.birth_date_invalid",
        "j_sequence.exhausted",
    ]


def test_parse_j_number() -> None:
    number = j_number("510104", date(2012, 2, 29), 12)
    parsed, violations = parse_student_number(number)
    assert violations == []
    assert parsed == StudentNumber("J", number, "510104", date(2012, 2, 29))


def test_parse_j_number_with_x_check_character() -> None:
    sequence = next(s for s in range(1, 1000) if check_char(f"51010420120229{s:03d}") == "X")
    number = j_number("510104", date(2012, 2, 29), sequence)
    assert number.endswith("X")
    assert codes(number.lower()) == []


def test_parse_j_wrong_check_digit() -> None:
    number = j_number("510104", BIRTH, 3)
    wrong = "0" if number[-1] != "0" else "1"
    parsed, violations = parse_student_number(number[:-1] + wrong)
    assert parsed is None
    assert [v.code for v in violations] == ["student_number.check_digit"]
    assert violations[0].params["expected"] == number[-1]


@pytest.mark.parametrize("birth", ["20130229", "19000229", "20151301", "18991231"])
def test_parse_j_and_l_impossible_dates(birth: str) -> None:
    body = f"510104{birth}001"
    assert codes("J" + body + check_char(body)) == ["student_number.birth_date_invalid"]
    assert codes(f"L510104{birth}0001") == ["student_number.birth_date_invalid"]


def test_parse_j_and_l_bad_region() -> None:
    body = "00010420150901001"
    assert codes("J" + body + check_char(body)) == ["student_number.region"]
    assert codes("L000104201509010001") == ["student_number.region"]


# --- L ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("random4", "suffix"), [(0, "0000"), (42, "0042"), (9999, "9999")])
def test_l_number_structure(random4: int, suffix: str) -> None:
    number = l_number("440305", BIRTH, random4)
    assert number == f"L44030520150901{suffix}"
    parsed, violations = parse_student_number(number)
    assert violations == []
    assert parsed == StudentNumber("L", number, "440305", BIRTH)


@pytest.mark.parametrize("random4", [-1, 10_000])
def test_l_random_part_out_of_range(random4: int) -> None:
    with pytest.raises(RuleError) as error:
        l_number("440305", BIRTH, random4)
    assert rule_codes(error) == ["student_number.random_range"]


def test_l_number_has_no_check_digit_and_no_x() -> None:
    assert codes("L44030520150901000X") == ["student_number.format"]
    # Any last digit is fine: no check character.
    for last in "0123456789":
        assert codes(f"L44030520150901000{last}") == []


def test_future_birth_dates_only_rejected_with_today() -> None:
    number = "L440305202506020001"
    assert codes(number) == []
    assert codes(number, today=TODAY) == ["student_number.birth_date_future"]
    body = "44030520250602001"
    assert codes("J" + body + check_char(body), today=TODAY) == ["student_number.birth_date_future"]
    g_body = "44030520250602001"
    assert codes("G" + g_body + check_char(g_body), today=TODAY) == [
        "student_number.birth_date_future"
    ]


# --- format ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "G",
        "11010519491231002X",  # ID number without the kind letter
        "A11010519491231002X",
        "X11010519491231002X",
        "G11010519491231002",  # 18 long
        "G11010519491231002X1",  # 20 long
        "G1101051949123100XX",
        "J11010520150901A011",
        "L11010520150901 001",
        "G１１０１０５１９４９１２３１００２X\u0661",
    ],
)
def test_bad_formats(raw: str) -> None:
    parsed, violations = parse_student_number(raw)
    assert parsed is None
    assert [v.code for v in violations] == ["student_number.format"]
    assert violations[0].field == "student_number"


def test_full_width_and_spaces_are_normalized() -> None:
    assert codes("\u3000Ｇ１１０１０５１９４９１２３１００２ｘ ") == []


# --- properties ------------------------------------------------------------------------------

regions = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


@settings(max_examples=200, deadline=None)
@given(region=regions, birth=births, sequence=st.integers(1, J_SEQUENCE_MAX))
def test_j_numbers_round_trip(region: str, birth: date, sequence: int) -> None:
    number = j_number(region, birth, sequence)
    parsed, violations = parse_student_number(number, today=TODAY)
    assert violations == []
    assert parsed == StudentNumber("J", number, region, birth)


@settings(max_examples=200, deadline=None)
@given(region=regions, birth=births, random4=st.integers(0, 9999))
def test_l_numbers_round_trip(region: str, birth: date, random4: int) -> None:
    number = l_number(region, birth, random4)
    parsed, violations = parse_student_number(number, today=TODAY)
    assert violations == []
    assert parsed == StudentNumber("L", number, region, birth)


@settings(max_examples=200, deadline=None)
@given(
    region=regions,
    birth=births,
    sequence=st.integers(1, J_SEQUENCE_MAX),
    position=st.integers(1, 18),
    replacement=st.sampled_from("0123456789X"),
)
def test_any_single_substitution_in_j_number_is_detected(
    region: str, birth: date, sequence: int, position: int, replacement: str
) -> None:
    number = j_number(region, birth, sequence)
    if replacement == number[position]:
        return
    corrupted = number[:position] + replacement + number[position + 1 :]
    parsed, violations = parse_student_number(corrupted)
    assert parsed is None
    assert violations


# --- lifecycle: 一人一号，终身不变 ------------------------------------------------------------

ALLOWED = {(None, "L"), (None, "G"), (None, "J"), ("L", "G"), ("L", "J"), ("J", "G")}


@pytest.mark.parametrize(("old", "new"), list(itertools.product([None, *KINDS], KINDS)))
def test_number_change_transition_table(old: str | None, new: str) -> None:
    violations = check_number_change(old, new)
    if (old, new) in ALLOWED:
        assert violations == []
    else:
        assert [v.code for v in violations] == ["student_number.immutable"]
        assert violations[0].field == "student_number"
        assert dict(violations[0].params) == {"old": old, "new": new}


def test_transition_table_covers_all_pairs() -> None:
    assert len(list(itertools.product([None, *KINDS], KINDS))) == 12
    assert set(KINDS) == {"G", "J", "L"}


@pytest.mark.parametrize(("old", "new"), [(None, "X"), ("G", "g"), ("Q", "G"), ("", "G")])
def test_unknown_kinds(old: str | None, new: str) -> None:
    assert [v.code for v in check_number_change(old, new)] == ["code.unknown"]


def test_immutable_message_mentions_both_kinds() -> None:
    (violation,) = check_number_change("G", "J")
    assert violation.message("zh_CN") == "学籍号：一人一号、终身不变，不能由 G 号改为 J 号"
    assert "from G to J" in violation.message("en")
