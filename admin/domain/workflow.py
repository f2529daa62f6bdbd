"""学籍异动 (status changes): request types, approval chains and the request state machine.

DOMAIN.md §4.1–4.3 and §4.5.  Everything here is pure: a transition takes a ``RequestState``
and returns the next one (or the unchanged state and the violations that refused it); the
services persist states and apply ``effect_of(change_type)`` when a request becomes effective.
Nothing changes the student before that: cancelling, rejecting or purging a request leaves the
student exactly as before the request (在办业务清理 "resets to the pre-request state" because the
request never touched the student).

Type codes are those of admin/data/codes/status_change_type.csv; status codes those of
student_status.csv.

**Chains** (DOMAIN.md §4.3(a)–(c); ``approval_chain``):

* single-school changes: own school registrar files → own school leader → own county bureau;
* transfers are filed by the RECEIVING school: receiving registrar (files) → receiving leader →
  receiving county bureau → sending school → sending county bureau.  The sending school's
  step is done by its leader by default (``ChainPolicy.sending_school_unit``): it is the
  school's 审核, which in every single-school chain is the leader's step;
* cross-province: the receiving province after the receiving county, the sending province
  after the sending county (7 steps);
* same county: one bureau step, at the end (转入申请 → 转入审核 → 转出审核 → 上级审核).

**Handling units**: a step belongs to one unit, resolved from the step's side and the school on
that side: the school itself (registrar or leader), its county bureau (the school's 6-digit
county code) or its province bureau (the 2-digit prefix).  Only that unit may act on the step.
强制干预 (``escalate``): when the step is overdue, the level directly above the stalled unit
(school → its county bureau → its province bureau) takes the step over and must then approve or
reject it itself, with a fresh deadline.  在办业务清理 (``purge``): a county or province bureau
over any school of the request cancels it while it is in flight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import date
from types import MappingProxyType
from typing import Final, Literal

from admin.domain.calendar import WorkingCalendar
from admin.domain.consistency import (
    GRADES,
    STAGES,
    Grade,
    grade_by_code,
    grade_exists,
    stage_length,
)
from admin.domain.messages import ZH_CN, Violation, resolve_locale
from admin.domain.text import is_ascii_digits

# --- codes ---------------------------------------------------------------------------------------

# status_change_type.csv
PROGRESSION: Final = "11"  # 招生入学 of a graduate into the next stage elsewhere (升学衔接, 调档)
RESUMPTION: Final = "12"  # 复学 (from 休学)
RETURN: Final = "16"  # 返校 (from 出国(出境) / 其他离校 / 失踪 / 辍学)
SUSPENSION: Final = "23"  # 休学
WITHDRAWAL: Final = "24"  # 退学 (高中 only)
EXPULSION: Final = "25"  # 开除学籍 (高中 only)
DEATH: Final = "26"  # 死亡
DROPOUT: Final = "28"  # 辍学 (义务教育 only; 学籍 kept)
ABROAD: Final = "29"  # 出国(出境)
CLASS_CHANGE: Final = "32"  # 调班
REPEAT: Final = "33"  # 留级
SKIP: Final = "34"  # 跳级
TRANSFER: Final = "35"  # 转学 (the request; completed as 27 转出 + 13 转入)
OTHER_LEAVE: Final = "41"  # 其他离校
MISSING: Final = "42"  # 失踪
TRANSFER_OUT: Final = "27"
TRANSFER_IN: Final = "13"

# student_status.csv
ENROLLED: Final = "01"  # 在校
GRADUATED: Final = "05"  # 毕业
SUSPENDED: Final = "02"  # 休学
WITHDRAWN: Final = "03"  # 退学
DROPPED_OUT: Final = "04"  # 辍学
TRANSFERRED_OUT: Final = "08"  # 转出
DECEASED: Final = "09"  # 死亡
GONE_ABROAD: Final = "10"  # 出国(出境)
LEFT_OTHER: Final = "11"  # 其他离校
MISSING_STATUS: Final = "12"  # 失踪
EXPELLED: Final = "13"  # 开除学籍

STUDENT_STATUS_NAMES: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "01": ("在校", "Enrolled"),
        "02": ("休学", "Suspended (leave of absence)"),
        "03": ("退学", "Withdrawn"),
        "04": ("辍学", "Dropped out"),
        "05": ("毕业", "Graduated"),
        "06": ("结业", "Completed without diploma"),
        "07": ("肄业", "Left before completion"),
        "08": ("转出", "Transferred out"),
        "09": ("死亡", "Deceased"),
        "10": ("出国(出境)", "Gone abroad (left the mainland)"),
        "11": ("其他离校", "Left school for other reasons"),
        "12": ("失踪", "Missing"),
        "13": ("开除学籍", "Expelled"),
    }
)

COMPULSORY_STAGES: Final[frozenset[str]] = frozenset({"primary", "junior"})
ALL_STAGES: Final[frozenset[str]] = frozenset(STAGES)

FIELD_REQUEST: Final = "status_change_request"
FIELD_TYPE: Final = "status_change_type"
FIELD_COMMENT: Final = "approval_comment"
FIELD_STATUS: Final = "student_status"

# --- request types and their effects ---------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """What an effective request does to the student and the enrolment.

    ``changes_grade`` is a grade offset (−1 留级, +1 跳级).  ``keeps_registry``: the student
    still has a 学籍 afterwards (是否有学籍; false after 退学, 开除学籍, 死亡).
    ``ends_enrollment``: the enrolment at the (sending) school is closed; ``new_enrollment``:
    a new one starts at the receiving school (transfers)."""

    new_status: str
    ends_enrollment: bool = False
    changes_class: bool = False
    changes_grade: int = 0
    keeps_registry: bool = True
    new_enrollment: bool = False


@dataclass(frozen=True)
class RequestType:
    code: str
    name_zh: str
    name_en: str
    effect: Effect
    from_statuses: frozenset[str]  # student statuses in which the request may be filed
    stages: frozenset[str] = ALL_STAGES

    @property
    def is_transfer(self) -> bool:
        return self.code == TRANSFER

    @property
    def between_schools(self) -> bool:
        """Filed by a receiving school for a student of a sending school: transfers, and
        progression to the next stage (same chains, same two-sided approval)."""
        return self.code in (TRANSFER, PROGRESSION)


def _type(
    code: str,
    name_zh: str,
    name_en: str,
    effect: Effect,
    from_statuses: frozenset[str] = frozenset({ENROLLED}),
    stages: frozenset[str] = ALL_STAGES,
) -> RequestType:
    return RequestType(code, name_zh, name_en, effect, from_statuses, stages)


_RETURNABLE: Final = frozenset({GONE_ABROAD, LEFT_OTHER, MISSING_STATUS, DROPPED_OUT})
# A student who dies while away from school (休学, 出国, 失踪 …) still has a 学籍 to cancel.
_ALIVE_WITH_REGISTRY: Final = frozenset({ENROLLED, SUSPENDED, *_RETURNABLE})

REQUEST_TYPES: Final[Mapping[str, RequestType]] = MappingProxyType(
    {
        t.code: t
        for t in (
            _type(
                TRANSFER,
                "转学",
                "School transfer",
                Effect(ENROLLED, ends_enrollment=True, changes_class=True, new_enrollment=True),
            ),
            # 升学衔接 (DOMAIN §4.4, 自主招生 / 毕业后跨省就学): a primary or junior graduate
            # is admitted by a school of the next stage; after both sides approve, the
            # receiving school pulls the record (调档): a new enrollment, the same 学籍号.
            _type(
                PROGRESSION,
                "招生入学",
                "Admission to the next stage (record pull)",
                Effect(ENROLLED, changes_class=True, new_enrollment=True),
                frozenset({GRADUATED}),
                COMPULSORY_STAGES,
            ),
            _type(SUSPENSION, "休学", "Suspension", Effect(SUSPENDED)),
            _type(
                RESUMPTION,
                "复学",
                "Resumption",
                Effect(ENROLLED, changes_class=True),
                frozenset({SUSPENDED}),
            ),
            _type(
                WITHDRAWAL,
                "退学",
                "Withdrawal",
                Effect(WITHDRAWN, ends_enrollment=True, keeps_registry=False),
                # 休学期满未办理复学 (reason 31) is a ground for 退学: allowed from 休学 too.
                frozenset({ENROLLED, SUSPENDED}),
                frozenset({"senior"}),
            ),
            _type(
                EXPULSION,
                "开除学籍",
                "Expulsion",
                Effect(EXPELLED, ends_enrollment=True, keeps_registry=False),
                stages=frozenset({"senior"}),
            ),
            _type(
                DROPOUT,
                "辍学",
                "Dropout",
                Effect(DROPPED_OUT),
                stages=COMPULSORY_STAGES,
            ),
            _type(ABROAD, "出国(出境)", "Going abroad", Effect(GONE_ABROAD)),
            _type(
                DEATH,
                "死亡",
                "Death",
                Effect(DECEASED, ends_enrollment=True, keeps_registry=False),
                _ALIVE_WITH_REGISTRY,
            ),
            _type(OTHER_LEAVE, "其他离校", "Leaving for other reasons", Effect(LEFT_OTHER)),
            _type(MISSING, "失踪", "Missing", Effect(MISSING_STATUS)),
            _type(
                REPEAT,
                "留级",
                "Grade repetition",
                Effect(ENROLLED, changes_class=True, changes_grade=-1),
            ),
            _type(
                SKIP,
                "跳级",
                "Grade skipping",
                Effect(ENROLLED, changes_class=True, changes_grade=1),
            ),
            _type(CLASS_CHANGE, "调班", "Class change", Effect(ENROLLED, changes_class=True)),
            _type(
                RETURN,
                "返校",
                "Return to school",
                Effect(ENROLLED, changes_class=True),
                _RETURNABLE,
            ),
        )
    }
)
SUPPORTED_TYPES: Final[frozenset[str]] = frozenset(REQUEST_TYPES)


def request_type(change_type: str) -> RequestType:
    """The request type of a code; ValueError for codes that are not requests handled here
    (招生入学, 毕业, 升级 … have their own procedures)."""
    try:
        return REQUEST_TYPES[change_type]
    except KeyError:
        raise ValueError(f"not a status change request type: {change_type!r}") from None


def effect_of(change_type: str) -> Effect:
    return request_type(change_type).effect


# --- approval chains -------------------------------------------------------------------------

UnitKind = Literal["school_registrar", "school_leader", "county_bureau", "province_bureau"]
UNIT_KINDS: Final[tuple[UnitKind, ...]] = (
    "school_registrar",
    "school_leader",
    "county_bureau",
    "province_bureau",
)
SCHOOL_UNITS: Final[frozenset[str]] = frozenset({"school_registrar", "school_leader"})
BUREAU_UNITS: Final[frozenset[str]] = frozenset({"county_bureau", "province_bureau"})
Side = Literal["own", "receiving", "sending"]
TransferScope = Literal["same_county", "cross_county", "cross_province"]
TRANSFER_SCOPES: Final[tuple[TransferScope, ...]] = (
    "same_county",
    "cross_county",
    "cross_province",
)

UNIT_NAMES: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "school_registrar": ("学校学籍管理员", "school registrar"),
        "school_leader": ("学校学籍主管领导", "school leader in charge of student records"),
        "county_bureau": ("县级教育行政部门", "county education bureau"),
        "province_bureau": ("省级教育行政部门", "provincial education department"),
    }
)


@dataclass(frozen=True)
class Step:
    unit_kind: UnitKind
    side: Side


@dataclass(frozen=True)
class ChainPolicy:
    """Provincial variations of the chains.

    ``province_step_within_province``: cross-county transfers inside one province also need the
    provincial department (some provinces add it, DOMAIN.md §4.3(c) step 3); it comes after
    the receiving county bureau, as in cross-province transfers.
    ``sending_school_unit``: who does the sending school's step.
    ``school_only_types``: single-school types approved inside the school (no bureau step),
    e.g. ``frozenset({CLASS_CHANGE})`` where 调班 is purely internal."""

    province_step_within_province: bool = False
    sending_school_unit: Literal["school_registrar", "school_leader"] = "school_leader"
    school_only_types: frozenset[str] = frozenset()


DEFAULT_CHAIN_POLICY: Final = ChainPolicy()


def _region_digits(code: str, what: str) -> str:
    code = code.strip()
    if len(code) not in (6, 12) or not is_ascii_digits(code):
        raise ValueError(f"{what} must be a 6- or 12-digit division code, got {code!r}")
    return code[:6]


def transfer_scope(receiving_county_code: str, sending_county_code: str) -> TransferScope:
    """same_county / cross_county / cross_province from the two schools' county codes."""
    receiving = _region_digits(receiving_county_code, "receiving county code")
    sending = _region_digits(sending_county_code, "sending county code")
    if receiving == sending:
        return "same_county"
    if receiving[:2] == sending[:2]:
        return "cross_county"
    return "cross_province"


