"""学籍号核验 screen: a county or province bureau previews and runs the bureau check for its
region (admin/services/number_check.py); the CLI `xueji numbers confirm` does the same."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit.context import set_audit_reason
from ..base_views import business_date, current_scope
from ..extensions import db
from ..services.number_check import REASON, check_numbers

PROBLEMS = {
    "invalid_id": _l("ID number fails its check (mistyped or invented)"),
    "id_mismatch": _l("ID number contradicts the sex or birth date on the form"),
    "duplicate_id": _l("another student has the same ID number"),
    "possible_duplicate": _l("no ID, and another student has the same name, sex and birth date"),
}


class NumberCheckView(BaseView):
    route_base = "/numbers"
    class_permission_name = "NumberCheck"
    method_permission_name = {"index": "read", "confirm": "write"}
    default_view = "index"

    def _render(self, report: Any, done: bool) -> Any:
        problems = []
        for finding in report.findings:
            if finding.problem:
                problems.append(
                    {
                        "student_id": finding.student_id,
                        "number": finding.old_number,
                        "problem": PROBLEMS.get(finding.problem, finding.problem),
                    }
                )
        return self.render_template(
            "xueji/number_check.html",
            title=_l("Student number check"),
            report=report,
            problems=problems[:500],
            more=max(0, len(problems) - 500),
            done=done,
        )

    @expose("/")
    @has_access
    def index(self) -> Any:
        report = check_numbers(db.session, current_scope(), today=business_date(), dry_run=True)
        db.session.rollback()
        return self._render(report, done=False)

    @expose("/confirm", methods=["POST"])
    @has_access
    def confirm(self) -> Any:
        scope = current_scope()
        set_audit_reason(db.session, REASON)
        report = check_numbers(db.session, scope, today=business_date())
        db.session.commit()
        set_audit_reason(db.session, None)
        flash(
            _(
                "%(g)d G and %(j)d J numbers issued; %(p)d records stay temporary.",
                g=report.issued.get("G", 0),
                j=report.issued.get("J", 0),
                p=sum(report.problems.values()),
            ),
            "success",
        )
        return self._render(report, done=True)
