"""Attendance marks, rates and alerts on a real calendar: admin.domain.attendance.

Calendar: autumn term 2024 from Monday 2 September. 中秋 holiday Sunday 15 – Tuesday 17
September with Saturday 14 September worked (调休); 国庆 holiday 1–7 October with Sunday
29 September and Saturday 12 October worked.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest

from admin.domain.attendance import (
    AbsencePolicy,
    AlertKind,
    AttendanceAlert,
    AttendanceRecord,
    Mark,
    check_records,
    day_statuses,
    group_attendance,
    summarize,
)
from admin.domain.attendance import (
    attendance_alerts as alerts_for,
)

HOLIDAYS = {date(2024, 9, 16), date(2024, 9, 17), *(date(2024, 10, d) for d in range(1, 8))}
MAKE_UP = {date(2024, 9, 14), date(2024, 9, 29), date(2024, 10, 12)}


def school_days(start: date = date(2024, 9, 2), end: date = date(2024, 11, 29)) -> set[date]:
    days: set[date] = set()
    day = start
    while day <= end:
        if day in MAKE_UP or (day.isoweekday() <= 5 and day not in HOLIDAYS):
            days.add(day)
        day += timedelta(days=1)
    return days


SCHOOL_DAYS = school_days()
SEPTEMBER = school_days(end=date(2024, 9, 30))


def truant(*days: date) -> list[AttendanceRecord]:
    return [AttendanceRecord(day, Mark.TRUANT) for day in days]


def between(first: date, last: date, days: set[date] = SCHOOL_DAYS) -> list[date]:
    return sorted(d for d in days if first <= d <= last)


def kinds(alerts: list[AttendanceAlert]) -> list[AlertKind]:
    return [a.kind for a in alerts]


def test_the_calendar_fixture() -> None:
    assert date(2024, 9, 14) in SCHOOL_DAYS and date(2024, 9, 16) not in SCHOOL_DAYS
    assert len(SEPTEMBER) == 21  # 21 weekdays − 中秋 Monday/Tuesday + 2 make-up days
    assert not any(date(2024, 9, 30) < d < date(2024, 10, 8) for d in SCHOOL_DAYS)


# --- marks and rates -------------------------------------------------------------------------


def test_no_records_means_present() -> None:
    summary = summarize([], SEPTEMBER)
    assert summary.school_days == 21 and summary.absent_days == 0
    assert summary.absence_rate == 0 and summary.attendance_rate == 1
    assert summarize([], set()).attendance_rate is None


def test_whole_day_marks() -> None:
    records = [
        AttendanceRecord(date(2024, 9, 2), Mark.SICK),
        AttendanceRecord(date(2024, 9, 3), Mark.PERSONAL),
        AttendanceRecord(date(2024, 9, 4), Mark.TRUANT),
        AttendanceRecord(date(2024, 9, 5), Mark.LATE),
        AttendanceRecord(date(2024, 9, 6), Mark.LEFT_EARLY),
        AttendanceRecord(date(2024, 9, 9), Mark.PRESENT),
        AttendanceRecord(date(2024, 9, 16), Mark.TRUANT),  # holiday: ignored
    ]
    summary = summarize(records, SEPTEMBER, periods_per_day=6)
    assert summary.absent_days == 3 and summary.full_absent_days == 3
    assert summary.absent_by_mark == {Mark.TRUANT: 1, Mark.SICK: 1, Mark.PERSONAL: 1}
    assert summary.periods_by_mark == {Mark.TRUANT: 6, Mark.SICK: 6, Mark.PERSONAL: 6}
    assert summary.unexcused_days == 1
    assert (summary.late, summary.left_early) == (1, 1)
    assert summary.absence_rate == Fraction(3, 21)
    assert summary.attendance_rate == Fraction(18, 21)


def test_period_weighting() -> None:
    day = date(2024, 9, 10)
    records = [AttendanceRecord(day, Mark.TRUANT, p) for p in (1, 2, 3)]
    fraction = summarize(records, SEPTEMBER, periods_per_day=6)
    assert fraction.absent_days == Fraction(1, 2)
    assert fraction.periods_by_mark[Mark.TRUANT] == 3 and fraction.full_absent_days == 0
    full = summarize(records, SEPTEMBER, periods_per_day=6, weighting="full_days")
    assert full.absent_days == 0 and full.periods_by_mark[Mark.TRUANT] == 3
    with pytest.raises(ValueError):
        summarize(records, SEPTEMBER, weighting="hours")  # type: ignore[arg-type]


def test_all_periods_absent_is_a_whole_day() -> None:
    day = date(2024, 9, 10)
    records = [AttendanceRecord(day, Mark.SICK, p) for p in (1, 2, 3, 4)]
    records += [AttendanceRecord(day, Mark.TRUANT, p) for p in (5, 6)]
    for weighting in ("fraction", "full_days"):
        (status,) = [
            s
            for s in day_statuses(records, SEPTEMBER, periods_per_day=6, weighting=weighting)
            if s.day == day
        ]
        assert status.full_day and status.absent == 1
        assert status.absent_by_mark == {
            Mark.SICK: Fraction(2, 3),
            Mark.TRUANT: Fraction(1, 3),
            Mark.PERSONAL: 0,
        }
        assert status.unexcused  # part of the day is not covered by leave
    leave_only = [AttendanceRecord(day, Mark.SICK, p) for p in range(1, 7)]
    (status,) = [s for s in day_statuses(leave_only, SEPTEMBER, periods_per_day=6) if s.day == day]
    assert status.full_day and not status.unexcused


def test_periods_per_day_can_vary_by_date() -> None:
    wednesday = date(2024, 9, 11)  # half day: 4 periods
    periods = {d: (4 if d == wednesday else 7) for d in SEPTEMBER}
    records = [AttendanceRecord(wednesday, Mark.TRUANT, p) for p in range(1, 5)]
    records.append(AttendanceRecord(date(2024, 9, 12), Mark.TRUANT, 7))
    summary = summarize(records, SEPTEMBER, periods_per_day=periods)
    assert summary.full_absent_days == 1
    assert summary.absent_days == 1 + Fraction(1, 7)


def test_most_severe_mark_counts_and_late_plus_left_early_coexist() -> None:
    day = date(2024, 9, 10)
    records = [
        AttendanceRecord(day, Mark.SICK, 1),
        AttendanceRecord(day, Mark.TRUANT, 1),
        AttendanceRecord(day, Mark.LATE, 2),
        AttendanceRecord(day, Mark.LEFT_EARLY, 2),
    ]
    (status,) = [s for s in day_statuses(records, {day}, periods_per_day=2)]
    assert status.periods_by_mark[Mark.TRUANT] == 1 and status.periods_by_mark[Mark.SICK] == 0
    assert (status.late, status.left_early) == (1, 1)
    whole = [AttendanceRecord(day, Mark.SICK), AttendanceRecord(day, Mark.PERSONAL)]
    (status,) = day_statuses(whole, {day})
    assert status.absent_by_mark[Mark.PERSONAL] == 1 and status.absent == 1


def test_day_marks_only_without_period_count() -> None:
    day = date(2024, 9, 10)
    records = [AttendanceRecord(day, Mark.TRUANT, 1)]  # no periods known: ignored
    assert summarize(records, SEPTEMBER).absent_days == 0
    (status,) = day_statuses([AttendanceRecord(day, Mark.TRUANT)], {day})
    assert status.full_day and status.unexcused and status.periods_by_mark[Mark.TRUANT] == 0


def test_as_of_limits_the_days_looked_at() -> None:
    summary = summarize([], SCHOOL_DAYS, as_of=date(2024, 9, 6))
    assert summary.school_days == 5


def test_class_rate_weighs_students_by_their_school_days() -> None:
    full = summarize(truant(date(2024, 9, 2)), SEPTEMBER)  # 1 of 21
    late_joiner = summarize(
        truant(date(2024, 9, 30)), school_days(date(2024, 9, 23), date(2024, 9, 30))
    )  # 1 of 7
    group = group_attendance([full, late_joiner])
    assert (group.students, group.student_days, group.absent_days) == (2, 28, 2)
    assert group.absence_rate == Fraction(2, 28) and group.attendance_rate == Fraction(26, 28)
    assert group_attendance([]).attendance_rate is None


# --- record checks ---------------------------------------------------------------------------


def test_check_records() -> None:
    day = date(2024, 9, 10)
    records = [
        AttendanceRecord(date(2024, 9, 16), Mark.SICK),  # holiday
        AttendanceRecord(day, Mark.TRUANT, 9),  # no period 9
        AttendanceRecord(day, Mark.LATE, 1),
        AttendanceRecord(day, Mark.LEFT_EARLY, 1),  # fine together
        AttendanceRecord(day, Mark.LATE, 1),  # duplicate
        AttendanceRecord(day, Mark.SICK, 2),
        AttendanceRecord(day, Mark.TRUANT, 2),  # two marks, one period
        AttendanceRecord(date(2024, 9, 11), Mark.SICK),
        AttendanceRecord(date(2024, 9, 11), Mark.LATE, 3),  # whole-day absence + period mark
        AttendanceRecord(date(2024, 9, 12), Mark.SICK),
        AttendanceRecord(date(2024, 9, 12), Mark.PRESENT, 3),  # harmless
    ]
    violations = check_records(records, SEPTEMBER, periods_per_day=6)
    assert [v.code for v in violations] == [
        "attendance.not_school_day",
        "attendance.period_range",
        "attendance.duplicate",
        "attendance.duplicate",
        "attendance.conflict",
    ]
    assert violations[0].message() == "考勤：2024-09-16 不是在校日"
    assert violations[1].message("en") == "Attendance: 2024-09-10 has no period 9 (that day has 6)"
    assert violations[3].message() == "考勤：2024-09-10 第2节有多个考勤记录（病假、旷课）"
    assert "(sick leave, unexcused absence)" in violations[3].message("en")
    assert violations[4].params["day"] == "2024-09-11"
    assert check_records(truant(date(2024, 9, 2)), SEPTEMBER) == []


# --- alerts ----------------------------------------------------------------------------------

# Chronic absence off: these tests look at streaks only.
STREAKS_ONLY = AbsencePolicy(min_school_days=10_000)


def streaks(
    records: list[AttendanceRecord], days: set[date], periods_per_day: int = 0
) -> list[AttendanceAlert]:
    return alerts_for(records, days, policy=STREAKS_ONLY, periods_per_day=periods_per_day)


def test_three_unexcused_days_across_a_weekend() -> None:
    days = [date(2024, 9, 5), date(2024, 9, 6), date(2024, 9, 9)]  # Thu, Fri, Mon
    (alert,) = streaks(truant(*days), SEPTEMBER)
    assert alert.kind is AlertKind.CONSECUTIVE
    assert (alert.first_day, alert.last_day) == (days[0], days[-1])
    assert alert.reason.params["days"] == 3
    assert alert.message() == "考勤：2024-09-05至2024-09-09连续3个在校日旷课（预警线3天）"
    assert "3 consecutive school days" in alert.message("en")


def test_three_unexcused_days_across_a_holiday_and_a_make_up_saturday() -> None:
    days = [date(2024, 9, 13), date(2024, 9, 14), date(2024, 9, 18)]  # Fri, Sat (调休), Wed
    assert kinds(streaks(truant(*days), SEPTEMBER)) == [AlertKind.CONSECUTIVE]
    # Without the make-up Saturday the 13th and the 18th are only two school days apart.
    assert streaks(truant(days[0], days[2]), SEPTEMBER) == []


def test_streaks_are_broken_by_attendance_leave_or_a_partial_day() -> None:
    thu, fri, mon = date(2024, 9, 5), date(2024, 9, 6), date(2024, 9, 9)
    assert streaks(truant(thu, mon), SEPTEMBER) == []  # Friday present
    sick_friday = [*truant(thu, mon), AttendanceRecord(fri, Mark.SICK)]
    assert streaks(sick_friday, SEPTEMBER) == []
    partial_friday = [*truant(thu, mon), *(AttendanceRecord(fri, Mark.TRUANT, p) for p in (1, 2))]
    assert streaks(partial_friday, SEPTEMBER, periods_per_day=6) == []
    whole_friday = [
        *truant(thu, mon),
        *(AttendanceRecord(fri, Mark.TRUANT, p) for p in range(1, 7)),
    ]
    assert kinds(streaks(whole_friday, SEPTEMBER, periods_per_day=6)) == [AlertKind.CONSECUTIVE]


def test_each_streak_is_reported() -> None:
    first = between(date(2024, 9, 2), date(2024, 9, 4))
    second = between(date(2024, 9, 9), date(2024, 9, 12))
    alerts = streaks(truant(*first, *second), SEPTEMBER)
    assert [(a.first_day, a.reason.params["days"]) for a in alerts] == [
        (date(2024, 9, 2), 3),
        (date(2024, 9, 9), 4),
    ]


def test_chronic_absence_rate() -> None:
    twenty = between(date(2024, 9, 2), date(2024, 9, 29))  # 20 school days
    assert len(twenty) == 20
    sick = [AttendanceRecord(twenty[0], Mark.SICK), AttendanceRecord(twenty[10], Mark.PERSONAL)]
    (alert,) = alerts_for(sick, set(twenty))
    assert alert.kind is AlertKind.CHRONIC
    assert alert.reason.params["rate"] == "10%" and alert.reason.params["absent_days"] == "2"
    assert alert.message() == (
        "考勤：2024-09-02至2024-09-29的20个在校日中缺勤2天（10%），达到长期缺勤预警线10%"
    )
    assert alerts_for(sick[:1], set(twenty)) == []  # 5 %


def test_chronic_absence_counts_partial_days_and_can_exclude_leave() -> None:
    twenty = set(between(date(2024, 9, 2), date(2024, 9, 29)))
    first = min(twenty)
    records = [AttendanceRecord(first, Mark.SICK), AttendanceRecord(max(twenty), Mark.SICK)]
    records += [AttendanceRecord(date(2024, 9, 10), Mark.TRUANT, p) for p in (1, 2, 3)]
    (alert,) = alerts_for(records, twenty, periods_per_day=6)
    assert alert.reason.params["absent_days"] == "2.5" and alert.reason.params["rate"] == "12.5%"
    unexcused_only = AbsencePolicy(rate_marks=frozenset({Mark.TRUANT}))
    assert alerts_for(records, twenty, periods_per_day=6, policy=unexcused_only) == []


def test_chronic_absence_waits_for_enough_school_days() -> None:
    week = set(between(date(2024, 9, 2), date(2024, 9, 6)))
    one_sick_day = [AttendanceRecord(date(2024, 9, 2), Mark.SICK)]
    assert alerts_for(one_sick_day, week) == []  # 20 %, but only 5 school days so far
    eager = AbsencePolicy(min_school_days=0)
    assert kinds(alerts_for(one_sick_day, week, policy=eager)) == [AlertKind.CHRONIC]


def test_cumulative_unexcused_days() -> None:
    days = [date(2024, 9, 2), date(2024, 9, 4), date(2024, 9, 6), date(2024, 9, 10)]
    policy = AbsencePolicy(cumulative_unexcused_days=4, min_school_days=100)
    (alert,) = alerts_for(truant(*days), SEPTEMBER, policy=policy)
    assert alert.kind is AlertKind.CUMULATIVE and alert.reason.params["days"] == "4"
    assert alerts_for(truant(*days[:3]), SEPTEMBER, policy=policy) == []


def _dropout(alerts: list[AttendanceAlert]) -> list[AttendanceAlert]:
    return [a for a in alerts if a.kind is AlertKind.DROPOUT]


def test_dropout_after_four_whole_school_weeks() -> None:
    days = between(date(2024, 9, 2), date(2024, 9, 29))  # weeks of 2, 9, 16 (中秋) and 23 Sep
    (alert,) = _dropout(alerts_for(truant(*days), SCHOOL_DAYS))
    assert (alert.first_day, alert.last_day) == (date(2024, 9, 2), date(2024, 9, 29))
    assert alert.reason.params == {
        "first_day": "2024-09-02",
        "last_day": "2024-09-29",
        "weeks": 4,
        "days": len(days),
        "threshold": 4,
    }
    assert "连续4个教学周" in alert.message()
    assert "dropout warning at 4 weeks" in alert.message("en")
    assert _dropout(alerts_for(truant(*days[:-1]), SCHOOL_DAYS)) == []  # Sunday 29th worked


def test_holiday_weeks_neither_count_nor_break_the_run() -> None:
    # With Monday 30 September off too, the week of 30 Sep has no school day at all.
    calendar = SCHOOL_DAYS - {date(2024, 9, 30)}
    # 23 Sep – 25 Oct: weeks of 23 Sep, [国庆: none], 7 Oct (8–12), 14 Oct, 21 Oct.
    days = between(date(2024, 9, 23), date(2024, 10, 25), calendar)
    assert _dropout(alerts_for(truant(*days[:-5]), calendar)) == []  # three school weeks
    (alert,) = _dropout(alerts_for(truant(*days), calendar))
    assert alert.reason.params["weeks"] == 4
    assert alert.first_day == date(2024, 9, 23)


def test_a_week_with_one_school_day_is_a_school_week() -> None:
    # Monday 30 September is the only school day of its week: it counts as a whole week.
    days = between(date(2024, 9, 23), date(2024, 10, 18))
    (alert,) = _dropout(alerts_for(truant(*days), SCHOOL_DAYS))
    assert alert.reason.params["weeks"] == 4


def test_a_streak_starting_mid_week_needs_four_more_whole_weeks() -> None:
    days = between(date(2024, 9, 4), date(2024, 9, 29))  # Wednesday of week 1 → end of week 4
    alerts = alerts_for(truant(*days), SCHOOL_DAYS)
    assert kinds(alerts) == [AlertKind.CHRONIC, AlertKind.CONSECUTIVE]
    more = between(date(2024, 9, 4), date(2024, 10, 12))
    (alert,) = _dropout(alerts_for(truant(*more), SCHOOL_DAYS))
    assert alert.first_day == date(2024, 9, 9)


def test_one_day_at_school_breaks_the_weeks() -> None:
    days = [d for d in between(date(2024, 9, 2), date(2024, 10, 12)) if d != date(2024, 9, 19)]
    alerts = _dropout(alerts_for(truant(*days), SCHOOL_DAYS))
    # Week of 16 Sep is broken; before it 2 weeks, after it 23 Sep, 30 Sep, 7 Oct: 3 weeks.
    assert alerts == []
    longer = [d for d in between(date(2024, 9, 2), date(2024, 10, 18)) if d != date(2024, 9, 19)]
    (alert,) = _dropout(alerts_for(truant(*longer), SCHOOL_DAYS))
    assert alert.first_day == date(2024, 9, 23)


def test_the_current_week_counts_only_once_it_is_over() -> None:
    days = between(date(2024, 9, 2), date(2024, 9, 27))  # up to Friday of week 4
    records = truant(*days)
    # as_of Friday 27th: the make-up Sunday 29th is still ahead, so week 4 is not over.
    assert _dropout(alerts_for(records, SCHOOL_DAYS, as_of=date(2024, 9, 27))) == []
    full = truant(*days, date(2024, 9, 29))
    assert _dropout(alerts_for(full, SCHOOL_DAYS, as_of=date(2024, 9, 29))) != []
    # Mid-week as_of: weeks of 16, 23 and 30 Sep are over; the week of 7 Oct is not.
    in_week = truant(*between(date(2024, 9, 16), date(2024, 10, 9)))
    assert _dropout(alerts_for(in_week, SCHOOL_DAYS, as_of=date(2024, 10, 9))) == []
    # Days after as_of are not looked at (not taken as present either).
    through = truant(*between(date(2024, 9, 16), date(2024, 10, 12)))
    assert _dropout(alerts_for(through, SCHOOL_DAYS, as_of=date(2024, 10, 12))) != []


def test_dropout_threshold_is_configurable() -> None:
    days = between(date(2024, 9, 2), date(2024, 9, 14))
    policy = AbsencePolicy(dropout_weeks=2)
    assert len(_dropout(alerts_for(truant(*days), SCHOOL_DAYS, policy=policy))) == 1


def test_policy_validation() -> None:
    for bad in (
        {"rate_threshold": Fraction(0)},
        {"rate_threshold": Fraction(3, 2)},
        {"rate_marks": frozenset({Mark.LATE})},
        {"consecutive_unexcused_days": 0},
        {"dropout_weeks": 0},
        {"cumulative_unexcused_days": 0},
    ):
        with pytest.raises(ValueError):
            AbsencePolicy(**bad)


def test_no_school_days_no_alerts() -> None:
    assert alerts_for(truant(date(2024, 9, 2)), set()) == []
