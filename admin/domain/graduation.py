"""毕业 / 结业 / 肄业 (DOMAIN.md §4.4): who may leave a stage with which outcome.

* Compulsory stages (primary, junior) graduate by the school's own decision, no approval; only
  毕业 exists there (结业 and 肄业 are senior-high outcomes).
* Senior high: the school files, the bureau (学籍主管部门) approves.
* 毕业: a student 在校 in the last grade of the stage (by the school's 学制), with no business in
  progress; 结业 likewise in the last grade; 肄业: left before completion after at least one
  year of study in the stage (the student is 在校 in any grade of senior high).
* Required scores and evaluations join the check once the teaching records exist (a
  ``missing`` list of named requirements can be passed in).

Pure functions: the service supplies the facts and persists the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from admin.domain.consistency import grade_by_code, stage_length
from admin.domain.messages import Violation

GRADUATED: Final = "1"  # graduation_outcome.csv
COMPLETED: Final = "2"  # 结业
LEFT_EARLY: Final = "3"  # 肄业
OUTCOMES: Final[frozenset[str]] = frozenset({GRADUATED, COMPLETED, LEFT_EARLY})
# student_status.csv codes after each outcome.
STATUS_AFTER: Final[dict[str, str]] = {GRADUATED: "05", COMPLETED: "06", LEFT_EARLY: "07"}
ENROLLED: Final = "01"
FIELD: Final = "graduation"


@dataclass(frozen=True)
class Candidate:
    """The facts about one student that decide graduation."""

    status: str
    grade_code: str | None
    primary_years: int
    has_in_flight_request: bool
    stage_entry: date | None  # first day in this stage (入学年月)
    missing: Sequence[str] = ()  # named requirements not met (scores, evaluations …)


def needs_approval(stage: str) -> bool:
    """Senior high graduation is approved by the bureau; compulsory stages are not."""
    return stage == "senior"


def check(candidate: Candidate, outcome: str, on: date) -> list[Violation]:
    """Every reason ``candidate`` cannot leave with ``outcome`` on ``on`` (empty = eligible)."""
    if outcome not in OUTCOMES:
        return [Violation("code.unknown", "graduation_outcome", {"value": outcome})]
    grade = grade_by_code(candidate.grade_code or "")
    if grade is None:
        return [Violation("graduation.no_grade", FIELD, {})]
    problems: list[Violation] = []
    if candidate.status != ENROLLED:
        problems.append(Violation("graduation.not_enrolled", FIELD, {"status": candidate.status}))
    if candidate.has_in_flight_request:
        problems.append(Violation("workflow.in_flight", "status_change_request", {}))
    last_grade = grade.year == stage_length(grade.stage, candidate.primary_years)
    if outcome != GRADUATED and grade.stage != "senior":
        problems.append(
            Violation(
                "graduation.senior_only",
                FIELD,
                {"outcome": outcome, "grade_zh": grade.name_zh, "grade_en": grade.name_en},
            )
        )
    elif outcome in (GRADUATED, COMPLETED) and not last_grade:
        problems.append(
            Violation(
                "graduation.not_final_grade",
                FIELD,
                {"grade_zh": grade.name_zh, "grade_en": grade.name_en},
            )
        )
    elif outcome == LEFT_EARLY and (
        candidate.stage_entry is None or (on - candidate.stage_entry).days < 365
    ):
        problems.append(Violation("graduation.too_early", FIELD, {}))
    for requirement in candidate.missing:
        problems.append(Violation("graduation.requirement", FIELD, {"requirement": requirement}))
    return problems