def approval_chain(
    change_type: str,
    scope: TransferScope | None = None,
    policy: ChainPolicy = DEFAULT_CHAIN_POLICY,
) -> tuple[Step, ...]:
    """The steps of a request, the filing step first.  ``scope`` is required for transfers
    and must be None otherwise."""
    kind = request_type(change_type)
    if not kind.between_schools:
        if scope is not None:
            raise ValueError(f"a scope applies to transfers only, got {scope!r}")
        steps = [Step("school_registrar", "own"), Step("school_leader", "own")]
        if change_type not in policy.school_only_types:
            steps.append(Step("county_bureau", "own"))
        return tuple(steps)
    if scope not in TRANSFER_SCOPES:
        raise ValueError(f"a transfer needs a scope in {TRANSFER_SCOPES}, got {scope!r}")
    steps = [Step("school_registrar", "receiving"), Step("school_leader", "receiving")]
    if scope != "same_county":
        steps.append(Step("county_bureau", "receiving"))
        if scope == "cross_province" or policy.province_step_within_province:
            steps.append(Step("province_bureau", "receiving"))
    steps.append(Step(policy.sending_school_unit, "sending"))
    # Same county: one bureau step, the common authority's, at the end (上级审核).
    steps.append(Step("county_bureau", "sending"))
    if scope == "cross_province":
        steps.append(Step("province_bureau", "sending"))
    return tuple(steps)


