"""学籍异动 on the database: filing a request, acting on its steps, and applying it to the
student when it becomes effective — the state machine of admin/domain/workflow.py mapped onto
StatusChangeRequest / StatusChangeStep rows.  Screens, the REST API and the CLI call these
functions; they never commit (the caller does, once), so a refused action writes nothing.

Who acts: a user's scope makes them a handling unit (SchoolRegistrar → 学校学籍管理员 of their
school, SchoolLeader → 学校学籍主管领导, BureauOfficer with a 6-digit region → county bureau,
with a 2-digit region → province bureau).  Admin and prefecture-level officers see requests in
their scope but are no unit of any chain.

Two users acting on the same step at once: the request row carries a version (SQLAlchemy's
version_id_col), so the second UPDATE matches no row and is refused as "handled meanwhile".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, false, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..domain import workflow as wf
from ..domain.calendar import DEFAULT_FREEZES, FreezeWindow, check_freeze, parse_holiday_config
from ..domain.consistency import grade_by_code
from ..domain.messages import RuleError, Violation
from ..models import (
    Enrollment,
    Graduation,
    School,
    SchoolClass,
    SchoolYear,
    StatusChangeRequest,
    StatusChangeStep,
    Student,
)
from ..models.students import utcnow
from ..security.scope import Scope

FIELD_CLASS = "to_class"
FIELD_DATE = "effective_date"
FIELD_REASON = "status_change_reason"


@dataclass(frozen=True)
class Settings:
    """Provincial choices, from the app config (XUEJI_WORKFLOW_* settings)."""

    workflow: wf.WorkflowConfig = wf.DEFAULT_CONFIG
    chain: wf.ChainPolicy = wf.DEFAULT_CHAIN_POLICY
    preconditions: wf.PreconditionPolicy = wf.DEFAULT_PRECONDITION_POLICY
    freezes: tuple[FreezeWindow, ...] = DEFAULT_FREEZES


def settings_from_config(config: Mapping[str, Any]) -> Settings:
    """XUEJI_HOLIDAYS (the holiday list, one date, range or +working day per line),
    XUEJI_STEP_WORKING_DAYS, XUEJI_FREEZES=off, XUEJI_PROVINCE_STEP_WITHIN_PROVINCE,
    XUEJI_TRANSFER_SAME_GRADE_ONLY, XUEJI_TRANSFER_IN_GRADUATING_GRADE."""
    holidays = str(config.get("XUEJI_HOLIDAYS") or "")
    calendar, problems = parse_holiday_config(holidays)
    if problems or calendar is None:
        raise RuleError(problems)
    workflow = wf.WorkflowConfig(
        calendar=calendar, step_working_days=int(config.get("XUEJI_STEP_WORKING_DAYS", 10))
    )
    chain = wf.ChainPolicy(
        province_step_within_province=bool(config.get("XUEJI_PROVINCE_STEP_WITHIN_PROVINCE"))
    )
    preconditions = wf.PreconditionPolicy(
        transfer_same_grade_only=bool(config.get("XUEJI_TRANSFER_SAME_GRADE_ONLY")),
        transfer_in_graduating_grade=bool(config.get("XUEJI_TRANSFER_IN_GRADUATING_GRADE", True)),
    )
    freezes = () if config.get("XUEJI_FREEZES") == "off" else DEFAULT_FREEZES
    return Settings(workflow, chain, preconditions, freezes)


# --- units --------------------------------------------------------------------------------


def actors_for(session: Session, scope: Scope) -> list[wf.Actor]:
    """The handling units a user acts for (usually one; none for Admin and others)."""
    if scope.role in ("SchoolRegistrar", "SchoolLeader") and scope.school_id is not None:
        code = session.scalar(select(School.code).where(School.id == scope.school_id))
        if code is None:
            return []
        kind: wf.UnitKind = (
            "school_registrar" if scope.role == "SchoolRegistrar" else "school_leader"
        )
        return [wf.Actor(kind, code)]
    if scope.role == "BureauOfficer" and scope.kind == "region":
        prefix = scope.region_prefix or ""
        if len(prefix) == 6:
            return [wf.Actor("county_bureau", prefix)]
        if len(prefix) == 2:
            return [wf.Actor("province_bureau", prefix)]
    return []


def party(school: School) -> wf.School:
    return wf.School(school.code, school.region_code)


def _unit_columns(unit: wf.Actor) -> tuple[str, str]:
    """(kind, code) as stored for lists: schools by code, counties by 6 digits, provinces
    by 2."""
    if unit.unit_kind == "province_bureau":
        return unit.unit_kind, unit.code[:2]
    return unit.unit_kind, unit.code


# --- rows <-> domain state -----------------------------------------------------------------


def _actor_text(actors: Iterable[wf.Actor]) -> str | None:
    text = ",".join(f"{a.unit_kind}:{a.code}" for a in actors)
    return text or None


def _actors_from_text(text: str | None) -> tuple[wf.Actor, ...]:
    if not text:
        return ()
    out = []
    for item in text.split(","):
        kind, code = item.split(":", 1)
        out.append(wf.Actor(kind, code))  # type: ignore[arg-type]
    return tuple(out)


def _between_schools(change_type: str) -> bool:
    kind = wf.REQUEST_TYPES.get(change_type)
    return kind is not None and kind.between_schools


def _parties(request: StatusChangeRequest) -> dict[str, wf.School | None]:
    if _between_schools(request.change_type):
        return {
            "school": None,
            "receiving": party(request.to_school),
            "sending": party(request.from_school),
        }
    return {"school": party(request.from_school), "receiving": None, "sending": None}


def state_of(request: StatusChangeRequest) -> wf.RequestState:
    """The domain state of a stored request."""
    parties = _parties(request)
    sides = {"own": parties["school"], "receiving": parties["receiving"]}
    sides["sending"] = parties["sending"]
    steps = []
    for row in request.steps:
        school = sides[row.side]
        assert school is not None
        unit = wf.unit_for(row.unit_kind, school)
        escalations = _actors_from_text(row.escalated_to)
        awaiting = row.state in wf.AWAITING
        steps.append(
            wf.StepState(
                wf.Step(row.unit_kind, row.side),
                unit,
                status=row.state,
                handler=(escalations[-1] if escalations else unit) if awaiting else None,
                started=row.started_on,
                due=row.due_date,
                finished=row.acted_at.date() if row.acted_at else None,
                acted_by=_actors_from_text(row.acted_as)[0] if row.acted_as else None,
                comment=row.comment or "",
                escalations=escalations,
            )
        )
    return wf.RequestState(
        request.change_type,
        request.state,
        request.current_step_seq if request.current_step_seq is not None else 0,
        tuple(steps),
        school=parties["school"],
        receiving=parties["receiving"],
        sending=parties["sending"],
        scope=request.scope if _between_schools(request.change_type) else None,
        created=request.created_at.date() if request.created_at else None,
        finished=request.closed_at.date() if request.closed_at else None,
    )


def _store(
    session: Session,
    request: StatusChangeRequest,
    state: wf.RequestState,
    *,
    user_id: int | None,
    username: str,
    now: datetime | None = None,
) -> None:
    """Write ``state`` onto the request and its step rows (steps are created on first
    store). ``now`` stamps the rows (default: the clock; the demo seed replays past days)."""
    now = now or utcnow()
    if not request.steps:
        for seq, step in enumerate(state.steps):
            school = state.party(step.step.side)
            row = StatusChangeStep(seq=seq, unit_kind=step.step.unit_kind, side=step.step.side)
            if step.step.unit_kind in wf.SCHOOL_UNITS:
                row.school_id = _school_id(session, school.code)
            elif step.step.unit_kind == "county_bureau":
                row.region_code = school.county_code
            else:
                row.region_code = school.province_code + "0000"
            request.steps.append(row)
    for row, step in zip(request.steps, state.steps, strict=True):
        changed = row.state != step.status
        row.state = step.status
        row.started_on = step.started
        row.due_date = step.due
        row.escalated_to = _actor_text(step.escalations)
        if changed and step.status in ("approved", "rejected", "cancelled"):
            row.acted_by_user_id = user_id
            row.acted_by_username = username
            row.acted_at = now
            row.decision = step.status
            row.acted_as = _actor_text([step.acted_by]) if step.acted_by else None
            row.comment = step.comment or None
    request.state = state.status
    request.current_step_seq = state.current_step
    handler = state.handler
    if handler is not None:
        request.handler_kind, request.handler_code = _unit_columns(handler)
        awaiting = state.awaiting_step
        request.due_date = awaiting.due if awaiting else None
    else:
        request.handler_kind = request.handler_code = None
        request.due_date = None
    if state.status == "submitted" and request.submitted_at is None:
        request.submitted_at = now
    if state.status in wf.FINAL and request.closed_at is None:
        request.closed_at = now


def _school_id(session: Session, code: str) -> int:
    school_id = session.scalar(select(School.id).where(School.code == code))
    assert school_id is not None
    return school_id


# --- filing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Application:
    """What the applicant fills in (学籍异动申请)."""

    change_type: str
    effective_date: date | None
    reason_code: str | None = None
    end_date: date | None = None
    remarks: str = ""
    to_class_id: int | None = None  # the class after the change (transfer, 复学, 调班 …)


def current_school_year(session: Session, today: date) -> SchoolYear | None:
    return session.scalars(
        select(SchoolYear)
        .where(SchoolYear.start_date <= today, SchoolYear.end_date >= today)
        .order_by(SchoolYear.start_date.desc())
    ).first()


def active_enrollment(session: Session, student: Student) -> Enrollment | None:
    return session.scalars(
        select(Enrollment)
        .where(Enrollment.student_id == student.id, Enrollment.is_active.is_(True))
        .order_by(Enrollment.school_year_id.desc())
    ).first()


def has_in_flight_request(session: Session, student_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    StatusChangeRequest.student_id == student_id,
                    StatusChangeRequest.state.in_(tuple(wf.IN_FLIGHT)),
                )
            )
        )
    )


def has_problem_record(student: Student) -> bool:
    """问题学籍: a record still on a temporary L number has not passed the bureau check, so
    nothing may move it until it is confirmed (G or J)."""
    return student.student_number_kind == "L"


def _class_year_fits(
    session: Session, kind: wf.RequestType, to_class: SchoolClass, year: SchoolYear
) -> bool:
    """A class of the current school year; progression (filed in the summer) may also
    enter a class of a later year."""
    if to_class.school_year_id == year.id:
        return True
    if kind.code != wf.PROGRESSION:
        return False
    target_year = session.get(SchoolYear, to_class.school_year_id)
    return target_year is not None and target_year.start_date > year.start_date


def _check_class(
    session: Session,
    kind: wf.RequestType,
    student: Student,
    target_school: School,
    to_class: SchoolClass | None,
    today: date,
) -> list[Violation]:
    if not kind.effect.changes_class:
        return []
    if to_class is None:
        return [Violation("required", FIELD_CLASS)]
    year = current_school_year(session, today)
    if to_class.school_id != target_school.id or (
        year is not None and not _class_year_fits(session, kind, to_class, year)
    ):
        return [
            Violation(
                "workflow.class_elsewhere",
                FIELD_CLASS,
                {"class_name": to_class.name, "school": target_school.name},
            )
        ]
    same_grade = kind.code in (wf.CLASS_CHANGE, wf.RESUMPTION, wf.RETURN)
    if same_grade and to_class.grade_code != student.current_grade_code:
        grade = grade_by_code(student.current_grade_code or "")
        return [
            Violation(
                "workflow.class_grade",
                FIELD_CLASS,
                {
                    "class_name": to_class.name,
                    "grade_zh": grade.name_zh if grade else student.current_grade_code,
                    "grade_en": grade.name_en if grade else student.current_grade_code,
                },
            )
        ]
    if kind.code == wf.CLASS_CHANGE and to_class.id == student.current_class_id:
        return [Violation("workflow.same_class", FIELD_CLASS, {"class_name": to_class.name})]
    return []


def file_request(
    session: Session,
    scope: Scope,
    student: Student,
    application: Application,
    *,
    user_id: int | None,
    username: str,
    today: date,
    settings: Settings = Settings(),
    now: datetime | None = None,
) -> StatusChangeRequest:
    """学籍异动申请: check everything, create the request and submit it to the next step.
    Raises RuleError (nothing added to the session) when any rule refuses it."""
    kind = wf.REQUEST_TYPES.get(application.change_type)
    if kind is None:
        raise RuleError(
            [
                Violation(
                    "workflow.unsupported_type", wf.FIELD_TYPE, {"value": application.change_type}
                )
            ]
        )
    actors = actors_for(session, scope)
    to_class = (
        session.get(SchoolClass, application.to_class_id) if application.to_class_id else None
    )
    own_school = student.current_school
    problems: list[Violation] = []
    if own_school is None:
        problems.append(Violation("required", "school"))
        raise RuleError(problems)
    if kind.between_schools:
        receiving = session.get(School, scope.school_id) if scope.school_id else None
        if receiving is None:
            raise RuleError([Violation("workflow.no_unit", wf.FIELD_REQUEST)])
        target_school = receiving
    else:
        target_school = own_school
    if application.effective_date is None:
        problems.append(Violation("required", FIELD_DATE))
    if (
        application.end_date
        and application.effective_date
        and application.end_date < application.effective_date
    ):
        problems.append(Violation("workflow.end_before_start", "end_date", {}))
    if application.reason_code is not None and not application.reason_code.strip():
        application = replace(application, reason_code=None)
    grade = grade_by_code(student.current_grade_code or "")
    stage = grade.stage if grade else "primary"
    target_grade = None
    if kind.effect.changes_grade or kind.between_schools:
        target_grade = to_class.grade_code if to_class is not None else None
    problems += wf.check_preconditions(
        kind.code,
        student_status=student.current_status,
        stage=stage,
        has_in_flight_request=has_in_flight_request(session, student.id),
        has_problem_record=has_problem_record(student),
        grade_code=student.current_grade_code,
        target_grade_code=target_grade,
        primary_years=own_school.primary_years,
        policy=settings.preconditions,
    )
    # The summer freezes guard business before graduation and transfers; progression of a
    # graduate into the next stage is exactly the summer's business.
    if grade is not None and kind.code != wf.PROGRESSION:
        problems += check_freeze(
            today,
            kind.code,
            wf.is_graduating_grade(grade.code, own_school.primary_years),
            settings.freezes,
        )
    problems += _check_class(session, kind, student, target_school, to_class, today)
    if kind.between_schools:
        state, refused = wf.new_request(
            kind.code,
            today=today,
            receiving=party(target_school),
            sending=party(own_school),
            policy=settings.chain,
        )
    else:
        state, refused = wf.new_request(
            kind.code, today=today, school=party(own_school), policy=settings.chain
        )
    problems += refused
    if problems:
        raise RuleError(problems)
    assert state is not None
    applicant = next((a for a in actors if wf.same_unit(a, state.applicant)), None)
    if applicant is None:
        params = {
            "unit_kind": state.applicant.unit_kind,
            "unit_code": state.applicant.code,
            "unit_zh": wf.describe_unit(state.applicant)[0],
            "unit_en": wf.describe_unit(state.applicant)[1],
        }
        raise RuleError([Violation("workflow.not_applicant_unit", wf.FIELD_REQUEST, params)])
    submitted, refused = wf.submit(state, applicant, today=today, config=settings.workflow)
    if refused:
        raise RuleError(refused)
    request = StatusChangeRequest(
        student=student,
        change_type=kind.code,
        reason_code=application.reason_code,
        scope=submitted.scope or "single_school",
        from_school=own_school,
        to_school=target_school if kind.between_schools else None,
        from_class_id=student.current_class_id,
        from_grade_code=student.current_grade_code,
        to_class=to_class,
        to_grade_code=to_class.grade_code if to_class is not None else None,
        effective_date=application.effective_date,
        end_date=application.end_date,
        remarks=application.remarks.strip() or None,
        created_by_user_id=user_id,
        created_by_username=username,
        created_at=now or utcnow(),
    )
    session.add(request)
    _store(session, request, submitted, user_id=user_id, username=username, now=now)
    session.flush()
    return request


# --- acting ------------------------------------------------------------------------------------

ACTION_FUNCTIONS = ("approve", "reject", "cancel", "escalate", "purge")


def allowed_actions(
    session: Session,
    scope: Scope,
    request: StatusChangeRequest,
    today: date,
    settings: Settings = Settings(),
) -> list[str]:
    """The buttons this user sees on the request, in a stable order."""
    state = state_of(request)
    found: set[str] = set()
    for actor in actors_for(session, scope):
        found |= wf.allowed_actions(state, actor, today=today, config=settings.workflow)
    return [a for a in ACTION_FUNCTIONS if a in found]


def act(
    session: Session,
    scope: Scope,
    request: StatusChangeRequest,
    action: str,
    *,
    user_id: int | None,
    username: str,
    today: date,
    comment: str = "",
    expected_version: int | None = None,
    settings: Settings = Settings(),
    now: datetime | None = None,
) -> StatusChangeRequest:
    """Approve, reject, cancel, take over (强制干预) or purge; when the last step is approved
    the request becomes effective and is applied to the student in the same transaction.
    Raises RuleError when refused; the caller rolls back then."""
    if action not in ACTION_FUNCTIONS:
        raise RuleError(
            [Violation("workflow.unknown_action", wf.FIELD_REQUEST, {"action": action})]
        )
    if expected_version is not None and expected_version != request.version:
        raise RuleError([_handled_meanwhile(request)])
    state = state_of(request)
    actors = actors_for(session, scope)
    if not actors:
        raise RuleError([Violation("workflow.no_unit", wf.FIELD_REQUEST)])
    outcome: tuple[wf.RequestState, list[Violation]] | None = None
    for actor in actors:
        if action == "approve":
            outcome = wf.approve(
                state, actor, today=today, comment=comment, config=settings.workflow
            )
        elif action == "reject":
            outcome = wf.reject(state, actor, comment, today=today)
        elif action == "cancel":
            outcome = wf.cancel(state, actor, today=today)
        elif action == "escalate":
            outcome = wf.escalate(state, actor, today=today, config=settings.workflow)
        else:
            outcome = wf.purge(state, actor, today=today)
        if not outcome[1]:
            break
    assert outcome is not None
    new_state, refused = outcome
    if refused:
        raise RuleError(refused)
    _store(session, request, new_state, user_id=user_id, username=username, now=now)
    if new_state.status == "effective":
        apply_effect(session, request, today)
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        fresh = session.get(StatusChangeRequest, request.id)
        raise RuleError([_handled_meanwhile(fresh or request)]) from None
    return request


def _handled_meanwhile(request: StatusChangeRequest) -> Violation:
    last = max(
        (s for s in request.steps if s.acted_at is not None),
        key=lambda s: s.acted_at,
        default=None,
    )
    return Violation(
        "workflow.handled_meanwhile",
        wf.FIELD_REQUEST,
        {
            "who": (last.acted_by_username if last else None) or "—",
            "when": last.acted_at.strftime("%Y-%m-%d %H:%M") if last and last.acted_at else "—",
        },
    )


# --- the effect on the student -------------------------------------------------------------------


def _record_destination(session: Session, student: Student, destination: str) -> None:
    """The graduation this progression follows gets its 毕业去向 (升学 普通高中/初中) when the
    school left it blank."""
    grad = session.scalars(
        select(Graduation)
        .where(Graduation.student_id == student.id, Graduation.state == "approved")
        .order_by(Graduation.graduated_on.desc())
    ).first()
    if grad is not None and not grad.destination:
        grad.destination = destination


def apply_effect(session: Session, request: StatusChangeRequest, today: date) -> None:
    """An effective request changes the student, the enrollment and the class together."""
    kind = wf.request_type(request.change_type)
    effect = kind.effect
    student = request.student
    enrollment = active_enrollment(session, student)
    on = request.effective_date or today
    to_class = request.to_class
    if effect.ends_enrollment and enrollment is not None:
        enrollment.is_active = False
        enrollment.ended_on = on
        enrollment.end_reason = wf.TRANSFER_OUT if kind.is_transfer else kind.code
        session.flush()  # the active-enrollment unique index sees the old one closed first
    if effect.new_enrollment and kind.code == wf.PROGRESSION:
        # 调档: the same 学籍号 enters the next stage; the graduation year's enrollment
        # stays as the record of the stage completed.
        assert to_class is not None and request.to_school is not None
        entry = grade_by_code(to_class.grade_code)
        senior = entry is not None and entry.stage == "senior"
        session.add(
            Enrollment(
                student=student,
                school=request.to_school,
                school_year_id=to_class.school_year_id,
                class_id=to_class.id,
                grade_code=to_class.grade_code,
                stage_entry_ym=on.strftime("%Y%m"),
                entry_date=on,
                admission_method="21" if senior else "11",
                study_mode=enrollment.study_mode if enrollment else "1",
                student_source="1",
                is_active=True,
            )
        )
        student.current_school = request.to_school
        _record_destination(session, student, "15" if senior else "16")
    elif effect.new_enrollment:
        assert to_class is not None and request.to_school is not None
        template = enrollment
        session.add(
            Enrollment(
                student=student,
                school=request.to_school,
                school_year_id=to_class.school_year_id,
                class_id=to_class.id,
                grade_code=to_class.grade_code,
                stage_entry_ym=template.stage_entry_ym if template else on.strftime("%Y%m"),
                entry_date=on,
                admission_method=template.admission_method if template else "12",
                study_mode=template.study_mode if template else "1",
                student_source=template.student_source if template else "1",
                is_active=True,
            )
        )
        student.current_school = request.to_school
    elif effect.changes_class and to_class is not None:
        if enrollment is not None and enrollment.school_year_id == to_class.school_year_id:
            enrollment.class_id = to_class.id
            enrollment.grade_code = to_class.grade_code
        else:
            if enrollment is not None:
                enrollment.is_active = False
                enrollment.ended_on = on
                enrollment.end_reason = kind.code
                session.flush()
            session.add(
                Enrollment(
                    student=student,
                    school_id=to_class.school_id,
                    school_year_id=to_class.school_year_id,
                    class_id=to_class.id,
                    grade_code=to_class.grade_code,
                    stage_entry_ym=enrollment.stage_entry_ym if enrollment else on.strftime("%Y%m"),
                    entry_date=on,
                    admission_method=enrollment.admission_method if enrollment else "12",
                    study_mode=enrollment.study_mode if enrollment else "1",
                    student_source=enrollment.student_source if enrollment else "1",
                    is_active=True,
                )
            )
    if to_class is not None and effect.changes_class:
        student.current_class_id = to_class.id
        student.current_grade_code = to_class.grade_code
    elif effect.ends_enrollment:
        student.current_class_id = None
    student.current_status = effect.new_status


# --- lists ---------------------------------------------------------------------------------------


def awaiting_criterion(actors: Sequence[wf.Actor]) -> Any:
    """Requests whose current handling unit is one of ``actors`` (待办)."""
    if not actors:
        return false()
    return and_(
        StatusChangeRequest.state == "submitted",
        or_(
            *(
                and_(
                    StatusChangeRequest.handler_kind == kind,
                    StatusChangeRequest.handler_code == code,
                )
                for kind, code in (_unit_columns(a) for a in actors)
            )
        ),
    )


def overdue_criterion(today: date) -> Any:
    """Requests whose current step is past its due date (超期); combine with the scope."""
    return and_(
        StatusChangeRequest.state == "submitted",
        StatusChangeRequest.due_date < today,
    )


def step_rows(request: StatusChangeRequest, locale: str) -> list[dict[str, Any]]:
    """The steps as the request page shows them: name, unit, state, due, who, when, comment."""
    state = state_of(request)
    rows = []
    for row, step in zip(request.steps, state.steps, strict=True):
        zh, en = wf.describe_unit(step.handler or step.unit)
        rows.append(
            {
                "seq": row.seq + 1,
                "name": wf.step_name(step.step, locale),
                "unit": zh if locale.startswith("zh") else en,
                "state": row.state,
                "started": row.started_on,
                "due": row.due_date,
                "who": row.acted_by_username,
                "at": row.acted_at,
                "comment": row.comment,
                "escalated": bool(step.escalations),
            }
        )
    return rows


# --- finding the student ---------------------------------------------------------------------


def find_student(
    session: Session, scope: Scope, text: str, *, for_transfer: bool
) -> Student | None:
    """A student by 学籍号 or ID number.  A transfer is filed by the receiving school for a
    student of another school, so that search is national (the screen shows the match
    masked); every other request is for a student inside the user's own scope."""
    from ..domain.idcard import normalize_id_number
    from ..security.scope import criterion_for

    value = normalize_id_number(text or "").upper()
    if not value:
        return None
    if len(value) == 19 and value[0] in "GJL":
        where = Student.student_number == value
    else:
        where = Student.id_number == value
    query = select(Student).where(where)
    if not for_transfer:
        query = query.where(criterion_for(Student, scope))
    return session.scalars(query.limit(1)).first()


def record_summary(session: Session, student: Student) -> dict[str, Any]:
    """调档: what the receiving school gets with the record — the stages completed (school,
    outcome, date, destination) and the certificates. (The comprehensive quality evaluation
    summary joins this when teaching records store evaluations.)"""
    from ..models import Diploma

    graduations = session.scalars(
        select(Graduation)
        .where(Graduation.student_id == student.id, Graduation.state == "approved")
        .order_by(Graduation.graduated_on)
    ).all()
    diplomas = session.scalars(
        select(Diploma).where(Diploma.student_id == student.id).order_by(Diploma.id)
    ).all()
    return {
        "graduations": graduations,
        "diplomas": diplomas,
    }


def masked_summary(student: Student) -> dict[str, Any]:
    """What a receiving school sees of a student it does not hold yet."""
    from ..security.masking import mask_value

    grade = grade_by_code(student.current_grade_code or "")
    return {
        "student_number": student.student_number,
        "name": mask_value("name", student.name),
        "sex": student.sex,
        "birth_year": student.birth_date.year if student.birth_date else None,
        "school": student.current_school.name if student.current_school else "",
        "grade_zh": grade.name_zh if grade else "",
        "grade_en": grade.name_en if grade else "",
        "status": student.current_status,
    }
