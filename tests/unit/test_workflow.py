"""Status-change types, effects, chains and preconditions: admin.domain.workflow.

The state machine itself is checked exhaustively in test_workflow_state_machine.py."""

from __future__ import annotations

import csv
import itertools
from datetime import date
from pathlib import Path

import pytest

import admin
from admin.domain.calendar import TRANSFER_CHANGE_TYPES, WorkingCalendar
from admin.domain.messages import MESSAGES, Violation
from admin.domain.workflow import (
    REQUEST_TYPES,
    STUDENT_STATUS_NAMES,
    SUPPORTED_TYPES,
    TRANSFER,
    TRANSFER_IN,
    TRANSFER_OUT,
    Actor,
    ChainPolicy,
    Effect,
    PreconditionPolicy,
    School,
    Step,
    WorkflowConfig,
    approval_chain,
    approve,
    check_preconditions,
    effect_of,
    is_graduating_grade,
    new_request,
    request_type,
    step_name,
    submit,
    transfer_scope,
)

CODES_DIR = Path(admin.__file__).parent / "data" / "codes"


def read_codes(name: str) -> dict[str, dict[str, str]]:
    with (CODES_DIR / f"{name}.csv").open(encoding="utf-8") as handle:
        return {row["code"]: row for row in csv.DictReader(handle)}


TYPE_CSV = read_codes("status_change_type")
STATUS_CSV = read_codes("student_status")


def codes(violations: list[Violation]) -> list[str]:
    return [v.code for v in violations]


# --- types and code tables -------------------------------------------------------------------

# The brief's list, with the codes as status_change_type.csv spells them; 42 失踪 is added
# because 返校 must be able to bring a 失踪 student back, so there must be a way in.
EXPECTED_TYPES = {
    "35": "转学",
    "23": "休学",
    "12": "复学",
    "24": "退学",
    "28": "辍学",
    "29": "出国(出境)",
    "26": "死亡",
    "41": "其他离校",
    "42": "失踪",
    "33": "留级",
    "34": "跳级",
    "32": "调班",
    "25": "开除学籍",
    "16": "返校",
    "11": "招生入学",  # 升学衔接: a graduate admitted to the next stage elsewhere
}
SINGLE_SCHOOL_TYPES = sorted(set(EXPECTED_TYPES) - {"35", "11"})


def test_request_types_are_the_code_table_s() -> None:
    assert set(REQUEST_TYPES) == set(EXPECTED_TYPES) == SUPPORTED_TYPES
    for code, name in EXPECTED_TYPES.items():
        assert TYPE_CSV[code]["name_zh"] == name
        assert request_type(code).name_zh == name
        assert request_type(code).code == code
    assert request_type("35").is_transfer and request_type("35").between_schools
    assert request_type("11").between_schools and not request_type("11").is_transfer
    assert not any(request_type(code).is_transfer for code in SINGLE_SCHOOL_TYPES)


def test_transfer_codes() -> None:
    assert (TRANSFER, TRANSFER_IN, TRANSFER_OUT) == ("35", "13", "27")
    assert [TYPE_CSV[c]["name_zh"] for c in ("35", "13", "27")] == ["转学", "转入", "转出"]
    assert {TRANSFER, TRANSFER_IN, TRANSFER_OUT} == TRANSFER_CHANGE_TYPES


def test_student_status_names_are_the_code_table_s() -> None:
    assert {code: (row["name_zh"], row["name_en"]) for code, row in STATUS_CSV.items()} == dict(
        STUDENT_STATUS_NAMES
    )


@pytest.mark.parametrize("code", ["13", "21", "27", "31", "43", "51", "99", "", "035"])
def test_other_codes_are_not_requests(code: str) -> None:
    with pytest.raises(ValueError):
        request_type(code)
    with pytest.raises(ValueError):
        effect_of(code)
    with pytest.raises(ValueError):
        approval_chain(code)
    violations = check_preconditions(
        code,
        student_status="01",
        stage="senior",
        has_in_flight_request=False,
        has_problem_record=False,
    )
    assert codes(violations) == ["workflow.unsupported_type"]
    state, refused = new_request(code, today=date(2026, 3, 2), school=School("1", "110105"))
    assert state is None and codes(refused) == ["workflow.unsupported_type"]