STEP_NAMES: Final[Mapping[tuple[str, str], tuple[str, str]]] = MappingProxyType(
    {
        ("school_registrar", "own"): ("学校申请", "school application"),
        ("school_leader", "own"): ("学校审核", "school review"),
        ("county_bureau", "own"): ("主管教育行政部门审核", "education bureau review"),
        ("school_registrar", "receiving"): ("转入学校申请", "receiving school application"),
        ("school_leader", "receiving"): ("转入学校审核", "receiving school review"),
        ("county_bureau", "receiving"): ("转入地教育局审核", "receiving county bureau review"),
        ("province_bureau", "receiving"): ("转入省审核", "receiving province review"),
        ("school_registrar", "sending"): ("转出学校审核", "sending school review"),
        ("school_leader", "sending"): ("转出学校审核", "sending school review"),
        ("county_bureau", "sending"): ("转出地教育局审核", "sending county bureau review"),
        ("province_bureau", "sending"): ("转出省审核", "sending province review"),
    }
)


def step_name(step: Step, locale: str = ZH_CN) -> str:
    """The step as the national system names it (转入学校审核 …)."""
    zh, en = STEP_NAMES[(step.unit_kind, step.side)]
    return zh if resolve_locale(locale) == ZH_CN else en


# --- units and actors -------------------------------------------------------------------------


