"""Working days, deadlines, holiday configuration and freezes: admin.domain.calendar."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from admin.domain.calendar import (
    DEFAULT_FREEZES,
    MAX_RANGE_DAYS,
    TRANSFER_CHANGE_TYPES,
    FreezeWindow,
    WorkingCalendar,
    add_working_days,
    check_freeze,
    format_holiday_config,
    overdue,
    parse_holiday_config,
    working_days_between,
)
from admin.domain.messages import MESSAGES, Violation

D = date
ONE = timedelta(days=1)

# Test data only (not a claim about the real 2026 schedule): the Spring Festival week
# 2026-02-15 (Sun) .. 2026-02-23 (Mon) with the Saturdays 02-14 and 02-28 worked instead.
SPRING_2026 = WorkingCalendar(
    holidays=frozenset(D(2026, 2, 15) + timedelta(days=i) for i in range(9)),
    extra_workdays=frozenset({D(2026, 2, 14), D(2026, 2, 28)}),
)
NEW_YEAR_2027 = WorkingCalendar(holidays=frozenset({D(2027, 1, 1)}))
PLAIN = WorkingCalendar()


def codes(violations: list[Violation]) -> list[str]:
    return [v.code for v in violations]


def brute_count(calendar: WorkingCalendar, a: date, b: date) -> int:
    """Reference for working_days_between: count day by day, with the rules spelled out."""
    sign = 1
    if b < a:
        a, b, sign = b, a, -1
    count = 0
    day = a + ONE
    while day <= b:
        weekend = day.isoweekday() in (6, 7)
        if day in calendar.extra_workdays or (not weekend and day not in calendar.holidays):
            count += 1
        day += ONE
    return sign * count


# --- working days ----------------------------------------------------------------------------


def test_weekdays_weekends_holidays_and_adjusted_weekends() -> None:
    assert D(2026, 2, 1).isoweekday() == 7  # a Sunday: the dates below are what they claim
    assert PLAIN.is_working_day(D(2026, 2, 13))  # Friday
    assert not PLAIN.is_working_day(D(2026, 2, 14))  # Saturday
    assert SPRING_2026.is_working_day(D(2026, 2, 14))  # 调休 Saturday
    assert not SPRING_2026.is_working_day(D(2026, 2, 16))  # Monday in the holiday
    assert not SPRING_2026.is_working_day(D(2026, 2, 23))  # last holiday (Monday)
    assert SPRING_2026.is_working_day(D(2026, 2, 24))
    assert not SPRING_2026.is_working_day(D(2026, 2, 22))  # Sunday inside the holiday
    assert SPRING_2026.is_working_day(D(2026, 2, 28))
    assert not SPRING_2026.is_working_day(D(2026, 3, 1))


def test_a_date_cannot_be_holiday_and_working_day() -> None:
    with pytest.raises(ValueError, match="2026-02-14"):
        WorkingCalendar(frozenset({D(2026, 2, 14)}), frozenset({D(2026, 2, 14)}))


@pytest.mark.parametrize(
    ("calendar", "start", "n", "due"),
    [
        (PLAIN, D(2026, 3, 6), 0, D(2026, 3, 6)),  # n = 0: the start itself
        (PLAIN, D(2026, 3, 7), 0, D(2026, 3, 7)),  # … even on a Saturday
        (PLAIN, D(2026, 3, 6), 1, D(2026, 3, 9)),  # Friday + 1 = Monday
        (PLAIN, D(2026, 3, 7), 1, D(2026, 3, 9)),  # Saturday + 1 = Monday
        (PLAIN, D(2026, 3, 8), 1, D(2026, 3, 9)),  # Sunday + 1 = Monday
        (PLAIN, D(2026, 3, 2), 5, D(2026, 3, 9)),  # Monday + 5 = next Monday
        (PLAIN, D(2026, 3, 2), 10, D(2026, 3, 16)),  # the 10-working-day rule
        (PLAIN, D(2026, 3, 6), 10, D(2026, 3, 20)),
        # Spring Festival: Friday 02-13 → Saturday 02-14 (worked) → Tuesday 02-24
        (SPRING_2026, D(2026, 2, 12), 1, D(2026, 2, 13)),
        (SPRING_2026, D(2026, 2, 13), 1, D(2026, 2, 14)),
        (SPRING_2026, D(2026, 2, 14), 1, D(2026, 2, 24)),
        (SPRING_2026, D(2026, 2, 16), 1, D(2026, 2, 24)),  # started inside the holiday
        # 02-14, 24, 25, 26, 27, 28 (Saturday worked), 03-02, 03, 04, 05
        (SPRING_2026, D(2026, 2, 13), 10, D(2026, 3, 5)),
        (PLAIN, D(2026, 2, 13), 10, D(2026, 2, 27)),  # the same without the holiday
        # year end: Thursday 2026-12-31, holiday Friday 2027-01-01
        (NEW_YEAR_2027, D(2026, 12, 31), 1, D(2027, 1, 4)),
        (NEW_YEAR_2027, D(2026, 12, 24), 10, D(2027, 1, 8)),
        (PLAIN, D(2026, 12, 24), 10, D(2027, 1, 7)),
        (PLAIN, D(2024, 2, 28), 2, D(2024, 3, 1)),  # leap day is a Thursday
    ],
)
def test_add_working_days(calendar: WorkingCalendar, start: date, n: int, due: date) -> None:
    assert calendar.add_working_days(start, n) == due
    assert calendar.working_days_between(start, due) == n
    assert brute_count(calendar, start, due) == n


def test_module_shortcuts_use_weekends_only_by_default() -> None:
    assert add_working_days(D(2026, 2, 13), 10) == D(2026, 2, 27)
    assert add_working_days(D(2026, 2, 13), 10, SPRING_2026) == D(2026, 3, 5)
    assert working_days_between(D(2026, 2, 13), D(2026, 3, 5)) == 14
    assert working_days_between(D(2026, 2, 13), D(2026, 3, 5), SPRING_2026) == 10


def test_negative_n_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        PLAIN.add_working_days(D(2026, 3, 2), -1)


def test_working_days_between_counts_after_a_up_to_b() -> None:
    assert PLAIN.working_days_between(D(2026, 3, 2), D(2026, 3, 2)) == 0
    assert PLAIN.working_days_between(D(2026, 3, 6), D(2026, 3, 8)) == 0  # Fri → Sun
    assert PLAIN.working_days_between(D(2026, 3, 6), D(2026, 3, 9)) == 1
    assert PLAIN.working_days_between(D(2026, 3, 9), D(2026, 3, 6)) == -1
    assert SPRING_2026.working_days_between(D(2026, 2, 14), D(2026, 2, 23)) == 0
    assert SPRING_2026.working_days_between(D(2026, 2, 13), D(2026, 2, 14)) == 1
    assert PLAIN.working_days_between(D(2025, 1, 1), D(2026, 1, 1)) == 261


def test_overdue_and_days_late() -> None:
    due = D(2026, 3, 16)
    assert not overdue(due, D(2026, 3, 15))
    assert not overdue(due, due)  # due by the end of the due date
    assert overdue(due, D(2026, 3, 17))
    assert PLAIN.working_days_late(due, due) == 0
    assert PLAIN.working_days_late(due, D(2026, 3, 1)) == 0
    assert PLAIN.working_days_late(D(2026, 3, 13), D(2026, 3, 16)) == 1  # Friday → Monday
    assert SPRING_2026.working_days_late(D(2026, 2, 13), D(2026, 2, 24)) == 2


# --- properties ------------------------------------------------------------------------------

DAYS = st.dates(min_value=D(2000, 1, 1), max_value=D(2099, 12, 31))


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    """Random holidays and 调休 weekends inside one year around 2026."""
    base = D(2025, 12, 1)
    offsets = st.integers(min_value=0, max_value=400)
    holidays = {base + timedelta(days=i) for i in draw(st.sets(offsets, max_size=40))}
    weekends = {
        base + timedelta(days=i)
        for i in draw(st.sets(offsets, max_size=15))
        if (base + timedelta(days=i)).weekday() >= 5
    }
    return WorkingCalendar(frozenset(holidays), frozenset(weekends - holidays))


NEAR_2026 = st.dates(min_value=D(2025, 11, 1), max_value=D(2027, 1, 31))


@settings(max_examples=100, deadline=None)
@given(calendars(), NEAR_2026, st.integers(min_value=0, max_value=120))
def test_add_working_days_properties(calendar: WorkingCalendar, start: date, n: int) -> None:
    due = calendar.add_working_days(start, n)
    assert calendar.working_days_between(start, due) == n
    assert brute_count(calendar, start, due) == n
    if n >= 1:
        assert calendar.is_working_day(due)
        # nothing earlier would do: the day before holds only n - 1 working days
        assert brute_count(calendar, start, due - ONE) == n - 1
        assert due > start
    else:
        assert due == start
    assert calendar.add_working_days(start, n + 1) > due  # strictly monotone in n


@settings(max_examples=100, deadline=None)
@given(calendars(), NEAR_2026, NEAR_2026, NEAR_2026)
def test_working_days_between_properties(
    calendar: WorkingCalendar, a: date, b: date, c: date
) -> None:
    ab = calendar.working_days_between(a, b)
    assert ab == brute_count(calendar, a, b)
    assert calendar.working_days_between(b, a) == -ab
    assert ab + calendar.working_days_between(b, c) == calendar.working_days_between(a, c)


@settings(max_examples=150, deadline=None)
@given(DAYS, st.integers(min_value=0, max_value=3000))
def test_plain_calendar_over_a_century(start: date, n: int) -> None:
    due = PLAIN.add_working_days(start, n)
    assert PLAIN.working_days_between(start, due) == n
    # five working days per full week
    assert PLAIN.add_working_days(start, n + 5) == PLAIN.add_working_days(due, 5)
    if start.weekday() < 5:
        assert PLAIN.add_working_days(start, 5 * (n // 5)) == start + timedelta(weeks=n // 5)


# --- holiday configuration -------------------------------------------------------------------

CONFIG_2026 = """\
# 2026 test data
2026-01-01            # 元旦
2026-02-15..2026-02-23
+2026-02-14           # 调休上班
+2026-02-28
２０２６－１０－０１/２０２６－１０－０３   # full-width, ISO 8601 interval
2026-10-04 ~ 2026-10-05