# --- effects ---------------------------------------------------------------------------------

# code: (new status, ends enrolment, changes class, grade offset, keeps 学籍, new enrolment)
EXPECTED_EFFECTS = {
    "35": ("01", True, True, 0, True, True),
    "23": ("02", False, False, 0, True, False),
    "12": ("01", False, True, 0, True, False),
    "24": ("03", True, False, 0, False, False),
    "25": ("13", True, False, 0, False, False),
    "28": ("04", False, False, 0, True, False),
    "29": ("10", False, False, 0, True, False),
    "26": ("09", True, False, 0, False, False),
    "41": ("11", False, False, 0, True, False),
    "42": ("12", False, False, 0, True, False),
    "33": ("01", False, True, -1, True, False),
    "34": ("01", False, True, 1, True, False),
    "32": ("01", False, True, 0, True, False),
    "16": ("01", False, True, 0, True, False),
}


@pytest.mark.parametrize("code", sorted(EXPECTED_EFFECTS))
def test_effect_of(code: str) -> None:
    status, ends, changes_class, grade, keeps, new = EXPECTED_EFFECTS[code]
    assert effect_of(code) == Effect(
        new_status=status,
        ends_enrollment=ends,
        changes_class=changes_class,
        changes_grade=grade,
        keeps_registry=keeps,
        new_enrollment=new,
    )
    assert status in STATUS_CSV


@pytest.mark.parametrize("code", sorted(EXPECTED_EFFECTS))
def test_effects_follow_the_code_grouping(code: str) -> None:
    """_sets.csv: 1x entry (becomes 在校), 2x exit and 4x other leaves (leaves 在校),
    3x in-school (stays 在校)."""
    new_status = effect_of(code).new_status
    group = code[0]
    if group in "13":
        assert new_status == "01"
    else:
        assert group in "24" and new_status != "01"


# --- chains ----------------------------------------------------------------------------------

R_REGISTRAR = Step("school_registrar", "receiving")
R_LEADER = Step("school_leader", "receiving")
R_COUNTY = Step("county_bureau", "receiving")
R_PROVINCE = Step("province_bureau", "receiving")
S_LEADER = Step("school_leader", "sending")
S_REGISTRAR = Step("school_registrar", "sending")
S_COUNTY = Step("county_bureau", "sending")
S_PROVINCE = Step("province_bureau", "sending")
OWN = (Step("school_registrar", "own"), Step("school_leader", "own"), Step("county_bureau", "own"))


def test_transfer_chains() -> None:
    # 转入申请 → 转入审核 → 转出审核 → 上级审核
    assert approval_chain("35", "same_county") == (R_REGISTRAR, R_LEADER, S_LEADER, S_COUNTY)
    assert approval_chain("35", "cross_county") == (
        R_REGISTRAR,
        R_LEADER,
        R_COUNTY,
        S_LEADER,
        S_COUNTY,
    )
    assert approval_chain("35", "cross_province") == (
        R_REGISTRAR,
        R_LEADER,
        R_COUNTY,
        R_PROVINCE,
        S_LEADER,
        S_COUNTY,
        S_PROVINCE,
    )
    assert [len(approval_chain("35", s)) for s in ("same_county", "cross_county")] == [4, 5]
    assert len(approval_chain("35", "cross_province")) == 7


@pytest.mark.parametrize("code", SINGLE_SCHOOL_TYPES)
def test_single_school_chains(code: str) -> None:
    assert approval_chain(code) == OWN
    only_school = ChainPolicy(school_only_types=frozenset({code}))
    assert approval_chain(code, policy=only_school) == OWN[:2]


def test_class_change_can_stay_inside_the_school() -> None:
    policy = ChainPolicy(school_only_types=frozenset({"32"}))
    assert approval_chain("32", policy=policy) == OWN[:2]
    assert approval_chain("23", policy=policy) == OWN


