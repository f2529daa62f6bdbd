"""信息变更 screens: filing a key-field correction with proof from the student's page, the
request page with old → new values, proofs and the decision, the reviewer's to-do list, and
the contact-details staleness report."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..base_views import ActionOnlyModelView, business_date, current_locale, current_scope
from ..domain.messages import RuleError, field_label
from ..extensions import db
from ..lookups import RegistryInterface
from ..models import InfoChangeRequest, Student
from ..registry.views import CODE_COLUMNS
from ..security.scope import row_in_scope
from ..services import corrections as service
from ..services.codes import code_choices, code_name
from ..services.students import confirm_contact_details
from ..uploads.service import commit_files, discard_new_blobs

KINDS = {"key": _l("Key-field correction"), "info": _l("Reviewed edit")}
STATES = {
    "pending": _l("Awaiting review"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "cancelled": _l("Withdrawn"),
}


def _display(field: str, value: str, locale: str) -> str:
    if value and field in CODE_COLUMNS:
        return code_name(CODE_COLUMNS[field], value, locale) or value
    return value


class AwaitingMyReviewFilter(BaseFilter):
    name = "Awaiting my review"
    arg_name = "awaiting_review"

    def apply(self, query: Any, value: Any) -> Any:
        return query.filter(service.awaiting_criterion(current_scope()))


class InfoChangeView(ActionOnlyModelView):
    """Change requests of the students in the user's scope."""

    datamodel = RegistryInterface(InfoChangeRequest)
    class_permission_name = "InfoChange"
    route_base = "/infochange"
    list_title = _l("Record changes")
    show_title = add_title = edit_title = _l("Record change request")
    # Filed from the student's page and changed only by decisions (add/edit below).
    add_columns = edit_columns = ["comment"]
    list_columns = ["id", "student", "kind", "state", "school", "filed_by", "filed_at"]
    show_columns = [*list_columns, "reason", "decided_by", "decided_at", "comment"]
    search_columns = ["kind", "state", "school", "student"]
    label_columns = {
        "id": _l("No."),
        "student": _l("Student number"),
        "kind": _l("Kind"),
        "state": _l("State"),
        "school": _l("School"),
        "filed_by": _l("Filed by"),
        "filed_at": _l("Filed"),
        "reason": _l("Reason for the change"),
        "decided_by": _l("Decided by"),
        "decided_at": _l("Decided"),
        "comment": _l("Review comment"),
    }
    formatters_columns = {
        "kind": lambda v: KINDS.get(v, v),
        "state": lambda v: STATES.get(v, v),
        "filed_at": lambda v: v.strftime("%Y-%m-%d %H:%M") if v else "",
        "decided_at": lambda v: v.strftime("%Y-%m-%d %H:%M") if v else "",
    }
    base_order = ("id", "desc")
    show_template = "xueji/info_change_show.html"
    # A correction starts from the student's page (the student is chosen first).
    add_endpoint = "StudentView.list"
    method_permission_name = {
        **ActionOnlyModelView.method_permission_name,
        "apply": "write",
        "decide": "write",
        "cancel": "write",
    }

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk: Any) -> Any:
        item = self.item_or_404(pk)
        locale = current_locale()
        scope = current_scope()
        old, new = service.previous_of(item), service.changes_of(item)
        g.xueji_change = {
            "item": item,
            "kind": KINDS.get(item.kind, item.kind),
            "state": STATES.get(item.state, item.state),
            "rows": [
                (
                    field_label(f, locale),
                    _display(f, old.get(f, ""), locale),
                    _display(f, v, locale),
                )
                for f, v in new.items()
            ],
            "files": item.files,
            "may_decide": service.may_decide(db.session, scope, item),
            "may_cancel": item.state == "pending"
            and scope.role in service.FILING_ROLES
            and row_in_scope(db.session, scope, Student, item.student_id),
        }
        return super().show(pk)

    @expose("/decide/<int:pk>", methods=["POST"])
    @has_access
    def decide(self, pk: int) -> Any:
        item = self.item_or_404(pk)
        version = request.form.get("version", "")
        try:
            service.decide(
                db.session,
                current_scope(),
                item,
                approve=request.form.get("action") == "approve",
                comment=request.form.get("comment", ""),
                username=g.user.username,
                today=business_date(),
                expected_version=int(version) if version.isdigit() else None,
            )
            db.session.commit()
            flash(
                _("Approved; the record is changed.")
                if item.state == "approved"
                else _("Rejected."),
                "success",
            )
        except RuleError as exc:
            db.session.rollback()
            for violation in exc.violations:
                flash(violation.message(current_locale()), "danger")
        return redirect(url_for("InfoChangeView.show", pk=pk))

    @expose("/cancel/<int:pk>", methods=["POST"])
    @has_access
    def cancel(self, pk: int) -> Any:
        item = self.item_or_404(pk)
        try:
            service.cancel(db.session, current_scope(), item, username=g.user.username)
            db.session.commit()
            flash(_("The request was withdrawn."), "success")
        except RuleError as exc:
            db.session.rollback()
            for violation in exc.violations:
                flash(violation.message(current_locale()), "danger")
        return redirect(url_for("InfoChangeView.show", pk=pk))

    @expose("/apply/<int:student_id>", methods=["GET", "POST"])
    @has_access
    def apply(self, student_id: int) -> Any:
        """关键信息变更申请: the key fields with their current values, the reason and proof."""
        scope = current_scope()
        if not row_in_scope(db.session, scope, Student, student_id):
            abort(404)
        student = db.session.get(Student, student_id)
        locale = current_locale()
        values = {f: service._text(getattr(student, f)) for f in service.KEY_FIELDS}
        errors: dict[str, list[str]] = {}
        reason = ""
        if request.method == "POST":
            values = {f: (request.form.get(f) or "").strip() for f in service.KEY_FIELDS}
            reason = request.form.get("reason", "")
            proofs = [
                service.Proof(upload.filename or "", upload.read())
                for upload in request.files.getlist("proof")
                if upload and upload.filename
            ]
            try:
                made = service.file_key_correction(
                    db.session,
                    scope,
                    student,
                    values,
                    reason=reason,
                    proofs=proofs,
                    username=g.user.username,
                    today=business_date(),
                )
                commit_files(db.session)
                flash(_("Filed; the county bureau will review the correction."), "success")
                return redirect(url_for("InfoChangeView.show", pk=made.id))
            except RuleError as exc:
                db.session.rollback()
                discard_new_blobs(db.session)
                for violation in exc.violations:
                    errors.setdefault(violation.field, []).append(violation.message(locale))
        return self.render_template(
            "xueji/info_change_apply.html",
            title=_l("Key-field correction"),
            student=student,
            values=values,
            reason=reason,
            errors=errors,
            labels={
                f: field_label(f, locale)
                for f in (*service.KEY_FIELDS, "info_change_reason", "proof", "info_change")
            },
            sexes=code_choices("sex", locale),
            doc_types=code_choices("id_doc_type", locale),
        )


