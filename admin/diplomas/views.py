"""电子证书 screens: the list of certificates in scope, issuing certificates for a school's
approved graduates, the certificate page (PDF and signed-document downloads, revocation by the
bureau), and the public verification page /verify/<number>."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..base_views import (
    ActionOnlyModelView,
    business_date,
    current_locale,
    current_scope,
    school_from_request,
)
from ..domain.messages import RuleError
from ..extensions import db
from ..lookups import RegistryInterface
from ..models import Diploma, Graduation
from ..security.lockout import LockoutUnavailable, over_rate_limit
from ..security.scope import school_in_scope
from ..services import diplomas as service
from ..services.codes import code_name
from ..services.status_changes import current_school_year

STAGES = {"primary": _l("Primary school"), "junior": _l("Junior high"), "senior": _l("Senior high")}


def keyring() -> service.KeyRing:
    return service.KeyRing.from_config(current_app.config)


def base_url() -> str:
    return str(current_app.config.get("XUEJI_BASE_URL") or request.host_url)


def _flash_violations(exc: RuleError) -> None:
    for violation in exc.violations:
        number = violation.params.get("student_number")
        text = violation.message(current_locale())
        flash(f"{number}: {text}" if number else text, "danger")


class DiplomaView(ActionOnlyModelView):
    """Certificates of the user's scope: the issuing school's side and the student's side."""

    datamodel = RegistryInterface(Diploma)
    class_permission_name = "Diploma"
    route_base = "/diploma"
    list_title = _l("Electronic diplomas")
    show_title = add_title = edit_title = _l("Electronic diploma")
    # Never added or edited here (see add/edit below); FAB still builds forms from these.
    add_columns = edit_columns = ["revoke_reason"]
    list_columns = ["number", "student", "school", "stage", "year", "issued_at", "revoked_at"]
    show_columns = [*list_columns, "issued_by", "revoked_by", "revoke_reason", "key_id"]
    search_columns = ["number", "school", "year", "stage"]
    label_columns = {
        "number": _l("Diploma number"),
        "student": _l("Student number"),
        "school": _l("Issuing school"),
        "stage": _l("Stage"),
        "year": _l("Year"),
        "issued_at": _l("Issued"),
        "issued_by": _l("Issued by"),
        "revoked_at": _l("Revoked"),
        "revoked_by": _l("Revoked by"),
        "revoke_reason": _l("Reason for revocation"),
        "key_id": _l("Signing key"),
    }
    formatters_columns = {
        "stage": lambda v: STAGES.get(v, v),
        "issued_at": lambda v: v.strftime("%Y-%m-%d %H:%M") if v else "",
        "revoked_at": lambda v: v.strftime("%Y-%m-%d %H:%M") if v else "",
    }
    base_order = ("id", "desc")
    show_template = "xueji/diploma_show.html"
    # Issued from /issue and never edited: a correction is revoke + reissue.
    add_endpoint = "DiplomaView.issue"
    method_permission_name = {
        **ActionOnlyModelView.method_permission_name,
        "issue": "write",
        "pdf": "read",
        "document": "read",
        "revoke": "write",
    }

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk: Any) -> Any:
        item = self.item_or_404(pk)
        scope = current_scope()
        g.xueji_diploma = {
            "item": item,
            "check": service.check(db.session, item.number, keyring()),
            "url": service.verify_url(base_url(), item),
            "may_revoke": item.revoked_at is None
            and scope.role in service.REVOKING_ROLES
            and school_in_scope(db.session, scope, item.school_id),
            "outcome": code_name("graduation_outcome", item.graduation.outcome, current_locale()),
        }
        return super().show(pk)

    @expose("/pdf/<int:pk>")
    @has_access
    def pdf(self, pk: int) -> Any:
        item = self.item_or_404(pk)
        try:
            body = service.render_pdf(item, service.verify_url(base_url(), item))
        except RuleError as exc:
            _flash_violations(exc)
            return redirect(url_for("DiplomaView.show", pk=pk))
        return Response(
            body,
            mimetype="application/pdf",
            headers={"Content-Disposition": f"attachment; filename={service.download_name(item)}"},
        )

    @expose("/document/<int:pk>")
    @has_access
    def document(self, pk: int) -> Any:
        item = self.item_or_404(pk)
        return Response(
            service.document_json(item),
            mimetype="application/json",
            headers={"Content-Disposition": f"attachment; filename=diploma-{item.number}.json"},
        )

    @expose("/revoke/<int:pk>", methods=["POST"])
    @has_access
    def revoke(self, pk: int) -> Any:
        item = self.item_or_404(pk)
        try:
            service.revoke(
                db.session,
                current_scope(),
                item,
                reason=request.form.get("reason", ""),
                username=g.user.username,
            )
            db.session.commit()
            flash(_("Certificate %(number)s revoked.", number=item.number), "success")
        except RuleError as exc:
            db.session.rollback()
            _flash_violations(exc)
        return redirect(url_for("DiplomaView.show", pk=pk))

    # --- issuing -------------------------------------------------------------------------
    @expose("/issue", methods=["GET", "POST"])
    @has_access
    def issue(self) -> Any:
        school = school_from_request()
        year = request.values.get("year") or ""
        if not year:
            current = current_school_year(db.session, business_date())
            year = current.code if current else ""
        if request.method == "POST":
            if school is None:
                flash(_("Choose a school in your scope."), "danger")
                return redirect(url_for("DiplomaView.issue"))
            ids = [int(pk) for pk in request.form.getlist("graduation") if pk.isdigit()]
            rows = list(db.session.scalars(select(Graduation).where(Graduation.id.in_(ids))))
            try:
                made = service.issue(
                    db.session,
                    current_scope(),
                    rows,
                    keyring=keyring(),
                    username=g.user.username,
                    today=business_date(),
                )
                db.session.commit()
                flash(_("%(n)d certificates issued and signed.", n=len(made)), "success")
            except RuleError as exc:
                db.session.rollback()
                _flash_violations(exc)
            return redirect(url_for("DiplomaView.issue", school=school.code, year=year))
        rows, errors = [], []
        if school is not None and year:
            try:
                rows = service.issuable(db.session, current_scope(), school, year)
            except RuleError as exc:
                errors = [v.message(current_locale()) for v in exc.violations]
        return self.render_template(
            "xueji/diploma_issue.html",
            title=_l("Issue electronic diplomas"),
            school=school,
            year=year,
            rows=rows,
            errors=errors,
            stages=STAGES,
            locale=current_locale(),
        )


