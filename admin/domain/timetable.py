"""Timetable (课程表) checks for one term: ranges and clashes.

An entry puts a subject with a teacher in a room for a class at one slot (weekday 1 = Monday
… 7 = Sunday, period 1..``periods_per_day``). Clashes at the same slot:

* ``timetable.class_clash`` — one class has two entries (a slot filled twice, exact
  duplicates included);
* ``timetable.teacher_clash`` — one teacher in two different classes;
* ``timetable.room_clash`` — one room used by two different classes.

Each clash is reported once per extra entry, against the first entry listed for that slot.
Two deliberate exceptions, both opt-in: entries with the same non-empty ``combined`` key are
one combined lesson (合班课: one teacher, one room, several classes) and never clash with
each other on teacher or room; rooms in ``shared_rooms`` (操场, 体育馆) may host several
classes at once. An entry with an invalid weekday or period, or without class or subject, is
reported and left out of the clash checks. Teacher and room are optional (自习 without a
teacher, a class in its own room). Names are compared after stripping spaces.
Not covered: 单双周 alternation and 走班 teaching groups.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Final

from admin.domain.messages import Violation

WEEKDAYS_ZH: Final[tuple[str, ...]] = (
    "星期一",
    "星期二",
    "星期三",
    "星期四",
    "星期五",
    "星期六",
    "星期日",
)
WEEKDAYS_EN: Final[tuple[str, ...]] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
DEFAULT_PERIODS_PER_DAY: Final = 12  # generous: 早读 and 晚自习 included; pass the school's own


@dataclass(frozen=True)
class TimetableEntry:
    class_name: str
    weekday: int  # 1 = Monday … 7 = Sunday
    period: int  # 1-based
    subject: str
    teacher: str | None = None
    room: str | None = None
    combined: str | None = None  # 合班 key shared by the entries of one combined lesson


def _name(value: str | None) -> str:
    return "" if value is None else value.strip()


def _slot_params(entry: TimetableEntry, row: int) -> dict[str, object]:
    return {
        "weekday": entry.weekday,
        "weekday_zh": WEEKDAYS_ZH[entry.weekday - 1],
        "weekday_en": WEEKDAYS_EN[entry.weekday - 1],
        "period": entry.period,
        "row": row,
    }


def _check_entry(entry: TimetableEntry, row: int, periods_per_day: int) -> list[Violation]:
    violations: list[Violation] = []
    if not 1 <= entry.weekday <= 7:
        violations.append(
            Violation("timetable.weekday_range", "weekday", {"value": entry.weekday, "row": row})
        )
    if not 1 <= entry.period <= periods_per_day:
        params = {"value": entry.period, "max": periods_per_day, "row": row}
        violations.append(Violation("timetable.period_range", "period", params))
    if not _name(entry.class_name):
        violations.append(Violation("required", "class_name", {"row": row}))
    if not _name(entry.subject):
        violations.append(Violation("required", "subject", {"row": row}))
    return violations


def _same_lesson(a: TimetableEntry, b: TimetableEntry) -> bool:
    return bool(_name(a.combined)) and _name(a.combined) == _name(b.combined)


def check_timetable(
    entries: Iterable[TimetableEntry],
    *,
    periods_per_day: int = DEFAULT_PERIODS_PER_DAY,
    shared_rooms: Collection[str] = (),
) -> list[Violation]:
    """Range violations and clashes of a term's timetable; ``row`` params are 1-based
    positions in ``entries``. Range and required violations come first, then clashes by
    slot."""
    if periods_per_day < 1:
        raise ValueError(f"periods_per_day must be 1 or more, got {periods_per_day}")
    shared = {_name(room) for room in shared_rooms}
    violations: list[Violation] = []
    valid: list[tuple[int, TimetableEntry]] = []
    for row, entry in enumerate(entries, start=1):
        problems = _check_entry(entry, row, periods_per_day)
        violations.extend(problems)
        if not problems:
            valid.append((row, entry))
    by_slot: dict[tuple[int, int], list[tuple[int, TimetableEntry]]] = {}
    for row, entry in valid:
        by_slot.setdefault((entry.weekday, entry.period), []).append((row, entry))
    for slot in sorted(by_slot):
        violations.extend(_slot_clashes(by_slot[slot], shared))
    return violations


def _slot_clashes(
    listed: list[tuple[int, TimetableEntry]], shared_rooms: set[str]
) -> list[Violation]:
    violations: list[Violation] = []
    first_of_class: dict[str, tuple[int, TimetableEntry]] = {}
    first_of_teacher: dict[str, tuple[int, TimetableEntry]] = {}
    first_of_room: dict[str, tuple[int, TimetableEntry]] = {}
    for row, entry in listed:
        class_name = _name(entry.class_name)
        params = _slot_params(entry, row)
        if class_name in first_of_class:
            row_a, a = first_of_class[class_name]
            clash = {
                **params,
                "class_name": class_name,
                "subject_a": _name(a.subject),
                "subject_b": _name(entry.subject),
                "row_a": row_a,
            }
            violations.append(Violation("timetable.class_clash", "class_name", clash))
            continue  # the class is already reported; do not count it again per teacher/room
        first_of_class[class_name] = (row, entry)
        for kind, key, firsts in (
            ("teacher", _name(entry.teacher), first_of_teacher),
            ("room", _name(entry.room), first_of_room),
        ):
            if not key or (kind == "room" and key in shared_rooms):
                continue
            if key not in firsts:
                firsts[key] = (row, entry)
                continue
            row_a, a = firsts[key]
            if _same_lesson(a, entry):
                continue
            clash = {
                **params,
                kind: key,
                "class_a": _name(a.class_name),
                "class_b": class_name,
                "row_a": row_a,
            }
            code = "timetable.teacher_clash" if kind == "teacher" else "timetable.room_clash"
            violations.append(Violation(code, kind, clash))
    return violations
