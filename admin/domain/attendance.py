"""Attendance (考勤): marks, rates, chronic-absence alerts and the 4-week dropout warning
(DOMAIN.md §6.1 and §4.3(e)).

**Calendar.** Every rule runs on *school days*: the set of dates on which the student was
expected at school, supplied by the caller (the term calendar minus weekends, holidays and
non-term days, plus make-up days 调休, intersected with the student's enrolment). "Consecutive"
always means consecutive in that sorted set: a streak Friday → Monday, or across a holiday, is
unbroken. Only school days up to ``as_of`` (default: the last school day given) are looked at.

**Marks.** A record marks a whole day (``period=None``) or one period (节, 1..periods that
day). Nothing recorded means present (出勤). 迟到 / 早退 are remarks on a present student;
旷课, 病假 and 事假 are absences (旷课 unexcused, the two leaves excused). When one slot has
several marks (``check_records`` reports this) the most severe absence counts:
旷课 > 事假 > 病假; 迟到 and 早退 may share a slot.

**Absent days.** A whole-day absence mark, or an absence in every period of the day, is one
absent day. A partly absent day counts by *period weighting*: ``"fraction"`` (default) adds
absent periods / periods that day (3 of 6 periods = 0.5 day); ``"full_days"`` adds nothing
for partial days (they still show in the period counts). Without a period count for the day
(``periods_per_day`` 0) only whole-day marks exist.

    absence rate = absent days / school days;  attendance rate (出勤率) = 1 − absence rate

A class or school rate is Σ absent days / Σ school days over its students (student-days), so
every student weighs by the days they were enrolled. Rates are exact ``Fraction`` values.

**Unexcused day.** A fully absent day with at least one 旷课 in it (not covered by leave).

**Alerts** (``AbsencePolicy``):

* chronic absence: absence rate ≥ ``rate_threshold`` (default 10 %) once at least
  ``min_school_days`` (default 10) school days have passed — all three absence marks count
  by default;
* ``consecutive_unexcused_days`` (default 3) or more unexcused days in a row;
* optional: ``cumulative_unexcused_days`` in total (Hunan 高中: 45; off by default);
* dropout warning (辍学, §4.3(e) 连续4周): ``dropout_weeks`` (default 4) consecutive *school
  weeks* in which every school day is unexcused. A school week is a Monday–Sunday ISO week with
  at least one school day; weeks without school days (holiday weeks) are skipped — they neither
  count nor break the run; a week with school days after ``as_of`` is not over yet and does not
  count. A streak that starts mid-week therefore needs four further whole weeks.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Final, Literal, TypeAlias

from admin.domain.messages import ZH_CN, Violation


class Mark(StrEnum):
    PRESENT = "出勤"
    LATE = "迟到"
    LEFT_EARLY = "早退"
    TRUANT = "旷课"
    SICK = "病假"
    PERSONAL = "事假"

    @property
    def en(self) -> str:
        return _MARK_EN[self]


_MARK_EN: Final[dict[Mark, str]] = {
    Mark.PRESENT: "present",
    Mark.LATE: "late",
    Mark.LEFT_EARLY: "left early",
    Mark.TRUANT: "unexcused absence",
    Mark.SICK: "sick leave",
    Mark.PERSONAL: "personal leave",
}
ABSENCE_MARKS: Final[frozenset[Mark]] = frozenset({Mark.TRUANT, Mark.SICK, Mark.PERSONAL})
EXCUSED_MARKS: Final[frozenset[Mark]] = frozenset({Mark.SICK, Mark.PERSONAL})
_REMARKS: Final[frozenset[Mark]] = frozenset({Mark.LATE, Mark.LEFT_EARLY})
# Most severe first: the absence that counts when one slot has several.
_SEVERITY: Final[tuple[Mark, ...]] = (Mark.TRUANT, Mark.PERSONAL, Mark.SICK)

Weighting = Literal["fraction", "full_days"]
FRACTION: Final = "fraction"
FULL_DAYS: Final = "full_days"
PeriodsPerDay: TypeAlias = int | Mapping[date, int]


@dataclass(frozen=True)
class AttendanceRecord:
    day: date
    mark: Mark
    period: int | None = None  # None: the whole day


def _periods_on(periods_per_day: PeriodsPerDay, day: date) -> int:
    if isinstance(periods_per_day, int):
        return periods_per_day
    return periods_per_day.get(day, 0)


def _worst_absence(marks: Iterable[Mark]) -> Mark | None:
    present = set(marks)
    return next((mark for mark in _SEVERITY if mark in present), None)


def _slot_params(record: AttendanceRecord, other: Mark) -> dict[str, object]:
    whole = record.period is None
    return {
        "day": record.day.isoformat(),
        "slot_zh": "全天" if whole else f"第{record.period}节",
        "slot_en": "the whole day" if whole else f"period {record.period}",
        "mark": record.mark.value,
        "mark_en": record.mark.en,
        "other": other.value,
        "other_en": other.en,
    }


def check_records(
    records: Iterable[AttendanceRecord],
    school_days: Collection[date],
    *,
    periods_per_day: PeriodsPerDay = 0,
    field: str = "attendance",
) -> list[Violation]:
    """Records the computation would ignore or have to arbitrate:
    ``attendance.not_school_day``, ``attendance.period_range`` (period outside 1..periods that
    day), ``attendance.duplicate`` (two marks for one slot, except 迟到 + 早退) and
    ``attendance.conflict`` (a whole-day absence and other marks on the same day)."""
    violations: list[Violation] = []
    slots: dict[tuple[date, int | None], list[Mark]] = {}
    for record in records:
        iso = record.day.isoformat()
        if record.day not in school_days:
            violations.append(Violation("attendance.not_school_day", field, {"day": iso}))
            continue
        periods = _periods_on(periods_per_day, record.day)
        if record.period is not None and not 1 <= record.period <= periods:
            params = {"day": iso, "period": record.period, "periods": periods}
            violations.append(Violation("attendance.period_range", field, params))
            continue
        marks = slots.setdefault((record.day, record.period), [])
        both_remarks = {record.mark, *marks} <= _REMARKS and record.mark not in marks
        if marks and not both_remarks:
            violations.append(
                Violation("attendance.duplicate", field, _slot_params(record, marks[0]))
            )
        marks.append(record.mark)
    whole_absence_days = {
        d for (d, period), marks in slots.items() if period is None and _worst_absence(marks)
    }
    conflicting = {
        d
        for (d, period), marks in slots.items()
        if d in whole_absence_days and period is not None and set(marks) - {Mark.PRESENT}
    }
    for d in sorted(conflicting):
        violations.append(Violation("attendance.conflict", field, {"day": d.isoformat()}))
    return violations


@dataclass(frozen=True)
class DayStatus:
    """One school day of one student."""

    day: date
    periods: int  # periods that day (0: day marks only)
    absent: Fraction  # absent days this day contributes (0..1) under the weighting
    # ``absent`` split by 旷课/病假/事假 (mappings: left out of the hash)
    absent_by_mark: Mapping[Mark, Fraction] = dataclass_field(hash=False)
    # absent periods by mark (whole-day marks: all)
    periods_by_mark: Mapping[Mark, int] = dataclass_field(hash=False)
    full_day: bool  # absent the whole day
    unexcused: bool  # full day with at least one 旷课
    late: int  # 迟到 marks
    left_early: int  # 早退 marks


def _school_days_until(school_days: Collection[date], as_of: date | None) -> list[date]:
    return sorted(d for d in school_days if as_of is None or d <= as_of)


def day_statuses(
    records: Iterable[AttendanceRecord],
    school_days: Collection[date],
    *,
    periods_per_day: PeriodsPerDay = 0,
    weighting: Weighting = FRACTION,
    as_of: date | None = None,
) -> list[DayStatus]:
    """The status of every school day up to ``as_of``, in date order (see the module text)."""
    if weighting not in (FRACTION, FULL_DAYS):
        raise ValueError(f"weighting must be 'fraction' or 'full_days', got {weighting!r}")
    days = _school_days_until(school_days, as_of)
    wanted = set(days)
    whole: dict[date, list[Mark]] = {}
    by_period: dict[date, dict[int, list[Mark]]] = {}
    for record in records:
        if record.day not in wanted:
            continue
        if record.period is None:
            whole.setdefault(record.day, []).append(record.mark)
        elif 1 <= record.period <= _periods_on(periods_per_day, record.day):
            by_period.setdefault(record.day, {}).setdefault(record.period, []).append(record.mark)
    statuses: list[DayStatus] = []
    for day in days:
        periods = _periods_on(periods_per_day, day)
        day_marks = whole.get(day, [])
        slots = by_period.get(day, {})
        remarks = [*day_marks, *(m for marks in slots.values() for m in marks)]
        late = remarks.count(Mark.LATE)
        left_early = remarks.count(Mark.LEFT_EARLY)
        whole_absence = _worst_absence(day_marks)
        counts = dict.fromkeys(_SEVERITY, 0)
        if whole_absence is not None:
            counts[whole_absence] = periods
            full_day = True
            unexcused = whole_absence is Mark.TRUANT
            shares = {mark: Fraction(int(mark is whole_absence)) for mark in _SEVERITY}
        else:
            for marks in slots.values():
                worst = _worst_absence(marks)
                if worst is not None:
                    counts[worst] += 1
            absent_periods = sum(counts.values())
            full_day = periods > 0 and absent_periods == periods
            unexcused = full_day and counts[Mark.TRUANT] > 0
            partial_counts = weighting == FRACTION or full_day
            shares = {
                mark: Fraction(counts[mark], periods) if periods and partial_counts else Fraction(0)
                for mark in _SEVERITY
            }
        statuses.append(
            DayStatus(
                day=day,
                periods=periods,
                absent=sum(shares.values(), Fraction(0)),
                absent_by_mark=shares,
                periods_by_mark=counts,
                full_day=full_day,
                unexcused=unexcused,
                late=late,
                left_early=left_early,
            )
        )
    return statuses


@dataclass(frozen=True)
class AttendanceSummary:
    """One student over the school days up to ``as_of``."""

    school_days: int
    absent_days: Fraction
    # 旷课/病假/事假 days (partial days weighted) and periods (旷课节数 …)
    absent_by_mark: Mapping[Mark, Fraction] = dataclass_field(hash=False)
    periods_by_mark: Mapping[Mark, int] = dataclass_field(hash=False)
    full_absent_days: int
    unexcused_days: int
    late: int
    left_early: int
    weighting: Weighting

    @property
    def absence_rate(self) -> Fraction | None:
        return self.absent_days / self.school_days if self.school_days else None

    @property
    def attendance_rate(self) -> Fraction | None:
        rate = self.absence_rate
        return None if rate is None else 1 - rate


def summarize_days(
    statuses: Sequence[DayStatus], weighting: Weighting = FRACTION
) -> AttendanceSummary:
    """Add up ``day_statuses``."""
    return AttendanceSummary(
        school_days=len(statuses),
        absent_days=sum((s.absent for s in statuses), Fraction(0)),
        absent_by_mark={
            m: sum((s.absent_by_mark[m] for s in statuses), Fraction(0)) for m in _SEVERITY
        },
        periods_by_mark={m: sum(s.periods_by_mark[m] for s in statuses) for m in _SEVERITY},
        full_absent_days=sum(1 for s in statuses if s.full_day),
        unexcused_days=sum(1 for s in statuses if s.unexcused),
        late=sum(s.late for s in statuses),
        left_early=sum(s.left_early for s in statuses),
        weighting=weighting,
    )


def summarize(
    records: Iterable[AttendanceRecord],
    school_days: Collection[date],
    *,
    periods_per_day: PeriodsPerDay = 0,
    weighting: Weighting = FRACTION,
    as_of: date | None = None,
) -> AttendanceSummary:
    """Absent days and rates of one student."""
    statuses = day_statuses(
        records, school_days, periods_per_day=periods_per_day, weighting=weighting, as_of=as_of
    )
    return summarize_days(statuses, weighting)


@dataclass(frozen=True)
class GroupAttendance:
    """A class or a school: totals over its students' school days (student-days)."""

    students: int
    student_days: int
    absent_days: Fraction

    @property
    def absence_rate(self) -> Fraction | None:
        return self.absent_days / self.student_days if self.student_days else None

    @property
    def attendance_rate(self) -> Fraction | None:
        rate = self.absence_rate
        return None if rate is None else 1 - rate


