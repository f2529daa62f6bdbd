"""考试与成绩 screens: the school's exams (set one up: papers, lines, classes), an exam's page
(papers, classes, publish), the score grid of one class and paper — typed like a spreadsheet,
Enter moves down — the Excel import (template, dry run with the bad cells marked, commit),
results (ranks and subject statistics) and a class's analysis as a PDF. The rules and every
refusal are admin/services/exams.py; these views parse the form and render."""

from __future__ import annotations

import secrets
import time
from datetime import date
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ..base_views import business_date, current_locale, current_scope
from ..domain import ranking
from ..domain.catalogs.academics import SUBJECTS_BY_STAGE
from ..domain.consistency import grade_by_code
from ..domain.messages import RuleError
from ..extensions import db
from ..models import Exam, School, SchoolClass, Term
from ..notifications.views import send_notice_mail
from ..security.scope import criterion_for
from ..services import exams as service
from ..services import notifications
from ..services.importing import ImportRejected
from ..services.status_changes import current_school_year

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KEEP_SECONDS = 24 * 3600
PROBLEMS_SHOWN = 300
ALL_SUBJECTS = tuple(dict.fromkeys(s for stage in SUBJECTS_BY_STAGE.values() for s in stage))


def _settings() -> service.ExamSettings:
    return service.settings_from_config(current_app.config)


def _flash(exc: RuleError) -> list[str]:
    messages = [v.message(current_locale()) for v in exc.violations]
    for message in messages:
        flash(message, "danger")
    return messages


