"""升级 screen: a bureau (or Admin) previews the annual promotion per school for its region and
runs it (admin/services/promotion.py); `xueji promote` does the same from a terminal."""

from __future__ import annotations

from typing import Any

from flask import flash, g, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..base_views import business_date, current_locale, current_scope
from ..domain.messages import RuleError
from ..extensions import db
from ..models import SchoolYear
from ..services.promotion import preview, promote


class PromotionView(BaseView):
    route_base = "/promotion"
    class_permission_name = "Promotion"
    method_permission_name = {"index": "read", "run": "write"}
    default_view = "index"

    def _years(self) -> tuple[list[str], str, str]:
        years = [
            y.code for y in db.session.scalars(select(SchoolYear).order_by(SchoolYear.start_date))
        ]
        today = business_date()
        current = next(
            (
                y.code
                for y in db.session.scalars(select(SchoolYear).order_by(SchoolYear.start_date))
                if y.start_date <= today <= y.end_date
            ),
            years[-1] if years else "",
        )
        later = [y for y in years if y > current]
        return years, current, later[0] if later else ""

    def _page(
        self, from_year: str, to_year: str, report: Any, errors: list[str], done: bool
    ) -> Any:
        years, _, _ = self._years()
        return self.render_template(
            "xueji/promotion.html",
            title=_l("Annual promotion"),
            years=years,
            from_year=from_year,
            to_year=to_year,
            report=report,
            errors=errors,
            done=done,
        )

    @expose("/")
    @has_access
    def index(self) -> Any:
        _, current, following = self._years()
        from_year = request.args.get("from_year") or current
        to_year = request.args.get("to_year") or following
        report, errors = None, []
        if from_year and to_year:
            try:
                report = preview(db.session, current_scope(), from_year, to_year)
            except RuleError as exc:
                errors = [v.message(current_locale()) for v in exc.violations]
        return self._page(from_year, to_year, report, errors, done=False)

    @expose("/run", methods=["POST"])
    @has_access
    def run(self) -> Any:
        from_year = request.form.get("from_year", "")
        to_year = request.form.get("to_year", "")
        try:
            report = promote(
                db.session, current_scope(), from_year, to_year, username=g.user.username
            )
            db.session.commit()
        except RuleError as exc:
            db.session.rollback()
            return self._page(
                from_year,
                to_year,
                None,
                [v.message(current_locale()) for v in exc.violations],
                False,
            )
        flash(
            _(
                "%(n)d students moved up to %(year)s; %(c)d classes created.",
                n=report.promoted,
                year=to_year,
                c=report.classes_created,
            ),
            "success",
        )
        after = preview(db.session, current_scope(), from_year, to_year)
        return self._page(from_year, to_year, after, [], done=True)