2026-10-06
"""


def test_parse_holiday_config() -> None:
    calendar, violations = parse_holiday_config(CONFIG_2026)
    assert violations == []
    assert calendar is not None
    assert calendar.extra_workdays == {D(2026, 2, 14), D(2026, 2, 28)}
    expected = {D(2026, 1, 1)}
    expected |= {D(2026, 2, 15) + timedelta(days=i) for i in range(9)}
    expected |= {D(2026, 10, 1) + timedelta(days=i) for i in range(6)}
    assert calendar.holidays == expected
    assert calendar.add_working_days(D(2026, 2, 13), 10) == D(2026, 3, 5)


def test_empty_and_comment_only_configs_give_a_weekend_calendar() -> None:
    for text in ("", "\n\n", "# nothing yet\n   # still nothing"):
        assert parse_holiday_config(text) == (WorkingCalendar(), [])


def test_duplicate_holidays_are_harmless() -> None:
    calendar, violations = parse_holiday_config("2026-10-01\n2026-10-01..2026-10-02\n")
    assert violations == [] and calendar is not None
    assert calendar.holidays == {D(2026, 10, 1), D(2026, 10, 2)}


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("2026-13-01", "calendar.line"),
        ("2026-02-30", "calendar.line"),
        ("2026-2-3", "calendar.line"),
        ("20260203", "calendar.line"),
        ("2026-02-03 2026-02-04", "calendar.line"),
        ("2026-02-03..", "calendar.line"),
        ("++2026-02-14", "calendar.line"),
        ("-2026-02-14", "calendar.line"),
        ("holiday", "calendar.line"),
        ("2026-02-03..2026-02-31", "calendar.line"),
        ("2026-02-23..2026-02-15", "calendar.range_reversed"),
        ("2026-02-15..2027-02-23", "calendar.range_too_long"),
        ("+2026-02-16", "calendar.not_weekend"),  # a Monday
        ("+2026-02-14..2026-02-16", "calendar.not_weekend"),
    ],
)
def test_malformed_lines_are_named_by_number(line: str, code: str) -> None:
    text = f"# header\n2026-01-01\n\n{line}   # comment\n2026-05-01\n"
    calendar, violations = parse_holiday_config(text)
    assert calendar is None
    assert codes(violations) == [code]
    assert violations[0].field == "holiday_config"
    assert violations[0].params["line"] == 4
    assert violations[0].params["value"] == line
    assert "第4行" in violations[0].message("zh_CN")
    assert "line 4" in violations[0].message("en")


def test_range_limit_is_inclusive() -> None:
    first = D(2026, 7, 1)
    ok = f"{first}..{first + timedelta(days=MAX_RANGE_DAYS - 1)}"
    too_long = f"{first}..{first + timedelta(days=MAX_RANGE_DAYS)}"
    assert parse_holiday_config(ok)[1] == []
    assert codes(parse_holiday_config(too_long)[1]) == ["calendar.range_too_long"]


def test_every_bad_line_is_reported() -> None:
    text = "2026-13-01\n2026-10-01\n+2026-10-01\nnonsense\n"
    calendar, violations = parse_holiday_config(text)
    assert calendar is None
    assert [(v.code, v.params["line"]) for v in violations] == [
        ("calendar.line", 1),
        ("calendar.not_weekend", 3),
        ("calendar.line", 4),
    ]


def test_holiday_and_working_day_on_the_same_date_conflict() -> None:
    calendar, violations = parse_holiday_config("2026-02-14..2026-02-15\n+2026-02-14\n")
    assert calendar is None
    assert codes(violations) == ["calendar.conflict"]
    assert violations[0].params["line"] == 2
    assert violations[0].params["other_line"] == 1
    assert violations[0].params["date"] == "2026-02-14"
    _, reverse = parse_holiday_config("+2026-02-14\n2026-02-13..2026-02-14\n")
    assert [(v.code, v.params["line"], v.params["other_line"]) for v in reverse] == [
        ("calendar.conflict", 2, 1)
    ]


def test_calendar_messages_exist_and_render() -> None:
    for code in (
        "calendar.line",
        "calendar.range_reversed",
        "calendar.range_too_long",
        "calendar.not_weekend",
        "calendar.conflict",
    ):
        assert code in MESSAGES
    _, violations = parse_holiday_config("x\n+2026-02-16\n")
    assert violations[0].message("zh_CN").startswith("节假日配置第1行")
    assert "2026-02-16" in violations[1].message("en")


def test_format_holiday_config() -> None:
    calendar, _ = parse_holiday_config(CONFIG_2026)
    assert calendar is not None
    assert format_holiday_config(calendar) == (
        "2026-01-01\n2026-02-15..2026-02-23\n2026-10-01..2026-10-06\n+2026-02-14\n+2026-02-28\n"
    )
    assert format_holiday_config(WorkingCalendar()) == ""


@settings(max_examples=100, deadline=None)
@given(calendars())
def test_format_then_parse_round_trips(calendar: WorkingCalendar) -> None:
    assert parse_holiday_config(format_holiday_config(calendar)) == (calendar, [])


# --- freezes ---------------------------------------------------------------------------------

GRADUATING = "毕业年级暑期冻结（教基司厅函〔2017〕23号）"
TRANSFERS = "暑期转学冻结（教基司厅函〔2017〕23号）"


def test_default_freezes_are_the_2017_notice() -> None:
    assert [(w.start_md, w.end_md, w.applies_to, w.blocks) for w in DEFAULT_FREEZES] == [
        ("07-01", "08-14", "graduating", "new_requests"),
        ("07-15", "08-14", "all", "transfers"),
    ]


# Independent expectation: which windows block (today, type, graduating?).
@pytest.mark.parametrize(
    ("month_day", "change_type", "graduating", "blocked_by"),
    [
        ("06-30", "35", True, []),
        ("06-30", "23", True, []),
        ("07-01", "23", True, [GRADUATING]),
        ("07-01", "23", False, []),
        ("07-01", "35", False, []),
        ("07-01", "35", True, [GRADUATING]),
        ("07-14", "35", False, []),
        ("07-15", "35", False, [TRANSFERS]),
        ("07-15", "35", True, [GRADUATING, TRANSFERS]),
        ("07-15", "27", False, [TRANSFERS]),
        ("07-15", "13", False, [TRANSFERS]),
        ("07-15", "32", False, []),
        ("07-15", "26", True, [GRADUATING]),
        ("08-14", "35", False, [TRANSFERS]),
        ("08-14", "24", True, [GRADUATING]),
        ("08-15", "35", True, []),
        ("08-15", "24", True, []),
        ("12-31", "35", True, []),
    ],
)
def test_check_freeze_defaults(
    month_day: str, change_type: str, graduating: bool, blocked_by: list[str]
) -> None:
    month, day = map(int, month_day.split("-"))
    violations = check_freeze(D(2026, month, day), change_type, graduating)
    assert [v.params["name_zh"] for v in violations] == blocked_by
    assert all(v.code == "workflow.frozen" and v.field == "status_change_type" for v in violations)


def test_freeze_violation_names_window_and_dates() -> None:
    [violation] = check_freeze(D(2027, 7, 20), "23", True)
    assert violation.params["start"] == "2027-07-01"
    assert violation.params["end"] == "2027-08-14"
    assert violation.message("zh_CN") == (
        "学籍异动类别：2027-07-01至2027-08-14为“毕业年级暑期冻结（教基司厅函〔2017〕23号）”"
        "期间，不能发起此项业务"
    )
    assert "2027-07-01" in violation.message("en")
    assert "graduating" in violation.message("en")


WINTER = FreezeWindow("年末冻结", "12-20", "01-05", applies_to="all", blocks="new_requests")


@pytest.mark.parametrize(
    ("today", "inside"),
    [
        (D(2026, 12, 19), False),
        (D(2026, 12, 20), True),
        (D(2026, 12, 31), True),
        (D(2027, 1, 1), True),
        (D(2027, 1, 5), True),
        (D(2027, 1, 6), False),
        (D(2026, 6, 30), False),
    ],
)
def test_window_across_the_year_end(today: date, inside: bool) -> None:
    assert WINTER.wraps_year_end
    assert WINTER.contains(today) is inside
    violations = check_freeze(today, "32", False, [WINTER])
    assert len(violations) == int(inside)


def test_occurrence_of_a_window_across_the_year_end() -> None:
    assert WINTER.occurrence(D(2026, 12, 25)) == (D(2026, 12, 20), D(2027, 1, 5))
    assert WINTER.occurrence(D(2027, 1, 3)) == (D(2026, 12, 20), D(2027, 1, 5))
    assert WINTER.occurrence(D(2027, 1, 6)) is None
    [violation] = check_freeze(D(2027, 1, 3), "35", True, [WINTER])
    assert (violation.params["start"], violation.params["end"]) == ("2026-12-20", "2027-01-05")
    assert violation.params["name_en"] == "年末冻结"  # no English name: the Chinese one


def test_single_day_and_leap_day_windows() -> None:
    one_day = FreezeWindow("x", "03-01", "03-01", applies_to="all", blocks="transfers")
    assert one_day.contains(D(2026, 3, 1)) and not one_day.contains(D(2026, 2, 28))
    leap = FreezeWindow("y", "02-29", "03-02", applies_to="all", blocks="new_requests")
    assert leap.occurrence(D(2024, 2, 29)) == (D(2024, 2, 29), D(2024, 3, 2))
    assert leap.occurrence(D(2025, 3, 1)) == (D(2025, 3, 1), D(2025, 3, 2))
    assert not leap.contains(D(2025, 2, 28))
    ends_leap = FreezeWindow("z", "02-20", "02-29", applies_to="all", blocks="new_requests")
    assert ends_leap.occurrence(D(2025, 2, 21)) == (D(2025, 2, 20), D(2025, 2, 28))


def test_exempt_types_and_transfer_halves() -> None:
    window = FreezeWindow(
        "w",
        "07-01",
        "08-14",
        applies_to="graduating",
        blocks="new_requests",
        exempt_types=frozenset({"26"}),
    )
    assert check_freeze(D(2026, 7, 2), "26", True, [window]) == []
    assert len(check_freeze(D(2026, 7, 2), "23", True, [window])) == 1
    assert {"35", "13", "27"} == TRANSFER_CHANGE_TYPES


@pytest.mark.parametrize(
    ("start", "end", "applies_to", "blocks"),
    [
        ("7-01", "08-14", "all", "transfers"),
        ("07-32", "08-14", "all", "transfers"),
        ("13-01", "08-14", "all", "transfers"),
        ("07-01", "02-30", "all", "transfers"),
        ("07-01", "08-14", "some", "transfers"),
        ("07-01", "08-14", "all", "everything"),
    ],
)
def test_invalid_windows_are_programming_errors(
    start: str, end: str, applies_to: str, blocks: str
) -> None:
    with pytest.raises(ValueError):
        FreezeWindow("bad", start, end, applies_to=applies_to, blocks=blocks)  # type: ignore[arg-type]


MONTH_DAYS = st.dates(min_value=D(2024, 1, 1), max_value=D(2024, 12, 31)).map(
    lambda d: f"{d.month:02d}-{d.day:02d}"
)


@settings(max_examples=150, deadline=None)
@given(MONTH_DAYS, MONTH_DAYS, st.dates(min_value=D(2001, 1, 1), max_value=D(2098, 12, 31)))
def test_window_membership_matches_its_occurrence(start: str, end: str, today: date) -> None:
    window = FreezeWindow("w", start, end, applies_to="all", blocks="new_requests")
    occurrence = window.occurrence(today)
    assert (occurrence is not None) == window.contains(today)
    if occurrence is not None:
        first, last = occurrence
        assert first <= today <= last
        assert (last - first).days < 366
        # every day of the occurrence is inside the window, the days around it are not
        # (unless the window covers the whole year)
        assert window.contains(first) and window.contains(last)
        if (last - first).days < 364:
            assert not window.contains(first - ONE)
            assert not window.contains(last + ONE)
