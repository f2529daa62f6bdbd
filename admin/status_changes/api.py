"""REST API for status changes (JWT), the same service as the screens.

    GET  /api/v1/status_change/                 requests in scope (FAB list, filters, paging)
    GET  /api/v1/status_change/<id>             one request with its steps
    POST /api/v1/status_change/apply            {student, change_type, effective_date,
                                                 to_class_id?, reason_code?, end_date?,
                                                 remarks?} → 201
    POST /api/v1/status_change/<id>/act         {action, comment?, version} → 200

Refusals are 422 with every violation (field, code, message in the caller's language);
a request handled by someone else since it was read is 409."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import g, request
from flask_appbuilder.api import expose, protect, safe

from ..base_views import ScopedModelRestApi, business_date, current_scope
from ..domain import workflow as wf
from ..domain.messages import RuleError, Violation
from ..extensions import db
from ..lookups import RegistryInterface
from ..models import StatusChangeRequest
from ..services import status_changes as service
from .views import settings

LIST_COLUMNS = [
    "id",
    "student.student_number",
    "change_type",
    "reason_code",
    "state",
    "scope",
    "handler_kind",
    "handler_code",
    "due_date",
    "from_school.code",
    "to_school.code",
    "to_class.id",
    "effective_date",
    "created_at",
    "version",
]


class StatusChangeApi(ScopedModelRestApi):
    resource_name = "status_change"
    class_permission_name = "StatusChange"
    datamodel = RegistryInterface(StatusChangeRequest)
    include_route_methods = {"get", "get_list", "apply", "act"}
    list_columns = LIST_COLUMNS
    show_columns = [
        *LIST_COLUMNS,
        "end_date",
        "remarks",
        "steps.seq",
        "steps.unit_kind",
        "steps.side",
        "steps.state",
        "steps.due_date",
        "steps.acted_by_username",
        "steps.acted_at",
        "steps.comment",
    ]
    search_columns = ["change_type", "state", "due_date", "from_school", "to_school"]
    order_columns = ["id", "due_date", "created_at"]

    def _summary(self, item: StatusChangeRequest) -> dict[str, Any]:
        return {
            "id": item.id,
            "state": item.state,
            "handler_kind": item.handler_kind,
            "handler_code": item.handler_code,
            "due_date": item.due_date.isoformat() if item.due_date else None,
            "version": item.version,
        }

    def _violations(self, exc: RuleError) -> Any:
        db.session.rollback()
        status = 409 if any(v.code == "workflow.handled_meanwhile" for v in exc.violations) else 422
        return self._refuse(status, exc.violations)

    @expose("/apply", methods=["POST"])
    @protect()
    @safe
    def apply(self) -> Any:
        """File a status-change request.
        ---
        post:
          description: File a request for a student (transfers by the receiving school).
          responses:
            201: {description: Filed}
            422: {description: Refused; every broken rule with its field}
        """
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self._refuse(400, [Violation("required", wf.FIELD_REQUEST)])
        problems: list[Violation] = []

        def day(name: str) -> date | None:
            raw = body.get(name)
            if raw in (None, ""):
                return None
            try:
                return date.fromisoformat(str(raw))
            except ValueError:
                problems.append(Violation("date.format", name, {"value": raw}))
                return None

        change_type = str(body.get("change_type") or "")
        scope = current_scope()
        student = service.find_student(
            db.session,
            scope,
            str(body.get("student") or ""),
            for_transfer=change_type in wf.REQUEST_TYPES
            and wf.REQUEST_TYPES[change_type].between_schools,
        )
        if student is None:
            problems.append(Violation("workflow.student_not_found", "student_number", {}))
        to_class = body.get("to_class_id")
        if to_class not in (None, "") and not str(to_class).isdigit():
            problems.append(Violation("code.unknown", "to_class", {"value": to_class}))
        application = service.Application(
            change_type=change_type,
            effective_date=day("effective_date"),
            end_date=day("end_date"),
            reason_code=str(body["reason_code"]) if body.get("reason_code") else None,
            remarks=str(body.get("remarks") or ""),
            to_class_id=int(to_class) if str(to_class or "").isdigit() else None,
        )
        if problems:
            return self._refuse(422, problems)
        assert student is not None
        try:
            item = service.file_request(
                db.session,
                scope,
                student,
                application,
                user_id=g.user.id,
                username=g.user.username,
                today=business_date(),
                settings=settings(),
            )
            db.session.commit()
        except RuleError as exc:
            return self._violations(exc)
        return self.response(201, **self._summary(item))

    @expose("/<int:pk>/act", methods=["POST"])
    @protect()
    @safe
    def act(self, pk: int) -> Any:
        """Approve, reject, cancel, take over or purge a request.
        ---
        post:
          description: Act on the request's current step as one of your handling units.
          responses:
            200: {description: Done}
            409: {description: Handled by someone else meanwhile}
            422: {description: Refused, with the rule}
        """
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            return self.response_404()
        body = request.get_json(silent=True) or {}
        version = body.get("version")
        if version is None or not str(version).isdigit():
            return self._refuse(428, [Violation("version.required", "version", {})])
        try:
            service.act(
                db.session,
                current_scope(),
                item,
                str(body.get("action") or ""),
                user_id=g.user.id,
                username=g.user.username,
                today=business_date(),
                comment=str(body.get("comment") or ""),
                expected_version=int(version),
                settings=settings(),
            )
            db.session.commit()
        except RuleError as exc:
            return self._violations(exc)
        return self.response(200, **self._summary(item))