def test_chain_policies_for_transfers() -> None:
    provincial = ChainPolicy(province_step_within_province=True)
    assert approval_chain("35", "cross_county", provincial) == (
        R_REGISTRAR,
        R_LEADER,
        R_COUNTY,
        R_PROVINCE,
        S_LEADER,
        S_COUNTY,
    )
    assert approval_chain("35", "same_county", provincial) == approval_chain("35", "same_county")
    assert approval_chain("35", "cross_province", provincial) == approval_chain(
        "35", "cross_province"
    )
    registrar = ChainPolicy(sending_school_unit="school_registrar")
    assert approval_chain("35", "cross_county", registrar) == (
        R_REGISTRAR,
        R_LEADER,
        R_COUNTY,
        S_REGISTRAR,
        S_COUNTY,
    )


def test_scope_is_required_for_transfers_only() -> None:
    with pytest.raises(ValueError):
        approval_chain("35")
    with pytest.raises(ValueError):
        approval_chain("35", "cross_city")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        approval_chain("23", "same_county")


@pytest.mark.parametrize(
    ("receiving", "sending", "scope"),
    [
        ("110105", "110105", "same_county"),
        ("110105", "110108", "cross_county"),
        ("110105", "310104", "cross_province"),
        ("440305", "440106", "cross_county"),
        ("440305001001", "440305002003", "same_county"),  # 12-digit codes: their county
        (" 110105 ", "110105", "same_county"),
        ("500101", "510104", "cross_province"),
    ],
)
def test_transfer_scope(receiving: str, sending: str, scope: str) -> None:
    assert transfer_scope(receiving, sending) == scope
    assert transfer_scope(sending, receiving) == scope


@pytest.mark.parametrize("bad", ["11010", "1101050", "11010X", "", "１１０１０５"])
def test_transfer_scope_needs_division_codes(bad: str) -> None:
    with pytest.raises(ValueError):
        transfer_scope(bad, "110105")
    with pytest.raises(ValueError):
        School("1101050001", bad)


def test_step_names() -> None:
    assert [step_name(s) for s in approval_chain("35", "cross_county")] == [
        "转入学校申请",
        "转入学校审核",
        "转入地教育局审核",
        "转出学校审核",
        "转出地教育局审核",
    ]
    assert [step_name(s, "en") for s in OWN] == [
        "school application",
        "school review",
        "education bureau review",
    ]


# --- due dates -------------------------------------------------------------------------------

SPRING_2026 = WorkingCalendar(
    holidays=frozenset(date(2026, 2, d) for d in range(15, 24)),
    extra_workdays=frozenset({date(2026, 2, 14), date(2026, 2, 28)}),
)
SCHOOL = School("4403050001", "440305")


@pytest.mark.parametrize(
    ("config", "submitted", "due"),
    [
        (WorkflowConfig(), date(2026, 3, 2), date(2026, 3, 16)),
        (WorkflowConfig(), date(2026, 2, 13), date(2026, 2, 27)),
        (WorkflowConfig(SPRING_2026), date(2026, 2, 13), date(2026, 3, 5)),
        (WorkflowConfig(SPRING_2026, step_working_days=5), date(2026, 2, 13), date(2026, 2, 27)),
        (WorkflowConfig(step_working_days=1), date(2026, 3, 6), date(2026, 3, 9)),
    ],
)
def test_step_due_dates(config: WorkflowConfig, submitted: date, due: date) -> None:
    state, _ = new_request("23", today=submitted, school=SCHOOL)
    assert state is not None and state.steps[0].due is None  # no deadline while drafting
    registrar = Actor("school_registrar", SCHOOL.code)
    filed, violations = submit(state, registrar, today=submitted, config=config)
    assert violations == []
    assert filed.steps[1].started == submitted and filed.steps[1].due == due
    assert not filed.is_overdue(due) and filed.is_overdue(date.fromordinal(due.toordinal() + 1))
    # the next step's clock starts when the previous one is done
    leader = Actor("school_leader", SCHOOL.code)
    later = date(2026, 3, 20)
    approved, _ = approve(filed, leader, today=later, config=config)
    assert approved.steps[2].started == later
    assert approved.steps[2].due == config.calendar.add_working_days(
        later, config.step_working_days
    )