@dataclass(frozen=True)
class School:
    """A school as a party of a request: its 学校标识码 and its county's 6-digit code."""

    code: str
    county_code: str

    def __post_init__(self) -> None:
        if not self.code.strip():
            raise ValueError("a school needs a code")
        object.__setattr__(self, "code", self.code.strip())
        object.__setattr__(self, "county_code", _region_digits(self.county_code, "county code"))

    @property
    def province_code(self) -> str:
        return self.county_code[:2]


@dataclass(frozen=True)
class Actor:
    """A handling unit, or the user acting for it: ``code`` is the school code for school
    units, the 6-digit county code for a county bureau and the province code ("11" or
    "110000") for a province bureau."""

    unit_kind: UnitKind
    code: str


def unit_for(unit_kind: UnitKind, school: School) -> Actor:
    """The unit of ``unit_kind`` responsible for ``school``."""
    if unit_kind in SCHOOL_UNITS:
        return Actor(unit_kind, school.code)
    if unit_kind == "county_bureau":
        return Actor(unit_kind, school.county_code)
    return Actor(unit_kind, school.province_code)


def _province_of(code: str) -> str | None:
    code = code.strip()
    if len(code) == 2 and is_ascii_digits(code):
        return code
    if len(code) == 6 and is_ascii_digits(code) and code.endswith("0000"):
        return code[:2]
    return None


def same_unit(actor: Actor, unit: Actor) -> bool:
    """Whether ``actor`` is ``unit``: same kind and same school, county or province."""
    if actor.unit_kind != unit.unit_kind:
        return False
    if unit.unit_kind == "province_bureau":
        province = _province_of(actor.code)
        return province is not None and province == _province_of(unit.code)
    return actor.code.strip() == unit.code


def supervisor_of(unit: Actor, school: School) -> Actor | None:
    """The level directly above ``unit`` for ``school``: school → county bureau → province
    bureau → none (the ministry is outside the system)."""
    if unit.unit_kind in SCHOOL_UNITS:
        return unit_for("county_bureau", school)
    if unit.unit_kind == "county_bureau":
        return unit_for("province_bureau", school)
    return None


def supervises(actor: Actor, school: School) -> bool:
    """A county bureau supervises the schools of its county, a province bureau those of its
    province."""
    if actor.unit_kind not in BUREAU_UNITS:
        return False
    return same_unit(actor, unit_for(actor.unit_kind, school))


def describe_unit(unit: Actor) -> tuple[str, str]:
    zh, en = UNIT_NAMES[unit.unit_kind]
    return f"{zh}（{unit.code}）", f"{en} ({unit.code})"


# --- request state machine ---------------------------------------------------------------------

RequestStatus = Literal["draft", "submitted", "effective", "rejected", "cancelled", "purged"]
REQUEST_STATUSES: Final[tuple[RequestStatus, ...]] = (
    "draft",
    "submitted",
    "effective",
    "rejected",
    "cancelled",
    "purged",
)
IN_FLIGHT: Final[frozenset[str]] = frozenset({"draft", "submitted"})  # 在办业务
FINAL: Final[frozenset[str]] = frozenset({"effective", "rejected", "cancelled", "purged"})
StepStatus = Literal["waiting", "pending", "escalated", "approved", "rejected", "cancelled"]
AWAITING: Final[frozenset[str]] = frozenset({"pending", "escalated"})
Action = Literal["submit", "approve", "reject", "cancel", "escalate", "purge"]
ACTIONS: Final[tuple[Action, ...]] = ("submit", "approve", "reject", "cancel", "escalate", "purge")

REQUEST_STATUS_NAMES: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "draft": ("草稿", "draft"),
        "submitted": ("审核中", "under review"),
        "effective": ("已生效", "effective"),
        "rejected": ("已驳回", "rejected"),
        "cancelled": ("已撤销", "cancelled"),
        "purged": ("已清理", "purged"),
    }
)
ACTION_NAMES: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "submit": ("提交", "submit"),
        "approve": ("审核通过", "approve"),
        "reject": ("驳回", "reject"),
        "cancel": ("撤销", "cancel"),
        "escalate": ("强制干预", "take over (强制干预)"),
        "purge": ("在办业务清理", "purge (在办业务清理)"),
    }
)


