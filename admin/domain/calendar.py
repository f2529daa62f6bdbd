"""Working days, step deadlines and the summer freezes of 学籍异动 (DOMAIN.md §4.3(d)).

The national rules give every party of a status change **10 working days**.  Working days are
Monday–Friday minus the public holidays, plus China's adjusted working weekends (调休: a
Saturday or Sunday declared a working day to bridge a holiday).  Holidays are announced by the
State Council each year, so they cannot be computed: they are configured, one line per date or
date range (see ``parse_holiday_config``).

Freeze windows (教基司厅函〔2017〕23号, re-issued yearly): no new business for graduating
grades 07-01 → 08-14; no new transfers 07-15 → 08-14.  Requests started before a window opens
continue; the windows only stop *new* requests, so ``check_freeze`` belongs where a request is
created or submitted, not where it is approved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, timedelta
from typing import Final, Literal

from admin.domain.messages import Violation
from admin.domain.text import to_halfwidth

_ONE_DAY: Final = timedelta(days=1)
_SATURDAY: Final = 5  # date.weekday(): Monday 0 … Sunday 6

# Field of the configuration text in violations.
HOLIDAY_CONFIG_FIELD: Final = "holiday_config"
# A holiday range longer than this is almost certainly a typing error (2026-02-15..2027-02-23);
# the longest Chinese public holiday (Spring Festival / National Day) spans 8–9 days.
MAX_RANGE_DAYS: Final = 31

# Transfers: 35 转学 is the request; 13 转入 and 27 转出 are its two halves.  Duplicated from
# admin.domain.workflow (which imports this module) and kept equal by a test.
TRANSFER_CHANGE_TYPES: Final[frozenset[str]] = frozenset({"35", "13", "27"})


@dataclass(frozen=True)
class WorkingCalendar:
    """Monday–Friday are working days, except ``holidays``; ``extra_workdays`` are the
    Saturdays and Sundays worked instead (调休).  A date may not be in both sets."""

    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        both = self.holidays & self.extra_workdays
        if both:
            days = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"dates both holiday and extra working day: {days}")

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < _SATURDAY

    def add_working_days(self, start: date, n: int) -> date:
        """The date ``n`` working days after ``start``: the start day itself never counts
        (a step started on a Friday with n = 1 is due on Monday); n = 0 gives ``start``."""
        if n < 0:
            raise ValueError(f"n must be 0 or more, got {n}")
        day = start
        remaining = n
        while remaining:
            day += _ONE_DAY
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d ≤ b (negative when b is before a), so that
        ``working_days_between(d, add_working_days(d, n)) == n``."""
        if b < a:
            return -self.working_days_between(b, a)
        count = _weekdays_after_until(a, b)
        count -= sum(1 for d in self.holidays if a < d <= b and d.weekday() < _SATURDAY)
        count += sum(1 for d in self.extra_workdays if a < d <= b and d.weekday() >= _SATURDAY)
        return count

    def working_days_late(self, due: date, today: date) -> int:
        """Working days past ``due`` (0 when not overdue)."""
        return max(0, self.working_days_between(due, today))


def _weekdays_after_until(a: date, b: date) -> int:
    """Monday–Friday dates d with a < d ≤ b, for a ≤ b, in O(1)."""

    def weekdays_up_to(d: date) -> int:  # weekdays from an arbitrary Monday origin up to d
        weeks, rest = divmod(d.toordinal() - 1, 7)  # ordinal 1 (0001-01-01) is a Monday
        return weeks * 5 + min(rest + 1, 5)

    return weekdays_up_to(b) - weekdays_up_to(a)


def add_working_days(start: date, n: int, calendar: WorkingCalendar | None = None) -> date:
    """Module-level shortcut for ``calendar.add_working_days`` (weekends only by default)."""
    return (calendar or WorkingCalendar()).add_working_days(start, n)


def working_days_between(a: date, b: date, calendar: WorkingCalendar | None = None) -> int:
    return (calendar or WorkingCalendar()).working_days_between(a, b)


def overdue(due: date, today: date) -> bool:
    """A step is due by the end of its due date: overdue from the next day on."""
    return today > due


