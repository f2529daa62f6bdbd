"""毕业 screens: a school's graduating cohort with each student's eligibility and reasons, batch
filing with outcome and destination, and the bureau's approval list for senior high
(admin/services/graduation.py)."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..base_views import business_date, current_locale, current_scope, school_from_request
from ..domain.messages import RuleError
from ..extensions import db
from ..models import Graduation
from ..services import graduation as service
from ..services.codes import code_choices
from ..services.status_changes import current_school_year


class GraduationView(BaseView):
    route_base = "/graduation"
    class_permission_name = "Graduation"
    method_permission_name = {
        "index": "read",
        "file": "write",
        "pending": "read",
        "decide": "write",
    }
    default_view = "index"

    def _year(self) -> str:
        year = current_school_year(db.session, business_date())
        return request.values.get("year") or (year.code if year else "")

    @expose("/")
    @has_access
    def index(self) -> Any:
        locale = current_locale()
        school, year = school_from_request(), self._year()
        outcome = request.values.get("outcome") or "1"
        rows, errors = [], []
        if school is not None and year:
            try:
                rows = service.candidates(
                    db.session, current_scope(), school, year, on=business_date(), outcome=outcome
                )
            except RuleError as exc:
                errors = [v.message(locale) for v in exc.violations]
        return self.render_template(
            "xueji/graduation.html",
            title=_l("Graduation"),
            school=school,
            year=year,
            outcome=outcome,
            outcomes=code_choices("graduation_outcome", locale),
            destinations=code_choices("graduation_destination", locale),
            rows=rows,
            errors=errors,
            locale=locale,
        )

    @expose("/file", methods=["POST"])
    @has_access
    def file(self) -> Any:
        school, year = school_from_request(), self._year()
        outcome = request.form.get("outcome") or "1"
        back = url_for(
            "GraduationView.index", school=school.code if school else "", year=year, outcome=outcome
        )
        if school is None:
            flash(_("Choose a school in your scope."), "danger")
            return redirect(back)
        decisions = [
            service.Decision(int(pk), outcome, request.form.get(f"destination_{pk}") or None)
            for pk in request.form.getlist("student")
            if pk.isdigit()
        ]
        destinations = frozenset(code for code, _name in code_choices("graduation_destination"))
        try:
            made = service.file_graduations(
                db.session,
                current_scope(),
                school,
                year,
                decisions,
                on=business_date(),
                username=g.user.username,
                destinations=destinations,
            )
            db.session.commit()
        except RuleError as exc:
            db.session.rollback()
            for violation in exc.violations:
                number = violation.params.get("student_number")
                text = violation.message(current_locale())
                flash(f"{number}: {text}" if number else text, "danger")
            return redirect(back)
        waiting = sum(1 for m in made if m.state == "pending")
        flash(
            _(
                "%(n)d students filed; %(w)d wait for the bureau's approval.",
                n=len(made),
                w=waiting,
            ),
            "success",
        )
        return redirect(back)

    @expose("/pending")
    @has_access
    def pending(self) -> Any:
        return self.render_template(
            "xueji/graduation_pending.html",
            title=_l("Graduations awaiting approval"),
            rows=service.pending(db.session, current_scope()),
        )

    @expose("/decide", methods=["POST"])
    @has_access
    def decide(self) -> Any:
        ids = [int(pk) for pk in request.form.getlist("graduation") if pk.isdigit()]
        rows = list(db.session.scalars(select(Graduation).where(Graduation.id.in_(ids))))
        try:
            count = service.decide(
                db.session,
                current_scope(),
                rows,
                approve=request.form.get("action") == "approve",
                username=g.user.username,
                comment=request.form.get("comment", ""),
            )
            db.session.commit()
            flash(_("%(n)d graduations decided.", n=count), "success")
        except RuleError as exc:
            db.session.rollback()
            for violation in exc.violations:
                flash(violation.message(current_locale()), "danger")
        return redirect(url_for("GraduationView.pending"))