def group_attendance(summaries: Iterable[AttendanceSummary]) -> GroupAttendance:
    """Σ absent days / Σ school days: each student weighs by their school days."""
    items = list(summaries)
    return GroupAttendance(
        students=len(items),
        student_days=sum(s.school_days for s in items),
        absent_days=sum((s.absent_days for s in items), Fraction(0)),
    )


# --- alerts ----------------------------------------------------------------------------------


class AlertKind(StrEnum):
    CHRONIC = "chronic_absence"
    CONSECUTIVE = "consecutive_unexcused"
    CUMULATIVE = "cumulative_unexcused"
    DROPOUT = "dropout_warning"


_ALERT_CODES: Final[dict[AlertKind, str]] = {
    AlertKind.CHRONIC: "attendance.chronic_absence",
    AlertKind.CONSECUTIVE: "attendance.consecutive_unexcused",
    AlertKind.CUMULATIVE: "attendance.cumulative_unexcused",
    AlertKind.DROPOUT: "attendance.dropout_warning",
}


@dataclass(frozen=True)
class AbsencePolicy:
    """Alert thresholds (see the module text); every one is a local setting."""

    rate_threshold: Fraction = Fraction(1, 10)
    rate_marks: frozenset[Mark] = ABSENCE_MARKS
    min_school_days: int = 10
    consecutive_unexcused_days: int = 3
    cumulative_unexcused_days: int | None = None
    dropout_weeks: int = 4
    weighting: Weighting = FRACTION

    def __post_init__(self) -> None:
        if not 0 < self.rate_threshold <= 1:
            raise ValueError("rate_threshold must be in (0, 1]")
        if not self.rate_marks <= ABSENCE_MARKS:
            raise ValueError("rate_marks may only hold 旷课, 病假 and 事假")
        if self.consecutive_unexcused_days < 1 or self.dropout_weeks < 1:
            raise ValueError("day and week thresholds must be 1 or more")
        if self.cumulative_unexcused_days is not None and self.cumulative_unexcused_days < 1:
            raise ValueError("cumulative_unexcused_days must be 1 or more")