class InfoChangeTodoView(InfoChangeView):
    """待审核的信息变更: requests this user may decide."""

    route_base = "/infochange/todo"
    list_title = _l("Record changes awaiting my review")
    base_filters = [["id", AwaitingMyReviewFilter, None]]
    base_order = ("filed_at", "asc")


class StaleContactsView(BaseView):
    """联系方式核对: students in school whose contact details have not been confirmed with the
    family for XUEJI_CONTACT_STALE_MONTHS months; tick and confirm after checking."""

    route_base = "/contacts"
    class_permission_name = "Student"
    # The registrar's job: reading the list needs the right to edit students.
    method_permission_name = {"stale": "write", "confirm": "write"}
    default_view = "stale"
    page_size = 100

    @expose("/stale")
    @has_access
    def stale(self) -> Any:
        months = int(current_app.config["XUEJI_CONTACT_STALE_MONTHS"])
        page = max(
            0, int(request.args.get("page", "0")) if request.args.get("page", "0").isdigit() else 0
        )
        query = service.stale_contacts_query(current_scope(), business_date(), months)
        rows = db.session.scalars(
            query.offset(page * self.page_size).limit(self.page_size + 1)
        ).all()
        return self.render_template(
            "xueji/stale_contacts.html",
            title=_l("Contact details to confirm"),
            rows=rows[: self.page_size],
            more=len(rows) > self.page_size,
            page=page,
            months=months,
            today=business_date(),
        )

    @expose("/confirm", methods=["POST"])
    @has_access
    def confirm(self) -> Any:
        ids = [int(pk) for pk in request.form.getlist("student") if pk.isdigit()]
        scope = current_scope()
        rows = [
            db.session.get(Student, pk)
            for pk in ids
            if row_in_scope(db.session, scope, Student, pk)
        ]
        count = confirm_contact_details(db.session, [r for r in rows if r], g.user.username)
        db.session.commit()
        flash(_("Contact details confirmed for %(count)d students.", count=count), "success")
        return redirect(url_for("StaleContactsView.stale", page=request.form.get("page", "0")))
