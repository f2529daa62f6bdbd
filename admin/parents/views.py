"""家长端 (parent portal): mobile-friendly pages about the signed-in parent's own children —
timetable, attendance calendar, exam results beside the class average, the evaluation report,
printable PDFs and messages — and the school's screen that links parent accounts to
students (checked against a guardian's ID number).

Every portal route takes the child's id and answers 404 unless it is one of the parent's
linked children: another student's existence is never confirmed."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..base_views import business_date, current_locale, current_scope
from ..domain.messages import RuleError
from ..extensions import db
from ..models import ParentLink, Student
from ..security.scope import row_in_scope
from ..services import evaluations, exams, notifications, timetable
from ..services import parents as service
from ..services import report_card as report_cards
from ..services.codes import code_choices
from ..services.status_changes import settings_from_config


def _calendar() -> Any:
    return settings_from_config(current_app.config).workflow.calendar


def _child(sid: int) -> Student:
    child = service.child_or_none(db.session, current_scope(), sid)
    if child is None:
        abort(404)
    return child


class ParentPortalView(BaseView):
    route_base = "/parent"
    class_permission_name = "ParentPortal"
    method_permission_name = {
        "index": "read",
        "child": "read",
        "attendance": "read",
        "timetable": "read",
        "results": "read",
        "evaluation": "read",
        "evaluation_pdf": "read",
        "report_card": "read",
        "evaluation_object": "read",  # the parent's own right to object (异议)
    }
    default_view = "index"

    def _page(self, template: str, child: Student | None, tab: str, **kw: Any) -> Any:
        kids = service.children(db.session, current_scope())
        klass = service.current_class(db.session, child) if child is not None else None
        return self.render_template(
            template,
            title=_l("My child"),
            child=child,
            klass=klass,
            kids=kids,
            tab=tab,
            unread=notifications.unread_count(db.session, g.user.id),
            zh=current_locale().startswith("zh"),
            portal_tabs=[
                ("ParentPortalView.timetable", _("Timetable"), "timetable"),
                ("ParentPortalView.results", _("Results"), "results"),
                ("ParentPortalView.evaluation", _("Evaluation"), "evaluation"),
            ],
            **kw,
        )

    @expose("/")
    @has_access
    def index(self) -> Any:
        kids = service.children(db.session, current_scope())
        if len(kids) == 1:
            return redirect(url_for("ParentPortalView.child", sid=kids[0].id))
        return self._page("xueji/parent/index.html", None, "index")

    @expose("/<int:sid>")
    @has_access
    def child(self, sid: int) -> Any:
        child = _child(sid)
        today = business_date()
        month = service.attendance_month(
            db.session, child, today.year, today.month, today=today, calendar=_calendar()
        )
        rows = [
            notifications.render(db.session, n, current_locale())
            for n in notifications.inbox(db.session, g.user.id, limit=5)
        ]
        return self._page(
            "xueji/parent/child.html",
            child,
            "overview",
            month=month,
            messages=rows,
            statuses=dict(code_choices("student_status", current_locale())),
        )

    @expose("/attendance/<int:sid>")
    @has_access
    def attendance(self, sid: int) -> Any:
        child = _child(sid)
        today = business_date()
        year, month = today.year, today.month
        wanted = request.args.get("month", "")
        try:
            if wanted:
                year, month = (int(x) for x in wanted.split("-", 1))
                date(year, month, 1)
        except ValueError:
            year, month = today.year, today.month
        data = service.attendance_month(
            db.session, child, year, month, today=today, calendar=_calendar()
        )
        prev_m = (year, month - 1) if month > 1 else (year - 1, 12)
        next_m = (year, month + 1) if month < 12 else (year + 1, 1)
        return self._page(
            "xueji/parent/attendance.html",
            child,
            "attendance",
            month=data,
            prev_month=f"{prev_m[0]}-{prev_m[1]:02d}",
            next_month=f"{next_m[0]}-{next_m[1]:02d}",
            kinds=dict(code_choices("attendance_kind", current_locale())),
            percent=lambda v: "—" if v is None else f"{float(v) * 100:.1f}%",
        )

    @expose("/timetable/<int:sid>")
    @has_access
    def timetable(self, sid: int) -> Any:
        child = _child(sid)
        klass = service.current_class(db.session, child)
        term = service.current_term(db.session, klass, business_date())
        week = (
            timetable.class_week(
                db.session, klass.id, term.id, timetable.settings_from_config(current_app.config)
            )
            if klass is not None and term is not None
            else None
        )
        return self._page("xueji/parent/timetable.html", child, "timetable", week=week, term=term)

    @expose("/results/<int:sid>")
    @has_access
    def results(self, sid: int) -> Any:
        child = _child(sid)
        settings = exams.settings_from_config(current_app.config)
        rows = exams.student_results(
            db.session,
            child.id,
            visibility=settings.visibility,
            policy=settings.policy,
            mode=settings.rank_mode,
        )
        today = business_date()
        cards = [t for t in self._year_terms(child) if t.start_date <= today]
        return self._page(
            "xueji/parent/results.html", child, "results", exams=rows, card_terms=cards
        )

    def _year_terms(self, child: Student) -> list[Any]:
        """The terms of the school year of the child's current class."""
        klass = service.current_class(db.session, child)
        return evaluations.terms_of(db.session, klass) if klass is not None else []

    @expose("/reportcard/<int:sid>/<int:term_id>.pdf")
    @has_access
    def report_card(self, sid: int, term_id: int) -> Any:
        """学生成绩报告单 of one term of the child's school year, as a PDF."""
        child = _child(sid)
        if term_id not in {t.id for t in self._year_terms(child)}:
            abort(404)
        card = report_cards.term_report_card(
            db.session,
            child.id,
            term_id,
            today=business_date(),
            exam_settings=exams.settings_from_config(current_app.config),
            calendar=_calendar(),
        )
        return Response(
            report_cards.render_report_card_pdf(card),
            mimetype="application/pdf",
            headers={
                "Content-Disposition": f"inline; filename={report_cards.download_name(card)}",
                "Cache-Control": "private, no-store",
            },
        )

    def _terms(self, child: Student) -> list[Any]:
        from sqlalchemy import select

        from ..models import Term, TermEvaluation

        return list(
            db.session.scalars(
                select(Term)
                .join(TermEvaluation, TermEvaluation.term_id == Term.id)
                .where(TermEvaluation.student_id == child.id)
                .order_by(Term.start_date.desc())
            )
        )

    @expose("/evaluation/<int:sid>")
    @has_access
    def evaluation(self, sid: int) -> Any:
        child = _child(sid)
        terms = self._terms(child)
        wanted = request.args.get("term", "")
        term = next((t for t in terms if str(t.id) == wanted), terms[0] if terms else None)
        report = (
            evaluations.student_report(db.session, child.id, term.id, business_date())
            if term is not None
            else None
        )
        return self._page(
            "xueji/parent/evaluation.html",
            child,
            "evaluation",
            terms=terms,
            term=term,
            report=report,
        )

    @expose("/evaluation/<int:sid>/<int:term_id>/object", methods=["POST"])
    @has_access
    def evaluation_object(self, sid: int, term_id: int) -> Any:
        """异议 from the parent, inside the publicity period (the service checks the window)."""
        from sqlalchemy import select

        from ..models import TermEvaluation

        child = _child(sid)
        row = db.session.scalars(
            select(TermEvaluation).where(
                TermEvaluation.student_id == child.id, TermEvaluation.term_id == term_id
            )
        ).first()
        if row is None:
            abort(404)
        try:
            evaluations.raise_objection(
                db.session,
                current_scope(),
                row,
                request.form.get("reason", ""),
                on=business_date(),
                username=g.user.username,
            )
            db.session.commit()
            flash(_("Your objection was sent to the school."), "success")
        except RuleError as exc:
            db.session.rollback()
            for violation in exc.violations:
                flash(violation.message(current_locale()), "danger")
        return redirect(url_for("ParentPortalView.evaluation", sid=child.id, term=term_id))

    @expose("/evaluation/<int:sid>/<int:term_id>.pdf")
    @has_access
    def evaluation_pdf(self, sid: int, term_id: int) -> Any:
        child = _child(sid)
        if term_id not in {t.id for t in self._terms(child)}:
            abort(404)
        report = evaluations.student_report(db.session, child.id, term_id, business_date())
        pdf = evaluations.render_report_pdf(report)
        return Response(
            pdf,
            mimetype="application/pdf",
            headers={
                "Content-Disposition": f"inline; filename=evaluation-{term_id}.pdf",
                "Cache-Control": "private, no-store",
            },
        )