@dataclass(frozen=True)
class WorkflowConfig:
    """Deadlines: each step is due ``step_working_days`` working days after it started."""

    calendar: WorkingCalendar = dataclass_field(default_factory=WorkingCalendar)
    step_working_days: int = 10

    def __post_init__(self) -> None:
        if self.step_working_days < 1:
            raise ValueError(f"step_working_days must be 1 or more, got {self.step_working_days}")

    def due_date(self, started: date) -> date:
        return self.calendar.add_working_days(started, self.step_working_days)


DEFAULT_CONFIG: Final = WorkflowConfig()


@dataclass(frozen=True)
class StepState:
    """One step of one request.  ``handler`` is who may act on it now: its ``unit``, or after
    强制干预 the supervisor that took it over (listed in ``escalations``)."""

    step: Step
    unit: Actor
    status: StepStatus = "waiting"
    handler: Actor | None = None
    started: date | None = None
    due: date | None = None
    finished: date | None = None
    acted_by: Actor | None = None
    comment: str = ""
    escalations: tuple[Actor, ...] = ()

    @property
    def awaiting(self) -> bool:
        return self.status in AWAITING


@dataclass(frozen=True)
class RequestState:
    """A request: its type, parties, status and steps.  ``current_step`` is the index of the
    step awaiting action (len(steps) once effective; the step where it stopped otherwise).
    Single-school requests have ``school``; transfers ``receiving`` and ``sending``."""

    change_type: str
    status: RequestStatus
    current_step: int
    steps: tuple[StepState, ...]
    school: School | None = None
    receiving: School | None = None
    sending: School | None = None
    scope: TransferScope | None = None
    created: date | None = None
    finished: date | None = None

    def party(self, side: Side) -> School:
        school = {"own": self.school, "receiving": self.receiving, "sending": self.sending}[side]
        if school is None:
            raise ValueError(f"request has no {side} school")
        return school

    @property
    def parties(self) -> tuple[School, ...]:
        return tuple(s for s in (self.school, self.receiving, self.sending) if s is not None)

    @property
    def applicant(self) -> Actor:
        """The unit that filed the request (the first step's unit)."""
        return self.steps[0].unit

    @property
    def awaiting_step(self) -> StepState | None:
        if self.status in IN_FLIGHT and self.current_step < len(self.steps):
            step = self.steps[self.current_step]
            return step if step.awaiting else None
        return None

    @property
    def handler(self) -> Actor | None:
        """当前处理单位: who may act now (None when nothing is awaited)."""
        step = self.awaiting_step
        return step.handler if step else None

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT

    def is_overdue(self, today: date) -> bool:
        """The awaited step is past its due date (drafts have no deadline)."""
        step = self.awaiting_step
        return step is not None and step.due is not None and today > step.due


Outcome = tuple[RequestState, list[Violation]]


def new_request(
    change_type: str,
    *,
    today: date,
    school: School | None = None,
    receiving: School | None = None,
    sending: School | None = None,
    policy: ChainPolicy = DEFAULT_CHAIN_POLICY,
) -> tuple[RequestState | None, list[Violation]]:
    """A draft request, awaiting the applicant's ``submit``.  Single-school types need
    ``school``; transfers need ``receiving`` and ``sending`` (the scope follows from their
    counties)."""
    kind = REQUEST_TYPES.get(change_type)
    if kind is None:
        return None, [_unsupported(change_type)]
    scope: TransferScope | None = None
    if kind.between_schools:
        if receiving is None or sending is None or school is not None:
            raise ValueError("a transfer needs receiving and sending schools (and no school)")
        if receiving.code == sending.code:
            return None, [Violation("workflow.same_school", "school", {"school": sending.code})]
        scope = transfer_scope(receiving.county_code, sending.county_code)
    elif school is None or receiving is not None or sending is not None:
        raise ValueError(f"a {kind.name_en} request needs exactly one school")
    parties: dict[str, School | None] = {
        "own": school,
        "receiving": receiving,
        "sending": sending,
    }
    steps: list[StepState] = []
    for step in approval_chain(change_type, scope, policy):
        party = parties[step.side]
        assert party is not None
        steps.append(StepState(step, unit_for(step.unit_kind, party)))
    first = steps[0]
    steps[0] = replace(first, status="pending", handler=first.unit, started=today)
    state = RequestState(
        change_type,
        "draft",
        0,
        tuple(steps),
        school=school,
        receiving=receiving,
        sending=sending,
        scope=scope,
        created=today,
    )
    return state, []


def _unsupported(change_type: str) -> Violation:
    return Violation("workflow.unsupported_type", FIELD_TYPE, {"value": change_type})


def _wrong_state(state: RequestState, action: Action) -> Violation:
    state_zh, state_en = REQUEST_STATUS_NAMES[state.status]
    action_zh, action_en = ACTION_NAMES[action]
    params = {
        "state": state.status,
        "state_zh": state_zh,
        "state_en": state_en,
        "action": action,
        "action_zh": action_zh,
        "action_en": action_en,
    }
    return Violation("workflow.wrong_state", FIELD_REQUEST, params)


