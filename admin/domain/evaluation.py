"""综合素质评价 (comprehensive quality evaluation, DOMAIN.md §5): term grades per dimension,
the 公示 (publicity) state machine and 社会实践 hours.

**Dimensions.** The national 高中 framework has five: 思想品德, 学业水平, 身心健康, 艺术素养,
社会实践. Provinces rename or add some (劳动与社会实践; Jiangsu's 自我认识与生涯规划), so every
function takes the dimension list, default ``NATIONAL_DIMENSIONS``. Each dimension gets a
grade A 优秀, B 良好, C 合格, D 待合格 per term.

**Publicity.** Grades become final only after a publicity period (default 5 working days;
``PublicityRule``) passes without an upheld objection::

    draft ──publicize──▶ publicized ──(period over) finalize──▶ final
                           │  ▲
                    object │  │ dismiss (no objection left pending)
                           ▼  │
                         objected ──uphold──▶ revised ──publicize──▶ publicized …

Grades may be edited only in ``draft`` and ``revised``; publicizing needs every dimension
graded and starts a full new period. Objections are accepted from the first to the last day
of the period (inclusive); more may arrive while one is pending. Dismissing the last pending
objection returns to ``publicized`` with the original end date (so finalizing can follow at
once if the period is over); upholding one sends the evaluation to ``revised`` and closes the
other pending objections as superseded. ``finalize`` works on the day after the period ends,
at the earliest; ``effective_state`` shows a publicized evaluation whose period is over as
final without waiting for that call.

Transitions never raise on user input: they return ``(evaluation, violations)`` and, when
something is wrong, the evaluation unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal, TypeAlias

from admin.domain.messages import Violation
from admin.domain.ranking import decimal_places
from admin.domain.text import to_halfwidth


class Dimension(StrEnum):
    MORAL = "思想品德"
    ACADEMIC = "学业水平"
    HEALTH = "身心健康"
    ARTS = "艺术素养"
    PRACTICE = "社会实践"

    @property
    def en(self) -> str:
        return _DIMENSION_EN[self]


_DIMENSION_EN: Final[dict[Dimension, str]] = {
    Dimension.MORAL: "Moral character",
    Dimension.ACADEMIC: "Academic achievement",
    Dimension.HEALTH: "Physical and mental health",
    Dimension.ARTS: "Artistic literacy",
    Dimension.PRACTICE: "Social practice",
}
NATIONAL_DIMENSIONS: Final[tuple[str, ...]] = tuple(d.value for d in Dimension)


class EvalGrade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"

    @property
    def zh(self) -> str:
        return _GRADE_LABELS[self][0]

    @property
    def en(self) -> str:
        return _GRADE_LABELS[self][1]


_GRADE_LABELS: Final[dict[EvalGrade, tuple[str, str]]] = {
    EvalGrade.A: ("优秀", "Excellent"),
    EvalGrade.B: ("良好", "Good"),
    EvalGrade.C: ("合格", "Pass"),
    EvalGrade.D: ("待合格", "Not yet passing"),
}
_GRADE_ALIASES: Final[dict[str, EvalGrade]] = {
    **{g.value: g for g in EvalGrade},
    **{g.zh: g for g in EvalGrade},
}


def _dimension_params(dimension: str) -> dict[str, object]:
    known = dimension in NATIONAL_DIMENSIONS
    return {"dimension": dimension, "dimension_en": Dimension(dimension).en if known else dimension}


def parse_grade(value: str) -> EvalGrade | None:
    """Parse a grade: "A", "a", "Ａ", "优秀" … → the grade; None for anything else."""
    return _GRADE_ALIASES.get(to_halfwidth(value).strip().upper())


class EvalState(StrEnum):
    DRAFT = "draft"
    PUBLICIZED = "publicized"
    OBJECTED = "objected"
    REVISED = "revised"
    FINAL = "final"


class Action(StrEnum):
    SET_GRADES = "set_grades"
    PUBLICIZE = "publicize"
    OBJECT = "object"
    UPHOLD = "uphold"
    DISMISS = "dismiss"
    FINALIZE = "finalize"


_STATE_LABELS: Final[dict[EvalState, tuple[str, str]]] = {
    EvalState.DRAFT: ("草稿", "draft"),
    EvalState.PUBLICIZED: ("公示中", "under publicity"),
    EvalState.OBJECTED: ("有异议待处理", "objection pending"),
    EvalState.REVISED: ("已修改待重新公示", "revised, awaiting publicity"),
    EvalState.FINAL: ("已定稿", "final"),
}
_ACTION_LABELS: Final[dict[Action, tuple[str, str]]] = {
    Action.SET_GRADES: ("评定等级", "grade"),
    Action.PUBLICIZE: ("公示", "publicize"),
    Action.OBJECT: ("提出异议", "raise an objection"),
    Action.UPHOLD: ("认定异议成立", "uphold the objection"),
    Action.DISMISS: ("认定异议不成立", "dismiss the objection"),
    Action.FINALIZE: ("定稿", "finalize"),
}

# (state, action) → next state. DISMISS leaves OBJECTED while other objections are pending.
TRANSITIONS: Final[Mapping[tuple[EvalState, Action], EvalState]] = MappingProxyType(
    {
        (EvalState.DRAFT, Action.SET_GRADES): EvalState.DRAFT,
        (EvalState.REVISED, Action.SET_GRADES): EvalState.REVISED,
        (EvalState.DRAFT, Action.PUBLICIZE): EvalState.PUBLICIZED,
        (EvalState.REVISED, Action.PUBLICIZE): EvalState.PUBLICIZED,
        (EvalState.PUBLICIZED, Action.OBJECT): EvalState.OBJECTED,
        (EvalState.OBJECTED, Action.OBJECT): EvalState.OBJECTED,
        (EvalState.OBJECTED, Action.UPHOLD): EvalState.REVISED,
        (EvalState.OBJECTED, Action.DISMISS): EvalState.PUBLICIZED,
        (EvalState.PUBLICIZED, Action.FINALIZE): EvalState.FINAL,
    }
)


# --- calendars and the publicity period ------------------------------------------------------


def monday_to_friday(day: date) -> bool:
    """The default working-day predicate; pass a real one with public holidays and 调休 (e.g.
    ``admin.domain.calendar.WorkingCalendar(...).is_working_day``)."""
    return day.isoweekday() <= 5


PeriodUnit = Literal["working", "calendar"]
_MAX_SEARCH_DAYS: Final = 366


@dataclass(frozen=True)
class PublicityRule:
    """公示期: ``length`` working or calendar days, the start day included when it counts."""

    length: int = 5
    unit: PeriodUnit = "working"

    def __post_init__(self) -> None:
        if self.length < 1:
            raise ValueError("the publicity period needs at least one day")
        if self.unit not in ("working", "calendar"):
            raise ValueError(f"unit must be 'working' or 'calendar', got {self.unit!r}")

    def end_date(
        self, start: date, is_working_day: Callable[[date], bool] = monday_to_friday
    ) -> date:
        """Last day of the period: with working days, the ``length``-th working day on or
        after ``start`` (a weekend start begins counting on Monday)."""
        if self.unit == "calendar":
            return start + timedelta(days=self.length - 1)
        counted = 0
        day = start
        for _ in range(_MAX_SEARCH_DAYS * self.length):
            if is_working_day(day):
                counted += 1
                if counted == self.length:
                    return day
            day += timedelta(days=1)
        raise ValueError("the working-day calendar has (almost) no working days")


DEFAULT_PUBLICITY: Final = PublicityRule()


# --- the evaluation record -------------------------------------------------------------------

Outcome = Literal["pending", "upheld", "dismissed", "superseded"]


@dataclass(frozen=True)
class Objection:
    raised_on: date
    reason: str
    outcome: Outcome = "pending"
    resolved_on: date | None = None


@dataclass(frozen=True)
class TermEvaluation:
    """One student's evaluation for one term: grade per dimension and publicity state."""

    grades: Mapping[str, EvalGrade] = dataclass_field(default_factory=dict, hash=False)
    state: EvalState = EvalState.DRAFT
    publicity_start: date | None = None
    publicity_end: date | None = None
    publicity_rounds: int = 0
    objections: tuple[Objection, ...] = ()
    finalized_on: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "grades", MappingProxyType(dict(self.grades)))

    @property
    def pending_objections(self) -> tuple[Objection, ...]:
        return tuple(o for o in self.objections if o.outcome == "pending")