def test_step_working_days_must_be_positive() -> None:
    with pytest.raises(ValueError):
        WorkflowConfig(step_working_days=0)


# --- preconditions ---------------------------------------------------------------------------

ALL_STATUSES = sorted(STATUS_CSV)
ALLOWED_FROM = {
    "35": {"01"},
    "23": {"01"},
    "12": {"02"},
    "24": {"01", "02"},  # 休学期满未办理复学 is a 退学 ground
    "25": {"01"},
    "28": {"01"},
    "29": {"01"},
    "26": {"01", "02", "04", "10", "11", "12"},  # anyone who still has a 学籍
    "41": {"01"},
    "42": {"01"},
    "33": {"01"},
    "34": {"01"},
    "32": {"01"},
    "16": {"04", "10", "11", "12"},  # 辍学, 出国(出境), 其他离校, 失踪
    "11": {"05"},  # 升学: graduates only
}
STAGE_RULE = {"24": "workflow.senior_only", "25": "workflow.senior_only"}
STAGE_RULE["28"] = STAGE_RULE["11"] = "workflow.compulsory_only"
ALLOWED_STAGES = {
    "24": {"senior"},
    "25": {"senior"},
    "28": {"primary", "junior"},
    "11": {"primary", "junior"},  # the stage the student graduated from
}
# A valid grade change per stage, for the grid below (compulsory allowed by the policy).
GRADE_AND_TARGET = {
    ("33", "primary"): ("13", "12"),
    ("33", "junior"): ("22", "21"),
    ("33", "senior"): ("32", "31"),
    ("34", "primary"): ("13", "14"),
    ("34", "junior"): ("22", "23"),
    ("34", "senior"): ("32", "33"),
    ("11", "primary"): ("16", "21"),
    ("11", "junior"): ("23", "31"),
}
LENIENT = PreconditionPolicy(repeat_in_compulsory=True, skip_in_compulsory=True)


@pytest.mark.parametrize("code", sorted(EXPECTED_TYPES))
def test_preconditions_grid(code: str) -> None:
    """Every type × status × stage × in-flight × problem record, against the tables above."""
    for status, stage, in_flight, problem in itertools.product(
        ALL_STATUSES, ("primary", "junior", "senior"), (False, True), (False, True)
    ):
        grade, target = GRADE_AND_TARGET.get((code, stage), (None, None))
        violations = check_preconditions(
            code,
            student_status=status,
            stage=stage,
            has_in_flight_request=in_flight,
            has_problem_record=problem,
            grade_code=grade,
            target_grade_code=target,
            policy=LENIENT,
        )
        expected = []
        if status not in ALLOWED_FROM[code]:
            expected.append("workflow.student_status")
        if in_flight:
            expected.append("workflow.in_flight")
        if problem:
            expected.append("workflow.problem_record")
        if stage not in ALLOWED_STAGES.get(code, {stage}):
            expected.append(STAGE_RULE[code])
        assert codes(violations) == expected, (status, stage, in_flight, problem)


def test_precondition_messages() -> None:
    [violation] = check_preconditions(
        "12",
        student_status="01",
        stage="junior",
        has_in_flight_request=False,
        has_problem_record=False,
    )
    assert violation.message() == "学生当前状态：学生当前为在校，不能办理复学"
    assert violation.message("en") == (
        "Student status: the student is Enrolled; a Resumption request is not possible"
    )
    [senior] = check_preconditions(
        "24",
        student_status="01",
        stage="primary",
        has_in_flight_request=False,
        has_problem_record=False,
    )
    assert senior.message() == "学籍异动类别：退学只适用于高中学生，义务教育阶段学生不能退学"


