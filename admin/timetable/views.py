"""课程表 and 任课安排 screens: the registrar edits a class's week on a weekday × period grid
(a clash with another class is refused and the grid comes back as typed, with the clash
named); teachers and school leaders read it; a teacher reads their own week; the registrar
assigns teachers to classes and subjects (班主任 included)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..base_views import business_date, current_locale, current_scope
from ..domain import timetable as rules
from ..domain.messages import RuleError
from ..extensions import db
from ..models import School, SchoolClass, SchoolYear, Term
from ..security.scope import school_in_scope
from ..services import timetable as service
from ..services.status_changes import current_school_year


def _settings() -> service.TimetableSettings:
    return service.settings_from_config(current_app.config)


def _zh() -> bool:
    return current_locale().startswith("zh")


def _weekday_names(weekdays: tuple[int, ...]) -> list[tuple[int, str]]:
    names = rules.WEEKDAYS_ZH if _zh() else rules.WEEKDAYS_EN
    return [(d, names[d - 1]) for d in weekdays]


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _term_and_year() -> tuple[Term | None, SchoolYear | None]:
    """The term asked for (``term``), else the current one."""
    wanted = _int(request.values.get("term"))
    if wanted is not None:
        term = db.session.get(Term, wanted)
        if term is not None:
            return term, term.school_year
    year = current_school_year(db.session, business_date())
    if year is None:
        return None, None
    return service.current_term(db.session, year, business_date()), year


def _subject_labels() -> dict[str, str]:
    names = service.subject_names(db.session)
    return {code: (zh if _zh() else en) for code, (zh, en) in names.items()}


class TimetableView(BaseView):
    route_base = "/timetable"
    class_permission_name = "Timetable"
    method_permission_name = {"index": "read", "save": "write", "mine": "read"}
    default_view = "index"

    def _class(self, classes: list[SchoolClass]) -> SchoolClass | None:
        wanted = _int(request.values.get("class"))
        if wanted is None:
            return classes[0] if len(classes) == 1 else None
        klass = db.session.get(SchoolClass, wanted)
        if klass is None or not service.may_view(db.session, current_scope(), klass):
            abort(404)
        return klass

    def _page(self, values: dict[str, dict[str, str]] | None = None, status: int = 200) -> Any:
        term, year = _term_and_year()
        scope = current_scope()
        classes = list(service.classes_for(db.session, scope, year.id)) if year else []
        klass = self._class(classes)
        settings = _settings()
        grid = None
        teachers: list[tuple[int, str]] = []
        if klass is not None and term is not None:
            grid = service.class_week(db.session, klass.id, term.id, settings)
            teachers = service.teachers_of_school(db.session, klass.school_id)
        if values is None:
            values = {}
            for (d, p), lessons in grid.lessons.items() if grid else []:
                lesson = lessons[0]
                values[f"{d}_{p}"] = {
                    "subject": lesson.subject_code,
                    "teacher": str(lesson.teacher_id or ""),
                    "room": lesson.room,
                    "combined": lesson.combined,
                }
        teacher_labels = {str(i): label for i, label in teachers}
        for lessons in grid.lessons.values() if grid else []:
            for lesson in lessons:
                if lesson.teacher_id:
                    teacher_labels.setdefault(str(lesson.teacher_id), lesson.teacher)
        labels = _subject_labels()
        stage = service.stage_subjects(klass) if klass is not None else ()
        weekdays = grid.weekdays if grid else settings.weekdays
        body = self.render_template(
            "xueji/timetable.html",
            title=_l("Timetable"),
            classes=classes,
            klass=klass,
            term=term,
            terms=list(year.terms) if year else [],
            weekdays=_weekday_names(weekdays),
            periods=range(1, (grid.periods if grid else settings.periods) + 1),
            values=values,
            subjects=[(code, labels.get(code, code)) for code in stage],
            subject_labels=labels,
            teachers=teachers,
            teacher_labels=teacher_labels,
            editable=klass is not None
            and term is not None
            and service.may_edit(db.session, scope, klass),
        )
        return body, status

    @expose("/")
    @has_access
    def index(self) -> Any:
        return self._page()

    @expose("/save", methods=["POST"])
    @has_access
    def save(self) -> Any:
        term, year = _term_and_year()
        klass = self._class([])
        if klass is None or term is None:
            flash(_("Choose a class and a term."), "danger")
            return redirect(url_for("TimetableView.index"))
        settings = _settings()
        values: dict[str, dict[str, str]] = {}
        cells = []
        for weekday in settings.weekdays:
            for period in range(1, settings.periods + 1):
                key = f"{weekday}_{period}"
                typed = {
                    name: request.form.get(f"{prefix}_{key}", "").strip()
                    for name, prefix in (
                        ("subject", "s"),
                        ("teacher", "t"),
                        ("room", "r"),
                        ("combined", "c"),
                    )
                }
                values[key] = typed
                teacher = typed["teacher"]
                cells.append(
                    service.Cell(
                        weekday=weekday,
                        period=period,
                        subject_code=typed["subject"] or None,
                        # a value that is not an id can only come from a forged form
                        teacher_id=(int(teacher) if teacher.isdigit() else 0) if teacher else None,
                        room=typed["room"] or None,
                        combined=typed["combined"] or None,
                    )
                )
        try:
            result = service.save_class_week(
                db.session,
                current_scope(),
                klass,
                term,
                cells,
                g.user.username,
                settings=settings,
            )
            db.session.commit()
        except RuleError as exc:
            db.session.rollback()
            for violation in exc.violations:
                flash(violation.message(current_locale()), "danger")
            return self._page(values, status=422)
        flash(
            _(
                "Timetable of %(klass)s saved: %(added)d added, %(changed)d changed, "
                "%(removed)d removed.",
                klass=klass.name,
                added=result.added,
                changed=result.changed,
                removed=result.removed,
            ),
            "success",
        )
        return redirect(url_for("TimetableView.index", **{"class": klass.id, "term": term.id}))

    @expose("/mine")
    @has_access
    def mine(self) -> Any:
        term, year = _term_and_year()
        grid = (
            service.teacher_week(db.session, g.user.id, term.id, _settings())
            if term is not None
            else None
        )
        return self.render_template(
            "xueji/timetable_mine.html",
            title=_l("My timetable"),
            term=term,
            terms=list(year.terms) if year else [],
            grid=grid,
            weekdays=_weekday_names(grid.weekdays) if grid else [],
            periods=range(1, grid.periods + 1) if grid else [],
            zh=_zh(),
        )


class TeachingAssignmentView(BaseView):
    route_base = "/teaching"
    class_permission_name = "TeachingAssignment"
    method_permission_name = {"index": "read", "assign": "write", "unassign": "write"}
    default_view = "index"

    def _school(self) -> School | None:
        """The user's school; a national or regional user names one by its 学校标识码."""
        scope = current_scope()
        if scope.school_id is not None:
            return db.session.get(School, scope.school_id)
        code = (request.values.get("school") or "").strip()
        if not code:
            return None
        school = db.session.scalar(select(School).where(School.code == code))
        if school is None or not school_in_scope(db.session, scope, school.id):
            abort(404)
        return school

    def _back(self, term: Term | None, school: School | None) -> Any:
        args: dict[str, Any] = {}
        if term is not None:
            args["term"] = term.id
        if school is not None and current_scope().school_id is None:
            args["school"] = school.code
        return redirect(url_for("TeachingAssignmentView.index", **args))

    @expose("/")
    @has_access
    def index(self) -> Any:
        term, year = _term_and_year()
        school = self._school()
        scope = current_scope()
        rows = (
            service.list_assignments(db.session, scope, term, school.id)
            if school is not None and term is not None
            else []
        )
        editable_classes = []
        if school is not None and year is not None:
            editable_classes = [
                c
                for c in service.classes_for(db.session, scope, year.id)
                if c.school_id == school.id and service.may_edit(db.session, scope, c)
            ]
        labels = _subject_labels()
        return self.render_template(
            "xueji/teaching.html",
            title=_l("Teaching assignments"),
            school=school,
            term=term,
            terms=list(year.terms) if year else [],
            rows=rows,
            classes=editable_classes,
            subjects=list(labels.items()),
            teachers=service.teachers_of_school(db.session, school.id) if school else [],
            editable=bool(editable_classes),
            national=scope.school_id is None,
            zh=_zh(),
        )

    @expose("/assign", methods=["POST"])
    @has_access
    def assign(self) -> Any:
        term, _year = _term_and_year()
        school = self._school()
        class_id = _int(request.form.get("class"))
        klass = db.session.get(SchoolClass, class_id) if class_id is not None else None
        if klass is None or not service.may_view(db.session, current_scope(), klass):
            abort(404)
        if term is None:
            abort(404)
        try:
            service.assign(
                db.session,
                current_scope(),
                klass,
                request.form.get("subject") or None,
                _int(request.form.get("teacher")) or 0,
                term,
                whole_year=request.form.get("whole_year") == "1",
            )
            db.session.commit()
            flash(_("Teacher assigned to %(klass)s.", klass=klass.name), "success")
        except RuleError as exc:
            db.session.rollback()
            for violation in exc.violations:
                flash(violation.message(current_locale()), "danger")
        return self._back(term, school)

    @expose("/unassign", methods=["POST"])
    @has_access
    def unassign(self) -> Any:
        term, _year = _term_and_year()
        school = self._school()
        try:
            service.unassign(db.session, current_scope(), _int(request.form.get("id")) or 0)
            db.session.commit()
            flash(_("Assignment removed."), "success")
        except RuleError as exc:
            db.session.rollback()
            for violation in exc.violations:
                flash(violation.message(current_locale()), "danger")
        return self._back(term, school)