Transition: TypeAlias = tuple[TermEvaluation, list[Violation]]


def _transition_violation(ev: TermEvaluation, action: Action, field: str) -> Violation:
    state_zh, state_en = _STATE_LABELS[ev.state]
    action_zh, action_en = _ACTION_LABELS[action]
    params = {
        "state": ev.state.value,
        "state_zh": state_zh,
        "state_en": state_en,
        "action": action.value,
        "action_zh": action_zh,
        "action_en": action_en,
    }
    return Violation("evaluation.transition", field, params)


def _allowed(ev: TermEvaluation, action: Action) -> bool:
    return (ev.state, action) in TRANSITIONS


def check_grades(
    grades: Mapping[str, str | None],
    *,
    dimensions: Sequence[str] = NATIONAL_DIMENSIONS,
    complete: bool = False,
    field: str = "evaluation",
) -> tuple[dict[str, EvalGrade | None], list[Violation]]:
    """Parse dimension → grade text (None or blank: no grade). ``evaluation.dimension_unknown``,
    ``evaluation.grade``, and with ``complete`` ``evaluation.dimension_missing`` for each
    dimension left without a grade."""
    parsed: dict[str, EvalGrade | None] = {}
    violations: list[Violation] = []
    for dimension, raw in grades.items():
        if dimension not in dimensions:
            violations.append(
                Violation("evaluation.dimension_unknown", field, _dimension_params(dimension))
            )
            continue
        text = "" if raw is None else to_halfwidth(str(raw)).strip()
        grade = parse_grade(text) if text else None
        if text and grade is None:
            params = {**_dimension_params(dimension), "value": text}
            violations.append(Violation("evaluation.grade", field, params))
            continue
        parsed[dimension] = grade
    if complete:
        for dimension in dimensions:
            if parsed.get(dimension) is None:
                violations.append(
                    Violation("evaluation.dimension_missing", field, _dimension_params(dimension))
                )
    return parsed, violations


