"""The request state machine of admin.domain.workflow, exhaustively.

Every request type (transfers in their three scopes) × every reachable state (draft, each
step pending, each step escalated once or twice, every final state) × a universe of actors
(the right unit, units of the same kind elsewhere, every other kind, malformed codes) × every
action (and, for 强制干预, days before and after the deadline) is run and compared with a small
reference model written here from the rules, independently of the module's code: the chains
are spelled out, units and supervisors resolved by hand, deadlines counted day by day.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from admin.domain.messages import Violation
from admin.domain.workflow import (
    Actor,
    RequestState,
    School,
    allowed_actions,
    approve,
    cancel,
    escalate,
    new_request,
    purge,
    reject,
    submit,
)

# --- the reference model ---------------------------------------------------------------------

T0 = date(2026, 3, 2)  # a Monday: every request is filed and moved on this day
ESCALATED_ONCE = date(2026, 3, 17)  # the day after the first deadline (2026-03-16)
ESCALATED_TWICE = date(2026, 4, 1)  # the day after the second one (2026-03-31)
TODAYS = (date(2026, 3, 3), ESCALATED_ONCE, ESCALATED_TWICE, date(2026, 4, 16))

RECEIVING = School("1101050001", "110105")  # 北京市朝阳区
SENDING = {
    "same_county": School("1101050002", "110105"),
    "cross_county": School("1101080003", "110108"),  # 北京市海淀区
    "cross_province": School("3101040004", "310104"),  # 上海市徐汇区
}
OWN_SCHOOL = School("4403050005", "440305")  # 深圳市南山区

R, S, OWN = "receiving", "sending", "own"
CHAINS: dict[str, list[tuple[str, str]]] = {
    "single": [("school_registrar", OWN), ("school_leader", OWN), ("county_bureau", OWN)],
    "same_county": [
        ("school_registrar", R),
        ("school_leader", R),
        ("school_leader", S),
        ("county_bureau", S),
    ],
    "cross_county": [
        ("school_registrar", R),
        ("school_leader", R),
        ("county_bureau", R),
        ("school_leader", S),
        ("county_bureau", S),
    ],
    "cross_province": [
        ("school_registrar", R),
        ("school_leader", R),
        ("county_bureau", R),
        ("province_bureau", R),
        ("school_leader", S),
        ("county_bureau", S),
        ("province_bureau", S),
    ],
}
SINGLE_TYPES = ["12", "16", "23", "24", "25", "26", "28", "29", "32", "33", "34", "41", "42"]
CONFIGS = [(t, "single") for t in SINGLE_TYPES] + [
    ("35", scope) for scope in ("same_county", "cross_county", "cross_province")
]

Unit = tuple[str, str]  # (unit kind, code)


def ref_unit(kind: str, school: School) -> Unit:
    code = {
        "school_registrar": school.code,
        "school_leader": school.code,
        "county_bureau": school.county_code,
        "province_bureau": school.county_code[:2],
    }[kind]
    return kind, code


def ref_supervisor(unit: Unit, school: School) -> Unit | None:
    above = {
        "school_registrar": "county_bureau",
        "school_leader": "county_bureau",
        "county_bureau": "province_bureau",
    }
    return ref_unit(above[unit[0]], school) if unit[0] in above else None


def ref_is(actor: Actor, unit: Unit) -> bool:
    kind, code = unit
    if actor.unit_kind != kind:
        return False
    if kind == "province_bureau":
        return actor.code in (code, code + "0000")
    return actor.code == code


def ref_due(start: date, n: int = 10) -> date:
    day = start
    while n:
        day += timedelta(days=1)
        if day.isoweekday() <= 5:
            n -= 1
    return day


@dataclass(frozen=True)
class Scenario:
    change_type: str
    scope: str
    parties: dict[str, School]

    @property
    def chain(self) -> list[tuple[str, str]]:
        return CHAINS[self.scope]

    def unit(self, index: int) -> Unit:
        kind, side = self.chain[index]
        return ref_unit(kind, self.parties[side])

    def school_of(self, index: int) -> School:
        return self.parties[self.chain[index][1]]

    def new(self) -> RequestState:
        if self.scope == "single":
            state, violations = new_request(self.change_type, today=T0, school=OWN_SCHOOL)
        else:
            state, violations = new_request(
                self.change_type, today=T0, receiving=RECEIVING, sending=SENDING[self.scope]
            )
        assert state is not None and violations == []
        return state


def scenario(change_type: str, scope: str) -> Scenario:
    if scope == "single":
        return Scenario(change_type, scope, {OWN: OWN_SCHOOL})
    return Scenario(change_type, scope, {R: RECEIVING, S: SENDING[scope]})


@dataclass(frozen=True)
class Model:
    status: str
    index: int
    handler: Unit | None
    due: date | None


IN_FLIGHT = ("draft", "submitted")


def expect(sc: Scenario, m: Model, action: str, actor: Actor, today: date, comment: str) -> str:
    """The refusal code, or "" when the action is allowed."""
    if action == "submit":
        if m.status != "draft":
            return "workflow.wrong_state"
        assert m.handler is not None
        return "" if ref_is(actor, m.handler) else "workflow.not_your_step"
    if action in ("approve", "reject"):
        if m.status != "submitted":
            return "workflow.wrong_state"
        assert m.handler is not None
        if not ref_is(actor, m.handler):
            return "workflow.not_your_step"
        if action == "reject" and not comment.strip():
            return "workflow.comment_required"
        return ""
    if action == "cancel":
        if m.status not in IN_FLIGHT:
            return "workflow.wrong_state"
        return "" if ref_is(actor, sc.unit(0)) else "workflow.not_applicant"
    if action == "escalate":
        if m.status != "submitted":
            return "workflow.wrong_state"
        assert m.handler is not None and m.due is not None
        above = ref_supervisor(m.handler, sc.school_of(m.index))
        if above is None:
            return "workflow.no_supervisor"
        if not ref_is(actor, above):
            return "workflow.not_supervisor"
        return "" if today > m.due else "workflow.not_overdue"
    assert action == "purge"
    if m.status not in IN_FLIGHT:
        return "workflow.wrong_state"
    over = any(
        ref_is(actor, ref_unit(kind, school))
        for kind in ("county_bureau", "province_bureau")
        for school in sc.parties.values()
    )
    return "" if over else "workflow.purge_not_supervisor"


def next_model(sc: Scenario, m: Model, action: str, today: date) -> Model:
    if action in ("submit", "approve"):
        following = m.index + 1
        if following == len(sc.chain):
            return Model("effective", following, None, None)
        return Model("submitted", following, sc.unit(following), ref_due(today))
    if action == "escalate":
        assert m.handler is not None
        return Model("submitted", m.index, ref_supervisor(m.handler, sc.school_of(m.index)), None)
    final = {"reject": "rejected", "cancel": "cancelled", "purge": "purged"}[action]
    return Model(final, m.index, None, None)


# --- running the module ----------------------------------------------------------------------

Run = Callable[[RequestState, Actor, date], tuple[RequestState, list[Violation]]]
RUNS: dict[str, Run] = {
    "submit": lambda s, a, d: submit(s, a, today=d),
    "approve": lambda s, a, d: approve(s, a, today=d),
    "reject": lambda s, a, d: reject(s, a, "材料不全", today=d),
    "reject_blank": lambda s, a, d: reject(s, a, "  ", today=d),
    "cancel": lambda s, a, d: cancel(s, a, today=d),
    "escalate": lambda s, a, d: escalate(s, a, today=d),
    "purge": lambda s, a, d: purge(s, a, today=d),
}


def handler_of(state: RequestState) -> Unit | None:
    handler = state.handler
    return None if handler is None else (handler.unit_kind, handler.code)


def assert_matches(state: RequestState, m: Model) -> None:
    assert state.status == m.status
    assert state.current_step == m.index
    assert handler_of(state) == m.handler
    awaiting = state.awaiting_step
    if m.status in IN_FLIGHT:
        assert awaiting is not None
        if m.due is not None:
            assert awaiting.due == m.due
    else:
        assert awaiting is None


def actor(unit: Unit) -> Actor:
    return Actor(unit[0], unit[1])  # type: ignore[arg-type]


def reachable(sc: Scenario) -> list[tuple[str, RequestState, Model]]:
    """Every state worth checking, reached through the module's own transitions (each
    checked against the model on the way)."""
    states: list[tuple[str, RequestState, Model]] = []

    def add(label: str, state: RequestState, m: Model) -> None:
        assert_matches(state, m)
        states.append((label, state, m))

    draft = sc.new()
    add("draft", draft, Model("draft", 0, sc.unit(0), None))
    cancelled, v = cancel(draft, actor(sc.unit(0)), today=T0)
    assert v == []
    add("cancelled from draft", cancelled, Model("cancelled", 0, None, None))
    state, v = submit(draft, actor(sc.unit(0)), today=T0)
    assert v == []
    for index in range(1, len(sc.chain)):
        m = Model("submitted", index, sc.unit(index), ref_due(T0))
        add(f"step {index}", state, m)
        escalated, em = state, m
        for level, when in ((1, ESCALATED_ONCE), (2, ESCALATED_TWICE)):
            assert em.handler is not None
            above = ref_supervisor(em.handler, sc.school_of(index))
            if above is None:
                break
            escalated, v = escalate(escalated, actor(above), today=when)
            assert v == []
            em = Model("submitted", index, above, ref_due(when))
            add(f"step {index} escalated {level}x", escalated, em)
        if index == 1:
            rejected, v = reject(state, actor(sc.unit(1)), "不符合条件", today=T0)
            assert v == []
            add("rejected", rejected, Model("rejected", 1, None, None))
            purged, v = purge(state, actor(ref_unit("county_bureau", sc.school_of(0))), today=T0)
            assert v == []
            add("purged", purged, Model("purged", 1, None, None))
        state, v = approve(state, actor(sc.unit(index)), today=T0)
        assert v == []
    add("effective", state, Model("effective", len(sc.chain), None, None))
    return states


SCHOOL_CODES = [RECEIVING.code, OWN_SCHOOL.code, *(s.code for s in SENDING.values())]
SCHOOL_CODES.append("9999990009")  # a school in none of the requests
COUNTY_CODES = ["110105", "110108", "310104", "440305", "120101"]
PROVINCE_CODES = ["11", "31", "44", "12", "110000", "310000", "440000", "120000", "110100"]
KINDS = ("school_registrar", "school_leader", "county_bureau", "province_bureau")
ACTORS = [
    Actor(kind, code)  # type: ignore[arg-type]
    for kind in KINDS
    for code in [*SCHOOL_CODES, *COUNTY_CODES, *PROVINCE_CODES]
]


@pytest.mark.parametrize(("change_type", "scope"), CONFIGS)
def test_every_state_actor_and_action(change_type: str, scope: str) -> None:
    sc = scenario(change_type, scope)
    states = reachable(sc)
    expected_states = (
        2
        + 3
        + sum(  # draft, cancelled; rejected, purged, effective
            1
            + (2 if kind in ("school_leader", "school_registrar") else int(kind == "county_bureau"))
            for kind, _ in sc.chain[1:]
        )
    )
    assert len(states) == expected_states
    checked = allowed_count = 0
    for (_label, state, m), who in itertools.product(states, ACTORS):
        allowed_now: dict[date, set[str]] = {today: set() for today in TODAYS}
        for action, run in RUNS.items():
            name = "reject" if action == "reject_blank" else action
            comment = "  " if action == "reject_blank" else "材料不全"
            days = TODAYS if action == "escalate" else TODAYS[1:2]
            for today in days:
                refused = expect(sc, m, name, who, today, comment)
                result, violations = run(state, who, today)
                checked += 1
                if refused:
                    assert [v.code for v in violations] == [refused], (_label, who, action)
                    assert result is state
                    continue
                allowed_count += 1
                assert violations == [], (_label, who, action, violations)
                assert_matches(result, next_model(sc, m, name, today))
                if action != "reject_blank":
                    targets = TODAYS if action != "escalate" else (today,)
                    for day in targets:
                        allowed_now[day].add(name)
        for today in TODAYS:
            assert allowed_actions(state, who, today=today) == allowed_now[today], (_label, who)
    assert checked == len(states) * len(ACTORS) * (len(RUNS) - 1 + len(TODAYS))
    assert allowed_count > 0


def test_step_records() -> None:
    sc = scenario("35", "cross_province")
    state = sc.new()
    state, _ = submit(state, actor(sc.unit(0)), today=T0)
    state, _ = approve(state, actor(sc.unit(1)), today=T0, comment=" 同意 ")
    state, _ = escalate(state, Actor("province_bureau", "110000"), today=ESCALATED_ONCE)
    step = state.steps[2]
    assert step.status == "escalated" and step.unit == Actor("county_bureau", "110105")
    assert step.handler == Actor("province_bureau", "11")  # resolved to the 2-digit code
    assert step.escalations == (step.handler,)
    state, _ = reject(state, Actor("province_bureau", "11"), " 证明材料不全 ", today=ESCALATED_ONCE)
    assert state.status == "rejected" and state.finished == ESCALATED_ONCE
    assert state.steps[1].comment == "同意" and state.steps[1].status == "approved"
    assert state.steps[2].comment == "证明材料不全" and state.steps[2].status == "rejected"
    assert state.steps[2].acted_by == Actor("province_bureau", "11")
    assert [s.status for s in state.steps[3:]] == ["waiting"] * 4


def test_cancel_and_purge_close_the_awaited_step() -> None:
    sc = scenario("23", "single")
    state, _ = submit(sc.new(), actor(sc.unit(0)), today=T0)
    purged, _ = purge(state, Actor("province_bureau", "44"), today=ESCALATED_ONCE)
    assert [s.status for s in purged.steps] == ["approved", "cancelled", "waiting"]
    assert purged.steps[1].acted_by == Actor("province_bureau", "44")
    assert purged.finished == ESCALATED_ONCE and not purged.in_flight


def test_refusal_messages() -> None:
    sc = scenario("35", "cross_county")
    state, _ = submit(sc.new(), actor(sc.unit(0)), today=T0)
    _, [wrong_unit] = approve(state, Actor("school_leader", "1101080003"), today=T0)
    assert wrong_unit.message() == (
        "学籍异动申请：当前处理单位为学校学籍主管领导（1101050001），只有该单位可以办理"
    )
    _, [early] = escalate(state, Actor("county_bureau", "110105"), today=T0)
    assert early.message() == "学籍异动申请：办理期限至 2026-03-16，尚未超期，不能强制干预"
    _, [blank] = reject(state, Actor("school_leader", "1101050001"), "", today=T0)
    assert blank.message("en") == "Review comment: give the reason for rejecting the request"
    _, [draft_only] = submit(state, actor(sc.unit(0)), today=T0)
    assert draft_only.message() == "学籍异动申请：申请审核中，不能提交"
    assert "School" not in draft_only.message("en")


def test_same_school_transfer_is_refused() -> None:
    state, violations = new_request("35", today=T0, receiving=RECEIVING, sending=RECEIVING)
    assert state is None
    assert [(v.code, v.field) for v in violations] == [("workflow.same_school", "school")]


def test_parties_must_fit_the_type() -> None:
    with pytest.raises(ValueError):
        new_request("35", today=T0, school=OWN_SCHOOL)
    with pytest.raises(ValueError):
        new_request(
            "35", today=T0, receiving=RECEIVING, sending=SENDING["same_county"], school=OWN_SCHOOL
        )
    with pytest.raises(ValueError):
        new_request("23", today=T0, receiving=RECEIVING)
    with pytest.raises(ValueError):
        School(" ", "110105")


# --- random walks ----------------------------------------------------------------------------

ACTION_NAMES = ("submit", "approve", "reject", "reject_blank", "cancel", "escalate", "purge")


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(CONFIGS),
    st.lists(
        st.tuples(
            st.sampled_from(ACTION_NAMES),
            st.integers(min_value=0, max_value=len(ACTORS) - 1),
            st.integers(min_value=0, max_value=12),
            st.booleans(),
        ),
        max_size=40,
    ),
)
def test_random_walks_follow_the_model(
    config: tuple[str, str], moves: list[tuple[str, int, int, bool]]
) -> None:
    """Any sequence of actions, by anyone, on any day (time only moves forward): the module
    and the reference model agree after every move.  With ``aim`` the move is made by the
    unit the model says may act, so that walks get far."""
    sc = scenario(*config)
    state = sc.new()
    m = Model("draft", 0, sc.unit(0), None)
    today = T0
    for action, actor_index, days, aim in moves:
        today += timedelta(days=days)
        who = ACTORS[actor_index]
        if aim and m.handler is not None:
            if action == "escalate" and m.status == "submitted":
                above = ref_supervisor(m.handler, sc.school_of(m.index))
                who = actor(above) if above else who
            elif action in ("submit", "approve", "reject", "reject_blank"):
                who = actor(m.handler)
            elif action == "cancel":
                who = actor(sc.unit(0))
        name = "reject" if action == "reject_blank" else action
        comment = "  " if action == "reject_blank" else "材料不全"
        refused = expect(sc, m, name, who, today, comment)
        result, violations = RUNS[action](state, who, today)
        if refused:
            assert [v.code for v in violations] == [refused]
            assert result is state
            continue
        assert violations == []
        m = next_model(sc, m, name, today)
        if name == "escalate":
            m = Model(m.status, m.index, m.handler, ref_due(today))
        assert_matches(result, m)
        state = result
        # invariants: steps before the current one are done, those after it untouched
        for i, step in enumerate(state.steps):
            if i < state.current_step:
                assert step.status == "approved"
            elif i > state.current_step:
                assert step.status == "waiting" and step.handler is None
        assert sum(step.awaiting for step in state.steps) == int(state.status in IN_FLIGHT)