def _upload_folder() -> Path:
    folder = Path(current_app.config["XUEJI_DATA_DIR"]) / "imports" / str(g.user.id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _held(exam: Exam, token: str) -> tuple[Path, str, bytes]:
    """(path, file name, bytes) of a score file this user uploaded for this exam, or 404."""
    if not token.isascii() or not token.replace("-", "").replace("_", "").isalnum():
        abort(404)
    path = _upload_folder() / f"exam-{exam.id}-{token}.upload"
    meta = path.with_suffix(".meta")
    if not path.is_file() or not meta.is_file():
        abort(404)
    return path, meta.read_text(encoding="utf-8"), path.read_bytes()


class ExamView(BaseView):
    route_base = "/exam"
    class_permission_name = "Exam"
    method_permission_name = {
        "index": "read",
        "create": "write",
        "show": "read",
        "scores": "read",
        "save_scores": "write",
        "publish": "write",
        "import_page": "write",
        "import_template": "write",
        "import_check": "write",
        "import_errors": "write",
        "import_commit": "write",
        "results": "read",
        "class_pdf": "read",
    }
    default_view = "index"

    # --- helpers ---------------------------------------------------------------------------
    def _exam(self, exam_id: int) -> Exam:
        exam = service.exam_in_scope(db.session, current_scope(), exam_id)
        if exam is None:
            abort(404)
        return exam

    def _class(self, exam: Exam, class_id: str | None) -> SchoolClass | None:
        if not class_id or not class_id.isdigit():
            return None
        classes = {c.id: c for c in service.exam_classes(db.session, exam)}
        klass = classes.get(int(class_id))
        if klass is None:
            return None
        visible = db.session.scalar(
            select(SchoolClass.id).where(
                SchoolClass.id == klass.id, criterion_for(SchoolClass, current_scope())
            )
        )
        return klass if visible is not None else None

    def _terms(self) -> list[Term]:
        year = current_school_year(db.session, business_date())
        query = select(Term).order_by(Term.start_date.desc())
        if year is not None:
            query = query.where(Term.school_year_id == year.id)
        return list(db.session.scalars(query.limit(6)))

    def _schools(self) -> list[School]:
        return list(
            db.session.scalars(
                select(School)
                .where(criterion_for(School, current_scope()))
                .order_by(School.code)
                .limit(300)
            )
        )

    def _grades(self, school: School | None) -> list[tuple[str, str]]:
        year = current_school_year(db.session, business_date())
        if school is None or year is None:
            return []
        codes = db.session.scalars(
            select(SchoolClass.grade_code)
            .where(SchoolClass.school_id == school.id, SchoolClass.school_year_id == year.id)
            .distinct()
            .order_by(SchoolClass.grade_code)
        )
        zh = current_locale().startswith("zh")
        found = []
        for code in codes:
            grade = grade_by_code(code)
            if grade is not None:
                found.append((code, grade.name_zh if zh else grade.name_en))
        return found

    def _list(self, form: Any = None, status: int = 200) -> Any:
        scope = current_scope()
        terms = self._terms()
        term_id = request.args.get("term", "")
        exams = service.exams_for(
            db.session, scope, term_id=int(term_id) if term_id.isdigit() else None
        )
        schools = self._schools() if scope.role in service.SETUP_ROLES else []
        school = next((s for s in schools if s.id == scope.school_id), None) or (
            schools[0] if len(schools) == 1 else None
        )
        locale = current_locale()
        return (
            self.render_template(
                "xueji/exam_list.html",
                title=_l("Exams"),
                exams=exams,
                terms=terms,
                term_id=term_id,
                may_create=bool(schools),
                schools=schools,
                school=school,
                grades=self._grades(school),
                kinds=list(service.code_names(db.session, "exam_kind").items()),
                subjects=service.code_names(db.session, "subject"),
                all_subjects=ALL_SUBJECTS,
                form=form if form is not None else MultiDict(),
                locale=locale,
                zh=locale.startswith("zh"),
                today=business_date(),
            ),
            status,
        )

    # --- list and create -------------------------------------------------------------------
    @expose("/")
    @has_access
    def index(self) -> Any:
        return self._list()

    @expose("/create", methods=["POST"])
    @has_access
    def create(self) -> Any:
        form = request.form
        scope = current_scope()
        school_id = form.get("school", "")
        school = db.session.get(School, int(school_id)) if school_id.isdigit() else None
        term_id = form.get("term", "")
        term = db.session.get(Term, int(term_id)) if term_id.isdigit() else None
        try:
            day = date.fromisoformat(form.get("exam_date", ""))
        except ValueError:
            day = None
        if school is None or term is None or day is None:
            flash(_("Choose the school and the term, and give the exam date."), "danger")
            return self._list(form, 400)
        papers = [
            service.Paper(
                code,
                form.get(f"full_{code}", ""),
                form.get(f"pass_{code}") or None,
                form.get(f"excellent_{code}") or None,
            )
            for code in form.getlist("subject")
        ]
        try:
            exam = service.create_exam(
                db.session,
                scope,
                school=school,
                term=term,
                grade_code=form.get("grade", ""),
                name=form.get("name", ""),
                kind=form.get("kind", ""),
                exam_date=day,
                subjects=papers,
                username=g.user.username,
            )
            db.session.commit()
        except RuleError as exc:
            db.session.rollback()
            _flash(exc)
            return self._list(form, 400)
        flash(_("Exam %(name)s set up.", name=exam.name), "success")
        return redirect(url_for("ExamView.show", exam_id=exam.id))

    # --- one exam --------------------------------------------------------------------------
    @expose("/<int:exam_id>")
    @has_access
    def show(self, exam_id: int) -> Any:
        exam = self._exam(exam_id)
        scope = current_scope()
        classes = service.exam_classes(db.session, exam)
        visible = set(
            db.session.scalars(
                select(SchoolClass.id).where(
                    SchoolClass.id.in_([c.id for c in classes]),
                    criterion_for(SchoolClass, scope),
                )
            )
        )
        entry = {
            (c.id, p.subject_code): service.may_enter(
                db.session, scope, exam, c, p.subject_code, g.user.username
            )
            for c in classes
            for p in exam.subjects
        }
        return self.render_template(
            "xueji/exam_show.html",
            title=exam.name,
            exam=exam,
            classes=[c for c in classes if c.id in visible],
            entry=entry,
            may_manage=service.may_manage(db.session, scope, exam),
            missing=service.missing_cells(db.session, exam),
            subjects=service.code_names(db.session, "subject"),
            kinds=service.code_names(db.session, "exam_kind"),
            plain=ranking._plain,
            zh=current_locale().startswith("zh"),
        )

    @expose("/<int:exam_id>/publish", methods=["POST"])
    @has_access
    def publish(self, exam_id: int) -> Any:
        exam = self._exam(exam_id)
        try:
            done = service.publish(db.session, current_scope(), exam, g.user.username)
            notices = notifications.raise_results_published(db.session, exam)
            db.session.commit()
        except RuleError as exc:
            db.session.rollback()
            _flash(exc)
            return redirect(url_for("ExamView.show", exam_id=exam_id))
        send_notice_mail(notices)
        if done.missing:
            flash(
                _(
                    "Results published; %(n)d scores are still missing (left out of the "
                    "statistics).",
                    n=done.missing,
                ),
                "warning",
            )
        else:
            flash(_("Results published."), "success")
        return redirect(url_for("ExamView.show", exam_id=exam_id))

    # --- the grid --------------------------------------------------------------------------
    def _grid_page(
        self,
        exam: Exam,
        klass: SchoolClass,
        subject: str,
        typed: dict[int, str] | None = None,
        refused: service.ScoresRefused | None = None,
        status: int = 200,
    ) -> Any:
        rows = service.grid(db.session, exam, klass, subject)
        paper = service.paper_of(exam, subject)
        locale = current_locale()
        bad_cells = (
            {sid: [v.message(locale) for v in vs] for sid, vs in refused.cells.items()}
            if refused
            else {}
        )
        return (
            self.render_template(
                "xueji/exam_scores.html",
                title=_l("Score entry"),
                exam=exam,
                klass=klass,
                subject=subject,
                subject_label=service.subject_name(
                    service.code_names(db.session, "subject"), subject, locale
                ),
                paper=paper,
                rows=rows,
                typed=typed or {},
                refusals=[v.message(locale) for v in refused.violations] if refused else [],
                bad_cells=bad_cells,
                may_enter=service.may_enter(
                    db.session, current_scope(), exam, klass, subject, g.user.username
                ),
                plain=ranking._plain,
                reason=request.form.get("reason", ""),
            ),
            status,
        )

    @expose("/<int:exam_id>/scores")
    @has_access
    def scores(self, exam_id: int) -> Any:
        exam = self._exam(exam_id)
        klass = self._class(exam, request.args.get("class"))
        subject = request.args.get("subject", "")
        if klass is None or service.paper_of(exam, subject) is None:
            abort(404)
        return self._grid_page(exam, klass, subject)

    @expose("/<int:exam_id>/scores", methods=["POST"])
    @has_access
    def save_scores(self, exam_id: int) -> Any:
        exam = self._exam(exam_id)
        klass = self._class(exam, request.form.get("class"))
        subject = request.form.get("subject", "")
        if klass is None or service.paper_of(exam, subject) is None:
            abort(404)
        typed: dict[int, str] = {}
        for key, value in request.form.items():
            if key.startswith("score_") and key[6:].isdigit():
                typed[int(key[6:])] = value
        try:
            done = service.save_scores(
                db.session,
                current_scope(),
                exam,
                klass,
                subject,
                typed,
                g.user.username,
                reason=request.form.get("reason") or None,
            )
            db.session.commit()
        except service.ScoresRefused as exc:
            db.session.rollback()
            # The page again with what was typed, each bad cell marked: nothing is lost.
            return self._grid_page(exam, klass, subject, typed, exc, 400)
        flash(
            _(
                "Scores saved: %(saved)d entered or changed, %(deleted)d cleared.",
                saved=done.saved,
                deleted=done.deleted,
            ),
            "success",
        )
        return redirect(
            url_for("ExamView.scores", exam_id=exam.id, **{"class": klass.id, "subject": subject})
        )

    # --- import ----------------------------------------------------------------------------
    def _import_page(
        self, exam: Exam, report: Any = None, token: str = "", status: int = 200
    ) -> Any:
        return (
            self.render_template(
                "xueji/exam_import.html",
                title=_l("Import scores"),
                exam=exam,
                report=report,
                lines=report.lines(PROBLEMS_SHOWN) if report is not None else [],
                token=token,
            ),
            status,
        )

    @expose("/<int:exam_id>/import")
    @has_access
    def import_page(self, exam_id: int) -> Any:
        return self._import_page(self._exam(exam_id))

    @expose("/<int:exam_id>/import/template")
    @has_access
    def import_template(self, exam_id: int) -> Any:
        exam = self._exam(exam_id)
        return Response(
            service.template_workbook(db.session, exam),
            mimetype=XLSX,
            headers={"Content-Disposition": f"attachment; filename=exam-{exam.id}-scores.xlsx"},
        )

    @expose("/<int:exam_id>/import", methods=["POST"])
    @has_access
    def import_check(self, exam_id: int) -> Any:
        exam = self._exam(exam_id)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Choose the file to import."), "danger")
            return redirect(url_for("ExamView.import_page", exam_id=exam.id))
        data = upload.read()
        filename = Path(upload.filename).name[:200]
        done = service.import_scores(
            db.session,
            current_scope(),
            exam,
            data,
            dry_run=True,
            username=g.user.username,
            reason=request.form.get("reason") or None,
            filename=filename,
            locale=current_locale(),
        )
        db.session.rollback()  # a dry run writes nothing
        folder = _upload_folder()
        cutoff = time.time() - KEEP_SECONDS
        for old in folder.glob("exam-*.upload"):
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
                old.with_suffix(".meta").unlink(missing_ok=True)
        token = secrets.token_urlsafe(18)
        path = folder / f"exam-{exam.id}-{token}.upload"
        path.write_bytes(data)
        path.with_suffix(".meta").write_text(filename, encoding="utf-8")
        return self._import_page(exam, done.report, token)

    @expose("/<int:exam_id>/import/errors/<token>")
    @has_access
    def import_errors(self, exam_id: int, token: str) -> Any:
        exam = self._exam(exam_id)
        _path, filename, data = _held(exam, token)
        done = service.import_scores(
            db.session,
            current_scope(),
            exam,
            data,
            dry_run=True,
            username=g.user.username,
            filename=filename,
            locale=current_locale(),
        )
        db.session.rollback()
        return Response(
            service.error_workbook(done.report, data),
            mimetype=XLSX,
            headers={"Content-Disposition": f"attachment; filename=exam-{exam.id}-errors.xlsx"},
        )

    @expose("/<int:exam_id>/import/commit/<token>", methods=["POST"])
    @has_access
    def import_commit(self, exam_id: int, token: str) -> Any:
        exam = self._exam(exam_id)
        path, filename, data = _held(exam, token)
        try:
            done = service.import_scores(
                db.session,
                current_scope(),
                exam,
                data,
                dry_run=False,
                username=g.user.username,
                reason=request.form.get("reason") or None,
                filename=filename,
                locale=current_locale(),
            )
            db.session.commit()
        except ImportRejected as exc:
            db.session.rollback()
            flash(
                _(
                    "Nothing was imported: the file has %(n)d problems (check it again).",
                    n=len(exc.report.problems),
                ),
                "danger",
            )
            return redirect(url_for("ExamView.import_page", exam_id=exam.id))
        path.unlink(missing_ok=True)
        path.with_suffix(".meta").unlink(missing_ok=True)
        flash(
            _(
                "Scores imported from %(file)s: %(saved)d entered or changed, %(deleted)d cleared.",
                file=filename,
                saved=done.saved,
                deleted=done.deleted,
            ),
            "success",
        )
        return redirect(url_for("ExamView.show", exam_id=exam.id))

    # --- results ---------------------------------------------------------------------------
    @expose("/<int:exam_id>/results")
    @has_access
    def results(self, exam_id: int) -> Any:
        exam = self._exam(exam_id)
        settings = _settings()
        done = service.results(
            db.session,
            exam,
            settings.policy,
            mode=settings.rank_mode,
            sql_rows=settings.sql_rank_rows,
        )
        scope = current_scope()
        if scope.kind == "classes":  # a teacher reads their own classes' students
            done.students = [s for s in done.students if s.class_id in scope.class_ids]
        locale = current_locale()
        return self.render_template(
            "xueji/exam_results.html",
            title=_l("Results"),
            exam=exam,
            done=done,
            subjects=service.code_names(db.session, "subject"),
            classes=service.exam_classes(db.session, exam),
            policy_note=settings.policy.describe(locale),
            text=lambda r: service.result_text(r, locale),
            fmt=service._fmt,
            pct=service._pct,
            zh=locale.startswith("zh"),
        )

    @expose("/<int:exam_id>/pdf/<int:class_id>")
    @has_access
    def class_pdf(self, exam_id: int, class_id: int) -> Any:
        exam = self._exam(exam_id)
        klass = self._class(exam, str(class_id))
        if klass is None:
            abort(404)
        try:
            body = service.class_analysis_pdf(
                db.session, exam, klass, settings=_settings(), locale=current_locale()
            )
        except RuleError as exc:
            _flash(exc)
            return redirect(url_for("ExamView.show", exam_id=exam.id))
        return Response(
            body,
            mimetype="application/pdf",
            headers={
                "Content-Disposition": f"attachment; filename=exam-{exam.id}-class-{klass.id}.pdf"
            },
        )