def set_grades(
    ev: TermEvaluation,
    grades: Mapping[str, str | None],
    *,
    dimensions: Sequence[str] = NATIONAL_DIMENSIONS,
    field: str = "evaluation",
) -> Transition:
    """Change some grades (a blank one removes that grade); only in draft and revised."""
    if not _allowed(ev, Action.SET_GRADES):
        return ev, [_transition_violation(ev, Action.SET_GRADES, field)]
    parsed, violations = check_grades(grades, dimensions=dimensions, field=field)
    if violations:
        return ev, violations
    merged = dict(ev.grades)
    for dimension, grade in parsed.items():
        if grade is None:
            merged.pop(dimension, None)
        else:
            merged[dimension] = grade
    return replace(ev, grades=merged), []


def publicize(
    ev: TermEvaluation,
    start: date,
    *,
    rule: PublicityRule = DEFAULT_PUBLICITY,
    is_working_day: Callable[[date], bool] = monday_to_friday,
    dimensions: Sequence[str] = NATIONAL_DIMENSIONS,
    field: str = "evaluation",
) -> Transition:
    """Start a publicity period on ``start``; every dimension must be graded."""
    if not _allowed(ev, Action.PUBLICIZE):
        return ev, [_transition_violation(ev, Action.PUBLICIZE, field)]
    missing = [d for d in dimensions if d not in ev.grades]
    unknown = [d for d in ev.grades if d not in dimensions]
    violations = [
        *(Violation("evaluation.dimension_missing", field, _dimension_params(d)) for d in missing),
        *(Violation("evaluation.dimension_unknown", field, _dimension_params(d)) for d in unknown),
    ]
    if violations:
        return ev, violations
    published = replace(
        ev,
        state=EvalState.PUBLICIZED,
        publicity_start=start,
        publicity_end=rule.end_date(start, is_working_day),
        publicity_rounds=ev.publicity_rounds + 1,
    )
    return published, []


