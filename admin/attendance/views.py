"""考勤 screens: a class teacher marks the day's exceptions on a grid where everyone starts
present (a few clicks for 50 students), and reads the class report — each student's
attendance rate and alerts (chronic absence, consecutive unexcused days, dropout warning)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..base_views import business_date, current_locale, current_scope
from ..domain.messages import RuleError
from ..extensions import db
from ..models import SchoolClass, Term
from ..notifications.views import send_notice_mail
from ..security.scope import criterion_for
from ..services import attendance as service
from ..services import notifications
from ..services.codes import code_choices
from ..services.status_changes import current_school_year, settings_from_config


def _calendar() -> Any:
    return settings_from_config(current_app.config).workflow.calendar


def _periods_per_day() -> int:
    return int(current_app.config.get("XUEJI_TIMETABLE_PERIODS", service.DEFAULT_PERIODS_PER_DAY))


def _period(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def _day(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


class AttendanceView(BaseView):
    route_base = "/attendance"
    class_permission_name = "Attendance"
    method_permission_name = {"index": "read", "save": "write", "report": "read"}
    default_view = "index"

    def _classes(self) -> list[SchoolClass]:
        year = current_school_year(db.session, business_date())
        return list(service.classes_for(db.session, current_scope(), year.id)) if year else []

    def _class(self, classes: list[SchoolClass]) -> SchoolClass | None:
        wanted = request.values.get("class", "")
        if wanted.isdigit():
            klass = db.session.get(SchoolClass, int(wanted))
            visible = db.session.query(SchoolClass.id).filter(
                SchoolClass.id == int(wanted), criterion_for(SchoolClass, current_scope())
            )
            return klass if klass is not None and visible.first() else None
        return classes[0] if len(classes) == 1 else None

    @expose("/")
    @has_access
    def index(self) -> Any:
        classes = self._classes()
        klass = self._class(classes)
        day = _day(request.args.get("date"), business_date())
        period = _period(request.args.get("period"))
        students, marks, whole, lessons = [], {}, {}, {}
        if klass is not None:
            students = service.class_students(db.session, klass)
            marks = service.day_marks(db.session, klass, day, period)
            whole = service.day_marks(db.session, klass, day)
            lessons = service.lesson_marks(db.session, klass, day)
        kinds = code_choices("attendance_kind", current_locale())
        return self.render_template(
            "xueji/attendance.html",
            title=_l("Attendance"),
            classes=classes,
            klass=klass,
            day=day,
            students=students,
            marks=marks,
            whole=whole,
            lessons=lessons,
            period=period,
            periods_per_day=_periods_per_day(),
            kinds=kinds,
            kind_names=dict(kinds),
            may_record=klass is not None and service.may_record(db.session, current_scope(), klass),
            school_day=klass is not None
            and bool(service.school_days(db.session, klass, day, day, _calendar())),
        )

    @expose("/save", methods=["POST"])
    @has_access
    def save(self) -> Any:
        klass = self._class(self._classes())
        day = _day(request.form.get("date"), business_date())
        period = _period(request.form.get("period"))
        if klass is None:
            flash(_("Choose one of your classes."), "danger")
            return redirect(url_for("AttendanceView.index"))
        marks: dict[int, str | None] = {}
        for key, value in request.form.items():
            if key.startswith("mark_") and key[5:].isdigit():
                marks[int(key[5:])] = value or None
        try:
            result = service.record_day(
                db.session,
                current_scope(),
                klass,
                day,
                marks,
                username=g.user.username,
                today=business_date(),
                calendar=_calendar(),
                reason=request.form.get("reason", ""),
                period=period,
                periods_per_day=_periods_per_day(),
            )
            notices = notifications.raise_attendance_alerts(db.session, klass, result.alerts)
            db.session.commit()
            send_notice_mail(notices)
            flash(
                _(
                    "Attendance of %(day)s saved: %(n)d marked, everyone else present.",
                    day=day.isoformat(),
                    n=result.marked,
                ),
                "success",
            )
            if notices:
                flash(
                    _(
                        "%(n)d attendance alert message(s) sent to the class teacher, the "
                        "school and the parents.",
                        n=len(notices),
                    ),
                    "warning",
                )
        except RuleError as exc:
            db.session.rollback()
            for violation in exc.violations:
                flash(violation.message(current_locale()), "danger")
        return redirect(
            url_for(
                "AttendanceView.index", **{"class": klass.id, "date": day, "period": period or ""}
            )
        )

    @expose("/report")
    @has_access
    def report(self) -> Any:
        classes = self._classes()
        klass = self._class(classes)
        today = business_date()
        term = (
            db.session.query(Term)
            .filter(
                Term.school_year_id == klass.school_year_id,
                Term.start_date <= today,
                Term.end_date >= today,
            )
            .first()
            if klass is not None
            else None
        )
        start = _day(request.args.get("from"), term.start_date if term else today)
        end = min(_day(request.args.get("to"), today), today)
        report = (
            service.class_report(db.session, klass, start, end, calendar=_calendar())
            if klass is not None
            else None
        )
        return self.render_template(
            "xueji/attendance_report.html",
            title=_l("Attendance report"),
            classes=classes,
            klass=klass,
            start=start,
            end=end,
            report=report,
            percent=service.percent,
            locale=current_locale(),
        )