def test_unknown_stage_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        check_preconditions(
            "23",
            student_status="01",
            stage="college",
            has_in_flight_request=False,
            has_problem_record=False,
        )


# Grades per primary-school length, in order within each stage (an independent table).
STAGE_GRADES = {
    6: {"primary": ["11", "12", "13", "14", "15", "16"], "junior": ["21", "22", "23"]},
    5: {"primary": ["11", "12", "13", "14", "15"], "junior": ["21", "22", "23", "24"]},
}
for _lists in STAGE_GRADES.values():
    _lists["senior"] = ["31", "32", "33"]
ALL_GRADE_CODES = ["11", "12", "13", "14", "15", "16", "21", "22", "23", "24", "31", "32", "33"]


def expected_grade_change(
    code: str, grade: str, target: str, primary_years: int, policy: PreconditionPolicy
) -> list[str]:
    lists = STAGE_GRADES[primary_years]
    stage = next((s for s, grades in lists.items() if grade in grades), None)
    if stage is None:
        return ["consistency.grade_not_in_system"]
    grades = lists[stage]
    found = []
    if grade == grades[-1] and not policy.grade_change_in_graduating_grade:
        found.append("workflow.graduating_grade")
    allowed = policy.repeat_in_compulsory if code == "33" else policy.skip_in_compulsory
    if stage != "senior" and not allowed:
        found.append("workflow.grade_change_compulsory")
    position = grades.index(grade) + (-1 if code == "33" else 1)
    expected_target = grades[position] if 0 <= position < len(grades) else None
    if target != expected_target:
        found.append("workflow.target_grade")
    return found


POLICIES = [
    PreconditionPolicy(),
    PreconditionPolicy(repeat_in_compulsory=True),
    PreconditionPolicy(skip_in_compulsory=True),
    PreconditionPolicy(grade_change_in_graduating_grade=True),
    PreconditionPolicy(True, True, True),
]


@pytest.mark.parametrize("code", ["33", "34"])
def test_repeat_and_skip_grid(code: str) -> None:
    for grade, target, primary_years, policy in itertools.product(
        ALL_GRADE_CODES, [*ALL_GRADE_CODES, "99"], (5, 6), POLICIES
    ):
        stage = {"1": "primary", "2": "junior", "3": "senior"}[grade[0]]
        violations = check_preconditions(
            code,
            student_status="01",
            stage=stage,
            has_in_flight_request=False,
            has_problem_record=False,
            grade_code=grade,
            target_grade_code=target,
            primary_years=primary_years,
            policy=policy,
        )
        expected = expected_grade_change(code, grade, target, primary_years, policy)
        assert codes(violations) == expected, (grade, target, primary_years, policy)


def test_repeat_and_skip_need_both_grades() -> None:
    for grade, target, missing in (
        (None, "31", ["grade"]),
        ("32", None, ["target_grade"]),
        (None, " ", ["grade", "target_grade"]),
    ):
        violations = check_preconditions(
            "33",
            student_status="01",
            stage="senior",
            has_in_flight_request=False,
            has_problem_record=False,
            grade_code=grade,
            target_grade_code=target,
        )
        assert [(v.code, v.field) for v in violations] == [("required", f) for f in missing]
    unknown = check_preconditions(
        "34",
        student_status="01",
        stage="senior",
        has_in_flight_request=False,
        has_problem_record=False,
        grade_code="35",
        target_grade_code="36",
    )
    assert codes(unknown) == ["code.unknown"]


def test_target_grade_message_names_the_expected_grade() -> None:
    [violation] = check_preconditions(
        "33",
        student_status="01",
        stage="senior",
        has_in_flight_request=False,
        has_problem_record=False,
        grade_code="32",
        target_grade_code="33",
    )
    assert violation.message() == "异动后年级：留级只能在同一学段内调整一个年级，应为高一"
    [first] = check_preconditions(
        "33",
        student_status="01",
        stage="senior",
        has_in_flight_request=False,
        has_problem_record=False,
        grade_code="31",
        target_grade_code="23",
    )
    assert first.params["expected_zh"] == "无"