# --- holiday configuration ---------------------------------------------------------------------

_ISO: Final = r"([0-9]{4}-[0-9]{2}-[0-9]{2})"
# One date, or a range written "start..end" or "start/end" (ISO 8601 interval), optionally
# preceded by "+" for extra working days (调休).  Whitespace around the parts is allowed.
_LINE: Final = re.compile(rf"(\+?)\s*{_ISO}(?:\s*(?:\.\.|/|~)\s*{_ISO})?")


def _parse_iso(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _line_violation(code: str, number: int, text: str, **params: object) -> Violation:
    return Violation(code, HOLIDAY_CONFIG_FIELD, {"line": number, "value": text, **params})


def parse_holiday_config(text: str) -> tuple[WorkingCalendar | None, list[Violation]]:
    """Parse a holiday list: one item per line, ``#`` starts a comment.

    ``2026-10-01``             a holiday
    ``2026-02-15..2026-02-23`` a range of holidays, both ends included (also ``start/end``)
    ``+2026-02-14``            an extra working day (调休), must be a Saturday or Sunday

    Full-width characters are accepted.  Returns the calendar, or None and one violation per
    bad line (``calendar.line`` for malformed lines; each names the 1-based line number).
    """
    holidays: dict[date, int] = {}
    workdays: dict[date, int] = {}
    violations: list[Violation] = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        content = to_halfwidth(raw_line).split("#", 1)[0].strip()
        if not content:
            continue
        match = _LINE.fullmatch(content)
        if match is None:
            violations.append(_line_violation("calendar.line", number, content))
            continue
        plus, first_text, last_text = match.groups()
        first = _parse_iso(first_text)
        last = _parse_iso(last_text) if last_text else first
        if first is None or last is None:
            violations.append(_line_violation("calendar.line", number, content))
            continue
        if last < first:
            violations.append(_line_violation("calendar.range_reversed", number, content))
            continue
        length = (last - first).days + 1
        if length > MAX_RANGE_DAYS:
            violations.append(
                _line_violation(
                    "calendar.range_too_long", number, content, days=length, max=MAX_RANGE_DAYS
                )
            )
            continue
        days = [first + timedelta(days=i) for i in range(length)]
        if plus:
            weekdays = [d for d in days if d.weekday() < _SATURDAY]
            if weekdays:
                violations.append(
                    _line_violation(
                        "calendar.not_weekend", number, content, date=weekdays[0].isoformat()
                    )
                )
                continue
            target, other = workdays, holidays
        else:
            target, other = holidays, workdays
        clash = [d for d in days if d in other]
        if clash:
            violations.append(
                _line_violation(
                    "calendar.conflict",
                    number,
                    content,
                    date=clash[0].isoformat(),
                    other_line=other[clash[0]],
                )
            )
            continue
        for d in days:
            target.setdefault(d, number)
    if violations:
        return None, violations
    return WorkingCalendar(frozenset(holidays), frozenset(workdays)), []


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for d in sorted(days):
        if runs and runs[-1][1] + _ONE_DAY == d and (d - runs[-1][0]).days < MAX_RANGE_DAYS:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


def format_holiday_config(calendar: WorkingCalendar) -> str:
    """The configuration text of a calendar (consecutive holidays as ranges); parsing it gives
    the same calendar back."""
    lines: list[str] = []
    for prefix, days in (("", calendar.holidays), ("+", calendar.extra_workdays)):
        for first, last in _runs(days):
            span = first.isoformat() if first == last else f"{first}..{last}"
            lines.append(prefix + span)
    return "".join(line + "\n" for line in lines)


# --- freeze windows -----------------------------------------------------------------------------

FreezeScope = Literal["graduating", "all"]
FreezeBlock = Literal["new_requests", "transfers"]
_MONTH_DAY: Final = re.compile(r"([0-9]{2})-([0-9]{2})")


def _month_day(text: str) -> tuple[int, int]:
    match = _MONTH_DAY.fullmatch(text)
    if match is None:
        raise ValueError(f"month-day must be written MM-DD, got {text!r}")
    month, day = int(match.group(1)), int(match.group(2))
    date(2000, month, day)  # raises ValueError; 2000 is a leap year, so 02-29 is allowed
    return month, day


def _occurrence_date(year: int, month_day: tuple[int, int], *, is_end: bool) -> date:
    month, day = month_day
    try:
        return date(year, month, day)
    except ValueError:  # 02-29 in a common year: a window starts on 03-01, ends on 02-28
        return date(year, 3, 1) if not is_end else date(year, 2, 28)


@dataclass(frozen=True)
class FreezeWindow:
    """A yearly window, ``start_md`` to ``end_md`` inclusive (MM-DD); it wraps the year end
    when the end comes before the start (12-20 → 01-05)."""

    name: str  # Chinese name, shown in zh_CN messages
    start_md: str
    end_md: str
    applies_to: FreezeScope
    blocks: FreezeBlock
    name_en: str = ""  # English name; the Chinese one when empty
    # Change types the window never blocks (none by default).
    exempt_types: frozenset[str] = dataclass_field(default_factory=frozenset)

    def __post_init__(self) -> None:
        _month_day(self.start_md)
        _month_day(self.end_md)
        if self.applies_to not in ("graduating", "all"):
            raise ValueError(f"applies_to must be 'graduating' or 'all', got {self.applies_to!r}")
        if self.blocks not in ("new_requests", "transfers"):
            raise ValueError(f"blocks must be 'new_requests' or 'transfers', got {self.blocks!r}")

    @property
    def wraps_year_end(self) -> bool:
        return _month_day(self.end_md) < _month_day(self.start_md)

    def contains(self, day: date) -> bool:
        start, end = _month_day(self.start_md), _month_day(self.end_md)
        md = (day.month, day.day)
        if start <= end:
            return start <= md <= end
        return md >= start or md <= end

    def occurrence(self, day: date) -> tuple[date, date] | None:
        """First and last date of the occurrence of the window that contains ``day``."""
        if not self.contains(day):
            return None
        start, end = _month_day(self.start_md), _month_day(self.end_md)
        start_year = end_year = day.year
        if self.wraps_year_end:
            if (day.month, day.day) >= start:
                end_year += 1
            else:
                start_year -= 1
        return (
            _occurrence_date(start_year, start, is_end=False),
            _occurrence_date(end_year, end, is_end=True),
        )

    def blocks_request(self, change_type: str, is_graduating_grade: bool) -> bool:
        """Whether a new request of this type is blocked while the window is open."""
        if change_type in self.exempt_types:
            return False
        if self.applies_to == "graduating" and not is_graduating_grade:
            return False
        return self.blocks == "new_requests" or change_type in TRANSFER_CHANGE_TYPES


DEFAULT_FREEZES: Final[tuple[FreezeWindow, ...]] = (
    FreezeWindow(
        "毕业年级暑期冻结（教基司厅函〔2017〕23号）",
        "07-01",
        "08-14",
        applies_to="graduating",
        blocks="new_requests",
        name_en="summer freeze for graduating grades (MoE notice 2017 No. 23)",
    ),
    FreezeWindow(
        "暑期转学冻结（教基司厅函〔2017〕23号）",
        "07-15",
        "08-14",
        applies_to="all",
        blocks="transfers",
        name_en="summer transfer freeze (MoE notice 2017 No. 23)",
    ),
)


def check_freeze(
    today: date,
    change_type: str,
    is_graduating_grade: bool,
    windows: Sequence[FreezeWindow] = DEFAULT_FREEZES,
    field: str = "status_change_type",
) -> list[Violation]:
    """``workflow.frozen`` for each open window that blocks a new request of this type."""
    violations: list[Violation] = []
    for window in windows:
        occurrence = window.occurrence(today)
        if occurrence is None or not window.blocks_request(change_type, is_graduating_grade):
            continue
        first, last = occurrence
        params = {
            "name_zh": window.name,
            "name_en": window.name_en or window.name,
            "start": first.isoformat(),
            "end": last.isoformat(),
            "start_md": window.start_md,
            "end_md": window.end_md,
        }
        violations.append(Violation("workflow.frozen", field, params))
    return violations