def _unit_params(unit: Actor) -> dict[str, object]:
    zh, en = describe_unit(unit)
    return {"unit_kind": unit.unit_kind, "unit_code": unit.code, "unit_zh": zh, "unit_en": en}


def _refuse(state: RequestState, violation: Violation) -> Outcome:
    return state, [violation]


def _advance(state: RequestState, today: date, config: WorkflowConfig) -> RequestState:
    """The step after ``current_step`` becomes pending, or the request becomes effective."""
    following = state.current_step + 1
    if following == len(state.steps):
        return replace(state, status="effective", current_step=following, finished=today)
    steps = list(state.steps)
    nxt = steps[following]
    steps[following] = replace(
        nxt, status="pending", handler=nxt.unit, started=today, due=config.due_date(today)
    )
    return replace(state, status="submitted", current_step=following, steps=tuple(steps))


def _finish_step(
    state: RequestState, status: StepStatus, actor: Actor, today: date, comment: str = ""
) -> RequestState:
    steps = list(state.steps)
    steps[state.current_step] = replace(
        steps[state.current_step], status=status, finished=today, acted_by=actor, comment=comment
    )
    return replace(state, steps=tuple(steps))


def _check_handler(state: RequestState, actor: Actor) -> Violation | None:
    handler = state.handler
    assert handler is not None
    if same_unit(actor, handler):
        return None
    return Violation("workflow.not_your_step", FIELD_REQUEST, _unit_params(handler))


def submit(
    state: RequestState, actor: Actor, *, today: date, config: WorkflowConfig = DEFAULT_CONFIG
) -> Outcome:
    """The applicant (the first step's unit) files the draft; the next step is due in
    ``config.step_working_days`` working days.  Freezes are checked by the caller
    (``admin.domain.calendar.check_freeze``) together with ``check_preconditions``."""
    if state.status != "draft":
        return _refuse(state, _wrong_state(state, "submit"))
    refused = _check_handler(state, actor)
    if refused:
        return _refuse(state, refused)
    return _advance(_finish_step(state, "approved", actor, today), today, config), []


def approve(
    state: RequestState,
    actor: Actor,
    *,
    today: date,
    comment: str = "",
    config: WorkflowConfig = DEFAULT_CONFIG,
) -> Outcome:
    """The current handling unit approves its step; after the last step the request is
    effective (the caller then applies ``effect_of``)."""
    if state.status != "submitted":
        return _refuse(state, _wrong_state(state, "approve"))
    refused = _check_handler(state, actor)
    if refused:
        return _refuse(state, refused)
    done = _finish_step(state, "approved", actor, today, comment.strip())
    return _advance(done, today, config), []


def reject(state: RequestState, actor: Actor, comment: str, *, today: date) -> Outcome:
    """The current handling unit rejects the request, giving its reason; the request ends."""
    if state.status != "submitted":
        return _refuse(state, _wrong_state(state, "reject"))
    refused = _check_handler(state, actor)
    if refused:
        return _refuse(state, refused)
    if not comment.strip():
        return _refuse(state, Violation("workflow.comment_required", FIELD_COMMENT))
    done = _finish_step(state, "rejected", actor, today, comment.strip())
    return replace(done, status="rejected", finished=today), []


def _close(state: RequestState, status: RequestStatus, actor: Actor, today: date) -> RequestState:
    steps = tuple(
        replace(s, status="cancelled", finished=today, acted_by=actor) if s.awaiting else s
        for s in state.steps
    )
    return replace(state, status=status, steps=steps, finished=today)


def cancel(state: RequestState, actor: Actor, *, today: date) -> Outcome:
    """The applicant withdraws its request while it is in flight."""
    if state.status not in IN_FLIGHT:
        return _refuse(state, _wrong_state(state, "cancel"))
    if not same_unit(actor, state.applicant):
        params = _unit_params(state.applicant)
        return _refuse(state, Violation("workflow.not_applicant", FIELD_REQUEST, params))
    return _close(state, "cancelled", actor, today), []


def escalation_target(state: RequestState) -> Actor | None:
    """Who may take over the awaited step by 强制干预: the level above its handler."""
    step = state.awaiting_step
    if step is None or step.handler is None:
        return None
    return supervisor_of(step.handler, state.party(step.step.side))


def escalate(
    state: RequestState, actor: Actor, *, today: date, config: WorkflowConfig = DEFAULT_CONFIG
) -> Outcome:
    """强制干预: the level directly above a stalled handling unit takes over its overdue step
    (it then approves or rejects it itself; the step gets a fresh deadline)."""
    if state.status != "submitted":
        return _refuse(state, _wrong_state(state, "escalate"))
    step = state.awaiting_step
    assert step is not None and step.handler is not None and step.due is not None
    target = escalation_target(state)
    if target is None:
        params = _unit_params(step.handler)
        return _refuse(state, Violation("workflow.no_supervisor", FIELD_REQUEST, params))
    if not same_unit(actor, target):
        params = _unit_params(target)
        return _refuse(state, Violation("workflow.not_supervisor", FIELD_REQUEST, params))
    if today <= step.due:
        params = {"due": step.due.isoformat(), "today": today.isoformat()}
        return _refuse(state, Violation("workflow.not_overdue", FIELD_REQUEST, params))
    steps = list(state.steps)
    steps[state.current_step] = replace(
        step,
        status="escalated",
        handler=target,
        started=today,
        due=config.due_date(today),
        escalations=(*step.escalations, target),
    )
    return replace(state, steps=tuple(steps)), []


