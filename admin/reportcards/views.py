"""学生成绩报告单 for school staff: one student's term report card as a PDF — the same card the
parent portal prints (admin/services/report_card.py). Reading it needs the Exam resource
(teachers, registrars, leaders); the student must be in the user's scope, else 404."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from ..base_views import business_date, current_scope
from ..extensions import db
from ..models import Student, Term
from ..security.scope import row_in_scope
from ..services import evaluations, exams
from ..services import report_card as service
from ..services.status_changes import settings_from_config


class ReportCardView(BaseView):
    route_base = "/reportcard"
    class_permission_name = "Exam"
    method_permission_name = {"student": "read"}

    @expose("/<int:student_id>/<int:term_id>.pdf")
    @has_access
    def student(self, student_id: int, term_id: int) -> Any:
        if not row_in_scope(db.session, current_scope(), Student, student_id):
            abort(404)
        term = db.session.get(Term, term_id)
        # Only a term of a school year the student had a class in.
        if term is None or evaluations.class_of(db.session, student_id, term) is None:
            abort(404)
        card = service.term_report_card(
            db.session,
            student_id,
            term_id,
            today=business_date(),
            exam_settings=exams.settings_from_config(current_app.config),
            calendar=settings_from_config(current_app.config).workflow.calendar,
        )
        return Response(
            service.render_report_card_pdf(card),
            mimetype="application/pdf",
            headers={
                "Content-Disposition": f"inline; filename={service.download_name(card)}",
                "Cache-Control": "private, no-store",
            },
        )
