"""学籍异动 screens: the request list (all in scope, awaiting me, overdue), a request's page
with its steps, files and the actions this user may take, and the application form.

    GET  /statuschange/list/                 requests in scope
    GET  /statuschange/todo/list/            待办: requests whose current handling unit is mine
    GET  /statuschange/overdue/list/         超期: requests past their step's deadline
    GET  /statuschange/show/<id>             steps, files, action buttons
    POST /statuschange/act/<id>              action, comment, version, proof files
    GET  /statuschange/apply?q=…&change_type=…   find the student, then the form
    POST /statuschange/apply                 file the request

Every decision is the service's (admin/services/status_changes.py); these views read forms
and render results."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from flask import current_app, flash, g, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..base_views import ActionOnlyModelView, business_date, current_locale, current_scope
from ..domain import workflow as wf
from ..domain.messages import RuleError, Violation
from ..extensions import db
from ..lookups import RegistryInterface
from ..models import SchoolClass, SchoolYear, StatusChangeRequest, Student
from ..security.scope import row_in_scope
from ..services import status_changes as service
from ..services.codes import code_choices, code_name
from ..uploads.service import commit_files, discard_new_blobs, store_student_file

log = logging.getLogger("xueji.status_changes")


def settings() -> service.Settings:
    return service.settings_from_config(current_app.config)


def _zh(locale: str) -> bool:
    return locale.startswith("zh")


def type_name(code: str | None) -> str:
    kind = wf.REQUEST_TYPES.get(code or "")
    if kind is None:
        return code or ""
    return kind.name_zh if _zh(current_locale()) else kind.name_en


def state_name(code: str | None) -> str:
    names = wf.REQUEST_STATUS_NAMES.get(code or "")
    if names is None:
        return code or ""
    return names[0] if _zh(current_locale()) else names[1]


def unit_name(kind: str | None) -> str:
    names = wf.UNIT_NAMES.get(kind or "")
    if names is None:
        return ""
    return names[0] if _zh(current_locale()) else names[1]


def _record_rows(item: StatusChangeRequest, scope: Any, locale: str) -> dict[str, Any] | None:
    """调档 of a progression: the record summary, once the student is in this user's scope."""
    if item.change_type != wf.PROGRESSION or not row_in_scope(
        db.session, scope, Student, item.student_id
    ):
        return None
    record = service.record_summary(db.session, item.student)
    return {
        "graduations": [
            {
                "school": g.school.name,
                "stage": g.stage,
                "outcome": code_name("graduation_outcome", g.outcome, locale),
                "graduated_on": g.graduated_on,
                "destination": code_name("graduation_destination", g.destination, locale),
            }
            for g in record["graduations"]
        ],
        "diplomas": record["diplomas"],
    }


class AwaitingMeFilter(BaseFilter):
    name = "Awaiting my decision"
    arg_name = "awaiting_me"

    def apply(self, query: Any, value: Any) -> Any:
        actors = service.actors_for(db.session, current_scope())
        return query.filter(service.awaiting_criterion(actors))


class OverdueFilter(BaseFilter):
    name = "Overdue"
    arg_name = "overdue"

    def apply(self, query: Any, value: Any) -> Any:
        return query.filter(service.overdue_criterion(business_date()))


LABELS = {
    "id": _l("No."),
    "student": _l("Student number"),
    "change_type": _l("Change type"),
    "reason_code": _l("Reason"),
    "state": _l("State"),
    "handler_kind": _l("Current handling unit"),
    "handler_code": _l("Unit code"),
    "due_date": _l("Due by"),
    "from_school": _l("School"),
    "to_school": _l("Receiving school"),
    "created_at": _l("Filed"),
    "created_by_username": _l("Filed by"),
    "effective_date": _l("Date of the change"),
    "remarks": _l("Remarks"),
}