DEFAULT_ABSENCE_POLICY: Final = AbsencePolicy()


@dataclass(frozen=True)
class AttendanceAlert:
    """Why a student needs attention; ``reason`` renders it in zh/en."""

    kind: AlertKind
    first_day: date
    last_day: date
    reason: Violation

    def message(self, locale: str = ZH_CN) -> str:
        return self.reason.message(locale)


def _decimal_text(value: Fraction, places: int = 1) -> str:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    text = f"{exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _percent(value: Fraction) -> str:
    return _decimal_text(value * 100) + "%"


def _alert(
    kind: AlertKind, first: date, last: date, params: dict[str, object], field: str
) -> AttendanceAlert:
    params = {"first_day": first.isoformat(), "last_day": last.isoformat(), **params}
    return AttendanceAlert(kind, first, last, Violation(_ALERT_CODES[kind], field, params))


def _streaks(statuses: Sequence[DayStatus]) -> list[list[DayStatus]]:
    """Maximal runs of unexcused days, consecutive in the school-day list."""
    runs: list[list[DayStatus]] = []
    current: list[DayStatus] = []
    for status in statuses:
        if status.unexcused:
            current.append(status)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _dropout_runs(
    statuses: Sequence[DayStatus], school_days: Collection[date], as_of: date | None
) -> list[list[list[DayStatus]]]:
    """Maximal runs of whole, finished school weeks in which every school day is unexcused."""
    last = as_of if as_of is not None else max(school_days, default=None)
    week_of = {s.day: s.day.isocalendar()[:2] for s in statuses}
    unfinished = {d.isocalendar()[:2] for d in school_days if last is not None and d > last}
    weeks: dict[tuple[int, int], list[DayStatus]] = {}
    for status in statuses:
        weeks.setdefault(week_of[status.day], []).append(status)
    runs: list[list[list[DayStatus]]] = []
    current: list[list[DayStatus]] = []
    for week in sorted(weeks):
        if week in unfinished:
            break  # only the week containing ``as_of`` can be unfinished: it is the last
        days = weeks[week]
        if all(s.unexcused for s in days):
            current.append(days)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def attendance_alerts(
    records: Iterable[AttendanceRecord],
    school_days: Collection[date],
    *,
    periods_per_day: PeriodsPerDay = 0,
    policy: AbsencePolicy = DEFAULT_ABSENCE_POLICY,
    as_of: date | None = None,
    field: str = "attendance",
) -> list[AttendanceAlert]:
    """Every alert for one student, in this order: chronic absence, each streak of
    consecutive unexcused days, cumulative unexcused days, each dropout run."""
    statuses = day_statuses(
        records,
        school_days,
        periods_per_day=periods_per_day,
        weighting=policy.weighting,
        as_of=as_of,
    )
    if not statuses:
        return []
    alerts: list[AttendanceAlert] = []
    first, last = statuses[0].day, statuses[-1].day
    absent = sum((s.absent_by_mark[m] for s in statuses for m in policy.rate_marks), Fraction(0))
    rate = absent / len(statuses)
    if len(statuses) >= policy.min_school_days and rate >= policy.rate_threshold:
        params: dict[str, object] = {
            "absent_days": _decimal_text(absent),
            "school_days": len(statuses),
            "rate": _percent(rate),
            "threshold": _percent(policy.rate_threshold),
        }
        alerts.append(_alert(AlertKind.CHRONIC, first, last, params, field))
    for run in _streaks(statuses):
        if len(run) >= policy.consecutive_unexcused_days:
            params = {"days": len(run), "threshold": policy.consecutive_unexcused_days}
            alerts.append(_alert(AlertKind.CONSECUTIVE, run[0].day, run[-1].day, params, field))
    limit = policy.cumulative_unexcused_days
    truant = sum((s.absent_by_mark[Mark.TRUANT] for s in statuses), Fraction(0))
    if limit is not None and truant >= limit:
        params = {"days": _decimal_text(truant), "threshold": limit}
        alerts.append(_alert(AlertKind.CUMULATIVE, first, last, params, field))
    for weeks in _dropout_runs(statuses, school_days, as_of):
        if len(weeks) >= policy.dropout_weeks:
            params = {
                "weeks": len(weeks),
                "days": sum(len(w) for w in weeks),
                "threshold": policy.dropout_weeks,
            }
            alerts.append(
                _alert(AlertKind.DROPOUT, weeks[0][0].day, weeks[-1][-1].day, params, field)
            )
    return alerts