def purge(state: RequestState, actor: Actor, *, today: date) -> Outcome:
    """在办业务清理: a bureau over any school of the request cancels it while in flight (overdue
    business, or the yearly purge of graduating grades on 07-15).  The student is untouched:
    only an effective request changes the student."""
    if state.status not in IN_FLIGHT:
        return _refuse(state, _wrong_state(state, "purge"))
    if not any(supervises(actor, school) for school in state.parties):
        counties = ", ".join(dict.fromkeys(s.county_code for s in state.parties))
        params = {"counties": counties}
        return _refuse(state, Violation("workflow.purge_not_supervisor", FIELD_REQUEST, params))
    return _close(state, "purged", actor, today), []


def allowed_actions(
    state: RequestState, actor: Actor, *, today: date, config: WorkflowConfig = DEFAULT_CONFIG
) -> frozenset[Action]:
    """The actions ``actor`` may take now ("reject" assumes a comment will be given): what a
    screen shows as buttons."""
    outcomes: dict[Action, Outcome] = {
        "submit": submit(state, actor, today=today, config=config),
        "approve": approve(state, actor, today=today, config=config),
        "reject": reject(state, actor, "-", today=today),
        "cancel": cancel(state, actor, today=today),
        "escalate": escalate(state, actor, today=today, config=config),
        "purge": purge(state, actor, today=today),
    }
    return frozenset(action for action, (_, refused) in outcomes.items() if not refused)


# --- preconditions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PreconditionPolicy:
    """Provincial rules that gate requests (DOMAIN.md §4.3(e)); defaults follow Hunan for
    留级/跳级 (none in 义务教育 or in a graduating grade) and allow transfers in any grade.

    ``transfer_in_graduating_grade``: False in Beijing.  ``transfer_same_grade_only``: Henan
    (no disguised 留级 through a transfer)."""

    repeat_in_compulsory: bool = False
    skip_in_compulsory: bool = False
    grade_change_in_graduating_grade: bool = False
    transfer_in_graduating_grade: bool = True
    transfer_same_grade_only: bool = False


DEFAULT_PRECONDITION_POLICY: Final = PreconditionPolicy()


def is_graduating_grade(grade_code: str, primary_years: int) -> bool:
    """The last grade of its stage: 六年级 (6-3) or 五年级 (5-4), 初三 or 初四, 高三."""
    grade = grade_by_code(grade_code)
    if grade is None:
        raise ValueError(f"unknown grade code {grade_code!r}")
    return grade.year == stage_length(grade.stage, primary_years)


def adjacent_grade(grade: Grade, offset: int, primary_years: int) -> Grade | None:
    """The grade ``offset`` years away inside the same stage, if it exists."""
    year = grade.year + offset
    if year < 1 or year > stage_length(grade.stage, primary_years):
        return None
    return next(g for g in GRADES if g.stage == grade.stage and g.year == year)


def _type_params(kind: RequestType) -> dict[str, object]:
    return {"change_type": kind.code, "type_zh": kind.name_zh, "type_en": kind.name_en}


def _grade_not_in_system(grade: Grade, primary_years: int) -> Violation:
    params = {"grade_zh": grade.name_zh, "grade_en": grade.name_en, "primary_years": primary_years}
    return Violation("consistency.grade_not_in_system", "grade", params)


