"""综合素质评价: grades, the publicity state machine and hours: admin.domain.evaluation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from admin.domain.evaluation import (
    NATIONAL_DIMENSIONS,
    TRANSITIONS,
    Action,
    ActivityRecord,
    Dimension,
    EvalGrade,
    EvalState,
    PublicityRule,
    TermEvaluation,
    allowed_actions,
    check_grades,
    dismiss_objection,
    effective_state,
    finalize,
    hours_by_category,
    is_final,
    monday_to_friday,
    object_to,
    parse_grade,
    practice_hours,
    publicize,
    set_grades,
    uphold_objection,
    validate_hours,
)
from admin.domain.messages import Violation

ALL_B = dict.fromkeys(NATIONAL_DIMENSIONS, "B")
MONDAY = date(2025, 6, 9)  # publicity Mon 9 – Fri 13 June 2025 with the default rule
FRIDAY = date(2025, 6, 13)


def codes(violations: list[Violation]) -> list[str]:
    return [v.code for v in violations]


def graded() -> TermEvaluation:
    ev, violations = set_grades(TermEvaluation(), ALL_B)
    assert violations == []
    return ev


def published() -> TermEvaluation:
    ev, violations = publicize(graded(), MONDAY)
    assert violations == []
    return ev


# --- dimensions and grades -------------------------------------------------------------------


def test_national_dimensions() -> None:
    assert NATIONAL_DIMENSIONS == ("思想品德", "学业水平", "身心健康", "艺术素养", "社会实践")
    assert Dimension.PRACTICE.en == "Social practice"


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        ("A", EvalGrade.A),
        ("b", EvalGrade.B),
        ("Ｃ", EvalGrade.C),
        ("待合格", EvalGrade.D),
        (" 优秀 ", EvalGrade.A),
    ],
)
def test_parse_grade(text: str, grade: EvalGrade) -> None:
    assert parse_grade(text) is grade
    assert (grade.zh, grade.en) != ("", "")


def test_parse_grade_rejects_other_text() -> None:
    assert parse_grade("E") is None and parse_grade("A+") is None and parse_grade("") is None


def test_check_grades() -> None:
    parsed, violations = check_grades(
        {"思想品德": "A", "学业水平": "X", "体育": "A", "艺术素养": ""}
    )
    assert parsed == {"思想品德": EvalGrade.A, "艺术素养": None}
    assert codes(violations) == ["evaluation.grade", "evaluation.dimension_unknown"]
    assert violations[0].message() == (
        "综合素质评价：“学业水平”的等级“X”无效，应为A（优秀）、B（良好）、C（合格）或D（待合格）"
    )
    assert "Academic achievement" in violations[0].message("en")
    _, missing = check_grades({"思想品德": "A"}, complete=True)
    assert codes(missing) == ["evaluation.dimension_missing"] * 4
    assert missing[0].message("en") == (
        "Comprehensive quality evaluation: “Academic achievement” has no grade yet"
    )


def test_provincial_dimension_sets() -> None:
    jiangsu = (*NATIONAL_DIMENSIONS, "自我认识与生涯规划")
    ev, violations = set_grades(TermEvaluation(), {"自我认识与生涯规划": "A"}, dimensions=jiangsu)
    assert violations == [] and ev.grades == {"自我认识与生涯规划": EvalGrade.A}
    (violation,) = check_grades({"自我认识与生涯规划": "A"})[1]
    assert violation.params["dimension_en"] == "自我认识与生涯规划"


def test_set_grades_merges_and_blank_removes() -> None:
    ev, _ = set_grades(TermEvaluation(), {"思想品德": "A", "学业水平": "B"})
    ev, _ = set_grades(ev, {"学业水平": None, "身心健康": "c"})
    assert ev.grades == {"思想品德": EvalGrade.A, "身心健康": EvalGrade.C}
    same, violations = set_grades(ev, {"思想品德": "Z"})
    assert same is ev and codes(violations) == ["evaluation.grade"]
    with pytest.raises(TypeError):
        ev.grades["思想品德"] = EvalGrade.D  # type: ignore[index]


# --- publicity period ------------------------------------------------------------------------


def test_working_day_period() -> None:
    rule = PublicityRule()
    assert rule.end_date(MONDAY) == FRIDAY
    assert rule.end_date(date(2025, 6, 11)) == date(2025, 6, 17)  # Wed → Tue over a weekend
    assert rule.end_date(date(2025, 6, 14)) == date(2025, 6, 20)  # Saturday start → Mon..Fri


def test_working_day_period_with_holidays_and_make_up_days() -> None:
    # 国庆 2025: 1–8 October off, Sunday 28 September and Saturday 11 October worked.
    holidays = {date(2025, 10, d) for d in range(1, 9)}
    make_up_days = {date(2025, 9, 28), date(2025, 10, 11)}

    def calendar(day: date) -> bool:  # what admin.domain.calendar.WorkingCalendar provides
        return day in make_up_days or (monday_to_friday(day) and day not in holidays)

    start = date(2025, 9, 26)  # Friday
    # Fri 26, Sun 28 (调休), Mon 29, Tue 30, then Thu 9 October.
    assert PublicityRule().end_date(start, calendar) == date(2025, 10, 9)
    assert PublicityRule(7).end_date(start, calendar) == date(2025, 10, 11)  # Saturday worked
    assert monday_to_friday(date(2025, 10, 1)) and not calendar(date(2025, 10, 1))


def test_calendar_day_period_and_rule_validation() -> None:
    assert PublicityRule(7, "calendar").end_date(MONDAY) == date(2025, 6, 15)
    assert PublicityRule(1, "calendar").end_date(MONDAY) == MONDAY
    with pytest.raises(ValueError):
        PublicityRule(0)
    with pytest.raises(ValueError):
        PublicityRule(5, "hours")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PublicityRule().end_date(MONDAY, lambda day: False)


# --- the state machine -----------------------------------------------------------------------


def test_happy_path_draft_publicized_final() -> None:
    ev = published()
    assert ev.state is EvalState.PUBLICIZED
    assert (ev.publicity_start, ev.publicity_end, ev.publicity_rounds) == (MONDAY, FRIDAY, 1)
    same, violations = finalize(ev, FRIDAY)  # the last day still belongs to the period
    assert same is ev and codes(violations) == ["evaluation.publicity_running"]
    assert violations[0].message() == "综合素质评价：公示期至2025-06-13结束，公示期满后才能定稿"
    final, violations = finalize(ev, FRIDAY + timedelta(days=1))
    assert violations == [] and final.state is EvalState.FINAL
    assert final.finalized_on == date(2025, 6, 14)


def test_publicize_needs_every_dimension() -> None:
    partial, _ = set_grades(TermEvaluation(), {"思想品德": "A"})
    same, violations = publicize(partial, MONDAY)
    assert same is partial and codes(violations) == ["evaluation.dimension_missing"] * 4
    jiangsu = (*NATIONAL_DIMENSIONS, "自我认识与生涯规划")
    _, violations = publicize(graded(), MONDAY, dimensions=jiangsu)
    assert [v.params["dimension"] for v in violations] == ["自我认识与生涯规划"]
    fewer = NATIONAL_DIMENSIONS[:4]
    _, violations = publicize(graded(), MONDAY, dimensions=fewer)
    assert codes(violations) == ["evaluation.dimension_unknown"]


def test_objection_upheld_revised_and_publicized_again() -> None:
    ev, violations = object_to(published(), date(2025, 6, 11), "社会实践时长记录有误")
    assert violations == [] and ev.state is EvalState.OBJECTED
    assert ev.pending_objections[0].reason == "社会实践时长记录有误"
    ev, violations = uphold_objection(ev, date(2025, 6, 12))
    assert violations == [] and ev.state is EvalState.REVISED
    assert ev.objections[0].outcome == "upheld" and ev.objections[0].resolved_on == date(
        2025, 6, 12
    )
    ev, violations = set_grades(ev, {"社会实践": "C"})
    assert violations == [] and ev.grades["社会实践"] is EvalGrade.C
    restart = date(2025, 6, 16)
    ev, violations = publicize(ev, restart)
    assert violations == [] and ev.state is EvalState.PUBLICIZED
    assert (ev.publicity_start, ev.publicity_end, ev.publicity_rounds) == (
        restart,
        date(2025, 6, 20),
        2,
    )
    assert not is_final(ev, date(2025, 6, 20)) and is_final(ev, date(2025, 6, 21))


def test_objection_dismissed_resumes_publicity() -> None:
    ev, _ = object_to(published(), date(2025, 6, 12), "等级偏低")
    ev, violations = dismiss_objection(ev, date(2025, 6, 16))
    assert violations == [] and ev.state is EvalState.PUBLICIZED
    assert ev.publicity_end == FRIDAY and ev.objections[0].outcome == "dismissed"
    final, violations = finalize(ev, date(2025, 6, 16))  # the period ended while objected
    assert violations == [] and final.state is EvalState.FINAL


def test_a_pending_objection_blocks_finalizing() -> None:
    ev, _ = object_to(published(), FRIDAY, "异议")
    later = date(2025, 7, 1)
    assert effective_state(ev, later) is EvalState.OBJECTED and not is_final(ev, later)
    same, violations = finalize(ev, later)
    assert same is ev and codes(violations) == ["evaluation.transition"]
    assert violations[0].message() == "综合素质评价：当前状态为“有异议待处理”，不能定稿"
    assert violations[0].message("en") == (
        "Comprehensive quality evaluation: cannot finalize while the evaluation is "
        "objection pending"
    )


def test_several_objections() -> None:
    ev, _ = object_to(published(), date(2025, 6, 10), "第一条")
    ev, violations = object_to(ev, date(2025, 6, 11), "第二条")
    assert violations == [] and len(ev.pending_objections) == 2
    dismissed, _ = dismiss_objection(ev, date(2025, 6, 12))
    assert dismissed.state is EvalState.OBJECTED  # the second is still pending
    assert [o.outcome for o in dismissed.objections] == ["dismissed", "pending"]
    resumed, _ = dismiss_objection(dismissed, date(2025, 6, 12))
    assert resumed.state is EvalState.PUBLICIZED
    upheld, _ = uphold_objection(ev, date(2025, 6, 12))
    assert [o.outcome for o in upheld.objections] == ["upheld", "superseded"]
    assert upheld.pending_objections == ()


def test_objections_only_inside_the_period() -> None:
    ev = published()
    for day in (MONDAY - timedelta(days=1), FRIDAY + timedelta(days=1)):
        same, violations = object_to(ev, day, "太晚了")
        assert same is ev and codes(violations) == ["evaluation.objection_closed"]
    _, violations = object_to(ev, FRIDAY + timedelta(days=1), "x")
    assert violations[0].message() == (
        "综合素质评价：公示期为2025-06-09至2025-06-13，2025-06-14 不在公示期内，不能提出异议"
    )
    _, violations = object_to(ev, MONDAY, "  ")
    assert [(v.code, v.field) for v in violations] == [("required", "objection")]
    assert object_to(ev, MONDAY, "ok")[1] == []
    assert object_to(ev, FRIDAY, "ok")[1] == []


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (EvalState.DRAFT, Action.OBJECT),
        (EvalState.DRAFT, Action.FINALIZE),
        (EvalState.DRAFT, Action.UPHOLD),
        (EvalState.PUBLICIZED, Action.SET_GRADES),
        (EvalState.PUBLICIZED, Action.PUBLICIZE),
        (EvalState.PUBLICIZED, Action.DISMISS),
        (EvalState.OBJECTED, Action.SET_GRADES),
        (EvalState.REVISED, Action.FINALIZE),
        (EvalState.REVISED, Action.OBJECT),
        (EvalState.FINAL, Action.SET_GRADES),
        (EvalState.FINAL, Action.PUBLICIZE),
        (EvalState.FINAL, Action.OBJECT),
    ],
)
def test_forbidden_transitions(state: EvalState, action: Action) -> None:
    ev = TermEvaluation(
        grades=dict.fromkeys(NATIONAL_DIMENSIONS, EvalGrade.A),
        state=state,
        publicity_start=MONDAY,
        publicity_end=FRIDAY,
    )
    on = date(2025, 6, 10)
    calls = {
        Action.SET_GRADES: lambda: set_grades(ev, {"思想品德": "B"}),
        Action.PUBLICIZE: lambda: publicize(ev, on),
        Action.OBJECT: lambda: object_to(ev, on, "reason"),
        Action.UPHOLD: lambda: uphold_objection(ev, on),
        Action.DISMISS: lambda: dismiss_objection(ev, on),
        Action.FINALIZE: lambda: finalize(ev, date(2025, 7, 1)),
    }
    assert (state, action) not in TRANSITIONS
    same, violations = calls[action]()
    assert same is ev
    assert codes(violations) == ["evaluation.transition"]
    assert violations[0].params["state"] == state.value
    assert violations[0].params["action"] == action.value


def test_allowed_actions_for_screens() -> None:
    assert allowed_actions(TermEvaluation(), MONDAY) == (Action.SET_GRADES, Action.PUBLICIZE)
    ev = published()
    assert allowed_actions(ev, MONDAY) == (Action.OBJECT,)
    assert allowed_actions(ev, FRIDAY + timedelta(days=1)) == (Action.FINALIZE,)
    objected, _ = object_to(ev, MONDAY, "x")
    assert allowed_actions(objected, MONDAY) == (Action.OBJECT, Action.UPHOLD, Action.DISMISS)
    assert allowed_actions(objected, date(2025, 7, 1)) == (Action.UPHOLD, Action.DISMISS)
    final, _ = finalize(ev, date(2025, 7, 1))
    assert allowed_actions(final, date(2025, 7, 1)) == ()


def test_effective_state() -> None:
    ev = published()
    assert effective_state(ev, FRIDAY) is EvalState.PUBLICIZED
    assert effective_state(ev, FRIDAY + timedelta(days=1)) is EvalState.FINAL
    assert effective_state(TermEvaluation(), FRIDAY) is EvalState.DRAFT


actions = st.sampled_from(list(Action))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(actions, st.integers(min_value=0, max_value=20)), max_size=12))
def test_random_action_sequences_keep_the_invariants(steps: list[tuple[Action, int]]) -> None:
    ev = graded()
    for action, offset in steps:
        on = MONDAY + timedelta(days=offset)
        before = ev
        if action is Action.SET_GRADES:
            ev, violations = set_grades(ev, {"思想品德": "A"})
        elif action is Action.PUBLICIZE:
            ev, violations = publicize(ev, on)
        elif action is Action.OBJECT:
            ev, violations = object_to(ev, on, "reason")
        elif action is Action.UPHOLD:
            ev, violations = uphold_objection(ev, on)
        elif action is Action.DISMISS:
            ev, violations = dismiss_objection(ev, on)
        else:
            ev, violations = finalize(ev, on)
        if violations:
            assert ev is before
        elif action is Action.DISMISS:  # back to publicized unless another one is pending
            assert ev.state in (EvalState.PUBLICIZED, EvalState.OBJECTED)
        else:
            assert ev.state is TRANSITIONS[(before.state, action)]
        # Invariants
        pending = ev.pending_objections
        assert (ev.state is EvalState.OBJECTED) == bool(pending)
        if ev.state is EvalState.FINAL:
            assert ev.publicity_end is not None and ev.finalized_on is not None
            assert ev.finalized_on > ev.publicity_end
            assert all(o.outcome != "upheld" or o.resolved_on for o in ev.objections)
        if ev.state in (EvalState.PUBLICIZED, EvalState.OBJECTED, EvalState.FINAL):
            assert set(ev.grades) == set(NATIONAL_DIMENSIONS)
        if ev.objections:  # objections exist only once publicity has started
            assert ev.publicity_start is not None


def test_final_only_without_an_upheld_objection_in_the_last_round() -> None:
    ev, _ = object_to(published(), MONDAY, "x")
    ev, _ = uphold_objection(ev, MONDAY)
    # The upheld objection forces a new round: the old period's end no longer finalizes.
    assert not is_final(ev, date(2025, 7, 1))
    assert codes(finalize(ev, date(2025, 7, 1))[1]) == ["evaluation.transition"]


# --- 社会实践 hours --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "hours"),
    [
        ("8", Decimal(8)),
        ("2.5", Decimal("2.5")),
        ("２.０", Decimal("2.0")),
        (40, Decimal(40)),
        (Decimal("0.5"), Decimal("0.5")),
        ("200", Decimal(200)),
    ],
)
def test_valid_hours(raw: str | int | Decimal, hours: Decimal) -> None:
    assert validate_hours(raw) == (hours, [])


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("abc", "evaluation.hours_format"),
        ("1.25", "evaluation.hours_format"),
        (True, "evaluation.hours_format"),
        (Decimal("Infinity"), "evaluation.hours_format"),
        ("0", "evaluation.hours_range"),
        ("-2", "evaluation.hours_range"),
        ("200.5", "evaluation.hours_range"),
    ],
)
def test_invalid_hours(raw: str | int | Decimal, code: str) -> None:
    value, violations = validate_hours(raw)
    assert value is None and codes(violations) == [code]


def test_hours_messages_and_limits() -> None:
    assert validate_hours(None) == (None, []) and validate_hours("  ") == (None, [])
    (violation,) = validate_hours("300")[1]
    assert violation.message() == "时长（小时）：300 超出范围，应大于0且不超过200小时"
    assert validate_hours("300", max_hours=Decimal(500)) == (Decimal(300), [])
    assert validate_hours("1.25", decimals=2) == (Decimal("1.25"), [])


def test_practice_hour_totals() -> None:
    records = [
        ActivityRecord("社会实践", Decimal(16), verified=True, category="职业体验"),
        ActivityRecord("社会实践", Decimal("3.5"), verified=True, category="社会调查"),
        ActivityRecord(Dimension.PRACTICE, Decimal(40), verified=True, category="军训"),
        ActivityRecord("社会实践", Decimal(10), verified=False, category="职业体验"),
        ActivityRecord("思想品德", Decimal(6), verified=True, category="志愿服务"),
    ]
    assert practice_hours(records) == Decimal("59.5")
    assert practice_hours(records, verified_only=False) == Decimal("69.5")
    assert practice_hours(records, dimension="思想品德") == 6
    assert hours_by_category(records) == {
        "职业体验": Decimal(16),
        "社会调查": Decimal("3.5"),
        "军训": Decimal(40),
    }
    assert hours_by_category(records, verified_only=False)["职业体验"] == 26
    assert practice_hours([]) == 0