def _window_params(ev: TermEvaluation, on: date) -> dict[str, object]:
    return {
        "on": on.isoformat(),
        "start": ev.publicity_start.isoformat() if ev.publicity_start else "-",
        "end": ev.publicity_end.isoformat() if ev.publicity_end else "-",
    }


def _in_window(ev: TermEvaluation, on: date) -> bool:
    return (
        ev.publicity_start is not None
        and ev.publicity_end is not None
        and ev.publicity_start <= on <= ev.publicity_end
    )


def object_to(
    ev: TermEvaluation, on: date, reason: str, *, field: str = "evaluation"
) -> Transition:
    """Record an objection raised on ``on`` (inside the period) with its reason."""
    if not _allowed(ev, Action.OBJECT):
        return ev, [_transition_violation(ev, Action.OBJECT, field)]
    violations: list[Violation] = []
    if not _in_window(ev, on):
        violations.append(Violation("evaluation.objection_closed", field, _window_params(ev, on)))
    if not reason.strip():
        violations.append(Violation("required", "objection"))
    if violations:
        return ev, violations
    objection = Objection(on, reason.strip())
    return replace(ev, state=EvalState.OBJECTED, objections=(*ev.objections, objection)), []


def _resolve_first_pending(
    ev: TermEvaluation, outcome: Outcome, on: date, others: Outcome | None
) -> tuple[Objection, ...]:
    resolved: list[Objection] = []
    done = False
    for objection in ev.objections:
        if objection.outcome != "pending":
            resolved.append(objection)
        elif not done:
            resolved.append(replace(objection, outcome=outcome, resolved_on=on))
            done = True
        elif others is not None:
            resolved.append(replace(objection, outcome=others, resolved_on=on))
        else:
            resolved.append(objection)
    return tuple(resolved)


def uphold_objection(ev: TermEvaluation, on: date, *, field: str = "evaluation") -> Transition:
    """The oldest pending objection is upheld: grades must be revised and publicized again;
    other pending objections are superseded."""
    if not _allowed(ev, Action.UPHOLD):
        return ev, [_transition_violation(ev, Action.UPHOLD, field)]
    objections = _resolve_first_pending(ev, "upheld", on, "superseded")
    return replace(ev, state=EvalState.REVISED, objections=objections), []


def dismiss_objection(ev: TermEvaluation, on: date, *, field: str = "evaluation") -> Transition:
    """The oldest pending objection is dismissed; publicity resumes when none is left."""
    if not _allowed(ev, Action.DISMISS):
        return ev, [_transition_violation(ev, Action.DISMISS, field)]
    objections = _resolve_first_pending(ev, "dismissed", on, None)
    pending = any(o.outcome == "pending" for o in objections)
    state = EvalState.OBJECTED if pending else EvalState.PUBLICIZED
    return replace(ev, state=state, objections=objections), []


def finalize(ev: TermEvaluation, today: date, *, field: str = "evaluation") -> Transition:
    """Make the grades final once the period is over (from the day after its last day)."""
    if not _allowed(ev, Action.FINALIZE):
        return ev, [_transition_violation(ev, Action.FINALIZE, field)]
    if ev.publicity_end is None or today <= ev.publicity_end:
        params = _window_params(ev, today)
        return ev, [Violation("evaluation.publicity_running", field, params)]
    return replace(ev, state=EvalState.FINAL, finalized_on=today), []