def _grade_violations(
    kind: RequestType,
    grade_code: str | None,
    target_grade_code: str | None,
    primary_years: int,
    policy: PreconditionPolicy,
) -> list[Violation]:
    grade_change = kind.effect.changes_grade
    if kind.code == PROGRESSION:
        return _progression_grade_violations(grade_code, target_grade_code, primary_years)
    if kind.is_transfer:
        if grade_code is None:
            return []
        grade = grade_by_code(grade_code)
        if grade is None:
            return [Violation("code.unknown", "grade", {"value": grade_code})]
        if not grade_exists(grade, primary_years):
            return [_grade_not_in_system(grade, primary_years)]
        violations: list[Violation] = []
        if not policy.transfer_in_graduating_grade and is_graduating_grade(
            grade.code, primary_years
        ):
            params = {**_type_params(kind), "grade_zh": grade.name_zh, "grade_en": grade.name_en}
            violations.append(Violation("workflow.graduating_grade", "grade", params))
        if (
            policy.transfer_same_grade_only
            and target_grade_code is not None
            and target_grade_code.strip() != grade.code
        ):
            params = {"grade_zh": grade.name_zh, "grade_en": grade.name_en}
            violations.append(Violation("workflow.transfer_grade", "target_grade", params))
        return violations
    if not grade_change:
        return []
    violations = []
    if grade_code is None or not grade_code.strip():
        violations.append(Violation("required", "grade"))
    if target_grade_code is None or not target_grade_code.strip():
        violations.append(Violation("required", "target_grade"))
    if violations:
        return violations
    assert grade_code is not None and target_grade_code is not None
    grade = grade_by_code(grade_code)
    if grade is None:
        return [Violation("code.unknown", "grade", {"value": grade_code})]
    if not grade_exists(grade, primary_years):
        return [_grade_not_in_system(grade, primary_years)]
    grade_params = {**_type_params(kind), "grade_zh": grade.name_zh, "grade_en": grade.name_en}
    if not policy.grade_change_in_graduating_grade and is_graduating_grade(
        grade.code, primary_years
    ):
        violations.append(Violation("workflow.graduating_grade", "grade", grade_params))
    allowed_in_compulsory = (
        policy.repeat_in_compulsory if grade_change < 0 else policy.skip_in_compulsory
    )
    if grade.stage in COMPULSORY_STAGES and not allowed_in_compulsory:
        violations.append(Violation("workflow.grade_change_compulsory", "grade", grade_params))
    expected = adjacent_grade(grade, grade_change, primary_years)
    if expected is None or target_grade_code.strip() != expected.code:
        params = {
            **grade_params,
            "expected_zh": expected.name_zh if expected else "无",
            "expected_en": expected.name_en if expected else "none",
        }
        violations.append(Violation("workflow.target_grade", "target_grade", params))
    return violations


def next_stage_entry_grade(grade_code: str, primary_years: int) -> Grade | None:
    """The first grade of the stage after the one ``grade_code`` ends: 初一 after 六年级 (6-3)
    or 五年级 (5-4), 高一 after 初三 or 初四; None for a grade that does not end its stage."""
    grade = grade_by_code(grade_code)
    if grade is None or grade.year != stage_length(grade.stage, primary_years):
        return None
    order = list(STAGES)
    if order.index(grade.stage) + 1 >= len(order):
        return None
    following = order[order.index(grade.stage) + 1]
    return next((g for g in GRADES if g.stage == following and g.year == 1), None)


def _progression_grade_violations(
    grade_code: str | None, target_grade_code: str | None, primary_years: int
) -> list[Violation]:
    if not grade_code:
        return []
    expected = next_stage_entry_grade(grade_code, primary_years)
    if expected is None:
        grade = grade_by_code(grade_code)
        params = {
            "grade_zh": grade.name_zh if grade else grade_code,
            "grade_en": grade.name_en if grade else grade_code,
        }
        return [Violation("workflow.progression_grade", "grade", params)]
    if target_grade_code is None or not target_grade_code.strip():
        return [Violation("required", "target_grade")]
    if target_grade_code.strip() != expected.code:
        params = {"expected_zh": expected.name_zh, "expected_en": expected.name_en}
        return [Violation("workflow.progression_target", "target_grade", params)]
    return []


def check_preconditions(
    change_type: str,
    *,
    student_status: str,
    stage: str,
    has_in_flight_request: bool,
    has_problem_record: bool,
    grade_code: str | None = None,
    target_grade_code: str | None = None,
    primary_years: int = 6,
    policy: PreconditionPolicy = DEFAULT_PRECONDITION_POLICY,
) -> list[Violation]:
    """Whether a request of ``change_type`` may be filed for a student (DOMAIN.md §4.3(d)–(e)):
    the right student status (在校 for most; 休学 for 复学; 出国/其他离校/失踪/辍学 for 返校),
    no 在办业务, no open 问题学籍, the stage (退学/开除学籍 高中 only, 辍学 义务教育 only) and the
    grade rules of 留级/跳级 and transfers.  ``grade_code`` is the student's current grade,
    ``target_grade_code`` the grade after the change.  Returns every violation found."""
    if stage not in ALL_STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    kind = REQUEST_TYPES.get(change_type)
    if kind is None:
        return [_unsupported(change_type)]
    violations: list[Violation] = []
    if student_status not in kind.from_statuses:
        status_zh, status_en = STUDENT_STATUS_NAMES.get(student_status, (student_status,) * 2)
        params = {
            **_type_params(kind),
            "status": student_status,
            "status_zh": status_zh,
            "status_en": status_en,
        }
        violations.append(Violation("workflow.student_status", FIELD_STATUS, params))
    if has_in_flight_request:
        violations.append(Violation("workflow.in_flight", FIELD_REQUEST))
    if has_problem_record:
        violations.append(Violation("workflow.problem_record", "student_number"))
    if stage not in kind.stages:
        code = "workflow.senior_only" if kind.stages == {"senior"} else "workflow.compulsory_only"
        violations.append(Violation(code, FIELD_TYPE, _type_params(kind)))
    violations += _grade_violations(kind, grade_code, target_grade_code, primary_years, policy)
    return violations