class StatusChangeView(ActionOnlyModelView):
    """Requests in the user's scope (a transfer is in scope for both schools' sides)."""

    datamodel = RegistryInterface(StatusChangeRequest)
    class_permission_name = "StatusChange"
    route_base = "/statuschange"
    list_title = _l("Status changes")
    show_title = add_title = edit_title = _l("Status change request")
    list_columns = [
        "id",
        "student",
        "change_type",
        "state",
        "handler_kind",
        "handler_code",
        "due_date",
        "from_school",
        "to_school",
        "created_at",
    ]
    show_columns = list_columns
    search_columns = ["change_type", "state", "due_date", "from_school", "to_school"]
    label_columns = LABELS
    formatters_columns = {
        "change_type": type_name,
        "state": state_name,
        "handler_kind": unit_name,
        "created_at": lambda v: v.strftime("%Y-%m-%d %H:%M") if v else "",
    }
    base_order = ("id", "desc")
    show_template = "xueji/status_change_show.html"
    # Requests are filed through /apply and changed only by actions, never edited.
    add_columns = edit_columns = ["remarks"]
    add_endpoint = "StatusChangeView.apply"

    # --- the request page ------------------------------------------------------------------
    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk: Any) -> Any:
        item = self.item_or_404(pk)
        locale = current_locale()
        scope = current_scope()
        g.xueji_request = {
            "item": item,
            "type": type_name(item.change_type),
            "state": state_name(item.state),
            "reason": code_name("status_change_reason", item.reason_code, locale)
            if item.reason_code
            else "",
            "steps": service.step_rows(item, locale),
            "actions": service.allowed_actions(
                db.session, scope, item, business_date(), settings()
            ),
            "action_names": {a: wf.ACTION_NAMES[a][0 if _zh(locale) else 1] for a in wf.ACTIONS},
            "student_visible": row_in_scope(db.session, scope, Student, item.student_id),
            "record": _record_rows(item, scope, locale),
            "summary": service.masked_summary(item.student),
            "handler": unit_name(item.handler_kind),
            "act_url": url_for(f"{type(self).__name__}.act", pk=item.id),
        }
        return super().show(pk)

    @expose("/act/<int:pk>", methods=["POST"])
    @has_access
    def act(self, pk: int) -> Any:
        item = self.item_or_404(pk)
        action = request.form.get("action", "")
        version = request.form.get("version", "")
        user = g.user
        try:
            service.act(
                db.session,
                current_scope(),
                item,
                action,
                user_id=user.id,
                username=user.username,
                today=business_date(),
                comment=request.form.get("comment", ""),
                expected_version=int(version) if version.isdigit() else None,
                settings=settings(),
            )
            self._attach_proofs(item, item.current_step_seq or 0)
            commit_files(db.session)
        except RuleError as exc:
            db.session.rollback()
            discard_new_blobs(db.session)
            for violation in exc.violations:
                flash(violation.message(current_locale()), "danger")
            return redirect(url_for("StatusChangeView.show", pk=pk))
        done = {
            "approve": _("Approved."),
            "reject": _("Rejected."),
            "cancel": _("The request was cancelled."),
            "escalate": _("You have taken over this step; approve or reject it now."),
            "purge": _("The request was purged; the student is as before the request."),
        }[action]
        if item.state == "effective":
            done += " " + _("The change is now in effect.")
        flash(done, "success")
        # The full list's page: after acting, the request has usually left 待办 / 超期.
        return redirect(url_for("StatusChangeView.show", pk=pk))

    def _attach_proofs(self, item: StatusChangeRequest, step_seq: int) -> None:
        for upload in request.files.getlist("proof"):
            if not upload or not upload.filename:
                continue
            row = store_student_file(
                db.session,
                item.student,
                "proof",
                upload.filename,
                upload.read(),
                g.user.username,
                description=type_name(item.change_type),
            )
            row.request_id = item.id
            row.step_seq = step_seq

    # --- filing ----------------------------------------------------------------------------
    @expose("/apply", methods=["GET", "POST"])
    @has_access
    def apply(self) -> Any:
        scope = current_scope()
        locale = current_locale()
        source: Any = request.form if request.method == "POST" else request.args
        linked = source.get("student", "")
        if (
            not source.get("q")
            and linked.isdigit()
            and row_in_scope(db.session, scope, Student, int(linked))
        ):
            # From a message (a dropout warning): the student by id, never a number in a link.
            source = {**source.to_dict(), "q": db.session.get(Student, int(linked)).student_number}
        lookup = (source.get("q") or "").strip()
        change_type = source.get("change_type") or ""
        kind = wf.REQUEST_TYPES.get(change_type)
        national = kind is not None and kind.between_schools
        errors: dict[str, list[str]] = {}
        student = None
        if lookup and change_type:
            student = service.find_student(db.session, scope, lookup, for_transfer=national)
            if student is None:
                errors["q"] = [
                    _("No student with this student number or ID number in your scope.")
                    if not national
                    else _("No student with this student number or ID number.")
                ]
        if request.method == "POST" and student is not None:
            made = self._file(student, scope, errors)
            if made is not None:
                flash(_("The request was filed and sent to the next step."), "success")
                return redirect(url_for("StatusChangeView.show", pk=made.id))
        types = [
            (code, kind.name_zh if _zh(locale) else kind.name_en)
            for code, kind in sorted(wf.REQUEST_TYPES.items())
        ]
        classes = self._class_choices(student, scope, change_type)
        return self.render_template(
            "xueji/status_change_apply.html",
            title=_("Apply for a status change"),
            types=types,
            reasons=code_choices("status_change_reason", locale),
            classes=classes,
            student=student,
            summary=service.masked_summary(student) if student is not None else None,
            own_student=student is not None
            and row_in_scope(db.session, scope, Student, student.id),
            form=source,
            errors=errors,
            today=business_date().isoformat(),
            zh=_zh(locale),
            needs_class=bool(
                change_type in wf.REQUEST_TYPES
                and wf.REQUEST_TYPES[change_type].effect.changes_class
            ),
            max_mb="%.0f" % (current_app.config["XUEJI_UPLOAD_MAX_BYTES"] / 1048576),
        )

    def _class_choices(self, student: Student | None, scope: Any, change_type: str) -> list[Any]:
        if student is None:
            return []
        kind = wf.REQUEST_TYPES.get(change_type)
        between = kind is not None and kind.between_schools
        school_id = scope.school_id if between else student.current_school_id
        year = service.current_school_year(db.session, business_date())
        if school_id is None or year is None:
            return []
        years = select(SchoolYear.id).where(SchoolYear.start_date >= year.start_date)
        if change_type != wf.PROGRESSION:  # progression may enter next year's classes
            years = select(SchoolYear.id).where(SchoolYear.id == year.id)
        return list(
            db.session.scalars(
                select(SchoolClass)
                .where(SchoolClass.school_id == school_id, SchoolClass.school_year_id.in_(years))
                .order_by(SchoolClass.school_year_id, SchoolClass.grade_code, SchoolClass.number)
            )
        )

    def _file(self, student: Student, scope: Any, errors: dict[str, list[str]]) -> Any:
        form = request.form
        locale = current_locale()
        problems: list[Violation] = []

        def day(name: str) -> date | None:
            text = (form.get(name) or "").strip()
            if not text:
                return None
            try:
                return date.fromisoformat(text)
            except ValueError:
                problems.append(Violation("date.format", name, {"value": text}))
                return None

        class_id = form.get("to_class_id") or ""
        application = service.Application(
            change_type=form.get("change_type", ""),
            effective_date=day("effective_date"),
            end_date=day("end_date"),
            reason_code=form.get("reason_code") or None,
            remarks=form.get("remarks", ""),
            to_class_id=int(class_id) if class_id.isdigit() else None,
        )
        user = g.user
        try:
            try:
                made = service.file_request(
                    db.session,
                    scope,
                    student,
                    application,
                    user_id=user.id,
                    username=user.username,
                    today=business_date(),
                    settings=settings(),
                )
            except RuleError as exc:
                # Report the unreadable dates beside every other rule, once per field.
                unreadable = {p.field for p in problems}
                problems += [v for v in exc.violations if v.field not in unreadable]
            if problems:
                raise RuleError(problems)
            self._attach_proofs(made, 0)
            commit_files(db.session)
            return made
        except RuleError as exc:
            db.session.rollback()
            discard_new_blobs(db.session)
            for violation in exc.violations:
                errors.setdefault(violation.field, []).append(violation.message(locale))
            return None


class StatusChangeTodoView(StatusChangeView):
    """待办事项: the requests waiting for one of my units."""

    route_base = "/statuschange/todo"
    list_title = _l("Awaiting my decision")
    base_filters = [["id", AwaitingMeFilter, None]]
    base_order = ("due_date", "asc")


class StatusChangeOverdueView(StatusChangeView):
    """超期业务: requests whose current step is past its deadline (强制干预 candidates)."""

    route_base = "/statuschange/overdue"
    list_title = _l("Overdue requests")
    base_filters = [["id", OverdueFilter, None]]
    base_order = ("due_date", "asc")
