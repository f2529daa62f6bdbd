"""综合素质评价 screens. The class page: students × five dimensions (A–D) and a comment per
student, saved at once, then publicized for the class from a start date; the per-student
page: 写实记录 (with an evidence file), the publicity state, objections and their decision,
and the report PDF. Views parse input and render; admin/services/evaluations.py decides."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..base_views import business_date, current_locale, current_scope
from ..domain import evaluation as rules
from ..domain.messages import RuleError, Violation
from ..extensions import db
from ..models import EvaluationRecord, SchoolClass, Student, Term
from ..notifications.views import send_notice_mail
from ..security.scope import row_in_scope
from ..services import evaluations as service
from ..services import notifications
from ..services.attendance import class_students, classes_for
from ..services.codes import code_choices
from ..services.status_changes import current_school_year
from ..uploads.service import commit_files, discard_new_blobs
from ..uploads.storage import FileStore
from ..uploads.validation import limits_from_config


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _flash(exc: RuleError) -> None:
    for violation in exc.violations:
        flash(violation.message(current_locale()), "danger")


def _settings() -> service.EvaluationSettings:
    return service.settings_from(current_app.config)


class EvaluationView(BaseView):
    route_base = "/evaluation"
    class_permission_name = "Evaluation"
    method_permission_name = {
        "index": "read",
        "save": "write",
        "publicize": "write",
        "finalize": "write",
        "student": "read",
        "add_record": "write",
        "delete_record": "write",
        "objection": "write",
        "decide": "write",
        "pdf": "read",
    }
    default_view = "index"

    # --- picking a class and a term ----------------------------------------------------------
    def _classes(self) -> list[SchoolClass]:
        year = current_school_year(db.session, business_date())
        return list(classes_for(db.session, current_scope(), year.id)) if year else []

    def _class(self, classes: list[SchoolClass]) -> SchoolClass | None:
        wanted = request.values.get("class", "")
        if wanted.isdigit():
            klass = db.session.get(SchoolClass, int(wanted))
            if klass is not None and service.may_view(db.session, current_scope(), klass):
                return klass
            return None
        return classes[0] if len(classes) == 1 else None

    def _term(self, klass: SchoolClass | None) -> Term | None:
        if klass is None:
            return None
        wanted = request.values.get("term", "")
        if wanted.isdigit():
            term = db.session.get(Term, int(wanted))
            return (
                term if term is not None and term.school_year_id == klass.school_year_id else None
            )
        return service.term_on(db.session, klass, business_date())

    def _back(self, klass: SchoolClass | None, term: Term | None) -> Any:
        args = {"class": klass.id} if klass else {}
        if term is not None:
            args["term"] = term.id
        return redirect(url_for("EvaluationView.index", **args))

    @expose("/")
    @has_access
    def index(self) -> Any:
        classes = self._classes()
        klass = self._class(classes)
        term = self._term(klass)
        today = business_date()
        students: list[Student] = []
        rows: dict[int, Any] = {}
        states: dict[int, rules.EvalState] = {}
        if klass is not None and term is not None:
            students = class_students(db.session, klass)
            rows = service.class_evaluations(db.session, klass, term)
            states = {s.id: service.effective_state(rows.get(s.id), today) for s in students}
        scope = current_scope()
        grades = {sid: {g.dimension: g.level for g in row.grades} for sid, row in rows.items()}
        return self.render_template(
            "xueji/evaluation.html",
            title=_l("Comprehensive quality evaluation"),
            classes=classes,
            klass=klass,
            term=term,
            terms=service.terms_of(db.session, klass) if klass else [],
            students=students,
            rows=rows,
            grades=grades,
            states=states,
            editable=service.EDITABLE,
            dimensions=service.DIMENSIONS,
            letters=[g.value for g in rules.EvalGrade],
            may_grade=klass is not None
            and service.may_grade(db.session, scope, klass, g.user.username),
            may_decide=klass is not None and service.may_decide(db.session, scope, klass.school_id),
            state_labels=service.STATE_LABELS,
            locale=current_locale(),
            today=today,
        )

    @expose("/save", methods=["POST"])
    @has_access
    def save(self) -> Any:
        klass = self._class(self._classes())
        term = self._term(klass)
        if klass is None or term is None:
            flash(_("Choose one of your classes and a term."), "danger")
            return self._back(klass, term)
        grades: dict[int, dict[str, str | None]] = {}
        comments: dict[int, str] = {}
        for key, value in request.form.items():
            parts = key.split("_", 2)
            if key.startswith("grade_") and len(parts) == 3 and parts[1].isdigit():
                grades.setdefault(int(parts[1]), {})[parts[2]] = value or None
            elif key.startswith("comment_") and key[8:].isdigit():
                comments[int(key[8:])] = value
        try:
            result = service.set_grades(
                db.session,
                current_scope(),
                klass,
                term,
                grades,
                comments=comments,
                username=g.user.username,
            )
            db.session.commit()
            flash(_("Evaluation saved: %(n)d students changed.", n=result.changed), "success")
        except RuleError as exc:
            db.session.rollback()
            _flash(exc)
        return self._back(klass, term)

    @expose("/publicize", methods=["POST"])
    @has_access
    def publicize(self) -> Any:
        klass = self._class(self._classes())
        term = self._term(klass)
        start = _day(request.form.get("start"))
        if klass is None or term is None:
            flash(_("Choose one of your classes and a term."), "danger")
            return self._back(klass, term)
        try:
            if start is None:
                raise RuleError([Violation("required", "publicity_start")])
            n = service.publicize(
                db.session,
                current_scope(),
                klass,
                term,
                start,
                today=business_date(),
                username=g.user.username,
                settings=_settings(),
            )
            notices = notifications.raise_evaluation_publicized(db.session, klass.id, term.id)
            db.session.commit()
            send_notice_mail(notices)
            flash(_("%(n)d evaluations are now under publicity.", n=n), "success")
        except RuleError as exc:
            db.session.rollback()
            _flash(exc)
        return self._back(klass, term)

    @expose("/finalize", methods=["POST"])
    @has_access
    def finalize(self) -> Any:
        klass = self._class(self._classes())
        term = self._term(klass)
        if klass is None or term is None:
            flash(_("Choose one of your classes and a term."), "danger")
            return self._back(klass, term)
        try:
            n = service.finalize_class(
                db.session,
                current_scope(),
                klass,
                term,
                today=business_date(),
                username=g.user.username,
            )
            db.session.commit()
            flash(_("%(n)d evaluations finalized.", n=n), "success")
        except RuleError as exc:
            db.session.rollback()
            _flash(exc)
        return self._back(klass, term)

    # --- one student -------------------------------------------------------------------------
    def _student_term(self, student_id: int, term_id: int) -> tuple[Student, Term]:
        """The student (in scope, else 404) and the term."""
        if not row_in_scope(db.session, current_scope(), Student, student_id):
            abort(404)
        student = db.session.get(Student, student_id)
        term = db.session.get(Term, term_id)
        if student is None or term is None:
            abort(404)
        return student, term

    def _student_page(self, student_id: int, term_id: int) -> Any:
        return redirect(url_for("EvaluationView.student", student_id=student_id, term_id=term_id))

    @expose("/<int:student_id>/<int:term_id>")
    @has_access
    def student(self, student_id: int, term_id: int) -> Any:
        student, term = self._student_term(student_id, term_id)
        today = business_date()
        report = service.student_report(db.session, student.id, term.id, today)
        scope = current_scope()
        username = g.user.username
        row = service.term_evaluation(db.session, student.id, term.id)
        klass = db.session.get(SchoolClass, report.class_id) if report.class_id else None
        actions = rules.allowed_actions(service.to_domain(row), today) if row else ()
        may_record = klass is not None and service.may_record(db.session, scope, klass)
        locked = row is not None and rules.EvalState(row.state) not in service.EDITABLE
        return self.render_template(
            "xueji/evaluation_student.html",
            title=_l("Comprehensive quality evaluation"),
            report=report,
            klass=klass,
            today=today,
            may_record=may_record and not locked,
            may_object=row is not None
            and rules.Action.OBJECT in actions
            and service.may_object(db.session, scope, row, username),
            may_decide=row is not None
            and rules.Action.UPHOLD in actions
            and service.may_decide(db.session, scope, row.school_id),
            kinds=service.KINDS,
            dimensions=service.DIMENSIONS,
            award_levels=code_choices("award_level", current_locale()),
            locale=current_locale(),
        )

    @expose("/<int:student_id>/<int:term_id>/record", methods=["POST"])
    @has_access
    def add_record(self, student_id: int, term_id: int) -> Any:
        student, term = self._student_term(student_id, term_id)
        upload = request.files.get("evidence")
        data = upload.read() if upload is not None and upload.filename else b""
        form = request.form
        try:
            service.add_record(
                db.session,
                current_scope(),
                student,
                term,
                dimension=form.get("dimension", ""),
                kind=form.get("kind", ""),
                title=form.get("title", ""),
                happened_on=_day(form.get("happened_on")),
                today=business_date(),
                username=g.user.username,
                hours=form.get("hours"),
                role=form.get("role", ""),
                award_level=form.get("award_level", ""),
                issuer=form.get("issuer", ""),
                description=form.get("description", ""),
                evidence=service.Evidence(upload.filename, data) if data and upload else None,
                store=FileStore.for_app() if data else None,
                limits=limits_from_config(),
            )
            commit_files(db.session)
            flash(_("Record added."), "success")
        except RuleError as exc:
            db.session.rollback()
            discard_new_blobs(db.session)
            _flash(exc)
        return self._student_page(student_id, term_id)

    @expose("/record/<int:record_id>/delete", methods=["POST"])
    @has_access
    def delete_record(self, record_id: int) -> Any:
        record = db.session.get(EvaluationRecord, record_id)
        if record is None:
            abort(404)
        student_id, term_id = record.student_id, record.term_id
        self._student_term(student_id, term_id)
        try:
            service.delete_record(db.session, current_scope(), record, username=g.user.username)
            db.session.commit()
            flash(_("Record removed."), "success")
        except RuleError as exc:
            db.session.rollback()
            _flash(exc)
        return self._student_page(student_id, term_id)

    def _row_or_flash(self, student_id: int, term_id: int) -> Any:
        row = service.term_evaluation(db.session, student_id, term_id)
        if row is None:
            flash(
                Violation("evaluation.no_evaluation", "evaluation").message(current_locale()),
                "danger",
            )
        return row

    @expose("/<int:student_id>/<int:term_id>/objection", methods=["POST"])
    @has_access
    def objection(self, student_id: int, term_id: int) -> Any:
        self._student_term(student_id, term_id)
        row = self._row_or_flash(student_id, term_id)
        if row is not None:
            try:
                service.raise_objection(
                    db.session,
                    current_scope(),
                    row,
                    request.form.get("reason", ""),
                    on=business_date(),
                    username=g.user.username,
                )
                db.session.commit()
                flash(_("Objection recorded."), "success")
            except RuleError as exc:
                db.session.rollback()
                _flash(exc)
        return self._student_page(student_id, term_id)

    @expose("/<int:student_id>/<int:term_id>/decide", methods=["POST"])
    @has_access
    def decide(self, student_id: int, term_id: int) -> Any:
        self._student_term(student_id, term_id)
        row = self._row_or_flash(student_id, term_id)
        if row is not None:
            uphold = request.form.get("outcome") == "uphold"
            try:
                service.decide_objection(
                    db.session,
                    current_scope(),
                    row,
                    uphold=uphold,
                    on=business_date(),
                    username=g.user.username,
                )
                db.session.commit()
                flash(
                    _("Objection upheld: revise the grades and publicize again.")
                    if uphold
                    else _("Objection dismissed."),
                    "success",
                )
            except RuleError as exc:
                db.session.rollback()
                _flash(exc)
        return self._student_page(student_id, term_id)

    @expose("/<int:student_id>/<int:term_id>/pdf")
    @has_access
    def pdf(self, student_id: int, term_id: int) -> Any:
        student, term = self._student_term(student_id, term_id)
        report = service.student_report(db.session, student.id, term.id, business_date())
        try:
            body = service.render_report_pdf(report)
        except RuleError as exc:
            _flash(exc)
            return self._student_page(student_id, term_id)
        return Response(
            body,
            mimetype="application/pdf",
            headers={
                "Content-Disposition": f"attachment; filename={service.download_name(report)}"
            },
        )