def effective_state(ev: TermEvaluation, today: date) -> EvalState:
    """The state as of ``today``: a publicized evaluation whose period is over is final."""
    if (
        ev.state is EvalState.PUBLICIZED
        and ev.publicity_end is not None
        and today > ev.publicity_end
    ):
        return EvalState.FINAL
    return ev.state


def is_final(ev: TermEvaluation, today: date) -> bool:
    return effective_state(ev, today) is EvalState.FINAL


def allowed_actions(ev: TermEvaluation, today: date) -> tuple[Action, ...]:
    """What a screen may offer now (objections only inside the period, finalizing after it)."""
    actions: list[Action] = []
    for action in Action:
        if not _allowed(ev, action):
            continue
        if action is Action.OBJECT and not _in_window(ev, today):
            continue
        if action is Action.FINALIZE and (ev.publicity_end is None or today <= ev.publicity_end):
            continue
        actions.append(action)
    return tuple(actions)


# --- 社会实践 hours -------------------------------------------------------------------------

_HOURS_TEXT: Final = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
DEFAULT_MAX_HOURS: Final = Decimal(200)  # one record (军训 ≈ 7 days × 8 h fits easily)


def validate_hours(
    value: str | int | Decimal | None,
    field: str = "hours",
    *,
    max_hours: Decimal = DEFAULT_MAX_HOURS,
    decimals: int = 1,
) -> tuple[Decimal | None, list[Violation]]:
    """Hours of one activity record: a number with at most ``decimals`` places
    (``evaluation.hours_format``), more than 0 and at most ``max_hours``
    (``evaluation.hours_range``). Blank is None and not an error."""
    params: dict[str, object] = {"max": f"{max_hours:f}", "decimals": decimals}
    if value is None:
        return None, []
    if isinstance(value, bool):
        return None, [Violation("evaluation.hours_format", field, {**params, "value": value})]
    if isinstance(value, int | Decimal):
        number = Decimal(value)
        shown = str(value)
    else:
        shown = to_halfwidth(value).strip()
        if not shown:
            return None, []
        if not _HOURS_TEXT.fullmatch(shown):
            return None, [Violation("evaluation.hours_format", field, {**params, "value": shown})]
        number = Decimal(shown)
    if not number.is_finite() or decimal_places(number) > decimals:
        return None, [Violation("evaluation.hours_format", field, {**params, "value": shown})]
    if not 0 < number <= max_hours:
        return None, [Violation("evaluation.hours_range", field, {**params, "value": shown})]
    return number, []


@dataclass(frozen=True)
class ActivityRecord:
    """A 写实记录 with hours (社会实践: 社会调查, 职业体验, 军训 …)."""

    dimension: str
    hours: Decimal
    verified: bool  # checked by the teacher
    category: str = ""
    title: str = ""


def _counted(
    records: Iterable[ActivityRecord], dimension: str, verified_only: bool
) -> list[ActivityRecord]:
    return [r for r in records if r.dimension == dimension and (r.verified or not verified_only)]


def practice_hours(
    records: Iterable[ActivityRecord],
    *,
    dimension: str = Dimension.PRACTICE,
    verified_only: bool = True,
) -> Decimal:
    """Total hours of ``dimension`` (default 社会实践), teacher-verified records only unless
    ``verified_only`` is False."""
    return sum((r.hours for r in _counted(records, dimension, verified_only)), Decimal(0))


def hours_by_category(
    records: Iterable[ActivityRecord],
    *,
    dimension: str = Dimension.PRACTICE,
    verified_only: bool = True,
) -> dict[str, Decimal]:
    """Hours per category (blank category: ""), categories in first-seen order."""
    totals: dict[str, Decimal] = {}
    for record in _counted(records, dimension, verified_only):
        key = record.category.strip()
        totals[key] = totals.get(key, Decimal(0)) + record.hours
    return totals
