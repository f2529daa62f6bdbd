"""Timetable ranges and clashes: admin.domain.timetable."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from admin.domain.messages import Violation
from admin.domain.timetable import TimetableEntry, check_timetable

E = TimetableEntry


def codes(violations: list[Violation]) -> list[str]:
    return [v.code for v in violations]


def week(class_name: str, teacher: str, room: str) -> list[TimetableEntry]:
    """A clash-free week for one class: a different slot for every entry."""
    return [
        E(class_name, day, period, "语文", teacher, room) for day in (1, 2, 3) for period in (1, 2)
    ]


def test_a_valid_timetable_has_no_violations() -> None:
    entries = [
        *week("一(1)班", "张老师", "101"),
        *week("一(2)班", "李老师", "102"),
        E("一(1)班", 1, 3, "数学", "李老师", "101"),  # 李老师 free at period 3
        E("一(2)班", 1, 3, "自习", None, None),  # no teacher, own room
        E("一(3)班", 1, 3, "自习", " ", ""),
    ]
    assert check_timetable(entries) == []


def test_one_entry_never_clashes_with_itself() -> None:
    assert check_timetable([E("一(1)班", 1, 1, "语文", "张老师", "101")]) == []


def test_same_teacher_same_class_different_slots_is_fine() -> None:
    entries = [E("一(1)班", 1, p, "语文", "张老师", "101") for p in range(1, 9)]
    assert check_timetable(entries) == []


def test_teacher_clash() -> None:
    entries = [
        E("一(1)班", 2, 3, "数学", "张老师", "101"),
        E("一(2)班", 2, 3, "数学", "张老师", "102"),
    ]
    (violation,) = check_timetable(entries)
    assert violation.code == "timetable.teacher_clash" and violation.field == "teacher"
    assert violation.params == {
        "teacher": "张老师",
        "weekday": 2,
        "weekday_zh": "星期二",
        "weekday_en": "Tuesday",
        "period": 3,
        "class_a": "一(1)班",
        "class_b": "一(2)班",
        "row_a": 1,
        "row": 2,
    }
    assert violation.message() == (
        "任课教师：张老师在星期二第3节同时在一(1)班和一(2)班上课（第1行、第2行）"
    )
    assert violation.message("en") == (
        "Teacher: 张老师 is teaching both 一(1)班 and 一(2)班 on Tuesday, period 3 (rows 1 and 2)"
    )


def test_room_clash() -> None:
    entries = [
        E("一(1)班", 5, 7, "音乐", "王老师", "音乐教室"),
        E("二(1)班", 5, 7, "美术", "赵老师", " 音乐教室 "),
    ]
    (violation,) = check_timetable(entries)
    assert violation.code == "timetable.room_clash" and violation.field == "room"
    assert violation.params["room"] == "音乐教室"
    assert (violation.params["class_a"], violation.params["class_b"]) == ("一(1)班", "二(1)班")
    assert violation.message() == (
        "教室：音乐教室在星期五第7节同时安排给一(1)班和二(1)班（第1行、第2行）"
    )


def test_class_clash() -> None:
    entries = [
        E("一(1)班", 1, 1, "语文", "张老师", "101"),
        E("一(1)班", 1, 1, "数学", "李老师", "101"),
    ]
    (violation,) = check_timetable(entries)
    assert violation.code == "timetable.class_clash" and violation.field == "class_name"
    assert (violation.params["subject_a"], violation.params["subject_b"]) == ("语文", "数学")
    assert violation.message() == "班级：一(1)班在星期一第1节排了两节课（第1行语文、第2行数学）"
    assert "Class: 一(1)班 has two lessons on Monday, period 1" in violation.message("en")


def test_exact_duplicate_is_one_class_clash_only() -> None:
    entry = E("一(1)班", 1, 1, "语文", "张老师", "101")
    assert codes(check_timetable([entry, entry])) == ["timetable.class_clash"]


def test_every_clash_kind_at_once() -> None:
    entries = [
        E("一(1)班", 3, 2, "语文", "张老师", "101"),
        E("一(2)班", 3, 2, "语文", "张老师", "101"),  # teacher and room
        E("一(1)班", 3, 2, "数学", "李老师", "103"),  # class
    ]
    assert codes(check_timetable(entries)) == [
        "timetable.teacher_clash",
        "timetable.room_clash",
        "timetable.class_clash",
    ]


def test_three_classes_one_teacher_gives_two_clashes_against_the_first() -> None:
    entries = [E(f"一({n})班", 1, 1, "体育", "钱老师", f"10{n}") for n in (1, 2, 3)]
    violations = check_timetable(entries)
    assert codes(violations) == ["timetable.teacher_clash"] * 2
    assert [v.params["class_b"] for v in violations] == ["一(2)班", "一(3)班"]
    assert {v.params["class_a"] for v in violations} == {"一(1)班"}


def test_combined_lessons_and_shared_rooms_are_opt_in() -> None:
    combined = [
        E("高一(1)班", 4, 5, "体育", "孙老师", "操场", combined="体育合班"),
        E("高一(2)班", 4, 5, "体育", "孙老师", "操场", combined="体育合班"),
    ]
    assert check_timetable(combined) == []
    assert codes(check_timetable([E(**{**vars(e), "combined": None}) for e in combined])) == [
        "timetable.teacher_clash",
        "timetable.room_clash",
    ]
    other_group = [combined[0], E("高一(3)班", 4, 5, "体育", "孙老师", "操场", combined="另一组")]
    assert codes(check_timetable(other_group)) == [
        "timetable.teacher_clash",
        "timetable.room_clash",
    ]
    playground = [
        E("高一(1)班", 4, 5, "体育", "孙老师", "操场"),
        E("高一(2)班", 4, 5, "体育", "周老师", "操场"),
    ]
    assert codes(check_timetable(playground)) == ["timetable.room_clash"]
    assert check_timetable(playground, shared_rooms={"操场"}) == []


def test_clashes_are_per_slot() -> None:
    entries = [
        E("一(1)班", 1, 1, "语文", "张老师", "101"),
        E("一(2)班", 1, 2, "语文", "张老师", "101"),
        E("一(2)班", 2, 1, "语文", "张老师", "101"),
    ]
    assert check_timetable(entries) == []


@pytest.mark.parametrize(
    ("entry", "code", "field"),
    [
        (E("一(1)班", 0, 1, "语文"), "timetable.weekday_range", "weekday"),
        (E("一(1)班", 8, 1, "语文"), "timetable.weekday_range", "weekday"),
        (E("一(1)班", 1, 0, "语文"), "timetable.period_range", "period"),
        (E("一(1)班", 1, 13, "语文"), "timetable.period_range", "period"),
        (E(" ", 1, 1, "语文"), "required", "class_name"),
        (E("一(1)班", 1, 1, ""), "required", "subject"),
    ],
)
def test_ranges_and_required_fields(entry: TimetableEntry, code: str, field: str) -> None:
    (violation,) = check_timetable([entry])
    assert (violation.code, violation.field, violation.params["row"]) == (code, field, 1)


def test_invalid_entries_are_left_out_of_clash_checks() -> None:
    entries = [E("一(1)班", 9, 1, "语文", "张老师"), E("一(2)班", 9, 1, "语文", "张老师")]
    assert codes(check_timetable(entries)) == ["timetable.weekday_range"] * 2


def test_periods_per_day_is_configurable() -> None:
    entry = E("一(1)班", 7, 8, "晚自习")
    assert codes(check_timetable([entry], periods_per_day=7)) == ["timetable.period_range"]
    (violation,) = check_timetable([entry], periods_per_day=7)
    assert violation.message() == "节次：第1行的节次应为1–7，实际为 8"
    assert check_timetable([entry], periods_per_day=8) == []
    with pytest.raises(ValueError):
        check_timetable([], periods_per_day=0)


# --- property: clashes found exactly when two entries share a slot and a resource -------------

names = st.sampled_from(["A", "B", "C"])
entry_strategy = st.builds(
    TimetableEntry,
    class_name=names,
    weekday=st.integers(min_value=1, max_value=2),
    period=st.integers(min_value=1, max_value=2),
    subject=st.just("语文"),
    teacher=st.one_of(st.none(), st.sampled_from(["t1", "t2"])),
    room=st.one_of(st.none(), st.sampled_from(["r1", "r2"])),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(entry_strategy, max_size=8))
def test_no_clash_means_no_shared_slot_resource(entries: list[TimetableEntry]) -> None:
    violations = check_timetable(entries)
    slots: dict[tuple[int, int], list[TimetableEntry]] = {}
    for entry in entries:
        slots.setdefault((entry.weekday, entry.period), []).append(entry)
    class_double = any(len({e.class_name for e in group}) < len(group) for group in slots.values())
    teacher_double = any(
        a.teacher and a.teacher == b.teacher and a.class_name != b.class_name
        for group in slots.values()
        for i, a in enumerate(group)
        for b in group[i + 1 :]
    )
    room_double = any(
        a.room and a.room == b.room and a.class_name != b.class_name
        for group in slots.values()
        for i, a in enumerate(group)
        for b in group[i + 1 :]
    )
    found = set(codes(violations))
    assert ("timetable.class_clash" in found) == class_double
    # A class clash hides the second entry's teacher/room, so only "found ⇒ real" is exact.
    if "timetable.teacher_clash" in found:
        assert teacher_double
    if "timetable.room_clash" in found:
        assert room_double
    if not class_double:
        assert ("timetable.teacher_clash" in found) == teacher_double
        assert ("timetable.room_clash" in found) == room_double