@pytest.mark.parametrize(
    ("grade", "primary_years", "graduating"),
    [
        ("16", 6, True),
        ("15", 6, False),
        ("15", 5, True),
        ("23", 6, True),
        ("23", 5, False),
        ("24", 5, True),
        ("33", 6, True),
        ("33", 5, True),
        ("32", 6, False),
        ("11", 6, False),
    ],
)
def test_is_graduating_grade(grade: str, primary_years: int, graduating: bool) -> None:
    assert is_graduating_grade(grade, primary_years) is graduating


def test_is_graduating_grade_needs_a_grade() -> None:
    with pytest.raises(ValueError):
        is_graduating_grade("41", 6)


def transfer_codes(grade: str | None, target: str | None, policy: PreconditionPolicy) -> list[str]:
    return codes(
        check_preconditions(
            "35",
            student_status="01",
            stage="junior" if grade and grade[0] == "2" else "senior",
            has_in_flight_request=False,
            has_problem_record=False,
            grade_code=grade,
            target_grade_code=target,
            policy=policy,
        )
    )


def test_transfer_grade_policies() -> None:
    default = PreconditionPolicy()
    beijing = PreconditionPolicy(transfer_in_graduating_grade=False)
    henan = PreconditionPolicy(transfer_same_grade_only=True)
    assert transfer_codes("33", "32", default) == []
    assert transfer_codes(None, None, beijing) == []
    assert transfer_codes("33", "33", beijing) == ["workflow.graduating_grade"]
    assert transfer_codes("23", "23", beijing) == ["workflow.graduating_grade"]
    assert transfer_codes("22", "22", beijing) == []
    assert transfer_codes("22", "21", henan) == ["workflow.transfer_grade"]
    assert transfer_codes("22", "22", henan) == []
    assert transfer_codes("22", None, henan) == []
    assert transfer_codes("24", "24", default) == ["consistency.grade_not_in_system"]
    assert transfer_codes("41", "41", default) == ["code.unknown"]


def test_every_code_the_rules_produce_has_a_message() -> None:
    produced = {
        "workflow.frozen",
        "workflow.unsupported_type",
        "workflow.same_school",
        "workflow.wrong_state",
        "workflow.not_your_step",
        "workflow.comment_required",
        "workflow.not_applicant",
        "workflow.no_supervisor",
        "workflow.not_supervisor",
        "workflow.not_overdue",
        "workflow.purge_not_supervisor",
        "workflow.student_status",
        "workflow.in_flight",
        "workflow.problem_record",
        "workflow.senior_only",
        "workflow.compulsory_only",
        "workflow.graduating_grade",
        "workflow.grade_change_compulsory",
        "workflow.target_grade",
        "workflow.transfer_grade",
        "consistency.grade_not_in_system",
        "code.unknown",
        "required",
    }
    assert produced <= MESSAGES.keys()


@pytest.mark.parametrize(
    ("grade", "target", "primary_years", "expected"),
    [
        ("16", "21", 6, []),
        ("15", "21", 5, []),  # 5-4: 五年级 ends primary
        ("23", "31", 6, []),
        ("24", "31", 5, []),  # 5-4: 初四 ends junior
        ("16", "22", 6, ["workflow.progression_target"]),
        ("16", "31", 6, ["workflow.progression_target"]),
        ("15", "21", 6, ["workflow.progression_grade"]),  # 6-3: 五年级 is not the last
        ("23", "31", 5, ["workflow.progression_grade"]),  # 5-4: 初三 is not the last
        ("16", None, 6, ["required"]),
    ],
)
def test_progression_enters_the_next_stages_first_grade(grade, target, primary_years, expected):
    violations = check_preconditions(
        "11",
        student_status="05",
        stage="primary" if grade.startswith("1") else "junior",
        has_in_flight_request=False,
        has_problem_record=False,
        grade_code=grade,
        target_grade_code=target,
        primary_years=primary_years,
    )
    assert codes(violations) == expected