class VerifyView(BaseView):
    """The public check of a certificate number: no login; only the masked name, school,
    stage, year and whether the certificate stands; "not found" for anything unknown."""

    route_base = "/verify"
    default_view = "lookup"

    @expose("/", methods=["GET"])
    def lookup(self) -> Any:
        number = (request.args.get("number") or "").strip()
        if number:
            return redirect(url_for("VerifyView.number", number=number))
        return self._page(None, 200)

    @expose("/<string:number>", methods=["GET"])
    def number(self, number: str) -> Any:
        per_minute = int(current_app.config["XUEJI_VERIFY_PER_MINUTE"])
        try:
            limited = over_rate_limit("verify", per_minute)
        except LockoutUnavailable:
            limited = True
        if limited:
            return self._page(None, 429, limited=True)
        result = service.check(db.session, number, keyring(), request.args.get("s"))
        status = 404 if result.status == service.NOT_FOUND else 200
        return self._page(result, status)

    def _page(self, result: Any, status: int, limited: bool = False) -> Any:
        outcome = (
            code_name("graduation_outcome", result.outcome, current_locale())
            if result is not None and result.outcome
            else ""
        )
        body = self.render_template(
            "xueji/verify.html",
            title=_l("Verify a diploma"),
            result=result,
            stages=STAGES,
            outcome=outcome,
            limited=limited,
        )
        headers = {"Retry-After": "60"} if limited else {}
        # Answers must not be cached by shared proxies: revocation takes effect at once.
        headers["Cache-Control"] = "no-store"
        return Response(body, status=status, headers=headers)