class ParentLinkView(BaseView):
    """学校为学生关联家长账号: on the student's page, for the school's registrar."""

    route_base = "/parentlink"
    class_permission_name = "ParentLink"
    method_permission_name = {"show": "read", "link": "write", "unlink": "write"}

    def _student(self, student_id: int) -> Student:
        scope = current_scope()
        student = db.session.get(Student, student_id)
        if student is None or not row_in_scope(db.session, scope, Student, student_id):
            abort(404)
        return student

    def _render(self, student: Student, form: Any = None, created: Any = None) -> Any:
        return self.render_template(
            "xueji/parent/links.html",
            title=_l("Parent accounts"),
            student=student,
            links=service.links_of(db.session, student.id),
            form=form or {},
            created=created,
        )

    @expose("/<int:student_id>")
    @has_access
    def show(self, student_id: int) -> Any:
        return self._render(self._student(student_id))

    @expose("/<int:student_id>/link", methods=["POST"])
    @has_access
    def link(self, student_id: int) -> Any:
        student = self._student(student_id)
        try:
            result = service.link_parent(
                db.session,
                current_scope(),
                student,
                username=request.form.get("username", ""),
                guardian_id_number=request.form.get("guardian_id_number", ""),
                email=request.form.get("email", ""),
                actor=g.user.username,
            )
            db.session.commit()
        except RuleError as exc:
            db.session.rollback()
            for violation in exc.violations:
                flash(violation.message(current_locale()), "danger")
            form = {k: v for k, v in request.form.items() if k != "guardian_id_number"}
            return self._render(student, form=form), 400
        flash(_("The parent account %(name)s is linked.", name=result.username), "success")
        return self._render(student, created=result if result.created else None)

    @expose("/<int:student_id>/unlink/<int:link_id>", methods=["POST"])
    @has_access
    def unlink(self, student_id: int, link_id: int) -> Any:
        student = self._student(student_id)
        link = db.session.get(ParentLink, link_id)
        if link is None or link.student_id != student.id:
            abort(404)
        try:
            service.unlink_parent(db.session, current_scope(), link)
            db.session.commit()
            flash(_("The parent account is no longer linked."), "success")
        except RuleError as exc:
            db.session.rollback()
            for violation in exc.violations:
                flash(violation.message(current_locale()), "danger")
        return redirect(url_for("ParentLinkView.show", student_id=student.id))
